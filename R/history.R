# The training history that fit() returns: R keras' "keras_training_history"
# object, a list of the training parameters and of one numeric vector per
# metric (loss, the metrics, val_loss, the validation metrics), one value per
# epoch run.

history_params <- c("verbose", "epochs", "steps", "samples", "batch_size", "validation_samples")

new_history <- function(params, metrics) {
  params <- params[c(intersect(history_params, names(params)),
                     setdiff(names(params), history_params))]
  metrics <- lapply(metrics, as.double)
  # vectors of different lengths (a metric not recorded every epoch) are
  # padded with NA at the end, as R keras does
  epochs <- max(0L, lengths(metrics))
  metrics <- lapply(metrics, function(m) c(m, rep(NA_real_, epochs - length(m))))
  structure(list(params = params, metrics = metrics), class = "keras_training_history")
}

check_history <- function(x, call = sys.call(-1)) {
  metrics <- if (is.list(x)) x$metrics else NULL
  ok <- is.list(x) && is.list(x$params) && is.list(metrics) &&
    (length(metrics) == 0 || (!is.null(names(metrics)) && all(nzchar(names(metrics))))) &&
    all(vapply(metrics, function(m) (is.numeric(m) || is.logical(m)) && !is.object(m), TRUE)) &&
    length(unique(lengths(metrics))) <= 1
  if (!ok) {
    selu_abort(sprintf(paste(
      "`x` must be a training history (from `fit()`), with `params` and `metrics`",
      "a named list of numeric vectors of one length, not %s."), describe(unclass(x))),
      call = call)
  }
  invisible(x)
}

history_epochs <- function(x) if (length(x$metrics)) length(x$metrics[[1]]) else 0L

format_count <- function(n) format(n, big.mark = ",", scientific = FALSE, trim = TRUE)

#' Training history
#'
#' `fit()` returns the history of training, an object of class
#' `keras_training_history` as in R keras: a list of `params` (`verbose`,
#' `epochs`, `steps`, `samples`, `batch_size`, `validation_samples`) and
#' `metrics`, a named list of numeric vectors with one value per epoch run:
#' `loss`, the compiled metrics, then `val_loss` and the validation metrics
#' when there is validation data.
#'
#' `print()` gives the number of samples, the batch size and the number of
#' epochs run, then the metrics of the final epoch, as R keras does.
#'
#' `as.data.frame()` gives the history in long form, one row per metric and
#' epoch: `epoch` (an integer from 1), `value` (a double), `metric` (a factor
#' of the metric names without the `val_` prefix, in the order of the
#' history) and `data` (a factor, `"training"` or `"validation"`). Unlike R
#' keras, which pads the rows to the number of epochs asked for with `NA`,
#' it has rows for the epochs run only.
#'
#' `plot()` draws each metric against the epoch in a panel of its own (loss
#' first), stacked vertically, training and validation values together with
#' a legend, in base graphics (R keras draws with ggplot2 when it is
#' installed).
#'
#' @param x A training history, from `fit()`.
#' @param y Unused.
#' @param metrics `NULL` (all) or the names of the metrics to plot, such as
#'   `c("loss", "accuracy")`; each panel shows the metric and its validation
#'   values.
#' @param method `"base"`, the only method: base graphics.
#' @param smooth `TRUE` to add a smooth line to each series of at least 10
#'   epochs, as R keras does (with ggplot2's `geom_smooth(method = "loess")`):
#'   a [stats::loess()] fit of the values against the epochs, local quadratic
#'   fits over 75% of the epochs each, drawn at 80 points. The fits are
#'   computed exactly at each point (`surface = "direct"`), where ggplot2
#'   interpolates between a few of them; the lines hardly differ.
#' @param theme_bw `TRUE` for black, grey and open symbols instead of colours.
#' @param ... For `plot()`, graphical parameters passed on to
#'   [graphics::plot.default()] for each panel; otherwise unused.
#' @return `print()` and `plot()` return `x` invisibly; `as.data.frame()` a
#'   data frame.
#' @family training history
#' @name training_history
#' @examples
#' # a history as fit() returns it
#' history <- structure(class = "keras_training_history", list(
#'   params = list(verbose = 1, epochs = 12, steps = 32, samples = 1000,
#'                 batch_size = 32, validation_samples = 200),
#'   metrics = list(loss = 1 / (1:12), accuracy = 1 - 0.5 / (1:12),
#'                  val_loss = 1.2 / (1:12), val_accuracy = 0.9 - 0.5 / (1:12))
#' ))
#' history
#' head(as.data.frame(history))
#' plot(history)
NULL

#' @rdname training_history
#' @export
print.keras_training_history <- function(x, ...) {
  check_history(x)
  params <- x$params
  epochs <- history_epochs(x)
  if (is.numeric(params$epochs) && length(params$epochs) == 1) epochs <- min(params$epochs, epochs)
  header <- ""
  if (!is.null(params$samples)) {
    validation <- params$validation_samples
    validated <- if (is.numeric(validation) && length(validation) == 1 && validation > 0) {
      sprintf(", validated on %s samples", format_count(validation))
    } else ""
    header <- sprintf("Trained on %s samples%s (batch_size=%s, epochs=%s)",
                      format_count(params$samples), validated,
                      format_count(params$batch_size), format_count(epochs))
  }
  if (epochs == 0) {
    cat(header, "\n")
    return(invisible(x))
  }
  final <- vapply(x$metrics, function(m) {
    format(m[[length(m)]], big.mark = ",", digits = 4, scientific = FALSE)
  }, "")
  labels <- formatC(names(x$metrics), width = max(nchar(names(x$metrics))))
  cat(paste0(header, "\nFinal epoch (plot to see history):\n",
             paste0(labels, ": ", final, collapse = "\n")), "\n")
  invisible(x)
}

