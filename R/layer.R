# The layer machinery every layer function builds on.
#
# A layer is a function (so that `layer(x)` applies it, as in keras) whose
# state lives in an environment: like a keras layer it is one object however
# many names or models refer to it.

# A layer's state is data: its class name, configuration, named weights,
# `trainable` and dtype, and what building made of them (`input_spec`,
# `axes`, ...). What it computes is its ops (R/program.R), which the engine
# runs; `output_shape(self, shape)` gives the output shape for an input
# shape, and `build(self, shape)`, if given, makes the weights, a named list
# (`kernel`, `bias`, ...), once the input shape is known. A layer whose
# weights train may hold `regularizers` and `constraints` (named as its
# weights) and an `activity_regularizer`; `non_trainable` names the weights
# it keeps as state (batch normalization's moving statistics).
new_layer <- function(class_name, name, trainable = TRUE, dtype = "float64",
                      batch_input_shape = NULL, config = list(),
                      output_shape = function(self, shape) shape, build = NULL) {
  self <- new.env(parent = emptyenv())
  self$class_name <- class_name
  self$name <- name
  self$trainable <- trainable
  self$dtype <- dtype
  self$batch_input_shape <- batch_input_shape
  self$config <- config
  self$weights <- list()
  self$output_shape <- output_shape
  self$build <- build
  self$built <- is.null(build)
  layer <- function(inputs, training = FALSE) {
    if (missing(inputs)) abort_missing("inputs", layer_input_expected)
    call_layer(self, inputs, training = training, call = sys.call())
  }
  environment(layer) <- list2env(list(self = self), parent = asNamespace("selu"))
  layer <- structure(layer, class = c(paste0("selu_", tolower(class_name)), "selu_layer"))
  # models list their layers as the callable objects users made
  self$object <- layer
  layer
}

layer_state <- function(layer) environment(layer)$self

layer_input_expected <- "a numeric vector, matrix or array or a symbolic tensor"

# Builds a layer from the seven arguments every layer function takes, checked.
# `call` is the user's call, for error messages.
create_layer <- function(class_name, base_name, input_shape, batch_input_shape,
                         batch_size, dtype, name, trainable, weights, config = list(),
                         n_weights = 0L, call, ...) {
  shape <- batch_shape(input_shape, batch_input_shape, batch_size, call = call)
  dtype <- check_dtype(dtype, call = call)
  name <- if (is.null(name)) unique_name(base_name) else check_string(name, "name", call = call)
  trainable <- if (is.null(trainable)) TRUE else check_flag(trainable, "trainable", call = call)
  if (!is.null(weights)) {
    if (!is.list(weights) || is.object(weights)) {
      selu_abort(sprintf("`weights` must be NULL or a list of arrays, not %s.",
                         describe(weights)), call = call)
    }
    if (length(weights) != n_weights) {
      selu_abort(sprintf("`weights`: layer \"%s\" expects %d weight%s, but %d %s given.",
                         name, n_weights, if (n_weights == 1) "" else "s",
                         length(weights), if (length(weights) == 1) "was" else "were"),
                 call = call)
    }
  }
  layer <- new_layer(class_name, name, trainable = trainable, dtype = dtype,
                     batch_input_shape = shape, config = config, ...)
  self <- layer_state(layer)
  self$initial_weights <- weights
  if (!is.null(shape)) {
    build_layer(self, shape, call = call,
                what = if (is.null(batch_input_shape)) "`input_shape`" else "`batch_input_shape`")
  }
  layer
}

# Makes a layer's weights for an input shape, once; initial weights given at
# construction replace the initializer's. `what` names what has the shape.
build_layer <- function(self, shape, call, what = "its input") {
  if (self$built) return(invisible(self))
  self$build(self, shape, call = call, what = what)
  self$built <- TRUE
  if (length(self$initial_weights)) {
    set_weights(self$object, self$initial_weights)
    self$initial_weights <- NULL
  }
  invisible(self)
}

