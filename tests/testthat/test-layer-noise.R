# Gaussian noise and Gaussian dropout: the identity at inference, their
# noise's statistics in training, their gradients through the draw.

test_that("Gaussian noise and dropout are the identity at inference", {
  x <- matrix(rnorm(20), 4)
  expect_identical(layer_gaussian_noise(stddev = 1)(x), x)
  expect_identical(layer_gaussian_dropout(rate = 0.3)(x), x)
})

test_that("in training they add and multiply noise of the right spread", {
  x <- matrix(2, 2000, 50)
  set.seed(1)
  noisy <- layer_gaussian_noise(stddev = 0.5)(x, training = TRUE)
  expect_equal(mean(noisy - x), 0, tolerance = 0.01)
  expect_equal(sd(as.vector(noisy - x)), 0.5, tolerance = 0.01)
  dropped <- layer_gaussian_dropout(rate = 0.2)(x, training = TRUE)
  expect_equal(mean(dropped / x), 1, tolerance = 0.01)
  expect_equal(sd(as.vector(dropped / x)), sqrt(0.2 / 0.8), tolerance = 0.01)
  # a seed gives the layer its own stream: the same draws again from a new layer
  a <- layer_gaussian_noise(stddev = 1, seed = 7)(x, training = TRUE)
  b <- layer_gaussian_noise(stddev = 1, seed = 7)(x, training = TRUE)
  expect_identical(a, b)
})

test_that("their gradients go through the draw", {
  set.seed(2)
  x <- matrix(rnorm(12), 3)
  r <- matrix(rnorm(12), 3)
  for (make in list(function() layer_gaussian_noise(stddev = 0.3, seed = 5),
                    function() layer_gaussian_dropout(rate = 0.4, seed = 5))) {
    grads <- layer_gradients(make(), x, r, training = TRUE)
    f <- function(v) sum(make()(v, training = TRUE) * r)
    expect_equal(grads$x, numeric_gradient(f, x), tolerance = 1e-8)
  }
})

test_that("their arguments and configurations", {
  expect_error(layer_gaussian_noise(), "`stddev`", class = "selu_error")
  expect_error(layer_gaussian_noise(stddev = -1), "`stddev`", class = "selu_error")
  expect_error(layer_gaussian_dropout(rate = 1), "`rate`", class = "selu_error")
  expect_error(layer_gaussian_dropout(rate = 0.1, seed = "a"), "`seed`", class = "selu_error")
  layer <- layer_gaussian_dropout(rate = 0.1, seed = 3, name = "g")
  config <- get_config(layer)
  expect_identical(config$rate, 0.1)
  expect_identical(from_config(config)$name, "g")
})
