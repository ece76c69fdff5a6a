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

# --- model checkpoints ---------------------------------------------------------

# A model with one weight that tells the epoch: epoch e (from 1) sets the
# kernel to e. Runs the callback's hooks through epochs with the logs given
# (a list of lists), as fit() does; gives the console output.
checkpoint_model <- function() keras_model_sequential(input_shape = 1) |> layer_dense(1)

checkpoint_run <- function(callback, logs, model = checkpoint_model()) {
  trainer <- new_trainer(model, NULL, list(epochs = length(logs)))
  callbacks <- list(callback)
  capture.output({
    run_callbacks(callbacks, "set_trainer", trainer)
    run_callbacks(callbacks, "on_train_begin", list())
    for (e in seq_along(logs)) {
      run_callbacks(callbacks, "on_epoch_begin", e - 1L, list())
      set_weights(model, list(matrix(e), 0))
      run_callbacks(callbacks, "on_epoch_end", e - 1L, logs[[e]])
    }
    run_callbacks(callbacks, "on_train_end", list())
  })
}

# The epoch whose weights a file holds.
saved_epoch <- function(path, weights_only = FALSE) {
  if (weights_only) return(readRDS(path)[["dense/kernel"]][1, 1])
  get_weights(load_model(path))[[1]][1, 1]
}

val_logs <- function(values, monitor = "val_loss") {
  lapply(values, function(v) stats::setNames(list(0.5, v), c("other", monitor)))
}

test_that("the checkpoint's file name is keras's template filled in", {
  dir <- withr::local_tempdir("checkpoint")
  # keras's documentation: weights.{epoch:02d}-{val_loss:.2f}.hdf5 gives
  # weights.03-0.27.hdf5 after the third epoch
  checkpoint_run(callback_model_checkpoint(file.path(dir, "weights.{epoch:02d}-{val_loss:.2f}.rds")),
                 val_logs(c(0.5, 0.4, 0.2734)))
  expect_setequal(list.files(dir), c("weights.01-0.50.rds", "weights.02-0.40.rds",
                                     "weights.03-0.27.rds"))
  expect_identical(saved_epoch(file.path(dir, "weights.03-0.27.rds")), 3)
  # Python's str.format(): str() of a float is its repr(); e, g, widths,
  # zero padding, braces (from Python 3: "{epoch}-{loss}-{loss:e}-{loss:.4f}-
  # {loss:g}-{epoch:3d}-{{x}}".format(epoch=12, loss=0.1) and loss=2e-05)
  checkpoint_run(callback_model_checkpoint(file.path(
    dir, "m{epoch}-{loss}-{loss:e}-{loss:.4f}-{loss:g}-{epoch:3d}-{{x}}")),
    c(rep(list(list(loss = 1)), 11), list(list(loss = 0.1, val_loss = 1))))
  expect_true(file.exists(file.path(dir, "m12-0.1-1.000000e-01-0.1000-0.1- 12-{x}")))
  checkpoint_run(callback_model_checkpoint(file.path(dir, "n{loss}-{loss:08.3f}-{loss:E}")),
                 list(list(loss = 2e-05)))
  expect_true(file.exists(file.path(dir, "n2e-05-0000.000-2.000000E-05")))
  # without fields, one file overwritten each epoch
  checkpoint_run(callback_model_checkpoint(file.path(dir, "last.rds")), val_logs(c(3, 2, 1, 2)))
  expect_identical(saved_epoch(file.path(dir, "last.rds")), 4)
})

