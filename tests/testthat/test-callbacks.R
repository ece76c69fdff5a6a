# A trainer as fit() makes it, with weights that are a plain list.
fake_trainer <- function(learning_rate = 0.01, epochs = 10, steps = 12) {
  trainer <- new.env()
  weights <- list(0)
  trainer$model <- NULL
  trainer$stop_training <- FALSE
  trainer$get_weights <- function() weights
  trainer$set_weights <- function(w) weights <<- w
  optimizer <- new.env()
  optimizer$learning_rate <- learning_rate
  trainer$optimizer <- optimizer
  trainer$params <- list(epochs = epochs, steps = steps, samples = steps * 32,
                         batch_size = 32, verbose = 0, validation_samples = NULL)
  trainer
}

# A training loop: epoch e (from 1) sets the weights to list(e), then reports
# values[e] as `monitor`, until a callback stops training. Gives the number
# of epochs run, the final weights and the learning rate after each epoch.
fake_fit <- function(callback, values, monitor = "val_loss", trainer = fake_trainer()) {
  callbacks <- list(callback)
  run_callbacks(callbacks, "set_trainer", trainer)
  run_callbacks(callbacks, "on_train_begin", list())
  run <- 0
  rates <- numeric(0)
  for (e in seq_along(values)) {
    trainer$set_weights(list(e))
    logs <- list(loss = 1)
    logs[[monitor]] <- values[e]
    run_callbacks(callbacks, "on_epoch_end", e - 1, logs)
    run <- e
    rates[e] <- trainer$optimizer$learning_rate
    if (trainer$stop_training) break
  }
  run_callbacks(callbacks, "on_train_end", list())
  list(epochs = as.double(run), weights = trainer$get_weights()[[1]], rates = rates)
}

test_that("run_callbacks calls a hook of each callback in order, skipping those without it", {
  calls <- character(0)
  first <- callback_lambda(on_epoch_end = function(epoch, logs) {
    calls <<- c(calls, sprintf("first %d %s", epoch, logs$loss))
  })
  second <- callback_lambda(on_epoch_begin = function(epoch, logs) calls <<- c(calls, "wrong"))
  third <- callback_lambda(on_epoch_end = function(epoch, logs) calls <<- c(calls, "third"))
  expect_null(run_callbacks(list(first, second, third), "on_epoch_end", 3, list(loss = 0.5)))
  expect_identical(calls, c("first 3 0.5", "third"))
  expect_null(run_callbacks(list(), "on_epoch_end", 0, list()))
  # every hook is there, NULL where not given, so fit can call them all
  expect_named(second, c("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
                         "on_batch_begin", "on_batch_end", "set_trainer"))
  expect_null(second$on_epoch_end)
  expect_s3_class(second, c("selu_callback_lambda", "selu_callback"), exact = TRUE)
})

test_that("as_callbacks takes NULL, a callback or a list of callbacks", {
  early <- callback_early_stopping()
  naan <- callback_terminate_on_naan()
  expect_identical(as_callbacks(NULL), list())
  expect_identical(as_callbacks(early), list(early))
  expect_identical(as_callbacks(list(early, naan)), list(early, naan))
  expect_identical(as_callbacks(list(a = early)), list(early))
  expect_identical(as_callbacks(list()), list())
  expect_error(as_callbacks("early"), class = "selu_error",
               regexp = "`callbacks` must be NULL, a callback .* not the string \"early\"")
  expect_error(as_callbacks(list(early, 1)), class = "selu_error",
               regexp = "`callbacks` must .*; element 2 is a double \\(1\\)")
  expect_error(as_callbacks(function(epoch, logs) 1), class = "selu_error", regexp = "`callbacks`")
  # a list given the class by hand is not a callback
  expect_error(as_callbacks(structure(list(), class = "selu_callback")), class = "selu_error",
               regexp = "`callbacks`")
  expect_error(as_callbacks(list(unclass(early))), class = "selu_error",
               regexp = "element 1 is a list")
  # the error names the user's call
  wrapper <- function(callbacks) as_callbacks(callbacks, call = quote(fit(model, callbacks = 1)))
  err <- tryCatch(wrapper(1), error = identity)
  expect_identical(conditionCall(err), quote(fit(model, callbacks = 1)))
})

test_that("callbacks print their kind", {
  expect_output(print(callback_early_stopping()), "^<callback early_stopping>$")
  expect_output(print(callback_reduce_lr_on_plateau()), "^<callback reduce_lr_on_plateau>$")
  expect_output(print(callback_terminate_on_naan()), "^<callback terminate_on_naan>$")
  expect_output(print(callback_lambda(on_train_end = function(logs) 1,
                                      on_batch_end = function(batch, logs) 1)),
                "^<callback lambda> \\(on_train_end, on_batch_end\\)$")
})

