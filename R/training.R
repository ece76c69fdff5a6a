# Training: compile(), fit() and evaluate(). The loop over epochs and
# batches, callbacks, progress and history are here; each batch's forward
# pass, loss, backward pass and update is one call into the engine
# (R/engine.R, src/engine.c).

#' Configure a model for training
#'
#' Sets the optimizer, the loss and the metrics that [fit()] and
#' [evaluate()] use, as keras' `compile()`. The model is changed in place
#' (every name bound to it sees it) and returned invisibly, so it pipes.
#' Compiling again replaces the three and keeps the weights.
#'
#' @param object A model from [keras_model_sequential()] or [keras_model()].
#' @param optimizer An optimizer ([optimizer_adam()] and its siblings) or its
#'   name: `"rmsprop"` (the default, as in keras), `"adam"`, `"sgd"`,
#'   `"adagrad"`. A name gives a new optimizer with keras' defaults.
#' @param loss A loss ([loss_mean_squared_error()] and its siblings) or its
#'   name: `"mse"`, `"mae"`, `"binary_crossentropy"`,
#'   `"categorical_crossentropy"`, `"sparse_categorical_crossentropy"`,
#'   `"huber"`. A cross-entropy after a softmax or sigmoid output is computed
#'   from that output's logits, as keras does: stable for any scale.
#' @param metrics `NULL` or metrics ([metric_auc()] and its siblings) or
#'   their names (`"accuracy"`, `"mae"`, `"mse"`, `"auc"`, ...), in a
#'   character vector or a list.
#' @param ... Not used; an error if given.
#' @return `object`, invisibly.
#' @family training
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(3, activation = "softmax")
#' compile(model, optimizer = optimizer_adam(), loss = "sparse_categorical_crossentropy",
#'         metrics = "accuracy")
compile <- function(object, optimizer = "rmsprop", loss = NULL, metrics = NULL, ...) {
  call <- sys.call()
  check_model(object, call = call)
  check_empty_dots(list(...), call = call)
  self <- model_state(object)
  if (is.null(loss)) {
    abort_missing("loss", sprintf("a loss or its name, one of %s",
                                  paste0("\"", loss_names(), "\"", collapse = ", ")), call = call)
  }
  optimizer <- as_optimizer(optimizer, "optimizer", call)
  loss <- as_loss(loss, "loss", call)
  shape <- model_output_shape(self)
  # metrics are resolved against the output shape; without one, at fit()
  if (!is.null(shape)) as_metrics(metrics, loss, shape, call)
  else if (!is.null(metrics)) as_metrics(metrics, loss, c(NA, NA), call)
  self$compiled <- list(optimizer = optimizer, loss = loss, metrics = metrics)
  invisible(object)
}

loss_names <- function() {
  c("mse", "mae", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "huber")
}

check_compiled <- function(self, what, call) {
  if (is.null(self$compiled)) {
    selu_abort(sprintf(paste(
      "`object`, the model \"%s\", must be compiled before %s: call",
      "compile(object, optimizer = , loss = ) first."), self$name, what),
      kind = "state", call = call)
  }
  self$compiled
}