test_that("save_best_only saves only when the monitored value improves, in the mode's direction", {
  dir <- withr::local_tempdir("checkpoint")
  best <- function(values, monitor = "val_loss", ...) {
    path <- file.path(dir, sprintf("best-%d.rds", sample.int(1e9, 1)))
    checkpoint_run(callback_model_checkpoint(path, monitor = monitor, save_best_only = TRUE, ...),
                   val_logs(values, monitor))
    saved_epoch(path)
  }
  values <- c(0.5, 0.3, 0.4, 0.35, 0.6)
  expect_identical(best(values), 2)
  expect_identical(best(values, mode = "max"), 5)
  # auto: names with "acc" and the AUC are maximized, others minimized
  for (monitor in c("val_accuracy", "accuracy", "val_acc", "binary_accuracy", "auc", "val_auc")) {
    expect_identical(best(values, monitor), 5, label = monitor)
  }
  for (monitor in c("loss", "val_mae", "val_aucpr")) {
    expect_identical(best(values, monitor), 2, label = monitor)
  }
  expect_identical(best(values, "val_accuracy", mode = "min"), 2)
  # a NaN never improves; keras's initial_value_threshold must be beaten first
  expect_identical(best(c(NaN, 0.5, NaN)), 2)
  expect_identical(best(c(0.5, 0.4, 0.2, 0.3), initial_value_threshold = 0.3), 3)
  path <- file.path(dir, "never.rds")
  checkpoint_run(callback_model_checkpoint(path, save_best_only = TRUE,
                                           initial_value_threshold = 0.1), val_logs(values))
  expect_false(file.exists(path))
  # the files of the epochs that improved, and no others
  checkpoint_run(callback_model_checkpoint(file.path(dir, "e{epoch}.rds"), save_best_only = TRUE),
                 val_logs(values))
  expect_setequal(grep("^e", list.files(dir), value = TRUE), c("e1.rds", "e2.rds"))
})

test_that("the best value is kept from one fit() to the next, as keras keeps it", {
  dir <- withr::local_tempdir("checkpoint")
  path <- file.path(dir, "best.rds")
  checkpoint <- callback_model_checkpoint(path, save_best_only = TRUE)
  checkpoint_run(checkpoint, val_logs(c(0.5, 0.2)))
  model <- checkpoint_model()
  # a second run whose epochs are all worse leaves the file of the first
  checkpoint_run(checkpoint, val_logs(c(0.4, 0.3)), model)
  expect_identical(saved_epoch(path), 2)
  checkpoint_run(checkpoint, val_logs(c(0.4, 0.1, 0.3)), model)
  expect_identical(saved_epoch(path), 2)
  expect_identical(get_weights(load_model(path))[[1]][1, 1], 2)
})

test_that("a monitor missing from the logs warns once a run and saves nothing", {
  dir <- withr::local_tempdir("checkpoint")
  path <- file.path(dir, "best.rds")
  warnings <- list()
  withCallingHandlers(
    checkpoint_run(callback_model_checkpoint(path, save_best_only = TRUE),
                   rep(list(list(loss = 0.5, accuracy = 0.9)), 3)),
    warning = function(w) {
      warnings[[length(warnings) + 1]] <<- w
      invokeRestart("muffleWarning")
    })
  expect_length(warnings, 1)
  expect_s3_class(warnings[[1]], c("selu_warning_monitor", "selu_warning"))
  expect_match(conditionMessage(warnings[[1]]), paste0(
    "^Can save best model only with `monitor` \"val_loss\" available, skipping: ",
    "the logs have loss, accuracy\\. Nothing is saved while it is missing\\.$"))
  expect_false(file.exists(path))
  # without save_best_only the monitor does not matter
  expect_silent(checkpoint_run(callback_model_checkpoint(path), list(list(loss = 1))))
  expect_true(file.exists(path))
})

test_that("verbose prints keras 2.13's messages", {
  dir <- withr::local_tempdir("checkpoint")
  path <- file.path(dir, "m.rds")
  out <- checkpoint_run(callback_model_checkpoint(path, save_best_only = TRUE, verbose = 1),
                        val_logs(c(0.5, 0.6, 0.123456789)))
  expect_identical(out, c(
    "", sprintf("Epoch 1: val_loss improved from inf to 0.50000, saving model to %s", path),
    "", "Epoch 2: val_loss did not improve from 0.50000",
    "", sprintf("Epoch 3: val_loss improved from 0.50000 to 0.12346, saving model to %s", path)))
  out <- checkpoint_run(callback_model_checkpoint(path, "val_accuracy", save_best_only = TRUE,
                                                  verbose = 1), val_logs(0.75, "val_accuracy"))
  expect_identical(out[2], sprintf(
    "Epoch 1: val_accuracy improved from -inf to 0.75000, saving model to %s", path))
  out <- checkpoint_run(callback_model_checkpoint(path, verbose = 1), val_logs(c(1, 2)))
  expect_identical(out, c("", sprintf("Epoch 1: saving model to %s", path),
                          "", sprintf("Epoch 2: saving model to %s", path)))
  expect_identical(checkpoint_run(callback_model_checkpoint(path), val_logs(1)), character(0))
})

