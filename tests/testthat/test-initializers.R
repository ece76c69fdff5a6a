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

# --- the keras initializers -------------------------------------------------

# The standard deviation of a standard normal truncated to [-2, 2], from its
# closed form: 1 - 2 * 2 * dnorm(2) / (pnorm(2) - pnorm(-2)) is the variance.
truncated_sd <- sqrt(1 - 4 * dnorm(2) / (pnorm(2) - pnorm(-2)))

test_that("the truncation constant is the truncated normal's standard deviation", {
  expect_equal(TRUNCATED_NORMAL_SD, truncated_sd, tolerance = 1e-15)
})

test_that("keras' fans for ranks 1, 2, 3 and 4", {
  expect_identical(c(fan_in(7L), fan_out(7L)), c(7, 7))
  expect_identical(c(fan_in(c(784L, 256L)), fan_out(c(784L, 256L))), c(784, 256))
  expect_identical(c(fan_in(c(5L, 16L, 32L)), fan_out(c(5L, 16L, 32L))), c(80, 160))
  expect_identical(c(fan_in(c(3L, 3L, 16L, 32L)), fan_out(c(3L, 3L, 16L, 32L))), c(144, 288))
  # their sum does not overflow the integers
  expect_identical(fan_in(.Machine$integer.max) + fan_out(.Machine$integer.max),
                   2 * .Machine$integer.max)
})

# Moments and bounds of a 1000 x 500 draw (n = 5e5). The standard error of a
# sample standard deviation is below sd / sqrt(n) for these light-tailed
# laws, and of the mean sd / sqrt(n): tolerances of 5 standard errors.
n_draw <- 5e5
expect_moments <- function(w, mean, sd) {
  expect_lt(abs(mean(w) - mean), 5 * sd / sqrt(n_draw))
  expect_lt(abs(sd(as.vector(w)) / sd - 1), 5 / sqrt(n_draw))
}

test_that("the uniform variance-scaling initializers draw U(-l, l) with keras' limits", {
  shape <- c(1000, 500)
  limits <- list(glorot_uniform = sqrt(6 / (1000 + 500)), he_uniform = sqrt(6 / 1000),
                 lecun_uniform = sqrt(3 / 1000))
  for (name in names(limits)) {
    w <- named_initializers[[name]](seed = 1)(shape)
    l <- limits[[name]]
    expect_identical(dim(w), c(1000L, 500L))
    expect_lte(max(abs(w)), l)
    # the largest of 5e5 draws is within 1e-4 of the limit but for odds of e^-50
    expect_gt(max(abs(w)), l * (1 - 1e-4))
    expect_moments(w, 0, l / sqrt(3))
    # half the mass below l / 2
    expect_lt(abs(mean(abs(w) < l / 2) - 0.5), 5 * 0.5 / sqrt(n_draw))
  }
})

test_that("the normal variance-scaling initializers are keras' truncated normals", {
  shape <- c(1000, 500)
  sds <- list(glorot_normal = sqrt(2 / (1000 + 500)), he_normal = sqrt(2 / 1000),
              lecun_normal = sqrt(1 / 1000))
  inside_one_sd <- (pnorm(1) - pnorm(-1)) / (pnorm(2) - pnorm(-2))
  for (name in names(sds)) {
    w <- named_initializers[[name]](seed = 2)(shape)
    sd <- sds[[name]]
    # the rescaling undoes the truncation: the weights' sd is sqrt(scale / fan)
    expect_moments(w, 0, sd)
    # cut at two standard deviations of the normal before truncation
    cut <- 2 * sd / truncated_sd
    expect_lte(max(abs(w)), cut)
    expect_gt(max(abs(w)), cut * 0.999)
    expect_lt(abs(mean(abs(w) < cut / 2) - inside_one_sd), 5 * 0.5 / sqrt(n_draw))
  }
})

test_that("the fans of ranks 1 and 4 set the scale", {
  # rank 1: fan_in = fan_out = the length
  v <- initializer_glorot_uniform(seed = 3)(20000)
  expect_null(dim(v))
  expect_lte(max(abs(v)), sqrt(6 / 40000))
  expect_gt(max(abs(v)), sqrt(6 / 40000) * 0.999)
  # rank 4: fan_in = 3 * 3 * 16 = 144, fan_out = 3 * 3 * 32 = 288
  k <- initializer_glorot_uniform(seed = 3)(c(3, 3, 16, 32))
  expect_identical(dim(k), c(3L, 3L, 16L, 32L))
  expect_lte(max(abs(k)), sqrt(6 / (144 + 288)))
  expect_gt(max(abs(k)), sqrt(6 / (144 + 288)) * 0.99)
  h <- initializer_he_uniform(seed = 3)(c(3, 3, 16, 32))
  expect_lte(max(abs(h)), sqrt(6 / 144))
  expect_gt(max(abs(h)), sqrt(6 / 144) * 0.99)
})

