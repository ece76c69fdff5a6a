# keras' Activation layer, and the named activations it takes.

# The activations a layer takes by name; the engine runs each (R/program.R).
activation_names <- c("selu", "elu", "relu", "leaky_relu", "sigmoid", "tanh", "linear",
                      "softmax")

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
#' array of the same shape. An R function is the one computation of a model
#' that runs in R rather than in the package's engine: in [predict()], in a
#' call and in the forward pass of [fit()] the engine hands it each batch as
#' an array and takes back its values. It has no gradient, so [backward()]
#' through it, and [fit()] of a model whose trainable weights lie before it,
#' is an error that leaves the weights as they were.
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
                                        paste0("\"", activation_names, "\"", collapse = ", ")))
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
  check_activation(activation, call)
  create_layer("Activation", "activation", input_shape, batch_input_shape, batch_size,
               dtype, name, trainable, weights, config = list(activation = activation),
               call = call)
}

check_activation <- function(activation, call) {
  if (is.function(activation)) return(invisible(activation))
  if (!(is.character(activation) && length(activation) == 1 && !is.na(activation) &&
        activation %in% activation_names)) {
    selu_abort(sprintf("`activation` must be one of %s, or an R function, not %s.",
                       paste0("\"", activation_names, "\"", collapse = ", "),
                       describe(activation)), call = call)
  }
  invisible(activation)
}

# An activation given as an R function, the one op that runs R code:
# list(forward(x, single), backward()), forward checking what the function
# gives, backward signalling that it has no gradient.
r_activation <- function(fun) {
  list(
    forward = function(x, single) {
      y <- fun(x)
      if (!is_numeric_data(y) || !identical(data_shape(y), data_shape(x))) {
        selu_abort(sprintf(
          "The activation function must return a numeric array of its input's shape, %s, not %s.",
          format_dims(data_shape(x)), describe(y)))
      }
      y <- as_double_array(y)
      if (single) as_float32_values(y) else y
    },
    backward = function() {
      selu_abort("An activation given as an R function has no gradient in selu.",
                 kind = "gradient")
    }
  )
}

activation_from_config <- function(config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", "activation"),
                      call = call)
  do.call(create_activation_layer, c(args, list(call = call)), quote = TRUE)
}