test_that("a checkpoint of a real fit() loads as the model, or its weights", {
  dir <- withr::local_tempdir("checkpoint")
  set.seed(2)
  x <- matrix(rnorm(60), 30, 2)
  y <- x[, 1] - 2 * x[, 2]
  two_layers <- function() {
    keras_model_sequential(input_shape = 2) |>
      layer_dense(4, activation = "selu", name = "hidden") |> layer_dense(1, name = "out")
  }
  model <- two_layers()
  compile(model, optimizer = optimizer_adam(0.01), loss = "mse", metrics = "mae")
  fit(model, x, y, epochs = 3, batch_size = 10, validation_split = 0.2, verbose = 0,
      callbacks = list(
        callback_model_checkpoint(file.path(dir, "model-{epoch}.rds")),
        callback_model_checkpoint(file.path(dir, "weights-{epoch}-{val_mae:.3f}.rds"),
                                  save_weights_only = TRUE)))
  restored <- load_model(file.path(dir, "model-3.rds"))
  expect_identical(predict(restored, x), predict(model, x))
  # the optimizer's state of the end of the epoch: training goes on alike
  expect_identical(model_state(restored)$compiled$optimizer$iterations,
                   model_state(model)$compiled$optimizer$iterations)
  weights_file <- list.files(dir, pattern = "^weights-3-", full.names = TRUE)
  expect_length(weights_file, 1)
  expect_identical(names(readRDS(weights_file)),
                   c("hidden/kernel", "hidden/bias", "out/kernel", "out/bias"))
  expect_error(load_model(weights_file), class = "selu_error_file", regexp = "weights of a model alone")
  twin <- two_layers()
  load_model_weights(twin, weights_file)
  expect_identical(get_weights(twin), get_weights(model))
})

test_that("save_freq saves every so many batches, counted across epochs, as keras", {
  dir <- withr::local_tempdir("checkpoint")
  x <- matrix(seq(-1, 1, length.out = 20), 10, 2)
  y <- rowSums(x)
  model <- keras_model_sequential(input_shape = 2) |> layer_dense(1)
  compile(model, optimizer = "sgd", loss = "mse")
  kernels <- list()
  keep <- callback_lambda(on_batch_end = function(batch, logs) {
    kernels[[length(kernels) + 1]] <<- get_weights(model)[[1]]
  })
  # 5 batches an epoch; every 3rd: batch 3 of epoch 1, batches 1 and 4 of epoch 2
  fit(model, x, y, epochs = 2, batch_size = 2, shuffle = FALSE, verbose = 0,
      callbacks = list(keep, callback_model_checkpoint(file.path(dir, "b{epoch}-{batch}-{loss:.3f}"),
                                                       save_freq = 3, save_weights_only = TRUE)))
  files <- list.files(dir)
  expect_identical(sub("-[^-]*$", "", files), c("b1-3", "b2-1", "b2-4"))
  # the weights of that batch
  for (k in 1:3) {
    step <- c(3, 6, 9)[k]
    expect_identical(readRDS(file.path(dir, files[k]))[[1]], kernels[[step]])
  }
  # an epoch's save_freq attaches no per-batch hook (fit() then skips that work)
  expect_null(callback_model_checkpoint("m.rds")$on_batch_end)
})

test_that("period, keras's deprecated epoch interval, warns and saves every period epochs", {
  dir <- withr::local_tempdir("checkpoint")
  expect_warning(checkpoint <- callback_model_checkpoint(file.path(dir, "p{epoch}"), period = 2),
                 class = "selu_warning_deprecated", regexp = "`period` is deprecated")
  checkpoint_run(checkpoint, val_logs(1:5))
  expect_setequal(list.files(dir), c("p2", "p4"))
})

