# Regularizers: callable objects that give a weight penalty added to the loss.

new_regularizer <- function(class_name, config) {
  factors <- penalty_factors(config)
  regularizer <- function(w) {
    if (missing(w)) abort_missing("w", numeric_data_expected)
    check_numeric_data(w, "w", call = sys.call())
    # the engine's penalty (src/optim.c), as training adds it to the loss
    .Call(C_selu_penalty, unname(factors), as.double(w), FALSE)
  }
  structure(regularizer, class = "selu_regularizer", class_name = class_name, config = config)
}

is_regularizer <- function(x) {
  inherits(x, "selu_regularizer") && is.function(x) &&
    is.character(attr(x, "class_name")) && is.list(attr(x, "config"))
}

# The L1 and L2 factors of a configuration, 0 for the term it does not have.
penalty_factors <- function(config) {
  factors <- c(l1 = 0, l2 = 0)
  factors[names(config)] <- unlist(config)
  factors
}

#' Weight regularizers
#'
#' Callable objects, as in keras: `regularizer(w)` gives the penalty of the
#' weights `w`, which training adds to the loss:
#' \deqn{\ell_1 \sum |w| + \ell_2 \sum w^2.}{l1 * sum(abs(w)) + l2 * sum(w^2).}
#' `regularizer_l1()` has only the first term, `regularizer_l2()` only the
#' second, `regularizer_l1_l2()` both. Layers take them, or their names
#' (`"l1"`, `"l2"`, `"l1_l2"`, with the default factors).
#'
#' @param l,l1,l2 The factors: single finite numbers of at least 0.
#' @return A regularizer: a function of a numeric array `w` giving a single
#'   number, with a `get_config()`.
#' @family regularizers
#' @export
#' @examples
#' w <- matrix(c(-2, -0.5, 0.5, 2), 2, 2)
#' regularizer_l1(0.1)(w)
#' regularizer_l2(0.1)(w)
#' regularizer_l1_l2(l1 = 0.1, l2 = 0.1)(w)
#' get_config(regularizer_l1_l2())
regularizer_l1 <- function(l = 0.01) {
  l <- check_finite_number(l, "l", min = 0)
  new_regularizer("L1", list(l1 = l))
}

#' @rdname regularizer_l1
#' @export
regularizer_l2 <- function(l = 0.01) {
  l <- check_finite_number(l, "l", min = 0)
  new_regularizer("L2", list(l2 = l))
}

#' @rdname regularizer_l1
#' @export
regularizer_l1_l2 <- function(l1 = 0.01, l2 = 0.01) {
  l1 <- check_finite_number(l1, "l1", min = 0)
  l2 <- check_finite_number(l2, "l2", min = 0)
  new_regularizer("L1L2", list(l1 = l1, l2 = l2))
}

# The gradient of the penalty with respect to `w`, of w's shape: the
# subgradient sign(w) for the L1 term, 0 at 0.
regularizer_gradient <- function(regularizer, w) {
  factors <- penalty_factors(attr(regularizer, "config"))
  keep_attributes(.Call(C_selu_penalty, unname(factors), as.double(w), TRUE), w)
}

#' @export
print.selu_regularizer <- function(x, ...) print_configured(x, "regularizer")

#' @export
get_config.selu_regularizer <- function(object, ...) {
  if (!is_regularizer(object)) check_layer_or_model(object, call = sys.call())
  check_empty_dots(list(...))
  structure(attr(object, "config"), class_name = attr(object, "class_name"))
}

named_regularizers <- list(l1 = regularizer_l1, l2 = regularizer_l2, l1_l2 = regularizer_l1_l2)

as_regularizer <- function(x, arg, call) {
  if (is.null(x) || is_regularizer(x)) return(x)
  if (is_name_of(x, named_regularizers)) return(named_regularizers[[x]]())
  selu_abort(sprintf("`%s` must be NULL, a regularizer or one of %s, not %s.", arg,
                     quoted_names(named_regularizers), describe(x)), call = call)
}

regularizer_builders <- list(
  L1 = list(function(l1 = 0.01) regularizer_l1(l1), "l1"),
  L2 = list(function(l2 = 0.01) regularizer_l2(l2), "l2"),
  L1L2 = list(regularizer_l1_l2, c("l1", "l2"))
)

# NULL, a layer's configuration for no regularizer, gives NULL.
regularizer_from_config <- function(config, call = sys.call()) {
  if (is.null(config)) return(NULL)
  rebuild_from_config(config, regularizer_builders, "a regularizer", call)
}
