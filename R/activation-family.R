# The activation functions of the family besides SELU, and their gradients:
# thin wrappers over the C kernels.

# The exported functions call the C code themselves: it hands what it cannot
# take to check_forward_input() or check_backward_args(), whose errors then
# name the user's call, and a valid call pays for no check in R.
check_forward_input <- function(x, unused) check_numeric_data(x, "x", call = sys.call(-1))

check_backward_args <- function(x, grad_output) {
  call <- sys.call(-1)
  check_numeric_data(x, "x", call = call)
  check_gradient(grad_output, data_shape(x), call = call)
}

# The kernels for layers, their input already checked. params: a list of
# the kernel's parameters (see check_number()), or NULL for a kernel without.
run_kernel <- function(name, x, params = NULL, single = FALSE) {
  .Call(C_selu_activation_forward, name, x, params, single)
}

run_kernel_backward <- function(name, x, grad_output, params = NULL, single = FALSE) {
  .Call(C_selu_activation_backward, name, x, grad_output, params, single)
}

# One number, at least `min`. The kernels' parameters are checked in C, in
# the same way, which calls this on a value it cannot take, for the user's
# error.
check_number <- function(x, arg, min = -Inf, call = sys.call(-1)) {
  if (!(is.numeric(x) && !is.object(x) && length(x) == 1 && !is.na(x) && x >= min)) {
    bound <- if (min == -Inf) "" else sprintf(" of at least %g", min)
    selu_abort(sprintf("`%s` must be a single number%s, not %s.", arg, bound, describe(x)),
               call = call)
  }
  as.double(x)
}

#' The activation functions of the family, and their gradients
#'
#' Element by element, in C, on the same vectorized and threaded kernels as
#' [activation_selu()]; each `*_backward()` gives the gradient with respect
#' to `x` of a loss whose gradient with respect to the output is
#' `grad_output`, computed from `x`.
#'
#' * ELU: \eqn{x} for \eqn{x > 0}, \eqn{\alpha (e^x - 1)} otherwise (within
#'   1 ulp, as SELU).
#' * Leaky ReLU: \eqn{x} for \eqn{x \ge 0}, \eqn{\alpha x} otherwise.
#' * ReLU: `max_value` from `max_value` up, \eqn{x} from `threshold` up,
#'   `negative_slope * (x - threshold)` below.
#' * Thresholded ReLU: \eqn{x} where \eqn{x > \theta}, 0 elsewhere.
#' * Sigmoid: \eqn{1 / (1 + e^{-x})}{1 / (1 + exp(-x))}; tanh; linear (the
#'   identity). Sigmoid and tanh use the same double-double exponential as
#'   SELU, and their gradients come from the input (\eqn{e^{-|x|} / (1 +
#'   e^{-|x|})^2}{exp(-|x|) / (1 + exp(-|x|))^2}), so they stay right where
#'   the output has rounded to 1.
#'
#' `NA` stays `NA` and `NaN` stays `NaN`; the result has the shape, `dim`,
#' `dimnames` and `names` of `x`.
#'
#' @param x A numeric vector, matrix or array (integer and logical are
#'   converted to double).
#' @param grad_output The gradient with respect to the output: an array of
#'   the shape of `x`, or a single number.
#' @param alpha The slope (leaky ReLU) or the saturation value (ELU) for
#'   negative inputs: a single number.
#' @param max_value `NULL` (no cap) or a number, at least 0: the largest output.
#' @param negative_slope The slope below `threshold`, at least 0.
#' @param threshold The input from which ReLU is the identity, at least 0.
#' @param theta The threshold of the thresholded ReLU, at least 0.
#' @return A double array of the shape of `x`.
#' @family activations
#' @name activation_family
#' @examples
#' x <- c(-2, -0.5, 0, 0.5, 2)
#' activation_elu(x)
#' activation_leaky_relu(x, alpha = 0.1)
#' activation_relu(x, max_value = 1)
#' activation_thresholded_relu(x, theta = 0.5)
#' activation_sigmoid(x)
#' activation_tanh(x)
#' activation_elu_backward(x, 1)
NULL

#' @rdname activation_family
#' @export
activation_elu <- function(x, alpha = 1) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  .Call(C_selu_activation_forward, "elu", x, list(alpha), FALSE)
}