#' Train a model
#'
#' Trains a compiled model on `x` and `y` for a number of epochs, as keras'
#' `fit()`: each epoch goes once through the training rows in batches
#' (shuffled unless `shuffle = FALSE`), and for each batch runs the forward
#' pass in training mode (dropout and alpha dropout on), the loss and its
#' gradient, the backward pass and the optimizer's update of every
#' trainable weight. Calling `fit()` again continues from the weights and
#' the optimizer's state where the last call stopped.
#'
#' The model is trained in place. Data is never copied whole: batches are
#' taken from `x` by rows, and the validation rows of `validation_split` are
#' the last rows of `x` and `y`, before any shuffling, as in keras.
#'
#' A loss that is not finite (NaN or infinite) stops training with a message
#' before the update it would make, so the weights stay those of the last
#' finished batch. An interrupt (Ctrl-C) stops training the same way: the
#' model keeps the weights of the last finished batch, and `fit()` returns
#' the history of the finished epochs.
#'
#' With `set.seed()` before building and fitting a model, training is
#' reproducible bit for bit, whatever [selu_threads()] is.
#'
#' The model compiles to a program of ops that the package's engine runs in
#' C, each batch in one call: the forward pass, the loss with the
#' regularizers' penalties, the backward pass and the optimizer's update
#' (with clipping and constraints), on buffers made once per `fit()`, so
#' that a step allocates little more than its output. [predict()],
#' [evaluate()] and [backward()] run the same ops. An activation given as an
#' R function runs that function in the forward pass; having no gradient, it
#' cannot be trained through (an error, before any weight changes).
#'
#' @param object A compiled model.
#' @param x The inputs: a numeric matrix or array whose first dimension is
#'   the batch axis, matching the model's input shape.
#' @param y The targets, one per row of `x`: for
#'   `"sparse_categorical_crossentropy"` the classes as whole numbers from 0
#'   (as keras) or a factor; for `"categorical_crossentropy"` a one-hot
#'   matrix; otherwise an array of the output's shape (a vector for a single
#'   output).
#' @param batch_size The number of rows per batch; `NULL` is 32, as in keras.
#' @param epochs The index of the last epoch: training runs from
#'   `initial_epoch + 1` to `epochs`.
#' @param verbose `0` (silent), `1` (a progress bar within each epoch), `2`
#'   (one line per epoch) or `"auto"`: `1` in an interactive session, `2`
#'   otherwise.
#' @param callbacks `NULL`, a callback ([callback_early_stopping()] and its
#'   siblings) or a list of them.
#' @param validation_split A fraction of the rows, in \[0, 1), held out (the
#'   last ones) to compute the validation loss and metrics after each epoch.
#' @param validation_data `NULL` or `list(x_val, y_val)` (or with a third
#'   element, the validation sample weights): used instead of
#'   `validation_split`.
#' @param shuffle `TRUE` (the default) to shuffle the training rows before
#'   each epoch.
#' @param class_weight `NULL` or a named numeric vector or list of weights by
#'   class, the names being the classes from 0 (`c("0" = 1, "1" = 5)`):
#'   each row's loss is weighted by its class's weight.
#' @param sample_weight `NULL` or one non-negative weight per row of `x`.
#' @param initial_epoch The epoch to start from (to continue an earlier
#'   run's epoch numbers).
#' @param ... Not used; an error if given.
#' @return Invisibly, a training history, of class `keras_training_history`, with
#'   `print()`, `plot()` and `as.data.frame()` methods: `$params` and
#'   `$metrics` (the loss and each metric per epoch, `val_` for the
#'   validation data).
#' @family training
#' @export
#' @examples
#' set.seed(1)
#' x <- as.matrix(iris[, 1:4])
#' y <- as.integer(iris$Species) - 1
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(16, kernel_initializer = "lecun_normal", activation = "selu") |>
#'   layer_dense(3, activation = "softmax")
#' compile(model, optimizer = optimizer_adam(0.01),
#'         loss = "sparse_categorical_crossentropy", metrics = "accuracy")
#' history <- fit(model, scale(x), y, epochs = 20, verbose = 0, validation_split = 0.2)
#' history
fit <- function(object, x, y, batch_size = NULL, epochs = 10, verbose = "auto",
                callbacks = NULL, validation_split = 0, validation_data = NULL,
                shuffle = TRUE, class_weight = NULL, sample_weight = NULL,
                initial_epoch = 0, ...) {
  call <- sys.call()
  check_model(object, call = call)
  check_empty_dots(list(...), call = call)
  self <- model_state(object)
  compiled <- check_compiled(self, "fit()", call)
  if (missing(x)) abort_missing("x", "the inputs, a numeric matrix or array", call = call)
  if (missing(y)) abort_missing("y", "the targets, one per row of `x`", call = call)
  data <- training_data(self, compiled$loss, x, y, sample_weight, class_weight, "x", "y",
                        call)
  bound_blas_threads()
  batch_size <- if (is.null(batch_size)) 32L else check_count(batch_size, "batch_size", call)
  epochs <- check_count(epochs, "epochs", call = call)
  initial_epoch <- check_initial_epoch(initial_epoch, epochs, call)
  verbose <- check_verbose(verbose, call)
  shuffle <- check_flag(shuffle, "shuffle", call = call)
  callbacks <- as_callbacks(callbacks, call)
  validation_split <- check_split_fraction(validation_split, "validation_split", call)
  n <- data$n
  train_rows <- seq_len(n)
  validation <- NULL
  if (!is.null(validation_data)) {
    validation <- validation_set(self, compiled$loss, validation_data, call)
  } else if (validation_split > 0) {
    split_at <- floor(n * (1 - validation_split))
    if (split_at < 1 || split_at >= n) {
      selu_abort(sprintf(paste(
        "`validation_split` = %s of %d rows leaves %s: give a fraction that keeps",
        "rows for both."), format(validation_split), n,
        if (split_at < 1) "no training rows" else "no validation rows"), call = call)
    }
    validation <- c(data, list(rows = seq.int(split_at + 1, n)))
    train_rows <- seq_len(split_at)
  }
  validation_samples <- if (!is.null(validation)) length(validation$rows)
  metrics <- as_metrics(compiled$metrics, compiled$loss, model_output_shape(self), call)
  data$x <- as_engine_input(data$x)
  if (!is.null(validation)) validation$x <- as_engine_input(validation$x)
  engine <- training_engine(self, compiled, min(batch_size, max(data$n, validation$n)), call)
  steps <- ceiling(length(train_rows) / batch_size)
  params <- list(verbose = verbose, epochs = epochs, steps = steps,
                 samples = length(train_rows), batch_size = batch_size,
                 validation_samples = validation_samples)
  trainer <- new_trainer(object, compiled$optimizer, params)
  # callbacks that run per batch see the weights of each step
  per_batch <- any(vapply(callbacks, function(callback) {
    !is.null(callback$on_batch_begin) || !is.null(callback$on_batch_end)
  }, TRUE))
  callbacks <- c(list(callback_progress(verbose)), callbacks)
  for (callback in callbacks) if (!is.null(callback$set_trainer)) callback$set_trainer(trainer)

  keys <- c("loss", names(metrics))
  if (!is.null(validation)) keys <- c(keys, paste0("val_", keys))
  history <- stats::setNames(rep(list(numeric(0)), length(keys)), keys)
  rates <- numeric(0) # the learning rate of each epoch, at its end
  position <- list(epoch = initial_epoch, batch = 0L)
  run_callbacks(callbacks, "on_train_begin", list())
  outcome <- tryCatch({
    for (epoch in seq.int(initial_epoch + 1L, epochs)) {
      position$epoch <- epoch
      run_callbacks(callbacks, "on_epoch_begin", epoch - 1L, list())
      rows <- if (shuffle) train_rows[sample.int(length(train_rows))] else train_rows
      logs <- run_epoch(engine, compiled, metrics, data, rows, batch_size, callbacks,
                        trainer, position, per_batch)
      if (is.null(logs)) break
      if (!is.null(validation)) {
        scores <- evaluate_rows(engine, metrics, validation, validation$rows, batch_size)
        logs[paste0("val_", names(scores))] <- as.list(scores)
      }
      for (key in keys) history[[key]] <- c(history[[key]], logs[[key]])
      rates <- c(rates, current_learning_rate(compiled$optimizer))
      run_callbacks(callbacks, "on_epoch_end", epoch - 1L, logs)
      if (trainer$stop_training) break
    }
    "done"
  }, interrupt = function(condition) "interrupted")
  run_callbacks(callbacks, "on_train_end", list())
  if (identical(outcome, "interrupted")) {
    message(sprintf(paste(
      "Training was interrupted in epoch %d: the model keeps the weights of its last",
      "finished batch, and the history holds the %d finished epoch%s."),
      trainer$position$epoch, length(history$loss), if (length(history$loss) == 1) "" else "s"))
  }
  # the learning rate, when it changed during training (a callback, a schedule)
  if (length(unique(rates)) > 1 || learning_rate_changes(compiled$optimizer)) {
    history$lr <- rates[seq_along(history$loss)]
  }
  params$epochs <- epochs
  invisible(new_history(params, history))
}

