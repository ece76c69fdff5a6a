# Losses as keras 2.x computes them, their gradients, and the checks of the
# targets they take. A loss object is a function of (y_true, y_pred,
# sample_weight) whose closure holds its `spec`: the loss (`kind`), its
# `name` and its parameters.


# Each loss: its keras class and the parameters of its configuration.
loss_classes <- c(
  mean_squared_error = "MeanSquaredError",
  mean_absolute_error = "MeanAbsoluteError",
  binary_crossentropy = "BinaryCrossentropy",
  categorical_crossentropy = "CategoricalCrossentropy",
  sparse_categorical_crossentropy = "SparseCategoricalCrossentropy",
  huber = "Huber"
)
loss_parameters <- list(
  binary_crossentropy = c("from_logits", "label_smoothing"),
  categorical_crossentropy = c("from_logits", "label_smoothing"),
  sparse_categorical_crossentropy = "from_logits",
  huber = "delta"
)
loss_aliases <- c(mse = "mean_squared_error", mae = "mean_absolute_error",
                  huber_loss = "huber")

# The output activation whose logits each cross-entropy takes instead.
fused_activations <- c(binary_crossentropy = "sigmoid", categorical_crossentropy = "softmax",
                       sparse_categorical_crossentropy = "softmax")

new_loss <- function(kind, name, params = list()) {
  spec <- c(list(kind = kind, name = name), params)
  loss <- function(y_true, y_pred, sample_weight = NULL) {
    call <- sys.call()
    if (missing(y_true)) abort_missing("y_true", "the targets", call = call)
    if (missing(y_pred)) abort_missing("y_pred", "the predictions", call = call)
    data <- check_loss_data(spec$kind, y_true, y_pred, call)
    weights <- check_sample_weight(sample_weight, nrow(data$y_pred), call)
    loss_terms(spec, data$y_true, data$y_pred, weights)$value
  }
  structure(loss, class = "selu_loss")
}

# A loss object is known by its structure as well as its class.
is_loss <- function(x) {
  inherits(x, "selu_loss") && is.function(x) && is.list(environment(x)$spec) &&
    isTRUE(environment(x)$spec$kind %in% names(loss_classes))
}

loss_spec <- function(loss) environment(loss)$spec

# What the exported loss and metric functions return: the object when both
# data arguments are left out, else `values(y_true, y_pred)` per sample.
object_or_values <- function(object, y_true, y_pred, values, what, call) {
  given <- c(y_true = !missing(y_true), y_pred = !missing(y_pred))
  if (!any(given)) return(object)
  if (!all(given)) {
    selu_abort(sprintf(paste(
      "`y_true` and `y_pred` must be given together (for the value of each sample)",
      "or both left out (for the %s object); `%s` is missing."),
      what, names(given)[!given]), call = call)
  }
  values(y_true, y_pred)
}

# Predictions given by the user: a numeric array with the batch axis first,
# a vector taken as one column.
check_predictions <- function(y_pred, call) {
  check_numeric_data(y_pred, "y_pred", call = call)
  shape <- data_shape(y_pred)
  if (length(shape) == 1) shape <- c(shape, 1L)
  if (any(shape == 0)) {
    selu_abort(sprintf("`y_pred` must hold at least one sample and one value per sample, not %s.",
                       describe(y_pred)), call = call)
  }
  array(as.double(y_pred), shape)
}

# Targets and predictions given together by the user (not through a model).
check_loss_data <- function(who, y_true, y_pred, call) {
  y_pred <- check_predictions(y_pred, call)
  y_true <- check_target_data(who, y_true, dim(y_pred), "y_true", "`y_pred`", call)
  n_true <- data_shape(y_true)[1]
  if (n_true != nrow(y_pred)) {
    selu_abort(sprintf("`y_true` has %d samples (rows) but `y_pred` has %d.",
                       n_true, nrow(y_pred)), call = call)
  }
  list(y_true = y_true, y_pred = y_pred)
}

