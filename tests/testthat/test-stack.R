# The C stack (R/stack.R, src/train.c): a chain of Dense layers trains and
# predicts in C. Each case trains a model twice from the same weights and
# seed: as it is (the C stack) and with a regularizer of weight 0 on its
# first kernel, which changes no number but takes the R path. The two must
# agree bit for bit.

stack_data <- function(n = 90, inputs = 6, seed = 5) {
  set.seed(seed)
  x <- matrix(rnorm(n * inputs), n)
  list(x = x, classes = as.integer((x[, 1] > 0) + (x[, 2] > 0.5)))
}

# `r_path = TRUE` gives the first kernel a regularizer of weight 0; `split`
# makes each activation a layer of its own; `dropout`: a list by layer of
# NULL or a function adding a dropout layer.
stack_net <- function(r_path, activations, units, inputs = 6, use_bias = TRUE,
                      trainable = rep(TRUE, length(units)), dropout = list(), split = FALSE) {
  model <- keras_model_sequential(input_shape = inputs)
  for (i in seq_along(units)) {
    reg <- if (r_path && i == 1) regularizer_l2(0)
    if (split) {
      model <- layer_dense(model, units[i], use_bias = use_bias, trainable = trainable[i],
                           kernel_regularizer = reg)
      if (activations[i] != "linear") model <- layer_activation(model, activations[i])
    } else {
      model <- layer_dense(model, units[i], activation = activations[i], use_bias = use_bias,
                           trainable = trainable[i], kernel_regularizer = reg)
    }
    if (i <= length(dropout) && !is.null(dropout[[i]])) model <- dropout[[i]](model)
  }
  model
}

runs_in_c <- function(model) !is.null(selu:::stack_layers(selu:::model_state(model)))

# Trains both ways; the weights, the optimizer state and the history of each.
train_both <- function(activations, units, loss, optimizer, y, epochs = 2, batch_size = 16,
                       data = stack_data(), ..., use_bias = TRUE,
                       trainable = rep(TRUE, length(units)), dropout = list()) {
  force(data) # stack_data() sets the seed
  set.seed(11)
  start <- get_weights(stack_net(FALSE, activations, units, use_bias = use_bias))
  lapply(c(stack = FALSE, r = TRUE), function(r_path) {
    model <- stack_net(r_path, activations, units, use_bias = use_bias, trainable = trainable,
                       dropout = dropout)
    set_weights(model, start)
    opt <- optimizer()
    compile(model, optimizer = opt, loss = loss, metrics = "mae")
    set.seed(12)
    history <- fit(model, data$x, y, epochs = epochs, batch_size = batch_size, verbose = 0, ...)
    state <- selu:::optimizer_state(opt)
    list(c = runs_in_c(model), weights = get_weights(model), history = history$metrics,
         iterations = state$iterations,
         slots = lapply(state[-1], function(slot) unname(slot)), model = model)
  })
}

expect_same_training <- function(runs) {
  expect_true(runs$stack$c)
  expect_false(runs$r$c)
  expect_identical(runs$stack$weights, runs$r$weights)
  expect_identical(runs$stack$history, runs$r$history)
  expect_identical(runs$stack$iterations, runs$r$iterations)
  expect_identical(runs$stack$slots, runs$r$slots)
}

test_that("every loss the C stack takes trains as the R path does", {
  d <- stack_data()
  one_hot <- diag(3)[d$classes + 1, ]
  binary <- matrix(as.double(d$x[, 1:2] > 0), ncol = 2)
  adam <- function() optimizer_adam(0.01)
  expect_same_training(train_both(c("selu", "softmax"), c(8, 3),
                                  "sparse_categorical_crossentropy", adam, d$classes))
  expect_same_training(train_both(c("elu", "softmax"), c(8, 3), "categorical_crossentropy",
                                  adam, one_hot))
  expect_same_training(train_both(c("tanh", "sigmoid"), c(8, 2), "binary_crossentropy", adam,
                                  binary))
  expect_same_training(train_both(c("relu", "linear"), c(8, 1), "mse", adam, d$x[, 3]))
  # mean squared error after an activation: its gradient goes back through it
  expect_same_training(train_both(c("leaky_relu", "tanh"), c(8, 2), "mse", adam, d$x[, 3:4] / 4))
})