# keras' rule: `batch_input_shape` wins; otherwise `c(batch_size, input_shape)`;
# `batch_size` alone says nothing about the shape and is ignored.
batch_shape <- function(input_shape, batch_input_shape, batch_size, call) {
  if (!is.null(batch_size)) batch_size <- check_count(batch_size, "batch_size", call = call)
  if (!is.null(input_shape)) input_shape <- check_shape(input_shape, "input_shape", call = call)
  if (!is.null(batch_input_shape)) {
    return(check_shape(batch_input_shape, "batch_input_shape", min_rank = 2L, call = call))
  }
  if (is.null(input_shape)) return(NULL)
  c(if (is.null(batch_size)) NA_integer_ else batch_size, input_shape)
}

# What a layer function returns, by `object` (keras' compose_layer): the layer
# for NULL, the model with the layer added for a Sequential model, the layer
# applied for a tensor or an array.
compose_layer <- function(object, layer, call) {
  if (is.null(object)) return(layer)
  if (is_model(object) && inherits(object, "selu_sequential")) {
    sequential_add(object, layer, call = call, what = "the output of `object`")
    return(invisible(object))
  }
  if (is_tensor(object) || is_numeric_data(object)) {
    return(call_layer(layer_state(layer), object, training = FALSE, call = call,
                      what = "`object`"))
  }
  selu_abort(sprintf(paste(
    "`object` must be missing or NULL (to get the layer), a sequential model",
    "(to add the layer to it), a symbolic tensor from layer_input() or a numeric",
    "array (to apply the layer to it), not %s."), describe(object)), call = call)
}

# `what` names the argument that holds the inputs: "`inputs`" when the layer
# is called, "`object`" when a layer function applies it. A merging layer
# takes a list of inputs.
call_layer <- function(self, inputs, training, call, what = "`inputs`") {
  check_flag(training, "training", call = call)
  if (takes_several(self)) return(call_merging_layer(self, inputs, training, call, what))
  if (is_tensor(inputs)) {
    return(apply_symbolic(self, list(inputs), call = call, what = what))
  }
  if (!is_numeric_data(inputs)) {
    selu_abort(sprintf(
      "%s must be a numeric vector, matrix or array or a symbolic tensor for layer \"%s\", not %s.",
      what, self$name, describe(inputs)), call = call)
  }
  check_input_shape(self, data_shape(inputs), what, call = call)
  build_layer(self, data_shape(inputs), call = call, what = what)
  bound_blas_threads(yield_to_blas = FALSE)
  run_graph(layer_graph(self, 1L), list(inputs), training,
            args = gsub("`", "", what, fixed = TRUE))$outputs[[1]]
}

# Whether a layer merges several inputs (layer_concatenate(), layer_add(), ...).
takes_several <- function(self) isTRUE(self$merging)

call_merging_layer <- function(self, inputs, training, call, what) {
  if (!(is.list(inputs) && !is.object(inputs) && length(inputs) >= 2)) {
    selu_abort(sprintf(
      "%s must be a list of at least two symbolic tensors or numeric arrays for layer \"%s\", not %s.",
      what, self$name, describe(inputs)), call = call)
  }
  tensors <- vapply(inputs, is_tensor, TRUE)
  if (all(tensors)) return(apply_symbolic(self, unname(inputs), call = call, what = what))
  arrays <- vapply(inputs, is_numeric_data, TRUE)
  if (!all(arrays)) {
    bad <- which(!arrays)[1]
    selu_abort(sprintf(paste(
      "%s must hold symbolic tensors only or numeric arrays only for layer \"%s\";",
      "element %d is %s."), what, self$name, bad, describe(inputs[[bad]])), call = call)
  }
  shapes <- lapply(inputs, data_shape)
  if (any(lengths(shapes) < 2)) {
    selu_abort(sprintf("%s must hold arrays with a batch axis and at least one more for layer \"%s\".",
                       what, self$name), kind = "shape", call = call)
  }
  rows <- vapply(shapes, function(shape) as.double(shape[1]), 1)
  if (any(rows != rows[1])) {
    selu_abort(sprintf("%s must have as many rows in each array, not %s.", what,
                       paste(rows, collapse = ", ")), kind = "shape", call = call)
  }
  layer_output_shape(self, shapes, call = call, what = what)
  bound_blas_threads(yield_to_blas = FALSE)
  run_graph(layer_graph(self, length(inputs)), unname(inputs), training,
            args = sprintf("%s[[%d]]", gsub("`", "", what, fixed = TRUE),
                           seq_along(inputs)))$outputs[[1]]
}