test_that("early stopping waits `patience` epochs without improvement", {
  # best 0.8 at epoch 2; epochs 3 and 4 do not improve: stop after epoch 4
  values <- c(1, 0.8, 0.9, 0.85, 0.7, 0.6)
  expect_identical(fake_fit(callback_early_stopping(patience = 2), values)$epochs, 4)
  expect_identical(fake_fit(callback_early_stopping(patience = 3), values)$epochs, 6)
  # patience 0: the first epoch without improvement stops, never the first epoch
  expect_identical(fake_fit(callback_early_stopping(), c(1, 1, 0.5))$epochs, 2)
  expect_identical(fake_fit(callback_early_stopping(), c(1, 0.9, 0.8))$epochs, 3)
  # the weights are those of the last epoch unless restored
  expect_identical(fake_fit(callback_early_stopping(patience = 2), values)$weights, 4L)
})

test_that("early stopping's min_delta is the smallest improvement, whatever its sign", {
  values <- c(1, 0.95, 0.92, 0.5)
  # 0.95 improves on 1 by 0.05, less than 0.1: stop after epoch 2
  expect_identical(fake_fit(callback_early_stopping(patience = 1, min_delta = 0.1), values)$epochs, 2)
  expect_identical(fake_fit(callback_early_stopping(patience = 1, min_delta = -0.1), values)$epochs, 2)
  expect_identical(fake_fit(callback_early_stopping(patience = 1, min_delta = 0.04), values)$epochs, 3)
  expect_identical(fake_fit(callback_early_stopping(patience = 1), values)$epochs, 4)
  # in max mode, too
  up <- c(0.5, 0.55, 0.58, 0.9)
  expect_identical(fake_fit(callback_early_stopping("val_accuracy", patience = 1, min_delta = 0.1),
                            up, "val_accuracy")$epochs, 2)
})

test_that("early stopping's mode: auto maximizes names ending in acc, accuracy or auc", {
  rising <- c(0.5, 0.6, 0.7, 0.8)
  for (monitor in c("val_accuracy", "accuracy", "val_acc", "auc", "val_auc")) {
    expect_identical(fake_fit(callback_early_stopping(monitor), rising, monitor)$epochs, 4,
                     label = monitor)
  }
  for (monitor in c("val_loss", "loss", "accuracy_gap", "mae")) {
    expect_identical(fake_fit(callback_early_stopping(monitor), rising, monitor)$epochs, 2,
                     label = monitor)
  }
  expect_identical(fake_fit(callback_early_stopping("accuracy", mode = "min"), rising, "accuracy")$epochs, 2)
  expect_identical(fake_fit(callback_early_stopping("mae", mode = "max"), rising, "mae")$epochs, 4)
})

test_that("early stopping with a baseline restarts patience only on epochs that beat it", {
  # improving but never below 0.5: the counter is not reset, and the first
  # epoch without improvement (the third) stops at once
  expect_identical(fake_fit(callback_early_stopping(patience = 2, baseline = 0.5),
                            c(0.9, 0.8, 0.85, 0.7))$epochs, 3)
  expect_identical(fake_fit(callback_early_stopping(patience = 2), c(0.9, 0.8, 0.85, 0.7))$epochs, 4)
  # beating the baseline at epoch 2 resets it: patience 2 from there
  expect_identical(fake_fit(callback_early_stopping(patience = 2, baseline = 0.5),
                            c(0.9, 0.4, 0.45, 0.46, 0.3))$epochs, 4)
  # keras's quirk, kept: an improving epoch never stops training, even one
  # that does not beat the baseline
  expect_identical(fake_fit(callback_early_stopping(patience = 0, baseline = 0.1),
                            c(0.9, 0.8, 0.7, 0.6))$epochs, 4)
})

test_that("early stopping restores the best weights when it stops (keras 2.13)", {
  values <- c(1, 0.5, 0.6, 0.7, 0.4)
  restore <- callback_early_stopping(patience = 2, restore_best_weights = TRUE)
  result <- fake_fit(restore, values)
  expect_identical(result$epochs, 4)
  expect_identical(result$weights, 2L)
  # not when training ends in another way: keras 2.13 restores only on stopping
  expect_identical(fake_fit(callback_early_stopping(patience = 5, restore_best_weights = TRUE),
                            values)$weights, 5L)
  # no epoch ever improves: the first monitored epoch's weights
  result <- fake_fit(callback_early_stopping(patience = 1, restore_best_weights = TRUE),
                     c(NaN, NaN, NaN))
  expect_identical(result$epochs, 2)
  expect_identical(result$weights, 1L)
  # the callback can be used again: its state is reset at the start
  expect_identical(fake_fit(restore, values), list(epochs = 4, weights = 2L, rates = rep(0.01, 4)))
  expect_identical(fake_fit(restore, c(3, 2, 1, 2, 3)), list(epochs = 5, weights = 3L,
                                                             rates = rep(0.01, 5)))
})

