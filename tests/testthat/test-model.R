test_that("a sequential model is built in place and predicts", {
  m <- keras_model_sequential(input_shape = 4, name = "snn")
  alias <- m
  layer_activation_selu(m)
  m |> layer_activation_selu(name = "second")
  expect_length(alias$layers, 2)
  expect_identical(m$name, "snn")
  expect_identical(m$input_shape, c(NA, 4L))
  expect_identical(m$output_shape, c(NA, 4L))
  expect_identical(m$layers[[2]]$name, "second")
  x <- matrix(seq(-3, 2.5, length.out = 12), 3, 4)
  expect_identical(predict(m, x), activation_selu(activation_selu(x)))
  expect_identical(m(x), predict(m, x))
})

test_that("layers given to keras_model_sequential() are added in order", {
  a <- layer_activation_selu(name = "a", input_shape = 2)
  b <- layer_activation_selu(name = "b")
  m <- keras_model_sequential(list(a, b))
  expect_identical(vapply(m$layers, function(l) l$name, ""), c("a", "b"))
  expect_identical(m$input_shape, c(NA, 2L))
  expect_identical(keras_model_sequential(a)$layers[[1]]$name, "a")
  expect_error(keras_model_sequential(list(a, "b")), "`layers` must be NULL, a layer or a list of layers")
})

test_that("shape mismatches are errors when the model is built", {
  m <- keras_model_sequential(input_shape = 4)
  expect_error(layer_activation_selu(m, input_shape = 5),
               "expects input of shape \\(None, 5\\), but the output of `object` has shape \\(None, 4\\)",
               class = "selu_error_shape")
  expect_length(m$layers, 0)
  m |> layer_activation_selu()
  expect_error(predict(m, matrix(0, 2, 5)),
               "The model \"sequential.*\" expects input of shape \\(None, 4\\), but `x` has shape \\(2, 5\\)")
  expect_error(predict(m, c(1, 2, 3, 4)), "one-row matrix")
  expect_error(predict(m, "a"), "`x` must be a numeric")
  expect_error(predict(m, matrix(0, 1, 4), steps = 2), "Unknown argument: `steps`")
  unbuilt <- keras_model_sequential() |> layer_activation_selu()
  expect_error(predict(unbuilt, 1), "has no input shape yet")
  # the first layer's input shape builds the model
  built <- keras_model_sequential() |> layer_activation_selu(input_shape = 3)
  expect_identical(built$input_shape, c(NA, 3L))
})

test_that("layer names are unique within a model", {
  m <- keras_model_sequential(input_shape = 2)
  m |> layer_activation_selu(name = "act")
  expect_error(m |> layer_activation_selu(name = "act"),
               "already has a layer named \"act\"", class = "selu_error_name")
  inp <- layer_input(2)
  out <- inp |> layer_activation_selu(name = "same") |> layer_activation_selu(name = "same")
  expect_error(keras_model(inp, out), "\"same\" names two layers")
})

test_that("keras_model_sequential() validates its arguments", {
  expect_error(keras_model_sequential(name = 3), "`name`")
  expect_error(keras_model_sequential(input_shape = "a"), "`input_shape`")
  expect_error(keras_model_sequential(colour = 1), "Unknown argument: `colour`")
  expect_identical(keras_model_sequential(batch_input_shape = c(5, 2))$input_shape, c(5L, 2L))
  expect_identical(keras_model_sequential(input_shape = 2, batch_size = 3)$input_shape, c(3L, 2L))
})

test_that("a functional model runs its chain of layers", {
  inp <- layer_input(shape = c(2, 3))
  out <- inp |> layer_activation_selu() |> layer_activation_selu(dtype = "float32")
  model <- keras_model(inp, out, name = "f")
  expect_identical(model$name, "f")
  expect_length(model$layers, 3)
  expect_s3_class(model$layers[[1]], "selu_inputlayer")
  x <- array(rnorm(12), c(2, 2, 3))
  ref <- layer_activation_selu(activation_selu(x), dtype = "float32")
  expect_identical(predict(model, x), ref)
  expect_identical(model(inp)$shape, c(NA, 2L, 3L))
  expect_error(predict(model, matrix(0, 2, 6)), "expects input of shape \\(None, 2, 3\\)")
})

test_that("keras_model() checks its inputs and outputs", {
  inp <- layer_input(2)
  other <- layer_input(2, name = "other")
  out <- other |> layer_activation_selu()
  expect_error(keras_model(inp, out), "`outputs` is not computed from `inputs`",
               class = "selu_error_graph")
  expect_error(keras_model(out, out), "`inputs` must be a symbolic tensor from layer_input()")
  expect_error(keras_model(inp, 1), "`outputs` must be a symbolic tensor")
  # the input alone is a model that passes its data through
  expect_identical(predict(keras_model(inp, inp), matrix(1:4, 2)), matrix(as.double(1:4), 2))
})