#' @rdname activation_family
#' @export
activation_elu_backward <- function(x, grad_output, alpha = 1) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_activation_backward, "elu", x, grad_output, list(alpha), FALSE)
}

#' @rdname activation_family
#' @export
activation_leaky_relu <- function(x, alpha = 0.3) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  .Call(C_selu_activation_forward, "leaky_relu", x, list(alpha), FALSE)
}

#' @rdname activation_family
#' @export
activation_leaky_relu_backward <- function(x, grad_output, alpha = 0.3) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_activation_backward, "leaky_relu", x, grad_output, list(alpha), FALSE)
}

#' @rdname activation_family
#' @export
activation_relu <- function(x, max_value = NULL, negative_slope = 0, threshold = 0) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  .Call(C_selu_activation_forward, "relu", x, list(max_value, negative_slope, threshold), FALSE)
}

#' @rdname activation_family
#' @export
activation_relu_backward <- function(x, grad_output, max_value = NULL, negative_slope = 0,
                                     threshold = 0) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_activation_backward, "relu", x, grad_output,
        list(max_value, negative_slope, threshold), FALSE)
}

#' @rdname activation_family
#' @export
activation_thresholded_relu <- function(x, theta = 1) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  .Call(C_selu_activation_forward, "thresholded_relu", x, list(theta), FALSE)
}

#' @rdname activation_family
#' @export
activation_thresholded_relu_backward <- function(x, grad_output, theta = 1) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_activation_backward, "thresholded_relu", x, grad_output, list(theta), FALSE)
}

#' @rdname activation_family
#' @export
activation_sigmoid <- function(x) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  .Call(C_selu_activation_forward, "sigmoid", x, NULL, FALSE)
}

#' @rdname activation_family
#' @export
activation_sigmoid_backward <- function(x, grad_output) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_activation_backward, "sigmoid", x, grad_output, NULL, FALSE)
}

#' @rdname activation_family
#' @export
activation_tanh <- function(x) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  .Call(C_selu_activation_forward, "tanh", x, NULL, FALSE)
}

#' @rdname activation_family
#' @export
activation_tanh_backward <- function(x, grad_output) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_activation_backward, "tanh", x, grad_output, NULL, FALSE)
}

#' @rdname activation_family
#' @export
activation_linear <- function(x) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  .Call(C_selu_activation_forward, "linear", x, NULL, FALSE)
}

#' @rdname activation_family
#' @export
activation_linear_backward <- function(x, grad_output) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_activation_backward, "linear", x, grad_output, NULL, FALSE)
}

#' Softmax along an axis
#'
#' \deqn{\mathrm{softmax}(x)_i = e^{x_i - m} / \sum_j e^{x_j - m}}{softmax(x)_i
#' = exp(x_i - m) / sum_j exp(x_j - m)} along `axis`, with \eqn{m} the
#' slice's maximum: no overflow for any input scale, and `-Inf` entries give
#' 0 (a slice that is all `-Inf` gives `NaN`). The C kernel works on many
#' slices side by side over contiguous memory, whichever the axis (short
#' slices along the first axis go through a small buffer for it), so the
#' last axis of a column-major R array is no slower than the first.
#'
#' Axes count R's dimensions from 1 (the batch axis of a layer's input is 1);
#' negative axes count from the end, so `-1` is the last. A vector is one
#' slice.
#'
#' @param x A numeric vector, matrix or array.
#' @param axis The axis: a whole number between `-length(dim(x))` and
#'   `length(dim(x))`, not 0.
#' @param grad_output The gradient with respect to the output: an array of
#'   the shape of `x`, or a single number.
#' @return A double array of the shape of `x`; `activation_softmax_backward()`
#'   gives \eqn{y (g - \sum_j g_j y_j)} along the axis, \eqn{y} the softmax.
#' @family activations
#' @export
#' @examples
#' x <- matrix(c(1, 2, 3, 1, 1, 1e300), 2, 3, byrow = TRUE)
#' activation_softmax(x)
#' activation_softmax(x, axis = 1)
activation_softmax <- function(x, axis = -1) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  .Call(C_selu_softmax_forward, x, axis)
}

#' @rdname activation_softmax
#' @export
activation_softmax_backward <- function(x, grad_output, axis = -1) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_softmax_backward, x, grad_output, axis)
}

