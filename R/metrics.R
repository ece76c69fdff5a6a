# Metrics as keras 2.x streams them over the batches of an epoch. A metric
# object is a function of (y_true, y_pred, sample_weight) whose closure holds
# its `spec`; its state is a plain list that metric_reset() makes,
# metric_update() adds a batch to and metric_result() reads.

metric_classes <- c(
  binary_accuracy = "BinaryAccuracy",
  categorical_accuracy = "CategoricalAccuracy",
  sparse_categorical_accuracy = "SparseCategoricalAccuracy",
  mean_squared_error = "MeanSquaredError",
  mean_absolute_error = "MeanAbsoluteError",
  auc = "AUC"
)
metric_parameters <- list(
  binary_accuracy = "threshold",
  auc = c("num_thresholds", "curve", "from_logits")
)
# The names compile() takes, besides "accuracy" and "acc".
metric_names <- c(
  binary_accuracy = "binary_accuracy", categorical_accuracy = "categorical_accuracy",
  sparse_categorical_accuracy = "sparse_categorical_accuracy",
  mean_squared_error = "mean_squared_error", mse = "mean_squared_error",
  mean_absolute_error = "mean_absolute_error", mae = "mean_absolute_error", auc = "auc"
)

# Each value of num_thresholds costs four doubles of state; keras uses 200.
MAX_THRESHOLDS <- 1e6

new_metric <- function(kind, name, params = list()) {
  spec <- c(list(kind = kind, name = name), params)
  metric <- function(y_true, y_pred, sample_weight = NULL) {
    call <- sys.call()
    if (missing(y_true)) abort_missing("y_true", "the targets", call = call)
    if (missing(y_pred)) abort_missing("y_pred", "the predictions", call = call)
    data <- check_loss_data(spec$kind, y_true, y_pred, call)
    weights <- check_sample_weight(sample_weight, nrow(data$y_pred), call)
    state <- update_state(spec, reset_state(spec), data$y_true, data$y_pred, weights)
    state_result(spec, state)
  }
  structure(metric, class = "selu_metric")
}

is_metric <- function(x) {
  inherits(x, "selu_metric") && is.function(x) && is.list(environment(x)$spec) &&
    isTRUE(environment(x)$spec$kind %in% names(metric_classes))
}

metric_spec <- function(metric) environment(metric)$spec

metric_name <- function(metric) metric_spec(metric)$name

metric_reset <- function(metric) reset_state(metric_spec(metric))

metric_update <- function(metric, state, y_true, y_pred, sample_weight = NULL) {
  update_state(metric_spec(metric), state, y_true, y_pred, sample_weight)
}

metric_result <- function(metric, state) state_result(metric_spec(metric), state)

reset_state <- function(spec) {
  if (spec$kind != "auc") return(list(total = 0, count = 0))
  zeros <- numeric(spec$num_thresholds)
  list(true_positives = zeros, false_positives = zeros, true_negatives = zeros,
       false_negatives = zeros)
}

update_state <- function(spec, state, y_true, y_pred, sample_weight) {
  if (is.null(dim(y_pred))) y_pred <- matrix(y_pred)
  weights <- if (is.null(sample_weight)) rep(1, nrow(y_pred)) else sample_weight
  if (spec$kind == "auc") return(update_auc(spec, state, y_true, y_pred, weights))
  values <- metric_values(spec, y_true, y_pred)
  list(total = state$total + sum(weights * values), count = state$count + sum(weights))
}

state_result <- function(spec, state) {
  if (spec$kind == "auc") return(auc_result(spec, state))
  # keras' divide_no_nan: 0 before any (weighted) sample
  if (state$count == 0) 0 else state$total / state$count
}

# The value of each sample: the mean over its values (or rows of classes).
# `y_true` is in the form check_targets() gives for the compiled loss.
metric_values <- function(spec, y_true, y_pred) {
  if (is.null(dim(y_pred))) y_pred <- matrix(y_pred)
  values <- switch(spec$kind,
    binary_accuracy = {
      # NaN is not above the threshold, as in keras
      predicted <- y_pred > spec$threshold
      predicted[is.na(predicted)] <- FALSE
      as.double(as.double(predicted) == dense_targets(y_true, y_pred))
    },
    mean_squared_error = (as.vector(y_pred) - dense_targets(y_true, y_pred))^2,
    mean_absolute_error = abs(as.vector(y_pred) - dense_targets(y_true, y_pred)),
    {
      classes <- dim(y_pred)[length(dim(y_pred))]
      rows <- length(y_pred) / classes
      predicted <- max.col(matrix(y_pred, rows, classes), ties.method = "first") - 1L
      as.double(predicted == true_classes(y_true, rows, classes,
                                          spec$kind == "categorical_accuracy"))
    }
  )
  rowMeans(matrix(values, nrow(y_pred)))
}