# The graph of one layer called on `n` inputs: inputs 1 .. n, output 0.
layer_graph <- function(self, n) {
  list(inputs = seq_len(n), outputs = 0L,
       nodes = list(list(layer = self, inputs = seq_len(n), output = 0L)))
}

# Data through a graph in one batch (see graph_program()), the engine
# running its ops: the outputs (with the attributes of the one input when
# they have its shape) and, given the outputs' gradients (arrays of their
# shapes, or one number each), the inputs' gradients.
run_graph <- function(graph, xs, training = FALSE, grad_outputs = NULL, call = NULL,
                      args = "inputs") {
  shapes <- lapply(xs, data_shape)
  program <- graph_program(graph, shapes, "call", call = call)
  check_embedding_ids(program, xs, rep_len(args, length(xs)), call)
  rows <- shapes[[1]][1]
  out_shapes <- lapply(program$outputs, function(slot) c(rows, program$shapes[[slot + 1L]][-1]))
  shaped <- function(values, shape) {
    if (length(xs) == 1 && identical(shape, shapes[[1]])) {
      attributes(values) <- attributes(xs[[1]])
    } else {
      dim(values) <- shape
    }
    values
  }
  if (any(vapply(shapes, prod, 1) == 0)) {
    return(list(outputs = lapply(out_shapes, function(shape) shaped(double(0), shape)),
                grads = lapply(shapes, function(shape) shaped(double(0), shape))))
  }
  engine <- new_engine(program, rows, input_gradients = !is.null(grad_outputs), io_bound = TRUE)
  on.exit(engine_free(engine), add = TRUE)
  engine_load(engine)
  run <- engine_call(engine, xs, training,
                     if (!is.null(grad_outputs)) lapply(grad_outputs, as.double))
  if (training) engine_store(engine)
  list(outputs = Map(shaped, run[[1]], out_shapes),
       grads = if (!is.null(grad_outputs)) Map(shaped, run[[2]], shapes))
}

# A layer given an input shape, or built for one, accepts only inputs of that
# shape. `what` says what has the shape, e.g. "`x`"; `who` names the layer,
# e.g. "`object`, the layer \"act\"," when the user passed it as `object`.
check_input_shape <- function(self, shape, what, call, who = NULL) {
  expected <- if (is.null(self$batch_input_shape)) self$input_spec else self$batch_input_shape
  if (!is.null(expected) && !shapes_compatible(expected, shape)) {
    if (is.null(who)) who <- sprintf("Layer \"%s\"", self$name)
    selu_abort(sprintf("%s expects input of shape %s, but %s has shape %s.",
                       who, format_shape(expected), what, format_shape(shape)),
               kind = "shape", call = call)
  }
  invisible(shape)
}

layer_output_shape <- function(self, shape, call, what = "its input", who = NULL) {
  check_input_shape(self, shape, what, call = call, who = who)
  build_layer(self, shape, call = call, what = what)
  self$output_shape(self, shape)
}

# Auto names as in keras: the snake_case class name, then `_1`, `_2`, ...
# counted per session; k_clear_session() starts again.
session <- new.env(parent = emptyenv())
session$name_counts <- list()
session$floatx <- "float64"

unique_name <- function(base, zero_based = TRUE) {
  count <- session$name_counts[[base]]
  count <- if (is.null(count)) 0L else count
  session$name_counts[[base]] <- count + 1L
  if (zero_based && count == 0L) base else paste0(base, "_", count + !zero_based)
}

#' Reset the automatic names of layers and models
#'
#' Layers, inputs and models created without a `name` are named after their
#' class with a counter per session, as in keras: `activation`, `activation_1`,
#' `activation_2`, ...; `input_1`, `input_2`, ...; `sequential`, `sequential_1`,
#' .... `k_clear_session()` resets every counter, so that the next layer is
#' `activation` again. Existing layers and models keep their names.
#'
#' @param ... Not used; an error if given.
#' @return `NULL`, invisibly.
#' @family models
#' @export
#' @examples
#' layer_activation_selu()$name
#' k_clear_session()
#' layer_activation_selu()$name
k_clear_session <- function(...) {
  check_empty_dots(list(...))
  session$name_counts <- list()
  invisible(NULL)
}