test_that("the checkpoint's mistakes are errors naming the argument, at the call or the first save", {
  dir <- withr::local_tempdir("checkpoint")
  expect_error(callback_model_checkpoint(), class = "selu_error", regexp = "`filepath` is missing")
  for (bad in list(1, NA_character_, c("a", "b"), "", NULL)) {
    expect_error(callback_model_checkpoint(bad), class = "selu_error", regexp = "`filepath`")
  }
  expect_error(callback_model_checkpoint("m-{epoch.rds"), class = "selu_error",
               regexp = "`filepath` \"m-\\{epoch.rds\" has a \"\\{\" without its \"\\}\"")
  expect_error(callback_model_checkpoint("m-{0}.rds"), class = "selu_error",
               regexp = "`filepath` .* has the field \\{0\\}: a field names a value")
  expect_error(callback_model_checkpoint("m-{loss:>8}.rds"), class = "selu_error",
               regexp = "`filepath` .* whose format \">8\" is not one of those taken")
  expect_error(callback_model_checkpoint("m-{batch}.rds"), class = "selu_error",
               regexp = "`filepath` .* uses \\{batch\\}, which is known only when `save_freq`")
  expect_error(callback_model_checkpoint("m-{val_loss:03d}.rds"), class = "selu_error",
               regexp = "`filepath` .* formats \\{val_loss:03d\\} as a whole number.*\\{val_loss:.2f\\}")
  # keras's extensions write keras's formats (test-hdf5.R)
  for (name in c("m.h5", "w-{epoch:02d}.hdf5", "m.keras", "m.weights.h5")) {
    expect_no_error(callback_model_checkpoint(name))
  }
  expect_error(callback_model_checkpoint("m", monitor = ""), class = "selu_error", regexp = "`monitor`")
  expect_error(callback_model_checkpoint("m", verbose = -1), class = "selu_error", regexp = "`verbose`")
  expect_error(callback_model_checkpoint("m", save_best_only = NA), class = "selu_error",
               regexp = "`save_best_only` must be TRUE or FALSE")
  expect_error(callback_model_checkpoint("m", save_weights_only = "yes"), class = "selu_error",
               regexp = "`save_weights_only` must be TRUE or FALSE")
  expect_error(callback_model_checkpoint("m", mode = "maximum"), class = "selu_error",
               regexp = "`mode` must be one of")
  expect_error(callback_model_checkpoint("m", period = 0), class = "selu_error", regexp = "`period`")
  for (bad in list(0, -3, 2.5, "batch", NA, c(2, 3), Inf)) {
    expect_error(callback_model_checkpoint("m", save_freq = bad), class = "selu_error",
                 regexp = "`save_freq` must be \"epoch\" or a whole number of batches")
  }
  expect_error(callback_model_checkpoint("m", initial_value_threshold = "a"), class = "selu_error",
               regexp = "`initial_value_threshold` must be a single number")
  expect_error(callback_model_checkpoint("m", options = list()), class = "selu_error",
               regexp = "Unknown argument: `options`")
  expect_s3_class(callback_model_checkpoint("m.{epoch:03d}-{batch}.rds", save_freq = 10L,
                                            mode = "max", verbose = 1L),
                  "selu_callback_model_checkpoint")
  expect_output(print(callback_model_checkpoint("m")), "^<callback model_checkpoint>$")

  # at the first save: a key the logs do not have, a directory that does not exist
  expect_error(checkpoint_run(callback_model_checkpoint(file.path(dir, "m-{val_mae:.2f}")),
                              list(list(loss = 1, mae = 2))),
               class = "selu_error", regexp = paste0(
                 "`filepath` \".*m-\\{val_mae:.2f\\}\" uses \\{val_mae\\}, which the logs of ",
                 "epoch 1 do not have; they have: epoch, loss, mae\\."))
  expect_error(checkpoint_run(callback_model_checkpoint(file.path(dir, "no", "m{epoch}.rds")),
                              list(list(loss = 1))),
               class = "selu_error_file", regexp = sprintf(
                 "`filepath` .* gives the file \"%s\", which is in a directory that does not exist, \"%s\"",
                 file.path(dir, "no", "m1.rds"), file.path(dir, "no")), fixed = FALSE)
  expect_false(dir.exists(file.path(dir, "no")))
  # without a trainer
  checkpoint <- callback_model_checkpoint(file.path(dir, "m"))
  expect_error(checkpoint$on_epoch_end(0, list(loss = 1)), class = "selu_error_internal")
})

