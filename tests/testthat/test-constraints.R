# Columns of norms 4 and 1, a zero column.
w <- cbind(c(0, 4), c(0.6, 0.8), c(0, 0))
eps <- 1e-7  # keras' backend epsilon

column_norms <- function(x) sqrt(colSums(x^2))

test_that("max_norm scales columns above the bound down to it", {
  out <- constraint_maxnorm(2)(w)
  # the column of norm 4 halves; the others keep their values but for epsilon
  expect_equal(out[, 1], c(0, 2), tolerance = 1e-7)
  expect_equal(out[, 2], c(0.6, 0.8), tolerance = 1e-6)
  expect_lt(out[2, 1], 2)  # epsilon pulls every norm in a little, as keras
  expect_identical(out[, 3], c(0, 0))
  # 3-4-12-13: a column of norm 13 to norm 1
  out <- constraint_maxnorm(1)(matrix(c(3, 4, 12), 3, 1))
  expect_equal(as.vector(out), c(3, 4, 12) / 13, tolerance = 1e-7)
  expect_equal(constraint_maxnorm(1)(c(3, 4)), c(0.6, 0.8), tolerance = 1e-7)
  # the default: max_value 2
  expect_equal(column_norms(constraint_maxnorm()(w))[1], 2, tolerance = 1e-7)
  expect_identical(constraint_maxnorm(0)(w), w * 0)
})

test_that("unit_norm gives every column norm 1", {
  out <- constraint_unitnorm()(w)
  expect_equal(out[, 1], c(0, 1), tolerance = 1e-7)
  expect_equal(out[, 2], c(0.6, 0.8), tolerance = 1e-6)
  expect_identical(out[, 3], c(0, 0))  # no 0 / 0
  set.seed(1)
  x <- matrix(rnorm(50), 10, 5)
  expect_equal(column_norms(constraint_unitnorm()(x)), rep(1, 5), tolerance = 1e-6)
})

test_that("min_max_norm clips the norms, or moves them toward the bounds by rate", {
  out <- constraint_minmaxnorm(min_value = 1.5, max_value = 2)(w)
  expect_equal(out[, 1], c(0, 2), tolerance = 1e-7)        # 4 down to 2
  expect_equal(out[, 2], c(0.9, 1.2), tolerance = 1e-6)    # 1 up to 1.5
  expect_identical(out[, 3], c(0, 0))                      # a zero column cannot grow
  half <- constraint_minmaxnorm(min_value = 1.5, max_value = 2, rate = 0.5)(w)
  expect_equal(column_norms(half)[1:2], c(3, 1.25), tolerance = 1e-7)
  none <- constraint_minmaxnorm(min_value = 1.5, max_value = 2, rate = 0)(w)
  expect_equal(none, w, tolerance = 1e-7)
  # the defaults, 0 and 1: unit norm at most
  expect_equal(column_norms(constraint_minmaxnorm()(w))[1:2], c(1, 1), tolerance = 1e-6)
})

test_that("non_neg sets negative weights to 0", {
  expect_identical(constraint_nonneg()(c(-1, 0, 2, NA, -Inf, Inf, -0.5)),
                   c(0, 0, 2, NA, 0, Inf, 0))
  expect_identical(constraint_nonneg()(matrix(c(-2L, 3L), 1)), matrix(c(0, 3), 1))
})

test_that("constraints are idempotent", {
  set.seed(2)
  x <- matrix(rnorm(60, sd = 2), 6, 10)
  for (con in list(constraint_maxnorm(1.5), constraint_unitnorm(), constraint_minmaxnorm(1, 2),
                   constraint_maxnorm(1, axis = 2))) {
    once <- con(x)
    # up to epsilon, which shrinks every norm by a factor of about 1 - 1e-7
    expect_equal(con(once), once, tolerance = 1e-6)
  }
  once <- constraint_nonneg()(x)
  expect_identical(constraint_nonneg()(once), once)
})

