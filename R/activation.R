#' SELU activation and its gradient
#'
#' `activation_selu()` applies the scaled exponential linear unit of
#' Klambauer et al. (2017) element by element:
#' \deqn{\mathrm{selu}(x) = \lambda x \textrm{ for } x > 0, \quad
#'   \lambda \alpha (e^x - 1) \textrm{ for } x \le 0,}{selu(x) = scale * x for x > 0,
#'   scale * alpha * (exp(x) - 1) otherwise,}
#' with \eqn{\alpha = 1.6732632423543772848170429916717}{alpha =
#' 1.6732632423543772848170429916717} and
#' \eqn{\lambda = 1.0507009873554804934193349852946}{scale =
#' 1.0507009873554804934193349852946}, the constants that make a network of
#' SELU layers with `lecun_normal` weights keep its activations at mean 0 and
#' variance 1. `activation_selu_backward()` gives the gradient with respect to
#' `x` of a loss whose gradient with respect to `activation_selu(x)` is
#' `grad_output`:
#' \deqn{\lambda g \textrm{ for } x > 0, \quad \lambda \alpha e^x g
#'   \textrm{ for } x \le 0.}{scale * g for x > 0, scale * alpha * exp(x) * g
#'   otherwise.}
#'
#' Both run in C, vectorized (with AVX2 or AVX-512 where the CPU has them)
#' and over [selu_threads()] threads for long inputs. The negative branch is
#' an `expm1()` kept in double-double precision to the last step: results are
#' within 1 ulp of the exact value (the C library's `expm1()` times the
#' constant reaches 1.6 ulp), tiny negative inputs keep their precision, and
#' the gradient is computed from the input, so it stays right (about
#' 7.47e-18 at `x = -40`) where the output has already rounded to
#' \eqn{-\lambda\alpha}{-scale * alpha}. Results are identical bit for bit
#' whatever the number of threads. `NA` stays `NA`, `NaN`
#' stays `NaN`, `Inf` gives `Inf` and `-Inf` gives \eqn{-\lambda\alpha}{-scale
#' * alpha}.
#'
#' @section Shape:
#' Any shape: a vector, matrix or array of any rank. The result has the shape,
#' `dim`, `dimnames` and `names` of `x`; other attributes are dropped (with
#' `inplace = TRUE`, a temporary overwritten in place keeps all of its own).
#'
#' @param x A numeric vector, matrix or array (double, integer or logical;
#'   integer and logical are converted to double). It is never modified.
#' @param inplace `FALSE` (the default) for a new result. `TRUE` writes the
#'   result over `x` itself when no other R object can see it: a temporary
#'   such as `activation_selu(x %*% w, inplace = TRUE)` is overwritten and no
#'   memory is allocated. An object bound to a name is still copied, so no
#'   name ever sees its value change.
#' @param grad_output The gradient with respect to the output: a numeric array
#'   of the same shape as `x`, or a single number used for every element.
#' @return A new double vector, matrix or array of the shape of `x`.
#' @references Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S.
#'   (2017). Self-Normalizing Neural Networks. *Advances in Neural Information
#'   Processing Systems 30*. \doi{10.48550/arXiv.1706.02515}
#' @seealso [layer_activation_selu()] for the layer.
#' @family activations
#' @export
#' @examples
#' activation_selu(c(-2, -1e-20, 0, 1, 2))
#' x <- matrix(rnorm(6), 2, 3)
#' activation_selu(x)
#' # the gradient of sum(activation_selu(x)) with respect to x
#' activation_selu_backward(x, 1)
activation_selu <- function(x, inplace = FALSE) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  # the C code hands what it cannot take to check_forward_args()
  .Call(C_selu_forward, x, FALSE, inplace)
}

#' @rdname activation_selu
#' @export
activation_selu_backward <- function(x, grad_output) {
  if (missing(x)) abort_missing("x", numeric_data_expected)
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected)
  # the C code hands what it cannot take to check_backward_args()
  .Call(C_selu_backward, x, grad_output, FALSE)
}

gradient_expected <- "the gradient with respect to the output, of its shape, or a single number"

# Called from C when activation_selu() gets what it cannot take: signals the
# user's error, naming the call the user made.
check_forward_args <- function(x, inplace) {
  call <- sys.call(-1)
  check_numeric_data(x, "x", call = call)
  check_flag(inplace, "inplace", call = call)
}

# `grad_output` must have the output's shape or be a single number.
check_gradient <- function(grad_output, shape, call = sys.call(-1)) {
  if (missing(grad_output)) abort_missing("grad_output", gradient_expected, call = call)
  check_numeric_data(grad_output, "grad_output", call = call)
  if (length(grad_output) != 1 && !identical(data_shape(grad_output), as.integer(shape))) {
    selu_abort(sprintf(
      "`grad_output` must have the output's shape, %s, or be a single number, not %s.",
      format_dims(shape), describe(grad_output)), kind = "shape", call = call)
  }
  invisible()
}
