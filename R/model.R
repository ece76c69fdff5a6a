# Models: a sequential stack or a functional chain of layers, with the same
# reference semantics as layers (state in an environment) and callable too.

new_model <- function(class_name, name, batch_input_shape, steps = list()) {
  self <- new.env(parent = emptyenv())
  self$class_name <- class_name
  self$name <- name
  self$batch_input_shape <- batch_input_shape
  self$steps <- steps
  model <- function(inputs, training = FALSE) {
    if (missing(inputs)) abort_missing("inputs", layer_input_expected)
    call_model(self, inputs, training = training, call = sys.call())
  }
  environment(model) <- list2env(list(self = self), parent = asNamespace("selu"))
  structure(model, class = c(paste0("selu_", tolower(class_name)), "selu_model"))
}

model_state <- function(model) environment(model)$self

check_model <- function(object, call) {
  if (missing(object)) abort_missing("object", "a model", call = call)
  if (!is_model(object)) {
    selu_abort(sprintf("`object` must be a model, not %s.", describe(object)), call = call)
  }
}

#' A sequential model
#'
#' A linear stack of layers, as in keras. Layer functions called with the
#' model as `object` add their layer to it in place, so a model is built with
#' pipes: `keras_model_sequential(input_shape = 4) |> layer_activation_selu()`.
#' Once the model knows its input shape (from `input_shape` here or from the
#' first layer's), every layer added is checked against the shape it will
#' receive: a mismatch is an error when the layer is added, not a wrong
#' answer later.
#'
#' @param layers `NULL`, a layer, or a list of layers to add in order.
#' @param name The model's name, one non-empty string. By default
#'   `sequential`, `sequential_1`, ...
#' @param input_shape The input shape without the batch axis: whole positive
#'   numbers, `NA` (or `NULL` in a list) for an unknown dimension.
#' @param ... `batch_input_shape` (the shape with the batch axis, winning over
#'   `input_shape`) or `batch_size` (a whole positive number), as in keras.
#'   Anything else is an error.
#' @return A sequential model: callable (`model(x)`), with `model$layers`,
#'   `model$name`, `model$input_shape` and `model$output_shape`.
#' @family models
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 3, name = "snn") |>
#'   layer_activation_selu() |>
#'   layer_activation_selu()
#' summary(model)
#' model(matrix(c(-1, 0, 1), 1, 3))
#' length(model$layers)
keras_model_sequential <- function(layers = NULL, name = NULL, input_shape = NULL, ...) {
  dots <- list(...)
  check_empty_dots(dots[setdiff(names2(dots), c("batch_input_shape", "batch_size"))])
  shape <- batch_shape(input_shape, dots$batch_input_shape, dots$batch_size,
                       call = sys.call())
  name <- if (is.null(name)) unique_name("sequential") else check_string(name, "name")
  if (is_layer(layers)) layers <- list(layers)
  if (!is.null(layers) && !(is.list(layers) && !is.object(layers) &&
                            all(vapply(layers, is_layer, TRUE)))) {
    selu_abort(sprintf("`layers` must be NULL, a layer or a list of layers, not %s.",
                       describe(layers)), call = sys.call())
  }
  model <- new_model("Sequential", name, shape)
  for (layer in layers) sequential_add(model, layer, call = sys.call(), what = "its input in `layers`")
  model
}

names2 <- function(x) {
  nms <- names(x)
  if (is.null(nms)) rep("", length(x)) else nms
}

# Adds a layer in place, after checking its name and its input shape. `what`
# says where the layer's input comes from, for errors.
sequential_add <- function(model, layer, call, what = "the output of the model") {
  self <- model_state(model)
  new <- layer_state(layer)
  names <- vapply(self$steps, function(step) step$name, "")
  if (new$name %in% names) {
    selu_abort(sprintf(paste(
      "The model \"%s\" already has a layer named \"%s\"; layer names in a model",
      "must be unique (give the layer another `name`)."), self$name, new$name),
      kind = "name", call = call)
  }
  if (length(self$steps) == 0 && is.null(self$batch_input_shape)) {
    self$batch_input_shape <- new$batch_input_shape
  } else if (!is.null(self$batch_input_shape)) {
    layer_output_shape(new, model_output_shape(self), call = call, what = what)
  }
  self$steps <- c(self$steps, list(new))
  invisible(model)
}

