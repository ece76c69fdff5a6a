#' Get or remove a model's layers
#'
#' `get_layer()` gives one of a model's layers by `name` or by `index` (from
#' 1, as in `model$layers`: a Sequential model's layers without its input, a
#' functional model's with its inputs; negative from the end, -1 the last).
#' `pop_layer()` removes the last layer of a Sequential model, in place.
#'
#' @param object A model (`pop_layer()`: a Sequential model).
#' @param name A layer's name, or `NULL`.
#' @param index A layer's position, or `NULL`. Give `name` or `index`.
#' @return `get_layer()`: the layer. `pop_layer()`: `object`, invisibly.
#' @family models
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(8, name = "hidden") |>
#'   layer_activation_selu() |>
#'   layer_dense(1)
#' get_layer(model, "hidden")
#' get_layer(model, index = -1)
#' pop_layer(model)
#' length(model$layers)
get_layer <- function(object, name = NULL, index = NULL) {
  call <- sys.call()
  check_model(object, call = call)
  layers <- object$layers
  if (!length(layers)) {
    selu_abort(sprintf("`object`, the model \"%s\", has no layers.", object$name), call = call)
  }
  names <- vapply(layers, function(layer) layer$name, "")
  if (is.null(name) == is.null(index)) {
    selu_abort("Give one of `name` and `index`, not both and not neither.", call = call)
  }
  if (!is.null(name)) {
    name <- check_string(name, "name", call = call)
    if (!name %in% names) {
      selu_abort(sprintf("`name`: the model \"%s\" has no layer \"%s\"; its layers are %s.",
                         object$name, name, paste0("\"", names, "\"", collapse = ", ")),
                 call = call)
    }
    return(layers[[match(name, names)]])
  }
  n <- length(layers)
  if (!(length(index) == 1 && is_whole(index) && index != 0 && abs(index) <= n)) {
    selu_abort(sprintf("`index` must be a whole number from 1 to %d (or -%d to -1 from the end), not %s.",
                       n, n, describe(index)), call = call)
  }
  layers[[if (index < 0) n + index + 1 else index]]
}

#' @rdname get_layer
#' @export
pop_layer <- function(object) {
  call <- sys.call()
  check_model(object, call = call)
  if (!inherits(object, "selu_sequential")) {
    selu_abort(sprintf("`object` must be a Sequential model for pop_layer(), not %s.",
                       describe(object)), call = call)
  }
  self <- model_state(object)
  if (!length(self$steps)) {
    selu_abort(sprintf("`object`, the model \"%s\", has no layer to remove.", self$name),
               call = call)
  }
  self$steps <- self$steps[-length(self$steps)]
  # compiled settings were made for the old output
  self$compiled <- NULL
  invisible(object)
}

#' Train, test and predict on one batch
#'
#' keras' single-batch functions: `train_on_batch()` makes one optimizer
#' step on all the rows of `x` at once (as [fit()] does for each batch),
#' `test_on_batch()` gives the loss and metrics on them in inference mode
#' (as [evaluate()]), `predict_on_batch()` the outputs (as [predict()]).
#'
#' @inheritParams fit.selu_model
#' @return `train_on_batch()` and `test_on_batch()`: the loss, or, with
#'   metrics or several outputs, a named vector of the loss and the metrics
#'   (the batch's values, before the step for `train_on_batch()`).
#'   `predict_on_batch()`: the outputs, as [predict()] gives them.
#' @family training
#' @export
#' @examples
#' x <- matrix(rnorm(40), 10)
#' y <- rowSums(x)
#' model <- keras_model_sequential(input_shape = 4) |> layer_dense(1)
#' compile(model, optimizer = optimizer_sgd(0.1), loss = "mse")
#' train_on_batch(model, x, y)
#' train_on_batch(model, x, y)
#' test_on_batch(model, x, y)
#' predict_on_batch(model, x[1:2, ])
train_on_batch <- function(object, x, y, class_weight = NULL, sample_weight = NULL) {
  call <- sys.call()
  check_model(object, call = call)
  self <- model_state(object)
  compiled <- check_compiled(self, "train_on_batch()", call)
  if (missing(x)) abort_missing("x", "the inputs, a numeric matrix or array", call = call)
  if (missing(y)) abort_missing("y", "the targets, one per row of `x`", call = call)
  data <- training_data(self, compiled, x, y, sample_weight, class_weight, "x", "y", call)
  bound_blas_threads()
  metrics <- output_metrics(self, compiled, call)
  engine <- training_engine(self, compiled, data, data$n, call)
  check_embedding_ids(engine$program, data$xs, input_args(self, "x"), call)
  engine_load(engine, compiled$optimizer)
  on.exit(engine_store(engine, compiled$optimizer))
  on.exit(engine_free(engine), add = TRUE)
  rows <- seq_len(data$n)
  run <- engine_steps(engine, data, rows, data$n, compiled$optimizer,
                      outputs = has_metrics(metrics))
  if (!is.null(run$failure)) message_not_finite(run$failure, 1L, 1L)
  batch_scores(self, metrics, data, rows, run$steps[[1]])
}