# The engine that trains the model: its program, with the loss of its
# output and the optimizer, for batches of batch_size rows.
training_engine <- function(self, compiled, batch_size, call, mode = "train") {
  program <- model_program(self$steps, self$batch_input_shape, mode, call = call)
  training <- list(losses = list(loss_program_spec(program, compiled$loss, program$outputs)),
                   optimizer = optimizer_program_spec(compiled$optimizer))
  new_engine(program, batch_size, training = training)
}

# One epoch over `rows` in batches; the logs of the epoch (loss and
# metrics), or NULL when a loss that is not finite stopped training. The
# steps run on the engine's copy of the weights, which the model gets back
# when the epoch ends, however it ends (and after each step for callbacks
# that run per batch: `per_batch`).
run_epoch <- function(engine, compiled, metrics, data, rows, batch_size, callbacks, trainer,
                      position, per_batch = FALSE) {
  engine_load(engine, compiled$optimizer)
  on.exit(engine_store(engine, compiled$optimizer))
  states <- lapply(metrics, metric_reset)
  loss_sum <- 0
  seen <- 0
  starts <- seq.int(1, length(rows), by = batch_size)
  for (b in seq_along(starts)) {
    batch_rows <- rows[starts[b]:min(starts[b] + batch_size - 1, length(rows))]
    trainer$position <- list(epoch = position$epoch, batch = b)
    run_callbacks(callbacks, "on_batch_begin", b - 1L, list(batch = b - 1L,
                                                             size = length(batch_rows)))
    if (per_batch) engine_load(engine)
    rate <- current_learning_rate(compiled$optimizer, engine_iterations(engine))
    step <- engine_step(engine, data, batch_rows, rate, outputs = length(metrics) > 0)
    if (per_batch) engine_store(engine)
    if (!is.null(step$failure)) {
      message_not_finite(step$failure, position$epoch, b)
      return(NULL)
    }
    n <- length(batch_rows)
    loss_sum <- loss_sum + step$loss * n
    seen <- seen + n
    if (length(metrics)) {
      yb <- take_rows(data$y, batch_rows)
      wb <- if (!is.null(data$weights)) data$weights[batch_rows]
      for (key in names(metrics)) {
        states[[key]] <- metric_update(metrics[[key]], states[[key]], yb, step$output, wb)
      }
    }
    logs <- c(list(batch = b - 1L, size = n, loss = loss_sum / seen),
              lapply(stats::setNames(names(metrics), names(metrics)),
                     function(key) metric_result(metrics[[key]], states[[key]])))
    run_callbacks(callbacks, "on_batch_end", b - 1L, logs)
    if (trainer$stop_training) break
  }
  logs[c("batch", "size")] <- NULL
  logs
}

