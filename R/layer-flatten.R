#' Flatten layer
#'
#' keras' `Flatten`: each sample as one vector, (batch, ...) to (batch,
#' prod(...)), its elements in keras's order (the last axis fastest), so
#' that a Dense layer after it takes the weights keras would give it. With
#' `data_format = "channels_first"` the first axis after the batch is taken
#' as the channels, moved last before flattening, as keras does.
#'
#' @inheritParams layer_activation_selu
#' @param data_format `NULL` or `"channels_last"` (the default) or
#'   `"channels_first"`.
#' @param ... Not used; an error if given.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object` (see [layer_activation_selu()]).
#' @section Shape:
#' Input: (batch, ...). Output: (batch, the product of the other axes).
#' @family layers
#' @export
#' @examples
#' x <- array(1:12, c(2, 3, 2))
#' layer_flatten(x) # keras's order: x[1, 1, 1], x[1, 1, 2], x[1, 2, 1], ...
#'
#' model <- keras_model_sequential(input_shape = c(3, 2)) |>
#'   layer_flatten() |>
#'   layer_dense(1)
#' model$output_shape
layer_flatten <- function(object, data_format = NULL, input_shape = NULL,
                          batch_input_shape = NULL, batch_size = NULL, dtype = NULL,
                          name = NULL, trainable = NULL, weights = NULL, ...) {
  call <- sys.call()
  if (!missing(object)) force(object)
  check_empty_dots(list(...), call = call)
  if (is.null(data_format)) data_format <- "channels_last"
  if (!(is.character(data_format) && length(data_format) == 1 &&
        data_format %in% c("channels_last", "channels_first"))) {
    selu_abort(sprintf("`data_format` must be NULL, \"channels_last\" or \"channels_first\", not %s.",
                       describe(data_format)), call = call)
  }
  layer <- do.call(create_layer, c(list("Flatten", "flatten"), common_args(), list(
    output_shape = function(self, shape) {
      if (length(shape) < 2) {
        selu_abort(sprintf("A Flatten layer needs input with a batch axis, not of shape %s.",
                           format_shape(shape)), kind = "shape")
      }
      c(shape[1], as.integer(prod(shape[-1])))
    },
    config = list(data_format = data_format), call = call
  )), quote = TRUE)
  finish_layer(missing(object), object, layer, call)
}

flatten_from_config <- function(config, call) {
  builder_for(layer_flatten, "data_format", config, call)
}
