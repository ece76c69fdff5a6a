# Callbacks: hooks that fit() calls at the start and end of training, of
# each epoch and of each batch, as keras 2.x calls its callbacks. A callback
# is a list of hook functions (each NULL or a function):
#   on_train_begin(logs), on_train_end(logs),
#   on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
#   on_batch_begin(batch, logs), on_batch_end(batch, logs),
# and set_trainer(trainer), which fit() calls once before on_train_begin to
# hand over the trainer environment (model, stop_training, get_weights(),
# set_weights(), optimizer, params). `epoch` and `batch` count from 0, as
# keras passes them. Built-in callbacks keep their state in their closure and
# reset it in on_train_begin, so that one callback can serve several fits.

callback_hooks <- c("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
                    "on_batch_begin", "on_batch_end", "set_trainer")

new_callback <- function(kind, on_train_begin = NULL, on_train_end = NULL,
                         on_epoch_begin = NULL, on_epoch_end = NULL,
                         on_batch_begin = NULL, on_batch_end = NULL, set_trainer = NULL) {
  structure(
    list(on_train_begin = on_train_begin, on_train_end = on_train_end,
         on_epoch_begin = on_epoch_begin, on_epoch_end = on_epoch_end,
         on_batch_begin = on_batch_begin, on_batch_end = on_batch_end,
         set_trainer = set_trainer),
    class = c(paste0("selu_callback_", kind), "selu_callback")
  )
}

# Known by its structure as well as its class, like the package's other objects.
is_callback <- function(x) {
  inherits(x, "selu_callback") && is.list(x) && all(callback_hooks %in% names(x)) &&
    all(vapply(x[callback_hooks], function(f) is.null(f) || is.function(f), TRUE))
}

# fit()'s `callbacks`: NULL, one callback or a list of them, as a list.
as_callbacks <- function(callbacks, call = sys.call(-1)) {
  if (is.null(callbacks)) return(list())
  if (is_callback(callbacks)) return(list(callbacks))
  expected <- paste("`callbacks` must be NULL, a callback (such as `callback_early_stopping()`)",
                    "or a list of callbacks")
  if (!(is.list(callbacks) && !is.object(callbacks))) {
    selu_abort(sprintf("%s, not %s.", expected, describe(callbacks)), call = call)
  }
  ok <- vapply(callbacks, is_callback, TRUE)
  if (!all(ok)) {
    bad <- which(!ok)[1]
    selu_abort(sprintf("%s; element %d is %s.", expected, bad, describe(callbacks[[bad]])),
               call = call)
  }
  unname(callbacks)
}

# Calls `hook` of each callback in order, skipping those without it.
run_callbacks <- function(callbacks, hook, ...) {
  for (callback in callbacks) {
    fun <- callback[[hook]]
    if (!is.null(fun)) fun(...)
  }
  invisible()
}

#' @export
print.selu_callback <- function(x, ...) {
  kind <- sub("^selu_callback_", "", class(x)[1])
  hooks <- setdiff(callback_hooks, "set_trainer")
  given <- hooks[!vapply(unclass(x)[hooks], is.null, TRUE)]
  cat(sprintf("<callback %s>%s\n", kind,
              if (kind == "lambda") sprintf(" (%s)", paste(given, collapse = ", ")) else ""))
  invisible(x)
}

# Argument checks shared by the callbacks.

check_whole_number <- function(x, arg, call) {
  if (!(length(x) == 1 && is_whole(x) && x >= 0 && x <= .Machine$integer.max)) {
    selu_abort(sprintf("`%s` must be a whole number of at least 0, not %s.", arg, describe(x)),
               call = call)
  }
  as.integer(x)
}

check_mode <- function(mode, call) {
  modes <- c("auto", "min", "max")
  if (!(is.character(mode) && length(mode) == 1 && !is.na(mode) && mode %in% modes)) {
    selu_abort(sprintf("`mode` must be one of \"auto\", \"min\" or \"max\", not %s.",
                       describe(mode)), call = call)
  }
  mode
}

# The monitored quantity in the logs, or NULL. keras warns each time it is
# missing; here `tell(logs)` says so once a training run (by default a
# message in keras's words, with `what` the callback's action).
monitor_reader <- function(monitor, what, tell = function(logs) {
  message(sprintf("%s is conditioned on metric `%s` which is not available. Available metrics are: %s",
                  what, monitor, paste(names(logs), collapse = ", ")))
}) {
  told <- FALSE
  list(
    reset = function() told <<- FALSE,
    read = function(logs) {
      value <- if (is.list(logs)) logs[[monitor]] else NULL
      if (is.numeric(value) && length(value) == 1) return(as.double(value))
      if (!told) {
        told <<- TRUE
        tell(logs)
      }
      NULL
    }
  )
}

# The trainer, or an internal error: fit() hands it over before training.
need_trainer <- function(trainer) {
  if (!is.environment(trainer)) {
    selu_abort("Internal error: the callback was used before fit() gave it its trainer.",
               kind = "internal")
  }
  trainer
}

