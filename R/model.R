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

# The output shape of each step, from the model's input shape (NULL if
# unknown); a functional model's layers give that of their first call.
step_output_shapes <- function(self, call = NULL) {
  if (!is.null(self$graph)) {
    return(lapply(self$steps, function(step) {
      if (step$class_name == "InputLayer") return(step$batch_input_shape)
      Find(function(node) identical(node$layer, step), self$graph$nodes)$shape
    }))
  }
  shape <- self$batch_input_shape
  lapply(self$steps, function(step) {
    if (!is.null(shape)) shape <<- layer_output_shape(step, shape, call = call)
    shape
  })
}

model_output_shape <- function(self) {
  if (!is.null(self$graph)) return(self$graph$output_shapes[[1]])
  if (length(self$steps) == 0) return(self$batch_input_shape)
  shapes <- step_output_shapes(self)
  shapes[[length(shapes)]]
}

#' A functional model
#'
#' Turns symbolic inputs from [layer_input()] and the output tensors computed
#' from them into a model, as in keras: a graph of layers, with one or
#' several inputs and outputs, layers that merge inputs
#' ([layer_concatenate()], [layer_add()], ...) and layers called more than
#' once (their weights shared). The model's layers are its input layers,
#' then each layer once, in an order where each comes after those it reads.
#'
#' A model with several inputs takes, in [fit()], [evaluate()],
#' [predict()] and calls, a list of arrays in the order of `inputs`, or
#' named by the input layers' names; one with several outputs gives a list
#' of arrays named by the output layers' names, and takes its targets the
#' same way.
#'
#' @param inputs A symbolic tensor from [layer_input()], or a list of them.
#' @param outputs A symbolic tensor computed from `inputs` by layers, or a
#'   list of them.
#' @param name The model's name, one non-empty string. By default `model`,
#'   `model_1`, ...
#' @return A functional model: callable (`model(x)`), with `model$layers`,
#'   `model$name`, `model$input_shape` and `model$output_shape` (lists of
#'   shapes for several inputs or outputs).
#' @family models
#' @export
#' @examples
#' inputs <- layer_input(shape = 3)
#' outputs <- inputs |> layer_activation_selu() |> layer_activation_selu()
#' model <- keras_model(inputs, outputs)
#' model
#' predict(model, matrix(c(-1, 0, 1), 1, 3))
#'
#' # two inputs, merged; two outputs
#' numbers <- layer_input(shape = 4, name = "numbers")
#' codes <- layer_input(shape = 2, name = "codes")
#' hidden <- layer_concatenate(list(numbers, codes)) |> layer_dense(8, activation = "selu")
#' model <- keras_model(list(numbers, codes),
#'                      list(layer_dense(hidden, 1, name = "amount"),
#'                           layer_dense(hidden, 3, activation = "softmax", name = "kind")))
#' str(predict(model, list(matrix(rnorm(8), 2), matrix(rnorm(4), 2))))
keras_model <- function(inputs, outputs, name = NULL) {
  call <- sys.call()
  if (missing(inputs)) {
    abort_missing("inputs", "a symbolic tensor from layer_input() or a list of them", call = call)
  }
  if (missing(outputs)) {
    abort_missing("outputs", "a symbolic tensor computed from `inputs` or a list of them",
                  call = call)
  }
  inputs <- tensor_list(inputs, "inputs", "a symbolic tensor from layer_input()", call,
                        inputs_only = TRUE)
  outputs <- tensor_list(outputs, "outputs", "a symbolic tensor computed from `inputs`", call)
  name <- if (is.null(name)) unique_name("model") else check_string(name, "name")
  input_ids <- vapply(inputs, function(tensor) tensor$id, 1)
  if (anyDuplicated(input_ids)) {
    selu_abort("`inputs` must not hold the same input twice.", kind = "graph", call = call)
  }
  # each layer call the outputs need, after the calls it reads
  nodes <- list()
  done <- numeric(0)
  visit <- function(tensor) {
    if (tensor$id %in% c(input_ids, done)) return(invisible())
    if (!length(tensor$inputs)) {
      selu_abort(sprintf(paste(
        "`outputs` is not computed from `inputs` alone: it needs the input \"%s\", which is",
        "not one of `inputs` (%s)."), tensor$layer$name,
        paste0("\"", vapply(inputs, function(t) t$layer$name, ""), "\"", collapse = ", ")),
        kind = "graph", call = call)
    }
    for (input in tensor$inputs) visit(input)
    done <<- c(done, tensor$id)
    nodes[[length(nodes) + 1L]] <<- list(
      layer = tensor$layer, inputs = vapply(tensor$inputs, function(t) t$id, 1),
      output = tensor$id, shape = tensor$shape)
  }
  for (output in outputs) visit(output)
  steps <- unique_steps(c(lapply(inputs, function(tensor) tensor$layer),
                          lapply(nodes, function(node) node$layer)))
  check_unique_names(steps, call = call)
  model <- new_model("Functional", name, if (length(inputs) == 1) inputs[[1]]$shape, steps)
  self <- model_state(model)
  self$graph <- list(
    inputs = input_ids, outputs = vapply(outputs, function(tensor) tensor$id, 1), nodes = nodes,
    input_layers = lapply(inputs, function(tensor) tensor$layer),
    output_layers = lapply(outputs, function(tensor) tensor$layer),
    input_shapes = lapply(inputs, function(tensor) tensor$shape),
    output_shapes = lapply(outputs, function(tensor) tensor$shape))
  model
}

