# Initializers: callable objects that make a weight array for a shape.

new_initializer <- function(class_name, config, make) {
  init <- function(shape) {
    if (missing(shape)) abort_missing("shape", "the shape of the weights, whole positive numbers")
    shape <- check_shape(shape, "shape", call = sys.call())
    if (anyNA(shape)) {
      selu_abort(sprintf("`shape` must be fully known to initialize weights, not %s.",
                         format_shape(shape)), call = sys.call())
    }
    check_weight_size(shape, "`shape`", call = sys.call())
    values <- make(shape)
    if (length(shape) == 1) values else array(values, shape)
  }
  structure(init, class = c(paste0("selu_", tolower(class_name)), "selu_initializer"),
            class_name = class_name, config = config)
}

# Initializers, regularizers and constraints print as their keras class and
# configuration: `<initializer LecunNormal>(seed = 3)`.
print_configured <- function(x, kind) {
  config <- attr(x, "config")
  args <- if (length(config)) {
    paste(names(config), vapply(config, format_config_value, ""), sep = " = ", collapse = ", ")
  } else ""
  cat(sprintf("<%s %s>(%s)\n", kind, attr(x, "class_name"), args))
  invisible(x)
}

#' @export
print.selu_initializer <- function(x, ...) print_configured(x, "initializer")

#' @export
get_config.selu_initializer <- function(object, ...) {
  if (!is_initializer(object)) check_layer_or_model(object, call = sys.call())
  check_empty_dots(list(...))
  structure(attr(object, "config"), class_name = attr(object, "class_name"))
}

# Runs `code` on a random stream of its own, which `start()` sets up, and
# then puts the session's stream (`.Random.seed`) back as it was.
with_own_stream <- function(start, code) {
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  if (had_seed) saved <- get(".Random.seed", envir = globalenv(), inherits = FALSE)
  on.exit(if (had_seed) {
    assign(".Random.seed", saved, envir = globalenv())
  } else {
    rm(".Random.seed", envir = globalenv())
  })
  start()
  code
}

# Runs `code` on the random stream of `seed` (the session's if NULL).
with_seed <- function(seed, code) {
  if (is.null(seed)) return(code)
  with_own_stream(function() set.seed(seed), code)
}

check_seed <- function(seed, call = sys.call(-1)) {
  if (is.null(seed)) return(NULL)
  if (!(length(seed) == 1 && is_whole(seed) && abs(seed) <= .Machine$integer.max)) {
    selu_abort(sprintf("`seed` must be NULL or a whole number, not %s.", describe(seed)),
               call = call)
  }
  as.integer(seed)
}

# keras' fans. Rank 1: the length, in and out. Rank 2: a dense kernel,
# inputs x units. Higher ranks (convolution kernels, ..., in, out): the last
# two dimensions times the receptive field, the product of the others.
# Doubles, since fan_in + fan_out can pass the largest integer.
fan_in <- function(shape) {
  rank <- length(shape)
  if (rank <= 2) return(as.double(shape[1]))
  shape[rank - 1] * prod(shape[seq_len(rank - 2)])
}

fan_out <- function(shape) {
  rank <- length(shape)
  if (rank <= 2) return(as.double(shape[rank]))
  shape[rank] * prod(shape[seq_len(rank - 2)])
}

# The standard deviation of a standard normal truncated to [-2, 2].
TRUNCATED_NORMAL_SD <- 0.87962566103423978

# A standard normal truncated to [-2, 2]: values beyond are drawn again.
truncated_normal <- function(n) {
  z <- stats::rnorm(n)
  repeat {
    out <- which(abs(z) > 2)
    if (!length(out)) return(z)
    z[out] <- stats::rnorm(length(out))
  }
}