# --- CSV logs --------------------------------------------------------------------

# Runs the logger's hooks through epochs with the logs given, as fit() does.
csv_run <- function(logger, logs, first_epoch = 0L) {
  callbacks <- list(logger)
  run_callbacks(callbacks, "on_train_begin", list())
  for (e in seq_along(logs)) run_callbacks(callbacks, "on_epoch_end", first_epoch + e - 1L, logs[[e]])
  run_callbacks(callbacks, "on_train_end", list())
}

read_bytes <- function(path) rawToChar(readBin(path, "raw", file.size(path)))

test_that("the CSV log is what keras 2.13's CSVLogger writes, byte for byte", {
  dir <- withr::local_tempdir("csv")
  path <- file.path(dir, "log.csv")
  # Python 3: keras's CSVLogger code (sorted keys, csv.DictWriter, str() of
  # floats) on these logs writes these bytes
  csv_run(callback_csv_logger(path), list(
    list(loss = 0.1, accuracy = 0.5, val_loss = 0.25, val_accuracy = 2 / 3),
    list(loss = 1e-05, accuracy = 1, val_loss = 123456789012345678, val_accuracy = 0.1 + 0.2)))
  expect_identical(read_bytes(path), paste0(
    "epoch,accuracy,loss,val_accuracy,val_loss\r\n",
    "0,0.5,0.1,0.6666666666666666,0.25\r\n",
    "1,1.0,1e-05,0.30000000000000004,1.2345678901234568e+17\r\n"))
  # no validation values at the first epoch: val_ columns anyway, NA
  csv_run(callback_csv_logger(path), list(list(loss = 0.5, mae = 0.25), list(loss = 0.125, mae = NaN)))
  expect_identical(read_bytes(path), paste0("epoch,loss,mae,val_loss,val_mae\r\n",
                                            "0,0.5,0.25,NA,NA\r\n", "1,0.125,nan,NA,NA\r\n"))
  # Python's order of the keys (by code point) and csv's quotes
  csv_run(callback_csv_logger(path), list(list(loss = 0.25, Loss = 0.5, "_x" = 1, a = 2, val_loss = 3)))
  expect_identical(read_bytes(path), "epoch,Loss,_x,a,loss,val_loss\r\n0,0.5,1.0,2.0,0.25,3.0\r\n")
  csv_run(callback_csv_logger(path, separator = "_"), list(list(loss = 0.5, val_loss = 0.25, out_mae = 1.5)))
  expect_identical(read_bytes(path), "epoch_loss_\"out_mae\"_\"val_loss\"\r\n0_0.5_1.5_0.25\r\n")
  # R reads it back
  csv_run(callback_csv_logger(path, separator = ";"), list(list(loss = 0.5, val_loss = 0.25),
                                                          list(loss = 0.4, val_loss = 0.2)))
  expect_identical(utils::read.csv(path, sep = ";"),
                   data.frame(epoch = 0:1, loss = c(0.5, 0.4), val_loss = c(0.25, 0.2)))
})

test_that("append adds rows to an existing log without a second header", {
  dir <- withr::local_tempdir("csv")
  path <- file.path(dir, "log.csv")
  logs <- list(list(loss = 0.5, val_loss = 0.25))
  # a missing or empty file gets the header
  csv_run(callback_csv_logger(path, append = TRUE), logs)
  expect_identical(read_bytes(path), "epoch,loss,val_loss\r\n0,0.5,0.25\r\n")
  csv_run(callback_csv_logger(path, append = TRUE), list(list(loss = 0.125, val_loss = Inf)),
          first_epoch = 1L)
  expect_identical(read_bytes(path), "epoch,loss,val_loss\r\n0,0.5,0.25\r\n1,0.125,inf\r\n")
  file.create(path)
  csv_run(callback_csv_logger(path, append = TRUE), logs)
  expect_identical(read_bytes(path), "epoch,loss,val_loss\r\n0,0.5,0.25\r\n")
  # a last line without its end gets one
  writeBin(charToRaw("epoch,loss,val_loss\n0,1,2"), path)
  csv_run(callback_csv_logger(path, append = TRUE), logs, first_epoch = 1L)
  expect_identical(read_bytes(path), "epoch,loss,val_loss\n0,1,2\r\n1,0.5,0.25\r\n")
  # without append, a training run starts the file afresh, at its start
  logger <- callback_csv_logger(path)
  logger$on_train_begin(list())
  expect_identical(file.size(path), 0)
  csv_run(logger, logs)
  csv_run(logger, logs)
  expect_identical(read_bytes(path), "epoch,loss,val_loss\r\n0,0.5,0.25\r\n")
})

