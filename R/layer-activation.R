# keras' Activation layer, and the named activations it takes.

# Each named activation: its forward and backward kernels, given the input
# (and the gradient), whether to compute in float32, and the layer state.
named_activations <- list(
  selu = list(
    forward = function(x, single) .Call(C_selu_forward, x, single, FALSE),
    backward = function(x, grad, single) .Call(C_selu_backward, x, grad, single)
  ),
  elu = list(
    forward = function(x, single) run_kernel("elu", x, list(1), single),
    backward = function(x, grad, single) run_kernel_backward("elu", x, grad, list(1), single)
  ),
  relu = list(
    forward = function(x, single) run_kernel("relu", x, list(NULL, 0, 0), single),
    backward = function(x, grad, single) run_kernel_backward("relu", x, grad, list(NULL, 0, 0), single)
  ),
  leaky_relu = list(
    forward = function(x, single) run_kernel("leaky_relu", x, list(0.2), single),
    backward = function(x, grad, single) run_kernel_backward("leaky_relu", x, grad, list(0.2), single)
  ),
  sigmoid = list(
    forward = function(x, single) run_kernel("sigmoid", x, NULL, single),
    backward = function(x, grad, single) run_kernel_backward("sigmoid", x, grad, NULL, single)
  ),
  tanh = list(
    forward = function(x, single) run_kernel("tanh", x, NULL, single),
    backward = function(x, grad, single) run_kernel_backward("tanh", x, grad, NULL, single)
  ),
  linear = list(
    forward = function(x, single) run_kernel("linear", x, NULL, single),
    backward = function(x, grad, single) run_kernel_backward("linear", x, grad, NULL, single)
  ),
  softmax = list(
    forward = function(x, single) round_if(activation_softmax(x), single),
    backward = function(x, grad, single) round_if(activation_softmax_backward(x, grad), single)
  )
)

round_if <- function(x, single) {
  if (single) as_float32_values(x) else x
}

# Doubles rounded to float32 values, through R's own 4-byte binary format.
as_float32_values <- function(x) {
  out <- readBin(writeBin(as.double(x), raw(), size = 4), "double", n = length(x), size = 4)
  attributes(out) <- attributes(x)
  out
}

#' Activation layer
#'
#' keras' `Activation` layer: applies an activation function element by
#' element (softmax along the last axis). `activation` is the name of one of
#' the package's C kernels, `"selu"`, `"elu"` (alpha 1), `"relu"`,
#' `"leaky_relu"` (alpha 0.2, as keras' function), `"sigmoid"`, `"tanh"`,
#' `"softmax"` or `"linear"`, or an R function of one array that returns an
#' array of the same shape. A layer with an R function has no gradient:
#' [backward()] through it is an error.
#'
#' The three return modes, the common arguments and the automatic names
#' (`activation`, `activation_1`, ...) are those of
#' [layer_activation_selu()].
#'
#' @inheritParams layer_activation_selu
#' @param activation A name (see Details) or an R function.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object`.
#' @family activation layers
#' @export
#' @examples
#' x <- matrix(c(-2, -1, 1, 2), 2, 2)
#' layer_activation(x, "tanh")
#' layer_activation(x, function(v) pmax(v, 0))
#' model <- keras_model_sequential(input_shape = 2) |>
#'   layer_activation("selu") |>
#'   layer_activation("softmax")
#' predict(model, x)
layer_activation <- function(object, activation, input_shape = NULL, batch_input_shape = NULL,
                             batch_size = NULL, dtype = NULL, name = NULL, trainable = NULL,
                             weights = NULL) {
  if (!missing(object)) force(object) # earlier layers of a pipe are named first
  if (missing(activation)) {
    abort_missing("activation", sprintf("one of %s, or an R function",
                                        paste0("\"", names(named_activations), "\"", collapse = ", ")))
  }
  layer <- create_activation_layer(activation, input_shape, batch_input_shape, batch_size,
                                   dtype, name, trainable, weights, call = sys.call())
  if (missing(object)) return(layer)
  compose_layer(object, layer, call = sys.call())
}

create_activation_layer <- function(activation, input_shape = NULL,
                                    batch_input_shape = NULL, batch_size = NULL,
                                    dtype = NULL, name = NULL, trainable = NULL,
                                    weights = NULL, call) {
  kernels <- activation_kernels_for(activation, call)
  layer <- create_layer(
    "Activation", "activation", input_shape, batch_input_shape, batch_size,
    dtype, name, trainable, weights,
    forward = function(self, x, training) kernels$forward(x, self$dtype == "float32"),
    backward = function(self, x, grad, cache) {
      list(x = kernels$backward(x, grad, self$dtype == "float32"))
    },
    config = list(activation = activation), call = call
  )
  if (is.character(activation)) mark_output_activation(layer, activation)
  layer
}

# An activation layer's input is the logits of its output: fit() hands them
# to a cross-entropy that fuses with the activation (see loss_fuses_with()),
# and the gradient for them is the gradient for the layer's input.
mark_output_activation <- function(layer, activation) {
  self <- layer_state(layer)
  self$output_activation <- activation
  self$logits <- function(self, x, cache) x
  self$backward_logits <- function(self, x, grad, cache) list(x = grad)
  invisible(layer)
}

activation_kernels_for <- function(activation, call) {
  if (is.function(activation)) {
    return(list(
      forward = function(x, single) {
        y <- activation(x)
        if (!is_numeric_data(y) || !identical(data_shape(y), data_shape(x))) {
          selu_abort(sprintf(
            "The activation function must return a numeric array of its input's shape, %s, not %s.",
            format_dims(data_shape(x)), describe(y)), call = call)
        }
        round_if(as_double_array(y), single)
      },
      backward = function(x, grad, single) {
        selu_abort("An activation given as an R function has no gradient in selu.",
                   kind = "gradient", call = call)
      }
    ))
  }
  if (!(is.character(activation) && length(activation) == 1 && !is.na(activation) &&
        activation %in% names(named_activations))) {
    selu_abort(sprintf("`activation` must be one of %s, or an R function, not %s.",
                       paste0("\"", names(named_activations), "\"", collapse = ", "),
                       describe(activation)), call = call)
  }
  named_activations[[activation]]
}

activation_from_config <- function(config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", "activation"),
                      call = call)
  do.call(create_activation_layer, c(args, list(call = call)), quote = TRUE)
}