layer_fields <- c("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                  "weights", "config")

#' @export
`$.selu_layer` <- function(x, name) {
  self <- layer_state(x)
  switch(name,
    name = self$name,
    trainable = self$trainable,
    dtype = self$dtype,
    input_shape = self$batch_input_shape,
    batch_input_shape = self$batch_input_shape,
    weights = self$weights,
    config = get_config(x),
    selu_abort(sprintf("A layer has no field `%s`; its fields are %s.", name,
                       paste0("`", layer_fields, "`", collapse = ", ")),
               call = sys.call())
  )
}

#' @export
`$<-.selu_layer` <- function(x, name, value) {
  if (!identical(name, "trainable")) {
    selu_abort(sprintf("Only `trainable` can be set on a layer, not `%s`.", name),
               call = sys.call())
  }
  self <- layer_state(x)
  self$trainable <- check_flag(value, "trainable", call = sys.call())
  x
}

#' @export
.DollarNames.selu_layer <- function(x, pattern = "") {
  grep(pattern, layer_fields, value = TRUE)
}

#' @export
print.selu_layer <- function(x, ...) {
  self <- layer_state(x)
  cat(sprintf("<%s> \"%s\"\n", self$class_name, self$name))
  for (key in names(self$config)) {
    cat(sprintf("  %s: %s\n", key, format_config_value(self$config[[key]])))
  }
  if (!is.null(self$batch_input_shape)) {
    cat(sprintf("  input shape: %s\n", format_shape(self$batch_input_shape)))
  }
  cat(sprintf("  dtype: %s, trainable: %s, params: %d\n", self$dtype,
              self$trainable, count_params(x)))
  invisible(x)
}

# A value of a configuration on one line. A nested configuration (an
# initializer, regularizer or constraint) shows as keras's class with its
# arguments, `LecunNormal(seed = NULL)`; another list as `list(...)`.
format_config_value <- function(value) {
  if (is.null(value)) return("NULL")
  if (is.list(value)) {
    args <- vapply(value, format_config_value, "", USE.NAMES = FALSE)
    if (!is.null(names(value))) args <- ifelse(nzchar(names(value)),
                                               paste(names(value), args, sep = " = "), args)
    class_name <- attr(value, "class_name")
    head <- if (is.character(class_name) && length(class_name) == 1) class_name else "list"
    return(sprintf("%s(%s)", head, paste(args, collapse = ", ")))
  }
  if (is.character(value)) return(paste0("\"", value, "\"", collapse = ", "))
  paste(format(value), collapse = ", ")
}

#' Layer and model properties as in keras
#'
#' * `get_config()` gives the configuration that rebuilds a layer or model with
#'   `from_config()`: for a layer the keys of keras (`name`, `trainable`,
#'   `dtype`, `batch_input_shape` when the layer was given a shape, then the
#'   layer's own arguments), with the keras class name in the attribute
#'   `"class_name"`. Unknown dimensions of shapes are `NULL`, as keras gives
#'   them to R.
#' * `from_config()` builds a new layer or model from such a configuration.
#' * `get_weights()` and `set_weights()` read and replace the weights, a list
#'   of arrays (empty for the activation layers, which have none).
#' * `count_params()` counts the weights' numbers.
#' * `compute_output_shape()` gives the output shape for an input shape
#'   (batch axis included, `NA` for unknown).
#'
#' @param object A layer or a model.
#' @param config A configuration from `get_config()`.
#' @param weights A list of arrays, one per weight of `object`.
#' @param input_shape An input shape, batch axis included: whole positive
#'   numbers, `NA` or `NULL` for unknown.
#' @param ... Not used; an error if given.
#' @return `get_config()`: a named list. `from_config()`: a layer or model.
#'   `get_weights()`: a list of arrays. `set_weights()`: `object`, invisibly,
#'   with its weights replaced. `count_params()`: an integer.
#'   `compute_output_shape()`: an integer vector with `NA` for unknown.
#' @family layer properties
#' @export
#' @examples
#' act <- layer_activation_selu(name = "act", input_shape = 10)
#' config <- get_config(act)
#' str(config)
#' act2 <- from_config(config)
#' act2$name
#' get_weights(act)
#' count_params(act)
#' compute_output_shape(act, c(NA, 10))
get_config <- function(object, ...) {
  if (missing(object)) abort_missing("object", "a layer or a model")
  UseMethod("get_config")
}

#' @export
get_config.default <- function(object, ...) {
  selu_abort(sprintf(paste(
    "`object` must be a layer, a model, an initializer, a regularizer, a constraint,",
    "a loss, a metric, an optimizer or a learning-rate schedule, not %s."), describe(object)),
    call = sys.call(-1))
}

#' @export
get_config.selu_layer <- function(object, ...) {
  check_layer_or_model(object, call = sys.call())
  check_empty_dots(list(...))
  self <- layer_state(object)
  config <- list(name = self$name, trainable = self$trainable, dtype = self$dtype)
  if (!is.null(self$batch_input_shape)) {
    config$batch_input_shape <- shape_to_list(self$batch_input_shape)
  }
  structure(c(config, self$config), class_name = self$class_name)
}

shape_to_list <- function(shape) lapply(shape, function(d) if (is.na(d)) NULL else d)

#' @rdname get_config
#' @export
from_config <- function(config) {
  if (missing(config)) abort_missing("config", "a configuration from get_config()")
  class_name <- attr(config, "class_name")
  if (!is.list(config) || !is.character(class_name) || length(class_name) != 1 ||
      !class_name %in% names(config_builders)) {
    selu_abort(paste(
      "`config` must be a configuration from get_config(): a named list with",
      sprintf("the attribute \"class_name\" one of %s; got %s.",
              paste0("\"", names(config_builders), "\"", collapse = ", "),
              describe(config))), call = sys.call())
  }
  # what is wrong inside a configuration is an error in `config`
  call <- sys.call()
  withCallingHandlers(
    config_builders[[class_name]](config, call = call),
    selu_error = function(e) {
      if (!grepl("`config`", conditionMessage(e), fixed = TRUE)) {
        selu_abort(paste("In `config`:", conditionMessage(e)), kind = error_kind(e), call = call)
      }
    }
  )
}

# The kind of a selu error: "argument" for selu_error_argument.
error_kind <- function(e) sub("^selu_error_", "", class(e)[1])

# from_config() builders by keras class name.
config_builders <- list(
  Activation = function(config, call) activation_from_config(config, call),
  ELU = function(config, call) builder_for(layer_activation_elu, "alpha", config, call),
  LeakyReLU = function(config, call) builder_for(layer_activation_leaky_relu, "alpha", config, call),
  ReLU = function(config, call) {
    builder_for(layer_activation_relu, c("max_value", "negative_slope", "threshold"), config, call)
  },
  ThresholdedReLU = function(config, call) {
    builder_for(layer_activation_thresholded_relu, "theta", config, call)
  },
  Softmax = function(config, call) builder_for(layer_activation_softmax, "axis", config, call),
  Dense = function(config, call) dense_from_config(config, call),
  Dropout = function(config, call) dropout_from_config(config, call),
  PReLU = function(config, call) prelu_from_config(config, call),
  AlphaDropout = function(config, call) alpha_dropout_from_config(config, call),
  BatchNormalization = function(config, call) batch_normalization_from_config(config, call),
  LayerNormalization = function(config, call) layer_normalization_from_config(config, call),
  Flatten = function(config, call) flatten_from_config(config, call),
  Embedding = function(config, call) embedding_from_config(config, call),
  GaussianNoise = function(config, call) gaussian_noise_from_config(config, call),
  GaussianDropout = function(config, call) gaussian_dropout_from_config(config, call),
  Concatenate = function(config, call) merge_from_config(config, call),
  Add = function(config, call) merge_from_config(config, call),
  Multiply = function(config, call) merge_from_config(config, call),
  Average = function(config, call) merge_from_config(config, call),
  Sequential = function(config, call) sequential_from_config(config, call),
  Functional = function(config, call) functional_from_config(config, call)
)

# A layer from its configuration: the common keys and the layer's own.
builder_for <- function(layer_function, own, config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", own),
                      call = call)
  do.call(layer_function, args, quote = TRUE)
}