check_sample_weight <- function(sample_weight, n, call) {
  if (is.null(sample_weight)) return(NULL)
  shape <- data_shape(sample_weight)
  ok <- is_numeric_data(sample_weight) && (length(shape) == 1 ||
    (length(shape) == 2 && shape[2] == 1)) && length(sample_weight) == n &&
    all(is.finite(sample_weight)) && all(sample_weight >= 0)
  if (!ok) {
    selu_abort(sprintf(
      "`sample_weight` must be NULL or %d finite non-negative numbers (one per sample), not %s.",
      n, describe(sample_weight)), call = call)
  }
  as.double(sample_weight)
}

# --- the targets each loss takes --------------------------------------------

# What the targets of each loss (and metric) are.
target_kinds <- c(
  mean_squared_error = "values", mean_absolute_error = "values", huber = "values",
  binary_crossentropy = "probabilities", categorical_crossentropy = "one_hot",
  sparse_categorical_crossentropy = "classes", binary_accuracy = "values",
  categorical_accuracy = "one_hot", sparse_categorical_accuracy = "classes",
  auc = "probabilities"
)
# Where targets of the other form should go.
target_counterparts <- c(
  categorical_crossentropy = "sparse_categorical_crossentropy",
  sparse_categorical_crossentropy = "categorical_crossentropy",
  categorical_accuracy = "sparse_categorical_accuracy",
  sparse_categorical_accuracy = "categorical_accuracy"
)

check_targets <- function(loss, y, output_shape, arg = "y", call) {
  if (missing(call)) call <- sys.call(-1)
  kind <- loss_spec(as_loss(loss, call = call))$kind
  check_target_data(kind, y, output_shape, arg, NULL, call)
}