# keras' VarianceScaling, of which Glorot, He and LeCun are cases: weights
# of variance `scale / fan(shape)`, from a uniform, a normal, or a truncated
# normal whose standard deviation is rescaled to undo the cut. `config` is
# what get_config() gives.
new_variance_scaling <- function(class_name, config, scale, fan, distribution) {
  seed <- config$seed
  new_initializer(class_name, config, function(shape) {
    variance <- scale / max(1, fan(shape))
    n <- prod(shape)
    switch(distribution,
      uniform = with_seed(seed, stats::runif(n, -1, 1)) * sqrt(3 * variance),
      untruncated_normal = with_seed(seed, stats::rnorm(n)) * sqrt(variance),
      with_seed(seed, truncated_normal(n)) * (sqrt(variance) / TRUNCATED_NORMAL_SD))
  })
}

fan_avg <- function(shape) (fan_in(shape) + fan_out(shape)) / 2

#' Variance-scaling weight initializers: LeCun, Glorot and He
#'
#' Callable objects, as in keras: `initializer(shape)` gives a weight array
#' of that shape (a vector for one dimension), of mean 0 and a variance set
#' by the shape's fans. Layers take them, or their names (`"lecun_normal"`,
#' `"glorot_uniform"`, ...).
#'
#' | initializer | distribution | variance |
#' |---|---|---|
#' | `initializer_lecun_normal()` | truncated normal | \eqn{1 / \mathrm{fan\_in}}{1 / fan_in} |
#' | `initializer_lecun_uniform()` | uniform | \eqn{1 / \mathrm{fan\_in}}{1 / fan_in} |
#' | `initializer_glorot_normal()` | truncated normal | \eqn{2 / (\mathrm{fan\_in} + \mathrm{fan\_out})}{2 / (fan_in + fan_out)} |
#' | `initializer_glorot_uniform()` | uniform | \eqn{2 / (\mathrm{fan\_in} + \mathrm{fan\_out})}{2 / (fan_in + fan_out)} |
#' | `initializer_he_normal()` | truncated normal | \eqn{2 / \mathrm{fan\_in}}{2 / fan_in} |
#' | `initializer_he_uniform()` | uniform | \eqn{2 / \mathrm{fan\_in}}{2 / fan_in} |
#'
#' The uniform ones draw from \eqn{U(-l, l)} with \eqn{l = \sqrt{3 v}}{l =
#' sqrt(3 v)} for the variance \eqn{v}: \eqn{\sqrt{6 / (\mathrm{fan\_in} +
#' \mathrm{fan\_out})}}{sqrt(6 / (fan_in + fan_out))} for Glorot. The normal
#' ones draw a standard normal truncated to two standard deviations (values
#' beyond are drawn again) and scale it by \eqn{\sqrt{v} / 0.8796}{sqrt(v) /
#' 0.8796}, 0.87962566103423978 being the standard deviation of the
#' truncated standard normal, as keras does. LeCun normal is the
#' initialization of self-normalizing networks: with SELU it keeps
#' activations at mean 0 and variance 1.
#'
#' The fans are keras': for a vector, its length, in and out; for a matrix
#' (a dense kernel is inputs x units) `fan_in = shape[1]` and
#' `fan_out = shape[2]`; for higher ranks (convolution kernels, whose last
#' two dimensions are the input and output channels) `fan_in = shape[rank -
#' 1] * r` and `fan_out = shape[rank] * r`, with the receptive field \eqn{r =}
#' `prod(shape[1:(rank - 2)])`.
#'
#' With a `seed`, every call gives the same weights and leaves the
#' session's random stream (`.Random.seed`) as it was; without, it draws
#' from the session's stream, so `set.seed()` reproduces it.
#'
#' Weights are made from a shape alone, so a shape of more elements than the
#' option `selu.max_weight_elements` (by default \eqn{2^{30}}{2^30}, 8 GiB of
#' doubles) is an error, before anything is allocated: such a shape is
#' usually a mistake, e.g. `c(1e6, 1e6)`. Set the option higher for larger
#' weights.
#'
#' @param seed `NULL` or a whole number.
#' @return An initializer: a function of a shape (whole positive numbers),
#'   with a `get_config()`.
#' @references Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S.
#'   (2017). Self-Normalizing Neural Networks. *Advances in Neural Information
#'   Processing Systems 30*. \doi{10.48550/arXiv.1706.02515}
#'
#'   Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of
#'   training deep feedforward neural networks. *Proceedings of AISTATS*,
#'   249--256.
#'
#'   He, K., Zhang, X., Ren, S. and Sun, J. (2015). Delving Deep into
#'   Rectifiers. *Proceedings of ICCV*. \doi{10.48550/arXiv.1502.01852}
#' @family initializers
#' @export
#' @examples
#' init <- initializer_lecun_normal(seed = 1)
#' w <- init(c(784, 256))
#' dim(w)
#' sd(w) * sqrt(784)
#' identical(w, init(c(784, 256)))
#' # Glorot uniform: U(-l, l), l = sqrt(6 / (784 + 256))
#' range(initializer_glorot_uniform(seed = 1)(c(784, 256)))
#' sqrt(6 / (784 + 256))
#' # a convolution kernel: fan_in = 3 * 3 * 16
#' sd(initializer_he_normal(seed = 1)(c(3, 3, 16, 32))) * sqrt(3 * 3 * 16 / 2)
#' get_config(initializer_he_uniform(seed = 7))
initializer_lecun_normal <- function(seed = NULL) {
  seed <- check_seed(seed)
  new_variance_scaling("LecunNormal", list(seed = seed), 1, fan_in, "normal")
}