test_that("early stopping prints when it stops, with verbose", {
  values <- c(1, 0.5, 0.6, 0.7, 0.4)
  expect_output(fake_fit(callback_early_stopping(patience = 2), values), NA)
  out <- capture.output(invisible(fake_fit(callback_early_stopping(patience = 2, verbose = 1), values)))
  expect_identical(out, "Epoch 4: early stopping")
  out <- capture.output(invisible(fake_fit(callback_early_stopping(
    patience = 2, verbose = 1, restore_best_weights = TRUE), values)))
  expect_identical(out, c("Restoring model weights from the end of the best epoch: 2.",
                          "Epoch 4: early stopping"))
  # nothing when it did not stop
  expect_output(fake_fit(callback_early_stopping(patience = 9, verbose = 1), values), NA)
})

test_that("early stopping waits start_from_epoch epochs before monitoring", {
  rising <- c(1, 2, 3, 4, 5)
  expect_identical(fake_fit(callback_early_stopping(start_from_epoch = 2), rising)$epochs, 4)
  expect_identical(fake_fit(callback_early_stopping(), rising)$epochs, 2)
  result <- fake_fit(callback_early_stopping(start_from_epoch = 2, restore_best_weights = TRUE),
                     rising)
  expect_identical(result$weights, 3L)
})

test_that("a monitor missing from the logs gives one message naming the available keys", {
  early <- callback_early_stopping(monitor = "val_loss", patience = 0)
  trainer <- fake_trainer()
  early$set_trainer(trainer)
  early$on_train_begin(list())
  messages <- character(0)
  withCallingHandlers({
    for (epoch in 0:3) early$on_epoch_end(epoch, list(loss = 1, accuracy = 0.5))
  }, message = function(m) {
    messages <<- c(messages, conditionMessage(m))
    invokeRestart("muffleMessage")
  })
  expect_identical(messages, paste(
    "Early stopping is conditioned on metric `val_loss` which is not available.",
    "Available metrics are: loss, accuracy\n"))
  expect_false(trainer$stop_training)
  # again at the next training run
  early$on_train_begin(list())
  expect_message(early$on_epoch_end(0, list(loss = 1)), "Available metrics are: loss")
  expect_no_warning(suppressMessages(early$on_epoch_end(1, NULL)))

  reduce <- callback_reduce_lr_on_plateau(monitor = "val_accuracy", patience = 0)
  reduce$set_trainer(trainer)
  reduce$on_train_begin(list())
  expect_message(reduce$on_epoch_end(0, list(loss = 1)),
                 "Learning rate reduction is conditioned on metric `val_accuracy` which is not available")
  expect_message(reduce$on_epoch_end(1, list(loss = 1)), NA)
  expect_identical(trainer$optimizer$learning_rate, 0.01)
})

test_that("reduce-LR multiplies the rate by factor after patience epochs, then cools down", {
  flat <- rep(1, 9)
  # no improvement after the first epoch: reductions at epochs 3, 5, 7, 9
  rates <- fake_fit(callback_reduce_lr_on_plateau(factor = 0.5, patience = 2), flat)$rates
  expect_equal(rates, 0.01 * 0.5^c(0, 0, 1, 1, 2, 2, 3, 3, 4))
  # cooldown 2: the two epochs after a reduction are not counted
  rates <- fake_fit(callback_reduce_lr_on_plateau(factor = 0.5, patience = 2, cooldown = 2), flat)$rates
  expect_equal(rates, 0.01 * 0.5^c(0, 0, 1, 1, 1, 2, 2, 2, 3))
  # keras counts the epoch that ends a cooldown of 1: the same as none
  rates <- fake_fit(callback_reduce_lr_on_plateau(factor = 0.5, patience = 2, cooldown = 1), flat)$rates
  expect_equal(rates, 0.01 * 0.5^c(0, 0, 1, 1, 2, 2, 3, 3, 4))
  # an improvement resets the count
  rates <- fake_fit(callback_reduce_lr_on_plateau(factor = 0.5, patience = 2),
                    c(1, 1, 0.5, 0.5, 0.5, 0.5))$rates
  expect_equal(rates, c(0.01, 0.01, 0.01, 0.01, 0.005, 0.005))
})