# Targets of the predictions' shape: class indices become one-hot rows.
dense_targets <- function(y_true, y_pred) {
  if (length(y_true) == length(y_pred)) return(as.double(y_true))
  classes <- dim(y_pred)[length(dim(y_pred))]
  rows <- length(y_pred) / classes
  if (length(y_true) != rows) {
    selu_abort("internal error: targets that do not match the predictions.", kind = "internal")
  }
  one_hot <- matrix(0, rows, classes)
  one_hot[cbind(seq_len(rows), as.integer(y_true) + 1L)] <- 1
  as.vector(one_hot)
}

# The class of each row, from class indices or one-hot rows (the first
# largest value, as keras' argmax).
true_classes <- function(y_true, rows, classes, prefer_one_hot) {
  one_hot <- length(y_true) == rows * classes
  if (one_hot && (prefer_one_hot || length(y_true) != rows)) {
    return(max.col(matrix(as.double(y_true), rows, classes), ties.method = "first") - 1L)
  }
  if (length(y_true) != rows) {
    selu_abort("internal error: targets that do not match the predictions.", kind = "internal")
  }
  as.vector(y_true)
}

# keras' AUC with evenly spaced thresholds: each prediction falls in the
# bucket of the thresholds it is above, and the counts at each threshold are
# the sums of the buckets from there up.
update_auc <- function(spec, state, y_true, y_pred, weights) {
  p <- as.double(y_pred)
  if (spec$from_logits) p <- stats::plogis(p)
  positive <- dense_targets(y_true, y_pred) != 0
  # each sample's weight on each of its values (the batch axis varies fastest)
  weights <- rep(weights, length.out = length(p))
  count <- spec$num_thresholds
  # as keras: ceiling(p * (T - 1)) - 1, the first bucket taking p = 0 too;
  # NaN is above no threshold
  bucket <- pmax(ceiling(pmin(pmax(p, 0), 1) * (count - 1)) - 1, 0) + 1
  known <- !is.na(bucket)
  from_top <- function(values) {
    sums <- numeric(count)
    if (any(known)) {
      by_bucket <- rowsum(values[known], bucket[known])
      sums[as.integer(rownames(by_bucket))] <- by_bucket[, 1]
    }
    rev(cumsum(rev(sums)))
  }
  tp <- from_top(weights * positive)
  fp <- from_top(weights * !positive)
  list(true_positives = state$true_positives + tp,
       false_positives = state$false_positives + fp,
       true_negatives = state$true_negatives + sum(weights * !positive) - fp,
       false_negatives = state$false_negatives + sum(weights * positive) - tp)
}

divide_no_nan <- function(a, b) ifelse(b == 0, 0, a / b)

auc_result <- function(spec, state) {
  tp <- state$true_positives
  fp <- state$false_positives
  tn <- state$true_negatives
  fn <- state$false_negatives
  lower <- seq_len(spec$num_thresholds - 1)
  upper <- lower + 1
  if (spec$curve == "PR") {
    # keras' closed form of Davis and Goadrich's interpolation: precision
    # between two thresholds with true and predicted positives linear
    dtp <- tp[lower] - tp[upper]
    predicted <- tp + fp
    slope <- divide_no_nan(dtp, pmax(predicted[lower] - predicted[upper], 0))
    intercept <- tp[upper] - slope * predicted[upper]
    ratio <- ifelse(predicted[lower] > 0 & predicted[upper] > 0,
                    divide_no_nan(predicted[lower], pmax(predicted[upper], 0)), 1)
    return(sum(divide_no_nan(slope * (dtp + intercept * log(ratio)),
                             pmax(tp[upper] + fn[upper], 0))))
  }
  recall <- divide_no_nan(tp, tp + fn)
  fp_rate <- divide_no_nan(fp, fp + tn)
  sum((fp_rate[lower] - fp_rate[upper]) * (recall[lower] + recall[upper]) / 2)
}