# Checks targets `y` for `who` (a loss or metric kind) against the output
# shape (batch axis first, its first element not used). `output` is how
# messages call the output: NULL for a model's, else e.g. "`y_pred`".
check_target_data <- function(who, y, output_shape, arg, output, call) {
  kind <- target_kinds[[who]]
  owner <- if (is.null(output)) "the model" else output
  owner_shape <- function() {
    if (is.null(output)) sprintf("the model's output has shape %s", format_shape(output_shape))
    else sprintf("%s has shape %s", output, format_shape(output_shape))
  }
  abort <- function(...) selu_abort(sprintf(...), call = call)
  if (is.data.frame(y)) {
    abort("`%s` must be a numeric vector, matrix or array, not a data frame: convert it with as.matrix().",
          arg)
  }
  classes <- output_shape[length(output_shape)]
  if (is.factor(y)) {
    if (kind != "classes") {
      abort("`%s` is a factor, but %s takes numbers%s.", arg, who,
            if (kind == "one_hot") sprintf(": use %s for a factor of classes",
                                           target_counterparts[[who]]) else "")
    }
    if (!is.na(classes) && nlevels(y) > classes) {
      abort("`%s` is a factor of %d levels, but %s has %d classes.", arg, nlevels(y),
            owner, classes)
    }
    y <- array(as.integer(y) - 1L, data_shape(y))
  }
  if (!is_numeric_data(y)) {
    abort("`%s` must be a numeric vector, matrix or array, not %s.", arg, describe(y))
  }
  if (length(y) == 0) abort("`%s` must hold at least one value, not %s.", arg, describe(y))
  bad <- which(!is.finite(y))[1]
  if (!is.na(bad)) {
    abort("`%s` must hold finite numbers, not %s (element %d).", arg, format(y[bad]), bad)
  }
  shape <- data_shape(y)
  y_rest <- shape[-1]
  out_rest <- output_shape[-1]
  without_last <- out_rest[-length(out_rest)]
  fits <- function(dims) shapes_compatible(dims, y_rest)
  if (kind == "classes") {
    if (!(fits(without_last) || fits(c(without_last, 1L)))) {
      if (fits(out_rest)) {
        abort(paste("`%s` has shape %s, like one-hot targets, but %s takes class indices",
                    "and %s: use %s, or give the class of each sample (0 to %d)."),
              arg, format_shape(shape), who, owner_shape(), target_counterparts[[who]],
              classes - 1)
      }
      abort("`%s` has shape %s, but %s takes class indices of shape %s, as %s.",
            arg, format_shape(shape), who, format_shape(c(NA, without_last)), owner_shape())
    }
    not_whole <- which(y != trunc(y))[1]
    if (!is.na(not_whole)) {
      abort("`%s` must hold whole class indices (0 to %d) for %s, not %s.", arg,
            classes - 1, who, format(y[not_whole]))
    }
    out_of_range <- which(y < 0 | (!is.na(classes) & y >= classes))[1]
    if (!is.na(out_of_range)) {
      abort("`%s` holds the class %s, but %s has %d class%s (0 to %d).", arg,
            format(y[out_of_range]), owner, classes, if (classes == 1) "" else "es", classes - 1)
    }
    dims <- c(shape[1], y_rest[seq_along(without_last)])
    return(if (length(dims) == 1) as.integer(y) else array(as.integer(y), dims))
  }
  if (!(fits(out_rest) || (length(out_rest) && out_rest[length(out_rest)] %in% 1 && fits(without_last)))) {
    if (kind == "one_hot" && is_whole(y) && (fits(without_last) || fits(c(without_last, 1L)))) {
      abort(paste("`%s` looks like class indices, but %s takes one-hot targets and %s:",
                  "use %s, or one-hot encode `%s`."),
            arg, who, owner_shape(), target_counterparts[[who]], arg)
    }
    abort("`%s` has shape %s, but %s.", arg, format_shape(shape), owner_shape())
  }
  if (kind == "probabilities" && any(y < 0 | y > 1)) {
    range <- sprintf("from %s to %s", format(min(y)), format(max(y)))
    # keras computes the cross-entropy of any targets (its own tests give it 0
    # to 9); AUC takes labels in [0, 1] only
    if (who != "binary_crossentropy") {
      abort("`%s` must hold values between 0 and 1 for %s, not values %s.", arg, who, range)
    }
    selu_warn(sprintf(paste(
      "`%s` holds values outside [0, 1] (%s), where %s takes probabilities,",
      "usually 0 and 1: the loss is computed on the values given, as keras does."),
      arg, range, who), call = call)
  }
  dims <- if (fits(out_rest)) shape else c(shape, 1L)
  if (length(dims) == 1) dims <- c(dims, 1L)
  array(as.double(y), dims)
}

# --- values and gradients ----------------------------------------------------

as_loss <- function(x, arg = "loss", call) {
  if (missing(call)) call <- sys.call(-1)
  if (is_loss(x)) return(x)
  names_known <- c(names(loss_classes), names(loss_aliases))
  if (is.character(x) && length(x) == 1 && !is.na(x) && x %in% names_known) {
    kind <- if (x %in% names(loss_aliases)) loss_aliases[[x]] else x
    return(new_loss(kind, kind, loss_defaults(kind)))
  }
  selu_abort(sprintf("`%s` must be a loss object (such as loss_huber()) or one of the names %s, not %s.",
                     arg, paste0("\"", names_known, "\"", collapse = ", "), describe(x)),
             call = call)
}

loss_defaults <- function(kind) {
  list(from_logits = FALSE, label_smoothing = 0, delta = 1)[loss_parameters[[kind]]]
}

loss_name <- function(loss) loss_spec(loss)$name

loss_value_grad <- function(loss, y_true, y_pred, sample_weight = NULL, logits = NULL) {
  spec <- loss_spec(loss)
  if (!is.null(logits) && (isTRUE(spec$from_logits) || !spec$kind %in% names(fused_activations))) {
    selu_abort(sprintf("internal error: %s takes no separate logits.", spec$kind),
               kind = "internal")
  }
  terms <- loss_terms(spec, y_true, y_pred, sample_weight, logits, grad = TRUE)
  list(value = terms$value, grad = terms$grad)
}