# A tensor or a list of tensors as a list, checked.
tensor_list <- function(x, arg, expected, call, inputs_only = FALSE) {
  ok <- function(t) if (inputs_only) is_input_tensor(t) else is_tensor(t)
  if (is_tensor(x)) x <- list(x)
  if (!(is.list(x) && !is.object(x) && length(x) >= 1 && all(vapply(x, ok, TRUE)))) {
    selu_abort(sprintf("`%s` must be %s or a list of them, not %s.", arg, expected,
                       describe(x)), call = call)
  }
  unname(x)
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

# The model's calls of its layers (R/program.R's graphs): a Sequential
# model's are a chain.
model_graph <- function(self) if (is.null(self$graph)) chain_graph(self$steps) else self$graph

# The model's inputs and outputs: list(list(name, shape), ...). A
# Sequential model's input is named after its first layer, as keras names it.
model_inputs <- function(self) {
  if (is.null(self$graph)) {
    first <- if (length(self$steps)) paste0(self$steps[[1]]$name, "_input") else "input"
    return(list(list(name = first, shape = self$batch_input_shape)))
  }
  Map(function(layer, shape) list(name = layer$name, shape = shape), self$graph$input_layers,
      self$graph$input_shapes)
}

model_outputs <- function(self) {
  if (is.null(self$graph)) {
    name <- if (length(self$steps)) self$steps[[length(self$steps)]]$name else "output"
    return(list(list(name = name, shape = model_output_shape(self))))
  }
  names <- vapply(self$graph$output_layers, function(layer) layer$name, "")
  Map(function(name, shape) list(name = name, shape = shape), unique_keys(names),
      self$graph$output_shapes)
}

call_model <- function(self, inputs, training, call) {
  check_flag(training, "training", call = call)
  symbolic <- is_tensor(inputs) ||
    (is.list(inputs) && !is.object(inputs) && length(inputs) && all(vapply(inputs, is_tensor, TRUE)))
  if (symbolic) return(apply_graph_symbolic(self, inputs, call))
  if (is.null(self$graph) && is.null(self$batch_input_shape) && is_numeric_data(inputs)) {
    # as keras, a Sequential model without an input shape takes the data's
    shape <- c(NA_integer_, data_shape(inputs)[-1])
    graph_shapes(chain_graph(self$steps), list(shape), call, "`inputs`")
    self$batch_input_shape <- shape
  }
  run <- run_forward(self, inputs, "inputs", call = call, training = training)
  model_result(self, run$outputs)
}

# The model's layers called again on new symbolic tensors (one per input):
# the output tensor, or a list of them.
apply_graph_symbolic <- function(self, inputs, call) {
  graph <- model_graph(self)
  if (is_tensor(inputs)) inputs <- list(inputs)
  if (length(inputs) != length(graph$inputs)) {
    selu_abort(sprintf("`inputs` must be %d symbolic tensor%s for the model \"%s\", not %d.",
                       length(graph$inputs), if (length(graph$inputs) == 1) "" else "s",
                       self$name, length(inputs)), call = call)
  }
  tensors <- stats::setNames(unname(inputs), as.character(graph$inputs))
  what <- "`inputs`"
  for (node in graph$nodes) {
    tensors[[as.character(node$output)]] <- apply_symbolic(
      node$layer, unname(tensors[as.character(node$inputs)]), call = call, what = what)
    what <- "its input"
  }
  outputs <- unname(tensors[as.character(graph$outputs)])
  if (length(outputs) == 1) outputs[[1]] else outputs
}

# The outputs of a model as the user gets them: an array, or a list named
# by the outputs.
model_result <- function(self, outputs) {
  if (length(outputs) == 1) return(outputs[[1]])
  stats::setNames(outputs, vapply(model_outputs(self), function(o) o$name, ""))
}

# Inputs given for the model's inputs, checked: a list of numeric arrays in
# the inputs' order, with as many rows each. `x` is one array for a model of
# one input, else a list in the inputs' order or named by them.
model_data_inputs <- function(self, x, arg, call, who = NULL) {
  inputs <- model_inputs(self)
  if (is.null(who)) who <- sprintf("The model \"%s\"", self$name)
  if (is.null(inputs[[1]]$shape)) {
    selu_abort(sprintf("%s has no input shape yet: give its first layer an `input_shape`.",
                       who), kind = "shape", call = call)
  }
  names <- vapply(inputs, function(input) input$name, "")
  if (length(inputs) == 1) {
    if (is.list(x) && !is.object(x) && length(x) == 1) x <- x[[1]]
    xs <- list(x)
    args <- arg
  } else {
    if (!(is.list(x) && !is.object(x))) {
      selu_abort(sprintf("`%s` must be a list of %d arrays, one per input of the model \"%s\" (%s), not %s.",
                         arg, length(inputs), self$name,
                         paste0("\"", names, "\"", collapse = ", "), describe(x)), call = call)
    }
    given <- names(x)
    if (!is.null(given) && all(nzchar(given))) {
      unknown <- setdiff(given, names)
      if (length(unknown)) {
        selu_abort(sprintf("`%s` names the input \"%s\", which the model \"%s\" does not have; its inputs are %s.",
                           arg, unknown[1], self$name, paste0("\"", names, "\"", collapse = ", ")),
                   call = call)
      }
      absent <- setdiff(names, given)
      if (length(absent)) {
        selu_abort(sprintf("`%s` must hold an array for each input of the model \"%s\"; it has none for \"%s\".",
                           arg, self$name, absent[1]), call = call)
      }
      x <- x[names]
    } else if (length(x) != length(inputs)) {
      selu_abort(sprintf("`%s` must be a list of %d arrays, one per input of the model \"%s\" (%s), not of %d.",
                         arg, length(inputs), self$name,
                         paste0("\"", names, "\"", collapse = ", "), length(x)), call = call)
    }
    xs <- unname(x)
    args <- sprintf("%s[[\"%s\"]]", arg, names)
  }
  for (k in seq_along(xs)) {
    check_numeric_data(xs[[k]], args[k], call = call)
    expected <- inputs[[k]]$shape
    shape <- data_shape(xs[[k]])
    if (!shapes_compatible(expected, shape)) {
      hint <- if (is.null(dim(xs[[k]])) && length(expected) == 2) {
        " (one sample is a one-row matrix: `matrix(x, nrow = 1)`)"
      } else ""
      selu_abort(sprintf("The model \"%s\" expects input of shape %s%s, but `%s` has shape %s%s.",
                         self$name, format_shape(expected),
                         if (length(inputs) > 1) sprintf(" for \"%s\"", names[k]) else "",
                         args[k], format_shape(shape), hint), kind = "shape", call = call)
    }
  }
  rows <- vapply(xs, function(x) as.double(nrow_of(x)), 1)
  if (any(rows != rows[1])) {
    selu_abort(sprintf("`%s` must have as many rows for each input, not %s (%s).", arg,
                       paste(rows, collapse = ", "), paste0("\"", names, "\"", collapse = ", ")),
               kind = "shape", call = call)
  }
  xs
}

# Runs numeric data through the model in one batch (see run_graph()), after
# checking it against the model's inputs and each layer; with
# `grad_output` (an array or one number for one output, else a list of
# them), the inputs' gradients too. `who` names the model, e.g. "`object`,
# the model \"m\"," when the user passed it as `object`.
run_forward <- function(self, x, arg, call, training = FALSE, grad_output = NULL, who = NULL) {
  xs <- model_data_inputs(self, x, arg, call, who)
  graph <- model_graph(self)
  shapes <- graph_shapes(graph, lapply(xs, data_shape), call, sprintf("`%s`", arg))
  grads <- NULL
  if (!is.null(grad_output)) {
    grads <- if (length(shapes) == 1) list(grad_output) else grad_output
    if (!(is.list(grads) && !is.object(grads) && length(grads) == length(shapes))) {
      selu_abort(sprintf("`grad_output` must be a list of %d gradients, one per output, not %s.",
                         length(shapes), describe(grad_output)), call = call)
    }
    for (k in seq_along(shapes)) check_gradient(grads[[k]], shapes[[k]], call = call)
  }
  bound_blas_threads(yield_to_blas = FALSE)
  run_graph(graph, xs, training, grads, call = call, args = input_args(self, arg))
}

# How errors name each input of the model given as `arg`.
input_args <- function(self, arg) {
  inputs <- model_inputs(self)
  if (length(inputs) == 1) return(arg)
  sprintf("%s[[\"%s\"]]", arg, vapply(inputs, function(input) input$name, ""))
}

# The output shapes of a graph for inputs of `shapes`, each layer checking
# its input (and built for it). `what` names the inputs for errors.
graph_shapes <- function(graph, shapes, call, what) {
  known <- stats::setNames(shapes, as.character(graph$inputs))
  for (node in graph$nodes) {
    in_shapes <- unname(known[as.character(node$inputs)])
    known[[as.character(node$output)]] <- layer_output_shape(
      node$layer, if (takes_several(node$layer)) in_shapes else in_shapes[[1]], call = call,
      what = if (all(node$inputs %in% graph$inputs)) what else "its input")
  }
  unname(known[as.character(graph$outputs)])
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
#'   the memory used, and `predict()` takes it within 128 to 256 rows: fewer
#'   rows split a product badly over a threaded BLAS's threads, more stream
#'   the input from memory once per unit. On several threads
#'   ([selu_threads()]) the batches run side by side, a thread each, with
#'   the BLAS on one thread per batch; each row's output is the one a single
#'   thread gives.
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
  xs <- model_data_inputs(self, x, "x", call, who)
  if (length(xs) == 1 && is.null(dim(xs[[1]]))) {
    return(run_forward(self, x, "x", call = call, who = who)$outputs[[1]])
  }
  graph <- model_graph(self)
  shapes <- lapply(xs, data_shape)
  graph_shapes(graph, shapes, call, "`x`")
  n <- shapes[[1]][1]
  program <- graph_program(graph, shapes, "predict", call = call)
  check_embedding_ids(program, xs, input_args(self, "x"), call)
  out_shapes <- lapply(program$outputs, function(slot) c(n, program$shapes[[slot + 1L]][-1]))
  if (n == 0) return(model_result(self, lapply(out_shapes, function(shape) array(0, shape))))
  rows <- predict_batch_rows(batch_size, n)
  engine <- new_engine(program, rows)
  on.exit(engine_free(engine), add = TRUE)
  engine_load(engine)
  team <- engine_team(engine, ceiling(n / rows))
  on.exit(for (other in team[-1]) engine_free(other), add = TRUE)
  bound_blas_threads(blas_limit = team_blas_limit(team))
  outputs <- .Call(C_selu_engine_predict, lapply(team, `[[`, "ptr"),
                   lapply(xs, as_engine_input), rows)
  outputs <- Map(function(out, shape) {
    dim(out) <- shape
    # the names of x's rows, and of its columns when the output has x's shape
    if (length(xs) == 1 && identical(shape, dim(xs[[1]]))) {
      dimnames(out) <- dimnames(xs[[1]])
    } else if (!is.null(rownames(xs[[1]]))) {
      names <- vector("list", length(shape))
      names[1] <- list(rownames(xs[[1]]))
      dimnames(out) <- names
    }
    out
  }, outputs, out_shapes)
  model_result(self, outputs)
}

# Rows do not depend on each other in inference, so predict() runs batches
# of its own size, batch_size within MIN_BATCH_ROWS to MAX_BATCH_ROWS (and at
# most the rows there are). Beyond a few hundred rows a product streams its
# input from memory once per unit instead of from the CPU's caches (on the
# reference BLAS, 10,000 rows at a time took 1.6 times as long as 256).
# OpenBLAS splits a product among its threads by rows, and below about 128
# rows the split costs more than it saves (784-256-256-10 at 32 rows at a
# time took 1.6 times as long on two threads as on one, 64 rows 1.2 times).
predict_batch_rows <- function(batch_size, n) {
  as.integer(min(n, MAX_BATCH_ROWS, max(batch_size, MIN_BATCH_ROWS)))
}
MIN_BATCH_ROWS <- 128L
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
  bound_blas_threads(yield_to_blas = FALSE)
  if (inherits(object, "selu_layer")) {
    self <- layer_state(object)
    check_numeric_data(x, "x", call = call)
    check_input_shape(self, data_shape(x), "`x`", call = call,
                      who = sprintf("`object`, the layer \"%s\",", self$name))
    build_layer(self, data_shape(x), call = call, what = "`x`")
    check_gradient(grad_output, self$output_shape(self, data_shape(x)), call = call)
    return(run_graph(layer_graph(self, 1L), list(x), training, list(grad_output))$grads[[1]])
  }
  self <- model_state(object)
  grads <- run_forward(self, x, "x", call = call, training = training, grad_output = grad_output,
                       who = sprintf("`object`, the model \"%s\",", self$name))$grads
  if (length(grads) == 1) return(grads[[1]])
  stats::setNames(grads, vapply(model_inputs(self), function(input) input$name, ""))
}

