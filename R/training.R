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
#'   from that output's logits, as keras does: stable for any scale. For a
#'   model with several outputs, one loss for all, or a list of them (in the
#'   outputs' order, or named by the output layers' names).
#' @param metrics `NULL` or metrics ([metric_auc()] and its siblings) or
#'   their names (`"accuracy"`, `"mae"`, `"mse"`, `"auc"`, ...), in a
#'   character vector or a list. For a model with several outputs, these
#'   serve every output, or give a list of them per output (in the outputs'
#'   order, or named by them).
#' @param loss_weights `NULL` (1 each) or, for a model with several outputs,
#'   a weight per output (in the outputs' order, or named by them): fit()
#'   minimizes the weighted sum of the outputs' losses.
#' @param ... Not used; an error if given.
#' @return `object`, invisibly.
#' @family training
#' @method compile selu_model
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(3, activation = "softmax")
#' compile(model, optimizer = optimizer_adam(), loss = "sparse_categorical_crossentropy",
#'         metrics = "accuracy")
compile.selu_model <- function(object, optimizer = "rmsprop", loss = NULL, metrics = NULL,
                               loss_weights = NULL, ...) {
  call <- sys.call()
  check_model(object, call = call)
  check_empty_dots(list(...), call = call)
  self <- model_state(object)
  if (is.null(loss)) {
    abort_missing("loss", sprintf("a loss or its name, one of %s",
                                  paste0("\"", loss_names(), "\"", collapse = ", ")), call = call)
  }
  optimizer <- as_optimizer(optimizer, "optimizer", call)
  outputs <- model_outputs(self)
  names <- vapply(outputs, function(output) output$name, "")
  losses <- per_output(loss, names, "loss", call, is_one = function(x) {
    is_loss(x) || (is.character(x) && length(x) == 1)
  })
  losses <- Map(function(l, name) {
    as_loss(l, if (length(names) > 1) sprintf("loss[[\"%s\"]]", name) else "loss", call)
  }, losses, names)
  weights <- per_output(if (is.null(loss_weights)) 1 else loss_weights, names, "loss_weights",
                        call, is_one = function(x) is.numeric(x) && length(x) == 1)
  weights <- vapply(seq_along(weights), function(k) {
    check_finite_number(weights[[k]], "loss_weights", min = 0, call = call)
  }, 1)
  metrics <- per_output(metrics, names, "metrics", call, is_one = function(x) {
    is.null(x) || is_metric(x) || is.character(x)
  })
  # metrics are resolved against the output shape; without one, at fit()
  for (k in seq_along(outputs)) {
    shape <- outputs[[k]]$shape
    as_metrics(metrics[[k]], losses[[k]], if (is.null(shape)) c(NA, NA) else shape, call)
  }
  self$compiled <- list(optimizer = optimizer, losses = losses, loss_weights = weights,
                        metrics = metrics)
  invisible(object)
}