# One training step on a batch: list(loss, output, failure), the failure
# NULL or why no update was made (then nothing changed).
engine_step <- function(engine, data, rows, learning_rate, outputs) {
  step <- .Call(C_selu_engine_step, engine$ptr, list(data$x), list(data$y), data$weights,
                as.integer(rows), as.double(learning_rate), draw_masks(engine, length(rows)),
                outputs)
  failure <- switch(step[[3]] + 1L, NULL, sprintf("the loss is %s", format(step[[1]])),
                    "the update makes weights that are not finite")
  list(loss = step[[1]], output = if (outputs) output_array(engine, step[[4]][[1]]),
       failure = failure)
}

# An output matrix of the engine (rows x width) in the output's shape.
output_array <- function(engine, values) {
  program <- engine$program
  dim(values) <- c(nrow(values), program$shapes[[program$outputs + 1L]][-1])
  values
}

# A message, as keras' TerminateOnNaN prints one: training ends normally.
message_not_finite <- function(what, epoch, batch) {
  message(structure(class = c("selu_message_not_finite", "selu_message", "message", "condition"),
    list(message = sprintf(paste(
      "Training stopped in epoch %d, batch %d: %s. The model keeps the weights of",
      "the last finished batch; a lower learning rate, scaled inputs or gradient",
      "clipping (`clipnorm`) may help.\n"), epoch, batch, what), call = NULL)))
}

