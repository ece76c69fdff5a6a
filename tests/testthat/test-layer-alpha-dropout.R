test_that("alpha dropout keeps mean 0 and variance 1 in training", {
  set.seed(11)
  x <- rnorm(1e6)
  for (rate in c(0.05, 0.1, 0.5)) {
    drop <- layer_alpha_dropout(rate = rate, seed = 3)
    y <- drop(x, training = TRUE)
    expect_lt(abs(mean(y)), 0.01)
    expect_lt(abs(var(y) - 1), 0.02)
    # kept units are a * x + b, dropped ones a * alpha_p + b
    alpha_p <- -selu_scale_alpha
    a <- ((1 - rate) * (1 + rate * alpha_p^2))^-0.5
    b <- -a * alpha_p * rate
    dropped <- abs(y - (a * alpha_p + b)) < 1e-12
    expect_equal(mean(dropped), rate, tolerance = 0.01)
    expect_equal(y[!dropped], a * x[!dropped] + b)
  }
})

test_that("alpha dropout is the identity at inference and for rate 0", {
  x <- matrix(rnorm(20), 4, 5)
  drop <- layer_alpha_dropout(rate = 0.5)
  expect_identical(drop(x), x)
  expect_identical(layer_alpha_dropout(x, rate = 0.3), x)
  expect_identical(layer_alpha_dropout(rate = 0)(x, training = TRUE), x)
  m <- keras_model_sequential(input_shape = 5) |> layer_alpha_dropout(0.5)
  expect_identical(predict(m, x), x)
  expect_identical(backward(m, x, 1), matrix(1, 4, 5))
})

test_that("noise_shape broadcasts one decision", {
  x <- array(rnorm(2 * 50 * 3), c(2, 50, 3))
  drop <- layer_alpha_dropout(rate = 0.5, noise_shape = c(NA, 1, NA), seed = 1)
  y <- drop(x, training = TRUE)
  alpha_p <- -selu_scale_alpha
  a <- (0.5 * (1 + 0.5 * alpha_p^2))^-0.5
  dropped <- abs(y - (a * alpha_p - a * alpha_p * 0.5)) < 1e-12
  # the same decision at every step of axis 2
  expect_true(all(apply(dropped, c(1, 3), function(v) all(v) || !any(v))))
  expect_error(layer_alpha_dropout(rate = 0.5, noise_shape = c(2, 3))(x, training = TRUE),
               "`noise_shape` \\(2, 3\\) does not fit input of shape \\(2, 50, 3\\)")
})

test_that("a seed makes the draws reproducible and leaves the session's stream alone", {
  x <- rnorm(1000)
  set.seed(5)
  before <- .Random.seed
  y1 <- layer_alpha_dropout(rate = 0.2, seed = 9)(x, training = TRUE)
  expect_identical(.Random.seed, before)
  y2 <- layer_alpha_dropout(rate = 0.2, seed = 9)(x, training = TRUE)
  expect_identical(y1, y2)
  drop <- layer_alpha_dropout(rate = 0.2, seed = 9)
  first <- drop(x, training = TRUE)
  expect_false(identical(drop(x, training = TRUE), first))
})

test_that("the gradient goes through the same draw", {
  x <- matrix(rnorm(200), 20, 10)
  drop <- layer_alpha_dropout(rate = 0.3, seed = 4)
  g <- backward(drop, x, 1, training = TRUE)
  alpha_p <- -selu_scale_alpha
  a <- (0.7 * (1 + 0.3 * alpha_p^2))^-0.5
  expect_true(all(g %in% c(0, a)))
  expect_equal(mean(g == 0), 0.3, tolerance = 0.1)
  expect_identical(backward(drop, x, 1), matrix(1, 20, 10))
})

test_that("rate and the other arguments are checked", {
  expect_error(layer_alpha_dropout(), "`rate` is missing")
  expect_error(layer_alpha_dropout(rate = 1), "`rate` must be a single number in \\[0, 1\\)")
  expect_error(layer_alpha_dropout(rate = -0.1), "`rate`")
  expect_error(layer_alpha_dropout(rate = "a"), "`rate`")
  expect_error(layer_alpha_dropout(rate = 0.1, seed = "x"), "`seed`")
  expect_error(layer_alpha_dropout(rate = 0.1, noise_shape = "x"), "`noise_shape`")
  drop <- layer_alpha_dropout(rate = 0.1, noise_shape = c(NA, 1), seed = 2, name = "d")
  config <- get_config(drop)
  expect_identical(names(config), c("name", "trainable", "dtype", "rate", "noise_shape", "seed"))
  expect_identical(get_config(from_config(config)), config)
  expect_error(drop(1:4, training = NA), "`training` must be TRUE or FALSE")
})
