w <- matrix(c(-2, -0.5, 0.5, 2), 2, 2)  # sum |w| = 5, sum w^2 = 8.5

test_that("penalties by hand", {
  expect_equal(regularizer_l1(0.1)(w), 0.5, tolerance = 1e-15)
  expect_equal(regularizer_l2(0.1)(w), 0.85, tolerance = 1e-15)
  expect_equal(regularizer_l1_l2(l1 = 0.1, l2 = 0.2)(w), 0.5 + 1.7, tolerance = 1e-15)
  # keras' defaults, 0.01
  expect_equal(regularizer_l1()(w), 0.05, tolerance = 1e-15)
  expect_equal(regularizer_l2()(w), 0.085, tolerance = 1e-15)
  expect_equal(regularizer_l1_l2()(w), 0.135, tolerance = 1e-15)
  expect_identical(regularizer_l1(0)(w), 0)
  expect_identical(regularizer_l2()(numeric(0)), 0)
  # integers and logicals, in double: no integer overflow
  big <- rep(.Machine$integer.max, 2)
  expect_identical(regularizer_l1(1)(big), 2 * .Machine$integer.max)
  expect_identical(regularizer_l1(1)(c(TRUE, FALSE, TRUE)), 2)
  # a term of factor 0 is left out, as keras does: Inf weights are not NaN
  expect_identical(regularizer_l1_l2(l1 = 0, l2 = 1)(c(Inf, 1)), Inf)
  expect_identical(regularizer_l1_l2(l1 = 1, l2 = 0)(c(-Inf, 1)), Inf)
  expect_true(is.na(regularizer_l2()(c(1, NA))))
  arr <- array(1:24, c(2, 3, 4))
  expect_equal(regularizer_l2(1)(arr), 24 * 25 * 49 / 6, tolerance = 1e-15)
})

test_that("gradients agree with central differences", {
  set.seed(3)
  x <- array(rnorm(24), c(2, 3, 4))
  x[abs(x) < 0.01] <- 0.5  # away from the kink of |w|
  for (reg in list(regularizer_l1(0.3), regularizer_l2(0.7), regularizer_l1_l2(0.2, 0.4))) {
    g <- regularizer_gradient(reg, x)
    expect_identical(dim(g), dim(x))
    expect_equal(g, numeric_gradient(reg, x), tolerance = 1e-8)
  }
  # by hand: 0.1 * sign(w) + 2 * 0.2 * w
  expect_equal(regularizer_gradient(regularizer_l1_l2(0.1, 0.2), w),
               matrix(c(-0.9, -0.3, 0.3, 0.9), 2, 2), tolerance = 1e-15)
})

test_that("the L1 gradient is 0 at 0", {
  expect_identical(regularizer_gradient(regularizer_l1(0.5), c(-1, 0, 2)), c(-0.5, 0, 0.5))
  expect_identical(regularizer_gradient(regularizer_l1_l2(0.5, 1), c(0, 0)), c(0, 0))
  expect_identical(regularizer_gradient(regularizer_l1(0.5), 0L), 0)
  expect_identical(regularizer_gradient(regularizer_l1_l2(0, 0), matrix(1:4, 2)), matrix(0, 2, 2))
})

test_that("configurations are keras' and rebuild the regularizer", {
  expect_identical(get_config(regularizer_l1(0.5)), structure(list(l1 = 0.5), class_name = "L1"))
  expect_identical(get_config(regularizer_l2()), structure(list(l2 = 0.01), class_name = "L2"))
  expect_identical(get_config(regularizer_l1_l2(0.1, 0.2)),
                   structure(list(l1 = 0.1, l2 = 0.2), class_name = "L1L2"))
  for (reg in list(regularizer_l1(0.5), regularizer_l2(3), regularizer_l1_l2(0, 2))) {
    rebuilt <- regularizer_from_config(get_config(reg))
    expect_identical(get_config(rebuilt), get_config(reg))
    expect_identical(rebuilt(w), reg(w))
  }
  expect_null(regularizer_from_config(NULL))
  expect_output(print(regularizer_l1_l2(0.1, 0.2)), "<regularizer L1L2>\\(l1 = 0.1, l2 = 0.2\\)")
  expect_output(print(regularizer_l1()), "<regularizer L1>\\(l1 = 0.01\\)")
})

test_that("as_regularizer() takes NULL, a regularizer or a name", {
  expect_null(as_regularizer(NULL, "kernel_regularizer", NULL))
  reg <- regularizer_l2(0.5)
  expect_identical(as_regularizer(reg, "kernel_regularizer", NULL), reg)
  expect_identical(get_config(as_regularizer("l1", "r", NULL)), get_config(regularizer_l1()))
  expect_identical(get_config(as_regularizer("l2", "r", NULL)), get_config(regularizer_l2()))
  expect_identical(get_config(as_regularizer("l1_l2", "r", NULL)), get_config(regularizer_l1_l2()))
  expect_error(as_regularizer("L2", "kernel_regularizer", NULL),
               "`kernel_regularizer` must be NULL, a regularizer or one of \"l1\", \"l2\", \"l1_l2\", not the string \"L2\"",
               class = "selu_error")
  expect_error(as_regularizer(0.01, "bias_regularizer", NULL), "`bias_regularizer`",
               class = "selu_error")
  expect_error(as_regularizer(function(w) 0, "bias_regularizer", NULL), "`bias_regularizer`",
               class = "selu_error")
  fake <- structure(function(w) 0, class = "selu_regularizer")
  expect_error(as_regularizer(fake, "bias_regularizer", NULL), "`bias_regularizer`",
               class = "selu_error")
})

test_that("arguments are checked", {
  for (bad in list(-0.1, Inf, NA, "a", c(0.1, 0.2), NULL, list(0.1))) {
    expect_error(regularizer_l1(bad), "`l` must be a single finite number of at least 0",
                 class = "selu_error")
    expect_error(regularizer_l2(bad), "`l`", class = "selu_error")
    expect_error(regularizer_l1_l2(l1 = bad), "`l1`", class = "selu_error")
    expect_error(regularizer_l1_l2(l2 = bad), "`l2`", class = "selu_error")
  }
  reg <- regularizer_l1()
  expect_error(reg(), "`w` is missing", class = "selu_error")
  expect_error(reg("a"), "`w` must be a numeric vector, matrix or array", class = "selu_error")
  expect_error(reg(data.frame(a = 1)), "`w`", class = "selu_error")
  expect_error(reg(factor("a")), "`w`", class = "selu_error")
  expect_error(get_config(reg, 1), "Unknown argument", class = "selu_error")
  expect_error(get_config(structure(function(w) 0, class = "selu_regularizer")), "`object`",
               class = "selu_error")
})

test_that("regularizer_from_config() refuses what is not a regularizer's configuration", {
  expect_error(regularizer_from_config(structure(list(l1 = 1), class_name = "L3")),
               "`config` must be the configuration of a regularizer", class = "selu_error")
  expect_error(regularizer_from_config(list(l1 = 1)), "`config`", class = "selu_error")
  expect_error(regularizer_from_config(structure(list(l2 = 1), class_name = "L1")),
               "`config` for a L1 may only have the keys `l1`", class = "selu_error")
  expect_error(regularizer_from_config(structure(list(l1 = -1), class_name = "L1")), "`l`",
               class = "selu_error")
})