#' Stop training when a monitored quantity has stopped improving
#'
#' keras 2.13's `EarlyStopping`. At the end of each epoch the monitored
#' quantity (a key of the epoch's logs, such as `"val_loss"` or
#' `"accuracy"`) is compared with the best value so far. An epoch improves on
#' it when it beats the best by more than `min_delta` (in the direction of
#' `mode`). After `patience` epochs without improvement, training stops at
#' the end of the epoch.
#'
#' `mode = "auto"` maximizes a quantity whose name ends in `acc`, `accuracy`
#' or `auc` and minimizes any other, as keras does. The sign of `min_delta` is
#' ignored (keras takes its absolute value). With a `baseline`, the patience
#' counter restarts only on epochs that beat both the best value and the
#' baseline, so training stops after `patience` epochs unless the baseline is
#' beaten. The first `start_from_epoch` epochs are a warm-up that is not
#' monitored. Training never stops after the first epoch it sees.
#'
#' With `restore_best_weights = TRUE` the weights of the best epoch are kept,
#' and put back into the model when this callback stops training. As in
#' keras 2.13 they are not put back when training ends in another way (all
#' epochs run, or another callback stopped it); newer keras versions restore
#' them then too.
#'
#' With `verbose > 0`, stopping prints
#' "Restoring model weights from the end of the best epoch: M." (when
#' restoring) and, at the end of training, "Epoch N: early stopping", epochs
#' counted from 1. A `monitor` missing from the logs gives a message listing
#' the available ones (keras: a warning), once per training run, and the
#' epoch is not counted.
#'
#' @param monitor The quantity to monitor: the name of a metric in the logs
#'   of an epoch (`"loss"`, `"val_loss"`, `"accuracy"`, `"val_accuracy"`,
#'   ...).
#' @param min_delta The smallest change that counts as an improvement; a
#'   finite number, whose sign is ignored.
#' @param patience The number of epochs without improvement after which
#'   training stops; a whole number of at least 0.
#' @param verbose 0 (silent) or more (messages when stopping).
#' @param mode `"auto"`, `"min"` (stop when the quantity stops decreasing) or
#'   `"max"` (when it stops increasing).
#' @param baseline `NULL` or a number: training stops if the quantity does
#'   not beat it within `patience` epochs.
#' @param restore_best_weights `TRUE` to put the weights of the best epoch
#'   back into the model when this callback stops training.
#' @param start_from_epoch The number of epochs to wait before monitoring: a
#'   whole number of at least 0.
#' @return A callback, to pass to `fit(callbacks = )`.
#' @family callbacks
#' @export
#' @examples
#' # stop when the validation loss has not improved for 3 epochs, and go
#' # back to the weights of the best epoch
#' early <- callback_early_stopping(monitor = "val_loss", patience = 3,
#'                                  restore_best_weights = TRUE)
#' early
callback_early_stopping <- function(monitor = "val_loss", min_delta = 0, patience = 0,
                                    verbose = 0, mode = "auto", baseline = NULL,
                                    restore_best_weights = FALSE, start_from_epoch = 0) {
  call <- sys.call()
  monitor <- check_string(monitor, "monitor", call = call)
  min_delta <- check_finite_number(min_delta, "min_delta", call = call)
  patience <- check_whole_number(patience, "patience", call)
  verbose <- check_whole_number(verbose, "verbose", call)
  mode <- check_mode(mode, call)
  if (!is.null(baseline)) baseline <- check_number(baseline, "baseline", call = call)
  restore_best_weights <- check_flag(restore_best_weights, "restore_best_weights", call = call)
  start_from_epoch <- check_whole_number(start_from_epoch, "start_from_epoch", call)

  maximize <- if (mode == "auto") grepl("(acc|accuracy|auc)$", monitor) else mode == "max"
  delta <- if (maximize) abs(min_delta) else -abs(min_delta)
  # keras' test, monitor_op(value - min_delta, reference); NaN never improves
  improves <- function(value, reference) {
    isTRUE(if (maximize) value - delta > reference else value - delta < reference)
  }
  reader <- monitor_reader(monitor, "Early stopping")
  trainer <- NULL
  wait <- 0L
  stopped_epoch <- 0L
  best <- NA_real_
  best_epoch <- 0L
  best_weights <- NULL

  new_callback(
    "early_stopping",
    set_trainer = function(trainer) trainer <<- trainer,
    on_train_begin = function(logs = NULL) {
      wait <<- 0L
      stopped_epoch <<- 0L
      best <<- if (maximize) -Inf else Inf
      best_epoch <<- 0L
      best_weights <<- NULL
      reader$reset()
    },
    on_epoch_end = function(epoch, logs = NULL) {
      current <- reader$read(logs)
      if (is.null(current) || epoch < start_from_epoch) return(invisible())
      trainer <- need_trainer(trainer)
      # the first monitored epoch's weights, should no epoch ever improve
      if (restore_best_weights && is.null(best_weights)) {
        best_weights <<- trainer$get_weights()
        best_epoch <<- epoch
      }
      wait <<- wait + 1L
      if (improves(current, best)) {
        best <<- current
        best_epoch <<- epoch
        if (restore_best_weights) best_weights <<- trainer$get_weights()
        if (is.null(baseline) || improves(current, baseline)) wait <<- 0L
        return(invisible())
      }
      if (wait >= patience && epoch > 0) {
        stopped_epoch <<- epoch
        trainer$stop_training <- TRUE
        if (restore_best_weights && !is.null(best_weights)) {
          if (verbose > 0) {
            cat(sprintf("Restoring model weights from the end of the best epoch: %d.\n",
                        best_epoch + 1))
          }
          trainer$set_weights(best_weights)
        }
      }
      invisible()
    },
    on_train_end = function(logs = NULL) {
      if (stopped_epoch > 0 && verbose > 0) {
        cat(sprintf("Epoch %d: early stopping\n", stopped_epoch + 1))
      }
      invisible()
    }
  )
}

