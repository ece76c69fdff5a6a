#' Gaussian noise and Gaussian dropout layers
#'
#' keras' `GaussianNoise` and `GaussianDropout`, regularization layers
#' active in training only (in [fit()], or a layer called with `training =
#' TRUE`); at inference they are the identity. `layer_gaussian_noise()` adds
#' normal noise of mean 0 and standard deviation `stddev`;
#' `layer_gaussian_dropout()` multiplies by normal noise of mean 1 and
#' standard deviation `sqrt(rate / (1 - rate))`.
#'
#' With a `seed`, the layer draws from a stream of its own (see
#' [layer_alpha_dropout()]); without one, from the session's.
#'
#' @inheritParams layer_alpha_dropout
#' @param stddev The noise's standard deviation, a number of at least 0.
#' @param rate The drop probability the noise stands for, in \[0, 1).
#' @param ... Not used; an error if given.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object` (see [layer_activation_selu()]).
#' @family layers
#' @export
#' @examples
#' x <- matrix(1, 2, 4)
#' layer_gaussian_noise(stddev = 0.1, seed = 1)(x, training = TRUE)
#' layer_gaussian_dropout(rate = 0.2, seed = 1)(x, training = TRUE)
#' layer_gaussian_noise(stddev = 0.1)(x) # inference: the identity
layer_gaussian_noise <- function(object, stddev, seed = NULL, input_shape = NULL,
                                 batch_input_shape = NULL, batch_size = NULL, dtype = NULL,
                                 name = NULL, trainable = NULL, weights = NULL, ...) {
  call <- sys.call()
  if (!missing(object)) force(object)
  check_empty_dots(list(...), call = call)
  if (missing(stddev)) abort_missing("stddev", "a number of at least 0", call = call)
  stddev <- check_finite_number(stddev, "stddev", min = 0, call = call)
  noise_layer("GaussianNoise", "gaussian_noise", list(stddev = stddev),
              seed, common_args(), missing(object), if (!missing(object)) object, call)
}

#' @rdname layer_gaussian_noise
#' @export
layer_gaussian_dropout <- function(object, rate, seed = NULL, input_shape = NULL,
                                   batch_input_shape = NULL, batch_size = NULL, dtype = NULL,
                                   name = NULL, trainable = NULL, weights = NULL, ...) {
  call <- sys.call()
  if (!missing(object)) force(object)
  check_empty_dots(list(...), call = call)
  if (missing(rate)) abort_missing("rate", "a number in [0, 1)", call = call)
  rate <- check_rate(rate, call)
  noise_layer("GaussianDropout", "gaussian_dropout", list(rate = rate), seed, common_args(),
              missing(object), if (!missing(object)) object, call)
}

noise_layer <- function(class_name, base_name, config, seed, common, object_missing, object,
                        call) {
  seed <- check_seed(seed, call = call)
  layer <- do.call(create_layer, c(list(class_name, base_name), common, list(
    config = c(config, list(seed = seed)), call = call)), quote = TRUE)
  self <- layer_state(layer)
  self$stream <- new.env(parent = emptyenv())
  finish_layer(object_missing, object, layer, call)
}

gaussian_noise_from_config <- function(config, call) {
  builder_for(layer_gaussian_noise, c("stddev", "seed"), config, call)
}

gaussian_dropout_from_config <- function(config, call) {
  builder_for(layer_gaussian_dropout, c("rate", "seed"), config, call)
}