test_that("axes: rows, columns, several, negative, for any rank", {
  # axis 2: the norm of each row
  rows <- constraint_maxnorm(1, axis = 2)(rbind(c(3, 4), c(0.3, 0.4)))
  expect_equal(rows, rbind(c(0.6, 0.8), c(0.3, 0.4)), tolerance = 1e-6)
  expect_identical(constraint_maxnorm(1, axis = -1)(w), constraint_maxnorm(1, axis = 2)(w))
  expect_identical(constraint_maxnorm(1, axis = -2)(w), constraint_maxnorm(1, axis = 1)(w))
  # a convolution kernel: each filter (the last axis) to unit norm
  set.seed(3)
  kernel <- array(rnorm(3 * 3 * 2 * 4), c(3, 3, 2, 4))
  out <- constraint_unitnorm(axis = 1:3)(kernel)
  expect_identical(dim(out), dim(kernel))
  for (k in 1:4) {
    expect_equal(sqrt(sum(out[, , , k]^2)), 1, tolerance = 1e-6)
    expect_equal(out[, , , k] / kernel[, , , k], array(out[1, 1, 1, k] / kernel[1, 1, 1, k], c(3, 3, 2)))
  }
  # over axes 1 and 3 of a rank-3 array, against apply()
  x <- array(seq(-2, 2, length.out = 24), c(2, 3, 4))
  norms <- sqrt(apply(x^2, 2, sum))
  expected <- sweep(x, 2, pmin(norms, 1) / (eps + norms), "*")
  expect_equal(constraint_maxnorm(1, axis = c(1, 3))(x), expected, tolerance = 1e-14)
  expect_equal(constraint_maxnorm(1, axis = c(3, -3))(x), expected, tolerance = 1e-14)
  # the default axis 1 on a rank-3 array: each x[, j, k]
  norms <- sqrt(apply(x^2, c(2, 3), sum))
  expected <- sweep(x, c(2, 3), 1 / (eps + norms), "*")
  expect_equal(constraint_unitnorm()(x), expected, tolerance = 1e-14)
})

test_that("vectors: axis 1 is the whole vector", {
  b <- c(3, 0, 4)
  expect_equal(constraint_maxnorm(1)(b), c(0.6, 0, 0.8), tolerance = 1e-7)
  expect_identical(constraint_unitnorm(axis = -1)(b), constraint_unitnorm()(b))
  expect_equal(constraint_minmaxnorm(10, 20)(b), c(6, 0, 8), tolerance = 1e-7)
  expect_identical(constraint_maxnorm(1)(array(c(3, 4), 2)), array(c(0.6, 0.8) * (5 / (5 + eps)), 2))
  expect_error(constraint_maxnorm(1, axis = 2)(b),
               "`axis` must be a whole number from -1 to 1 other than 0 for input of rank 1",
               class = "selu_error")
})

test_that("the weights' shape, names and emptiness are kept", {
  named <- matrix(c(3, 4), 2, 1, dimnames = list(c("a", "b"), "u"))
  expect_identical(dimnames(constraint_maxnorm(1)(named)), dimnames(named))
  expect_identical(names(constraint_nonneg()(c(a = -1, b = 1))), c("a", "b"))
  expect_identical(constraint_maxnorm()(matrix(0, 0, 3)), matrix(0, 0, 3))
  expect_identical(constraint_unitnorm(axis = 1:2)(array(0, c(2, 0, 3))), array(0, c(2, 0, 3)))
  expect_identical(constraint_maxnorm()(numeric(0)), numeric(0))
  expect_identical(typeof(constraint_unitnorm()(1:3)), "double")
})

test_that("configurations are keras' and rebuild the constraint", {
  expect_identical(get_config(constraint_maxnorm()),
                   structure(list(max_value = 2, axis = 1L), class_name = "MaxNorm"))
  expect_identical(get_config(constraint_nonneg()), structure(list(), class_name = "NonNeg"))
  expect_identical(get_config(constraint_unitnorm(axis = -1)),
                   structure(list(axis = -1L), class_name = "UnitNorm"))
  expect_identical(get_config(constraint_minmaxnorm()),
                   structure(list(min_value = 0, max_value = 1, rate = 1, axis = 1L),
                             class_name = "MinMaxNorm"))
  cons <- list(constraint_maxnorm(3, axis = 1:2), constraint_nonneg(), constraint_unitnorm(2),
               constraint_minmaxnorm(0.5, 1.5, 0.3, -1))
  x <- array(seq(-3, 3, length.out = 12), c(2, 3, 2))
  for (con in cons) {
    rebuilt <- constraint_from_config(get_config(con))
    expect_identical(get_config(rebuilt), get_config(con))
    expect_identical(rebuilt(x), con(x))
  }
  expect_null(constraint_from_config(NULL))
  expect_output(print(constraint_maxnorm(3, axis = 1:3)),
                "<constraint MaxNorm>\\(max_value = 3, axis = 1, 2, 3\\)")
  expect_output(print(constraint_nonneg()), "<constraint NonNeg>\\(\\)")
})

