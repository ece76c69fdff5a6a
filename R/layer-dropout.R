#' Dropout layer
#'
#' keras' `Dropout`: in training (a layer called as `layer(x, training =
#' TRUE)`, in [fit()], or [backward()] with `training = TRUE`) each unit is
#' set to 0 with probability `rate` and the kept ones are scaled by
#' \eqn{1 / (1 - \mathrm{rate})}{1 / (1 - rate)}, so that the expected sum
#' is unchanged; at inference it is the identity. This is the dropout of
#' ReLU networks: it breaks the mean and variance that a self-normalizing
#' network keeps, which [layer_alpha_dropout()] preserves.
#'
#' `noise_shape` and `seed` work as in [layer_alpha_dropout()].
#'
#' @inheritParams layer_alpha_dropout
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object`.
#' @family layers
#' @export
#' @examples
#' drop <- layer_dropout(rate = 0.5, seed = 1)
#' x <- matrix(1, 2, 5)
#' drop(x)                   # inference: the identity
#' drop(x, training = TRUE)  # training: zeros, and twos
layer_dropout <- function(object, rate, noise_shape = NULL, seed = NULL, input_shape = NULL,
                          batch_input_shape = NULL, batch_size = NULL, dtype = NULL,
                          name = NULL, trainable = NULL, weights = NULL) {
  call <- sys.call()
  if (missing(rate)) abort_missing("rate", "a number in [0, 1)", call = call)
  rate <- check_rate(rate, call)
  if (!is.null(noise_shape)) noise_shape <- check_shape(noise_shape, "noise_shape", call = call)
  seed <- check_seed(seed, call = call)
  layer <- do.call(create_layer, c(list("Dropout", "dropout"), common_args(), list(
    config = list(rate = rate, noise_shape = noise_shape, seed = seed), call = call
  )), quote = TRUE)
  self <- layer_state(layer)
  self$stream <- new.env(parent = emptyenv())
  finish_layer(missing(object), object, layer, call)
}

dropout_from_config <- function(config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", "rate",
                                "noise_shape", "seed"), call = call)
  do.call(layer_dropout, args, quote = TRUE)
}