# The arguments a configuration holds, checked against the keys it may have.
config_args <- function(config, keys, call) {
  unknown <- setdiff(names(config), keys)
  if (length(unknown) || is.null(names(config)) || any(!nzchar(names(config)))) {
    selu_abort(sprintf("`config` for a %s may only have the keys %s; it has %s.",
                       attr(config, "class_name"), paste0("`", keys, "`", collapse = ", "),
                       paste0("`", names(config), "`", collapse = ", ")), call = call)
  }
  as.list(config)[intersect(keys, names(config))]
}

#' @rdname get_config
#' @export
get_weights <- function(object) {
  if (missing(object)) abort_missing("object", "a layer or a model")
  check_layer_or_model(object, call = sys.call())
  all_weights(object)
}

#' @rdname get_config
#' @export
set_weights <- function(object, weights) {
  if (missing(object)) abort_missing("object", "a layer or a model")
  check_layer_or_model(object, call = sys.call())
  current <- all_weights(object)
  if (missing(weights)) abort_missing("weights", "a list of arrays, one per weight of `object`")
  if (!is.list(weights) || is.object(weights) || length(weights) != length(current)) {
    selu_abort(sprintf("`weights` must be a list of %d array%s for `object`, %s, not %s.",
                       length(current), if (length(current) == 1) "" else "s",
                       describe(object), describe(weights)), call = sys.call())
  }
  for (i in seq_along(weights)) {
    if (!is_numeric_data(weights[[i]]) ||
        !identical(data_shape(weights[[i]]), data_shape(current[[i]]))) {
      selu_abort(sprintf("`weights[[%d]]` must be a numeric array of shape %s for `object`, not %s.",
                         i, format_dims(data_shape(current[[i]])), describe(weights[[i]])),
                 call = sys.call())
    }
  }
  # Each layer takes its own slice, as double copies the caller cannot alter.
  offset <- 0L
  for (self in unique_states(object)) {
    n <- length(self$weights)
    self$weights[] <- lapply(weights[offset + seq_len(n)], function(w) {
      storage.mode(w) <- "double"
      w
    })
    offset <- offset + n
  }
  invisible(object)
}

