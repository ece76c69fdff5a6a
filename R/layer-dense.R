#' Densely connected layer
#'
#' keras' `Dense` layer: \eqn{y = \mathrm{activation}(x W + b)}{y =
#' activation(x %*% kernel + bias)}, with a kernel \eqn{W} of shape (inputs,
#' units) and a bias \eqn{b} of length `units`, as keras stores them, so that
#' [get_weights()] and [set_weights()] exchange weights with keras. The
#' product runs through R's BLAS (`dgemm`), the bias written first and the
#' product added to it in one call.
#'
#' Input of rank above 2 is transformed along its last axis, as in keras:
#' (batch, time, features) becomes (batch, time, units).
#'
#' For a self-normalizing network, give the kernel LeCun-normal weights
#' (`kernel_initializer = "lecun_normal"`) and use `activation = "selu"`, or
#' a [layer_activation_selu()] after the layer.
#'
#' Regularizers add their penalty to the loss that [fit()] minimizes (an
#' activity regularizer's penalty on the layer's output is divided by the
#' batch size, as in keras); constraints project the weights after each
#' optimizer step.
#'
#' @inheritParams layer_activation_selu
#' @param units The number of outputs, a whole positive number.
#' @param activation `NULL` (linear) or any name [layer_activation()] takes
#'   (`"selu"`, `"relu"`, `"softmax"`, `"sigmoid"`, ...), or an R function
#'   (which has no gradient, so cannot be trained through).
#' @param use_bias `TRUE` (the default) or `FALSE`.
#' @param kernel_initializer,bias_initializer An initializer (see
#'   [initializer_glorot_uniform()]) or its name: `"glorot_uniform"` (the
#'   kernel's default), `"lecun_normal"`, `"he_normal"`, `"zeros"` (the
#'   bias's default), ...
#' @param kernel_regularizer,bias_regularizer,activity_regularizer `NULL` or a
#'   regularizer ([regularizer_l2()] and its siblings).
#' @param kernel_constraint,bias_constraint `NULL` or a constraint
#'   ([constraint_maxnorm()] and its siblings).
#' @param weights `NULL`, or `list(kernel, bias)` (`list(kernel)` without a
#'   bias) to set when the layer is built.
#' @param ... Not used; an error if given (keras-only arguments are refused
#'   by name).
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object` (see [layer_activation_selu()]).
#' @section Shape:
#' Input: (batch, ..., inputs). Output: (batch, ..., units).
#' @family layers
#' @export
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(20), 5, 4)
#' dense <- layer_dense(units = 3, kernel_initializer = "lecun_normal", activation = "selu")
#' dense(x)
#' str(get_weights(dense))
#'
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(8, kernel_initializer = "lecun_normal", activation = "selu") |>
#'   layer_dense(2, activation = "softmax")
#' summary(model)
layer_dense <- function(object, units, activation = NULL, use_bias = TRUE,
                        kernel_initializer = "glorot_uniform", bias_initializer = "zeros",
                        kernel_regularizer = NULL, bias_regularizer = NULL,
                        activity_regularizer = NULL, kernel_constraint = NULL,
                        bias_constraint = NULL, input_shape = NULL, batch_input_shape = NULL,
                        batch_size = NULL, dtype = NULL, name = NULL, trainable = NULL,
                        weights = NULL, ...) {
  call <- sys.call()
  if (!missing(object)) force(object) # earlier layers of a pipe are named first
  check_empty_dots(list(...), call = call)
  if (missing(units)) abort_missing("units", "the number of outputs, a whole positive number")
  units <- check_count(units, "units", call = call)
  if (is.null(activation)) activation <- "linear"
  check_activation(activation, call)
  use_bias <- check_flag(use_bias, "use_bias", call = call)
  kernel_init <- as_initializer(kernel_initializer, "kernel_initializer", call)
  bias_init <- as_initializer(bias_initializer, "bias_initializer", call)
  regularizers <- list(
    kernel = as_regularizer(kernel_regularizer, "kernel_regularizer", call),
    bias = as_regularizer(bias_regularizer, "bias_regularizer", call))
  activity <- as_regularizer(activity_regularizer, "activity_regularizer", call)
  constraints <- list(kernel = as_constraint(kernel_constraint, "kernel_constraint", call),
                      bias = as_constraint(bias_constraint, "bias_constraint", call))
  layer <- do.call(create_layer, c(list("Dense", "dense"), common_args(), list(
    output_shape = function(self, shape) c(shape[-length(shape)], units),
    build = function(self, shape, call, what) {
      inputs <- shape[length(shape)]
      if (length(shape) < 2 || is.na(inputs)) {
        selu_abort(sprintf(paste(
          "A Dense layer needs input with a batch axis and a known last dimension, but %s",
          "has shape %s."), what, format_shape(shape)), kind = "shape", call = call)
      }
      check_weight_size(c(inputs, units), sprintf("The kernel of a Dense layer for %s", what),
                        call = call)
      self$weights <- list(kernel = kernel_init(c(inputs, units)))
      if (use_bias) self$weights$bias <- bias_init(units)
      self$input_spec <- c(rep(NA, length(shape) - 1), inputs)
    },
    config = list(units = units, activation = activation, use_bias = use_bias,
                  kernel_initializer = get_config(kernel_init),
                  bias_initializer = get_config(bias_init),
                  kernel_regularizer = config_or_null(regularizers$kernel),
                  bias_regularizer = config_or_null(regularizers$bias),
                  activity_regularizer = config_or_null(activity),
                  kernel_constraint = config_or_null(constraints$kernel),
                  bias_constraint = config_or_null(constraints$bias)),
    n_weights = 1L + use_bias, call = call
  )), quote = TRUE)
  self <- layer_state(layer)
  self$regularizers <- regularizers[c("kernel", if (use_bias) "bias")]
  self$constraints <- constraints[c("kernel", if (use_bias) "bias")]
  self$activity_regularizer <- activity
  finish_layer(missing(object), object, layer, call)
}

config_or_null <- function(object) if (!is.null(object)) get_config(object)

dense_from_config <- function(config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", "units",
                                "activation", "use_bias", "kernel_initializer",
                                "bias_initializer", "kernel_regularizer", "bias_regularizer",
                                "activity_regularizer", "kernel_constraint",
                                "bias_constraint"), call = call)
  for (key in c("kernel_initializer", "bias_initializer")) {
    if (!is.null(args[[key]])) args[[key]] <- initializer_from_config(args[[key]])
  }
  for (key in c("kernel_regularizer", "bias_regularizer", "activity_regularizer")) {
    if (!is.null(args[[key]])) args[[key]] <- regularizer_from_config(args[[key]])
  }
  for (key in c("kernel_constraint", "bias_constraint")) {
    if (!is.null(args[[key]])) args[[key]] <- constraint_from_config(args[[key]])
  }
  do.call(layer_dense, args, quote = TRUE)
}
