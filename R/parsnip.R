#' The `"selu"` engine of parsnip's `mlp()`
#'
#' When parsnip is installed, selu registers the engine `"selu"` for
#' parsnip's `mlp()`, for regression and classification: it fits [snn()] on
#' the predictors as they are (factors stay factors, so that [snn()] encodes
#' them), and predicts through [predict.selu_snn()]. It works in workflows
#' with recipes and in tune's `tune_grid()` on resamples, sequentially and on
#' parallel workers; `set.seed()` makes the results reproducible.
#'
#' The main arguments of `mlp()` map to [snn()]'s: `hidden_units` (the width
#' of each hidden layer), `penalty` (L2), `dropout` (alpha dropout),
#' `epochs` and `learn_rate`; `activation` can only be `"selu"`. The engine
#' arguments, given to `set_engine("selu", ...)`, are the other arguments of
#' [snn()]: `hidden_layers` (the depth: 2 when `hidden_units` is a single
#' width), `batch_size`, `validation`, `stop_iter`, `class_weights`, `optimizer` and
#' `verbose`.
#'
#' @name selu_engine
#' @examplesIf requireNamespace("parsnip", quietly = TRUE)
#' library(parsnip)
#' set.seed(1)
#' spec <- mlp(hidden_units = 16, epochs = 30, learn_rate = 0.01) |>
#'   set_engine("selu", hidden_layers = 2) |>
#'   set_mode("classification")
#' fitted <- fit(spec, Species ~ ., data = iris)
#' predict(fitted, iris[c(1, 51, 101), ], type = "prob")
NULL

# Registers the engine once parsnip is loaded (now or later).
register_parsnip_engine <- function() {
  if (isNamespaceLoaded("parsnip")) add_parsnip_engine()
  setHook(packageEvent("parsnip", "onLoad"), function(...) add_parsnip_engine())
}

add_parsnip_engine <- function() {
  parsnip <- asNamespace("parsnip")
  engines <- parsnip$get_model_env()$mlp
  if (is.data.frame(engines) && "selu" %in% engines$engine) return(invisible())
  set_model_engine <- parsnip$set_model_engine
  set_dependency <- parsnip$set_dependency
  set_model_arg <- parsnip$set_model_arg
  set_fit <- parsnip$set_fit
  set_encoding <- parsnip$set_encoding
  set_pred <- parsnip$set_pred

  modes <- c("regression", "classification")
  for (mode in modes) {
    set_model_engine(model = "mlp", mode = mode, eng = "selu")
    set_dependency(model = "mlp", eng = "selu", pkg = "selu", mode = mode)
  }
  args <- list(
    hidden_units = list(pkg = "dials", fun = "hidden_units"),
    penalty = list(pkg = "dials", fun = "penalty"),
    dropout = list(pkg = "dials", fun = "dropout"),
    epochs = list(pkg = "dials", fun = "epochs"),
    learn_rate = list(pkg = "dials", fun = "learn_rate"),
    activation = list(pkg = "dials", fun = "activation")
  )
  for (arg in names(args)) {
    set_model_arg(model = "mlp", eng = "selu", parsnip = arg,
                  original = if (arg == "activation") "activation" else arg,
                  func = args[[arg]], has_submodel = FALSE)
  }
  for (mode in modes) {
    set_fit(model = "mlp", eng = "selu", mode = mode, value = list(
      interface = "data.frame",
      protect = c("x", "y"),
      func = c(pkg = "selu", fun = "snn_engine_fit"),
      defaults = list()
    ))
    set_encoding(model = "mlp", eng = "selu", mode = mode, options = list(
      predictor_indicators = "none",
      compute_intercept = FALSE,
      remove_intercept = FALSE,
      allow_sparse_x = FALSE
    ))
  }
  predict_args <- function(type) {
    list(object = quote(object$fit), new_data = quote(new_data), type = type)
  }
  set_pred(model = "mlp", eng = "selu", mode = "regression", type = "numeric", value = list(
    pre = NULL, post = engine_numeric, func = c(fun = "predict"), args = predict_args("numeric")
  ))
  set_pred(model = "mlp", eng = "selu", mode = "classification", type = "class", value = list(
    pre = NULL, post = NULL, func = c(fun = "predict"), args = predict_args("class")
  ))
  set_pred(model = "mlp", eng = "selu", mode = "classification", type = "prob", value = list(
    pre = NULL, post = NULL, func = c(fun = "predict"), args = predict_args("prob")
  ))
  invisible()
}

# parsnip wants a regression's predictions as a vector (a tibble for several
# outcomes).
engine_numeric <- function(results, object) {
  if (ncol(results) == 1) results[[1]] else results
}

#' Fit an [snn()] for parsnip
#'
#' The function the `"selu"` engine of parsnip's `mlp()` calls: [snn()] with
#' parsnip's `activation` argument, which must be `"selu"`, and two hidden
#' layers unless `hidden_layers` says otherwise when `hidden_units` is a
#' single width. Call [snn()] directly otherwise.
#'
#' @inheritParams snn
#' @param activation `"selu"`, the only activation of a self-normalizing
#'   network.
#' @param ... The other arguments of [snn()].
#' @return A fit from [snn()].
#' @keywords internal
#' @export
#' @examples
#' set.seed(1)
#' snn_engine_fit(iris[, 1:4], iris$Species, hidden_units = 8, hidden_layers = 2,
#'                epochs = 5)
snn_engine_fit <- function(x, y, hidden_units = 64L, hidden_layers = NULL, activation = "selu",
                           ...) {
  if (!identical(activation, "selu")) {
    selu_abort(sprintf(paste(
      "`activation` must be \"selu\": the engine \"selu\" fits self-normalizing networks,",
      "not %s."), describe(activation)), call = sys.call())
  }
  if (missing(x)) abort_missing("x", "a data frame of predictors", call = sys.call())
  if (!(is.data.frame(x) || is.matrix(x))) {
    selu_abort(sprintf("`x` must be a data frame or matrix of predictors, not %s.", describe(x)),
               call = sys.call())
  }
  if (is.matrix(x)) x <- as.data.frame(x)
  if (is.null(hidden_layers) && length(hidden_units) == 1) hidden_layers <- 2L
  snn(x, y, hidden_units = hidden_units, hidden_layers = hidden_layers, ...)
}
