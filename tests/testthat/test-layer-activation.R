test_that("layer_activation() takes the names of the kernels", {
  x <- matrix(c(-2, -0.5, 0.5, 2), 2, 2)
  expect_identical(layer_activation(x, "selu"), activation_selu(x))
  expect_identical(layer_activation(x, "elu"), activation_elu(x))
  expect_identical(layer_activation(x, "relu"), activation_relu(x))
  expect_identical(layer_activation(x, "leaky_relu"), activation_leaky_relu(x, 0.2))
  expect_identical(layer_activation(x, "sigmoid"), activation_sigmoid(x))
  expect_identical(layer_activation(x, "tanh"), activation_tanh(x))
  expect_identical(layer_activation(x, "linear"), x)
  expect_identical(layer_activation(x, "softmax"), activation_softmax(x))
  act <- layer_activation(activation = "tanh", name = "t")
  expect_identical(backward(act, x, 1), activation_tanh_backward(x, 1))
  expect_identical(get_config(act)$activation, "tanh")
  expect_identical(get_config(from_config(get_config(act))), get_config(act))
})

test_that("layer_activation() takes an R function, without a gradient", {
  x <- matrix(c(-2, -0.5, 0.5, 2), 2, 2)
  act <- layer_activation(activation = function(v) v^2)
  expect_identical(act(x), x^2)
  expect_error(backward(act, x, 1), "has no gradient", class = "selu_error_gradient")
  bad <- layer_activation(activation = function(v) sum(v))
  expect_error(bad(x), "must return a numeric array of its input's shape, \\(2, 2\\)")
})

test_that("layer_activation() names what it cannot take", {
  expect_error(layer_activation(activation = "swish"),
               "`activation` must be one of \"selu\", \"elu\".*not the string \"swish\"")
  expect_error(layer_activation(activation = 3), "`activation` must be one of")
  expect_error(layer_activation(), "`activation` is missing")
})
