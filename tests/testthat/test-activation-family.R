mpfr_inputs <- function() {
  n <- sample_size(2000)
  set.seed(7)
  c(-runif(n, 0, 750), -runif(n, 0, 2), runif(n, 0, 40), -2^-(0:1074),
    2^-(seq(0, 1074, by = 7)), rnorm(n))
}

test_that("ELU, sigmoid and tanh are within 1 ulp, their gradients within 2", {
  skip_if_not_installed("Rmpfr")
  x <- mpfr_inputs()
  xm <- Rmpfr::mpfr(x, 120)
  one <- Rmpfr::mpfr(1, 120)
  elu <- 0.7 * expm1(xm)
  elu[x > 0] <- xm[x > 0]
  elu_grad <- 0.7 * exp(xm)
  elu_grad[x > 0] <- one
  sig <- one / (one + exp(-xm))
  t2 <- exp(-2 * abs(xm))
  for (isa in available_isas()) with_isa(isa, {
    expect_lte(max(ulp_error_mpfr(activation_elu(x, alpha = 0.7), elu)), 1, label = isa)
    expect_lte(max(ulp_error_mpfr(activation_sigmoid(x), sig)), 1, label = isa)
    expect_lte(max(ulp_error_mpfr(activation_tanh(x), tanh(xm))), 1, label = isa)
    expect_lte(max(ulp_error_mpfr(activation_elu_backward(x, 1, alpha = 0.7), elu_grad)), 2)
    expect_lte(max(ulp_error_mpfr(activation_sigmoid_backward(x, 1), sig * (one - sig))), 2)
    expect_lte(max(ulp_error_mpfr(activation_tanh_backward(x, 1), 4 * t2 / (1 + t2)^2)), 2)
  })
})

test_that("a value's result does not depend on its neighbours", {
  # Stretches of 512 values where e^x stays a normal number take a cheaper
  # form; one value out of that range sends its stretch through the other.
  x <- c(-runif(511, 0, 354), -354, -runif(512, 700, 708), runif(512, -30, 30))
  far <- replace(x, c(1, 513, 1025), -800)
  g <- rnorm(length(x))
  same <- function(f) expect_identical(f(far)[-c(1, 513, 1025)], f(x)[-c(1, 513, 1025)])
  for (isa in available_isas()) with_isa(isa, {
    same(activation_sigmoid)
    same(function(v) activation_selu_backward(v, g))
    same(function(v) activation_elu_backward(v, g, alpha = 0.7))
    same(function(v) activation_sigmoid_backward(v, g))
    same(function(v) activation_tanh_backward(v, g))
    same(function(v) activation_tanh_backward(v, 0.5))
    # a softmax slice spanning more than 708 takes the other form
    m <- matrix(runif(3000, -700, 0), 1000, 3)
    spread <- rbind(m, c(0, -750, 0))
    expect_identical(activation_softmax(spread)[1:1000, ], activation_softmax(m))
    gm <- matrix(rnorm(3003), 1001, 3)
    expect_identical(activation_softmax_backward(spread, gm)[1:1000, ],
                     activation_softmax_backward(m, gm[1:1000, ]))
  })
})

test_that("the piecewise-linear activations match their definitions", {
  x <- c(-3, -1, -0.25, 0, 0.25, 0.5, 1, 2.5, 7)
  expect_identical(activation_leaky_relu(x), ifelse(x >= 0, x, 0.3 * x))
  expect_identical(activation_leaky_relu(x, alpha = 0.01), ifelse(x >= 0, x, 0.01 * x))
  expect_identical(activation_relu(x), pmax(x, 0))
  expect_equal(activation_relu(x, max_value = 2, negative_slope = 0.1, threshold = 0.5),
                   c(-0.35, -0.15, -0.075, -0.05, -0.025, 0.5, 1, 2, 2))
  expect_identical(activation_thresholded_relu(x), c(0, 0, 0, 0, 0, 0, 0, 2.5, 7))
  expect_identical(activation_thresholded_relu(x, theta = 0), pmax(x, 0))
  expect_identical(activation_linear(x), x)
  expect_identical(activation_linear(1:3), c(1, 2, 3))
  expect_identical(activation_leaky_relu_backward(x, 2), ifelse(x >= 0, 2, 0.6))
  expect_identical(activation_relu_backward(x, 1, max_value = 2, threshold = 0.5),
                   c(0, 0, 0, 0, 0, 1, 1, 0, 0))
  expect_identical(activation_thresholded_relu_backward(x, x), ifelse(x > 1, x, 0))
  expect_identical(activation_linear_backward(x, 3), rep(3, length(x)))
})