test_that("reduce-LR stops at min_lr", {
  rates <- fake_fit(callback_reduce_lr_on_plateau(patience = 0, min_lr = 5e-4), rep(1, 5))$rates
  expect_equal(rates, c(0.01, 0.001, 5e-4, 5e-4, 5e-4))
  # factor 0 goes straight to min_lr
  rates <- fake_fit(callback_reduce_lr_on_plateau(factor = 0, patience = 0, min_lr = 1e-3),
                    rep(1, 3))$rates
  expect_equal(rates, c(0.01, 1e-3, 1e-3))
})

test_that("reduce-LR's min_delta and mode", {
  # 1 - 0.99995 is below min_delta = 1e-4: no improvement
  expect_equal(fake_fit(callback_reduce_lr_on_plateau(patience = 1), c(1, 0.99995))$rates,
               c(0.01, 0.001))
  expect_equal(fake_fit(callback_reduce_lr_on_plateau(patience = 1), c(1, 0.9998))$rates,
               c(0.01, 0.01))
  expect_equal(fake_fit(callback_reduce_lr_on_plateau(patience = 1, min_delta = 0), c(1, 0.99995))$rates,
               c(0.01, 0.01))
  # auto: "acc" anywhere in the name is maximized (keras' rule for this callback)
  rising <- c(0.5, 0.6, 0.7)
  for (monitor in c("val_accuracy", "accuracy_gap", "acc")) {
    expect_equal(fake_fit(callback_reduce_lr_on_plateau(monitor, patience = 0), rising, monitor)$rates,
                 rep(0.01, 3), label = monitor)
  }
  expect_equal(fake_fit(callback_reduce_lr_on_plateau("val_loss", patience = 0), rising)$rates,
               c(0.01, 0.001, 1e-4))
  expect_equal(fake_fit(callback_reduce_lr_on_plateau("val_loss", patience = 0, mode = "max"),
                        rising)$rates, rep(0.01, 3))
  expect_equal(fake_fit(callback_reduce_lr_on_plateau("accuracy", patience = 0, mode = "min"),
                        rising, "accuracy")$rates, c(0.01, 0.001, 1e-4))
})

test_that("reduce-LR prints each reduction with verbose", {
  out <- capture.output(invisible(
    fake_fit(callback_reduce_lr_on_plateau(factor = 0.5, patience = 2, verbose = 1), rep(1, 4))))
  expect_identical(out, c("", "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.005."))
  expect_output(fake_fit(callback_reduce_lr_on_plateau(factor = 0.5, patience = 2), rep(1, 4)), NA)
})

# Runs a learning-rate scheduler's hooks for `epochs` epochs on a fake
# trainer: the rates each epoch started with.
scheduler_rates <- function(scheduler, epochs = 4, trainer = fake_trainer(learning_rate = 0.1)) {
  scheduler$set_trainer(trainer)
  scheduler$on_train_begin(list())
  vapply(seq_len(epochs) - 1L, function(epoch) {
    scheduler$on_epoch_begin(epoch, list())
    trainer$optimizer$learning_rate
  }, 0)
}

test_that("the learning-rate scheduler sets schedule(epoch, lr) at each epoch's start", {
  # epochs from 0, the current rate passed on
  halving <- callback_learning_rate_scheduler(function(epoch, lr) if (epoch == 0) lr else lr / 2)
  expect_identical(scheduler_rates(halving), c(0.1, 0.05, 0.025, 0.0125))
  # a function of one argument gets the epoch alone
  expect_identical(scheduler_rates(callback_learning_rate_scheduler(function(epoch) 1 / (epoch + 1))),
                   c(1, 1 / 2, 1 / 3, 1 / 4))
  # a function of dots gets both; an integer rate is taken as a double
  both <- callback_learning_rate_scheduler(function(...) length(list(...)))
  expect_identical(scheduler_rates(both, 1), 2)
  # a schedule object is a function of the step: here, of the epoch
  decay <- learning_rate_schedule_exponential_decay(0.1, decay_steps = 1, decay_rate = 0.5)
  expect_equal(scheduler_rates(callback_learning_rate_scheduler(decay), 3), c(0.1, 0.05, 0.025))
  expect_output(print(halving), "^<callback learning_rate_scheduler>$")
})

