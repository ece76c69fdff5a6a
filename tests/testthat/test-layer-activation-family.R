test_that("each layer applies its kernel and has keras' name and config", {
  k_clear_session()
  x <- matrix(c(-3, -1, 0.5, 4), 2, 2)
  elu <- layer_activation_elu(alpha = 0.5)
  expect_identical(elu$name, "elu")
  expect_identical(elu(x), activation_elu(x, 0.5))
  expect_identical(backward(elu, x, 1), activation_elu_backward(x, 1, 0.5))
  leaky <- layer_activation_leaky_relu()
  expect_identical(leaky$name, "leaky_re_lu")
  expect_identical(leaky(x), activation_leaky_relu(x, 0.3))
  relu <- layer_activation_relu(max_value = 3, threshold = 0.1)
  expect_identical(relu$name, "re_lu")
  expect_identical(relu(x), activation_relu(x, 3, 0, 0.1))
  thr <- layer_activation_thresholded_relu(theta = 0.5)
  expect_identical(thr$name, "thresholded_re_lu")
  expect_identical(thr(x), activation_thresholded_relu(x, 0.5))
  soft <- layer_activation_softmax(axis = 1)
  expect_identical(soft$name, "softmax")
  expect_identical(soft(x), activation_softmax(x, 1))
  expect_identical(backward(soft, x, x), activation_softmax_backward(x, x, 1))
  expect_identical(names(get_config(relu)),
                   c("name", "trainable", "dtype", "max_value", "negative_slope", "threshold"))
  expect_null(get_config(layer_activation_relu())$max_value)
  for (layer in list(elu, leaky, relu, thr, soft)) {
    expect_identical(get_config(from_config(get_config(layer))), get_config(layer))
  }
})

test_that("the family takes the three return modes", {
  x <- matrix(c(-3, -1, 0.5, 4), 2, 2)
  m <- keras_model_sequential(input_shape = 2)
  expect_invisible(layer_activation_elu(m))
  m |> layer_activation_softmax()
  expect_length(m$layers, 2)
  expect_identical(predict(m, x), activation_softmax(activation_elu(x)))
  inp <- layer_input(2)
  out <- inp |> layer_activation_relu() |> layer_activation_leaky_relu()
  expect_identical(out$shape, c(NA, 2L))
  expect_identical(predict(keras_model(inp, out), x), activation_leaky_relu(activation_relu(x)))
})

test_that("arguments are checked as keras does", {
  expect_error(layer_activation_elu(alpha = NULL), "`alpha` must be a single number")
  expect_error(layer_activation_leaky_relu(alpha = "a"), "`alpha`")
  expect_error(layer_activation_relu(max_value = -1), "`max_value`")
  expect_error(layer_activation_relu(negative_slope = -1), "`negative_slope`")
  expect_error(layer_activation_relu(threshold = -1), "`threshold`")
  expect_error(layer_activation_thresholded_relu(theta = -1), "`theta`")
  expect_error(layer_activation_thresholded_relu(theta = NULL), "`theta`")
  expect_error(layer_activation_softmax(axis = 1.5), "`axis` must be a whole number")
  expect_error(layer_activation_softmax(axis = 0), "`axis`")
  expect_error(keras_model_sequential(input_shape = 2) |> layer_activation_softmax(axis = 3),
               "`axis` must be a whole number from -2 to 2")
  expect_error(layer_activation_elu(dtype = "int8"), "`dtype`")
  expect_error(layer_activation_elu(weights = list(1)), "expects 0 weights")
})

test_that("a softmax axis beyond the integers is an error, not a warning", {
  expect_no_warning(expect_error(layer_activation_softmax(axis = 2^31), "`axis` must be a whole number",
                                 class = "selu_error_argument"))
})
