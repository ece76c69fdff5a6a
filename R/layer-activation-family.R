# The activation layers of keras' family: ELU, LeakyReLU, ReLU,
# ThresholdedReLU and Softmax, each on its C kernel.

# A layer applying a kernel of the package with fixed parameters. `params` is
# the checked list that .Call(C_selu_kernel_params, ...) returns; the layer
# function makes that call itself, so that an error names the user's call.
create_kernel_layer <- function(class_name, base_name, config, common, call) {
  do.call(create_layer, c(list(class_name, base_name), common,
                          list(config = config, call = call)), quote = TRUE)
}

# The seven arguments every layer takes, from the caller's frame. The
# caller's `object` is evaluated first, so that the layers a pipe adds before
# this one are named first, as keras names them (`dense`, then `dense_1`).
common_args <- function(env = parent.frame()) {
  if (!eval(quote(missing(object)), env)) get("object", envir = env)
  mget(c("input_shape", "batch_input_shape", "batch_size", "dtype", "name", "trainable",
         "weights"), envir = env)
}

finish_layer <- function(object_missing, object, layer, call) {
  if (object_missing) return(layer)
  compose_layer(object, layer, call = call)
}

#' ELU, leaky ReLU, ReLU and thresholded ReLU layers
#'
#' keras' `ELU`, `LeakyReLU`, `ReLU` and `ThresholdedReLU` layers, on the C
#' kernels of [activation_elu()] and its siblings:
#' * ELU: \eqn{x} for \eqn{x > 0}, \eqn{\alpha (e^x - 1)} otherwise.
#' * Leaky ReLU: \eqn{x} for \eqn{x \ge 0}, \eqn{\alpha x} otherwise.
#' * ReLU: `max_value` from `max_value` up, \eqn{x} from `threshold` up,
#'   `negative_slope * (x - threshold)` below.
#' * Thresholded ReLU: \eqn{x} where \eqn{x > \theta}, 0 elsewhere.
#'
#' The three return modes and the common arguments are those of
#' [layer_activation_selu()]; the automatic names are keras': `elu`,
#' `leaky_re_lu`, `re_lu`, `thresholded_re_lu` (then `_1`, `_2`, ...).
#'
#' @section Shape:
#' Any input shape; the output has the same shape.
#'
#' @inheritParams layer_activation_selu
#' @param alpha For ELU, the value negative inputs saturate at (a number);
#'   for leaky ReLU, the slope below 0 (a number).
#' @param max_value `NULL` (no cap) or a number, at least 0.
#' @param negative_slope The slope below `threshold`, at least 0.
#' @param threshold The input from which ReLU is the identity, at least 0.
#' @param theta The threshold, at least 0.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object`.
#' @family activation layers
#' @name layer_activation_family
#' @examples
#' x <- matrix(c(-3, -1, 0.5, 4), 2, 2)
#' layer_activation_elu(x, alpha = 0.5)
#' layer_activation_leaky_relu(x)
#' layer_activation_relu(x, max_value = 3)
#' layer_activation_thresholded_relu(x, theta = 1)
#' keras_model_sequential(input_shape = 2) |>
#'   layer_activation_elu() |>
#'   layer_activation_relu(max_value = 6)
NULL

#' @rdname layer_activation_family
#' @export
layer_activation_elu <- function(object, alpha = 1.0, input_shape = NULL,
                                 batch_input_shape = NULL, batch_size = NULL, dtype = NULL,
                                 name = NULL, trainable = NULL, weights = NULL) {
  call <- sys.call()
  params <- .Call(C_selu_kernel_params, "elu", list(alpha))
  layer <- create_kernel_layer("ELU", "elu", list(alpha = params[[1]]), common_args(), call)
  finish_layer(missing(object), object, layer, call)
}

#' @rdname layer_activation_family
#' @export
layer_activation_leaky_relu <- function(object, alpha = 0.3, input_shape = NULL,
                                        batch_input_shape = NULL, batch_size = NULL,
                                        dtype = NULL, name = NULL, trainable = NULL,
                                        weights = NULL) {
  call <- sys.call()
  params <- .Call(C_selu_kernel_params, "leaky_relu", list(alpha))
  layer <- create_kernel_layer("LeakyReLU", "leaky_re_lu",
                               list(alpha = params[[1]]), common_args(), call)
  finish_layer(missing(object), object, layer, call)
}

#' @rdname layer_activation_family
#' @export
layer_activation_relu <- function(object, max_value = NULL, negative_slope = 0, threshold = 0,
                                  input_shape = NULL, batch_input_shape = NULL,
                                  batch_size = NULL, dtype = NULL, name = NULL,
                                  trainable = NULL, weights = NULL) {
  call <- sys.call()
  params <- .Call(C_selu_kernel_params, "relu", list(max_value, negative_slope, threshold))
  config <- list(max_value = params[[1]], negative_slope = params[[2]], threshold = params[[3]])
  layer <- create_kernel_layer("ReLU", "re_lu", config, common_args(), call)
  finish_layer(missing(object), object, layer, call)
}

#' @rdname layer_activation_family
#' @export
layer_activation_thresholded_relu <- function(object, theta = 1.0, input_shape = NULL,
                                              batch_input_shape = NULL, batch_size = NULL,
                                              dtype = NULL, name = NULL, trainable = NULL,
                                              weights = NULL) {
  call <- sys.call()
  params <- .Call(C_selu_kernel_params, "thresholded_relu", list(theta))
  layer <- create_kernel_layer("ThresholdedReLU", "thresholded_re_lu",
                               list(theta = params[[1]]), common_args(), call)
  finish_layer(missing(object), object, layer, call)
}

#' Softmax layer
#'
#' keras' `Softmax` layer: [activation_softmax()] along `axis`, numerically
#' stable for any input scale.
#'
#' Axes count R's dimensions from 1, the batch axis being 1, and negative
#' axes count from the end: the default `-1` is the last axis, as in keras.
#' (keras 2.x in Python counts from 0; `selu` uses R's convention for every
#' axis argument.) An axis out of range for the input is an error when the
#' layer meets its input.
#'
#' @inheritParams layer_activation_selu
#' @param axis The axis to normalize along: a whole number, not 0, negative
#'   from the end.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object`.
#' @family activation layers
#' @export
#' @examples
#' x <- matrix(c(1, 2, 3, 1, 1, 1), 2, 3, byrow = TRUE)
#' layer_activation_softmax(x)
#' layer_activation_softmax(x, axis = 1)
layer_activation_softmax <- function(object, axis = -1L, input_shape = NULL,
                                     batch_input_shape = NULL, batch_size = NULL, dtype = NULL,
                                     name = NULL, trainable = NULL, weights = NULL) {
  call <- sys.call()
  if (!(length(axis) == 1 && is_whole(axis) && axis != 0 &&
        abs(axis) <= .Machine$integer.max)) {
    selu_abort(sprintf("`axis` must be a whole number other than 0, not %s.", describe(axis)),
               call = call)
  }
  axis <- as.integer(axis)
  layer <- do.call(create_layer, c(list("Softmax", "softmax"), common_args(), list(
    output_shape = function(self, shape) {
      check_axis(axis, length(shape), call = call)
      shape
    },
    config = list(axis = axis), call = call
  )), quote = TRUE)
  finish_layer(missing(object), object, layer, call)
}