test_that("gradients match finite differences", {
  x <- c(-2.5, -0.7, -0.1, 0.2, 0.9, 3)
  h <- 1e-6
  numeric_grad <- function(f) (f(x + h) - f(x - h)) / (2 * h)
  expect_equal(activation_elu_backward(x, 1, 0.5), numeric_grad(function(v) activation_elu(v, 0.5)),
               tolerance = 1e-8)
  expect_equal(activation_sigmoid_backward(x, 1), numeric_grad(activation_sigmoid), tolerance = 1e-8)
  expect_equal(activation_tanh_backward(x, 1), numeric_grad(activation_tanh), tolerance = 1e-8)
  expect_equal(activation_leaky_relu_backward(x, 1), numeric_grad(activation_leaky_relu),
               tolerance = 1e-8)
})

test_that("special values pass through the family", {
  special <- c(NA, NaN, -Inf, Inf, -0)
  for (f in list(activation_elu, activation_leaky_relu, activation_relu,
                 activation_thresholded_relu, activation_sigmoid, activation_tanh)) {
    y <- f(special)
    expect_true(is.na(y[1]) && !is.nan(y[1]))
    expect_true(is.nan(y[2]))
  }
  expect_identical(activation_sigmoid(c(-Inf, Inf, 0)), c(0, 1, 0.5))
  expect_identical(activation_tanh(c(-Inf, Inf, 30)), c(-1, 1, 1))
  expect_identical(1 / activation_tanh(-0), -Inf)
  expect_identical(activation_elu(c(-Inf, Inf)), c(-1, Inf))
  # gradients from the input: still right where the output has rounded to 1
  expect_equal(activation_sigmoid_backward(40, 1), exp(-40), tolerance = 1e-14)
  expect_equal(activation_tanh_backward(20, 1), 4 * exp(-40), tolerance = 1e-14)
})

test_that("parameters are checked", {
  expect_error(activation_elu(1, alpha = "a"), "`alpha` must be a single number")
  expect_error(activation_elu(1, alpha = NULL), "`alpha`")
  expect_error(activation_relu(1, max_value = -1), "`max_value` must be a single number of at least 0")
  expect_error(activation_relu(1, negative_slope = -0.1), "`negative_slope`")
  expect_error(activation_relu(1, threshold = NA), "`threshold`")
  expect_error(activation_thresholded_relu(1, theta = -1), "`theta`")
  expect_error(activation_tanh("a"), "`x` must be a numeric vector")
  expect_error(activation_sigmoid_backward(1:2, 1:3), "`grad_output` must have the output's shape")
})

test_that("the C checks of parameters and axes take what the R checks take", {
  values <- list(1L, 2.5, 0, -0, Inf, -Inf, -1, NA, NA_integer_, NA_real_, NaN, TRUE, "1",
                 NULL, c(1, 2), numeric(0), factor(1), structure(1, class = "unit"), 1i,
                 list(1), .Machine$integer.max, 3, -3, 2.0000001)
  takes <- function(expr) !inherits(try(expr, silent = TRUE), "try-error")
  for (v in values) {
    for (min in c(-Inf, 0)) {
      r_takes <- takes(check_number(v, "alpha", min))
      c_takes <- if (min == 0) takes(activation_thresholded_relu(1, theta = v))
                 else takes(activation_elu(1, alpha = v))
      expect_identical(c_takes, r_takes, info = paste(deparse(v), min))
    }
    expect_identical(takes(activation_relu(1, max_value = v)),
                     is.null(v) || takes(check_number(v, "max_value", 0)), info = deparse(v))
    expect_identical(takes(activation_softmax(array(0, c(2, 2, 2)), v)),
                     takes(check_axis(v, 3)), info = deparse(v))
  }
  # what C takes, it reads as R does
  expect_identical(activation_relu(c(1, 5), max_value = 2L), c(1, 2))
  expect_identical(activation_softmax(matrix(1:4, 2), 1L), activation_softmax(matrix(1:4, 2), -2))
  expect_error(activation_elu(1, alpha = NA_integer_), "`alpha` must be a single number, not")
  expect_error(activation_softmax(1:3, 2), "`axis` must be a whole number from -1 to 1")
})