#' @export
`$.selu_model` <- function(x, name) {
  self <- model_state(x)
  switch(name,
    name = self$name,
    layers = lapply(self$steps, function(step) step$object),
    input_shape = one_or_list(lapply(model_inputs(self), function(input) input$shape)),
    output_shape = one_or_list(lapply(model_outputs(self), function(output) output$shape)),
    selu_abort(sprintf("A model has no field `%s`; its fields are %s.", name,
                       paste0("`", model_fields, "`", collapse = ", ")),
               call = sys.call())
  )
}

model_fields <- c("name", "layers", "input_shape", "output_shape")

one_or_list <- function(x) if (length(x) == 1) x[[1]] else unname(x)

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
  if (is.null(self$graph) && is.null(self$batch_input_shape)) {
    return(c(title, paste(
      "This model has not been built yet: no summary is available until it",
      "knows its input shape (give its first layer an `input_shape`).")))
  }
  # keras adds the layers each one reads for a model that is not a chain
  connected <- !is.null(self$graph) && !is_chain(self$graph)
  if (connected) width <- 98L
  positions <- as.integer(width * if (connected) c(0.33, 0.55, 0.67, 1) else c(0.45, 0.85, 1))
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
  reads <- if (connected) graph_reads(self)
  rows <- vapply(seq_along(self$steps), function(i) {
    step <- self$steps[[i]]
    shape <- format_shape(shapes[[i]])
    if (step$class_name == "InputLayer") shape <- paste0("[", shape, "]")
    row(c(sprintf("%s (%s)", step$name, step$class_name), shape,
          format(sum(lengths(step$weights)), big.mark = ","), if (connected) reads[[i]]))
  }, "")
  weights <- unique_weight_counts(self)
  total <- sum(weights$count)
  trainable <- sum(weights$trainable)
  c(title,
    strrep("_", width),
    row(c("Layer (type)", "Output Shape", "Param #", if (connected) "Connected to")),
    strrep("=", width),
    paste(rows, collapse = "\n\n"),
    strrep("=", width),
    sprintf("Total params: %s", format(total, big.mark = ",")),
    sprintf("Trainable params: %s", format(trainable, big.mark = ",")),
    sprintf("Non-trainable params: %s", format(total - trainable, big.mark = ",")),
    strrep("_", width))
}

