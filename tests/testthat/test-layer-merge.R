# The merging layers against base R's arithmetic and binding, their
# gradients against finite differences, in models with several inputs.

test_that("the merging layers compute sums, products, means and joins", {
  set.seed(1)
  a <- matrix(rnorm(6), 2)
  b <- matrix(rnorm(6), 2)
  c3 <- matrix(rnorm(6), 2)
  expect_equal(layer_add(list(a, b, c3)), a + b + c3, tolerance = 1e-15)
  expect_equal(layer_multiply(list(a, b, c3)), a * b * c3, tolerance = 1e-15)
  expect_equal(layer_average(list(a, b)), (a + b) / 2, tolerance = 1e-15)
  expect_identical(layer_concatenate(list(a, b)), cbind(a, b))
  # arrays, along the middle axis and the last
  x <- array(rnorm(24), c(2, 3, 4))
  y <- array(rnorm(16), c(2, 2, 4))
  joined <- layer_concatenate(list(x, y), axis = 2)
  expect_identical(dim(joined), c(2L, 5L, 4L))
  expect_identical(joined[, 1:3, ], x)
  expect_identical(joined[, 4:5, ], y)
  z <- array(rnorm(12), c(2, 3, 2))
  expect_identical(layer_concatenate(list(x, z))[, , 5:6], z)
  # an input of size 1 along an axis is repeated along it
  row <- array(rnorm(4), c(2, 1, 2))
  full <- array(rnorm(12), c(2, 3, 2))
  expect_equal(layer_add(list(full, row)), full + row[, c(1, 1, 1), , drop = FALSE],
               tolerance = 1e-15)
  # the layer first, called later; more inputs through `...`
  expect_equal(layer_add()(list(a, b)), a + b, tolerance = 1e-15)
  expect_equal(layer_add(a, b, c3), a + b + c3, tolerance = 1e-15)
  expect_identical(layer_add(name = "sum")$name, "sum")
})

test_that("the merging layers' gradients match finite differences", {
  set.seed(2)
  a <- matrix(rnorm(6), 2)
  b <- array(rnorm(2), c(2, 1))
  for (make in list(function(i) layer_add(i), function(i) layer_multiply(i),
                    function(i) layer_average(i), function(i) layer_concatenate(i))) {
    i1 <- layer_input(shape = 3)
    i2 <- layer_input(shape = 1)
    model <- keras_model(list(i1, i2), make(list(i1, i2)))
    out <- model(list(a, b))
    r <- array(rnorm(length(out)), dim(out))
    grads <- backward(model, list(a, b), r)
    expect_equal(grads[[1]], numeric_gradient(function(v) sum(model(list(v, b)) * r), a),
                 tolerance = 1e-7)
    expect_equal(grads[[2]], numeric_gradient(function(v) sum(model(list(a, v)) * r), b),
                 tolerance = 1e-7)
  }
})

test_that("the merging layers check their inputs", {
  a <- matrix(1, 2, 3)
  expect_error(layer_add(list(a)), "`inputs` must be a list of at least two", class = "selu_error")
  expect_error(layer_add(list(a, matrix(1, 3, 3))), "as many rows", class = "selu_error")
  expect_error(layer_add(list(a, matrix(1, 2, 2))), "one shape", class = "selu_error")
  expect_error(layer_concatenate(list(a, array(1, c(2, 3, 1)))), "one rank", class = "selu_error")
  expect_error(layer_concatenate(list(array(1, c(2, 3, 4)), array(1, c(2, 2, 2))), axis = 2),
               "one shape but along it", class = "selu_error")
  expect_error(layer_concatenate(axis = 1), "`axis` cannot be the batch axis",
               class = "selu_error")
  expect_error(layer_add(list(a, "b")), "element 2", class = "selu_error")
  expect_error(layer_add(color = 1), "`color` is not an argument", class = "selu_error")
  expect_error(layer_add(Sys.Date()), "`inputs` must be NULL or a list", class = "selu_error")
})

test_that("the merging layers' configurations round trip, in keras's JSON too", {
  i1 <- layer_input(shape = c(2, 3), name = "left")
  i2 <- layer_input(shape = c(4, 3), name = "right")
  joined <- layer_concatenate(list(i1, i2), axis = 2, name = "join")
  out <- layer_add(list(layer_flatten(joined), layer_flatten(layer_concatenate(list(i2, i1), axis = -2))))
  model <- keras_model(list(i1, i2), out)
  config <- get_config(model)
  expect_identical(config$layers[[3]]$config$axis, 2L)
  rebuilt <- from_config(config)
  x <- list(array(rnorm(12), c(2, 2, 3)), array(rnorm(24), c(2, 4, 3)))
  expect_identical(predict(rebuilt, x), predict(model, x))
  json <- jsonlite::parse_json(model_to_json(model))
  join <- Find(function(l) identical(l$name, "join"), json$config$layers)
  expect_identical(join$config$axis, 1L) # keras counts from 0
  expect_identical(predict(model_from_json(model_to_json(model)), x), predict(model, x))
})