#' Reduce the learning rate when a monitored quantity has stopped improving
#'
#' keras 2.13's `ReduceLROnPlateau`. After `patience` epochs without
#' improvement of the monitored quantity, the optimizer's learning rate is
#' multiplied by `factor`, down to `min_lr`; then `cooldown` epochs pass
#' before epochs without improvement are counted again. An epoch improves
#' when it beats the best value so far by more than `min_delta`.
#'
#' `mode = "auto"` maximizes a quantity whose name contains `acc` and
#' minimizes any other, as keras does (a rule that differs slightly from
#' [callback_early_stopping()]'s, also as in keras). With `verbose > 0` each
#' reduction prints "Epoch N: ReduceLROnPlateau reducing learning rate to
#' X.". keras also adds the learning rate to the epoch's logs (as `lr`);
#' `fit()` records it in the history itself. A `monitor` missing from the
#' logs gives a message listing the available ones (keras: a warning), once
#' per training run. An optimizer whose learning rate is a schedule (see
#' [learning_rate_schedules]) sets its rate itself, so training with this
#' callback is an error, as in keras.
#'
#' @inheritParams callback_early_stopping
#' @param factor The factor the learning rate is multiplied by: a number in
#'   \[0, 1).
#' @param patience The number of epochs without improvement after which the
#'   learning rate is reduced; a whole number of at least 0.
#' @param verbose 0 (silent) or more (a message at each reduction).
#' @param min_delta The smallest change that counts as an improvement: a
#'   finite number of at least 0.
#' @param cooldown The number of epochs after a reduction before epochs
#'   without improvement are counted again: a whole number of at least 0.
#' @param min_lr The lower bound of the learning rate: a finite number of at
#'   least 0.
#' @return A callback, to pass to `fit(callbacks = )`.
#' @family callbacks
#' @export
#' @examples
#' # halve the learning rate after 5 epochs without a better validation
#' # loss, but not below 1e-5
#' reduce <- callback_reduce_lr_on_plateau(factor = 0.5, patience = 5, min_lr = 1e-5)
#' reduce
callback_reduce_lr_on_plateau <- function(monitor = "val_loss", factor = 0.1, patience = 10,
                                          verbose = 0, mode = "auto", min_delta = 1e-04,
                                          cooldown = 0, min_lr = 0) {
  call <- sys.call()
  monitor <- check_string(monitor, "monitor", call = call)
  if (!(is.numeric(factor) && !is.object(factor) && length(factor) == 1 && !is.na(factor) &&
        factor >= 0 && factor < 1)) {
    selu_abort(sprintf("`factor` must be a single number in [0, 1), not %s.", describe(factor)),
               call = call)
  }
  factor <- as.double(factor)
  patience <- check_whole_number(patience, "patience", call)
  verbose <- check_whole_number(verbose, "verbose", call)
  mode <- check_mode(mode, call)
  min_delta <- check_finite_number(min_delta, "min_delta", min = 0, call = call)
  cooldown <- check_whole_number(cooldown, "cooldown", call)
  min_lr <- check_finite_number(min_lr, "min_lr", min = 0, call = call)

  maximize <- if (mode == "auto") grepl("acc", monitor, fixed = TRUE) else mode == "max"
  improves <- function(value, reference) {
    isTRUE(if (maximize) value > reference + min_delta else value < reference - min_delta)
  }
  reader <- monitor_reader(monitor, "Learning rate reduction")
  trainer <- NULL
  best <- NA_real_
  wait <- 0L
  cooldown_counter <- 0L

  new_callback(
    "reduce_lr_on_plateau",
    set_trainer = function(trainer) trainer <<- trainer,
    on_train_begin = function(logs = NULL) {
      check_settable_rate(need_trainer(trainer), "callback_reduce_lr_on_plateau()")
      best <<- if (maximize) -Inf else Inf
      wait <<- 0L
      cooldown_counter <<- 0L
      reader$reset()
    },
    on_epoch_end = function(epoch, logs = NULL) {
      current <- reader$read(logs)
      if (is.null(current)) return(invisible())
      if (cooldown_counter > 0) {
        cooldown_counter <<- cooldown_counter - 1L
        wait <<- 0L
      }
      if (improves(current, best)) {
        best <<- current
        wait <<- 0L
      } else if (cooldown_counter == 0) {
        wait <<- wait + 1L
        if (wait >= patience) {
          trainer <- need_trainer(trainer)
          old_lr <- trainer$optimizer$learning_rate
          if (old_lr > min_lr) {
            new_lr <- max(old_lr * factor, min_lr)
            trainer$optimizer$learning_rate <- new_lr
            if (verbose > 0) {
              cat(sprintf("\nEpoch %d: ReduceLROnPlateau reducing learning rate to %s.\n",
                          epoch + 1, format(new_lr, digits = 7)))
            }
            cooldown_counter <<- cooldown
            wait <<- 0L
          }
        }
      }
      invisible()
    }
  )
}

# Callbacks that set the learning rate refuse a schedule, which sets it at
# every step (keras refuses to set a schedule's rate).
check_settable_rate <- function(trainer, who) {
  rate <- trainer$optimizer$learning_rate
  if (is_schedule(rate)) {
    selu_abort(sprintf(paste(
      "%s sets the optimizer's learning rate, but its `learning_rate` is a schedule",
      "(%s), which sets the rate at every step: use one or the other."),
      who, attr(rate, "class_name")), kind = "callback")
  }
  invisible(rate)
}