test_that("random normal, random uniform and truncated normal have their parameters", {
  shape <- c(1000, 500)
  w <- initializer_random_normal(mean = 1, stddev = 0.5, seed = 4)(shape)
  expect_moments(w, 1, 0.5)
  expect_gt(max(abs(w - 1)), 4 * 0.5)  # untruncated: some draws beyond 4 sd

  w <- initializer_random_uniform(minval = -1, maxval = 3, seed = 4)(shape)
  expect_gte(min(w), -1)
  expect_lte(max(w), 3)
  expect_lt(min(w), -1 + 1e-4)
  expect_gt(max(w), 3 - 1e-4)
  expect_moments(w, 1, 4 / sqrt(12))

  w <- initializer_truncated_normal(mean = 1, stddev = 0.5, seed = 4)(shape)
  expect_gte(min(w), 0)
  expect_lte(max(w), 2)
  expect_lt(min(w), 0.001)
  expect_moments(w, 1, 0.5 * truncated_sd)

  # defaults, as keras: sd 0.05 and U(-0.05, 0.05)
  expect_moments(initializer_random_normal(seed = 5)(shape), 0, 0.05)
  expect_moments(initializer_random_uniform(seed = 5)(shape), 0, 0.1 / sqrt(12))
  expect_moments(initializer_truncated_normal(seed = 5)(shape), 0, 0.05 * truncated_sd)
  # bounds whose difference is beyond the doubles
  wide <- initializer_random_uniform(-1e308, 1e308, seed = 1)(1000)
  expect_true(all(is.finite(wide)))
  expect_gt(max(wide), 9e307)
  expect_lt(min(wide), -9e307)
})

test_that("orthogonal gives orthonormal columns, or rows when wide, times the gain", {
  tall <- initializer_orthogonal(seed = 1)(c(50, 20))
  expect_identical(dim(tall), c(50L, 20L))
  expect_equal(crossprod(tall), diag(20), tolerance = 1e-12)
  wide <- initializer_orthogonal(gain = 2, seed = 1)(c(20, 50))
  expect_equal(tcrossprod(wide), 4 * diag(20), tolerance = 1e-12)
  square <- initializer_orthogonal(gain = -0.5, seed = 2)(c(30, 30))
  expect_equal(crossprod(square), 0.25 * diag(30), tolerance = 1e-12)
  expect_equal(tcrossprod(square), 0.25 * diag(30), tolerance = 1e-12)
  # higher ranks: a matrix of prod(shape[-rank]) rows and shape[rank] columns
  conv <- initializer_orthogonal(seed = 3)(c(3, 3, 4, 8))
  expect_identical(dim(conv), c(3L, 3L, 4L, 8L))
  expect_equal(crossprod(matrix(conv, 36, 8)), diag(8), tolerance = 1e-12)
  conv_wide <- initializer_orthogonal(seed = 3)(c(2, 2, 30))
  expect_equal(tcrossprod(matrix(conv_wide, 4, 30)), diag(4), tolerance = 1e-12)
  # a vector: a unit vector
  v <- initializer_orthogonal(gain = 3, seed = 4)(10)
  expect_null(dim(v))
  expect_equal(sum(v^2), 9, tolerance = 1e-12)
})

# Gram-Schmidt on the columns of `a`: the Q of QR with R's diagonal positive,
# a route other than the Householder QR.
gram_schmidt <- function(a) {
  for (j in seq_len(ncol(a))) {
    for (i in seq_len(j - 1)) a[, j] <- a[, j] - sum(a[, i] * a[, j]) * a[, i]
    a[, j] <- a[, j] / sqrt(sum(a[, j]^2))
  }
  a
}

test_that("orthogonal is keras' QR of normal draws with the signs of R's diagonal", {
  set.seed(11)
  a <- matrix(rnorm(8 * 5), 8, 5)
  expect_equal(initializer_orthogonal(seed = 11)(c(8, 5)), gram_schmidt(a), tolerance = 1e-10)
  # wide: the transpose of the QR of a (cols x rows) draw
  set.seed(12)
  a <- matrix(rnorm(8 * 5), 8, 5)
  expect_equal(initializer_orthogonal(gain = 2, seed = 12)(c(5, 8)), 2 * t(gram_schmidt(a)),
               tolerance = 1e-10)
})