#' @rdname get_config
#' @export
count_params <- function(object) {
  if (missing(object)) abort_missing("object", "a layer or a model")
  check_layer_or_model(object, call = sys.call())
  as.integer(sum(vapply(all_weights(object), length, numeric(1))))
}

#' @rdname get_config
#' @export
compute_output_shape <- function(object, input_shape) {
  if (missing(object)) abort_missing("object", "a layer or a model")
  check_layer_or_model(object, call = sys.call())
  if (missing(input_shape)) abort_missing("input_shape", "an input shape, batch axis included")
  shape <- check_shape(input_shape, "input_shape", call = sys.call())
  what <- "`input_shape`"
  for (self in model_steps(object)) {
    who <- if (inherits(object, "selu_layer")) {
      sprintf("`object`, the layer \"%s\",", self$name)
    } else {
      sprintf("Layer \"%s\" of `object`", self$name)
    }
    shape <- layer_output_shape(self, shape, call = sys.call(), what = what, who = who)
    what <- "its input"
  }
  shape
}

check_layer_or_model <- function(object, call) {
  if (!is_layer(object) && !is_model(object)) {
    selu_abort(sprintf("`object` must be a layer or a model, not %s.", describe(object)),
               call = call)
  }
}

all_weights <- function(object) {
  unname(unlist(lapply(unique_states(object), function(self) self$weights), recursive = FALSE))
}

# Each layer once, though a model may call it more than once.
unique_states <- function(object) unique_steps(model_steps(object))

unique_steps <- function(steps) steps[!duplicated(vapply(steps, env_address, ""))]

env_address <- function(env) format(env)

# The layer states a layer or model runs through, in order.
model_steps <- function(object) {
  if (inherits(object, "selu_model")) model_state(object)$steps else list(layer_state(object))
}