# The per-sample losses, the reduced loss sum(w * l) / n and, with `grad`,
# its gradient with respect to y_pred, or to the logits when the loss takes
# them (from_logits, or `logits` given): computed by the engine's losses
# (src/loss.c).
loss_terms <- function(spec, y_true, y_pred, sample_weight, logits = NULL, grad = FALSE) {
  shape <- dim(y_pred)
  if (is.null(shape)) shape <- c(length(y_pred), 1L)
  n <- shape[1]
  sparse <- spec$kind == "sparse_categorical_crossentropy"
  expected <- if (sparse) length(y_pred) / shape[length(shape)] else length(y_pred)
  if (length(y_true) != expected) {
    selu_abort("internal error: targets that do not match the predictions.", kind = "internal")
  }
  c_spec <- list(loss_codes[[spec$kind]], isTRUE(spec$from_logits), !is.null(logits),
                 if (is.null(spec$label_smoothing)) 0 else spec$label_smoothing,
                 if (is.null(spec$delta)) 1 else spec$delta,
                 if (spec$kind %in% c("categorical_crossentropy", sparse_kind)) shape[length(shape)] else 1L)
  y <- if (sparse) as.integer(y_true) else as.double(y_true)
  out <- .Call(C_selu_loss, c_spec, y, as.double(if (is.null(logits)) y_pred else logits),
               as.integer(n), sample_weight, grad)
  list(per_sample = out[[2]], value = out[[1]], grad = if (grad) array(out[[3]], shape))
}

sparse_kind <- "sparse_categorical_crossentropy"

# --- the exported losses -----------------------------------------------------

# Builds a loss from checked parameters and gives the object or the
# per-sample values.
make_loss <- function(kind, params, name, y_true, y_pred, call) {
  loss <- new_loss(kind, check_string(name, "name", call = call), params)
  object_or_values(loss, y_true, y_pred, function(y_true, y_pred) {
    data <- check_loss_data(kind, y_true, y_pred, call)
    loss_terms(loss_spec(loss), data$y_true, data$y_pred, NULL)$per_sample
  }, "loss", call)
}