test_that("softmax is stable, along any axis", {
  x <- matrix(c(1, 2, 3, 1e300, -Inf, 0, -Inf, -Inf, -Inf), 3, 3, byrow = TRUE)
  y <- activation_softmax(x)
  expect_equal(y[1, ], exp(1:3 - 3) / sum(exp(1:3 - 3)))
  expect_identical(y[2, ], c(1, 0, 0))
  expect_true(all(is.nan(y[3, ])))
  a <- array(rnorm(60), c(3, 4, 5))
  reference <- function(a, axis) {
    e <- exp(sweep(a, seq_along(dim(a))[-axis], apply(a, seq_along(dim(a))[-axis], max)))
    sweep(e, seq_along(dim(a))[-axis], apply(e, seq_along(dim(a))[-axis], sum), "/")
  }
  for (axis in 1:3) expect_equal(activation_softmax(a, axis), reference(a, axis))
  expect_identical(activation_softmax(a, -1), activation_softmax(a, 3))
  expect_identical(activation_softmax(a, -3), activation_softmax(a, 1))
  expect_equal(activation_softmax(c(1, 2)), exp(1:2) / sum(exp(1:2)))
  expect_error(activation_softmax(a, 4), "`axis` must be a whole number from -3 to 3")
  expect_error(activation_softmax(a, 0), "`axis`")
  # the gradient against finite differences of sum(g * softmax(x))
  x <- matrix(rnorm(6), 2, 3)
  g <- matrix(rnorm(6), 2, 3)
  h <- 1e-6
  fd <- vapply(seq_along(x), function(i) {
    e <- replace(numeric(6), i, h)
    (sum(g * activation_softmax(x + e)) - sum(g * activation_softmax(x - e))) / (2 * h)
  }, 0)
  expect_equal(as.vector(activation_softmax_backward(x, g)), fd, tolerance = 1e-7)
})

test_that("softmax and PReLU are right over long stretches, in pieces", {
  # more slices than the kernels take at once, and more than one piece of a batch
  x <- matrix(rnorm(7500), 2500, 3)
  g <- matrix(rnorm(7500), 2500, 3)
  e <- exp(x - apply(x, 1, max))
  y <- e / rowSums(e)
  expect_equal(activation_softmax(x), y, tolerance = 1e-14)
  expect_equal(activation_softmax_backward(x, g), y * (g - rowSums(g * y)), tolerance = 1e-12)
  # ten along the axis: the passes take four rows at a time, then one at a time
  x10 <- matrix(rnorm(25000, sd = 3), 2500, 10)
  x10[7, 3] <- -Inf
  x10[8, 5] <- NA
  g10 <- matrix(rnorm(25000), 2500, 10)
  e10 <- exp(x10 - apply(x10, 1, max))
  y10 <- e10 / rowSums(e10)
  expect_equal(activation_softmax(x10), y10, tolerance = 1e-14)
  expect_identical(activation_softmax(x10)[7, 3], 0)
  expect_true(all(is.na(activation_softmax(x10)[8, ])))
  expect_equal(activation_softmax_backward(x10, g10), y10 * (g10 - rowSums(g10 * y10)),
               tolerance = 1e-12)
  # slices along the first axis, and a vector, are contiguous: another path
  expect_equal(activation_softmax(x, axis = 1), t(t(exp(x)) / colSums(exp(x))), tolerance = 1e-14)
  v <- c(rnorm(4000), -Inf, -800)
  ev <- exp(v - max(v))
  expect_equal(activation_softmax(v), ev / sum(ev), tolerance = 1e-14)
  gv <- rnorm(4002)
  expect_equal(activation_softmax_backward(v, gv), ev / sum(ev) * (gv - sum(gv * ev / sum(ev))),
               tolerance = 1e-12)
  expect_true(all(is.nan(activation_softmax(c(-Inf, -Inf)))))
  # one number for the whole gradient: read as that number everywhere
  for (axis in 1:2) {
    expect_identical(activation_softmax_backward(x10, -1.5, axis),
                     activation_softmax_backward(x10, array(-1.5, dim(x10)), axis))
  }
  expect_identical(activation_softmax_backward(v, 2), activation_softmax_backward(v, rep(2, 4002)))
  grads <- activation_parametric_relu_backward(x, c(0.1, 0.2, 0.3), g)
  expect_identical(grads$x, ifelse(x < 0, g * rep(c(0.1, 0.2, 0.3), each = 2500), g))
  expect_equal(as.vector(grads$alpha), colSums(ifelse(x < 0, g * x, 0)), tolerance = 1e-13)
})