# Whether a graph is a chain: one input, one output, each layer called once
# on the one before.
is_chain <- function(graph) {
  if (length(graph$inputs) != 1 || length(graph$outputs) != 1) return(FALSE)
  previous <- graph$inputs
  for (node in graph$nodes) {
    if (!identical(as.numeric(node$inputs), as.numeric(previous))) return(FALSE)
    previous <- node$output
  }
  !anyDuplicated(vapply(graph$nodes, function(node) env_address(node$layer), ""))
}

# What each layer of a functional model reads, as keras's summary lists it:
# 'layer[call][0]' of each tensor.
graph_reads <- function(self) {
  links <- graph_links(self)
  lapply(links$inbound, function(calls) {
    refs <- unlist(lapply(calls, function(call) {
      vapply(call, function(ref) sprintf("'%s[%d][0]'", ref[[1]], ref[[2]]), "")
    }))
    paste0("[", paste(refs, collapse = ", "), "]")
  })
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
  if (self$class_name == "Sequential") {
    if (!is.null(self$batch_input_shape)) {
      config$build_input_shape <- shape_to_list(self$batch_input_shape)
    }
    return(structure(c(config, list(layers = layers)), class_name = self$class_name))
  }
  links <- graph_links(self)
  for (i in seq_along(layers)) {
    layers[[i]]$name <- self$steps[[i]]$name
    layers[[i]]["inbound_nodes"] <- list(links$inbound[[i]])
  }
  structure(c(config, list(layers = layers, input_layers = links$inputs,
                           output_layers = links$outputs)),
            class_name = self$class_name)
}

