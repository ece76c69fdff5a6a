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

test_that("every kernel is within 1 ulp forward and 2 ulp backward of a 120-bit value", {
  skip_if_not_installed("Rmpfr")
  x <- accuracy_inputs()
  xm <- Rmpfr::mpfr(x, 120)
  alpha <- Rmpfr::mpfr(selu_alpha_text, 120)
  scale <- Rmpfr::mpfr(selu_scale_text, 120)
  forward <- scale * alpha * expm1(xm)
  forward[x > 0] <- scale * xm[x > 0]
  backward <- scale * alpha * exp(xm)
  backward[x > 0] <- scale
  for (isa in available_isas()) with_isa(isa, {
    expect_lte(max(ulp_error_mpfr(activation_selu(x), forward)), 1, label = isa)
    expect_lte(max(ulp_error_mpfr(activation_selu_backward(x, 1), backward)), 2, label = isa)
  })
  # the C library's expm1() times the constant is not as close
  expect_gt(max(ulp_error_mpfr(selu_scale_alpha * expm1(x[x < 0]), forward[x < 0])), 1)
})

test_that("the float32 kernels are within 1 ulp of float32", {
  skip_if_not_installed("Rmpfr")
  x <- accuracy_inputs(1000)
  xf <- Rmpfr::mpfr(as_float32(x), 120)
  alpha <- Rmpfr::mpfr(selu_alpha_text, 120)
  scale <- Rmpfr::mpfr(selu_scale_text, 120)
  forward <- scale * alpha * expm1(xf)
  forward[x > 0] <- scale * xf[x > 0]
  backward <- scale * alpha * exp(xf)
  backward[x > 0] <- scale
  act <- layer_activation_selu(dtype = "float32")
  for (isa in available_isas()) with_isa(isa, {
    expect_lte(max(ulp_error_mpfr(act(x), forward, 24, -149)), 1, label = isa)
    expect_lte(max(ulp_error_mpfr(backward(act, x, 1), backward, 24, -149)), 1, label = isa)
  })
})

test_that("special values give the scalar definition's results on every kernel", {
  special <- c(NA, NaN, Inf, -Inf, 0, -0, 2^-1074, -2^-1074, -.Machine$double.xmax, -1e-320)
  for (isa in available_isas()) with_isa(isa, {
    y <- activation_selu(special)
    expect_identical(is.na(y), is.na(special))
    expect_identical(is.nan(y), is.nan(special))
    expect_identical(y[3:4], c(Inf, -selu_scale_alpha))
    expect_identical(1 / y[5:6], c(Inf, -Inf))  # the sign of zero is kept
    expect_identical(y[7:10], c(2^-1074 * 1.0507009873554804934193349852946, -2 * 2^-1074,
                                -selu_scale_alpha, -1e-320 * selu_scale_alpha))
    g <- activation_selu_backward(special, 1)
    expect_identical(is.na(g), is.na(special))
    expect_identical(g[3:6], c(1.0507009873554804934193349852946, 0, selu_scale_alpha,
                               selu_scale_alpha))
  })
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

test_that("inplace = TRUE overwrites only what no name can see", {
  x <- c(-1, 0.5, 2)
  y <- x
  expect_identical(activation_selu(x, inplace = TRUE), activation_selu(c(-1, 0.5, 2)))
  expect_identical(x, c(-1, 0.5, 2))
  expect_identical(y, c(-1, 0.5, 2))
  expect_identical(activation_selu(x * 2, inplace = TRUE), activation_selu(c(-2, 1, 4)))
  expect_identical(activation_selu(1:3, inplace = TRUE), activation_selu(c(1, 2, 3)))
  expect_error(activation_selu(x, inplace = NA), "`inplace` must be TRUE or FALSE, not a logical \\(NA\\)")
  expect_error(activation_selu(x, inplace = "yes"), "`inplace`", class = "selu_error")
})

test_that("inplace = TRUE allocates nothing for a temporary", {
  skip_if_not_installed("bench")
  x <- rnorm(1e5)
  expect_identical(activation_selu(x * 1, inplace = TRUE), activation_selu(x))
  alone <- bench::bench_memory(x * 1)$mem_alloc
  both <- bench::bench_memory(activation_selu(x * 1, inplace = TRUE))$mem_alloc
  expect_equal(as.numeric(both), as.numeric(alone))
  fresh <- bench::bench_memory(activation_selu(x))$mem_alloc
  expect_lte(as.numeric(fresh), 8 * length(x) + 2048)
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

test_that("the gradient matches finite differences", {
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

test_that("activation_selu() never evaluates what it is given", {
  expect_error(activation_selu(quote(stop("boom"))), "`x` must be a numeric vector, matrix or array, not an object of type language",
               class = "selu_error_argument")
  expect_error(activation_selu(quote(x)), "`x` must be a numeric", class = "selu_error")
  expect_error(activation_selu(1, inplace = quote(stop("boom"))), "`inplace` must be TRUE or FALSE",
               class = "selu_error")
  expect_error(activation_selu(), "`x` is missing", class = "selu_error")
  expect_error(activation_selu_backward(1), "`grad_output` is missing", class = "selu_error")
})