#' Losses
#'
#' The losses of keras 2.x, by the same names and with the same arguments.
#' Called without `y_true` and `y_pred`, each gives a loss object for
#' `compile()` (a string name works there too). Called with both, it gives
#' the loss of each sample.
#'
#' A loss object is a function `loss(y_true, y_pred, sample_weight = NULL)`
#' that gives the loss of a batch, keras' `"sum_over_batch_size"`:
#' \deqn{L = \frac{1}{n} \sum_{i=1}^n w_i \ell_i}{L = sum(w * l) / n}
#' with \eqn{n} the number of samples, \eqn{w_i} the sample weights (all 1
#' without) and \eqn{\ell_i}{l_i} the loss of sample \eqn{i}, the mean over its
#' values (over all axes but the first, the batch axis; for the categorical
#' cross-entropies, the sum over the last axis, the classes, first).
#'
#' With \eqn{x = \hat y - y}{x = y_pred - y} (prediction minus target):
#' * `loss_mean_squared_error()` (`"mse"`): \eqn{x^2}.
#' * `loss_mean_absolute_error()` (`"mae"`): \eqn{|x|}.
#' * `loss_huber()` (`"huber"`, `"huber_loss"`): \eqn{x^2 / 2} for
#'   \eqn{|x| \le \delta}{|x| <= delta}, \eqn{\delta |x| - \delta^2 / 2}
#'   beyond.
#' * `loss_binary_crossentropy()`: \eqn{-(y \log p + (1 - y) \log(1 -
#'   p))}{-(y * log(p) + (1 - y) * log(1 - p))} for each value, targets
#'   between 0 and 1. Targets outside \[0, 1\] give a warning (of class
#'   `selu_warning`), and the loss is computed on them as given, as keras
#'   computes it.
#' * `loss_categorical_crossentropy()`: \eqn{-\sum_k y_k \log p_k}{-sum_k
#'   y_k * log(p_k)} over the last axis, one-hot targets (or any
#'   probabilities). As keras, each row of predictions is first divided by
#'   its sum.
#' * `loss_sparse_categorical_crossentropy()`: the same with the class of
#'   each sample given as an index, from 0 (as keras) to the number of
#'   classes minus 1, as numbers, a factor (its level codes minus 1) or one
#'   column. As keras, the clipped probabilities are normalized to sum 1.
#'
#' Probabilities are clipped to \eqn{[10^{-7}, 1 - 10^{-7}]}{[1e-7, 1 -
#' 1e-7]}, so a wrong prediction of certainty costs \eqn{-\log 10^{-7}
#' \approx 16.1}{-log(1e-7) = 16.1}, not infinity. keras 2.x's binary
#' cross-entropy also adds \eqn{10^{-7}}{1e-7} inside its logarithms; here
#' it does not (as Keras 3), so the loss of a correct prediction of 1 is 0
#' up to clipping. With `from_logits = TRUE` the predictions are logits
#' (before the sigmoid or softmax) and the loss is computed from them
#' without rounding to probabilities (\eqn{\log(1 + e^{-|z|})}{log(1 +
#' exp(-|z|))} and log-sum-exp), right for logits such as -800 or 800. A
#' model whose last activation is a sigmoid or softmax is trained that way
#' anyway: the loss is fused with the activation, as keras does.
#'
#' `label_smoothing` \eqn{s} replaces targets by \eqn{y (1 - s) + s / 2}
#' (binary) or \eqn{y (1 - s) + s / K} (categorical, \eqn{K} classes).
#'
#' Predictions (`y_pred`) are a numeric matrix or array with the samples
#' along the first axis; a vector is one column. Targets (`y_true`) have
#' the same shape (a vector for one column), or are class indices for the
#' sparse loss. `NA`, `NaN` and infinite targets are an error; predictions
#' that are not finite give a loss that is not finite.
#'
#' @param y_true,y_pred Targets and predictions (see Details), both or
#'   neither.
#' @param from_logits `TRUE` if `y_pred` holds logits rather than
#'   probabilities.
#' @param label_smoothing A number between 0 and 1.
#' @param delta The point, above 0, where the Huber loss turns from
#'   quadratic to linear.
#' @param ... Not used; an error if given.
#' @param name The loss's name.
#' @return Without `y_true` and `y_pred`, a loss object (class `selu_loss`).
#'   With them, the loss of each sample: a numeric vector.
#' @family losses
#' @export
#' @examples
#' loss_binary_crossentropy(c(1, 0), c(0.9, 0.2))
#' -log(c(0.9, 0.8))
#' bce <- loss_binary_crossentropy()
#' bce(c(1, 0), c(0.9, 0.2), sample_weight = c(1, 3))
#' loss_categorical_crossentropy(diag(2), matrix(c(0.7, 0.4, 0.3, 0.6), 2))
#' loss_sparse_categorical_crossentropy(c(0, 1), matrix(c(0.7, 0.4, 0.3, 0.6), 2))
#' loss_sparse_categorical_crossentropy(factor(c("a", "b")), matrix(c(0.7, 0.4, 0.3, 0.6), 2))
#' loss_binary_crossentropy(1, -800, from_logits = TRUE)
#' loss_mean_squared_error(matrix(1:4, 2), matrix(c(1, 2, 4, 6), 2))
#' loss_huber(c(0, 0), c(0.5, 3), delta = 1)
loss_mean_squared_error <- function(y_true, y_pred, ..., name = "mean_squared_error") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  make_loss("mean_squared_error", list(), name, y_true, y_pred, call)
}

#' @rdname loss_mean_squared_error
#' @export
loss_mean_absolute_error <- function(y_true, y_pred, ..., name = "mean_absolute_error") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  make_loss("mean_absolute_error", list(), name, y_true, y_pred, call)
}