#' @rdname train_on_batch
#' @export
test_on_batch <- function(object, x, y, sample_weight = NULL) {
  call <- sys.call()
  check_model(object, call = call)
  self <- model_state(object)
  compiled <- check_compiled(self, "test_on_batch()", call)
  if (missing(x)) abort_missing("x", "the inputs, a numeric matrix or array", call = call)
  if (missing(y)) abort_missing("y", "the targets, one per row of `x`", call = call)
  data <- training_data(self, compiled, x, y, sample_weight, NULL, "x", "y", call)
  bound_blas_threads()
  metrics <- output_metrics(self, compiled, call)
  engine <- training_engine(self, compiled, data, data$n, call, mode = "predict")
  on.exit(engine_free(engine), add = TRUE)
  check_embedding_ids(engine$program, data$xs, input_args(self, "x"), call)
  engine_load(engine)
  rows <- seq_len(data$n)
  run <- .Call(C_selu_engine_test, list(engine$ptr), data$xs, data$ys, data$weights,
               list(rows))[[1]]
  batch_scores(self, metrics, data, rows,
               list(loss = run[[1]], losses = run[[2]], outputs = output_arrays(engine, run[[3]])))
}

#' @rdname train_on_batch
#' @export
predict_on_batch <- function(object, x) {
  call <- sys.call()
  check_model(object, call = call)
  if (missing(x)) abort_missing("x", "a numeric matrix or array of the model's input shape")
  xs <- model_data_inputs(model_state(object), x, "x", call,
                          who = sprintf("`object`, the model \"%s\",", object$name))
  stats::predict(object, x, batch_size = max(1L, nrow_of(xs[[1]])))
}

# One batch's loss and metrics as keras gives them: the loss alone for one
# output without metrics, else a named vector.
batch_scores <- function(self, metrics, data, rows, step) {
  scores <- new_scores(metrics)
  add_scores(scores, metrics, data, rows, step)
  values <- unlist(score_values(scores, metrics))
  if (length(values) == 1) unname(values) else values
}

#' Clone a model
#'
#' A new model of the same layers, configurations and names, as keras'
#' `clone_model()`: new weights drawn by the layers' initializers, not
#' compiled. A layer the model calls more than once stays shared in the
#' clone.
#'
#' @param model A model.
#' @param input_tensors `NULL`, or symbolic tensors from [layer_input()]
#'   (one per input) for the clone to start from.
#' @param clone_function `NULL`, or a function of a layer giving the layer to
#'   use in its place (by default a new layer of its configuration).
#' @return A model.
#' @family models
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 3) |> layer_dense(2, name = "out")
#' copy <- clone_model(model)
#' copy$layers[[1]]$name
#' identical(get_weights(copy), get_weights(model))
clone_model <- function(model, input_tensors = NULL, clone_function = NULL) {
  call <- sys.call()
  check_model_arg(model, call)
  if (is.null(clone_function)) {
    clone_function <- function(layer) from_config(get_config(layer))
  } else if (!is.function(clone_function)) {
    selu_abort(sprintf("`clone_function` must be NULL or a function of a layer, not %s.",
                       describe(clone_function)), call = call)
  }
  self <- model_state(model)
  clone <- function(layer) {
    failed <- function(e) {
      selu_abort(sprintf("`clone_function` failed on the layer \"%s\": %s", layer$name,
                         conditionMessage(e)), call = call)
    }
    new <- withCallingHandlers(tryCatch(clone_function(layer$object), error = failed),
                               warning = failed)
    if (!is_layer(new)) {
      selu_abort(sprintf("`clone_function` must give a layer for layer \"%s\", not %s.",
                         layer$name, describe(new)), call = call)
    }
    new
  }
  if (self$class_name == "Sequential" && is.null(input_tensors)) {
    return(keras_model_sequential(lapply(self$steps, clone), name = self$name,
                                  batch_input_shape = self$batch_input_shape))
  }
  inputs <- model_inputs(self)
  if (is.null(input_tensors)) {
    input_tensors <- lapply(inputs, function(input) {
      layer_input(input$shape[-1], batch_size = if (!is.na(input$shape[1])) input$shape[1],
                  name = input$name)
    })
  }
  input_tensors <- tensor_list(input_tensors, "input_tensors",
                               "a symbolic tensor from layer_input()", call, inputs_only = TRUE)
  if (length(input_tensors) != length(inputs)) {
    selu_abort(sprintf("`input_tensors` must be %d tensor%s, one per input of the model, not %d.",
                       length(inputs), if (length(inputs) == 1) "" else "s",
                       length(input_tensors)), call = call)
  }
  graph <- model_graph(self)
  tensors <- stats::setNames(input_tensors, as.character(graph$inputs))
  clones <- list()
  for (node in graph$nodes) {
    key <- env_address(node$layer)
    if (node$layer$class_name == "InputLayer") {
      tensors[[as.character(node$output)]] <- tensors[[as.character(node$inputs)]]
      next
    }
    if (is.null(clones[[key]])) clones[[key]] <- clone(node$layer)
    inputs_k <- unname(tensors[as.character(node$inputs)])
    tensors[[as.character(node$output)]] <-
      clones[[key]](if (length(inputs_k) == 1) inputs_k[[1]] else inputs_k)
  }
  keras_model(unname(tensors[as.character(graph$inputs)]),
              unname(tensors[as.character(graph$outputs)]), name = self$name)
}
