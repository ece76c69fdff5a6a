# No function changes an object its caller can still see. Each test takes a
# deep copy first (serialize() shares no memory with the original) and
# compares after the calls: identical() would also pass on an alias.
deep_copy <- function(x) unserialize(serialize(x, NULL))

# Inputs of every kind the kernels take, each bound to a name.
immutability_inputs <- function() {
  list(
    vector = c(-2, -0.5, 0, 0.5, 2, NA),
    matrix = matrix(c(-3, -1, 0, 1, 2, 3), 2, 3),
    labelled = array(c(-1, 0.5, 2, -4), c(2, 2), list(c("a", "b"), c("c", "d"))),
    attributed = structure(c(-1, 1, -2, 2), dim = c(2L, 2L), note = "kept"),
    altrep = -3:2,
    integer = c(-2L, NA, 3L),
    logical = c(TRUE, FALSE, NA)
  )
}

test_that("activation_selu(inplace = TRUE) never overwrites what a name can see", {
  inputs <- immutability_inputs()
  before <- deep_copy(inputs)
  for (kind in names(inputs)) {
    x <- inputs[[kind]]
    y <- x
    expected <- activation_selu(deep_copy(x))
    expect_identical(activation_selu(x, inplace = TRUE), expected, info = kind)
    expect_identical(x, before[[kind]], info = kind)
    expect_identical(y, before[[kind]], info = kind)
    # through a list element, a function argument, an environment and lapply()
    expect_identical(activation_selu(inputs[[kind]], inplace = TRUE), expected, info = kind)
    wrapper <- function(v) activation_selu(v, inplace = TRUE)
    expect_identical(wrapper(x), expected, info = kind)
    env <- new.env()
    env$x <- x
    expect_identical(activation_selu(env$x, inplace = TRUE), expected, info = kind)
    expect_identical(env$x, before[[kind]], info = kind)
    expect_identical(lapply(inputs[kind], activation_selu, inplace = TRUE)[[1]], expected,
                     info = kind)
  }
  expect_identical(inputs, before)
})

test_that("inplace = TRUE never overwrites a constant of the code", {
  # the same literal is used again: it must not have turned into its SELU
  run_twice <- function() {
    for (i in 1:2) out <- activation_selu(-1, inplace = TRUE)
    out
  }
  expect_identical(run_twice(), activation_selu(-1))
  expect_identical(compiler::cmpfun(run_twice)(), activation_selu(-1))
  expr <- quote(activation_selu(c(-1, 1), inplace = TRUE))
  eval(expr)
  expect_identical(eval(expr), activation_selu(c(-1, 1)))
  x <- c(-1, 2)
  expect_identical(activation_selu(+x, inplace = TRUE), activation_selu(c(-1, 2)))
  expect_identical(activation_selu((x), inplace = TRUE), activation_selu(c(-1, 2)))
  expect_identical(x, c(-1, 2))
})

test_that("no activation or gradient function modifies its arguments", {
  inputs <- immutability_inputs()
  before <- deep_copy(inputs)
  forward <- list(
    selu = activation_selu, elu = activation_elu, leaky_relu = activation_leaky_relu,
    relu = function(x) activation_relu(x, max_value = 1), sigmoid = activation_sigmoid,
    tanh = activation_tanh, linear = activation_linear,
    thresholded_relu = activation_thresholded_relu,
    softmax = function(x) activation_softmax(x, axis = 1)
  )
  backward <- list(
    selu = activation_selu_backward, elu = activation_elu_backward,
    leaky_relu = activation_leaky_relu_backward,
    relu = function(x, g) activation_relu_backward(x, g, max_value = 1),
    sigmoid = activation_sigmoid_backward, tanh = activation_tanh_backward,
    linear = activation_linear_backward,
    thresholded_relu = activation_thresholded_relu_backward,
    softmax = function(x, g) activation_softmax_backward(x, g, axis = 1)
  )
  for (kind in names(inputs)) {
    x <- inputs[[kind]]
    g <- x
    g[] <- seq_along(x) - 2.5
    attr(g, "note") <- NULL
    g_before <- deep_copy(g)
    for (name in names(forward)) {
      forward[[name]](x)
      backward[[name]](x, g)
      backward[[name]](x, 2L)
      expect_identical(x, before[[kind]], info = paste(name, kind))
      expect_identical(g, g_before, info = paste(name, kind))
    }
  }
  expect_identical(inputs, before)
  x <- inputs$matrix
  alpha <- c(0.1, 0.2, 0.3)
  g <- x * 0 + 1
  activation_parametric_relu(x, alpha)
  activation_parametric_relu_backward(x, alpha, g)
  expect_identical(x, before$matrix)
  expect_identical(alpha, c(0.1, 0.2, 0.3))
  expect_identical(g, matrix(1, 2, 3))
})