#' @rdname initializer_lecun_normal
#' @export
initializer_lecun_uniform <- function(seed = NULL) {
  seed <- check_seed(seed)
  new_variance_scaling("LecunUniform", list(seed = seed), 1, fan_in, "uniform")
}

#' @rdname initializer_lecun_normal
#' @export
initializer_glorot_normal <- function(seed = NULL) {
  seed <- check_seed(seed)
  new_variance_scaling("GlorotNormal", list(seed = seed), 1, fan_avg, "normal")
}

#' @rdname initializer_lecun_normal
#' @export
initializer_glorot_uniform <- function(seed = NULL) {
  seed <- check_seed(seed)
  new_variance_scaling("GlorotUniform", list(seed = seed), 1, fan_avg, "uniform")
}

#' @rdname initializer_lecun_normal
#' @export
initializer_he_normal <- function(seed = NULL) {
  seed <- check_seed(seed)
  new_variance_scaling("HeNormal", list(seed = seed), 2, fan_in, "normal")
}

#' @rdname initializer_lecun_normal
#' @export
initializer_he_uniform <- function(seed = NULL) {
  seed <- check_seed(seed)
  new_variance_scaling("HeUniform", list(seed = seed), 2, fan_in, "uniform")
}

#' The variance-scaling weight initializer in general
#'
#' keras' `VarianceScaling`, of which the LeCun, Glorot and He initializers
#' ([initializer_lecun_normal()] and the others) are cases: weights of mean
#' 0 and variance \eqn{v = \mathrm{scale} / n}{v = scale / n}, where
#' \eqn{n} is the fan of `mode` (at least 1):
#'
#' * `"fan_in"`: the inputs of a unit, `shape[1]` for a dense kernel;
#' * `"fan_out"`: the units, `shape[2]` for a dense kernel;
#' * `"fan_avg"`: the mean of the two.
#'
#' The fans are those of [initializer_lecun_normal()]. The `distribution`:
#'
#' * `"truncated_normal"`: a standard normal truncated to \eqn{[-2, 2]}
#'   (values beyond are drawn again), times \eqn{\sqrt{v} / 0.8796}{sqrt(v)
#'   / 0.8796}, which undoes the cut;
#' * `"normal"`: the same, as in keras, which reads and writes it as
#'   `"truncated_normal"` (so does this function's configuration);
#' * `"untruncated_normal"`: a normal of standard deviation \eqn{\sqrt{v}}{sqrt(v)};
#' * `"uniform"`: \eqn{U(-l, l)} with \eqn{l = \sqrt{3 v}}{l = sqrt(3 v)}.
#'
#' `initializer_variance_scaling(1, "fan_in", "truncated_normal")` draws
#' what [initializer_lecun_normal()] draws; model files of older keras and
#' of TensorFlow.js write the named initializers this way, and
#' [model_from_json()] reads them so.
#'
#' With a `seed`, every call gives the same weights and leaves the
#' session's random stream (`.Random.seed`) as it was; without, it draws
#' from the session's stream. See [initializer_lecun_normal()] for the
#' largest shape allowed.
#'
#' @param scale The factor of the variance: a single finite number above 0.
#' @param mode The fan: `"fan_in"`, `"fan_out"` or `"fan_avg"`.
#' @param distribution `"truncated_normal"`, `"normal"` (the same),
#'   `"untruncated_normal"` or `"uniform"`.
#' @inheritParams initializer_lecun_normal
#' @inherit initializer_lecun_normal return
#' @family initializers
#' @export
#' @examples
#' init <- initializer_variance_scaling(scale = 2, mode = "fan_out",
#'                                      distribution = "uniform", seed = 1)
#' w <- init(c(100, 50))
#' range(w)
#' sqrt(3 * 2 / 50)
#' get_config(initializer_variance_scaling(distribution = "normal"))
#' # LeCun normal, as keras 2.2 wrote it
#' identical(initializer_variance_scaling(seed = 3)(c(4, 2)),
#'           initializer_lecun_normal(seed = 3)(c(4, 2)))
initializer_variance_scaling <- function(scale = 1, mode = "fan_in",
                                         distribution = "truncated_normal", seed = NULL) {
  call <- sys.call()
  scale <- check_finite_number(scale, "scale", min = 0, above = TRUE, call = call)
  mode <- check_choice(mode, "mode", names(variance_fans), call)
  distribution <- check_choice(distribution, "distribution",
                               c("truncated_normal", "normal", "untruncated_normal", "uniform"),
                               call)
  if (distribution == "normal") distribution <- "truncated_normal"
  seed <- check_seed(seed, call)
  new_variance_scaling("VarianceScaling", list(scale = scale, mode = mode,
                                               distribution = distribution, seed = seed),
                       scale, variance_fans[[mode]], distribution)
}