#' Set the learning rate at the start of each epoch
#'
#' keras 2.13's `LearningRateScheduler`. At the start of each epoch, the
#' optimizer's learning rate becomes `schedule(epoch, lr)`, `epoch`
#' counted from 0 and `lr` the current rate; a `schedule` of one argument
#' is called as `schedule(epoch)`. It must return a single positive finite
#' number, else training stops with an error of class `selu_error_callback`.
#' With `verbose > 0` each epoch prints "Epoch N: LearningRateScheduler
#' setting learning rate to X." (N counted from 1). `fit()`'s history then
#' holds the rate of each epoch as `lr`.
#'
#' The rate is set once per epoch; for a rate that changes at every step,
#' give the optimizer a learning-rate schedule ([learning_rate_schedules])
#' instead. The two do not mix: an optimizer whose `learning_rate` is a
#' schedule makes training with this callback an error.
#'
#' @param schedule A function of `(epoch, lr)` or of `(epoch)` that gives
#'   the learning rate of the epoch.
#' @param verbose 0 (silent) or more (a message each epoch).
#' @return A callback, to pass to `fit(callbacks = )`.
#' @family callbacks
#' @export
#' @examples
#' # keep the rate for 10 epochs, then shrink it by 10% an epoch
#' scheduler <- callback_learning_rate_scheduler(function(epoch, lr) {
#'   if (epoch < 10) lr else lr * 0.9
#' })
#' scheduler
#'
#' x <- matrix(rnorm(40), 20, 2)
#' y <- x %*% c(1, -1)
#' model <- keras_model_sequential(input_shape = 2) |> layer_dense(1)
#' compile(model, optimizer = optimizer_sgd(0.1), loss = "mse")
#' history <- fit(model, x, y, epochs = 3, verbose = 0,
#'                callbacks = callback_learning_rate_scheduler(function(epoch) 0.1 / (epoch + 1)))
#' history$metrics$lr
callback_learning_rate_scheduler <- function(schedule, verbose = 0) {
  call <- sys.call()
  if (missing(schedule)) abort_missing("schedule", "a function of (epoch, lr) or (epoch)")
  expected <- "`schedule` must be a function of (epoch, lr) or of (epoch)"
  if (!is.function(schedule)) {
    selu_abort(sprintf("%s, not %s.", expected, describe(schedule)), call = call)
  }
  # a primitive's arguments are those args() gives (NULL for a few, such as `if`)
  signature <- if (is.primitive(schedule)) args(schedule) else schedule
  params <- if (is.function(signature)) names(formals(signature))
  if (!length(params)) {
    selu_abort(sprintf("%s, not of no argument.", expected), call = call)
  }
  takes_rate <- "..." %in% params || length(params) >= 2
  verbose <- check_whole_number(verbose, "verbose", call)
  trainer <- NULL

  new_callback(
    "learning_rate_scheduler",
    set_trainer = function(trainer) trainer <<- trainer,
    on_train_begin = function(logs = NULL) {
      check_settable_rate(need_trainer(trainer), "callback_learning_rate_scheduler()")
      invisible()
    },
    on_epoch_begin = function(epoch, logs = NULL) {
      trainer <- need_trainer(trainer)
      lr <- if (takes_rate) schedule(epoch, trainer$optimizer$learning_rate) else schedule(epoch)
      if (!(is.numeric(lr) && !is.object(lr) && length(lr) == 1 && is.finite(lr) && lr > 0)) {
        selu_abort(sprintf(paste(
          "The `schedule` of callback_learning_rate_scheduler() must return the learning",
          "rate, a single positive finite number; for epoch %d it returned %s."),
          epoch, describe(lr)), kind = "callback")
      }
      lr <- as.double(lr)
      trainer$optimizer$learning_rate <- lr
      if (verbose > 0) {
        cat(sprintf("\nEpoch %d: LearningRateScheduler setting learning rate to %s.\n",
                    epoch + 1, json_number(lr)))
      }
      invisible()
    }
  )
}

#' Stop training when a batch's loss is not a number
#'
#' keras' `TerminateOnNaN`: when the loss of a batch is `NaN`, `NA` or
#' infinite, prints "Batch N: Invalid loss, terminating training" (`N`
#' counted from 0, as keras prints it) and stops training after that batch.
#'
#' @param ... Nothing: there are no options.
#' @return A callback, to pass to `fit(callbacks = )`.
#' @family callbacks
#' @export
#' @examples
#' callback_terminate_on_naan()
callback_terminate_on_naan <- function(...) {
  check_empty_dots(list(...))
  trainer <- NULL
  new_callback(
    "terminate_on_naan",
    set_trainer = function(trainer) trainer <<- trainer,
    on_batch_end = function(batch, logs = NULL) {
      loss <- if (is.list(logs)) logs[["loss"]] else NULL
      if (is.numeric(loss) && length(loss) == 1 && !is.finite(loss)) {
        cat(sprintf("Batch %d: Invalid loss, terminating training\n", batch))
        trainer <- need_trainer(trainer)
        trainer$stop_training <- TRUE
      }
      invisible()
    }
  )
}

#' A callback from your own functions
#'
#' keras' `LambdaCallback`: each argument is `NULL` or a function that
#' `fit()` calls at that point of training, with positional arguments:
#' * `on_epoch_begin(epoch, logs)` and `on_epoch_end(epoch, logs)`;
#' * `on_batch_begin(batch, logs)` and `on_batch_end(batch, logs)`;
#' * `on_train_begin(logs)` and `on_train_end(logs)`.
#'
#' As in R keras, `epoch` and `batch` count from 0 (the first epoch is epoch
#' 0), and `logs` is a named list of numbers:
#' * at the end of a batch, `batch`, `size` (its number of samples), `loss`
#'   and the metrics, the loss and metrics being running averages over the
#'   epoch so far;
#' * at the end of an epoch, `loss`, the metrics, and with validation data
#'   `val_loss` and the validation metrics;
#' * elsewhere an empty list.
#'
#' @param on_epoch_begin,on_epoch_end `NULL` or a function of `(epoch, logs)`.
#' @param on_batch_begin,on_batch_end `NULL` or a function of `(batch, logs)`.
#' @param on_train_begin,on_train_end `NULL` or a function of `(logs)`.
#' @return A callback, to pass to `fit(callbacks = )`.
#' @family callbacks
#' @export
#' @examples
#' losses <- numeric(0)
#' keep_loss <- callback_lambda(
#'   on_epoch_end = function(epoch, logs) losses[epoch + 1] <<- logs$loss
#' )
#' keep_loss
callback_lambda <- function(on_epoch_begin = NULL, on_epoch_end = NULL, on_batch_begin = NULL,
                            on_batch_end = NULL, on_train_begin = NULL, on_train_end = NULL) {
  call <- sys.call()
  check_hook(on_epoch_begin, "on_epoch_begin", c("epoch", "logs"), call)
  check_hook(on_epoch_end, "on_epoch_end", c("epoch", "logs"), call)
  check_hook(on_batch_begin, "on_batch_begin", c("batch", "logs"), call)
  check_hook(on_batch_end, "on_batch_end", c("batch", "logs"), call)
  check_hook(on_train_begin, "on_train_begin", "logs", call)
  check_hook(on_train_end, "on_train_end", "logs", call)
  new_callback(
    "lambda",
    on_epoch_begin = on_epoch_begin, on_epoch_end = on_epoch_end,
    on_batch_begin = on_batch_begin, on_batch_end = on_batch_end,
    on_train_begin = on_train_begin, on_train_end = on_train_end
  )
}

