test_that("layer_input() makes a symbolic tensor with the batch axis first", {
  inp <- layer_input(shape = c(3, 4), batch_size = 2, name = "pixels")
  expect_s3_class(inp, "selu_tensor")
  expect_identical(inp$shape, c(2L, 3L, 4L))
  expect_identical(inp$dtype, "float64")
  expect_output(print(inp), "<tensor> shape \\(2, 3, 4\\), float64, from layer \"pixels\" \\(InputLayer\\)")
  expect_identical(layer_input(list(NULL, 5))$shape, c(NA, NA, 5L))
})

test_that("layers infer shapes through tensors and check them", {
  inp <- layer_input(shape = 4)
  out <- layer_activation_selu(dtype = "float32")(inp)
  expect_identical(out$shape, c(NA, 4L))
  expect_identical(out$dtype, "float32")
  expect_error(layer_activation_selu(inp, input_shape = 5),
               "expects input of shape \\(None, 5\\), but `object` has shape \\(None, 4\\)",
               class = "selu_error_shape")
})

test_that("layer_input() validates its arguments", {
  expect_error(layer_input(), "`shape` is missing")
  expect_error(layer_input("a"), "`shape` must be")
  expect_error(layer_input(3, batch_size = -1), "`batch_size`")
  expect_error(layer_input(3, name = 1), "`name` must be a single non-empty string")
  expect_error(layer_input(3, dtype = "half"), "`dtype` must be one of")
})