test_that("the learning-rate scheduler prints keras's message with verbose", {
  scheduler <- callback_learning_rate_scheduler(function(epoch, lr) c(0.001, 1e-05, 0.25)[epoch + 1],
                                                verbose = 1)
  out <- capture.output(invisible(scheduler_rates(scheduler, 3)))
  expect_identical(out, c("", "Epoch 1: LearningRateScheduler setting learning rate to 0.001.",
                          "", "Epoch 2: LearningRateScheduler setting learning rate to 1e-05.",
                          "", "Epoch 3: LearningRateScheduler setting learning rate to 0.25."))
  expect_output(invisible(scheduler_rates(callback_learning_rate_scheduler(function(epoch) 1))), NA)
})

test_that("the learning-rate scheduler refuses a rate that is not one positive number", {
  for (bad in list(0, -1, NA_real_, Inf, "0.1", c(0.1, 0.2), NULL, list(0.1), TRUE)) {
    scheduler <- callback_learning_rate_scheduler(function(epoch, lr) bad)
    expect_error(scheduler_rates(scheduler, 1), class = "selu_error_callback",
                 "The `schedule` of callback_learning_rate_scheduler\\(\\) must return the learning rate")
  }
  scheduler <- callback_learning_rate_scheduler(function(epoch) if (epoch < 2) 0.1 else 0)
  expect_error(scheduler_rates(scheduler, 3), class = "selu_error_callback",
               "for epoch 2 it returned a double \\(0\\)")
})

test_that("fit() with the learning-rate scheduler trains at its rates and records them", {
  # y = w x with w from 0, one batch of one row an epoch: w <- w + lr 2 (2 - w)
  model <- keras_model_sequential(input_shape = 1) |>
    layer_dense(1, use_bias = FALSE, kernel_initializer = "zeros")
  compile(model, optimizer = optimizer_sgd(0.5), loss = "mse")
  scheduler <- callback_learning_rate_scheduler(function(epoch, lr) c(0.25, 0.125, lr)[epoch + 1])
  history <- fit(model, matrix(1), 2, epochs = 3, verbose = 0, callbacks = scheduler)
  # 0 + 0.25 * 4 = 1; 1 + 0.125 * 2 = 1.25; 1.25 + 0.125 * 1.5 = 1.4375
  expect_equal(get_weights(model)[[1]], matrix(1.4375))
  expect_identical(history$metrics$lr, c(0.25, 0.125, 0.125))
  # an optimizer with a schedule: the two do not mix, as in keras
  compile(model, optimizer = optimizer_sgd(learning_rate_schedule_inverse_time_decay(0.1, 1, 1)),
          loss = "mse")
  expect_error(fit(model, matrix(1), 2, epochs = 1, verbose = 0, callbacks = scheduler),
               class = "selu_error_callback",
               "callback_learning_rate_scheduler\\(\\) sets the optimizer's learning rate.*InverseTimeDecay")
})

test_that("terminate on NaN stops at a batch whose loss is not finite", {
  for (bad in list(NaN, NA_real_, Inf, -Inf)) {
    trainer <- fake_trainer()
    naan <- callback_terminate_on_naan()
    naan$set_trainer(trainer)
    expect_output(naan$on_batch_end(0, list(batch = 0, size = 32, loss = 0.5)), NA)
    expect_false(trainer$stop_training)
    expect_output(naan$on_batch_end(7, list(batch = 7, size = 32, loss = bad)),
                  "^Batch 7: Invalid loss, terminating training$")
    expect_true(trainer$stop_training)
  }
  # logs without a loss are left alone
  naan <- callback_terminate_on_naan()
  expect_output(naan$on_batch_end(0, list()), NA)
  expect_output(naan$on_batch_end(0, NULL), NA)
})

test_that("lambda hooks are called with the arguments fit gives them", {
  calls <- list()
  record <- function(hook) function(...) calls[[length(calls) + 1]] <<- list(hook, list(...))
  hooks <- c("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
             "on_train_begin", "on_train_end")
  lambda <- do.call(callback_lambda, stats::setNames(lapply(hooks, record), hooks))
  callbacks <- list(lambda)
  run_callbacks(callbacks, "set_trainer", fake_trainer())
  run_callbacks(callbacks, "on_train_begin", list())
  run_callbacks(callbacks, "on_epoch_begin", 0, list())
  run_callbacks(callbacks, "on_batch_begin", 0, list())
  run_callbacks(callbacks, "on_batch_end", 0, list(batch = 0, size = 32, loss = 0.7))
  run_callbacks(callbacks, "on_epoch_end", 0, list(loss = 0.7, val_loss = 0.8))
  run_callbacks(callbacks, "on_train_end", list())
  expect_identical(calls, list(
    list("on_train_begin", list(list())),
    list("on_epoch_begin", list(0, list())),
    list("on_batch_begin", list(0, list())),
    list("on_batch_end", list(0, list(batch = 0, size = 32, loss = 0.7))),
    list("on_epoch_end", list(0, list(loss = 0.7, val_loss = 0.8))),
    list("on_train_end", list(list()))
  ))
  # functions of named arguments, of dots, and primitives
  expect_s3_class(callback_lambda(on_epoch_end = function(epoch, logs) NULL), "selu_callback")
  expect_s3_class(callback_lambda(on_batch_end = function(...) NULL), "selu_callback")
  expect_s3_class(callback_lambda(on_train_end = function(logs, extra = 1) NULL), "selu_callback")
  expect_s3_class(callback_lambda(on_train_end = print), "selu_callback")
  expect_s3_class(callback_lambda(on_epoch_end = sum), "selu_callback")
  expect_s3_class(callback_lambda(), "selu_callback_lambda")
})