# A user's hook: NULL, or a function that takes the hook's positional
# arguments (checked here rather than failing in the middle of training).
check_hook <- function(fun, arg, params, call) {
  if (is.null(fun)) return(invisible())
  signature <- sprintf("(%s)", paste(params, collapse = ", "))
  if (!is.function(fun)) {
    selu_abort(sprintf("`%s` must be NULL or a function of %s, not %s.", arg, signature,
                       describe(fun)), call = call)
  }
  if (is.primitive(fun)) return(invisible())
  formal_names <- names(formals(fun))
  if (!("..." %in% formal_names) && length(formal_names) < length(params)) {
    selu_abort(sprintf("`%s` must be a function of %s, not of %d argument%s.", arg, signature,
                       length(formal_names), if (length(formal_names) == 1) "" else "s"),
               call = call)
  }
  invisible()
}

#' Save the model or its weights during training
#'
#' keras 2.13's `ModelCheckpoint`: at the end of each epoch (or every
#' `save_freq` batches), the model is written with [save_model()], or its
#' weights alone with [save_model_weights()] when `save_weights_only =
#' TRUE`, to a file whose name is filled in from `filepath`, a template in
#' Python's format syntax as in keras:
#' * `{epoch}` is the number of the epoch, counted from 1 (`{epoch:02d}`:
#'   with two digits at least, `03`); `{batch}`, with `save_freq` a number
#'   of batches, is the batch within the epoch, counted from 1;
#' * `{<name>}` is a value of the epoch's logs (`{loss}`, `{val_loss}`,
#'   `{accuracy}`, ...) as Python writes a float (`0.2734`), or in a format:
#'   `{val_loss:.2f}` (two decimals, `0.27`), `{loss:.4f}`, `{loss:e}`
#'   (scientific, `2.734000e-01`), `{loss:g}`; a width and zero padding come
#'   before them, as in `{loss:08.3f}`;
#' * `{{` and `}}` are braces.
#'
#' So `"weights.{epoch:02d}-{val_loss:.2f}.rds"` writes
#' `weights.03-0.27.rds` after the third epoch. A name that the logs do not
#' have is an error when the file is named, listing those they have. The
#' format follows the name, as in [save_model()]: selu's own for `.rds` or
#' no extension, keras's for `.h5`, `.hdf5`, `.keras` and `.weights.h5`.
#' Unlike keras, which creates the directory of a file, a directory that does
#' not exist is an error at the first save.
#'
#' With `save_best_only = TRUE` a file is written only when `monitor`
#' improves on the best value seen, in the direction of `mode`: `"auto"`
#' maximizes a quantity whose name contains `acc` (as keras 2.13) or is
#' `auc` or `val_auc` (keras 2.13 would minimize those), and minimizes any
#' other. A `monitor` missing from the logs warns (keras: "Can save best
#' model only with val_loss available, skipping.") once per training run,
#' and nothing is saved. The best value is kept from one `fit()` to the
#' next, as keras keeps it, so that going on training overwrites the best
#' model only with a better one.
#'
#' With `verbose = 1`, each epoch prints keras 2.13's message: "Epoch 3:
#' val_loss improved from 0.31250 to 0.27341, saving model to
#' weights.03-0.27.rds", "Epoch 4: val_loss did not improve from 0.27341" or
#' "Epoch 3: saving model to ...".
#'
#' With `save_freq` a number of batches, the logs are those of the batch
#' (the loss and metrics averaged over the epoch so far, no validation
#' values), and the batches are counted across epochs. The model written
#' then has the weights of that batch; its optimizer state is the one of the
#' start of the epoch (a limit of this version).
#'
#' @param filepath The file name template: one string (see Details).
#' @param monitor The quantity compared with `save_best_only`: a name of
#'   the logs, such as `"val_loss"` or `"accuracy"`.
#' @param verbose 0 (silent) or 1 (a message at each save).
#' @param save_best_only `TRUE` to save only when `monitor` improves.
#' @param save_weights_only `TRUE` to save the weights alone
#'   ([save_model_weights()]), `FALSE` the whole model ([save_model()]).
#' @param mode `"auto"`, `"min"` or `"max"`: the direction in which
#'   `monitor` improves.
#' @param period Deprecated in keras (a warning): `NULL` or a number of
#'   epochs between saves.
#' @param save_freq `"epoch"` to save at the end of each epoch, or a whole
#'   number of batches.
#' @param ... keras's `initial_value_threshold`: a number, the value
#'   `monitor` must beat to be saved first with `save_best_only`. Anything
#'   else is an error.
#' @return A callback, to pass to `fit(callbacks = )`.
#' @family callbacks
#' @export
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(200), 100, 2)
#' y <- x[, 1] - x[, 2]
#' model <- keras_model_sequential(input_shape = 2) |> layer_dense(1)
#' compile(model, optimizer = optimizer_adam(0.05), loss = "mse")
#' dir <- file.path(tempdir(), "checkpoints")
#' dir.create(dir)
#' checkpoint <- callback_model_checkpoint(
#'   file.path(dir, "model.{epoch:02d}-{val_loss:.3f}.rds"),
#'   save_best_only = TRUE, verbose = 1
#' )
#' fit(model, x, y, epochs = 4, validation_split = 0.2, verbose = 0,
#'     callbacks = checkpoint)
#' list.files(dir)
#' best <- load_model(tail(list.files(dir, full.names = TRUE), 1))
#' unlink(dir, recursive = TRUE)
callback_model_checkpoint <- function(filepath, monitor = "val_loss", verbose = 0,
                                      save_best_only = FALSE, save_weights_only = FALSE,
                                      mode = c("auto", "min", "max"), period = NULL,
                                      save_freq = "epoch", ...) {
  call <- sys.call()
  if (missing(filepath)) {
    abort_missing("filepath", "a file name, such as \"model.{epoch:02d}.rds\"", call = call)
  }
  filepath <- check_path(filepath, call)
  template <- parse_python_format(filepath, function(what) {
    selu_abort(sprintf("`filepath` \"%s\" %s.", filepath, what), call = call)
  })
  monitor <- check_string(monitor, "monitor", call = call)
  verbose <- check_whole_number(verbose, "verbose", call)
  save_best_only <- check_flag(save_best_only, "save_best_only", call = call)
  save_weights_only <- check_flag(save_weights_only, "save_weights_only", call = call)
  mode <- check_mode(if (identical(mode, c("auto", "min", "max"))) "auto" else mode, call)
  if (!is.null(period)) period <- check_count(period, "period", call)
  batches <- if (!identical(save_freq, "epoch")) {
    if (!(length(save_freq) == 1 && is_whole(save_freq) && save_freq >= 1 &&
          save_freq <= .Machine$integer.max)) {
      selu_abort(sprintf("`save_freq` must be \"epoch\" or a whole number of batches, not %s.",
                         describe(save_freq)), call = call)
    }
    as.integer(save_freq)
  }
  dots <- list(...)
  taken <- names(dots) %in% "initial_value_threshold"
  check_empty_dots(dots[!taken], call = call)
  threshold <- if (any(taken)) {
    check_number(dots[[which(taken)[1]]], "initial_value_threshold", call = call)
  }
  fields <- Filter(is.list, template)
  for (field in fields) {
    if (field$name == "batch" && is.null(batches)) {
      selu_abort(sprintf(paste(
        "`filepath` \"%s\" uses {batch}, which is known only when `save_freq` is a number",
        "of batches."), filepath), call = call)
    }
    if (!field$name %in% c("epoch", "batch") && endsWith(field$spec, "d")) {
      selu_abort(sprintf(paste(
        "`filepath` \"%s\" formats {%s:%s} as a whole number, but %s in the logs is a",
        "float: give a format such as {%s:.2f}."), filepath, field$name, field$spec,
        field$name, field$name), call = call)
    }
  }
  if (!is.null(period)) {
    selu_warn(paste("`period` is deprecated (as in keras): give `save_freq`, the number of",
                    "batches between saves, or \"epoch\"."), kind = "deprecated", call = call)
  }

  maximize <- if (mode == "auto") {
    grepl("acc", monitor, fixed = TRUE) || sub("^val_", "", monitor) == "auc"
  } else {
    mode == "max"
  }
  period <- if (is.null(period)) 1L else period
  trainer <- NULL
  # unlike other callbacks' state, kept from one fit() to the next, as keras
  # keeps it: going on training overwrites the best model with a better one only
  best <- if (!is.null(threshold)) threshold else if (maximize) -Inf else Inf
  epochs_unsaved <- 0L
  batches_unsaved <- 0L
  current_epoch <- 0L
  reader <- monitor_reader(monitor, tell = function(logs) {
    selu_warn(sprintf(paste(
      "Can save best model only with `monitor` \"%s\" available, skipping: the logs have",
      "%s. Nothing is saved while it is missing."), monitor, paste(names(logs), collapse = ", ")),
      kind = "monitor", call = call)
  })
  format_best <- function(value) format_python_value(value, ".5f", integer = FALSE)

  # The file name for the logs of an epoch (and batch), both from 0.
  file_name <- function(epoch, batch, logs) {
    values <- c(list(epoch = epoch + 1L), if (!is.null(batch)) list(batch = batch + 1L),
                logs[setdiff(names(logs), c("epoch", "batch", "size"))])
    pieces <- vapply(template, function(piece) {
      if (!is.list(piece)) return(piece)
      value <- values[[piece$name]]
      if (!(is.numeric(value) && length(value) == 1)) {
        selu_abort(sprintf(paste(
          "`filepath` \"%s\" uses {%s}, which the logs of %s do not have; they have: %s."),
          filepath, piece$name, where(epoch, batch), paste(names(values), collapse = ", ")),
          call = call)
      }
      format_python_value(value, piece$spec, integer = piece$name %in% c("epoch", "batch"))
    }, "")
    paste(pieces, collapse = "")
  }
  where <- function(epoch, batch) {
    if (is.null(batch)) sprintf("epoch %d", epoch + 1L)
    else sprintf("batch %d of epoch %d", batch + 1L, epoch + 1L)
  }
  say <- function(epoch, text) if (verbose > 0) cat(sprintf("\nEpoch %d: %s\n", epoch + 1L, text))
  write <- function(path) {
    model <- need_trainer(trainer)$model
    if (save_weights_only) save_model_weights(model, path) else save_model(model, path)
  }
  save <- function(epoch, batch, logs) {
    path <- file_name(epoch, batch, logs)
    if (!dir.exists(dirname(path))) {
      selu_abort(sprintf(paste(
        "`filepath` \"%s\" %sis in a directory that does not exist, \"%s\": create it",
        "before training (keras creates it)."), filepath,
        if (path != filepath) sprintf("gives the file \"%s\", which ", path) else "",
        dirname(path)), kind = "file", call = call)
    }
    if (!save_best_only) {
      say(epoch, sprintf("saving model to %s", path))
      write(path)
      return(invisible())
    }
    current <- reader$read(logs)
    if (is.null(current)) return(invisible())
    # keras's monitor_op: NaN never improves
    if (isTRUE(if (maximize) current > best else current < best)) {
      say(epoch, sprintf("%s improved from %s to %s, saving model to %s", monitor,
                         format_best(best), format_best(current), path))
      best <<- current
      write(path)
    } else {
      say(epoch, sprintf("%s did not improve from %s", monitor, format_best(best)))
    }
    invisible()
  }

  new_callback(
    "model_checkpoint",
    set_trainer = function(trainer) trainer <<- trainer,
    on_train_begin = function(logs = NULL) reader$reset(),
    on_epoch_begin = function(epoch, logs = NULL) current_epoch <<- epoch,
    on_epoch_end = function(epoch, logs = NULL) {
      epochs_unsaved <<- epochs_unsaved + 1L
      if (is.null(batches) && epochs_unsaved >= period) {
        epochs_unsaved <<- 0L
        save(epoch, NULL, logs)
      }
      invisible()
    },
    # only with a number of batches: other callbacks spare fit() the work of each batch
    on_batch_end = if (!is.null(batches)) function(batch, logs = NULL) {
      batches_unsaved <<- batches_unsaved + 1L
      if (batches_unsaved >= batches) {
        batches_unsaved <<- 0L
        save(current_epoch, batch, logs)
      }
      invisible()
    }
  )
}

