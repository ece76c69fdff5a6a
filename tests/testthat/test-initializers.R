test_that("lecun_normal is a truncated normal with keras' scale", {
  init <- initializer_lecun_normal(seed = 1)
  w <- init(c(784, 256))
  expect_identical(dim(w), c(784L, 256L))
  sd_expected <- sqrt(1 / 784)
  expect_equal(sd(as.vector(w)), sd_expected, tolerance = 0.01)
  expect_lte(max(abs(w)), 2 * sd_expected / 0.87962566103423978)
  expect_equal(mean(w), 0, tolerance = 0.01 * sd_expected)
  # fans as keras computes them for higher ranks: 3 * 3 * 16 inputs
  conv <- initializer_lecun_normal(seed = 2)(c(3, 3, 16, 32))
  expect_equal(sd(as.vector(conv)), sqrt(1 / (3 * 3 * 16)), tolerance = 0.05)
  expect_length(initializer_lecun_normal()(5), 5)
})

test_that("a seed gives the same weights and leaves the session's stream alone", {
  init <- initializer_lecun_normal(seed = 42)
  set.seed(9)
  before <- .Random.seed
  w1 <- init(c(10, 10))
  expect_identical(.Random.seed, before)
  expect_identical(init(c(10, 10)), w1)
  expect_identical(initializer_lecun_normal(seed = 42)(c(10, 10)), w1)
  expect_false(identical(initializer_lecun_normal(seed = 43)(c(10, 10)), w1))
  # without a seed, the session's stream
  set.seed(1)
  a <- initializer_lecun_normal()(c(3, 3))
  set.seed(1)
  expect_identical(initializer_lecun_normal()(c(3, 3)), a)
})

test_that("zeros, ones and constant", {
  expect_identical(initializer_zeros()(c(2, 3)), matrix(0, 2, 3))
  expect_identical(initializer_ones()(4), rep(1, 4))
  expect_identical(initializer_constant(0.5)(c(2, 2)), matrix(0.5, 2, 2))
  expect_identical(get_config(initializer_constant(2)), structure(list(value = 2), class_name = "Constant"))
  expect_output(print(initializer_lecun_normal(seed = 3)), "<initializer LecunNormal>\\(seed = 3\\)")
})

test_that("initializer arguments are checked", {
  expect_error(initializer_lecun_normal(seed = "a"), "`seed` must be NULL or a whole number")
  expect_error(initializer_lecun_normal(seed = 1.5), "`seed`")
  expect_error(initializer_constant("a"), "`value` must be a single number")
  expect_error(initializer_zeros()(c(2, NA)), "`shape` must be fully known")
  expect_error(initializer_zeros()("a"), "`shape` must be a vector or list")
  expect_error(initializer_zeros()(0), "`shape`")
})

test_that("initializers refuse huge shapes before allocating", {
  expect_error(initializer_zeros()(c(1e6, 1e6)), "`shape` has shape \\(1000000, 1000000\\)",
               class = "selu_error_shape")
  expect_error(initializer_lecun_normal()(.Machine$integer.max), "more than the 1,073,741,824 allowed",
               class = "selu_error_shape")
  old <- options(selu.max_weight_elements = 5)
  on.exit(options(old))
  expect_error(initializer_ones()(c(2, 3)), "selu.max_weight_elements", class = "selu_error_shape")
  expect_identical(initializer_ones()(5), rep(1, 5))
})

test_that("initializers take no unknown arguments and need a shape", {
  expect_error(initializer_zeros(1), "Unknown argument: an unnamed argument", class = "selu_error")
  expect_error(initializer_ones(seed = 1), "Unknown argument: `seed`", class = "selu_error")
  expect_error(initializer_zeros()(), "`shape` is missing", class = "selu_error")
})