random_initializers <- c("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                         "lecun_uniform", "lecun_normal", "random_normal", "random_uniform",
                         "truncated_normal", "orthogonal")

test_that("every random initializer: a seed repeats and leaves .Random.seed, none draws from it", {
  for (name in random_initializers) {
    make <- named_initializers[[name]]
    set.seed(9)
    before <- .Random.seed
    w <- make(seed = 42)(c(6, 4))
    expect_identical(.Random.seed, before)
    expect_identical(make(seed = 42)(c(6, 4)), w)
    expect_false(identical(make(seed = 43)(c(6, 4)), w))
    set.seed(1)
    a <- make()(c(6, 4))
    expect_false(identical(.Random.seed, before))
    set.seed(1)
    expect_identical(make()(c(6, 4)), a)
    expect_false(identical(make()(c(6, 4)), a))
  }
  # a seeded call in a session with no stream yet does not start one
  saved <- .Random.seed
  on.exit(assign(".Random.seed", saved, envir = globalenv()))
  rm(".Random.seed", envir = globalenv())
  initializer_glorot_uniform(seed = 1)(c(3, 3))
  expect_false(exists(".Random.seed", envir = globalenv(), inherits = FALSE))
})

test_that("every initializer's configuration rebuilds it", {
  inits <- list(
    initializer_glorot_uniform(seed = 1), initializer_glorot_normal(),
    initializer_he_uniform(seed = 2), initializer_he_normal(seed = 3),
    initializer_lecun_uniform(seed = 4), initializer_lecun_normal(),
    initializer_random_normal(mean = 1, stddev = 2, seed = 5),
    initializer_random_uniform(minval = -3, maxval = -1, seed = 6),
    initializer_truncated_normal(mean = -1, stddev = 0.1, seed = 7),
    initializer_orthogonal(gain = 1.5, seed = 8), initializer_zeros(), initializer_ones(),
    initializer_constant(0.25)
  )
  for (init in inits) {
    config <- get_config(init)
    rebuilt <- initializer_from_config(config)
    expect_identical(get_config(rebuilt), config)
    expect_identical(class(rebuilt), class(init))
    if (!is.null(config$seed) || !"seed" %in% names(config)) {
      expect_identical(rebuilt(c(4, 3)), init(c(4, 3)))
    }
  }
  expect_identical(get_config(initializer_glorot_uniform(seed = 1)),
                   structure(list(seed = 1L), class_name = "GlorotUniform"))
  expect_identical(get_config(initializer_he_normal()),
                   structure(list(seed = NULL), class_name = "HeNormal"))
  expect_identical(get_config(initializer_random_normal()),
                   structure(list(mean = 0, stddev = 0.05, seed = NULL), class_name = "RandomNormal"))
  expect_identical(get_config(initializer_random_uniform()),
                   structure(list(minval = -0.05, maxval = 0.05, seed = NULL),
                             class_name = "RandomUniform"))
  expect_identical(get_config(initializer_truncated_normal()),
                   structure(list(mean = 0, stddev = 0.05, seed = NULL),
                             class_name = "TruncatedNormal"))
  expect_identical(get_config(initializer_orthogonal()),
                   structure(list(gain = 1, seed = NULL), class_name = "Orthogonal"))
  expect_identical(get_config(initializer_zeros()), structure(list(), class_name = "Zeros"))
  expect_output(print(initializer_random_uniform(seed = 1)),
                "<initializer RandomUniform>\\(minval = -0.05, maxval = 0.05, seed = 1\\)")
  expect_output(print(initializer_he_normal()), "<initializer HeNormal>\\(seed = NULL\\)")
})

test_that("a PReLU layer rebuilds a keras initializer from its configuration", {
  prelu <- layer_activation_parametric_relu(
    alpha_initializer = initializer_random_uniform(0.1, 0.2, seed = 1), input_shape = 3)
  rebuilt <- from_config(get_config(prelu))
  expect_identical(get_config(rebuilt), get_config(prelu))
  expect_identical(get_weights(rebuilt), get_weights(prelu))
})