#' Write the logs of each epoch to a CSV file
#'
#' keras 2.13's `CSVLogger`: after each epoch, a row of the epoch (counted
#' from 0, as keras writes it) and the values of its logs, under a header of
#' `epoch` and the names of the logs in sorted order, as keras writes them:
#' numbers as Python writes a float (`repr()`: the shortest digits that read
#' back as the same double, `0.1`, `2.0`, `1e-05`, `nan`, `inf`), fields
#' holding the separator or a quote in quotes, lines ending in `"\r\n"` (as
#' Python's csv module ends them; [utils::read.csv()] reads them as any
#' other). The columns are those of the first epoch; when its logs hold no
#' validation values, `val_` columns for each of them follow anyway, as in
#' keras 2.13, with `NA` where an epoch has no value (with validation data,
#' every epoch has them).
#'
#' The file is written when training starts (empty, or as it was with
#' `append = TRUE`) and after every epoch, so a crash or an interrupt keeps
#' the epochs that finished. Each write replaces the file as a whole, through
#' a temporary file that is renamed over it, so the file is never a part of a
#' row (keras appends to it instead: a program that follows the file as it
#' grows, such as `tail -f`, needs to follow its name, `tail -F`).
#'
#' @param filename The path of the CSV file: one string. Its directory must
#'   exist when training starts.
#' @param separator The character between fields: one character, not a
#'   quote or a line break.
#' @param append `FALSE` to start the file afresh at each training run;
#'   `TRUE` to add rows to an existing file (without a second header; a
#'   header if the file is missing or empty), to continue a log.
#' @return A callback, to pass to `fit(callbacks = )`.
#' @family callbacks
#' @export
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(200), 100, 2)
#' y <- x[, 1] - x[, 2]
#' model <- keras_model_sequential(input_shape = 2) |> layer_dense(1)
#' compile(model, optimizer = "adam", loss = "mse", metrics = "mae")
#' log <- tempfile(fileext = ".csv")
#' fit(model, x, y, epochs = 3, validation_split = 0.2, verbose = 0,
#'     callbacks = callback_csv_logger(log))
#' read.csv(log)
#' # go on training, adding to the log
#' fit(model, x, y, epochs = 5, initial_epoch = 3, validation_split = 0.2, verbose = 0,
#'     callbacks = callback_csv_logger(log, append = TRUE))
#' read.csv(log)
#' unlink(log)
callback_csv_logger <- function(filename, separator = ",", append = FALSE) {
  call <- sys.call()
  if (missing(filename)) abort_missing("filename", "the path of the CSV file to write", call = call)
  filename <- check_path(filename, call, arg = "filename")
  if (!(is.character(separator) && length(separator) == 1 && !is.na(separator) &&
        nchar(separator) == 1 && !separator %in% c("\"", "\r", "\n"))) {
    selu_abort(sprintf("`separator` must be one character, not a quote or a line break, not %s.",
                       describe(separator)), call = call)
  }
  append <- check_flag(append, "append", call = call)
  keys <- NULL
  text <- ""
  write <- function() write_atomically(text, filename, call, write = write_text_file,
                                       arg = "filename")
  row <- function(fields) {
    # Python's csv.QUOTE_MINIMAL: quoted when it holds the separator, a quote
    # or a line break, a quote doubled
    quote <- grepl(separator, fields, fixed = TRUE) | grepl("[\"\r\n]", fields)
    fields[quote] <- paste0("\"", gsub("\"", "\"\"", fields[quote], fixed = TRUE), "\"")
    paste0(paste(fields, collapse = separator), "\r\n")
  }

  new_callback(
    "csv_logger",
    on_train_begin = function(logs = NULL) {
      check_file_place(filename, "filename", call)
      keys <<- NULL
      text <<- if (append && file.exists(filename)) read_text_file(filename) else ""
      # a last line without its end gets one, so that rows start on their own
      if (nzchar(text) && !grepl("\n$", text)) text <<- paste0(text, "\r\n")
      write()
    },
    on_epoch_end = function(epoch, logs = NULL) {
      if (is.null(keys)) {
        keys <<- sort(names(logs), method = "radix") # Python's order, by code point
        if (!any(startsWith(keys, "val_"))) keys <<- c(keys, paste0("val_", keys))
        if (!nzchar(text)) text <<- paste0(text, row(c("epoch", keys)))
      }
      # the numbers of the logs as Python's str() of a float; NA where missing
      values <- vapply(keys, function(key) {
        if (is.null(logs[[key]])) "NA" else python_repr(logs[[key]])
      }, "")
      text <<- paste0(text, row(c(format(epoch, scientific = FALSE), values)))
      write()
    }
  )
}