# A functional model's graph as keras's configuration links it: each
# layer's calls (inbound_nodes: for each call, [layer, call, 0, {}] of each
# tensor it reads), and its input and output tensors as [layer, call, 0].
graph_links <- function(self) {
  graph <- self$graph
  names <- vapply(self$steps, function(step) step$name, "")
  refs <- list()
  for (k in seq_along(graph$inputs)) {
    refs[[as.character(graph$inputs[k])]] <- list(graph$input_layers[[k]]$name, 0L, 0L)
  }
  calls <- integer(length(names))
  inbound <- rep(list(list()), length(names))
  for (node in graph$nodes) {
    at <- match(node$layer$name, names)
    refs[[as.character(node$output)]] <- list(node$layer$name, calls[at], 0L)
    inbound[[at]][[calls[at] + 1L]] <- lapply(as.character(node$inputs), function(id) {
      c(refs[[id]], list(json_object()))
    })
    calls[at] <- calls[at] + 1L
  }
  list(inbound = inbound, inputs = unname(refs[as.character(graph$inputs)]),
       outputs = unname(refs[as.character(graph$outputs)]))
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
  args <- config_args(config, c("name", "layers", "input_layers", "output_layers"), call = call)
  bad <- function(what) selu_abort(sprintf("`config` %s", what), call = call)
  build_functional(args$layers, args$input_layers, args$output_layers, args$name,
                   make_layer = function(entry) layer_from_entry(entry, call = call),
                   make_input = function(entry) {
                     input_from_shape(entry$config$batch_input_shape, entry$name,
                                      entry$config$dtype, call)
                   }, bad = bad)
}

