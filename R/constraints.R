# Constraints: callable objects that project weights after each update.

new_constraint <- function(class_name, config) {
  constraint <- function(w) {
    if (missing(w)) abort_missing("w", numeric_data_expected)
    check_numeric_data(w, "w", call = sys.call())
    storage.mode(w) <- "double"
    if (!length(w)) return(w)
    # the engine's projection (src/optim.c), as training applies it
    spec <- constraint_spec(class_name, config, data_shape(w), call = sys.call())
    bounds <- c(spec$max_value, spec$min_value, spec$rate)
    if (is.null(bounds)) bounds <- c(0, 0, 1)
    n_groups <- if (is.null(spec$n_groups)) 1L else spec$n_groups
    keep_attributes(.Call(C_selu_constrain, spec$constraint, bounds, spec$groups, n_groups, w), w)
  }
  structure(constraint, class = "selu_constraint", class_name = class_name, config = config)
}

is_constraint <- function(x) {
  inherits(x, "selu_constraint") && is.function(x) &&
    is.character(attr(x, "class_name")) && is.list(attr(x, "config"))
}

check_norm_axis <- function(axis, call = sys.call(-1)) {
  if (!(length(axis) >= 1 && is_whole(axis) && all(axis != 0) &&
        all(abs(axis) <= .Machine$integer.max) && !anyDuplicated(axis))) {
    selu_abort(sprintf("`axis` must be whole numbers other than 0, none repeated, not %s.",
                       describe(axis)), call = call)
  }
  as.integer(axis)
}

#' Weight constraints
#'
#' Callable objects, as in keras: `constraint(w)` gives the weights `w`
#' projected onto the constraint, of the same shape; training applies it
#' after each update. With the norms \eqn{n} of `w` over `axis` and
#' \eqn{\epsilon = 10^{-7}}{epsilon = 1e-7} (keras' backend epsilon):
#'
#' * `constraint_maxnorm()`: \eqn{w \min(n, m) / (\epsilon + n)}{w * min(n,
#'   m) / (epsilon + n)}, \eqn{m} = `max_value`: norms above `max_value` are
#'   scaled down to it.
#' * `constraint_nonneg()`: negative weights become 0. (keras multiplies by
#'   `w >= 0`, which makes `-Inf` `NaN`; here it is 0 too.)
#' * `constraint_unitnorm()`: \eqn{w / (\epsilon + n)}{w / (epsilon + n)}.
#' * `constraint_minmaxnorm()`: \eqn{w d / (\epsilon + n)}{w * d / (epsilon
#'   + n)} with \eqn{d = r \, \mathrm{clip}(n, a, b) + (1 - r) n}{d = r *
#'   clip(n, a, b) + (1 - r) * n}, \eqn{a} = `min_value`, \eqn{b} =
#'   `max_value`, \eqn{r} = `rate`: `rate = 1` enforces the bounds, a
#'   smaller rate moves the norms toward them.
#'
#' Axes count R's dimensions from 1, and negative axes count from the end.
#' The default `axis = 1` takes the norm of each column: for a dense kernel
#' of shape (inputs, units), the incoming weights of each unit (keras in
#' Python writes `axis = 0`). For a convolution kernel (rows, columns, input
#' channels, filters), `axis = 1:3` takes the norm of each filter. For a
#' vector (a bias), `axis = 1` is the whole vector. An axis out of range for
#' the weights is an error when the constraint is applied.
#'
#' @param max_value,min_value The bounds of the norms: single finite numbers
#'   of at least 0, `min_value` not above `max_value`.
#' @param rate How far toward the bounds the norms move: a single number
#'   from 0 to 1.
#' @param axis The axes over which norms are taken: whole numbers, not 0,
#'   none repeated.
#' @param ... Not used; an error if given.
#' @return A constraint: a function of a numeric array `w` giving a double
#'   array of its shape, with a `get_config()`.
#' @family constraints
#' @export
#' @examples
#' w <- cbind(c(0, 4), c(0.6, 0.8))
#' constraint_maxnorm(2)(w)
#' constraint_unitnorm()(w)
#' constraint_nonneg()(c(-1, 0.5))
#' constraint_minmaxnorm(min_value = 1.5, max_value = 2)(w)
#' get_config(constraint_maxnorm(3, axis = 1:3))
constraint_maxnorm <- function(max_value = 2, axis = 1) {
  max_value <- check_finite_number(max_value, "max_value", min = 0)
  axis <- check_norm_axis(axis)
  new_constraint("MaxNorm", list(max_value = max_value, axis = axis))
}

#' @rdname constraint_maxnorm
#' @export
constraint_nonneg <- function(...) {
  check_empty_dots(list(...))
  new_constraint("NonNeg", list())
}

#' @rdname constraint_maxnorm
#' @export
constraint_unitnorm <- function(axis = 1) {
  axis <- check_norm_axis(axis)
  new_constraint("UnitNorm", list(axis = axis))
}

#' @rdname constraint_maxnorm
#' @export
constraint_minmaxnorm <- function(min_value = 0, max_value = 1, rate = 1, axis = 1) {
  min_value <- check_finite_number(min_value, "min_value", min = 0)
  max_value <- check_finite_number(max_value, "max_value", min = 0)
  if (min_value > max_value) {
    selu_abort(sprintf("`min_value` (%s) must not be above `max_value` (%s).",
                       format(min_value), format(max_value)), call = sys.call())
  }
  rate <- check_finite_number(rate, "rate", min = 0, max = 1)
  axis <- check_norm_axis(axis)
  config <- list(min_value = min_value, max_value = max_value, rate = rate, axis = axis)
  new_constraint("MinMaxNorm", config)
}

#' @export
print.selu_constraint <- function(x, ...) print_configured(x, "constraint")

#' @export
get_config.selu_constraint <- function(object, ...) {
  if (!is_constraint(object)) check_layer_or_model(object, call = sys.call())
  check_empty_dots(list(...))
  structure(attr(object, "config"), class_name = attr(object, "class_name"))
}

named_constraints <- list(
  max_norm = constraint_maxnorm, maxnorm = constraint_maxnorm,
  non_neg = constraint_nonneg, nonneg = constraint_nonneg,
  unit_norm = constraint_unitnorm, unitnorm = constraint_unitnorm,
  min_max_norm = constraint_minmaxnorm
)

as_constraint <- function(x, arg, call) {
  if (is.null(x) || is_constraint(x)) return(x)
  if (is_name_of(x, named_constraints)) return(named_constraints[[x]]())
  selu_abort(sprintf("`%s` must be NULL, a constraint or one of %s, not %s.", arg,
                     quoted_names(named_constraints), describe(x)), call = call)
}

constraint_builders <- list(
  MaxNorm = list(constraint_maxnorm, c("max_value", "axis")),
  NonNeg = list(constraint_nonneg, character(0)),
  UnitNorm = list(constraint_unitnorm, "axis"),
  MinMaxNorm = list(constraint_minmaxnorm, c("min_value", "max_value", "rate", "axis"))
)

# NULL, a layer's configuration for no constraint, gives NULL.
constraint_from_config <- function(config, call = sys.call()) {
  if (is.null(config)) return(NULL)
  rebuild_from_config(config, constraint_builders, "a constraint", call)
}
