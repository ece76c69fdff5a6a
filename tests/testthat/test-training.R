# compile(), fit(), evaluate() and predict() on small data.

iris_data <- function() {
  x <- scale(as.matrix(iris[, 1:4]))
  attributes(x) <- list(dim = dim(x))
  set.seed(10)
  rows <- sample(nrow(x))
  list(x = x[rows, ], y = as.integer(iris$Species)[rows] - 1L)
}

snn <- function(units = 16, seed = 1) {
  set.seed(seed)
  keras_model_sequential(input_shape = 4) |>
    layer_dense(units, kernel_initializer = "lecun_normal", activation = "selu") |>
    layer_alpha_dropout(0.05) |>
    layer_dense(units, kernel_initializer = "lecun_normal") |>
    layer_activation_selu() |>
    layer_dense(3, activation = "softmax")
}

test_that("a self-normalizing network learns iris, and evaluate() and predict() agree", {
  data <- iris_data()
  model <- snn()
  compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy",
          metrics = "accuracy")
  history <- fit(model, data$x[1:120, ], data$y[1:120], epochs = 30, batch_size = 16,
                 verbose = 0)
  expect_s3_class(history, "keras_training_history")
  expect_named(history$metrics, c("loss", "accuracy"))
  expect_length(history$metrics$loss, 30)
  expect_lt(history$metrics$loss[30], history$metrics$loss[1] / 3)
  scores <- evaluate(model, data$x[121:150, ], data$y[121:150])
  expect_named(scores, c("loss", "accuracy"))
  expect_gte(scores[["accuracy"]], 0.9)
  p <- predict(model, data$x[121:150, ])
  expect_identical(dim(p), c(30L, 3L))
  expect_equal(rowSums(p), rep(1, 30))
  # the accuracy and the loss of the predictions, computed here
  expect_equal(scores[["accuracy"]], mean(max.col(p) - 1 == data$y[121:150]))
  expect_equal(scores[["loss"]], -mean(log(p[cbind(1:30, data$y[121:150] + 1)])),
               tolerance = 1e-12)
  # predict()'s batches change nothing
  expect_identical(predict(model, data$x, batch_size = 7), predict(model, data$x, batch_size = 150))
})

test_that("fit(), evaluate() and predict() leave the caller's data as it was", {
  data <- iris_data()
  x <- data$x
  y <- data$y
  x_copy <- x + 0
  y_copy <- y + 0L
  model <- snn(seed = 3)
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  fit(model, x, y, epochs = 1, verbose = 0, sample_weight = rep(1, 150))
  evaluate(model, x, y)
  predict(model, x)
  expect_identical(x, x_copy)
  expect_identical(y, y_copy)
})

test_that("validation_split holds out the last rows, before shuffling", {
  data <- iris_data()
  model <- snn(seed = 2)
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = "accuracy")
  history <- fit(model, data$x, data$y, epochs = 3, validation_split = 0.2, verbose = 0)
  expect_named(history$metrics, c("loss", "accuracy", "val_loss", "val_accuracy"))
  expect_identical(history$params$samples, 120L)
  expect_identical(history$params$validation_samples, 30L)
  # the last epoch's validation scores are those of the trained model on the last 30 rows
  held_out <- evaluate(model, data$x[121:150, ], data$y[121:150])
  expect_equal(history$metrics$val_loss[3], held_out[["loss"]], tolerance = 1e-12)
  expect_equal(history$metrics$val_accuracy[3], held_out[["accuracy"]])
  # validation_data gives the same numbers for the same rows
  model2 <- snn(seed = 2)
  compile(model2, optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = "accuracy")
  history2 <- fit(model2, data$x[1:120, ], data$y[1:120], epochs = 3, verbose = 0,
                  validation_data = list(data$x[121:150, ], data$y[121:150]))
  expect_equal(history2$metrics, history$metrics, tolerance = 1e-12)
})

test_that("training is reproducible bit for bit from set.seed(), on 1 and 2 threads", {
  data <- iris_data()
  train <- function(threads) {
    old <- selu_threads(threads)
    on.exit(selu_threads(old))
    model <- snn(seed = 5)
    compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy")
    set.seed(6)
    fit(model, data$x, data$y, epochs = 3, batch_size = 8, verbose = 0)
    get_weights(model)
  }
  one <- train(1)
  expect_identical(train(1), one)
  expect_identical(train(2), one)
})

