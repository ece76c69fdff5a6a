# get_layer(), pop_layer(), the *_on_batch() functions and clone_model().

test_that("get_layer() finds layers by name and position", {
  model <- keras_model_sequential(input_shape = 4) |>
    layer_dense(8, name = "hidden") |> layer_activation_selu(name = "act") |> layer_dense(1)
  expect_identical(get_layer(model, "act")$name, "act")
  expect_identical(get_layer(model, index = 1)$name, "hidden")
  expect_identical(get_layer(model, index = -1)$name, model$layers[[3]]$name)
  expect_error(get_layer(model, "nope"), "has no layer \"nope\"", class = "selu_error")
  expect_error(get_layer(model, index = 0), "`index`", class = "selu_error")
  expect_error(get_layer(model, "act", 1), "one of `name` and `index`", class = "selu_error")
  # a functional model's layers start with its inputs
  i <- layer_input(shape = 2, name = "in")
  functional <- keras_model(i, layer_dense(i, 1))
  expect_identical(get_layer(functional, index = 1)$name, "in")
})

test_that("pop_layer() removes a Sequential model's last layer", {
  model <- keras_model_sequential(input_shape = 4) |> layer_dense(8) |> layer_dense(1)
  pop_layer(model)
  expect_length(model$layers, 1)
  expect_identical(model$output_shape, c(NA, 8L))
  pop_layer(model)
  expect_error(pop_layer(model), "no layer to remove", class = "selu_error")
  i <- layer_input(shape = 2)
  expect_error(pop_layer(keras_model(i, layer_dense(i, 1))), "Sequential", class = "selu_error")
})

test_that("train_on_batch() is one step of fit(), test and predict on the batch", {
  set.seed(3)
  x <- matrix(rnorm(40), 10)
  y <- as.vector(x %*% c(1, -1, 0.5, 2))
  make <- function() {
    model <- keras_model_sequential(input_shape = 4) |>
      layer_dense(1, kernel_initializer = initializer_constant(0.1))
    compile(model, optimizer = optimizer_sgd(0.1), loss = "mse", metrics = "mae")
  }
  a <- make()
  b <- make()
  scores <- train_on_batch(a, x, y)
  history <- fit(b, x, y, batch_size = 10, epochs = 1, shuffle = FALSE, verbose = 0)
  expect_identical(get_weights(a), get_weights(b))
  expect_identical(unname(scores), c(history$metrics$loss, history$metrics$mae))
  # the loss before the step, by its formula
  expect_equal(unname(scores["loss"]), mean((x %*% rep(0.1, 4) - y)^2), tolerance = 1e-14)
  tested <- test_on_batch(a, x, y)
  expect_identical(tested, evaluate(a, x, y))
  expect_identical(predict_on_batch(a, x), predict(a, x))
  # one output, no metrics: the loss alone
  plain <- keras_model_sequential(input_shape = 4) |> layer_dense(1)
  compile(plain, loss = "mse")
  expect_length(train_on_batch(plain, x, y), 1)
})

test_that("clone_model() gives the same layers with new weights, uncompiled", {
  set.seed(4)
  model <- keras_model_sequential(input_shape = 3) |>
    layer_dense(4, activation = "selu", name = "a") |> layer_dense(1, name = "b")
  compile(model, loss = "mse")
  copy <- clone_model(model)
  expect_identical(vapply(copy$layers, function(l) l$name, ""), c("a", "b"))
  expect_identical(get_config(copy), get_config(model))
  expect_false(identical(get_weights(copy), get_weights(model)))
  expect_error(fit(copy, matrix(1, 2, 3), c(1, 2), verbose = 0), "compiled", class = "selu_error")
  # a functional model with a shared layer stays shared
  a <- layer_input(shape = 2)
  b <- layer_input(shape = 2)
  shared <- layer_dense(units = 2)
  functional <- keras_model(list(a, b), layer_add(list(shared(a), shared(b))))
  twin <- clone_model(functional)
  expect_length(get_weights(twin), 2)
  set_weights(twin, get_weights(functional))
  x <- list(matrix(1:4, 2), matrix(5:8, 2))
  expect_identical(predict(twin, x), predict(functional, x))
  # clone_function
  frozen <- clone_model(model, clone_function = function(layer) {
    config <- get_config(layer)
    config$trainable <- FALSE
    from_config(config)
  })
  expect_false(frozen$layers[[1]]$trainable)
  expect_error(clone_model(model, clone_function = function(layer) 1), "must give a layer",
               class = "selu_error")
})
