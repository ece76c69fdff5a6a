#' A symbolic input tensor
#'
#' `layer_input()` starts a functional model: a symbolic tensor that stands
#' for a batch of inputs of a given shape. Layers applied to it give further
#' symbolic tensors, with their shapes inferred, and [keras_model()] turns the
#' input and the final output into a model. No data flows until the model is
#' called or used with [predict()][predict.selu_model()].
#'
#' @param shape The shape of one sample, without the batch axis: whole
#'   positive numbers, `NA` (or `NULL` in a list) for an unknown dimension.
#' @param batch_size The batch size, a whole positive number, or `NULL` for
#'   any.
#' @param name The input's name, one non-empty string. By default `input_1`,
#'   `input_2`, ... as in keras.
#' @param dtype `"float64"` or `"float32"`; `NULL` (the default) takes
#'   [k_floatx()]. The input's dtype; the layers' own dtypes decide the
#'   precision a model computes in.
#' @return A symbolic tensor, of class `selu_tensor`: a list with its `shape`
#'   (batch axis first, `NA` for unknown) and `dtype`.
#' @family models
#' @export
#' @examples
#' inputs <- layer_input(shape = 4)
#' inputs
#' outputs <- inputs |> layer_activation_selu()
#' outputs$shape
#' model <- keras_model(inputs, outputs)
#' predict(model, matrix(rnorm(8), 2, 4))
layer_input <- function(shape, batch_size = NULL, name = NULL, dtype = NULL) {
  if (missing(shape)) abort_missing("shape", "the shape of one sample, e.g. `shape = 4`")
  shape <- check_shape(shape, "shape")
  batch_size <- if (is.null(batch_size)) NA_integer_ else check_count(batch_size, "batch_size")
  shape <- c(batch_size, shape)
  name <- if (is.null(name)) unique_name("input", zero_based = FALSE) else check_string(name, "name")
  layer <- new_layer("InputLayer", name, dtype = check_dtype(dtype), batch_input_shape = shape)
  new_tensor(shape, layer_state(layer)$dtype, layer_state(layer), list())
}

as_double_array <- function(x) {
  storage.mode(x) <- "double"
  x
}

# A symbolic tensor records the layer that made it and that layer's inputs
# (a list of tensors, empty for an input), so that keras_model() can walk
# back from the outputs to the inputs.
new_tensor <- function(shape, dtype, layer, inputs) {
  session$tensor_count <- (if (is.null(session$tensor_count)) 0 else session$tensor_count) + 1
  structure(list(shape = shape, dtype = dtype, layer = layer, inputs = inputs,
                 id = session$tensor_count), class = "selu_tensor")
}

# The layer applied to symbolic tensors (a list: one, or several for a
# merging layer). `what` names the argument that holds them.
apply_symbolic <- function(self, tensors, call, what = "its input") {
  shapes <- lapply(tensors, function(tensor) tensor$shape)
  shape <- layer_output_shape(self, if (takes_several(self)) shapes else shapes[[1]],
                              call = call, what = what)
  new_tensor(shape, self$dtype, self, tensors)
}

is_input_tensor <- function(x) is_tensor(x) && !length(x$inputs)

#' @export
print.selu_tensor <- function(x, ...) {
  cat(sprintf("<tensor> shape %s, %s, from layer \"%s\" (%s)\n", format_shape(x$shape),
              x$dtype, x$layer$name, x$layer$class_name))
  invisible(x)
}

# Symbolic tensors combined with c() make a list of them, as keras's do.
#' @export
c.selu_tensor <- function(...) {
  tensors <- list(...)
  unlist(lapply(tensors, function(t) if (is_tensor(t)) list(t) else t), recursive = FALSE)
}