test_that("as_constraint() takes NULL, a constraint or a name", {
  expect_null(as_constraint(NULL, "kernel_constraint", NULL))
  con <- constraint_unitnorm()
  expect_identical(as_constraint(con, "kernel_constraint", NULL), con)
  classes <- c(max_norm = "MaxNorm", maxnorm = "MaxNorm", non_neg = "NonNeg", nonneg = "NonNeg",
               unit_norm = "UnitNorm", unitnorm = "UnitNorm", min_max_norm = "MinMaxNorm")
  for (name in names(classes)) {
    expect_identical(attr(as_constraint(name, "c", NULL), "class_name"), classes[[name]])
  }
  expect_error(as_constraint("max", "kernel_constraint", NULL),
               "`kernel_constraint` must be NULL, a constraint or one of \"max_norm\"",
               class = "selu_error")
  expect_error(as_constraint(regularizer_l1(), "bias_constraint", NULL), "`bias_constraint`",
               class = "selu_error")
  fake <- structure(function(w) w, class = "selu_constraint")
  expect_error(as_constraint(fake, "bias_constraint", NULL), "`bias_constraint`",
               class = "selu_error")
})

test_that("arguments are checked", {
  for (bad in list(-1, Inf, NA, "a", c(1, 2), NULL)) {
    expect_error(constraint_maxnorm(bad), "`max_value` must be a single finite number of at least 0",
                 class = "selu_error")
    expect_error(constraint_minmaxnorm(min_value = bad), "`min_value`", class = "selu_error")
    expect_error(constraint_minmaxnorm(max_value = bad), "`max_value`", class = "selu_error")
  }
  for (bad in list(0, 1.5, c(1, 1), NULL, "a", NA, Inf, 2^31, list(1), numeric(0))) {
    expect_error(constraint_maxnorm(axis = bad),
                 "`axis` must be whole numbers other than 0, none repeated", class = "selu_error")
    expect_error(constraint_unitnorm(axis = bad), "`axis`", class = "selu_error")
    expect_error(constraint_minmaxnorm(axis = bad), "`axis`", class = "selu_error")
  }
  expect_error(constraint_minmaxnorm(min_value = 2, max_value = 1),
               "`min_value` \\(2\\) must not be above `max_value` \\(1\\)", class = "selu_error")
  expect_error(constraint_minmaxnorm(rate = 1.5), "`rate` must be a single finite number from 0 to 1",
               class = "selu_error")
  expect_error(constraint_minmaxnorm(rate = -0.1), "`rate`", class = "selu_error")
  expect_error(constraint_maxnorm(1, axis = 3)(w), "`axis` must be a whole number from -2 to 2",
               class = "selu_error")
  expect_error(constraint_maxnorm(1, axis = c(1, -2))(w),
               "`axis` \\(1, -2\\) names an axis twice for weights of rank 2", class = "selu_error")
  con <- constraint_maxnorm()
  expect_error(con(), "`w` is missing", class = "selu_error")
  expect_error(con("a"), "`w` must be a numeric vector, matrix or array", class = "selu_error")
  expect_error(con(list(1)), "`w`", class = "selu_error")
  expect_error(constraint_nonneg()(data.frame(a = -1)), "`w`", class = "selu_error")
  expect_error(constraint_nonneg(1), "Unknown argument: an unnamed argument", class = "selu_error")
  expect_error(get_config(structure(function(w) w, class = "selu_constraint")), "`object`",
               class = "selu_error")
})

test_that("constraint_from_config() refuses what is not a constraint's configuration", {
  expect_error(constraint_from_config(structure(list(), class_name = "MaxNorms")),
               "`config` must be the configuration of a constraint", class = "selu_error")
  expect_error(constraint_from_config("max_norm"), "`config`", class = "selu_error")
  expect_error(constraint_from_config(structure(list(rate = 1), class_name = "MaxNorm")),
               "`config` for a MaxNorm may only have the keys `max_value`, `axis`",
               class = "selu_error")
  expect_error(constraint_from_config(structure(list(axis = 0), class_name = "UnitNorm")),
               "`axis`", class = "selu_error")
})