test_that("fit() again continues where the last one stopped", {
  data <- iris_data()
  run <- function(epochs) {
    model <- keras_model_sequential(input_shape = 4) |>
      layer_dense(8, kernel_initializer = initializer_lecun_normal(seed = 1), activation = "selu") |>
      layer_dense(3, kernel_initializer = initializer_lecun_normal(seed = 2),
                  activation = "softmax")
    compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy")
    for (e in epochs) fit(model, data$x, data$y, epochs = e, shuffle = FALSE, verbose = 0)
    get_weights(model)
  }
  expect_identical(run(c(2, 3)), run(5))
})

test_that("one SGD step on a linear model is the closed-form gradient step", {
  set.seed(3)
  x <- matrix(rnorm(20), 10, 2)
  y <- x %*% c(1, -2) + 0.5 + rnorm(10, sd = 0.1)
  w0 <- matrix(c(0.3, 0.1), 2, 1)
  model <- keras_model_sequential(input_shape = 2) |>
    layer_dense(1, weights = list(w0, 0.2))
  compile(model, optimizer = optimizer_sgd(learning_rate = 0.1), loss = "mse")
  fit(model, x, y, epochs = 1, batch_size = 10, verbose = 0)
  residual <- x %*% w0 + 0.2 - y
  expected_w <- w0 - 0.1 * 2 * crossprod(x, residual) / 10
  expected_b <- 0.2 - 0.1 * 2 * sum(residual) / 10
  w <- get_weights(model)
  expect_equal(w[[1]], expected_w, tolerance = 1e-14)
  expect_equal(w[[2]], expected_b, tolerance = 1e-14)
})

test_that("regularizers add their penalty and constraints hold after every step", {
  set.seed(4)
  x <- matrix(rnorm(40), 20, 2)
  y <- x %*% c(2, -3)
  kernel <- matrix(c(1, -1), 2, 1)
  model <- keras_model_sequential(input_shape = 2) |>
    layer_dense(1, use_bias = FALSE, weights = list(kernel),
                kernel_regularizer = regularizer_l2(0.5))
  compile(model, optimizer = "sgd", loss = "mse")
  expect_equal(evaluate(model, x, y)[["loss"]],
               mean((x %*% kernel - y)^2) + 0.5 * sum(kernel^2), tolerance = 1e-14)
  constrained <- keras_model_sequential(input_shape = 2) |>
    layer_dense(1, use_bias = FALSE, kernel_constraint = constraint_nonneg(),
                weights = list(kernel))
  compile(constrained, optimizer = optimizer_sgd(0.1), loss = "mse")
  fit(constrained, x, y, epochs = 2, batch_size = 5, verbose = 0)
  expect_true(all(get_weights(constrained)[[1]] >= 0))
})

test_that("frozen layers keep their weights", {
  data <- iris_data()
  model <- snn(seed = 7)
  first <- model$layers[[1]]
  first$trainable <- FALSE
  before <- get_weights(model)
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  fit(model, data$x, data$y, epochs = 1, verbose = 0)
  after <- get_weights(model)
  expect_identical(after[1:2], before[1:2])
  expect_false(identical(after[3:4], before[3:4]))
  expect_match(capture.output(summary(model)), "Non-trainable params: 80", all = FALSE)
  freeze_weights(model)
  fit(model, data$x, data$y, epochs = 1, verbose = 0)
  expect_identical(get_weights(model), after)
  unfreeze_weights(model, from = 3)
  fit(model, data$x, data$y, epochs = 1, verbose = 0)
  now <- get_weights(model)
  expect_identical(now[1:2], after[1:2])
  expect_false(identical(now[5:6], after[5:6]))
  dense <- layer_dense(units = 2)
  expect_identical(freeze_weights(dense)$trainable, FALSE)
  expect_identical(unfreeze_weights(dense)$trainable, TRUE)
  expect_error(freeze_weights(dense, from = 1), "`from` and `to` must be NULL",
               class = "selu_error")
  expect_error(freeze_weights(model, from = "nope"), "`from` must be NULL, a layer's name",
               class = "selu_error")
})

test_that("dropout is on in training and off in inference", {
  data <- iris_data()
  model <- keras_model_sequential(input_shape = 4) |>
    layer_dense(8, kernel_initializer = initializer_lecun_normal(seed = 1), activation = "relu") |>
    layer_dropout(0.5, seed = 3) |>
    layer_dense(3, kernel_initializer = initializer_lecun_normal(seed = 2), activation = "softmax")
  expect_identical(predict(model, data$x), predict(model, data$x))
  expect_false(identical(model(data$x, training = TRUE), predict(model, data$x)))
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  before <- evaluate(model, data$x, data$y)[["loss"]]
  history <- fit(model, data$x, data$y, epochs = 1, batch_size = 150, shuffle = FALSE,
                 verbose = 0)
  # the training loss of the one batch came from a dropped-out forward pass
  expect_false(isTRUE(all.equal(history$metrics$loss, before)))
})