# The output shape of each step, from the model's input shape (NULL if unknown).
step_output_shapes <- function(self, call = NULL) {
  shape <- self$batch_input_shape
  lapply(self$steps, function(step) {
    if (!is.null(shape)) shape <<- layer_output_shape(step, shape, call = call)
    shape
  })
}

model_output_shape <- function(self) {
  if (length(self$steps) == 0) return(self$batch_input_shape)
  shapes <- step_output_shapes(self)
  shapes[[length(shapes)]]
}

#' A functional model
#'
#' Turns a symbolic input from [layer_input()] and an output tensor computed
#' from it into a model, as in keras. The layers between them become the
#' model's layers, the input layer first.
#'
#' @param inputs A symbolic tensor from [layer_input()].
#' @param outputs A symbolic tensor computed from `inputs` by layers.
#' @param name The model's name, one non-empty string. By default `model`,
#'   `model_1`, ...
#' @return A functional model: callable (`model(x)`), with `model$layers`,
#'   `model$name`, `model$input_shape` and `model$output_shape`.
#' @family models
#' @export
#' @examples
#' inputs <- layer_input(shape = 3)
#' outputs <- inputs |> layer_activation_selu() |> layer_activation_selu()
#' model <- keras_model(inputs, outputs)
#' model
#' predict(model, matrix(c(-1, 0, 1), 1, 3))
keras_model <- function(inputs, outputs, name = NULL) {
  call <- sys.call()
  if (missing(inputs)) abort_missing("inputs", "a symbolic tensor from layer_input()", call = call)
  if (missing(outputs)) {
    abort_missing("outputs", "a symbolic tensor computed from `inputs`", call = call)
  }
  if (!is_tensor(inputs) || !is.null(inputs$input)) {
    selu_abort(sprintf("`inputs` must be a symbolic tensor from layer_input(), not %s.",
                       describe(inputs)), call = call)
  }
  if (!is_tensor(outputs)) {
    selu_abort(sprintf("`outputs` must be a symbolic tensor computed from `inputs`, not %s.",
                       describe(outputs)), call = call)
  }
  name <- if (is.null(name)) unique_name("model") else check_string(name, "name")
  steps <- list()
  tensor <- outputs
  while (tensor$id != inputs$id) {
    if (is.null(tensor$input)) {
      selu_abort(sprintf("`outputs` is not computed from `inputs`: it comes from the input \"%s\", not \"%s\".",
                         tensor$layer$name, inputs$layer$name), kind = "graph", call = call)
    }
    steps <- c(list(tensor$layer), steps)
    tensor <- tensor$input
  }
  steps <- c(list(inputs$layer), steps)
  check_unique_names(steps, call = call)
  new_model("Functional", name, inputs$shape, steps)
}

check_unique_names <- function(steps, call) {
  ids <- vapply(steps, env_address, "")
  names <- vapply(steps, function(step) step$name, "")
  clash <- names[duplicated(names) & !duplicated(ids)]
  if (length(clash)) {
    selu_abort(sprintf("Layer names in a model must be unique; \"%s\" names two layers.",
                       clash[1]), kind = "name", call = call)
  }
}

call_model <- function(self, inputs, training, call) {
  check_flag(training, "training", call = call)
  if (is_tensor(inputs)) {
    what <- "`inputs`"
    for (step in self$steps) {
      inputs <- apply_symbolic(step, inputs, call = call, what = what)
      what <- "its input"
    }
    return(inputs)
  }
  run_forward(self, inputs, "inputs", call = call, training = training)$output
}