test_that("summary() prints keras' table", {
  k_clear_session()
  m <- keras_model_sequential(input_shape = 784) |> layer_activation_selu()
  expected <- c(
    "Model: \"sequential\"",
    strrep("_", 80),
    " Layer (type)                       Output Shape                    Param #",
    strrep("=", 80),
    " activation (Activation)            (None, 784)                     0",
    strrep("=", 80),
    "Total params: 0",
    "Trainable params: 0",
    "Non-trainable params: 0",
    strrep("_", 80)
  )
  expect_identical(capture.output(summary(m)), expected)
  expect_identical(capture.output(print(m)), expected)
  m |> layer_activation_selu()
  lines <- capture.output(summary(m))
  expect_identical(lines[5:7], c(
    " activation (Activation)            (None, 784)                     0",
    "",
    " activation_1 (Activation)          (None, 784)                     0"))
  inp <- layer_input(3)
  f <- keras_model(inp, layer_activation_selu(inp, name = "act"))
  lines <- capture.output(summary(f))
  expect_identical(lines[1], "Model: \"model\"")
  expect_identical(lines[5], " input_1 (InputLayer)               [(None, 3)]                     0")
  expect_output(print(keras_model_sequential()), "has not been built yet")
})

test_that("backward() pushes gradients by the chain rule", {
  x <- matrix(c(-2, -0.5, 0.5, 2), 2, 2)
  act <- layer_activation_selu()
  expect_identical(backward(act, x, 1), activation_selu_backward(x, 1))
  m <- keras_model_sequential(input_shape = 2) |> layer_activation_selu() |> layer_activation_selu()
  chain <- activation_selu_backward(x, activation_selu_backward(activation_selu(x), 1))
  expect_identical(backward(m, x, 1), chain)
  g <- matrix(c(1, 2, 3, 4), 2, 2)
  h <- 1e-6
  # a finite-difference check of d/dx sum(g * m(x))
  fd <- vapply(seq_along(x), function(i) {
    e <- replace(numeric(4), i, h)
    (sum(g * m(x + e)) - sum(g * m(x - e))) / (2 * h)
  }, 0)
  expect_equal(as.vector(backward(m, x, g)), fd, tolerance = 1e-7)
  inp <- layer_input(2)
  f <- keras_model(inp, layer_activation_selu(inp))
  expect_identical(backward(f, x, g), activation_selu_backward(x, g))
  expect_error(backward(m, x, c(1, 2)), "`grad_output` must have the output's shape, \\(2, 2\\)")
  expect_error(backward(act, "a", 1), "`x` must be a numeric")
  expect_error(backward("m", x, 1), "`object` must be a layer or a model")
})

test_that("model configurations round-trip", {
  m <- keras_model_sequential(input_shape = 3, name = "seq") |>
    layer_activation_selu(name = "a") |> layer_activation_selu(name = "b", dtype = "float32")
  config <- get_config(m)
  expect_identical(attr(config, "class_name"), "Sequential")
  expect_identical(config$build_input_shape, list(NULL, 3L))
  expect_identical(config$layers[[2]]$config$dtype, "float32")
  copy <- from_config(config)
  expect_identical(get_config(copy), config)
  inp <- layer_input(3, name = "in")
  f <- keras_model(inp, layer_activation_selu(inp, name = "act"), name = "fun")
  config <- get_config(f)
  expect_identical(attr(config, "class_name"), "Functional")
  expect_identical(config$layers[[1]]$class_name, "InputLayer")
  copy <- from_config(config)
  expect_identical(get_config(copy), config)
  x <- matrix(c(-1, 0, 1), 1)
  expect_identical(predict(copy, x), predict(f, x))
})

test_that("model errors name the argument", {
  expect_error(keras_model(), "`inputs` is missing", class = "selu_error")
  expect_error(keras_model(layer_input(2)), "`outputs` is missing", class = "selu_error")
  expect_error(backward(), "`object` is missing", class = "selu_error")
  m <- keras_model_sequential(input_shape = 2)
  expect_error(predict(m), "`x` is missing", class = "selu_error")
  expect_error(m(), "`inputs` is missing", class = "selu_error")
  expect_error(backward(keras_model_sequential(), 1, 1),
               "`object`, the model \"sequential.*\", has no input shape yet", class = "selu_error_shape")
  expect_error(keras_model_sequential(layer_activation_elu(input_shape = 3), input_shape = 2),
               "but its input in `layers` has shape \\(None, 2\\)", class = "selu_error_shape")
  expect_error(summary.selu_model(1), "`object` must be a model", class = "selu_error")
})