read_text_file <- function(path) {
  size <- file.size(path)
  if (is.na(size) || size == 0) return("")
  rawToChar(readBin(path, "raw", size))
}

# The progress display (keras' ProgbarLogger and Progbar), the callback that
# fit() adds after the user's ones. verbose 0: nothing; 1: "Epoch i/n", then
# a bar redrawn in place after each batch, at most every `interval` seconds
# (and at the last batch), and finished at the end of the epoch with the
# validation metrics and the time per step; 2: "Epoch i/n" and one line at
# the end of each epoch. As in keras, "Epoch i/n" is printed at the start of
# the epoch and only when there is more than one. `clock` gives seconds.
callback_progress <- function(verbose, clock = elapsed_seconds) {
  if (verbose == 0) return(new_callback("progress"))
  bar_width <- 30L
  interval <- 0.05
  trainer <- NULL
  steps <- NULL
  epoch_start <- 0
  first_step_end <- NA_real_
  last_draw <- -Inf
  seen <- 0L
  drawn_width <- 0L

  target <- function() {
    s <- steps
    if (is.numeric(s) && length(s) == 1 && is.finite(s) && s >= 1) as.integer(s) else max(seen, 1L)
  }
  # keras' estimate: the first step (often slow) left out when there are others
  step_time <- function(current, now) {
    if (current == 0) return(0)
    if (current > 1 && !is.na(first_step_end)) (now - first_step_end) / (current - 1)
    else (now - epoch_start) / current
  }
  draw <- function(text, final) {
    width <- nchar(text)
    if (drawn_width > width) text <- paste0(text, strrep(" ", drawn_width - width))
    drawn_width <<- if (final) 0L else width
    cat("\r", text, if (final) "\n", sep = "")
    utils::flush.console()
  }
  bar <- function(current, total) {
    digits <- floor(log10(total)) + 1
    done <- min(as.integer(bar_width * current / total), bar_width)
    arrow <- if (done > 0) paste0(strrep("=", done - 1), if (current < total) ">" else "=") else ""
    sprintf("%*d/%d [%s%s]", digits, current, total, arrow, strrep(".", bar_width - done))
  }

  new_callback(
    "progress",
    set_trainer = function(trainer) {
      trainer <<- trainer
      steps <<- trainer$params$steps
    },
    on_epoch_begin = function(epoch, logs = NULL) {
      epoch_start <<- clock()
      first_step_end <<- NA_real_
      last_draw <<- -Inf
      seen <<- 0L
      drawn_width <<- 0L
      epochs <- if (is.environment(trainer)) trainer$params$epochs else NULL
      if (is.numeric(epochs) && length(epochs) == 1 && epochs > 1) {
        cat(sprintf("Epoch %d/%d\n", epoch + 1, epochs))
      }
      invisible()
    },
    on_batch_end = function(batch, logs = NULL) {
      seen <<- as.integer(batch) + 1L
      if (verbose != 1) return(invisible())
      now <- clock()
      if (seen == 1) first_step_end <<- now
      total <- target()
      if (now - last_draw < interval && seen < total) return(invisible())
      last_draw <<- now
      eta <- step_time(seen, now) * (total - seen)
      metrics <- logs[setdiff(names(logs), c("batch", "size"))]
      draw(paste0(bar(seen, total), " - ETA: ", format_eta(eta), format_logs(metrics)),
           final = FALSE)
      invisible()
    },
    on_epoch_end = function(epoch, logs = NULL) {
      now <- clock()
      total <- target()
      elapsed <- sprintf(" - %.0fs", now - epoch_start)
      if (verbose == 1) {
        draw(paste0(bar(total, total), elapsed, format_time(step_time(total, now), "step"),
                    format_logs(logs)), final = TRUE)
      } else {
        epoch_time <- now - epoch_start
        cat(sprintf("%*d/%d", floor(log10(total)) + 1, total, total), elapsed, format_logs(logs),
            " -", format_time(epoch_time, "epoch"), " -", format_time(epoch_time / total, "step"),
            "\n", sep = "")
        utils::flush.console()
      }
      invisible()
    }
  )
}

