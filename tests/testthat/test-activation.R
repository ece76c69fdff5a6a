test_that("activation_selu() gives the exact values at the edge points", {
  expect_identical(activation_selu(0), 0)
  expect_identical(activation_selu(1), 1.0507009873554804934193349852946)
  expect_identical(activation_selu(-Inf), -selu_scale_alpha)
  expect_identical(activation_selu(Inf), Inf)
  # expm1(x) = x to double precision for tiny x: the value is scale * alpha * x
  expect_equal(activation_selu(-1e-20), -selu_scale_alpha * 1e-20, tolerance = 1e-15)
  expect_equal(activation_selu(-1e-300), -selu_scale_alpha * 1e-300, tolerance = 1e-15)
  # saturation: exp(-40) is below half an ulp of 1
  expect_identical(activation_selu(-40), -selu_scale_alpha)
})

test_that("activation_selu() matches a 200-bit computation", {
  skip_if_not_installed("Rmpfr")
  x <- c(-745, -100, -20, -5, -1, -0.5, -2^-10, -2^-30, -2^-60, -1e-300,
         seq(-3, 3, by = 0.125), 1e-300, 10, 1e300)
  set.seed(1)
  x <- c(x, runif(2000, -30, 0), rnorm(2000))
  expect_lte(max(ulp_error(activation_selu(x), selu_mpfr(x))), 2)
})

test_that("NA stays NA, NaN stays NaN", {
  y <- activation_selu(c(NA, NaN, 1))
  expect_true(is.na(y[1]) && !is.nan(y[1]))
  expect_true(is.nan(y[2]))
  expect_identical(activation_selu(NA_integer_), NA_real_)
  expect_identical(activation_selu(NA), NA_real_)
  g <- activation_selu_backward(c(NA, NaN, -1), 1)
  expect_true(is.na(g[1]) && !is.nan(g[1]))
  expect_true(is.nan(g[2]))
  expect_identical(activation_selu_backward(1, NA_real_), NA_real_)
})

test_that("shape, dimnames and names are kept; other attributes dropped", {
  x <- array(rnorm(24), c(2, 3, 4), dimnames = list(c("a", "b"), NULL, letters[1:4]))
  y <- activation_selu(x)
  expect_identical(dim(y), dim(x))
  expect_identical(dimnames(y), dimnames(x))
  v <- c(a = -1, b = 2)
  attr(v, "units") <- "cm"
  expect_identical(names(activation_selu(v)), c("a", "b"))
  expect_identical(unname(activation_selu(v)), activation_selu(c(-1, 2)))
  expect_null(attr(activation_selu(v), "units"))
  one_d <- array(c(-1, 1), 2, dimnames = list(c("p", "q")))
  expect_identical(dimnames(activation_selu(one_d)), dimnames(one_d))
  m <- matrix(-2:3, 2, 3, dimnames = list(NULL, c("x", "y", "z")))
  expect_identical(dimnames(activation_selu_backward(m, m)), dimnames(m))
})

test_that("integer and logical input is converted to double", {
  expect_identical(activation_selu(c(-1L, 0L, 2L)), activation_selu(c(-1, 0, 2)))
  expect_identical(activation_selu(c(TRUE, FALSE)), activation_selu(c(1, 0)))
  expect_identical(activation_selu(integer(0)), numeric(0))
  expect_identical(activation_selu_backward(c(-1L, 2L), 2L),
                   activation_selu_backward(c(-1, 2), 2))
})

test_that("the input is never modified", {
  x <- c(-1, 0.5, 2)
  x_copy <- c(-1, 0.5, 2)
  y <- activation_selu(x)
  g <- activation_selu_backward(x, x)
  expect_identical(x, x_copy)
  i <- c(-1L, 3L)
  activation_selu(i)
  expect_identical(i, c(-1L, 3L))
})

test_that("the gradient is computed from the input", {
  expect_identical(activation_selu_backward(2, 1), 1.0507009873554804934193349852946)
  expect_identical(activation_selu_backward(0, 1), selu_scale_alpha)
  expect_identical(activation_selu_backward(-Inf, 1), 0)
  # the output has saturated at -40, the derivative has not: about 7.47e-18
  expect_equal(activation_selu_backward(-40, 1), selu_scale_alpha * exp(-40))
  expect_gt(activation_selu_backward(-40, 1), 7.46e-18)
  expect_lt(activation_selu_backward(-40, 1), 7.48e-18)
  expect_identical(activation_selu_backward(c(-1, 1), c(2, 3)),
                   c(2, 3) * activation_selu_backward(c(-1, 1), 1))
})

test_that("the gradient matches a 200-bit computation and finite differences", {
  skip_if_not_installed("Rmpfr")
  set.seed(2)
  x <- c(-700, -40, -1, -1e-10, runif(1000, -20, 5))
  expect_lte(max(ulp_error(activation_selu_backward(x, 1), selu_grad_mpfr(x))), 2)
  h <- 1e-6
  x <- c(-3, -1, -0.2, 0.3, 2)
  numeric_grad <- (activation_selu(x + h) - activation_selu(x - h)) / (2 * h)
  expect_equal(activation_selu_backward(x, 1), numeric_grad, tolerance = 1e-8)
})

test_that("bad input is an error naming the argument", {
  expect_error(activation_selu("a"), class = "selu_error")
  expect_error(activation_selu("a"), "`x` must be a numeric vector, matrix or array, not the string \"a\"")
  expect_error(activation_selu(factor("a")), "not a factor")
  expect_error(activation_selu(list(1)), "not a list of length 1")
  expect_error(activation_selu(data.frame(a = 1)), "not a data frame")
  expect_error(activation_selu(NULL), "not NULL")
  expect_error(activation_selu(1i), "not a complex")
  expect_error(activation_selu_backward("a", 1), "`x` must be")
  expect_error(activation_selu_backward(1, "a"), "`grad_output` must be")
  expect_error(activation_selu_backward(c(1, 2), c(1, 2, 3)),
               "`grad_output` must have the output's shape, \\(2\\), or be a single number",
               class = "selu_error_shape")
  expect_error(activation_selu_backward(matrix(1:4, 2), 1:4), "must have the output's shape")
})