test_that("every optimizer and option trains as the R path does", {
  d <- stack_data()
  optimizers <- list(
    function() optimizer_sgd(0.1),
    function() optimizer_sgd(0.05, momentum = 0.9),
    function() optimizer_sgd(0.05, momentum = 0.9, nesterov = TRUE, weight_decay = 0.01),
    function() optimizer_adam(0.01, amsgrad = TRUE),
    function() optimizer_adam(0.01, weight_decay = 0.05),
    function() optimizer_adam(0.01, clipnorm = 0.05),
    function() optimizer_adam(0.01, global_clipnorm = 0.05),
    function() optimizer_rmsprop(0.01, clipvalue = 0.01),
    function() optimizer_rmsprop(0.01, momentum = 0.5, centered = TRUE),
    function() optimizer_adagrad(0.05, weight_decay = 0.1))
  for (optimizer in optimizers) {
    expect_same_training(train_both(c("selu", "sigmoid", "softmax"), c(8, 5, 3),
                                    "sparse_categorical_crossentropy", optimizer, d$classes))
  }
})

test_that("Adam's update in vector instructions is the R path's, on every instruction set", {
  d <- stack_data()
  adam <- function() optimizer_adam(0.01, weight_decay = 0.01)
  runs <- lapply(available_isas(), function(isa) {
    with_isa(isa, train_both(c("selu", "softmax"), c(9, 3), "sparse_categorical_crossentropy",
                             adam, d$classes))
  })
  # the R path's Adam is R's arithmetic; the kernels of each set are its own
  for (run in runs) expect_same_training(run)
})

test_that("frozen layers, layers without bias, row weights and validation match the R path", {
  d <- stack_data()
  adam <- function() optimizer_adam(0.01)
  runs <- train_both(c("selu", "selu", "softmax"), c(8, 8, 3), "sparse_categorical_crossentropy",
                     adam, d$classes, trainable = c(FALSE, TRUE, TRUE))
  expect_same_training(runs)
  set.seed(11)
  frozen <- get_weights(stack_net(FALSE, c("selu", "selu", "softmax"), c(8, 8, 3)))[1:2]
  expect_identical(runs$stack$weights[1:2], frozen)
  # a frozen layer in the middle passes the gradient through
  expect_same_training(train_both(c("selu", "tanh", "softmax"), c(8, 8, 3),
                                  "sparse_categorical_crossentropy", adam, d$classes,
                                  trainable = c(TRUE, FALSE, TRUE)))
  expect_same_training(train_both(c("selu", "softmax"), c(8, 3), "sparse_categorical_crossentropy",
                                  adam, d$classes, use_bias = FALSE))
  weights <- seq(0.5, 2, length.out = nrow(d$x))
  expect_same_training(train_both(c("selu", "softmax"), c(8, 3), "sparse_categorical_crossentropy",
                                  adam, d$classes, sample_weight = weights,
                                  class_weight = c("0" = 1, "2" = 3), validation_split = 0.2))
  # a last batch of one row, and one batch of all rows
  expect_same_training(train_both(c("selu", "softmax"), c(8, 3), "sparse_categorical_crossentropy",
                                  adam, d$classes, batch_size = 89))
  expect_same_training(train_both(c("selu", "softmax"), c(8, 3), "sparse_categorical_crossentropy",
                                  adam, d$classes, batch_size = 500))
})