# --- the exported metrics ----------------------------------------------------

make_metric <- function(kind, params, name, y_true, y_pred, call) {
  metric <- new_metric(kind, check_string(name, "name", call = call), params)
  object_or_values(metric, y_true, y_pred, function(y_true, y_pred) {
    data <- check_loss_data(kind, y_true, y_pred, call)
    metric_values(metric_spec(metric), data$y_true, data$y_pred)
  }, "metric", call)
}

#' Metrics
#'
#' The metrics of keras 2.x, by the same names and with the same arguments.
#' Called without `y_true` and `y_pred`, each gives a metric object for
#' `compile()` (string names work there too). Called with both, the
#' accuracies and errors give the value of each sample.
#'
#' * `metric_binary_accuracy()`: the share of values where
#'   `y_pred > threshold` (1, else 0) equals `y_true`.
#' * `metric_categorical_accuracy()`: the share of samples whose largest
#'   prediction is at the largest value of the one-hot `y_true` (the first,
#'   on ties).
#' * `metric_sparse_categorical_accuracy()`: the same with the class of each
#'   sample as an index from 0 (numbers, a factor or one column).
#' * `metric_mean_squared_error()`, `metric_mean_absolute_error()`.
#' * `metric_auc()`: the area under the ROC curve (`curve = "ROC"`: true
#'   against false positive rate) or the precision-recall curve (`"PR"`),
#'   approximated as keras does: the rates at `num_thresholds` thresholds
#'   \eqn{i / (T - 1)}, with \eqn{-10^{-7}}{-1e-7} and \eqn{1 + 10^{-7}}{1 + 1e-7} at the
#'   ends, joined by straight lines (ROC) or by the interpolation of Davis
#'   and Goadrich (2006) (PR). The values of all columns are pooled (keras'
#'   `multi_label = FALSE`). A target counts as positive when it is not 0;
#'   predictions outside \eqn{[0, 1]} count as 0 or 1, `NaN` as below every
#'   threshold. With `from_logits = TRUE` the sigmoid of `y_pred` is used.
#'
#' Over the batches of an epoch, `fit()` and `evaluate()` report for the
#' accuracies and errors the mean over all samples seen (weighted by their
#' sample weights, \eqn{\sum w_i v_i / \sum w_i}{sum(w * v) / sum(w)}), and
#' for the AUC that of the counts accumulated over all batches: not the mean
#' of the batches' values. A metric object called as a function,
#' `metric(y_true, y_pred, sample_weight = NULL)`, gives that value for one
#' batch.
#'
#' In `compile()`, `"accuracy"` (or `"acc"`) becomes binary accuracy when
#' the loss is binary cross-entropy or the output has one unit, sparse
#' categorical accuracy when the loss is sparse categorical cross-entropy,
#' and categorical accuracy otherwise, as keras chooses; it keeps its name
#' in the history. `"mse"`, `"mae"`, `"auc"` and the names of the
#' functions without `metric_` are taken too. A second metric of the same
#' name gets the suffix `_1`, then `_2`, as in keras.
#'
#' @inheritParams loss_mean_squared_error
#' @param threshold The threshold above which a prediction is 1.
#' @param num_thresholds The number of thresholds, a whole number from 2
#'   to 1,000,000.
#' @param curve `"ROC"` or `"PR"`.
#' @param from_logits `TRUE` if `y_pred` holds logits rather than
#'   probabilities.
#' @param name The metric's name, its key in the training history (for
#'   `metric_auc()`, `NULL` for `"auc"`).
#' @return Without `y_true` and `y_pred`, a metric object (class
#'   `selu_metric`). With them, the value of each sample: a numeric vector.
#' @references Davis, J. and Goadrich, M. (2006). The relationship between
#'   precision-recall and ROC curves. *Proceedings of the 23rd International
#'   Conference on Machine Learning*, 233-240. \doi{10.1145/1143844.1143874}
#' @family metrics
#' @export
#' @examples
#' metric_binary_accuracy(c(1, 0, 1), c(0.8, 0.6, 0.3))
#' probabilities <- matrix(c(0.7, 0.2, 0.3, 0.8), 2)
#' metric_categorical_accuracy(diag(2), probabilities)
#' metric_sparse_categorical_accuracy(c(1, 1), probabilities)
#' metric_mean_absolute_error(c(1, 2), c(1.5, 1))
#' auc <- metric_auc()
#' auc(c(0, 0, 1, 1), c(0.1, 0.4, 0.35, 0.8))
#' metric_auc(num_thresholds = 3)(c(0, 0, 1, 1), c(0, 0.5, 0.3, 0.9))
metric_binary_accuracy <- function(y_true, y_pred, threshold = 0.5, ...,
                                   name = "binary_accuracy") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  params <- list(threshold = check_finite_number(threshold, "threshold", call = call))
  make_metric("binary_accuracy", params, name, y_true, y_pred, call)
}

