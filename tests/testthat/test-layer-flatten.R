# Flatten in keras's order (the last axis fastest), and back through its
# gradient.

test_that("flatten orders a sample's elements as keras does", {
  x <- array(seq_len(24), c(2, 3, 4))
  flat <- layer_flatten(x)
  expect_identical(dim(flat), c(2L, 12L))
  # keras (row-major): x[i, 1, 1], x[i, 1, 2], ..., x[i, 1, 4], x[i, 2, 1], ...
  for (i in 1:2) expect_identical(flat[i, ], as.double(t(x[i, , ])))
  # channels first: the second axis moved last, then flattened
  first <- layer_flatten(x, data_format = "channels_first")
  for (i in 1:2) expect_identical(first[i, ], as.double(x[i, , ]))
  # already flat: unchanged
  m <- matrix(1:6, 2)
  expect_identical(layer_flatten(m), m * 1)
})

test_that("flatten's gradient puts each element back", {
  set.seed(1)
  x <- array(rnorm(24), c(2, 3, 4))
  layer <- layer_flatten()
  r <- matrix(rnorm(24), 2)
  expect_equal(backward(layer, x, r), numeric_gradient(function(v) sum(layer(v) * r), x),
               tolerance = 1e-8)
})

test_that("flatten's arguments and configuration", {
  expect_error(layer_flatten(data_format = "rows"), "`data_format`", class = "selu_error")
  expect_error(layer_flatten(colour = 1), "colour", class = "selu_error")
  model <- keras_model_sequential(input_shape = c(3, 4)) |> layer_flatten() |> layer_dense(2)
  expect_identical(model$output_shape, c(NA, 2L))
  rebuilt <- from_config(get_config(model))
  set_weights(rebuilt, get_weights(model))
  x <- array(rnorm(24), c(2, 3, 4))
  expect_identical(predict(rebuilt, x), predict(model, x))
})