# A layer of each kind, on input of shape (2, 3).
immutability_layers <- function() {
  list(
    layer_activation_selu(), layer_activation_selu(dtype = "float32"),
    layer_activation(activation = "tanh"), layer_activation(activation = "softmax"),
    layer_activation_elu(alpha = 0.5), layer_activation_leaky_relu(),
    layer_activation_relu(max_value = 1), layer_activation_thresholded_relu(theta = 0.5),
    layer_activation_softmax(), layer_alpha_dropout(rate = 0.3, seed = 1),
    layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.25)),
    layer_activation_parametric_relu(dtype = "float32", weights = list(array(c(0.1, 0.2, 0.3), 3)))
  )
}

test_that("layers, backward() and predict() leave the input, gradient and weights alone", {
  x <- matrix(c(-3, -1, 0, 1, 2, 3), 2, 3)
  g <- matrix(c(1, -1, 2, 0.5, 1, -2), 2, 3)
  x_before <- deep_copy(x)
  g_before <- deep_copy(g)
  for (layer in immutability_layers()) {
    layer(x)
    weights <- deep_copy(get_weights(layer))
    for (training in c(FALSE, TRUE)) {
      layer(x, training = training)
      backward(layer, x, g, training = training)
      backward(layer, x, 1, training = training)
    }
    expect_identical(x, x_before, info = layer$name)
    expect_identical(g, g_before, info = layer$name)
    expect_identical(get_weights(layer), weights, info = layer$name)
  }
  model <- keras_model_sequential(input_shape = 3) |>
    layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.25)) |>
    layer_alpha_dropout(rate = 0.2, seed = 3) |>
    layer_activation_selu()
  weights <- deep_copy(get_weights(model))
  predict(model, x)
  model(x, training = TRUE)
  backward(model, x, g, training = TRUE)
  backward(model, x, g)
  expect_identical(x, x_before)
  expect_identical(g, g_before)
  expect_identical(get_weights(model), weights)
})

test_that("set_weights() copies what it is given and get_weights() hands out copies", {
  x <- matrix(c(-3, -1, 0, 1, 2, 3), 2, 3)
  layer <- layer_activation_parametric_relu(input_shape = 3)
  given <- list(array(c(0.1, 0.2, 0.3), 3))
  given_before <- deep_copy(given)
  set_weights(layer, given)
  layer(x)
  backward(layer, x, 1)
  expect_identical(given, given_before)
  # changing the caller's list or array afterwards does not reach the layer
  given[[1]][1] <- 99
  expect_identical(get_weights(layer), given_before)
  # nor does changing what get_weights() or $weights returned
  got <- get_weights(layer)
  got[[1]][2] <- -5
  field <- layer$weights
  field[[1]][3] <- -7
  expect_identical(get_weights(layer), given_before)
  # integer weights are converted on a copy, not on the caller's vector
  ints <- list(array(1:3, 3))
  ints_before <- deep_copy(ints)
  set_weights(layer, ints)
  expect_identical(ints, ints_before)
  expect_identical(get_weights(layer), list(array(c(1, 2, 3), 3)))
  # weights given at construction, and a model's weights
  initial <- list(array(c(0.5, 0.5, 0.5), 3))
  initial_before <- deep_copy(initial)
  built <- layer_activation_parametric_relu(input_shape = 3, weights = initial)
  model <- keras_model_sequential(input_shape = 3) |>
    layer_activation_parametric_relu() |>
    layer_activation_selu()
  new <- list(array(c(0.3, 0.2, 0.1), 3))
  new_before <- deep_copy(new)
  set_weights(model, new)
  predict(model, x)
  backward(model, x, 1)
  new[[1]][1] <- 42
  initial[[1]][1] <- 42
  expect_identical(get_weights(model), new_before)
  expect_identical(get_weights(built), initial_before)
})

test_that("configurations handed out or taken in are copies", {
  layers <- c(immutability_layers(),
              list(layer_activation(activation = "selu", input_shape = c(2, 3), name = "cfg")))
  for (layer in layers) {
    config <- get_config(layer)
    before <- deep_copy(config)
    config$name <- "changed"
    config[[length(config)]] <- "changed"
    expect_identical(get_config(layer), before, info = before$name)
    config <- deep_copy(before)
    rebuilt <- from_config(config)
    expect_identical(config, before, info = before$name)
    config$trainable <- FALSE
    expect_identical(get_config(rebuilt), before, info = before$name)
    field <- layer$config
    field$name <- "changed"
    expect_identical(get_config(layer), before, info = before$name)
  }
  model <- keras_model_sequential(input_shape = 3) |>
    layer_activation_parametric_relu() |>
    layer_activation_selu()
  config <- get_config(model)
  before <- deep_copy(config)
  rebuilt <- from_config(config)
  expect_identical(config, before)
  config$layers[[2]]$config$name <- "changed"
  expect_identical(get_config(model), before)
  expect_identical(get_config(rebuilt), before)
})

test_that("initializers leave their shape and configuration alone", {
  for (init in list(initializer_lecun_normal(seed = 1), initializer_zeros(),
                    initializer_ones(), initializer_constant(2))) {
    shape <- c(3L, 2L)
    config <- get_config(init)
    first <- init(shape)
    expect_identical(shape, c(3L, 2L))
    config$seed <- 99
    config$value <- 99
    expect_identical(init(shape), first)
  }
})