#' @rdname metric_binary_accuracy
#' @export
metric_categorical_accuracy <- function(y_true, y_pred, ..., name = "categorical_accuracy") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  make_metric("categorical_accuracy", list(), name, y_true, y_pred, call)
}

#' @rdname metric_binary_accuracy
#' @export
metric_sparse_categorical_accuracy <- function(y_true, y_pred, ...,
                                               name = "sparse_categorical_accuracy") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  make_metric("sparse_categorical_accuracy", list(), name, y_true, y_pred, call)
}

#' @rdname metric_binary_accuracy
#' @export
metric_mean_squared_error <- function(y_true, y_pred, ..., name = "mean_squared_error") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  make_metric("mean_squared_error", list(), name, y_true, y_pred, call)
}

#' @rdname metric_binary_accuracy
#' @export
metric_mean_absolute_error <- function(y_true, y_pred, ..., name = "mean_absolute_error") {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  make_metric("mean_absolute_error", list(), name, y_true, y_pred, call)
}

#' @rdname metric_binary_accuracy
#' @export
metric_auc <- function(num_thresholds = 200, curve = "ROC", from_logits = FALSE, name = NULL,
                       ...) {
  call <- sys.call()
  check_empty_dots(list(...), call = call)
  if (!(length(num_thresholds) == 1 && is_whole(num_thresholds) && num_thresholds >= 2 &&
        num_thresholds <= MAX_THRESHOLDS)) {
    selu_abort(sprintf("`num_thresholds` must be a whole number from 2 to %s, not %s.",
                       format(MAX_THRESHOLDS, big.mark = ",", scientific = FALSE),
                       describe(num_thresholds)), call = call)
  }
  if (!(is.character(curve) && length(curve) == 1 && isTRUE(toupper(curve) %in% c("ROC", "PR")))) {
    selu_abort(sprintf("`curve` must be \"ROC\" or \"PR\", not %s.", describe(curve)),
               call = call)
  }
  params <- list(num_thresholds = as.integer(num_thresholds), curve = toupper(curve),
                 from_logits = check_flag(from_logits, "from_logits", call = call))
  name <- if (is.null(name)) "auc" else check_string(name, "name", call = call)
  new_metric("auc", name, params)
}

# --- metrics for compile() ---------------------------------------------------

as_metrics <- function(metrics, loss, output_shape, call) {
  if (missing(call)) call <- sys.call(-1)
  if (is.null(metrics)) return(list())
  if (is_metric(metrics)) metrics <- list(metrics)
  if (is.character(metrics) && !is.object(metrics)) metrics <- as.list(unname(metrics))
  if (!(is.list(metrics) && !is.object(metrics))) {
    selu_abort(sprintf(paste(
      "`metrics` must be NULL, a character vector of metric names or a list of names",
      "and metric objects, not %s."), describe(metrics)), call = call)
  }
  loss_kind <- if (is.null(loss)) NA_character_ else loss_spec(as_loss(loss, call = call))$kind
  if (!length(metrics)) return(list())
  objects <- lapply(seq_along(metrics), function(i) {
    resolve_metric(metrics[[i]], i, loss_kind, output_shape, call)
  })
  keys <- unique_keys(vapply(objects, metric_name, ""))
  objects <- Map(rename_metric, objects, keys)
  names(objects) <- keys
  objects
}