test_that("dropout and alpha dropout train in the C stack as in the R path", {
  d <- stack_data()
  adam <- function() optimizer_adam(0.01)
  alpha <- function(rate, ...) function(model) layer_alpha_dropout(model, rate, ...)
  plain <- function(rate, ...) function(model) layer_dropout(model, rate, ...)
  for (dropout in list(list(alpha(0.2), alpha(0.1)), list(plain(0.3)), list(NULL, plain(0.5)),
                       list(alpha(0.1, seed = 4), plain(0.2, seed = 9)), list(alpha(0)))) {
    expect_same_training(train_both(c("selu", "linear", "softmax"), c(8, 6, 3),
                                    "sparse_categorical_crossentropy", adam, d$classes,
                                    dropout = dropout))
  }
  # the same masks as the R path drew: the user's random stream moved alike
  runs <- lapply(c(FALSE, TRUE), function(r_path) {
    set.seed(11)
    model <- stack_net(r_path, c("selu", "softmax"), c(8, 3), dropout = list(alpha(0.2)))
    compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy")
    set.seed(12)
    fit(model, d$x, d$classes, epochs = 1, batch_size = 16, verbose = 0)
    runif(1)
  })
  expect_identical(runs[[1]], runs[[2]])
  # dropout is off in predict()
  set.seed(11)
  model <- stack_net(FALSE, c("selu", "softmax"), c(8, 3), dropout = list(alpha(0.5)))
  expect_true(runs_in_c(model))
  expect_identical(predict(model, d$x), predict(model, d$x))
})

test_that("an Activation layer after a linear Dense layer runs in the C stack as its activation", {
  d <- stack_data()
  one_hot <- diag(3)[d$classes + 1, ]
  runs <- lapply(c(FALSE, TRUE), function(split) {
    set.seed(11)
    model <- stack_net(FALSE, c("selu", "tanh", "softmax"), c(8, 6, 3), split = split,
                       dropout = list(function(model) layer_alpha_dropout(model, 0.1)))
    compile(model, optimizer = "adam", loss = "categorical_crossentropy")
    set.seed(12)
    fit(model, d$x, one_hot, epochs = 2, batch_size = 16, verbose = 0)
    list(c = runs_in_c(model), weights = get_weights(model))
  })
  expect_true(runs[[2]]$c)
  expect_identical(runs[[1]], runs[[2]])
  # the package's own SELU layer is one of them; parametric ones are not
  selu_layer <- keras_model_sequential(input_shape = 6) |> layer_dense(4) |>
    layer_activation_selu() |> layer_dense(1)
  expect_true(runs_in_c(selu_layer))
  leaky <- keras_model_sequential(input_shape = 6) |> layer_dense(4) |>
    layer_activation_leaky_relu(alpha = 0.1) |> layer_dense(1)
  expect_false(runs_in_c(leaky))
  twice <- keras_model_sequential(input_shape = 6) |> layer_dense(4, activation = "relu") |>
    layer_activation_selu() |> layer_dense(1)
  expect_false(runs_in_c(twice))
})

test_that("callbacks that run per batch see the weights of every step", {
  d <- stack_data()
  seen <- lapply(c(stack = FALSE, r = TRUE), function(r_path) {
    set.seed(11)
    model <- stack_net(r_path, c("selu", "softmax"), c(8, 3))
    kernels <- list()
    record <- callback_lambda(on_batch_end = function(batch, logs) {
      kernels[[length(kernels) + 1]] <<- get_weights(model)[[1]]
    })
    compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy")
    set.seed(12)
    fit(model, d$x, d$classes, epochs = 2, batch_size = 30, verbose = 0, callbacks = record)
    kernels
  })
  expect_length(seen$stack, 6)
  expect_identical(seen$stack, seen$r)
  expect_false(identical(seen$stack[[1]], seen$stack[[2]]))
})

test_that("a second fit() continues the C stack's training where it stopped", {
  d <- stack_data()
  train <- function(epochs) {
    set.seed(11)
    model <- stack_net(FALSE, c("selu", "softmax"), c(8, 3))
    compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy")
    set.seed(12)
    for (e in epochs) fit(model, d$x, d$classes, epochs = e, batch_size = 16, verbose = 0)
    get_weights(model)
  }
  expect_identical(train(c(2, 2)), train(4))
})