# The weights the optimizer updates: none of a frozen layer, and never those
# a layer keeps as state (`non_trainable`, such as batch normalization's
# moving statistics).
trainable_weight_names <- function(step) {
  if (!step$trainable) return(character(0))
  setdiff(names(step$weights), step$non_trainable)
}

new_trainer <- function(model, optimizer, params) {
  trainer <- new.env(parent = emptyenv())
  trainer$model <- model
  trainer$optimizer <- optimizer
  trainer$params <- params
  trainer$stop_training <- FALSE
  trainer$position <- list(epoch = 0L, batch = 0L)
  trainer$get_weights <- function() get_weights(model)
  trainer$set_weights <- function(weights) set_weights(model, weights)
  trainer
}

#' Evaluate a model
#'
#' The loss and the metrics of a compiled model on data, in inference mode
#' (dropout off), as keras' `evaluate()`: the loss includes the
#' regularizers' penalties, and each is the mean over all rows.
#'
#' @inheritParams fit
#' @param verbose `0` (silent, the default here) or `1` / `2` (print the
#'   results in one line); `"auto"` is 0.
#' @return A named numeric vector: `loss`, then each metric.
#' @family training
#' @export
#' @examples
#' x <- matrix(c(0, 1, 2, 3), ncol = 1)
#' model <- keras_model_sequential(input_shape = 1) |>
#'   layer_dense(1, kernel_initializer = "ones")
#' compile(model, loss = "mse", metrics = "mae")
#' evaluate(model, x, 2 * x)
evaluate <- function(object, x, y, batch_size = NULL, verbose = "auto", sample_weight = NULL,
                     ...) {
  call <- sys.call()
  check_model(object, call = call)
  check_empty_dots(list(...), call = call)
  self <- model_state(object)
  compiled <- check_compiled(self, "evaluate()", call)
  if (missing(x)) abort_missing("x", "the inputs, a numeric matrix or array", call = call)
  if (missing(y)) abort_missing("y", "the targets, one per row of `x`", call = call)
  data <- training_data(self, compiled$loss, x, y, sample_weight, NULL, "x", "y", call)
  bound_blas_threads()
  batch_size <- if (is.null(batch_size)) 32L else check_count(batch_size, "batch_size", call)
  verbose <- if (identical(verbose, "auto")) 0L else check_verbose(verbose, call)
  metrics <- as_metrics(compiled$metrics, compiled$loss, model_output_shape(self), call)
  data$x <- as_engine_input(data$x)
  engine <- training_engine(self, compiled, min(batch_size, data$n), call, mode = "predict")
  engine_load(engine)
  scores <- evaluate_rows(engine, metrics, data, seq_len(data$n), batch_size)
  if (verbose > 0) {
    cat(paste(sprintf("%s: %.4f", names(scores), scores), collapse = " - "), "\n", sep = "")
  }
  scores
}