test_that("softmax along a short first axis is right, tile by tile", {
  # slices of up to 32 elements (12 for the gradient) go through in tiles
  set.seed(8)
  for (len in c(1, 2, 3, 5, 10, 12, 13, 32, 33)) {
    x <- matrix(rnorm(len * 250, sd = 4), len, 250)
    x[1, 7] <- -Inf
    x[, 9] <- -Inf
    x[len, 11] <- NA
    x[1, 12] <- 1e300
    x[len, 13] <- -800
    g <- matrix(rnorm(length(x)), len, 250)
    y <- apply(x, 2, function(v) exp(v - max(v)) / sum(exp(v - max(v))))
    dim(y) <- dim(x)
    ok <- !is.na(y)
    got <- activation_softmax(x, 1)
    expect_identical(is.na(got), !ok, info = len)
    expect_equal(got[ok], y[ok], tolerance = 1e-14, info = len)
    dy <- y * (g - rep(colSums(g * y), each = len))
    got <- activation_softmax_backward(x, g, 1)
    expect_equal(got[ok], dy[ok], tolerance = 1e-12, info = len)
    expect_identical(activation_softmax_backward(x, 0.5, 1),
                     activation_softmax_backward(x, array(0.5, dim(x)), 1), info = len)
  }
})

test_that("parametric ReLU broadcasts alpha and gives its gradient", {
  x <- array(rnorm(24), c(2, 3, 4))
  alpha <- array(runif(4), c(1, 4))
  y <- activation_parametric_relu(x, alpha)
  expected <- x
  for (j in 1:4) expected[, , j] <- ifelse(x[, , j] < 0, alpha[1, j] * x[, , j], x[, , j])
  expect_identical(y, expected)
  g <- array(rnorm(24), c(2, 3, 4))
  grads <- activation_parametric_relu_backward(x, alpha, g)
  expect_identical(grads$x, ifelse(x < 0, g * rep(alpha, each = 6), g))
  expect_equal(as.vector(grads$alpha),
               vapply(1:4, function(j) sum((g * x)[, , j][x[, , j] < 0]), 0))
  expect_identical(dim(grads$alpha), c(1L, 4L))
  expect_error(activation_parametric_relu(x, c(1, 2)), "`alpha` must have the shape of one sample, \\(3, 4\\)")
})

test_that("parametric ReLU broadcasts alpha along any set of shared axes", {
  x <- array(rnorm(2 * 3 * 4 * 5), c(2, 3, 4, 5))
  for (a_shape in list(c(3, 1, 5), c(1, 4, 1), c(3, 4, 1), c(1, 1, 1), c(3, 4, 5))) {
    alpha <- array(runif(prod(a_shape)), a_shape)
    expected <- x
    for (i in 1:3) for (j in 1:4) for (k in 1:5) {
      a <- alpha[min(i, a_shape[1]), min(j, a_shape[2]), min(k, a_shape[3])]
      expected[, i, j, k] <- ifelse(x[, i, j, k] < 0, a * x[, i, j, k], x[, i, j, k])
    }
    expect_identical(activation_parametric_relu(x, alpha), expected)
    grads <- activation_parametric_relu_backward(x, alpha, 1)
    expect_identical(dim(grads$alpha), as.integer(a_shape))
    expect_equal(sum(grads$alpha), sum(pmin(x, 0)), tolerance = 1e-12)
  }
})

test_that("activation_parametric_relu() names `x` and `alpha` when they do not fit", {
  expect_error(activation_parametric_relu(1:3, c(0.1, 0.5)),
               "`alpha` must have the shape of one sample, \\(1\\) \\(`x` without its batch axis\\)",
               class = "selu_error_shape")
  expect_error(activation_parametric_relu(matrix(1, 2, 2)), "`alpha` is missing", class = "selu_error")
  expect_error(activation_parametric_relu_backward(matrix(1, 2, 2), 1), "`grad_output` is missing",
               class = "selu_error")
})