test_that("callback arguments are checked", {
  for (hook in c("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
                 "on_train_begin", "on_train_end")) {
    expect_error(do.call(callback_lambda, stats::setNames(list("print"), hook)), class = "selu_error",
                 regexp = sprintf("`%s` must be NULL or a function of \\(.*logs\\), not the string", hook))
    expect_error(do.call(callback_lambda, stats::setNames(list(function() 1), hook)),
                 class = "selu_error", regexp = sprintf("`%s` must be a function of .*not of 0 arguments", hook))
  }
  expect_error(callback_lambda(on_epoch_end = function(logs) 1), class = "selu_error",
               regexp = "`on_epoch_end` must be a function of \\(epoch, logs\\), not of 1 argument\\.")
  expect_error(callback_lambda(on_batch_end = list(function(batch, logs) 1)), class = "selu_error",
               regexp = "`on_batch_end`")

  expect_error(callback_early_stopping(monitor = 1), class = "selu_error", regexp = "`monitor` must be a single non-empty string")
  expect_error(callback_early_stopping(monitor = ""), class = "selu_error", regexp = "`monitor`")
  expect_error(callback_early_stopping(min_delta = NA), class = "selu_error", regexp = "`min_delta` must be a single finite number")
  expect_error(callback_early_stopping(min_delta = Inf), class = "selu_error", regexp = "`min_delta`")
  expect_error(callback_early_stopping(patience = -1), class = "selu_error", regexp = "`patience` must be a whole number of at least 0, not a double \\(-1\\)")
  expect_error(callback_early_stopping(patience = 1.5), class = "selu_error", regexp = "`patience`")
  expect_error(callback_early_stopping(patience = Inf), class = "selu_error", regexp = "`patience`")
  expect_error(callback_early_stopping(verbose = TRUE), class = "selu_error", regexp = "`verbose`")
  expect_error(callback_early_stopping(mode = "maximum"), class = "selu_error", regexp = "`mode` must be one of \"auto\", \"min\" or \"max\", not the string \"maximum\"")
  expect_error(callback_early_stopping(mode = NA), class = "selu_error", regexp = "`mode`")
  expect_error(callback_early_stopping(baseline = "1"), class = "selu_error", regexp = "`baseline` must be a single number")
  expect_error(callback_early_stopping(baseline = NaN), class = "selu_error", regexp = "`baseline`")
  expect_error(callback_early_stopping(restore_best_weights = 1), class = "selu_error", regexp = "`restore_best_weights` must be TRUE or FALSE")
  expect_error(callback_early_stopping(start_from_epoch = -2), class = "selu_error", regexp = "`start_from_epoch`")
  expect_s3_class(callback_early_stopping(baseline = 0.5, verbose = 1L, mode = "max"), "selu_callback_early_stopping")

  expect_error(callback_reduce_lr_on_plateau(monitor = NULL), class = "selu_error", regexp = "`monitor`")
  expect_error(callback_reduce_lr_on_plateau(factor = 1), class = "selu_error", regexp = "`factor` must be a single number in \\[0, 1\\), not a double \\(1\\)")
  expect_error(callback_reduce_lr_on_plateau(factor = -0.5), class = "selu_error", regexp = "`factor`")
  expect_error(callback_reduce_lr_on_plateau(factor = NA_real_), class = "selu_error", regexp = "`factor`")
  expect_error(callback_reduce_lr_on_plateau(patience = "3"), class = "selu_error", regexp = "`patience`")
  expect_error(callback_reduce_lr_on_plateau(verbose = -1), class = "selu_error", regexp = "`verbose`")
  expect_error(callback_reduce_lr_on_plateau(mode = "up"), class = "selu_error", regexp = "`mode`")
  expect_error(callback_reduce_lr_on_plateau(min_delta = -1e-4), class = "selu_error", regexp = "`min_delta` must be a single finite number of at least 0")
  expect_error(callback_reduce_lr_on_plateau(cooldown = 0.5), class = "selu_error", regexp = "`cooldown`")
  expect_error(callback_reduce_lr_on_plateau(min_lr = -1), class = "selu_error", regexp = "`min_lr`")
  expect_error(callback_reduce_lr_on_plateau(min_lr = Inf), class = "selu_error", regexp = "`min_lr`")

  expect_error(callback_learning_rate_scheduler(), class = "selu_error", regexp = "`schedule` is missing")
  expect_error(callback_learning_rate_scheduler(0.1), class = "selu_error",
               regexp = "`schedule` must be a function of \\(epoch, lr\\) or of \\(epoch\\), not a double")
  expect_error(callback_learning_rate_scheduler(function() 0.1), class = "selu_error",
               regexp = "`schedule` must be a function .*, not of no argument")
  expect_error(callback_learning_rate_scheduler(`if`), class = "selu_error", regexp = "`schedule`")
  expect_error(callback_learning_rate_scheduler(function(epoch) 1, verbose = -1), class = "selu_error",
               regexp = "`verbose`")
  expect_s3_class(callback_learning_rate_scheduler(sqrt), "selu_callback_learning_rate_scheduler")

  expect_error(callback_terminate_on_naan(1), class = "selu_error", regexp = "Unknown argument: an unnamed argument")
  expect_error(callback_terminate_on_naan(verbose = 1), class = "selu_error", regexp = "Unknown argument: `verbose`")
})