test_that("a real fit() logs each epoch as it ends, and a crash keeps the finished ones", {
  dir <- withr::local_tempdir("csv")
  path <- file.path(dir, "log.csv")
  set.seed(3)
  x <- matrix(rnorm(40), 20, 2)
  y <- x[, 1]
  model <- keras_model_sequential(input_shape = 2) |> layer_dense(1)
  compile(model, optimizer = "sgd", loss = "mse", metrics = "mae")
  history <- fit(model, x, y, epochs = 3, validation_split = 0.25, verbose = 0,
                 callbacks = callback_csv_logger(path))
  logged <- utils::read.csv(path)
  expect_identical(names(logged), c("epoch", "loss", "mae", "val_loss", "val_mae"))
  expect_identical(logged$epoch, 0:2)
  # the digits read back as the history's doubles
  for (key in names(history$metrics)) expect_identical(logged[[key]], history$metrics[[key]])
  # a callback that fails in the third epoch, after the logger wrote it
  crash <- callback_lambda(on_epoch_end = function(epoch, logs) if (epoch == 2) stop("crash"))
  expect_error(fit(model, x, y, epochs = 5, verbose = 0,
                   callbacks = list(callback_csv_logger(path), crash)), "crash")
  expect_identical(utils::read.csv(path)$epoch, 0:2)
})

test_that("a failed write leaves the log as it was and names `filename`", {
  dir <- withr::local_tempdir("csv")
  path <- file.path(dir, "log.csv")
  logger <- callback_csv_logger(path, append = TRUE)
  csv_run(logger, list(list(loss = 1, val_loss = 2)))
  before <- read_bytes(path)
  fake <- function(text, path) {
    writeBin(charToRaw(substr(text, 1, 5)), path)
    stop("disk full")
  }
  if (exists("local_mocked_bindings", asNamespace("testthat"))) {
    testthat::local_mocked_bindings(write_text_file = fake)
  } else {
    real <- get("write_text_file", asNamespace("selu"))
    utils::assignInNamespace("write_text_file", fake, "selu")
    on.exit(utils::assignInNamespace("write_text_file", real, "selu"), add = TRUE)
  }
  expect_error(csv_run(logger, list(list(loss = 3, val_loss = 4))), class = "selu_error_file",
               regexp = "Could not write `filename` \".*log.csv\": disk full; an existing file was left")
  expect_identical(read_bytes(path), before)
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "log.csv")
})

test_that("the CSV logger's mistakes are errors naming the argument", {
  dir <- withr::local_tempdir("csv")
  expect_error(callback_csv_logger(), class = "selu_error", regexp = "`filename` is missing")
  for (bad in list(1, NA_character_, c("a", "b"), "", NULL)) {
    expect_error(callback_csv_logger(bad), class = "selu_error", regexp = "`filename`")
  }
  for (bad in list("", ";;", "\"", "\n", "\r", NA_character_, 1, c(",", ";"))) {
    expect_error(callback_csv_logger("log.csv", separator = bad), class = "selu_error",
                 regexp = "`separator` must be one character, not a quote or a line break")
  }
  expect_error(callback_csv_logger("log.csv", append = NA), class = "selu_error",
               regexp = "`append` must be TRUE or FALSE")
  expect_error(callback_csv_logger("log.csv", foo = 1), "unused argument")
  # when training starts
  expect_error(csv_run(callback_csv_logger(file.path(dir, "no", "log.csv")), list()),
               class = "selu_error_file",
               regexp = "`filename` \".*log.csv\" is in a directory that does not exist")
  expect_error(csv_run(callback_csv_logger(dir), list()), class = "selu_error_file",
               regexp = "`filename` .* is a directory, not a file")
  expect_output(print(callback_csv_logger("log.csv")), "^<callback csv_logger>$")
})