variance_fans <- list(fan_in = function(shape) fan_in(shape),
                      fan_out = function(shape) fan_out(shape),
                      fan_avg = function(shape) fan_avg(shape))

check_choice <- function(x, arg, choices, call) {
  if (!(is.character(x) && length(x) == 1 && !is.na(x) && x %in% choices)) {
    selu_abort(sprintf("`%s` must be one of %s, not %s.", arg,
                       paste0("\"", choices, "\"", collapse = ", "), describe(x)), call = call)
  }
  as.vector(x)
}

#' The identity weight initializer
#'
#' keras' `Identity`: `initializer(shape)` gives `gain` times the identity
#' matrix of that shape, which must be a matrix (two dimensions); a
#' rectangular one has ones on its leading diagonal.
#'
#' @param gain The factor: a single finite number.
#' @inherit initializer_lecun_normal return
#' @family initializers
#' @export
#' @examples
#' initializer_identity()(c(3, 3))
#' initializer_identity(gain = 2)(c(2, 4))
initializer_identity <- function(gain = 1) {
  gain <- check_finite_number(gain, "gain", call = sys.call())
  new_initializer("Identity", list(gain = gain), function(shape) {
    if (length(shape) != 2) {
      selu_abort(sprintf("`shape` must have two dimensions for an identity initializer, not %s.",
                         format_dims(shape)), call = NULL)
    }
    w <- matrix(0, shape[1], shape[2])
    diag(w) <- gain
    w
  })
}

