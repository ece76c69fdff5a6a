#' SELU activation layer
#'
#' A layer that applies [activation_selu()], the scaled exponential linear
#' unit, element by element:
#' \deqn{\mathrm{selu}(x) = \lambda x \textrm{ for } x > 0, \quad
#'   \lambda \alpha (e^x - 1) \textrm{ for } x \le 0,}{selu(x) = scale * x for x > 0,
#'   scale * alpha * (exp(x) - 1) otherwise,}
#' with \eqn{\alpha \approx 1.6733}{alpha ~ 1.6733} and \eqn{\lambda \approx
#' 1.0507}{scale ~ 1.0507} (full precision in [activation_selu()]). With
#' `lecun_normal` weights and alpha dropout, a stack of such layers keeps its
#' activations at mean 0 and variance 1 (Klambauer et al., 2017).
#'
#' As in keras, what the call returns depends on `object`:
#' * missing or `NULL`: the layer. A layer is callable: `layer(x)` applies it
#'   to a numeric array or a symbolic tensor.
#' * a sequential model ([keras_model_sequential()]): the layer is added to
#'   that model in place (every name bound to the model sees it) and the model
#'   is returned invisibly, so pipes (`|>`, or magrittr's `%>%` once
#'   magrittr is attached) build models.
#' * a symbolic tensor ([layer_input()]): the layer applied to it, a symbolic
#'   tensor for [keras_model()].
#' * a numeric vector, matrix or array: the layer applied to it, the result.
#'
#' Unlike keras, the default `dtype` is `"float64"`, R's own precision.
#' The layer has no weights: its parameter count is 0.
#'
#' @section Shape:
#' Input: any shape; keras counts the first dimension of an R array as the
#' batch axis. Output: the same shape as the input.
#'
#' @param object What to compose the layer with: missing or `NULL`, a
#'   sequential model, a symbolic tensor or a numeric array (see Details).
#' @param input_shape The input shape without the batch axis: whole positive
#'   numbers, `NA` (or `NULL` in a list) for an unknown dimension, e.g.
#'   `c(28, 28)` or `list(NULL, 32)`. Only meaningful on the first layer of a
#'   model.
#' @param batch_input_shape The input shape with the batch axis first; wins
#'   over `input_shape`.
#' @param batch_size The batch size, a whole positive number: the batch axis
#'   of the shape when `input_shape` is given (ignored otherwise, as in keras).
#' @param dtype `"float64"` or `"float32"`; `NULL` (the default) takes
#'   [k_floatx()], `"float64"` unless the session sets it. `"float32"`
#'   computes in single precision, as keras does: the input is rounded to
#'   float32, and the results are float32 values returned as R doubles. A
#'   model whose layers are all `"float32"` trains and predicts in single
#'   precision (its weights too); one mixing dtypes computes in double
#'   precision, rounding the outputs of its float32 layers (see [k_floatx()]).
#' @param name The layer's name, one non-empty string, unique within a model.
#'   By default `activation`, `activation_1`, ... (see [k_clear_session()]).
#' @param trainable `TRUE` (the default) or `FALSE`.
#' @param weights `NULL` or an empty list: the layer has no weights.
#' @return A layer, a model (invisibly), a symbolic tensor or an array: see
#'   Details.
#' @references Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S.
#'   (2017). Self-Normalizing Neural Networks. *Advances in Neural Information
#'   Processing Systems 30*. \doi{10.48550/arXiv.1706.02515}
#' @seealso [activation_selu()] for the function, [backward()] for gradients.
#' @family activation layers
#' @export
#' @examples
#' x <- matrix(rnorm(12), 3, 4, dimnames = list(NULL, letters[1:4]))
#'
#' # applied to an array: the result
#' layer_activation_selu(x)
#'
#' # a layer, callable
#' act <- layer_activation_selu(name = "act")
#' act(x)
#'
#' # added to a sequential model
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_activation_selu() |>
#'   layer_activation_selu()
#' model
#' predict(model, x)
#'
#' # applied to a symbolic tensor
#' inputs <- layer_input(shape = 4)
#' outputs <- inputs |> layer_activation_selu()
#' predict(keras_model(inputs, outputs), x)
layer_activation_selu <- function(object, input_shape = NULL, batch_input_shape = NULL,
                                  batch_size = NULL, dtype = NULL, name = NULL,
                                  trainable = NULL, weights = NULL) {
  if (!missing(object)) force(object) # earlier layers of a pipe are named first
  layer <- create_activation_layer("selu", input_shape, batch_input_shape, batch_size,
                                   dtype, name, trainable, weights, call = sys.call())
  if (missing(object)) return(layer)
  compose_layer(object, layer, call = sys.call())
}