# Runs numeric data through the steps in one batch (see run_eagerly()),
# after checking it against the model's input shape. `who` names the model,
# e.g. "`object`, the model \"m\"," when the user passed it as `object`.
run_forward <- function(self, x, arg, call, training = FALSE, grad_output = NULL, who = NULL) {
  check_numeric_data(x, arg, call = call)
  if (is.null(self$batch_input_shape)) {
    if (is.null(who)) who <- sprintf("The model \"%s\"", self$name)
    selu_abort(sprintf("%s has no input shape yet: give its first layer an `input_shape`.",
                       who), kind = "shape", call = call)
  }
  check_model_input(self, x, arg, call)
  shape <- data_shape(x)
  for (i in seq_along(self$steps)) {
    shape <- layer_output_shape(self$steps[[i]], shape, call = call,
                                what = if (i == 1) sprintf("`%s`", arg) else "its input")
  }
  if (!is.null(grad_output)) check_gradient(grad_output, shape, call = call)
  run_eagerly(self$steps, x, training, grad_output)
}

check_model_input <- function(self, x, arg, call) {
  expected <- self$batch_input_shape
  shape <- data_shape(x)
  if (!shapes_compatible(expected, shape)) {
    hint <- if (is.null(dim(x)) && length(expected) == 2) {
      " (one sample is a one-row matrix: `matrix(x, nrow = 1)`)"
    } else ""
    selu_abort(sprintf("The model \"%s\" expects input of shape %s, but `%s` has shape %s%s.",
                       self$name, format_shape(expected), arg, format_shape(shape), hint),
               kind = "shape", call = call)
  }
}

#' Predictions of a model
#'
#' Runs inputs through the model's layers in inference mode (dropout off),
#' `batch_size` rows at a time, as keras' `predict()`.
#'
#' @param object A model from [keras_model_sequential()] or [keras_model()].
#' @param x A numeric matrix or array whose first dimension is the batch axis
#'   and whose other dimensions match the model's input shape.
#' @param batch_size The number of rows per batch; `NULL` is 32, as in keras.
#'   The rows do not depend on each other, so it changes only the speed and
#'   the memory used.
#' @param verbose `0`, `1`, `2` or `"auto"`, taken for keras' calls:
#'   `predict()` prints nothing.
#' @param ... Not used; an error if given.
#' @return The model's output for `x`, a double array with a row per row of
#'   `x`.
#' @family models
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 2) |> layer_activation_selu()
#' predict(model, rbind(c(-1, 1), c(0, 2)))
predict.selu_model <- function(object, x, batch_size = NULL, verbose = 0, ...) {
  call <- sys.call()
  check_model(object, call = call)
  check_empty_dots(list(...))
  if (missing(x)) abort_missing("x", "a numeric matrix or array of the model's input shape")
  batch_size <- if (is.null(batch_size)) 32L else check_count(batch_size, "batch_size", call)
  check_verbose(verbose, call)
  self <- model_state(object)
  who <- sprintf("`object`, the model \"%s\",", object$name)
  n <- nrow_of(x)
  bound_blas_threads()
  if (is.null(dim(x))) return(run_forward(self, x, "x", call = call, who = who)$output)
  check_numeric_data(x, "x", call = call)
  if (is.null(self$batch_input_shape)) {
    return(run_forward(self, x, "x", call = call, who = who)$output)
  }
  check_model_input(self, x, "x", call)
  shape <- data_shape(x)
  program <- model_program(self$steps, shape, "predict", call = call)
  if (n == 0) return(array(0, c(0, program$shapes[[program$outputs + 1L]][-1])))
  engine <- new_engine(program, min(batch_size, n, MAX_BATCH_ROWS))
  engine_load(engine)
  out <- .Call(C_selu_engine_predict, engine$ptr, list(as_engine_input(x)), batch_size)[[1]]
  dim(out) <- c(n, program$shapes[[program$outputs + 1L]][-1])
  # the names of x's rows, and of its columns when the output has x's shape
  if (identical(dim(out), dim(x))) {
    dimnames(out) <- dimnames(x)
  } else if (!is.null(rownames(x))) {
    names <- vector("list", length(dim(out)))
    names[1] <- list(rownames(x))
    dimnames(out) <- names
  }
  out
}

# Rows do not depend on each other in inference, so predict() runs batches
# smaller than asked: beyond a few hundred rows a product streams its input
# from memory once per unit instead of from the CPU's caches (on the
# reference BLAS, 10,000 rows at a time took 1.6 times as long as 256).
MAX_BATCH_ROWS <- 256L