#' @rdname training_history
#' @export
as.data.frame.keras_training_history <- function(x, ...) {
  check_history(x)
  epochs <- history_epochs(x)
  names <- as.character(names(x$metrics))
  metric <- sub("^val_", "", names)
  data <- ifelse(startsWith(names, "val_"), "validation", "training")
  data.frame(
    epoch = rep(seq_len(epochs), length(names)),
    value = as.double(unlist(x$metrics, use.names = FALSE)),
    metric = factor(rep(metric, each = epochs), levels = unique(metric)),
    data = factor(rep(data, each = epochs), levels = c("training", "validation"))
  )
}

#' @rdname training_history
#' @importFrom graphics axis legend lines par plot.default points
#' @importFrom grDevices dev.hold dev.flush
#' @export
plot.keras_training_history <- function(x, y, metrics = NULL, method = "base",
                                        smooth = getOption("keras.plot.history.smooth", TRUE),
                                        theme_bw = FALSE, ...) {
  call <- sys.call()
  check_history(x, call = call)
  if (!identical(method, "base")) {
    selu_abort(sprintf("`method` must be \"base\" (the only method: base graphics), not %s.",
                       describe(method)), call = call)
  }
  smooth <- check_flag(smooth, "smooth", call = call)
  theme_bw <- check_flag(theme_bw, "theme_bw", call = call)
  history <- as.data.frame(x)
  available <- levels(history$metric)
  if (is.null(metrics)) metrics <- available
  if (!(is.character(metrics) && length(metrics) >= 1 && !anyNA(metrics) &&
        all(sub("^val_", "", metrics) %in% available))) {
    selu_abort(sprintf("`metrics` must be NULL or names of the history's metrics (%s), not %s.",
                       paste0("\"", available, "\"", collapse = ", "), describe(metrics)),
               call = call)
  }
  metrics <- unique(sub("^val_", "", metrics))
  epochs <- history_epochs(x)
  if (epochs == 0) selu_abort("`x` has no epochs to plot.", call = call)

  colours <- if (theme_bw) c("black", "gray47") else c("#F8766D", "#00BFC4")
  symbols <- if (theme_bw) c(1, 2) else c(21, 21)
  fills <- if (theme_bw) c(NA, NA) else colours
  dev.hold()
  on.exit(dev.flush())
  old <- par(c("mfrow", "mgp", "mar"))
  on.exit(par(old), add = TRUE)
  par(mfrow = c(length(metrics), 1), mgp = c(2, 0.7, 0))
  for (i in seq_along(metrics)) {
    panel <- history[history$metric == metrics[i], ]
    finite <- is.finite(panel$value)
    bottom <- i == length(metrics)
    # the epoch axis and its title on the bottom panel only
    par(mar = c(if (bottom) 3.5 else 0.5, 3.5, if (i == 1) 1.5 else 0.5, 1))
    plot.default(NA, xlim = c(1, max(epochs, 2)),
                 ylim = if (any(finite)) range(panel$value[finite]) else c(0, 1),
                 xlab = if (bottom) "epoch" else "", ylab = metrics[i], xaxt = "n", ...)
    if (bottom) {
      ticks <- pretty(c(1, epochs))
      axis(1, at = ticks[ticks == round(ticks)])
    }
    series <- intersect(c("training", "validation"), as.character(panel$data))
    for (s in series) {
      k <- match(s, c("training", "validation"))
      part <- panel[panel$data == s & is.finite(panel$value), ]
      points(part$epoch, part$value, pch = symbols[k], col = colours[k], bg = fills[k])
      if (smooth && nrow(part) >= 10) {
        lines(history_smooth(part$epoch, part$value), col = colours[k])
      }
    }
    if (length(series) == 2) {
      # out of the way of a falling (or rising) training curve, as R keras places it
      trained <- panel$value[panel$data == "training" & finite]
      falling <- length(trained) >= 2 && trained[1] > trained[length(trained)]
      legend(if (falling) "topright" else "bottomright", legend = series, pch = symbols, col = colours, pt.bg = fills,
             bty = "n")
    }
  }
  invisible(x)
}

# The smooth line of a series: R keras's (ggplot2's) loess, local quadratic
# fits with tricube weights over 75% of the points, without robustness
# iterations, at 80 points. (lowess(), local linear and robust, took the
# steep first epochs for outliers and stayed flat through them.)
history_smooth <- function(epoch, value, points = 80L) {
  fit <- stats::loess(value ~ epoch, span = 0.75, degree = 2L,
                      control = stats::loess.control(surface = "direct"))
  at <- seq(min(epoch), max(epoch), length.out = points)
  list(x = at, y = as.vector(stats::predict(fit, data.frame(epoch = at))))
}