test_that("sample and class weights weight each row's loss", {
  data <- iris_data()
  model <- snn(seed = 8)
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  plain <- evaluate(model, data$x, data$y)[["loss"]]
  expect_equal(evaluate(model, data$x, data$y, sample_weight = rep(2, 150))[["loss"]],
               2 * plain, tolerance = 1e-14)
  run <- function(...) {
    m <- snn(seed = 9)
    compile(m, optimizer = optimizer_sgd(0.05), loss = "sparse_categorical_crossentropy")
    fit(m, data$x, data$y, epochs = 1, shuffle = FALSE, verbose = 0, ...)
    get_weights(m)
  }
  weights <- c(0.5, 2, 1)[data$y + 1]
  expect_equal(run(class_weight = c("0" = 0.5, "1" = 2, "2" = 1)),
               run(sample_weight = weights), tolerance = 1e-14)
  expect_false(isTRUE(all.equal(run(), run(sample_weight = weights))))
})

test_that("callbacks see every epoch and batch, and early stopping stops", {
  data <- iris_data()
  model <- snn(seed = 11)
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  seen <- list(epochs = integer(), batches = 0L, begun = FALSE, ended = FALSE)
  hooks <- callback_lambda(
    on_train_begin = function(logs) seen$begun <<- TRUE,
    on_epoch_end = function(epoch, logs) seen$epochs <<- c(seen$epochs, epoch),
    on_batch_end = function(batch, logs) seen$batches <<- seen$batches + 1L,
    on_train_end = function(logs) seen$ended <<- TRUE)
  fit(model, data$x, data$y, epochs = 3, batch_size = 50, callbacks = hooks, verbose = 0)
  expect_identical(seen$epochs, 0:2)
  expect_identical(seen$batches, 9L)
  expect_true(seen$begun && seen$ended)
  # a validation loss that cannot improve at this learning rate: stops after patience
  stopper <- callback_early_stopping(monitor = "loss", patience = 1, min_delta = 100)
  history <- fit(model, data$x, data$y, epochs = 20, callbacks = stopper, verbose = 0)
  expect_length(history$metrics$loss, 2)
})

test_that("verbose = 2 prints a line per epoch, verbose = 0 nothing", {
  data <- iris_data()
  model <- snn(seed = 12)
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = "accuracy")
  out <- capture.output(fit(model, data$x, data$y, epochs = 2, verbose = 2,
                            validation_split = 0.2))
  expect_match(out, "^Epoch 1/2$", all = FALSE)
  expect_match(out, "^Epoch 2/2$", all = FALSE)
  expect_match(out, "loss: [0-9.]+ - accuracy: [0-9.]+ - val_loss: [0-9.]+ - val_accuracy",
               all = FALSE)
  expect_identical(capture.output(fit(model, data$x, data$y, epochs = 1, verbose = 0)),
                   character(0))
})

test_that("an interrupt returns a usable model with the weights of the last finished batch", {
  data <- iris_data()
  model <- snn(seed = 13)
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  after_batch <- NULL
  interrupt <- callback_lambda(on_batch_end = function(batch, logs) {
    if (batch == 2) {
      after_batch <<- get_weights(model)
      # what Ctrl-C raises, at the start of the next batch
    }
    if (batch == 3) signalCondition(structure(class = c("interrupt", "condition"), list()))
  })
  expect_message(history <- fit(model, data$x, data$y, epochs = 2, batch_size = 10,
                                callbacks = interrupt, verbose = 0),
                 "interrupted in epoch 1")
  expect_length(history$metrics$loss, 0)
  # batch 3 had finished (its update made) when the interrupt came
  expect_false(identical(get_weights(model), after_batch))
  expect_true(all(vapply(get_weights(model), function(w) all(is.finite(w)), TRUE)))
  expect_identical(dim(predict(model, data$x)), c(150L, 3L))
  fit(model, data$x, data$y, epochs = 1, verbose = 0)
})

test_that("a loss that is not finite stops training before the update", {
  x <- matrix(c(1, 2, 3, 4), 4, 1)
  model <- keras_model_sequential(input_shape = 1) |> layer_dense(1, kernel_initializer = "ones")
  compile(model, optimizer = optimizer_sgd(1e10), loss = "mse")
  before <- get_weights(model)
  y <- c(1e300, 1, 1, 1)
  expect_message(history <- fit(model, x, y, epochs = 3, batch_size = 4, verbose = 0),
                 "Training stopped in epoch 1, batch 1: the loss is Inf",
                 class = "selu_message")
  expect_identical(get_weights(model), before)
  expect_length(history$metrics$loss, 0)
  # an update that overflows the weights is refused too
  compile(model, optimizer = optimizer_sgd(1e308), loss = "mse")
  expect_message(fit(model, x, c(10, 10, 10, 10), epochs = 1, verbose = 0),
                 "the update makes weights that are not finite", class = "selu_message")
  expect_identical(get_weights(model), before)
})