test_that("initializers by keras name", {
  classes <- c(glorot_uniform = "GlorotUniform", glorot_normal = "GlorotNormal",
               he_uniform = "HeUniform", he_normal = "HeNormal", lecun_uniform = "LecunUniform",
               lecun_normal = "LecunNormal", random_normal = "RandomNormal",
               random_uniform = "RandomUniform", truncated_normal = "TruncatedNormal",
               orthogonal = "Orthogonal", zeros = "Zeros", ones = "Ones", constant = "Constant")
  for (name in names(classes)) {
    expect_identical(attr(as_initializer(name, "init", NULL), "class_name"), classes[[name]])
  }
  expect_identical(as_initializer("constant", "init", NULL)(2), c(0, 0))
  init <- initializer_he_normal()
  expect_identical(as_initializer(init, "init", NULL), init)
  expect_error(as_initializer("glorot", "kernel_initializer", NULL),
               "`kernel_initializer` must be an initializer or one of \"glorot_uniform\"",
               class = "selu_error")
  expect_error(as_initializer(NULL, "kernel_initializer", NULL), "`kernel_initializer`",
               class = "selu_error")
})

test_that("the keras initializers' arguments are checked", {
  for (make in named_initializers[random_initializers]) {
    expect_error(make(seed = "a"), "`seed` must be NULL or a whole number", class = "selu_error")
    expect_error(make(seed = 2^31), "`seed`", class = "selu_error")
  }
  for (make in list(initializer_random_normal, initializer_truncated_normal)) {
    expect_error(make(stddev = 0), "`stddev` must be a single finite number above 0, not a double \\(0\\)",
                 class = "selu_error")
    expect_error(make(stddev = -1), "`stddev`", class = "selu_error")
    expect_error(make(stddev = Inf), "`stddev`", class = "selu_error")
    expect_error(make(stddev = "a"), "`stddev`", class = "selu_error")
    expect_error(make(mean = NA), "`mean` must be a single finite number, not a logical",
                 class = "selu_error")
    expect_error(make(mean = c(1, 2)), "`mean`", class = "selu_error")
    expect_error(make(mean = Inf), "`mean`", class = "selu_error")
  }
  expect_error(initializer_random_uniform(minval = 1), "`minval` \\(1\\) must be below `maxval` \\(0.05\\)",
               class = "selu_error")
  expect_error(initializer_random_uniform(maxval = -0.05), "`minval`.*`maxval`",
               class = "selu_error")
  expect_error(initializer_random_uniform(minval = -Inf), "`minval` must be a single finite number",
               class = "selu_error")
  expect_error(initializer_random_uniform(maxval = list(1)), "`maxval`", class = "selu_error")
  expect_error(initializer_orthogonal(gain = "a"), "`gain` must be a single finite number",
               class = "selu_error")
  expect_error(initializer_orthogonal(gain = NaN), "`gain`", class = "selu_error")
  expect_error(initializer_orthogonal()(c(2, NA)), "`shape` must be fully known", class = "selu_error")
  expect_error(initializer_glorot_uniform()(c(1e6, 1e6)), "`shape`", class = "selu_error_shape")
  expect_error(initializer_orthogonal()(), "`shape` is missing", class = "selu_error")
})

test_that("initializer_from_config() refuses what is not an initializer's configuration", {
  expect_error(initializer_from_config(structure(list(), class_name = "Glorot")),
               "`config` must be the configuration of an initializer", class = "selu_error")
  expect_error(initializer_from_config(list(seed = 1)), "`config`", class = "selu_error")
  expect_error(initializer_from_config(NULL), "`config`", class = "selu_error")
  expect_error(initializer_from_config(structure(list(), class_name = c("Zeros", "Ones"))),
               "`config`", class = "selu_error")
  expect_error(initializer_from_config(structure(list(seed = 1, gain = 2), class_name = "HeNormal")),
               "`config` for a HeNormal may only have the keys `seed`", class = "selu_error")
  expect_error(initializer_from_config(structure(list(seed = "a"), class_name = "HeNormal")),
               "`seed`", class = "selu_error")
  # through from_config(), an error inside the configuration names `config`
  config <- get_config(layer_activation_parametric_relu(input_shape = 2))
  config$alpha_initializer <- structure(list(stddev = -1), class_name = "RandomNormal")
  expect_error(from_config(config), "In `config`: `stddev`", class = "selu_error")
  config$alpha_initializer <- structure(list(), class_name = "Unknown")
  expect_error(from_config(config), "`config` must be the configuration of an initializer selu has, not of the class \"Unknown\"",
               class = "selu_error")
})