# The loss (with penalties) and the metrics over `rows` of checked data, in
# inference mode, on an engine holding the model's weights.
evaluate_rows <- function(engine, metrics, data, rows, batch_size) {
  states <- lapply(metrics, metric_reset)
  total <- 0
  for (start in seq.int(1, length(rows), by = batch_size)) {
    batch_rows <- rows[start:min(start + batch_size - 1, length(rows))]
    run <- .Call(C_selu_engine_test, engine$ptr, list(data$x), list(data$y), data$weights,
                 as.integer(batch_rows))
    total <- total + run[[1]] * length(batch_rows)
    if (length(metrics)) {
      yb <- take_rows(data$y, batch_rows)
      wb <- if (!is.null(data$weights)) data$weights[batch_rows]
      output <- output_array(engine, run[[3]][[1]])
      for (key in names(metrics)) {
        states[[key]] <- metric_update(metrics[[key]], states[[key]], yb, output, wb)
      }
    }
  }
  c(loss = total / length(rows),
    vapply(names(metrics), function(key) metric_result(metrics[[key]], states[[key]]), 0))
}

# x, y and the row weights, checked against the model and each other.
training_data <- function(self, loss, x, y, sample_weight, class_weight, x_arg, y_arg, call) {
  check_numeric_data(x, x_arg, call = call)
  if (is.null(self$batch_input_shape)) {
    selu_abort(sprintf("The model \"%s\" has no input shape yet: give its first layer an `input_shape`.",
                       self$name), kind = "shape", call = call)
  }
  check_model_input(self, x, x_arg, call)
  check_all_finite(x, x_arg, call)
  n <- nrow_of(x)
  if (is.data.frame(y)) {
    selu_abort(sprintf("`%s` must be a numeric vector, matrix or array or a factor, not a data frame.",
                       y_arg), call = call)
  }
  if (!is.null(y) && nrow_of(y) != n) {
    selu_abort(sprintf("`%s` must have one target per row of `%s`: `%s` has %d rows, `%s` %d.",
                       y_arg, x_arg, x_arg, n, y_arg, nrow_of(y)), call = call)
  }
  y <- check_targets(loss, y, model_output_shape(self), y_arg, call)
  weights <- NULL
  if (!is.null(sample_weight)) {
    if (!(is.numeric(sample_weight) && !is.object(sample_weight) &&
          length(sample_weight) == n && all(is.finite(sample_weight)) &&
          all(sample_weight >= 0))) {
      selu_abort(sprintf("`sample_weight` must be NULL or %d finite non-negative numbers, one per row of `%s`, not %s.",
                         n, x_arg, describe(sample_weight)), call = call)
    }
    weights <- as.double(sample_weight)
  }
  if (!is.null(class_weight)) {
    by_class <- check_class_weight(class_weight, call)
    classes <- target_classes(y)
    w <- by_class[as.character(classes)]
    w[is.na(w)] <- 1
    weights <- if (is.null(weights)) unname(w) else weights * unname(w)
  }
  list(x = x, y = y, weights = weights, n = n)
}

validation_set <- function(self, loss, validation_data, call) {
  if (!(is.list(validation_data) && !is.object(validation_data) &&
        length(validation_data) %in% 2:3)) {
    selu_abort(sprintf("`validation_data` must be NULL or list(x_val, y_val) (with optional sample weights third), not %s.",
                       describe(validation_data)), call = call)
  }
  data <- withCallingHandlers(
    training_data(self, loss, validation_data[[1]], validation_data[[2]],
                  if (length(validation_data) == 3) validation_data[[3]], NULL,
                  "validation_data[[1]]", "validation_data[[2]]", call),
    selu_error = function(e) {
      if (!grepl("`validation_data", conditionMessage(e), fixed = TRUE)) {
        selu_abort(paste("In `validation_data`:", conditionMessage(e)), kind = error_kind(e),
                   call = call)
      }
    })
  c(data, list(rows = seq_len(data$n)))
}

check_all_finite <- function(x, arg, call) {
  # a sum is finite only if every element is (or it overflowed: then look)
  if (!is.finite(sum(x)) && !all(is.finite(x))) {
    first <- which(!is.finite(x))[1]
    selu_abort(sprintf("`%s` must hold finite numbers, but element %d is %s.", arg, first,
                       format(x[first])), call = call)
  }
  invisible(x)
}

