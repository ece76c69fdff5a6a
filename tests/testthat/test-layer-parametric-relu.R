test_that("PReLU has real weights, shaped like a sample, shared along axes", {
  k_clear_session()
  x <- array(rnorm(48), c(2, 3, 4, 2))
  prelu <- layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.25),
                                            shared_axes = c(2, 3))
  expect_identical(prelu$name, "p_re_lu")
  expect_identical(get_weights(prelu), list())
  y <- prelu(x)
  expect_identical(get_weights(prelu), list(array(0.25, c(1, 1, 2))))
  expect_identical(count_params(prelu), 2L)
  expect_identical(y, ifelse(x < 0, 0.25 * x, x))
  set_weights(prelu, list(array(c(0.1, 0.2), c(1, 1, 2))))
  y <- prelu(x)
  expect_identical(y[, , , 2], ifelse(x[, , , 2] < 0, 0.2 * x[, , , 2], x[, , , 2]))
  expect_error(set_weights(prelu, list(array(1, c(3, 4, 2)))), "`weights\\[\\[1\\]\\]` must be a numeric array of shape \\(1, 1, 2\\)")
  expect_identical(backward(prelu, x, 1), ifelse(x < 0, rep(c(0.1, 0.2), each = 24), 1))
})

test_that("PReLU weights count in models and can be given at construction", {
  m <- keras_model_sequential(input_shape = c(3, 4)) |>
    layer_activation_parametric_relu(weights = list(matrix(0.5, 3, 4)))
  expect_identical(count_params(m), 12L)
  expect_identical(get_weights(m), list(matrix(0.5, 3, 4)))
  expect_match(capture.output(summary(m)), "Total params: 12", all = FALSE)
  x <- array(-1, c(2, 3, 4))
  expect_identical(predict(m, x), array(-0.5, c(2, 3, 4)))
  config <- get_config(m)
  expect_identical(config$layers[[1]]$config$alpha_initializer,
                   structure(list(), class_name = "Zeros"))
  expect_identical(count_params(from_config(config)), 12L)
})

test_that("PReLU arguments are checked", {
  expect_error(layer_activation_parametric_relu(alpha_initializer = "random"),
               "`alpha_initializer` must be an initializer or one of")
  expect_error(layer_activation_parametric_relu(alpha_regularizer = "l3"), "`alpha_regularizer`",
               class = "selu_error")
  expect_error(layer_activation_parametric_relu(alpha_constraint = 1), "`alpha_constraint`",
               class = "selu_error")
  expect_error(layer_activation_parametric_relu(shared_axes = 0), "`shared_axes`")
  expect_error(layer_activation_parametric_relu(shared_axes = 1, input_shape = 3),
               "cannot hold the batch axis")
  expect_error(layer_activation_parametric_relu(input_shape = list(NULL)), "needs every dimension")
  expect_error(layer_activation_parametric_relu(weights = list(1, 2)), "expects 1 weight, but 2 were given")
})

test_that("PReLU errors name the argument that has the shape", {
  expect_error(layer_activation_parametric_relu(input_shape = c(1e6, 1e6)),
               "The alpha of a PReLU layer for `input_shape` has shape \\(1000000, 1000000\\)",
               class = "selu_error_shape")
  expect_error(layer_activation_parametric_relu(batch_input_shape = list(NULL, NULL)),
               "but `batch_input_shape` has shape \\(None, None\\)", class = "selu_error_shape")
  prelu <- layer_activation_parametric_relu()
  expect_error(backward(prelu, 1:3, 1), "but `x` has shape \\(3,\\)", class = "selu_error_shape")
  expect_error(prelu(array(0, c(2, 0, 3))), "no empty dimension.*`inputs` has shape \\(2, 0, 3\\)",
               class = "selu_error_shape")
  expect_error(compute_output_shape(prelu, 5), "`input_shape` has shape \\(5,\\)")
})

test_that("a built PReLU layer takes only inputs its alpha fits", {
  prelu <- layer_activation_parametric_relu(shared_axes = 2)
  prelu(array(0, c(2, 3, 4)))
  expect_identical(dim(prelu(array(0, c(5, 7, 4)))), c(5L, 7L, 4L))
  expect_error(prelu(matrix(0, 2, 3)),
               "Layer \"p_re_lu.*\" expects input of shape \\(None, None, 4\\), but `inputs` has shape \\(2, 3\\)",
               class = "selu_error_shape")
})