#' Random weight initializers of fixed parameters
#'
#' Callable objects, as in keras: `initializer(shape)` gives a weight array
#' of that shape (a vector for one dimension).
#'
#' * `initializer_random_normal()`: a normal distribution of mean `mean` and
#'   standard deviation `stddev`.
#' * `initializer_random_uniform()`: a uniform distribution from `minval` to
#'   `maxval`.
#' * `initializer_truncated_normal()`: `mean + stddev * z`, `z` a standard
#'   normal truncated to \eqn{[-2, 2]} (values beyond are drawn again), so
#'   every weight is within two `stddev` of `mean` and the standard
#'   deviation of the weights is \eqn{0.8796} `stddev`, as in keras.
#'
#' With a `seed`, every call gives the same weights and leaves the
#' session's random stream (`.Random.seed`) as it was; without, it draws
#' from the session's stream. See [initializer_lecun_normal()] for the
#' largest shape allowed.
#'
#' @param mean The mean: a single finite number.
#' @param stddev The standard deviation: a single finite number above 0.
#' @param minval,maxval The bounds: single finite numbers, `minval` below
#'   `maxval`.
#' @inheritParams initializer_lecun_normal
#' @inherit initializer_lecun_normal return
#' @family initializers
#' @export
#' @examples
#' w <- initializer_random_normal(mean = 1, stddev = 0.1, seed = 1)(c(100, 100))
#' c(mean(w), sd(w))
#' range(initializer_random_uniform(-1, 1, seed = 1)(1000))
#' range(initializer_truncated_normal(stddev = 0.5, seed = 1)(1000))
initializer_random_normal <- function(mean = 0, stddev = 0.05, seed = NULL) {
  mean <- check_finite_number(mean, "mean")
  stddev <- check_finite_number(stddev, "stddev", min = 0, above = TRUE)
  seed <- check_seed(seed)
  new_initializer("RandomNormal", list(mean = mean, stddev = stddev, seed = seed),
                  function(shape) mean + stddev * with_seed(seed, stats::rnorm(prod(shape))))
}

#' @rdname initializer_random_normal
#' @export
initializer_random_uniform <- function(minval = -0.05, maxval = 0.05, seed = NULL) {
  minval <- check_finite_number(minval, "minval")
  maxval <- check_finite_number(maxval, "maxval")
  if (!(minval < maxval)) {
    selu_abort(sprintf("`minval` (%s) must be below `maxval` (%s).", format(minval),
                       format(maxval)), call = sys.call())
  }
  seed <- check_seed(seed)
  # from the midpoint, so that bounds such as -1e308 and 1e308 do not overflow
  middle <- minval / 2 + maxval / 2
  half_width <- maxval / 2 - minval / 2
  new_initializer("RandomUniform", list(minval = minval, maxval = maxval, seed = seed),
                  function(shape) {
                    middle + half_width * with_seed(seed, stats::runif(prod(shape), -1, 1))
                  })
}

#' @rdname initializer_random_normal
#' @export
initializer_truncated_normal <- function(mean = 0, stddev = 0.05, seed = NULL) {
  mean <- check_finite_number(mean, "mean")
  stddev <- check_finite_number(stddev, "stddev", min = 0, above = TRUE)
  seed <- check_seed(seed)
  new_initializer("TruncatedNormal", list(mean = mean, stddev = stddev, seed = seed),
                  function(shape) mean + stddev * with_seed(seed, truncated_normal(prod(shape))))
}

