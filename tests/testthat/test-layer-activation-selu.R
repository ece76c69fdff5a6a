test_that("the three return modes of layer_activation_selu()", {
  x <- matrix(c(-2, -0.5, 0, 0.5, 1, 3), 2, 3, dimnames = list(NULL, c("a", "b", "c")))
  expected <- activation_selu(x)

  # an array: the result, visibly
  expect_visible(layer_activation_selu(x))
  expect_identical(layer_activation_selu(x), expected)

  # missing or NULL: the layer
  act <- layer_activation_selu(name = "act")
  expect_s3_class(act, "selu_layer")
  expect_identical(layer_activation_selu(NULL)$dtype, "float64")
  expect_identical(act(x), expected)

  # a sequential model: the same model, with the layer added, invisibly
  m <- keras_model_sequential(input_shape = 3)
  expect_invisible(out <- layer_activation_selu(m))
  expect_identical(out, m)
  expect_length(m$layers, 1)
  m |> layer_activation_selu()
  expect_length(m$layers, 2)
  expect_identical(predict(m, x), activation_selu(expected))

  # a symbolic tensor: a symbolic tensor
  inp <- layer_input(shape = 3)
  out <- inp |> layer_activation_selu()
  expect_s3_class(out, "selu_tensor")
  expect_identical(out$shape, c(NA, 3L))
  expect_identical(predict(keras_model(inp, out), x), expected)
})

test_that("%>% pipes work as |> does", {
  skip_if_not_installed("magrittr")
  `%>%` <- magrittr::`%>%`
  m <- keras_model_sequential(input_shape = 2) %>% layer_activation_selu() %>%
    layer_activation_selu()
  expect_length(m$layers, 2)
})

test_that("dtype float32 computes in single precision", {
  x <- c(-3.3, -1e-3, -1e-30, 0.1, 7.7, NA, NaN, -Inf, Inf)
  y <- layer_activation_selu(x, dtype = "float32")
  finite <- is.finite(y)
  # every finite result is a float32 value: it survives a round trip through 4 bytes
  expect_identical(y[finite], readBin(writeBin(y[finite], raw(), size = 4), "double",
                                      n = sum(finite), size = 4))
  expect_equal(y, activation_selu(x), tolerance = 1e-6)
  expect_true(is.na(y[6]) && !is.nan(y[6]))
  expect_true(is.nan(y[7]))
  expect_identical(y[8:9], c(-as_float32(selu_scale_alpha), Inf))
  act <- layer_activation_selu(dtype = "float32")
  g <- backward(act, x[1:5], 1)
  expect_identical(g, as_float32(g))
  expect_equal(g, activation_selu_backward(x[1:5], 1), tolerance = 1e-6)
})

test_that("every argument is validated with an error naming it", {
  expect_error(layer_activation_selu(input_shape = "a"), "`input_shape` must be")
  expect_error(layer_activation_selu(input_shape = 0), "`input_shape`.*0 is not a whole number",
               class = "selu_error")
  expect_error(layer_activation_selu(input_shape = 2.5), "2.5 is not a whole number")
  expect_error(layer_activation_selu(input_shape = -1), "`input_shape`")
  expect_error(layer_activation_selu(input_shape = list("a")), "element 1 is the string")
  expect_error(layer_activation_selu(batch_input_shape = 4), "at least 2 dimensions")
  expect_error(layer_activation_selu(batch_input_shape = c(NA, Inf)), "`batch_input_shape`")
  expect_error(layer_activation_selu(batch_size = 0), "`batch_size` must be a whole number")
  expect_error(layer_activation_selu(batch_size = c(1, 2)), "`batch_size`")
  expect_error(layer_activation_selu(dtype = "int8"),
               "`dtype` must be one of \"float64\" or \"float32\", not the string \"int8\"")
  expect_error(layer_activation_selu(dtype = 32), "`dtype`")
  expect_error(layer_activation_selu(name = ""), "`name` must be a single non-empty string")
  expect_error(layer_activation_selu(name = c("a", "b")), "`name`")
  expect_error(layer_activation_selu(name = NA_character_), "`name`")
  expect_error(layer_activation_selu(trainable = "yes"), "`trainable` must be TRUE or FALSE")
  expect_error(layer_activation_selu(trainable = NA), "`trainable`")
  expect_error(layer_activation_selu(name = "w", weights = list(1, 2)),
               "`weights`: layer \"w\" expects 0 weights, but 2 were given")
  expect_error(layer_activation_selu(weights = 1), "`weights` must be NULL or a list")
  expect_error(layer_activation_selu("x"), "`object` must be missing or NULL")
  expect_error(layer_activation_selu(list(1)), "`object` must be missing or NULL")
  expect_error(layer_activation_selu(layer_activation_selu()), "not the layer")
})

test_that("weights may be NULL or an empty list", {
  expect_identical(get_weights(layer_activation_selu(weights = list())), list())
  expect_identical(count_params(layer_activation_selu()), 0L)
})

test_that("shapes: input_shape, batch_input_shape and batch_size", {
  expect_identical(layer_activation_selu(input_shape = 4)$batch_input_shape, c(NA, 4L))
  expect_identical(layer_activation_selu(input_shape = list(NULL, 3))$batch_input_shape,
                   c(NA, NA, 3L))
  expect_identical(layer_activation_selu(input_shape = 4, batch_size = 8)$batch_input_shape,
                   c(8L, 4L))
  expect_identical(layer_activation_selu(input_shape = 4, batch_input_shape = c(2, 5))$
                     batch_input_shape, c(2L, 5L))
  # batch_size alone is ignored, as in keras
  expect_null(layer_activation_selu(batch_size = 8)$batch_input_shape)
  act <- layer_activation_selu(input_shape = 3)
  expect_identical(dim(act(matrix(0, 5, 3))), c(5L, 3L))
  expect_error(act(matrix(0, 5, 4)), "expects input of shape \\(None, 3\\), but `inputs` has shape \\(5, 4\\)",
               class = "selu_error_shape")
})