test_that("a built-in callback used before it has a trainer is an internal error", {
  early <- callback_early_stopping(patience = 0)
  early$on_train_begin(list())
  expect_error(early$on_epoch_end(0, list(val_loss = 1)), class = "selu_error_internal")
  naan <- callback_terminate_on_naan()
  expect_error(capture.output(naan$on_batch_end(0, list(loss = NaN))), class = "selu_error_internal")
  scheduler <- callback_learning_rate_scheduler(function(epoch) 1)
  expect_error(scheduler$on_epoch_begin(0, list()), class = "selu_error_internal")
  expect_error(callback_reduce_lr_on_plateau()$on_train_begin(list()), class = "selu_error_internal")
})


# The progress display, with a clock that the test moves.
fake_clock <- function() {
  now <- 0
  list(clock = function() now, tick = function(seconds) now <<- now + seconds)
}

progress_run <- function(verbose, epochs = 10, steps = 12, batch_seconds = 0.003,
                         validation_seconds = 0.005, epoch = 2,
                         batch_logs = list(loss = 0.5123, accuracy = 0.8012),
                         epoch_logs = list(loss = 0.5123, accuracy = 0.8012,
                                           val_loss = 0.6012, val_accuracy = 0.75)) {
  time <- fake_clock()
  progress <- callback_progress(verbose, clock = time$clock)
  run_callbacks(list(progress), "set_trainer", fake_trainer(epochs = epochs, steps = steps))
  capture.output({
    run_callbacks(list(progress), "on_train_begin", list())
    run_callbacks(list(progress), "on_epoch_begin", epoch, list())
    for (batch in seq_len(steps) - 1) {
      time$tick(batch_seconds)
      run_callbacks(list(progress), "on_batch_begin", batch, list())
      run_callbacks(list(progress), "on_batch_end", batch, c(list(batch = batch, size = 32), batch_logs))
    }
    time$tick(validation_seconds)
    run_callbacks(list(progress), "on_epoch_end", epoch, epoch_logs)
    run_callbacks(list(progress), "on_train_end", list())
  })
}

test_that("progress: verbose 0 prints nothing", {
  expect_identical(progress_run(0), character(0))
})

test_that("progress: verbose 2 prints one line an epoch, as keras 2.13", {
  # 12 batches of 3 ms and 5 ms of validation: 41 ms, 3.4 ms a step
  expect_identical(progress_run(2), c(
    "Epoch 3/10",
    "12/12 - 0s - loss: 0.5123 - accuracy: 0.8012 - val_loss: 0.6012 - val_accuracy: 0.7500 - 41ms/epoch - 3ms/step"
  ))
  # one epoch: no "Epoch 1/1"; slow steps in seconds
  expect_identical(progress_run(2, epochs = 1, steps = 3, batch_seconds = 2, validation_seconds = 0,
                                epoch = 0, epoch_logs = list(loss = 2)),
                   "3/3 - 6s - loss: 2.0000 - 6s/epoch - 2s/step")
  # tiny values in scientific notation, fast steps in microseconds
  out <- progress_run(2, steps = 100, batch_seconds = 2e-5, validation_seconds = 0,
                      epoch_logs = list(loss = 1.5e-4, mae = 0.25))
  expect_identical(out[2], "100/100 - 0s - loss: 1.5000e-04 - mae: 0.2500 - 2ms/epoch - 20us/step")
})

