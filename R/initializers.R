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

#' @export
print.selu_initializer <- function(x, ...) {
  config <- attr(x, "config")
  args <- if (length(config)) {
    paste(names(config), vapply(config, format_config_value, ""), sep = " = ", collapse = ", ")
  } else ""
  cat(sprintf("<initializer %s>(%s)\n", attr(x, "class_name"), args))
  invisible(x)
}

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

# keras' fans: rank 1 and 2 take the first dimension as fan in; higher ranks
# (convolution kernels) multiply it by the receptive field.
fan_in <- function(shape) {
  rank <- length(shape)
  if (rank <= 2) return(shape[1])
  shape[rank - 1] * prod(shape[seq_len(rank - 2)])
}

# The standard deviation of a standard normal truncated to [-2, 2].
TRUNCATED_NORMAL_SD <- 0.87962566103423978

#' Weight initializers
#'
#' Callable objects, as in keras: `initializer(shape)` gives a weight array
#' of that shape (a vector for one dimension). Layers take them, or their
#' names (`"lecun_normal"`, `"zeros"`, `"ones"`).
#'
#' * `initializer_lecun_normal()`: a normal distribution of mean 0 and
#'   standard deviation \eqn{\sqrt{1 / \mathrm{fan\_in}} / 0.8796}, truncated
#'   to two standard deviations (values beyond are drawn again), keras'
#'   `LecunNormal`: with SELU it keeps activations at mean 0 and variance 1.
#'   `fan_in` is the first dimension for rank 1 and 2 (a dense kernel is
#'   inputs x units) and `shape[rank - 1] * prod(shape[1:(rank - 2)])` for
#'   higher ranks. With a `seed`, every call gives the same weights and
#'   leaves the session's random stream (`.Random.seed`) as it was; without,
#'   it draws from the session's stream.
#' * `initializer_zeros()`, `initializer_ones()`, `initializer_constant()`.
#'
#' Weights are made from a shape alone, so a shape of more elements than the
#' option `selu.max_weight_elements` (by default \eqn{2^{30}}{2^30}, 8 GiB of
#' doubles) is an error, before anything is allocated: such a shape is
#' usually a mistake, e.g. `c(1e6, 1e6)`. Set the option higher for larger
#' weights.
#'
#' @param seed `NULL` or a whole number.
#' @param value The constant.
#' @param ... Not used; an error if given.
#' @return An initializer: a function of a shape (whole positive numbers),
#'   with a `get_config()`.
#' @references Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S.
#'   (2017). Self-Normalizing Neural Networks. *Advances in Neural Information
#'   Processing Systems 30*. \doi{10.48550/arXiv.1706.02515}
#' @family initializers
#' @export
#' @examples
#' init <- initializer_lecun_normal(seed = 1)
#' w <- init(c(784, 256))
#' dim(w)
#' sd(w) * sqrt(784)
#' identical(w, init(c(784, 256)))
#' initializer_zeros()(3)
#' initializer_constant(0.25)(c(2, 2))
initializer_lecun_normal <- function(seed = NULL) {
  seed <- check_seed(seed)
  new_initializer("LecunNormal", list(seed = seed), function(shape) {
    sd <- sqrt(1 / fan_in(shape)) / TRUNCATED_NORMAL_SD
    with_seed(seed, truncated_normal(prod(shape))) * sd
  })
}

truncated_normal <- function(n) {
  z <- stats::rnorm(n)
  repeat {
    out <- which(abs(z) > 2)
    if (!length(out)) return(z)
    z[out] <- stats::rnorm(length(out))
  }
}

#' @rdname initializer_lecun_normal
#' @export
initializer_zeros <- function(...) {
  check_empty_dots(list(...))
  new_initializer("Zeros", list(), function(shape) rep(0, prod(shape)))
}

#' @rdname initializer_lecun_normal
#' @export
initializer_ones <- function(...) {
  check_empty_dots(list(...))
  new_initializer("Ones", list(), function(shape) rep(1, prod(shape)))
}

#' @rdname initializer_lecun_normal
#' @export
initializer_constant <- function(value = 0) {
  value <- check_number(value, "value")
  new_initializer("Constant", list(value = value), function(shape) rep(value, prod(shape)))
}

named_initializers <- list(lecun_normal = initializer_lecun_normal, zeros = initializer_zeros,
                           ones = initializer_ones)

as_initializer <- function(x, arg, call) {
  if (is_initializer(x)) return(x)
  if (is.character(x) && length(x) == 1 && !is.na(x) && x %in% names(named_initializers)) {
    return(named_initializers[[x]]())
  }
  selu_abort(sprintf("`%s` must be an initializer or one of %s, not %s.", arg,
                     paste0("\"", names(named_initializers), "\"", collapse = ", "),
                     describe(x)), call = call)
}