elapsed_seconds <- function() proc.time()[["elapsed"]]

# " - loss: 0.5123 - accuracy: 0.8012", with keras' choice of 4 decimals or,
# for values of at most 1e-3 in size, 4 significant digits in scientific
# notation. (keras' one-line display tests the value rather than its size, so
# prints negative values in scientific notation: here both displays use the
# size.)
format_logs <- function(logs) {
  if (!length(logs)) return("")
  values <- vapply(logs, function(v) if (is.numeric(v) && length(v) == 1) as.double(v) else NA_real_, 0)
  text <- ifelse(is.finite(values) & abs(values) > 1e-3, sprintf("%.4f", values),
                 sprintf("%.4e", values))
  paste0(" - ", names(logs), ": ", text, collapse = "")
}

# keras' durations: " 3s/step", " 41ms/step" or " 800us/step".
format_time <- function(seconds, unit) {
  if (seconds >= 1 || seconds == 0) sprintf(" %.0fs/%s", seconds, unit)
  else if (seconds >= 1e-3) sprintf(" %.0fms/%s", seconds * 1e3, unit)
  else sprintf(" %.0fus/%s", seconds * 1e6, unit)
}

format_eta <- function(eta) {
  eta <- floor(eta)
  if (eta > 3600) sprintf("%d:%02d:%02d", eta %/% 3600, (eta %% 3600) %/% 60, eta %% 60)
  else if (eta > 60) sprintf("%d:%02d", eta %/% 60, eta %% 60)
  else sprintf("%ds", eta)
}