#' Orthogonal weight initializer
#'
#' keras' `Orthogonal`: `initializer(shape)` gives weights whose columns
#' (along the last dimension) are orthonormal, times `gain`, from the QR
#' decomposition of a matrix of standard normal draws. The shape is taken as
#' a matrix of `prod(shape[-rank])` rows and `shape[rank]` columns; when it
#' has fewer rows than columns, its rows are orthonormal instead (the QR
#' decomposition is of the transpose). As in keras, the columns of \eqn{Q}
#' are multiplied by the signs of the diagonal of \eqn{R}, which makes the
#' result uniformly distributed over orthogonal matrices.
#'
#' keras refuses a vector shape; here a vector is a single row: a random
#' unit vector times `gain`.
#'
#' With a `seed`, every call gives the same weights and leaves the
#' session's random stream (`.Random.seed`) as it was; without, it draws
#' from the session's stream. See [initializer_lecun_normal()] for the
#' largest shape allowed.
#'
#' @param gain The factor: a single finite number.
#' @inheritParams initializer_lecun_normal
#' @inherit initializer_lecun_normal return
#' @references Saxe, A. M., McClelland, J. L. and Ganguli, S. (2014). Exact
#'   solutions to the nonlinear dynamics of learning in deep linear neural
#'   networks. *ICLR*. \doi{10.48550/arXiv.1312.6120}
#' @family initializers
#' @export
#' @examples
#' w <- initializer_orthogonal(seed = 1)(c(5, 3))
#' round(crossprod(w), 12)
#' wide <- initializer_orthogonal(gain = 2, seed = 1)(c(3, 5))
#' round(tcrossprod(wide), 12)
initializer_orthogonal <- function(gain = 1, seed = NULL) {
  gain <- check_finite_number(gain, "gain")
  seed <- check_seed(seed)
  new_initializer("Orthogonal", list(gain = gain, seed = seed), function(shape) {
    rank <- length(shape)
    rows <- prod(shape[-rank])
    cols <- as.double(shape[rank])
    normal <- with_seed(seed, stats::rnorm(rows * cols))
    decomposition <- qr(matrix(normal, max(rows, cols), min(rows, cols)))
    q <- qr.Q(decomposition)
    # keras multiplies by sign(diag(R)); a zero diagonal (probability 0) keeps its column
    signs <- ifelse(diag(qr.R(decomposition)) < 0, -1, 1)
    q <- q * rep(signs, each = nrow(q))
    if (rows < cols) q <- t(q)
    gain * as.vector(q)
  })
}

#' Constant weight initializers
#'
#' Callable objects, as in keras: `initializer(shape)` gives a weight array
#' of that shape (a vector for one dimension) filled with 0
#' (`initializer_zeros()`), 1 (`initializer_ones()`) or `value`
#' (`initializer_constant()`).
#'
#' @param value The constant.
#' @param ... Not used; an error if given.
#' @inherit initializer_lecun_normal return
#' @family initializers
#' @export
#' @examples
#' initializer_zeros()(3)
#' initializer_ones()(c(2, 2))
#' initializer_constant(0.25)(c(2, 2))
initializer_zeros <- function(...) {
  check_empty_dots(list(...))
  new_initializer("Zeros", list(), function(shape) rep(0, prod(shape)))
}

#' @rdname initializer_zeros
#' @export
initializer_ones <- function(...) {
  check_empty_dots(list(...))
  new_initializer("Ones", list(), function(shape) rep(1, prod(shape)))
}

#' @rdname initializer_zeros
#' @export
initializer_constant <- function(value = 0) {
  value <- check_number(value, "value")
  new_initializer("Constant", list(value = value), function(shape) rep(value, prod(shape)))
}

named_initializers <- list(
  glorot_uniform = initializer_glorot_uniform, glorot_normal = initializer_glorot_normal,
  he_uniform = initializer_he_uniform, he_normal = initializer_he_normal,
  lecun_uniform = initializer_lecun_uniform, lecun_normal = initializer_lecun_normal,
  random_normal = initializer_random_normal, random_uniform = initializer_random_uniform,
  truncated_normal = initializer_truncated_normal, orthogonal = initializer_orthogonal,
  zeros = initializer_zeros, ones = initializer_ones, constant = initializer_constant,
  variance_scaling = initializer_variance_scaling, identity = initializer_identity
)

as_initializer <- function(x, arg, call) {
  if (is_initializer(x)) return(x)
  if (is_name_of(x, named_initializers)) return(named_initializers[[x]]())
  selu_abort(sprintf("`%s` must be an initializer or one of %s, not %s.", arg,
                     quoted_names(named_initializers), describe(x)), call = call)
}