test_that("a loss that is not finite stops the C stack before the update", {
  d <- stack_data()
  runs <- lapply(c(stack = FALSE, r = TRUE), function(r_path) {
    set.seed(11)
    model <- stack_net(r_path, c("linear", "linear"), c(8, 1))
    compile(model, optimizer = optimizer_sgd(1e6), loss = "mse")
    set.seed(12)
    expect_message(fit(model, d$x, d$x[, 1] * 1e100, epochs = 3, batch_size = 30, verbose = 0),
                   class = "selu_message_not_finite")
    get_weights(model)
  })
  expect_identical(runs$stack, runs$r)
  expect_true(all(is.finite(unlist(runs$stack))))
})

test_that("predict() and evaluate() through the C stack are the layers' own forward pass", {
  d <- stack_data(n = 101)
  set.seed(11)
  model <- stack_net(FALSE, c("selu", "relu", "softmax"), c(8, 5, 3))
  r_path <- stack_net(TRUE, c("selu", "relu", "softmax"), c(8, 5, 3))
  set_weights(r_path, get_weights(model))
  expect_true(runs_in_c(model))
  p <- predict(model, d$x)
  expect_identical(p, model(d$x))
  expect_identical(p, predict(r_path, d$x))
  for (batch_size in c(1, 7, 100, 101, 1000)) {
    expect_identical(predict(model, d$x, batch_size = batch_size), p)
  }
  named <- d$x
  rownames(named) <- paste0("r", seq_len(nrow(named)))
  expect_identical(rownames(predict(model, named)), rownames(named))
  expect_identical(predict(model, d$x[1, , drop = FALSE]), p[1, , drop = FALSE])
  # an output large enough for the allocator's reused blocks (src/alloc.c)
  big <- matrix(rnorm(3e4 * 6), 3e4)
  expect_identical(predict(model, big, batch_size = 4096), model(big))
  for (m in list(model, r_path)) {
    compile(m, optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = "accuracy")
  }
  expect_identical(evaluate(model, d$x, d$classes, batch_size = 16),
                   evaluate(r_path, d$x, d$classes, batch_size = 16))
  expect_error(predict(model, d$x[, 1:5]), class = "selu_error", regexp = "shape")
})

test_that("models the C stack does not take still train, through the R path", {
  d <- stack_data()
  set.seed(11)
  regularized <- keras_model_sequential(input_shape = 6) |>
    layer_dense(8, activation = "selu", kernel_regularizer = regularizer_l2(0.01)) |>
    layer_dense(3, activation = "softmax")
  expect_false(runs_in_c(regularized))
  compile(regularized, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  expect_silent(fit(regularized, d$x, d$classes, epochs = 1, verbose = 0))
  # an integer input and label smoothing take the R path too
  plain <- stack_net(FALSE, c("selu", "softmax"), c(8, 3))
  compile(plain, optimizer = "adam", loss = loss_categorical_crossentropy(label_smoothing = 0.1))
  before <- get_weights(plain)
  fit(plain, round(d$x * 10), diag(3)[d$classes + 1, ], epochs = 1, verbose = 0)
  expect_false(identical(get_weights(plain), before))
})

test_that("the C stack's entry points keep what they allocate through garbage collections", {
  d <- stack_data(n = 20)
  set.seed(11)
  model <- stack_net(FALSE, c("selu", "softmax"), c(4, 3),
                     dropout = list(function(model) layer_alpha_dropout(model, 0.2)))
  compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy")
  self <- selu:::model_state(model)
  compiled <- self$compiled
  data <- selu:::training_data(self, compiled$loss, d$x, d$classes, NULL, NULL, "x", "y", NULL)
  plan <- selu:::training_plan(self, compiled$loss)
  run <- function() {
    trainer <- selu:::stack_trainer(self, plan, compiled, data, 8)
    set.seed(3)
    step <- selu:::stack_step(trainer, data, 1:8, output = TRUE)
    stored <- .Call(selu:::C_selu_trainer_store, trainer$ptr, TRUE)
    list(step = step, stored = stored,
         forward = selu:::stack_forward(plan$stack, d$x, 7, logits = TRUE))
  }
  plain <- run()
  gctorture(TRUE)
  tortured <- run()
  gctorture(FALSE)
  expect_identical(tortured, plain)
  expect_equal(plain$step$failure, NULL)
})