check_class_weight <- function(class_weight, call) {
  values <- if (is.list(class_weight) && !is.object(class_weight)) {
    if (all(vapply(class_weight, function(w) is.numeric(w) && length(w) == 1, TRUE))) {
      unlist(class_weight)
    }
  } else class_weight
  if (!(is.numeric(values) && !is.object(values) && length(values) >= 1 &&
        !is.null(names(values)) && all(grepl("^[0-9]+$", names(values))) &&
        !anyDuplicated(names(values)) && all(is.finite(values)) && all(values >= 0))) {
    selu_abort(sprintf(paste(
      "`class_weight` must be NULL or non-negative numbers named by class from 0,",
      "e.g. c(\"0\" = 1, \"1\" = 5), not %s."), describe(class_weight)), call = call)
  }
  stats::setNames(as.double(values), as.character(as.integer(names(values))))
}

# Each row's class, for class weights: the label, the largest column of a
# one-hot matrix, or a binary target rounded.
target_classes <- function(y) {
  if (is.integer(y) && is.null(dim(y))) return(y)
  d <- dim(y)
  if (!is.null(d) && length(d) == 2 && d[2] > 1) return(max.col(y, ties.method = "first") - 1L)
  as.integer(round(as.vector(y)))
}

check_initial_epoch <- function(initial_epoch, epochs, call) {
  if (!(length(initial_epoch) == 1 && is_whole(initial_epoch) && initial_epoch >= 0 &&
        initial_epoch < epochs)) {
    selu_abort(sprintf("`initial_epoch` must be a whole number from 0 to `epochs` - 1 = %d, not %s.",
                       epochs - 1L, describe(initial_epoch)), call = call)
  }
  as.integer(initial_epoch)
}

check_verbose <- function(verbose, call) {
  if (identical(verbose, "auto")) return(if (interactive()) 1L else 2L)
  if (!(length(verbose) == 1 && is_whole(verbose) && verbose %in% 0:2)) {
    selu_abort(sprintf("`verbose` must be 0, 1, 2 or \"auto\", not %s.", describe(verbose)),
               call = call)
  }
  as.integer(verbose)
}

check_split_fraction <- function(x, arg, call) {
  if (!(is.numeric(x) && !is.object(x) && length(x) == 1 && !is.na(x) && x >= 0 && x < 1)) {
    selu_abort(sprintf("`%s` must be a single number in [0, 1), not %s.", arg, describe(x)),
               call = call)
  }
  as.double(x)
}

nrow_of <- function(x) {
  d <- dim(x)
  if (is.null(d)) length(x) else d[1]
}

# Rows of a vector, matrix or array (the first axis), as doubles or as the
# integer classes they are.
take_rows <- function(x, rows) {
  d <- dim(x)
  if (is.null(d)) return(x[rows])
  if (length(d) == 2) return(x[rows, , drop = FALSE])
  do.call(`[`, c(list(x, rows), rep(list(quote(expr = )), length(d) - 1), list(drop = FALSE)))
}

# The loss of a compiled model on data in training mode and the gradients
# of its trainable weights, keyed "<layer>/<weight>", without an update (for
# the tests' checks against finite differences and other frameworks).
model_gradients <- function(model, x, y, sample_weight = NULL) {
  self <- model_state(model)
  compiled <- check_compiled(self, "model_gradients()", NULL)
  data <- training_data(self, compiled$loss, x, y, sample_weight, NULL, "x", "y", NULL)
  engine <- training_engine(self, compiled, data$n, NULL)
  engine_load(engine)
  run <- .Call(C_selu_engine_gradients, engine$ptr, list(as_engine_input(data$x)), list(data$y),
               data$weights, seq_len(data$n), draw_masks(engine, data$n))
  program <- engine$program
  grads <- list()
  for (k in which(!vapply(run[[2]], is.null, TRUE))) {
    owner <- program$owners[[k]]
    grads[[program$keys[k]]] <- keep_attributes(run[[2]][[k]], owner$layer$weights[[owner$name]])
  }
  list(loss = run[[1]], gradients = grads)
}