# One setting per output, from one for all, a list in the outputs' order or
# a list named by them. `is_one` tells a setting for all from a list of them.
per_output <- function(x, names, arg, call, is_one) {
  n <- length(names)
  if (is_one(x) || n == 1) return(stats::setNames(rep(list(x), n), names))
  if (!(is.list(x) || is.atomic(x)) || is.object(x)) {
    selu_abort(sprintf("`%s` must be one setting for every output or one per output (%s), not %s.",
                       arg, paste0("\"", names, "\"", collapse = ", "), describe(x)), call = call)
  }
  x <- as.list(x)
  given <- names(x)
  if (!is.null(given) && all(nzchar(given))) {
    unknown <- setdiff(given, names)
    if (length(unknown)) {
      selu_abort(sprintf("`%s` names the output \"%s\", which the model does not have; its outputs are %s.",
                         arg, unknown[1], paste0("\"", names, "\"", collapse = ", ")), call = call)
    }
    absent <- setdiff(names, given)
    if (length(absent)) {
      selu_abort(sprintf("`%s` must give each output a setting; it has none for \"%s\".", arg,
                         absent[1]), call = call)
    }
    return(x[names])
  }
  if (length(x) != n) {
    selu_abort(sprintf("`%s` must be one setting for every output or a list of %d, one per output (%s), not of %d.",
                       arg, n, paste0("\"", names, "\"", collapse = ", "), length(x)), call = call)
  }
  stats::setNames(x, names)
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
#' reproducible bit for bit: whatever [selu_threads()] is on R's reference
#' BLAS, and for a given [selu_threads()] on a threaded BLAS, whose products
#' may change in their last bits with its thread count.
#'
#' The model compiles to a program of ops that the package's engine runs in
#' C: for each batch the forward pass, the loss with the regularizers'
#' penalties, the backward pass and the optimizer's update (with clipping
#' and constraints), on buffers made once per `fit()`, so that a step
#' allocates little more than its output. One call into the engine runs the
#' steps of 4096 rows, or of each batch when a callback has
#' `on_batch_begin` or `on_batch_end` (it sees the weights of every step).
#' [predict()], [evaluate()] and [backward()] run the same ops. An
#' activation given as an R function runs that function in the forward
#' pass; having no gradient, it cannot be trained through (an error, before
#' any weight changes).
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
#' @method fit selu_model
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
fit.selu_model <- function(object, x, y, batch_size = NULL, epochs = 10, verbose = "auto",
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
  data <- training_data(self, compiled, x, y, sample_weight, class_weight, "x", "y", call)
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
    validation <- validation_set(self, compiled, validation_data, call)
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
  metrics <- output_metrics(self, compiled, call)
  engine <- training_engine(self, compiled, data, min(batch_size, max(data$n, validation$n)),
                            call)
  on.exit(engine_free(engine), add = TRUE)
  check_embedding_ids(engine$program, data$xs, input_args(self, "x"), call)
  if (!is.null(validation_data)) {
    check_embedding_ids(engine$program, validation$xs, input_args(self, "validation_data[[1]]"),
                        call)
  }
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

  keys <- log_keys(self, metrics)
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
        scores <- evaluate_rows(list(engine), metrics, validation, validation$rows, batch_size)
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

# The metrics of each output, resolved against its shape and loss: a list by
# output of named metric objects.
output_metrics <- function(self, compiled, call) {
  outputs <- model_outputs(self)
  metrics <- lapply(seq_along(outputs), function(k) {
    as_metrics(compiled$metrics[[k]], compiled$losses[[k]], outputs[[k]]$shape, call)
  })
  stats::setNames(metrics, vapply(outputs, function(output) output$name, ""))
}

# What fit() logs and evaluate() gives, as keras names it: the loss (the
# weighted sum), with several outputs each one's own loss, then the metrics,
# each output's prefixed by its name.
log_keys <- function(self, metrics) {
  names <- vapply(model_outputs(self), function(output) output$name, "")
  if (length(names) == 1) return(c("loss", names(metrics[[1]])))
  c("loss", paste0(names, "_loss"),
    unlist(Map(function(name, m) if (length(m)) paste0(name, "_", names(m)), names, metrics)))
}

# The engine that trains the model (or, in "predict" mode, evaluates it):
# its program for the data's shapes, with each output's loss and the
# optimizer, for batches of at most batch_size rows.
training_engine <- function(self, compiled, data, batch_size, call, mode = "train") {
  program <- graph_program(model_graph(self), lapply(data$xs, data_shape), mode, call = call)
  losses <- lapply(seq_along(program$outputs), function(k) {
    loss_program_spec(program, compiled$losses[[k]], program$outputs[k],
                      compiled$loss_weights[k])
  })
  training <- list(losses = losses, optimizer = optimizer_program_spec(compiled$optimizer))
  new_engine(program, batch_size, training = training)
}

# One epoch over `rows` in batches; the logs of the epoch (loss and
# metrics), or NULL when a loss that is not finite stopped training. The
# steps run on the engine's copy of the weights, which the model gets back
# when the epoch ends, however it ends (and after each step for callbacks
# that run per batch: `per_batch`). Without those, one call into the engine
# runs the steps of STEPS_ROWS rows, and the progress bar moves between calls.
run_epoch <- function(engine, compiled, metrics, data, rows, batch_size, callbacks, trainer,
                      position, per_batch = FALSE) {
  engine_load(engine, compiled$optimizer)
  on.exit(engine_store(engine, compiled$optimizer))
  scores <- new_scores(metrics)
  starts <- seq.int(1, length(rows), by = batch_size)
  steps_per_call <- if (per_batch) 1L else max(1L, STEPS_ROWS %/% batch_size)
  for (first in seq.int(1L, length(starts), by = steps_per_call)) {
    last <- min(first + steps_per_call - 1L, length(starts))
    call_rows <- rows[starts[first]:min(starts[last] + batch_size - 1, length(rows))]
    trainer$position <- list(epoch = position$epoch, batch = first)
    run_callbacks(callbacks, "on_batch_begin", first - 1L,
                  list(batch = first - 1L, size = min(batch_size, length(call_rows))))
    if (per_batch) engine_load(engine)
    run <- engine_steps(engine, data, call_rows, batch_size, compiled$optimizer,
                        outputs = has_metrics(metrics))
    if (per_batch) engine_store(engine)
    if (!is.null(run$failure)) {
      message_not_finite(run$failure, position$epoch, first + length(run$steps) - 1L)
      return(NULL)
    }
    for (step in run$steps) add_scores(scores, metrics, data, step$rows, step)
    size <- length(run$steps[[length(run$steps)]]$rows)
    logs <- c(list(batch = last - 1L, size = size), score_values(scores, metrics))
    run_callbacks(callbacks, "on_batch_end", last - 1L, logs)
    if (trainer$stop_training) break
  }
  logs[c("batch", "size")] <- NULL
  logs
}

# The rows of the steps that one call into the engine runs, when no
# callback needs control between batches: the steps' overhead in R is paid
# once per call, and a progress bar still moves every few hundred
# milliseconds on wide networks.
STEPS_ROWS <- 4096L

has_metrics <- function(metrics) any(lengths(metrics) > 0)

# The running losses and metric states of an epoch (or an evaluation).
new_scores <- function(metrics) {
  scores <- new.env(parent = emptyenv())
  scores$loss <- 0
  scores$losses <- 0
  scores$seen <- 0
  scores$states <- lapply(metrics, function(m) lapply(m, metric_reset))
  scores
}

# Adds a batch's losses (the total and each output's) and its outputs to
# the metrics.
add_scores <- function(scores, metrics, data, rows, step) {
  n <- length(rows)
  scores$loss <- scores$loss + step$loss * n
  scores$losses <- scores$losses + step$losses * n
  scores$seen <- scores$seen + n
  if (!has_metrics(metrics)) return(invisible())
  wb <- if (!is.null(data$weights)) data$weights[rows]
  for (k in seq_along(metrics)) {
    if (!length(metrics[[k]])) next
    yb <- take_rows(data$ys[[k]], rows)
    for (key in names(metrics[[k]])) {
      scores$states[[k]][[key]] <- metric_update(metrics[[k]][[key]], scores$states[[k]][[key]],
                                                 yb, step$outputs[[k]], wb)
    }
  }
  invisible()
}

# The logged values, named as log_keys() names them.
score_values <- function(scores, metrics) {
  values <- list(loss = scores$loss / scores$seen)
  single <- length(metrics) == 1
  names <- names(metrics)
  if (!single) values[paste0(names, "_loss")] <- as.list(scores$losses / scores$seen)
  for (k in seq_along(metrics)) {
    for (key in names(metrics[[k]])) {
      values[[if (single) key else paste0(names[k], "_", key)]] <-
        metric_result(metrics[[k]][[key]], scores$states[[k]][[key]])
    }
  }
  values
}

# Training steps on `rows`, in batches of batch_size rows, each at the
# optimizer's learning rate for its iteration and with its own dropout
# masks: list(steps, failure), `steps` a list per step run of list(rows,
# loss, each output's loss, its outputs), `failure` NULL or why the last
# step made no update (then it changed nothing, and no step followed).
engine_steps <- function(engine, data, rows, batch_size, optimizer, outputs) {
  starts <- seq.int(1L, length(rows), by = batch_size)
  sizes <- pmin(batch_size, length(rows) - starts + 1L)
  iterations <- engine_iterations(engine) + seq_along(starts) - 1
  rates <- vapply(iterations, function(i) current_learning_rate(optimizer, i), 1)
  has_dropout <- !all(vapply(engine$program$dropout, is.null, TRUE))
  masks <- if (has_dropout) lapply(sizes, function(m) draw_masks(engine, m))
  run <- .Call(C_selu_engine_steps, engine$ptr, data$xs, data$ys, data$weights,
               as.integer(rows), as.integer(batch_size), as.double(rates), masks, outputs)
  steps <- lapply(seq_len(run[[4]]), function(k) {
    at <- seq.int(starts[k], length.out = sizes[k])
    values <- if (outputs) {
      if (length(starts) == 1) run[[5]] else lapply(run[[5]], function(v) v[at, , drop = FALSE])
    }
    list(rows = rows[at], loss = run[[1]][k], losses = run[[2]][, k],
         outputs = if (outputs) output_arrays(engine, values))
  })
  failure <- switch(run[[3]] + 1L, NULL, sprintf("the loss is %s", format(run[[1]][run[[4]]])),
                    "the update makes weights that are not finite")
  list(steps = steps, failure = failure)
}

# The engine's output matrices (rows x width) in the outputs' shapes.
output_arrays <- function(engine, values) {
  program <- engine$program
  Map(function(v, slot) {
    dim(v) <- c(nrow(v), program$shapes[[slot + 1L]][-1])
    v
  }, values, program$outputs)
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
#' regularizers' penalties, and each is the mean over all rows. On several
#' threads ([selu_threads()]) the batches run side by side, a thread each,
#' and the results are those of one thread.
#'
#' @inheritParams fit.selu_model
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
  data <- training_data(self, compiled, x, y, sample_weight, NULL, "x", "y", call)
  batch_size <- if (is.null(batch_size)) 32L else check_count(batch_size, "batch_size", call)
  verbose <- if (identical(verbose, "auto")) 0L else check_verbose(verbose, call)
  metrics <- output_metrics(self, compiled, call)
  engine <- training_engine(self, compiled, data, min(batch_size, data$n), call, mode = "predict")
  on.exit(engine_free(engine), add = TRUE)
  check_embedding_ids(engine$program, data$xs, input_args(self, "x"), call)
  engine_load(engine)
  team <- engine_team(engine, ceiling(data$n / batch_size))
  on.exit(for (other in team[-1]) engine_free(other), add = TRUE)
  bound_blas_threads(blas_limit = team_blas_limit(team))
  scores <- evaluate_rows(team, metrics, data, seq_len(data$n), batch_size)
  if (verbose > 0) {
    cat(paste(sprintf("%s: %.4f", names(scores), scores), collapse = " - "), "\n", sep = "")
  }
  scores
}

# The loss (with penalties), each output's and the metrics over `rows` of
# checked data, in inference mode, on a team of engines (engine_team()),
# the first holding the model's weights: as many batches at a time as
# engines, side by side, their scores added in the batches' order.
evaluate_rows <- function(team, metrics, data, rows, batch_size) {
  scores <- new_scores(metrics)
  starts <- seq.int(1, length(rows), by = batch_size)
  batches <- lapply(starts, function(start) {
    as.integer(rows[start:min(start + batch_size - 1, length(rows))])
  })
  ptrs <- lapply(team, `[[`, "ptr")
  for (first in seq.int(1L, length(batches), by = length(team))) {
    round <- batches[first:min(first + length(team) - 1L, length(batches))]
    runs <- .Call(C_selu_engine_test, ptrs, data$xs, data$ys, data$weights, round)
    for (i in seq_along(round)) {
      add_scores(scores, metrics, data, round[[i]],
                 list(loss = runs[[i]][[1]], losses = runs[[i]][[2]],
                      outputs = output_arrays(team[[1]], runs[[i]][[3]])))
    }
  }
  unlist(score_values(scores, metrics))
}

# x, y and the row weights, checked against the model and each other:
# list(xs, ys, weights, n), xs a list of double arrays by input, ys the
# targets by output as the losses take them.
training_data <- function(self, compiled, x, y, sample_weight, class_weight, x_arg, y_arg,
                          call) {
  xs <- model_data_inputs(self, x, x_arg, call)
  input_args <- if (length(xs) == 1) x_arg else
    sprintf("%s[[\"%s\"]]", x_arg, vapply(model_inputs(self), function(i) i$name, ""))
  for (k in seq_along(xs)) check_all_finite(xs[[k]], input_args[k], call)
  n <- nrow_of(xs[[1]])
  outputs <- model_outputs(self)
  names <- vapply(outputs, function(output) output$name, "")
  if (length(outputs) == 1) {
    if (is.list(y) && !is.object(y) && !is.data.frame(y) && length(y) == 1) y <- y[[1]]
    ys <- list(y)
    args <- y_arg
  } else {
    ys <- per_output(y, names, y_arg, call, is_one = function(y) !is.list(y) || is.data.frame(y))
    if (is.null(names(y))) {
      if (!(is.list(y) && !is.object(y) && length(y) == length(outputs))) {
        selu_abort(sprintf("`%s` must be a list of %d targets, one per output of the model \"%s\" (%s), not %s.",
                           y_arg, length(outputs), self$name,
                           paste0("\"", names, "\"", collapse = ", "), describe(y)), call = call)
      }
    }
    args <- sprintf("%s[[\"%s\"]]", y_arg, names)
  }
  ys <- lapply(seq_along(ys), function(k) {
    yk <- ys[[k]]
    if (is.data.frame(yk)) {
      selu_abort(sprintf("`%s` must be a numeric vector, matrix or array or a factor, not a data frame.",
                         args[k]), call = call)
    }
    if (!is.null(yk) && nrow_of(yk) != n) {
      selu_abort(sprintf("`%s` must have one target per row of `%s`: `%s` has %d rows, `%s` %d.",
                         args[k], x_arg, x_arg, n, args[k], nrow_of(yk)), call = call)
    }
    check_targets(compiled$losses[[k]], yk, outputs[[k]]$shape, args[k], call)
  })
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
    if (length(outputs) > 1) {
      selu_abort("`class_weight` is for a model of one output; give `sample_weight` instead.",
                 call = call)
    }
    by_class <- check_class_weight(class_weight, call)
    classes <- target_classes(ys[[1]])
    w <- by_class[as.character(classes)]
    w[is.na(w)] <- 1
    weights <- if (is.null(weights)) unname(w) else weights * unname(w)
  }
  list(xs = lapply(xs, as_engine_input), ys = ys, weights = weights, n = n)
}

validation_set <- function(self, compiled, validation_data, call) {
  if (!(is.list(validation_data) && !is.object(validation_data) &&
        length(validation_data) %in% 2:3)) {
    selu_abort(sprintf("`validation_data` must be NULL or list(x_val, y_val) (with optional sample weights third), not %s.",
                       describe(validation_data)), call = call)
  }
  data <- withCallingHandlers(
    training_data(self, compiled, validation_data[[1]], validation_data[[2]],
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
  # doubles in one pass in C; otherwise a sum is finite only if every element
  # is (or it overflowed: then look)
  finite <- if (is.double(x)) .Call(C_selu_all_finite, x) else
    is.finite(sum(x)) || all(is.finite(x))
  if (!finite) {
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
  data <- training_data(self, compiled, x, y, sample_weight, NULL, "x", "y", NULL)
  engine <- training_engine(self, compiled, data, data$n, NULL)
  on.exit(engine_free(engine), add = TRUE)
  engine_load(engine)
  run <- .Call(C_selu_engine_gradients, engine$ptr, data$xs, data$ys, data$weights,
               seq_len(data$n), draw_masks(engine, data$n))
  program <- engine$program
  grads <- list()
  for (k in which(!vapply(run[[2]], is.null, TRUE))) {
    owner <- program$owners[[k]]
    grads[[program$keys[k]]] <- keep_attributes(run[[2]][[k]], owner$layer$weights[[owner$name]])
  }
  list(loss = run[[1]], gradients = grads)
}