#' Gradients through a layer or a model
#'
#' Pushes a gradient back through a layer or a model by the chain rule, using
#' each layer's backward kernel in C: given the input `x` and the gradient of
#' a loss with respect to the output, it returns the gradient of the loss with
#' respect to `x`. This is the building block of training.
#'
#' @param object A layer or a model.
#' @param x The input, a numeric array as `object` takes it.
#' @param grad_output The gradient with respect to `object(x)`: an array of
#'   its shape, or a single number used for every element.
#' @param training `FALSE` (the default) for inference, `TRUE` for the
#'   training behaviour of layers such as [layer_alpha_dropout()]: the
#'   forward pass inside `backward()` then draws its noise, and the gradient
#'   goes through that same draw.
#' @return The gradient with respect to `x`, a double array of the shape of `x`.
#' @family models
#' @export
#' @examples
#' x <- matrix(c(-2, -1, 1, 2), 2, 2)
#' act <- layer_activation_selu()
#' backward(act, x, 1)
#'
#' # the chain rule through two layers
#' model <- keras_model_sequential(input_shape = 2) |>
#'   layer_activation_selu() |>
#'   layer_activation_selu()
#' backward(model, x, 1)
backward <- function(object, x, grad_output, training = FALSE) {
  call <- sys.call()
  if (missing(object)) abort_missing("object", "a layer or a model", call = call)
  check_layer_or_model(object, call = call)
  check_flag(training, "training", call = call)
  if (missing(grad_output)) abort_missing("grad_output", "the gradient with respect to the output")
  bound_blas_threads()
  if (inherits(object, "selu_layer")) {
    self <- layer_state(object)
    check_numeric_data(x, "x", call = call)
    check_input_shape(self, data_shape(x), "`x`", call = call,
                      who = sprintf("`object`, the layer \"%s\",", self$name))
    build_layer(self, data_shape(x), call = call, what = "`x`")
    check_gradient(grad_output, self$output_shape(self, data_shape(x)), call = call)
    return(run_eagerly(list(self), x, training, grad_output)$grad)
  }
  self <- model_state(object)
  run_forward(self, x, "x", call = call, training = training, grad_output = grad_output,
              who = sprintf("`object`, the model \"%s\",", self$name))$grad
}

#' @export
`$.selu_model` <- function(x, name) {
  self <- model_state(x)
  switch(name,
    name = self$name,
    layers = lapply(self$steps, function(step) step$object),
    input_shape = self$batch_input_shape,
    output_shape = model_output_shape(self),
    selu_abort(sprintf("A model has no field `%s`; its fields are %s.", name,
                       paste0("`", model_fields, "`", collapse = ", ")),
               call = sys.call())
  )
}

model_fields <- c("name", "layers", "input_shape", "output_shape")

#' @export
.DollarNames.selu_model <- function(x, pattern = "") {
  grep(pattern, model_fields, value = TRUE)
}

#' Summary of a model
#'
#' keras' table of a model: each layer's name and class, output shape and
#' parameter count, then the totals. The output shapes are inferred from the
#' model's input shape; a model that does not know its input shape yet has
#' no summary.
#'
#' @param object,x A model.
#' @param ... Not used.
#' @return `summary()`: an object of class `selu_model_summary`, the lines of
#'   the table, printed as the table. `print()` prints the summary and
#'   returns the model invisibly.
#' @family models
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 784) |> layer_activation_selu()
#' summary(model)
summary.selu_model <- function(object, ...) {
  check_model(object, call = sys.call())
  self <- model_state(object)
  structure(summary_lines(self), class = "selu_model_summary")
}

#' @rdname summary.selu_model
#' @export
print.selu_model_summary <- function(x, ...) {
  cat(x, sep = "\n")
  invisible(x)
}

#' @rdname summary.selu_model
#' @export
print.selu_model <- function(x, ...) {
  print(summary(x))
  invisible(x)
}

