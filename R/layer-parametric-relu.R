#' Parametric ReLU layer
#'
#' keras' `PReLU` layer: \eqn{x} for \eqn{x \ge 0}, \eqn{\alpha x} otherwise,
#' with a trainable \eqn{\alpha} of the shape of one sample (the input
#' without its batch axis), of size 1 along each of `shared_axes`. The only
#' layer of the family with weights: `get_weights()` gives `list(alpha)`,
#' `count_params()` and `summary()` count it, and `weights = list(alpha)`
#' sets it when the layer is built (when it learns its input shape).
#'
#' Axes count R's dimensions from 1, the batch axis being 1, so for input of
#' shape (batch, height, width, channels), `shared_axes = c(2, 3)` shares
#' \eqn{\alpha} over height and width (keras in Python writes `[1, 2]`).
#' Negative axes count from the end.
#'
#' @inheritParams layer_activation_selu
#' @param alpha_initializer An initializer (see [initializer_lecun_normal()])
#'   or a name: `"zeros"` (the default), `"ones"`, `"lecun_normal"`.
#' @param alpha_regularizer,alpha_constraint `NULL`, or a regularizer
#'   ([regularizer_l2()], ...) and a constraint ([constraint_nonneg()], ...)
#'   that [fit()] applies to alpha.
#' @param shared_axes `NULL` or whole numbers: the axes (not the batch axis,
#'   1) along which \eqn{\alpha} is shared.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object`.
#' @family activation layers
#' @export
#' @examples
#' x <- array(rnorm(24), c(2, 3, 4))
#' prelu <- layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.1),
#'                                           shared_axes = 2)
#' y <- prelu(x)
#' dim(get_weights(prelu)[[1]])
#' count_params(prelu)
layer_activation_parametric_relu <- function(object, alpha_initializer = "zeros",
                                             alpha_regularizer = NULL, alpha_constraint = NULL,
                                             shared_axes = NULL, input_shape = NULL,
                                             batch_input_shape = NULL, batch_size = NULL,
                                             dtype = NULL, name = NULL, trainable = NULL,
                                             weights = NULL) {
  call <- sys.call()
  initializer <- as_initializer(alpha_initializer, "alpha_initializer", call)
  regularizer <- as_regularizer(alpha_regularizer, "alpha_regularizer", call)
  constraint <- as_constraint(alpha_constraint, "alpha_constraint", call)
  if (!is.null(shared_axes) && !(is_whole(shared_axes) && length(shared_axes) >= 1 &&
                                 all(shared_axes != 0))) {
    selu_abort(sprintf("`shared_axes` must be NULL or whole numbers other than 0, not %s.",
                       describe(shared_axes)), call = call)
  }
  layer <- do.call(create_layer, c(list("PReLU", "p_re_lu"), common_args(), list(
    build = function(self, shape, call, what) {
      alpha_shape <- prelu_alpha_shape(shape, shared_axes, call, what)
      self$weights <- list(alpha = initializer(alpha_shape))
      # as keras' input_spec: later inputs must fit alpha
      self$input_spec <- c(NA, ifelse(alpha_shape == 1, NA, alpha_shape))
    },
    config = list(alpha_initializer = get_config(initializer),
                  alpha_regularizer = config_or_null(regularizer),
                  alpha_constraint = config_or_null(constraint), shared_axes = shared_axes),
    n_weights = 1L, call = call
  )), quote = TRUE)
  self <- layer_state(layer)
  self$regularizers <- list(alpha = regularizer)
  self$constraints <- list(alpha = constraint)
  finish_layer(missing(object), object, layer, call)
}

# alpha's shape for an input shape: one sample, 1 along the shared axes.
# `what` names what has the input shape, e.g. "`input_shape`".
prelu_alpha_shape <- function(shape, shared_axes, call, what = "its input") {
  rank <- length(shape)
  if (rank < 2) {
    selu_abort(sprintf(
      "A PReLU layer needs input with a batch axis and at least one more, but %s has shape %s.",
      what, format_shape(shape)), kind = "shape", call = call)
  }
  sample <- shape[-1]
  for (axis in shared_axes) {
    axis <- check_axis(axis, rank, "shared_axes", call = call)
    if (axis == 1) {
      selu_abort("`shared_axes` cannot hold the batch axis, 1.", call = call)
    }
    sample[axis - 1] <- 1L
  }
  if (any(sample == 0, na.rm = TRUE)) {
    selu_abort(sprintf(
      "A PReLU layer needs input with no empty dimension but the batch axis, but %s has shape %s.",
      what, format_shape(shape)), kind = "shape", call = call)
  }
  if (anyNA(sample)) {
    selu_abort(sprintf(
      "A PReLU layer needs every dimension of its input but the batch axis known, but %s has shape %s.",
      what, format_shape(shape)), kind = "shape", call = call)
  }
  check_weight_size(sample, sprintf("The alpha of a PReLU layer for %s", what), call = call)
  sample
}

prelu_from_config <- function(config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape",
                                "alpha_initializer", "alpha_regularizer", "alpha_constraint",
                                "shared_axes"), call = call)
  args$alpha_initializer <- initializer_from_config(args$alpha_initializer, call)
  args$alpha_regularizer <- regularizer_from_config(args$alpha_regularizer, call)
  args$alpha_constraint <- constraint_from_config(args$alpha_constraint, call)
  do.call(layer_activation_parametric_relu, args, quote = TRUE)
}