#' @rdname loss_mean_squared_error
#' @export
loss_binary_crossentropy <- function(y_true, y_pred, from_logits = FALSE, label_smoothing = 0,
                                     ..., name = "binary_crossentropy") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  params <- list(from_logits = check_flag(from_logits, "from_logits", call = call),
                 label_smoothing = check_finite_number(label_smoothing, "label_smoothing", max = 1, min = 0, call = call))
  make_loss("binary_crossentropy", params, name, y_true, y_pred, call)
}

#' @rdname loss_mean_squared_error
#' @export
loss_categorical_crossentropy <- function(y_true, y_pred, from_logits = FALSE,
                                          label_smoothing = 0, ...,
                                          name = "categorical_crossentropy") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  params <- list(from_logits = check_flag(from_logits, "from_logits", call = call),
                 label_smoothing = check_finite_number(label_smoothing, "label_smoothing", max = 1, min = 0, call = call))
  make_loss("categorical_crossentropy", params, name, y_true, y_pred, call)
}

#' @rdname loss_mean_squared_error
#' @export
loss_sparse_categorical_crossentropy <- function(y_true, y_pred, from_logits = FALSE, ...,
                                                 name = "sparse_categorical_crossentropy") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  params <- list(from_logits = check_flag(from_logits, "from_logits", call = call))
  make_loss("sparse_categorical_crossentropy", params, name, y_true, y_pred, call)
}

#' @rdname loss_mean_squared_error
#' @export
loss_huber <- function(y_true, y_pred, delta = 1, ..., name = "huber") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  params <- list(delta = check_finite_number(delta, "delta", min = 0, above = TRUE, call = call))
  make_loss("huber", params, name, y_true, y_pred, call)
}

# --- configurations and printing ---------------------------------------------

#' @export
get_config.selu_loss <- function(object, ...) {
  if (!is_loss(object)) abort_not_config_object(object, sys.call())
  check_empty_dots(list(...))
  spec <- loss_spec(object)
  config <- c(list(reduction = "auto", name = spec$name), spec[loss_parameters[[spec$kind]]])
  structure(config, class_name = loss_classes[[spec$kind]])
}

loss_from_config <- function(config, call = sys.call(-1)) {
  class_name <- attr(config, "class_name")
  if (!(is.list(config) && is.character(class_name) && length(class_name) == 1 &&
        class_name %in% loss_classes)) {
    selu_abort(sprintf(paste(
      "`config` must be a loss configuration from get_config(): a list with the",
      "attribute \"class_name\" one of %s, not %s."),
      paste0("\"", loss_classes, "\"", collapse = ", "), describe(config)), call = call)
  }
  kind <- names(loss_classes)[loss_classes == class_name]
  keys <- c("name", loss_parameters[[kind]])
  if (!identical(config$reduction, "auto") || !all(keys %in% names(config)) ||
      !all(names(config) %in% c("reduction", keys))) {
    selu_abort(sprintf("`config` of a %s must have the keys reduction (\"auto\"), %s.",
                       class_name, paste(keys, collapse = ", ")), call = call)
  }
  constructor <- get(paste0("loss_", kind), mode = "function")
  tryCatch(do.call(constructor, config[keys]), selu_error = function(e) {
    selu_abort(sprintf("`config` holds a bad value: %s", conditionMessage(e)), call = call)
  })
}

#' @export
print.selu_loss <- function(x, ...) {
  config <- get_config(x)
  args <- paste(names(config), vapply(config, format_config_value, ""), sep = " = ",
                collapse = ", ")
  cat(sprintf("<loss %s>(%s)\n", attr(config, "class_name"), args))
  invisible(x)
}

abort_not_config_object <- function(object, call) {
  selu_abort(sprintf("`object` must be a layer, a model, a loss or a metric, not %s.",
                     describe(object)), call = call)
}