summary_lines <- function(self, width = 80L) {
  title <- sprintf("Model: \"%s\"", self$name)
  if (is.null(self$batch_input_shape)) {
    return(c(title, paste(
      "This model has not been built yet: no summary is available until it",
      "knows its input shape (give its first layer an `input_shape`).")))
  }
  positions <- as.integer(width * c(0.45, 0.85, 1))
  row <- function(fields) {
    line <- ""
    for (i in seq_along(fields)) {
      line <- paste0(if (i == 1) " " else "", line, fields[i])
      # a field too long for its column still ends with a space
      if (i < length(fields)) line <- formatC(paste0(line, " "), width = -positions[i])
    }
    line
  }
  shapes <- step_output_shapes(self)
  rows <- vapply(seq_along(self$steps), function(i) {
    step <- self$steps[[i]]
    shape <- format_shape(shapes[[i]])
    if (step$class_name == "InputLayer") shape <- paste0("[", shape, "]")
    row(c(sprintf("%s (%s)", step$name, step$class_name), shape,
          format(sum(lengths(step$weights)), big.mark = ",")))
  }, "")
  weights <- unique_weight_counts(self)
  total <- sum(weights$count)
  trainable <- sum(weights$trainable)
  c(title,
    strrep("_", width),
    row(c("Layer (type)", "Output Shape", "Param #")),
    strrep("=", width),
    paste(rows, collapse = "\n\n"),
    strrep("=", width),
    sprintf("Total params: %s", format(total, big.mark = ",")),
    sprintf("Trainable params: %s", format(trainable, big.mark = ",")),
    sprintf("Non-trainable params: %s", format(total - trainable, big.mark = ",")),
    strrep("_", width))
}

unique_weight_counts <- function(self) {
  steps <- unique_steps(self$steps)
  list(count = vapply(steps, function(step) sum(lengths(step$weights)), numeric(1)),
       trainable = vapply(steps, function(step) {
         sum(lengths(step$weights[trainable_weight_names(step)]))
       }, numeric(1)))
}

#' @export
get_config.selu_model <- function(object, ...) {
  check_layer_or_model(object, call = sys.call())
  check_empty_dots(list(...))
  self <- model_state(object)
  layers <- lapply(self$steps, function(step) {
    config <- get_config(step$object)
    list(class_name = attr(config, "class_name"), config = unclass_config(config))
  })
  config <- list(name = self$name)
  if (self$class_name == "Sequential" && !is.null(self$batch_input_shape)) {
    config$build_input_shape <- shape_to_list(self$batch_input_shape)
  }
  structure(c(config, list(layers = layers)), class_name = self$class_name)
}

unclass_config <- function(config) {
  attr(config, "class_name") <- NULL
  config
}

# A layer from its entry in a model's configuration.
layer_from_entry <- function(entry, call) {
  if (!is.list(entry) || !is.character(entry$class_name) || !is.list(entry$config)) {
    selu_abort("`config$layers` must hold entries list(class_name = , config = ) from get_config().",
               call = call)
  }
  from_config(structure(entry$config, class_name = entry$class_name))
}

sequential_from_config <- function(config, call) {
  args <- config_args(config, c("name", "build_input_shape", "layers"), call = call)
  layers <- lapply(args$layers, layer_from_entry, call = call)
  keras_model_sequential(layers, name = args$name,
                         batch_input_shape = args$build_input_shape)
}

functional_from_config <- function(config, call) {
  args <- config_args(config, c("name", "layers"), call = call)
  input <- if (is.list(args$layers) && length(args$layers)) args$layers[[1]]
  if (!is.list(input) || !identical(input$class_name, "InputLayer")) {
    selu_abort("`config$layers` of a functional model must start with its InputLayer.",
               call = call)
  }
  shape <- check_shape(input$config$batch_input_shape, "batch_input_shape", call = call)
  tensor <- layer_input(shape[-1], batch_size = if (!is.na(shape[1])) shape[1],
                        name = input$config$name, dtype = input$config$dtype)
  inputs <- tensor
  for (entry in args$layers[-1]) tensor <- layer_from_entry(entry, call = call)(tensor)
  keras_model(inputs, tensor, name = args$name)
}