# An axis (1-based, negative from the end) checked against a rank; the
# softmax kernels check theirs in C and call this on one they cannot take.
check_axis <- function(axis, rank, arg = "axis", call = sys.call(-1)) {
  if (!(length(axis) == 1 && is_whole(axis) && axis != 0 && abs(axis) <= rank)) {
    selu_abort(sprintf(
      "`%s` must be a whole number from %d to %d other than 0 for input of rank %d, not %s.",
      arg, -rank, rank, rank, describe(axis)), call = call)
  }
  as.integer(if (axis < 0) rank + axis + 1 else axis)
}

#' Parametric ReLU
#'
#' \eqn{x} for \eqn{x \ge 0}, \eqn{\alpha x} otherwise, with a learned
#' \eqn{\alpha} per feature: `alpha` has the shape of one sample (the input
#' without its batch axis, the first), with size 1 along shared axes.
#'
#' @param x A numeric array whose first dimension is the batch axis (a vector
#'   is a batch of scalars).
#' @param alpha A numeric array of the shape of one sample, or with size 1
#'   along some of its axes (shared there).
#' @param grad_output The gradient with respect to the output: an array of
#'   the shape of `x`, or a single number.
#' @return `activation_parametric_relu()`: a double array of the shape of `x`.
#'   `activation_parametric_relu_backward()`: a list with the gradients for
#'   `x` and for `alpha` (of `alpha`'s shape).
#' @family activations
#' @export
#' @examples
#' x <- matrix(c(-2, -1, 1, 2), 2, 2)
#' activation_parametric_relu(x, alpha = c(0.1, 0.5))
#' activation_parametric_relu_backward(x, alpha = c(0.1, 0.5), grad_output = 1)
activation_parametric_relu <- function(x, alpha) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(alpha)) abort_missing("alpha", alpha_expected)
  .Call(C_selu_prelu_forward, x, alpha)
}

#' @rdname activation_parametric_relu
#' @export
activation_parametric_relu_backward <- function(x, alpha, grad_output) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(alpha)) abort_missing("alpha", alpha_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  .Call(C_selu_prelu_backward, x, alpha, grad_output)
}

# For the C code, when alpha has not exactly the shape of one sample of x:
# alpha per feature of x, broadcast along its shared axes, or the user's
# error; and the gradient per feature summed back to alpha's shape.
prelu_alpha_for <- function(alpha, x) {
  prelu_alpha_per_feature(alpha, data_shape(x), call = sys.call(-1))
}

prelu_alpha_gradient <- function(per_feature, alpha, x) {
  prelu_sum_shared(per_feature, data_shape(x), alpha_shape(alpha))
}

alpha_shape <- function(alpha) if (is.null(dim(alpha))) length(alpha) else dim(alpha)

# alpha broadcast to every feature of one sample of `shape`.
alpha_expected <- "a numeric array of the shape of one sample of `x`"

prelu_alpha_per_feature <- function(alpha, shape, call = sys.call(-1)) {
  check_numeric_data(alpha, "alpha", call = call)
  sample <- if (length(shape) > 1) shape[-1] else 1L
  a_shape <- alpha_shape(alpha)
  if (length(a_shape) != length(sample) || any(a_shape != sample & a_shape != 1)) {
    selu_abort(sprintf(
      "`alpha` must have the shape of one sample, %s (`x` without its batch axis), with 1 along shared axes, not %s.",
      format_dims(sample), format_dims(a_shape)), kind = "shape", call = call)
  }
  if (all(a_shape == sample)) return(as.double(alpha))
  # feature f's element of alpha (both column-major): its index along each
  # axis, or 1 along a shared one
  f <- seq_len(prod(sample)) - 1
  index <- rep(1, length(f))
  for (i in which(a_shape != 1)) {
    before <- seq_len(i - 1)
    index <- index + (f %/% prod(sample[before])) %% sample[i] * prod(a_shape[before])
  }
  as.double(alpha)[index]
}

# Per-feature gradients summed over the shared axes, to alpha's shape.
prelu_sum_shared <- function(per_feature, shape, a_shape) {
  sample <- if (length(shape) > 1) shape[-1] else 1L
  if (all(a_shape == sample)) return(array(per_feature, a_shape))
  full <- array(per_feature, sample)
  keep <- which(a_shape != 1 | sample == 1)
  out <- if (length(keep)) apply(full, keep, sum) else sum(full)
  array(out, a_shape)
}