test_that("variance scaling: each mode and distribution has keras's variance", {
  shape <- c(1000, 500)
  fans <- c(fan_in = 1000, fan_out = 500, fan_avg = 750)
  for (mode in names(fans)) {
    variance <- 2 / fans[[mode]]
    w <- initializer_variance_scaling(2, mode, "uniform", seed = 1)(shape)
    limit <- sqrt(3 * variance)
    expect_lte(max(abs(w)), limit)
    expect_gt(max(abs(w)), limit * (1 - 1e-4))
    expect_moments(w, 0, sqrt(variance))
    w <- initializer_variance_scaling(2, mode, "untruncated_normal", seed = 2)(shape)
    expect_moments(w, 0, sqrt(variance))
    # beyond 2 sd: 4.55% of a normal, none of a truncated normal
    expect_lt(abs(mean(abs(w) > 2 * sqrt(variance)) - 2 * pnorm(-2)), 5 * 0.21 / sqrt(n_draw))
    for (distribution in c("truncated_normal", "normal")) {
      w <- initializer_variance_scaling(2, mode, distribution, seed = 3)(shape)
      expect_moments(w, 0, sqrt(variance))
      expect_lte(max(abs(w)), 2 * sqrt(variance) / truncated_sd)
    }
  }
  # keras reads "normal" as "truncated_normal", and so does the configuration
  expect_identical(get_config(initializer_variance_scaling(distribution = "normal")),
                   structure(list(scale = 1, mode = "fan_in", distribution = "truncated_normal",
                                  seed = NULL), class_name = "VarianceScaling"))
  # the named ones are cases: LeCun normal is scale 1, fan_in, truncated normal
  expect_identical(initializer_variance_scaling(seed = 4)(c(30, 20)),
                   initializer_lecun_normal(seed = 4)(c(30, 20)))
  expect_identical(initializer_variance_scaling(2, "fan_in", "uniform", seed = 4)(c(30, 20)),
                   initializer_he_uniform(seed = 4)(c(30, 20)))
  # fans below 1 count as 1 (keras: max(1, fan)); a rank-1 shape of 1 has fan 1
  expect_lte(max(abs(initializer_variance_scaling(3, distribution = "uniform", seed = 5)(1))), 3)
})

test_that("variance scaling and identity: arguments checked, configurations rebuilt", {
  expect_error(initializer_variance_scaling(scale = 0), "`scale` must be a single finite number above 0",
               class = "selu_error")
  expect_error(initializer_variance_scaling(mode = "fan"),
               "`mode` must be one of \"fan_in\", \"fan_out\", \"fan_avg\", not the string \"fan\"",
               class = "selu_error")
  expect_error(initializer_variance_scaling(distribution = "gamma"), "`distribution` must be one of",
               class = "selu_error")
  expect_error(initializer_variance_scaling(seed = 0.5), "`seed`", class = "selu_error")
  expect_error(initializer_identity(gain = NA), "`gain`", class = "selu_error")
  expect_error(initializer_identity()(5), "`shape` must have two dimensions", class = "selu_error")
  for (init in list(initializer_variance_scaling(0.5, "fan_avg", "untruncated_normal", seed = 9),
                    initializer_identity(gain = 3))) {
    config <- get_config(init)
    rebuilt <- initializer_from_config(config)
    expect_identical(get_config(rebuilt), config)
    expect_identical(rebuilt(c(3, 4)), init(c(3, 4)))
  }
  expect_identical(initializer_identity(gain = 2)(c(2, 3)), matrix(c(2, 0, 0, 2, 0, 0), 2, 3))
  expect_identical(as_initializer("identity", "init", NULL)(c(2, 2)), diag(2))
})

test_that("keras's and TensorFlow.js's class names and keras's aliases are read", {
  aliases <- list(LeCunNormal = "LecunNormal", LeCunUniform = "LecunUniform", Zero = "Zeros",
                  one = "Ones", uniform = "RandomUniform", normal = "RandomNormal",
                  glorot_uniform = "GlorotUniform")
  for (alias in names(aliases)) {
    init <- initializer_from_config(structure(list(), class_name = alias))
    expect_identical(attr(init, "class_name"), aliases[[alias]])
  }
  expect_identical(attr(initializer_from_config("he_normal"), "class_name"), "HeNormal")
  expect_error(initializer_from_config(structure(list(seed = NULL), class_name = "Glorot")),
               "not of the class \"Glorot\"; selu has \"GlorotUniform\"", class = "selu_error")
})