input_from_shape <- function(shape, name, dtype, call) {
  shape <- check_shape(shape, "batch_input_shape", min_rank = 2L, call = call)
  layer_input(shape[-1], batch_size = if (!is.na(shape[1])) shape[1], name = name,
              dtype = dtype)
}

# A functional model from keras's configuration of one (get_config()'s, or
# keras's JSON): each entry a layer with its `name` and `inbound_nodes`,
# built by make_layer() (make_input() for an InputLayer) and called on the
# tensors its calls read, in an order where each call comes after what it
# reads. `bad(what)` signals an error in the configuration.
build_functional <- function(entries, input_refs, output_refs, name, make_layer, make_input,
                             bad) {
  if (!is.list(entries) || !length(entries)) bad("must hold the model's layers.")
  ref_key <- function(ref) {
    if (!(is.list(ref) && length(ref) >= 2 && is.character(ref[[1]]) && length(ref[[1]]) == 1 &&
          is.numeric(ref[[2]]) && length(ref[[2]]) == 1)) {
      bad("holds a link to a layer that is not [name, call, tensor].")
    }
    paste0(ref[[1]], "#", ref[[2]])
  }
  tensors <- list()
  pending <- list()
  for (entry in entries) {
    if (!is.list(entry) || !is.character(entry$name) || length(entry$name) != 1) {
      bad("must name each layer of a functional model.")
    }
    if (identical(entry$class_name, "InputLayer")) {
      tensors[[paste0(entry$name, "#0")]] <- make_input(entry)
      next
    }
    nodes <- entry$inbound_nodes
    if (!is.list(nodes) || !length(nodes)) {
      bad(sprintf("holds the layer \"%s\", which is not called on anything.", entry$name))
    }
    for (k in seq_along(nodes)) pending[[length(pending) + 1L]] <- list(entry = entry, call = k - 1L)
  }
  layers <- list()
  while (length(pending)) {
    ready <- vapply(pending, function(p) {
      all(vapply(p$entry$inbound_nodes[[p$call + 1L]], ref_key, "") %in% names(tensors))
    }, TRUE)
    if (!any(ready)) {
      bad(sprintf("holds the layer \"%s\", which reads a layer it does not hold or that reads it.",
                  pending[[1]]$entry$name))
    }
    for (p in pending[ready]) {
      entry <- p$entry
      if (is.null(layers[[entry$name]])) layers[[entry$name]] <- make_layer(entry)
      inputs <- unname(tensors[vapply(entry$inbound_nodes[[p$call + 1L]], ref_key, "")])
      tensors[[paste0(entry$name, "#", p$call)]] <-
        layers[[entry$name]](if (length(inputs) == 1) inputs[[1]] else inputs)
    }
    pending <- pending[!ready]
  }
  find <- function(refs, what) {
    if (!is.list(refs) || !length(refs)) bad(sprintf("must name the model's %s.", what))
    keys <- vapply(refs, ref_key, "")
    if (!all(keys %in% names(tensors))) bad(sprintf("names %s it does not hold.", what))
    unname(tensors[keys])
  }
  keras_model(find(input_refs, "inputs"), find(output_refs, "outputs"),
              name = if (is.character(name)) name)
}