resolve_metric <- function(x, i, loss_kind, output_shape, call) {
  if (is_metric(x)) return(x)
  known <- c("accuracy", "acc", names(metric_names))
  if (!(is.character(x) && length(x) == 1 && !is.na(x) && x %in% known)) {
    selu_abort(sprintf("`metrics` must hold metric objects or the names %s; element %d is %s.",
                       paste0("\"", known, "\"", collapse = ", "), i, describe(x)), call = call)
  }
  kind <- if (x %in% c("accuracy", "acc")) accuracy_for(loss_kind, output_shape) else metric_names[[x]]
  new_metric(kind, x, metric_defaults(kind))
}

# keras' choice: binary for a binary cross-entropy or one output unit,
# sparse for a sparse categorical cross-entropy, else categorical.
accuracy_for <- function(loss_kind, output_shape) {
  units <- output_shape[length(output_shape)]
  if (identical(loss_kind, "binary_crossentropy") || isTRUE(units == 1)) return("binary_accuracy")
  if (identical(loss_kind, "sparse_categorical_crossentropy")) return("sparse_categorical_accuracy")
  "categorical_accuracy"
}

metric_defaults <- function(kind) {
  list(threshold = 0.5, num_thresholds = 200L, curve = "ROC",
       from_logits = FALSE)[metric_parameters[[kind]]]
}

# A second "auc" becomes "auc_1", a third "auc_2", as keras names them.
unique_keys <- function(keys) {
  for (i in seq_along(keys)[-1]) {
    if (keys[i] %in% keys[seq_len(i - 1)]) {
      base <- keys[i]
      suffix <- 1
      while (paste0(base, "_", suffix) %in% keys) suffix <- suffix + 1
      keys[i] <- paste0(base, "_", suffix)
    }
  }
  keys
}

rename_metric <- function(metric, name) {
  spec <- metric_spec(metric)
  if (identical(spec$name, name)) return(metric)
  new_metric(spec$kind, name, spec[metric_parameters[[spec$kind]]])
}

# --- configurations and printing ---------------------------------------------

#' @export
get_config.selu_metric <- function(object, ...) {
  if (!is_metric(object)) abort_not_config_object(object, sys.call())
  check_empty_dots(list(...))
  spec <- metric_spec(object)
  config <- c(list(name = spec$name, dtype = "float64"), spec[metric_parameters[[spec$kind]]])
  if (spec$kind == "auc") {
    config <- c(config[c("name", "dtype", "num_thresholds", "curve")],
                list(summation_method = "interpolation", multi_label = FALSE,
                     from_logits = spec$from_logits))
  }
  structure(config, class_name = metric_classes[[spec$kind]])
}

#' @export
print.selu_metric <- function(x, ...) {
  config <- get_config(x)
  args <- paste(names(config), vapply(config, format_config_value, ""), sep = " = ",
                collapse = ", ")
  cat(sprintf("<metric %s>(%s)\n", attr(config, "class_name"), args))
  invisible(x)
}

# A metric from get_config(), for load_model().
metric_from_config <- function(config, call = sys.call(-1)) {
  class_name <- attr(config, "class_name")
  if (!(is.list(config) && !is.object(config) && is.character(class_name) &&
        length(class_name) == 1 && class_name %in% metric_classes)) {
    selu_abort(sprintf(paste(
      "`config` must be a metric configuration from get_config(): a list with the",
      "attribute \"class_name\" one of %s, not %s."),
      paste0("\"", metric_classes, "\"", collapse = ", "), describe(config)), call = call)
  }
  kind <- names(metric_classes)[metric_classes == class_name]
  keys <- c("name", metric_parameters[[kind]])
  known <- c(keys, "dtype", if (kind == "auc") c("summation_method", "multi_label"))
  if (!("name" %in% names(config)) || !all(names(config) %in% known)) {
    selu_abort(sprintf("`config` of a %s metric must have the key name and may have %s.",
                       class_name, paste(setdiff(known, "name"), collapse = ", ")), call = call)
  }
  constructor <- get(paste0("metric_", kind), mode = "function")
  tryCatch(do.call(constructor, as.list(config)[intersect(keys, names(config))], quote = TRUE),
           selu_error = function(e) {
             selu_abort(sprintf("`config` holds a bad value: %s", conditionMessage(e)), call = call)
           })
}