test_that("progress: verbose 1 ends each epoch with keras' full line", {
  out <- progress_run(1)
  expect_identical(out[1], "Epoch 3/10")
  draws <- strsplit(out[2], "\r", fixed = TRUE)[[1]][-1]
  # the first batch, the last batch (the others come within 0.05 s), the end
  expect_length(draws, 3)
  expect_identical(draws[1], paste0(" 1/12 [=>............................] - ETA: 0s",
                                    " - loss: 0.5123 - accuracy: 0.8012"))
  # the first step is left out of the time per step: 38 ms over 11 steps
  expect_identical(draws[3], paste0(
    "12/12 [==============================] - 0s 3ms/step - loss: 0.5123 - accuracy: 0.8012",
    " - val_loss: 0.6012 - val_accuracy: 0.7500"))
  expect_length(out, 2)
})

test_that("progress: verbose 1 redraws at most every 0.05 seconds, and at the last batch", {
  # batches every 0.7 ms: drawn at batch 1, then 73 (0.0504 s after it), then 100
  out <- progress_run(1, steps = 100, batch_seconds = 7e-4, batch_logs = list(loss = 0.5123),
                      epoch_logs = list(loss = 1))
  draws <- strsplit(out[2], "\r", fixed = TRUE)[[1]][-1]
  expect_length(draws, 4)
  expect_match(draws[1], "^  1/100 \\[\\.{30}\\] - ETA: 0s - loss: 0.5123")
  expect_match(draws[2], "^ 73/100 \\[={20}>\\.{9}\\] - ETA: 0s")
  expect_match(draws[3], "^100/100 \\[={30}\\] - ETA: 0s")
  # (0.075 s - 0.0007 s) / 99 steps after the first
  expect_identical(draws[4], "100/100 [==============================] - 0s 751us/step - loss: 1.0000")

  # in a real fast loop, printing costs few lines
  progress <- callback_progress(1)
  progress$set_trainer(fake_trainer(steps = 2000))
  start <- proc.time()[["elapsed"]]
  out <- capture.output({
    progress$on_epoch_begin(0, list())
    for (batch in 0:1999) progress$on_batch_end(batch, list(batch = batch, size = 1, loss = 1))
  })
  seconds <- proc.time()[["elapsed"]] - start
  draws <- lengths(regmatches(out, gregexpr("\r", out, fixed = TRUE)))
  expect_lte(sum(draws), ceiling(seconds / 0.05) + 2)
})

test_that("progress: ETA, a shorter line padded, and a long epoch", {
  # a first batch of 30 s: 90 s left; a second of 20 s: 40 s left (the
  # first step left out); the shorter line is padded to the width drawn
  time <- fake_clock()
  progress <- callback_progress(1, clock = time$clock)
  progress$set_trainer(fake_trainer(epochs = 1, steps = 4))
  out <- capture.output({
    progress$on_epoch_begin(0, list())
    time$tick(30)
    progress$on_batch_end(0, list(batch = 0, size = 32, loss = 10.25))
    time$tick(20)
    progress$on_batch_end(1, list(batch = 1, size = 32, loss = 9.5))
  })
  draws <- strsplit(out, "\r", fixed = TRUE)[[1]][-1]
  expect_identical(draws[1], "1/4 [======>.......................] - ETA: 1:30 - loss: 10.2500")
  expect_identical(draws[2], "2/4 [==============>...............] - ETA: 40s - loss: 9.5000  ")

  expect_identical(format_eta(30.7), "30s")
  expect_identical(format_eta(60), "60s")
  expect_identical(format_eta(61.5), "1:01")
  expect_identical(format_eta(3725), "1:02:05")
  expect_identical(format_time(0, "step"), " 0s/step")
  expect_identical(format_time(2.4, "epoch"), " 2s/epoch")
  expect_identical(format_time(0.0414, "epoch"), " 41ms/epoch")
  expect_identical(format_time(5e-4, "step"), " 500us/step")
  expect_identical(format_logs(list(a = 1e-3, b = -0.5, c = NaN, d = 12345.678, e = -2e-5)),
                   " - a: 1.0000e-03 - b: -0.5000 - c: NaN - d: 12345.6780 - e: -2.0000e-05")
  expect_identical(format_logs(list()), "")
})