is_name_of <- function(x, table) {
  is.character(x) && length(x) == 1 && !is.na(x) && x %in% names(table)
}

quoted_names <- function(table) paste0("\"", names(table), "\"", collapse = ", ")

# keras class names: the function and the configuration keys it takes.
initializer_builders <- list(
  GlorotUniform = list(initializer_glorot_uniform, "seed"),
  GlorotNormal = list(initializer_glorot_normal, "seed"),
  HeUniform = list(initializer_he_uniform, "seed"),
  HeNormal = list(initializer_he_normal, "seed"),
  LecunUniform = list(initializer_lecun_uniform, "seed"),
  LecunNormal = list(initializer_lecun_normal, "seed"),
  RandomNormal = list(initializer_random_normal, c("mean", "stddev", "seed")),
  RandomUniform = list(initializer_random_uniform, c("minval", "maxval", "seed")),
  TruncatedNormal = list(initializer_truncated_normal, c("mean", "stddev", "seed")),
  Orthogonal = list(initializer_orthogonal, c("gain", "seed")),
  Zeros = list(initializer_zeros, character(0)),
  Ones = list(initializer_ones, character(0)),
  Constant = list(initializer_constant, "value"),
  VarianceScaling = list(initializer_variance_scaling, c("scale", "mode", "distribution", "seed")),
  Identity = list(initializer_identity, "gain")
)

# TensorFlow.js's spellings of keras's classes, and the names keras 2 also
# takes as class names.
initializer_aliases <- c(LeCunNormal = "LecunNormal", LeCunUniform = "LecunUniform",
                         Zero = "Zeros", One = "Ones", zeros = "Zeros", ones = "Ones",
                         zero = "Zeros", one = "Ones", constant = "Constant",
                         uniform = "RandomUniform", normal = "RandomNormal",
                         random_uniform = "RandomUniform", random_normal = "RandomNormal",
                         truncated_normal = "TruncatedNormal", orthogonal = "Orthogonal",
                         identity = "Identity", variance_scaling = "VarianceScaling",
                         glorot_uniform = "GlorotUniform", glorot_normal = "GlorotNormal",
                         he_uniform = "HeUniform", he_normal = "HeNormal",
                         lecun_uniform = "LecunUniform", lecun_normal = "LecunNormal")

initializer_from_config <- function(config, call = sys.call()) {
  # keras also takes a name where it takes an initializer
  if (is.character(config) && length(config) == 1 && !is.na(config) && !is.object(config)) {
    config <- structure(list(), class_name = config)
  }
  class_name <- attr(config, "class_name")
  if (is.character(class_name) && length(class_name) == 1 && !is.na(class_name) &&
      class_name %in% names(initializer_aliases)) {
    attr(config, "class_name") <- initializer_aliases[[class_name]]
  }
  rebuild_from_config(config, initializer_builders, "an initializer", call)
}

# An initializer, regularizer or constraint from its get_config(), by the
# builders of its kind (keras class name -> list(function, keys)).
rebuild_from_config <- function(config, builders, what, call) {
  class_name <- attr(config, "class_name")
  if (is.list(config) && !is.object(config) && is.character(class_name) &&
      length(class_name) == 1 && !is.na(class_name) && !class_name %in% names(builders)) {
    selu_abort(sprintf(paste(
      "`config` must be the configuration of %s selu has, not of the class \"%s\";",
      "selu has %s."), what, class_name, quoted_names(builders)), call = call)
  }
  if (!(is.list(config) && !is.object(config) && is.character(class_name) &&
        length(class_name) == 1 && !is.na(class_name) && class_name %in% names(builders))) {
    selu_abort(sprintf(paste(
      "`config` must be the configuration of %s from get_config(): a list with",
      "the attribute \"class_name\" one of %s, not %s."),
      what, quoted_names(builders), describe(config)), call = call)
  }
  builder <- builders[[class_name]]
  args <- if (length(config)) config_args(config, builder[[2]], call = call) else list()
  do.call(builder[[1]], args, quote = TRUE)
}
