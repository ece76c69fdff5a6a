#' Alpha dropout layer
#'
#' keras' `AlphaDropout`: dropout that keeps self-normalized activations at
#' mean 0 and variance 1. At inference it is the identity. In training (a
#' layer called as `layer(x, training = TRUE)`, or [backward()] with
#' `training = TRUE`) each unit is kept with probability `1 - rate`, dropped
#' units are set to \eqn{\alpha' = -\lambda\alpha}{alpha_p = -scale * alpha}
#' (SELU's negative saturation), and the result is scaled back:
#' \deqn{y = a (k x + (1 - k) \alpha') + b,\quad
#'   a = ((1 - r)(1 + r \alpha'^2))^{-1/2},\quad b = -a \alpha' r,}{y = a (k x
#'   + (1 - k) alpha_p) + b, a = ((1 - r)(1 + r alpha_p^2))^(-1/2), b = -a
#'   alpha_p r,}
#' with \eqn{k} the keep mask and \eqn{r} the rate. Input of mean 0 and
#' variance 1 keeps both.
#'
#' `noise_shape` draws one keep decision per element of a smaller shape and
#' broadcasts it: for input of shape (batch, time, features),
#' `noise_shape = c(NA, 1, NA)` drops the same features at every time step
#' (`NA` takes the input's dimension). Unlike keras, the configuration keeps
#' `noise_shape`.
#'
#' With a `seed`, the layer draws from a stream of its own, started from the
#' seed, so that a session's draws are reproducible, and the session's random
#' stream (`.Random.seed`) is left as it was; without one it draws from the
#' session's stream.
#'
#' @inheritParams layer_activation_selu
#' @param rate The probability of dropping a unit, in \[0, 1).
#' @param noise_shape `NULL` (a decision per element) or a shape with the
#'   input's rank, each dimension 1, `NA` or the input's.
#' @param seed `NULL` or a whole number.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object`.
#' @references Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S.
#'   (2017). Self-Normalizing Neural Networks. *Advances in Neural Information
#'   Processing Systems 30*. \doi{10.48550/arXiv.1706.02515}
#' @family layers
#' @export
#' @examples
#' drop <- layer_alpha_dropout(rate = 0.1, seed = 1)
#' x <- matrix(rnorm(1e5), 1e4, 10)
#' identical(drop(x), x)               # inference: the identity
#' y <- drop(x, training = TRUE)       # training: alpha dropout
#' c(mean(y), var(as.vector(y)))
layer_alpha_dropout <- function(object, rate, noise_shape = NULL, seed = NULL,
                                input_shape = NULL, batch_input_shape = NULL, batch_size = NULL,
                                dtype = NULL, name = NULL, trainable = NULL, weights = NULL) {
  call <- sys.call()
  if (missing(rate)) abort_missing("rate", "a number in [0, 1)", call = call)
  rate <- check_rate(rate, call)
  if (!is.null(noise_shape)) noise_shape <- check_shape(noise_shape, "noise_shape", call = call)
  seed <- check_seed(seed, call = call)
  alpha_p <- -1.7580993408473768599402175208123
  layer <- do.call(create_layer, c(list("AlphaDropout", "alpha_dropout"), common_args(), list(
    config = list(rate = rate, noise_shape = noise_shape, seed = seed), call = call
  )), quote = TRUE)
  # the affine map that keeps mean and variance, and the layer's own stream
  self <- layer_state(layer)
  self$alpha_dropout_a <- ((1 - rate) * (1 + rate * alpha_p^2))^-0.5
  self$alpha_dropout_b <- -self$alpha_dropout_a * alpha_p * rate
  self$stream <- new.env(parent = emptyenv())
  finish_layer(missing(object), object, layer, call)
}

check_rate <- function(rate, call) {
  if (!(is.numeric(rate) && !is.object(rate) && length(rate) == 1 && !is.na(rate) &&
        rate >= 0 && rate < 1)) {
    selu_abort(sprintf("`rate` must be a single number in [0, 1), not %s.", describe(rate)),
               call = call)
  }
  as.double(rate)
}

# A noise layer's draw for a batch of shape `shape`, or NULL when it adds
# none: for dropout the keep mask (1 kept, 0 dropped), divided by 1 - rate
# for plain dropout, drawn per element of the noise shape and broadcast; for
# Gaussian noise the noise to add; for Gaussian dropout the factors to
# multiply by. From the layer's own stream when it has a seed.
dropout_mask <- function(self, shape) {
  config <- self$config
  if (self$class_name == "GaussianNoise") {
    if (config$stddev == 0) return(NULL)
    return(draw_random(self$stream, config$seed, prod(shape), stats::rnorm) * config$stddev)
  }
  if (config$rate == 0) return(NULL)
  if (self$class_name == "GaussianDropout") {
    spread <- sqrt(config$rate / (1 - config$rate))
    return(1 + draw_random(self$stream, config$seed, prod(shape), stats::rnorm) * spread)
  }
  noise <- dropout_noise_shape(config$noise_shape, shape, call = NULL)
  keep <- draw_random(self$stream, config$seed, prod(noise), stats::runif) >= config$rate
  keep <- array(as.double(keep), noise)
  if (!identical(noise, shape)) keep <- broadcast_to(keep, shape)
  if (self$class_name == "Dropout") keep <- keep / (1 - config$rate)
  as.vector(keep)
}

# n numbers of `rng` (runif, rnorm) from the layer's own stream (started
# from `seed`), the user's stream left as it was; or from the user's stream
# when no seed.
draw_random <- function(stream, seed, n, rng) {
  if (is.null(seed)) return(rng(n))
  start <- function() {
    if (is.null(stream$state)) set.seed(seed)
    else assign(".Random.seed", stream$state, envir = globalenv())
  }
  with_own_stream(start, {
    u <- rng(n)
    stream$state <- get(".Random.seed", envir = globalenv(), inherits = FALSE)
    u
  })
}

dropout_noise_shape <- function(noise_shape, shape, call) {
  if (is.null(noise_shape)) return(shape)
  filled <- ifelse(is.na(noise_shape), shape[seq_along(noise_shape)], noise_shape)
  if (length(noise_shape) != length(shape) || any(filled != 1 & filled != shape)) {
    selu_abort(sprintf(
      "`noise_shape` %s does not fit input of shape %s: each dimension must be 1, NA or the input's.",
      format_shape(noise_shape), format_shape(shape)), kind = "shape", call = call)
  }
  as.integer(filled)
}

# An array repeated along its dimensions of size 1 up to `shape`.
broadcast_to <- function(a, shape) {
  index <- lapply(seq_along(shape), function(i) {
    if (dim(a)[i] == 1) rep(1L, shape[i]) else seq_len(shape[i])
  })
  array(a[as.matrix(expand.grid(index))], shape)
}

alpha_dropout_from_config <- function(config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", "rate",
                                "noise_shape", "seed"), call = call)
  do.call(layer_alpha_dropout, args, quote = TRUE)
}