test_that("functional models train like sequential ones", {
  data <- iris_data()
  inputs <- layer_input(shape = 4)
  outputs <- inputs |>
    layer_dense(8, kernel_initializer = initializer_lecun_normal(seed = 1), activation = "selu") |>
    layer_dense(3, kernel_initializer = initializer_lecun_normal(seed = 2), activation = "softmax")
  model <- keras_model(inputs, outputs)
  compile(model, optimizer = optimizer_adam(0.02), loss = "sparse_categorical_crossentropy",
          metrics = "accuracy")
  history <- fit(model, data$x, data$y, epochs = 10, verbose = 0)
  expect_gt(history$metrics$accuracy[10], history$metrics$accuracy[1])
})

test_that("bad training input is refused before any weight changes", {
  data <- iris_data()
  model <- snn(seed = 14)
  before <- get_weights(model)
  expect_error(fit(model, data$x, data$y), "must be compiled before fit\\(\\)",
               class = "selu_error")
  expect_error(evaluate(model, data$x, data$y), "must be compiled before evaluate\\(\\)",
               class = "selu_error")
  expect_error(compile(model, optimizer = "adamw", loss = "mse"), "`optimizer`",
               class = "selu_error")
  expect_error(compile(model, loss = "hinge2"), "`loss`", class = "selu_error")
  expect_error(compile(model), "`loss` is missing", class = "selu_error")
  expect_error(compile(model, loss = "mse", metrics = "f1"), "`metrics`", class = "selu_error")
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = "accuracy")
  expect_error(fit(model, data$x, data$y[-1]), "`y` must have one target per row of `x`",
               class = "selu_error")
  expect_error(fit(model, data$x, data$y + 1), "`y`", class = "selu_error")
  x_na <- data$x
  x_na[5, 2] <- NA
  expect_error(fit(model, x_na, data$y), "`x` must hold finite numbers, but element 155 is NA",
               class = "selu_error")
  x_inf <- data$x
  x_inf[3] <- Inf
  expect_error(fit(model, x_inf, data$y), "`x` must hold finite numbers", class = "selu_error")
  y_na <- data$y
  y_na[3] <- NA
  expect_error(fit(model, data$x, y_na), "`y`", class = "selu_error")
  expect_error(fit(model, data$x[, 1:3], data$y), "`x` has shape \\(150, 3\\)",
               class = "selu_error_shape")
  expect_error(fit(model, as.data.frame(data$x), data$y), "`x` must be a numeric vector, matrix",
               class = "selu_error")
  expect_error(fit(model, data$x, data$y, epochs = 0), "`epochs`", class = "selu_error")
  expect_error(fit(model, data$x, data$y, batch_size = -1), "`batch_size`", class = "selu_error")
  expect_error(fit(model, data$x, data$y, validation_split = 1), "`validation_split`",
               class = "selu_error")
  expect_error(fit(model, data$x, data$y, validation_split = 0.999),
               "`validation_split` = 0.999 of 150 rows leaves no training rows",
               class = "selu_error")
  expect_error(fit(model, data$x, data$y, validation_data = list(data$x)), "`validation_data`",
               class = "selu_error")
  expect_error(fit(model, data$x, data$y, validation_data = list(data$x, data$y[-1])),
               "`validation_data", class = "selu_error")
  expect_error(fit(model, data$x, data$y, verbose = 3), "`verbose`", class = "selu_error")
  expect_error(fit(model, data$x, data$y, sample_weight = rep(-1, 150)), "`sample_weight`",
               class = "selu_error")
  expect_error(fit(model, data$x, data$y, class_weight = c(a = 1)), "`class_weight`",
               class = "selu_error")
  expect_error(fit(model, data$x, data$y, initial_epoch = 10, epochs = 10), "`initial_epoch`",
               class = "selu_error")
  expect_error(fit(model, data$x, data$y, steps = 3), "Unknown argument: `steps`",
               class = "selu_error")
  # a loss that does not fit the output
  compile(model, optimizer = "adam", loss = "categorical_crossentropy")
  expect_error(fit(model, data$x, data$y), "`y`", class = "selu_error")
  expect_identical(get_weights(model), before)
})
