# Batch and layer normalization against direct computations, loop by loop;
# gradients against central finite differences (helper-gradient.R).

state_of <- function(layer) selu:::layer_state(layer)

# Batch normalization by hand: for each feature j along `axis`, the values
# of all other axes, mean() and the biased variance.
batch_norm_reference <- function(x, axis, gamma, beta, mean_of = NULL, var_of = NULL,
                                 epsilon = 0.001) {
  out <- x
  index <- rep(list(quote(expr = )), length(dim(x)))
  for (j in seq_len(dim(x)[axis])) {
    index[[axis]] <- j
    v <- do.call(`[`, c(list(x), index))
    m <- if (is.null(mean_of)) mean(v) else mean_of[j]
    s2 <- if (is.null(var_of)) mean((v - m)^2) else var_of[j]
    out <- do.call(`[<-`, c(list(out), index, list(value = gamma[j] * (v - m) / sqrt(s2 + epsilon) + beta[j])))
  }
  out
}

test_that("batch normalization in training normalizes each feature with the batch's statistics", {
  set.seed(10)
  x <- matrix(rnorm(24, mean = 3, sd = 2), 6, 4)
  bn <- layer_batch_normalization(input_shape = 4)
  gamma <- c(0.5, 1, 2, -1)
  beta <- c(0, 1, -1, 0.25)
  set_weights(bn, list(gamma, beta, rep(0, 4), rep(1, 4)))
  y <- bn(x, training = TRUE)
  expect_equal(y, batch_norm_reference(x, 2, gamma, beta), tolerance = 1e-12)
  # gamma 1 and beta 0: mean 0 and variance var / (var + epsilon) per column
  plain <- layer_batch_normalization(epsilon = 1e-8)
  z <- plain(x, training = TRUE)
  expect_equal(colMeans(z), rep(0, 4), tolerance = 1e-12)
  expect_equal(colMeans(z^2), rep(1, 4), tolerance = 1e-6)

  # rank 3, channels second (keras' channels-first axis = 1): the batch and
  # the last axis pooled
  x3 <- array(rnorm(2 * 3 * 5, sd = 4), c(2, 3, 5))
  bn3 <- layer_batch_normalization(axis = 2, gamma_initializer = initializer_constant(1.5),
                                   beta_initializer = initializer_constant(-0.5))
  expect_equal(bn3(x3, training = TRUE), batch_norm_reference(x3, 2, rep(1.5, 3), rep(-0.5, 3)),
               tolerance = 1e-12)
  expect_identical(lengths(get_weights(bn3)), rep(3L, 4))
  # the default, the last axis, of rank 3
  bn_last <- layer_batch_normalization()
  expect_equal(bn_last(x3, training = TRUE), batch_norm_reference(x3, 3, rep(1, 5), rep(0, 5)),
               tolerance = 1e-12)
})

test_that("batch normalization over several axes normalizes each combination", {
  set.seed(11)
  x <- array(rnorm(4 * 2 * 3), c(4, 2, 3))
  bn <- layer_batch_normalization(axis = c(-1, 2))
  y <- bn(x, training = TRUE)
  # keras' parameter shape: 1 along the batch axis
  expect_identical(dim(get_weights(bn)[[1]]), c(1L, 2L, 3L))
  for (j in 1:2) for (k in 1:3) {
    v <- x[, j, k]
    expect_equal(y[, j, k], (v - mean(v)) / sqrt(mean((v - mean(v))^2) + 0.001),
                 tolerance = 1e-12)
  }
})

test_that("the moving statistics follow the momentum rule, with the biased variance", {
  x1 <- cbind(c(1, 2, 3, 6), c(0, 0, 4, 4)) # means 3, 2; variances 3.5, 4
  bn <- layer_batch_normalization(momentum = 0.9)
  bn(x1) # inference does not touch them
  expect_equal(get_weights(bn)[3:4], list(c(0, 0), c(1, 1)))
  bn(x1, training = TRUE)
  expect_equal(get_weights(bn)[[3]], c(0.3, 0.2), tolerance = 1e-14)
  expect_equal(get_weights(bn)[[4]], c(0.9 + 0.35, 0.9 + 0.4), tolerance = 1e-14)
  # means 6, 4; variances 14, 16
  bn(2 * x1, training = TRUE)
  expect_equal(get_weights(bn)[[3]], c(0.87, 0.58), tolerance = 1e-14)
  expect_equal(get_weights(bn)[[4]], c(2.525, 2.77), tolerance = 1e-14)

  # inference now uses them
  expected <- sweep(sweep(x1, 2, c(0.87, 0.58)), 2, sqrt(c(2.525, 2.77) + 0.001), "/")
  expect_equal(bn(x1), expected, tolerance = 1e-14)
  expect_equal(get_weights(bn)[[3]], c(0.87, 0.58), tolerance = 1e-14)

  # an empty batch leaves them as they are; momentum 1 keeps them, 0 copies
  bn(x1[0, , drop = FALSE], training = TRUE)
  expect_equal(get_weights(bn)[[3]], c(0.87, 0.58), tolerance = 1e-14)
  keep <- layer_batch_normalization(momentum = 1)
  keep(x1, training = TRUE)
  expect_identical(get_weights(keep)[3:4], list(c(0, 0), c(1, 1)))
  copy <- layer_batch_normalization(momentum = 0)
  copy(x1, training = TRUE)
  expect_equal(get_weights(copy)[3:4], list(c(3, 2), c(3.5, 4)))
})

test_that("a frozen batch normalization runs in inference mode, as in keras 2", {
  x <- cbind(c(1, 2, 3, 6), c(0, 0, 4, 4))
  bn <- layer_batch_normalization(trainable = FALSE, input_shape = 2)
  set_weights(bn, list(c(1, 1), c(0, 0), c(1, 2), c(4, 9)))
  y <- bn(x, training = TRUE)
  expect_equal(y, sweep(sweep(x, 2, c(1, 2)), 2, sqrt(c(4, 9) + 0.001), "/"), tolerance = 1e-14)
  expect_identical(get_weights(bn)[3:4], list(c(1, 2), c(4, 9)))
  # freeze_weights() on the layer itself, and back
  live <- layer_batch_normalization(input_shape = 2)
  freeze_weights(live)
  live(x, training = TRUE)
  expect_identical(get_weights(live)[3:4], list(c(0, 0), c(1, 1)))
  unfreeze_weights(live)
  live(x, training = TRUE)
  expect_equal(get_weights(live)[[3]], c(0.03, 0.02), tolerance = 1e-14)
  # a negative moving variance gives NaN, quietly, as in keras
  set_weights(bn, list(c(1, 1), c(0, 0), c(0, 0), c(-1, 1)))
  expect_no_warning(y <- bn(x))
  expect_true(all(is.nan(y[, 1])))
})

test_that("layer normalization normalizes each sample over its axes", {
  set.seed(12)
  x <- matrix(rnorm(15, sd = 3), 3, 5)
  ln <- layer_layer_normalization()
  gamma <- seq(0.5, 2.5, length.out = 5)
  beta <- c(-1, 0, 1, 2, 3)
  y <- ln(x)
  set_weights(ln, list(gamma, beta))
  y <- ln(x)
  for (i in 1:3) {
    v <- x[i, ]
    m <- mean(v)
    expect_equal(y[i, ], gamma * (v - m) / sqrt(mean((v - m)^2) + 0.001) + beta,
                 tolerance = 1e-12)
  }
  expect_identical(ln(x, training = TRUE), y) # the same in training

  # over the last two axes of rank 3: gamma 3 x 4, per sample
  x3 <- array(rnorm(2 * 3 * 4), c(2, 3, 4))
  ln2 <- layer_layer_normalization(axis = c(2, 3), epsilon = 0.01)
  y3 <- ln2(x3)
  expect_identical(dim(get_weights(ln2)[[1]]), c(3L, 4L))
  for (i in 1:2) {
    v <- x3[i, , ]
    expect_equal(y3[i, , ], (v - mean(v)) / sqrt(mean((v - mean(v))^2) + 0.01),
                 tolerance = 1e-12)
  }
  # over the middle axis alone: each (sample, last-axis) pair on its own
  ln_mid <- layer_layer_normalization(axis = 2, gamma_initializer = initializer_constant(2))
  y_mid <- ln_mid(x3)
  for (i in 1:2) for (k in 1:4) {
    v <- x3[i, , k]
    expect_equal(y_mid[i, , k], 2 * (v - mean(v)) / sqrt(mean((v - mean(v))^2) + 0.001),
                 tolerance = 1e-12)
  }
})

test_that("center and scale leave beta and gamma out", {
  x <- cbind(c(1, 2, 3, 6), c(0, 0, 4, 4))
  bn <- layer_batch_normalization(center = FALSE, input_shape = 2)
  expect_length(get_weights(bn), 3)
  expect_named(state_of(bn)$weights, c("gamma", "moving_mean", "moving_variance"))
  bare <- layer_batch_normalization(center = FALSE, scale = FALSE, input_shape = 2)
  expect_named(state_of(bare)$weights, c("moving_mean", "moving_variance"))
  expect_equal(bare(x, training = TRUE), batch_norm_reference(x, 2, c(1, 1), c(0, 0)),
               tolerance = 1e-14)
  ln <- layer_layer_normalization(scale = FALSE, beta_initializer = initializer_constant(3),
                                  input_shape = 2)
  expect_named(state_of(ln)$weights, "beta")
  expect_equal(ln(x)[1, ], c(0.5, -0.5) / sqrt(0.25 + 0.001) + 3, tolerance = 1e-14)
})

# The gradients of sum(layer(x) * r) against central differences, for x and
# for the trainable weights; `make` gives a built layer with the same
# weights each time, so that every evaluation starts from the same moving
# statistics.
check_normalization_gradients <- function(make, x, training, tolerance = 1e-6) {
  set.seed(98)
  r <- array(rnorm(length(x)), dim(x))
  layer <- make()
  selu:::build_layer(state_of(layer), dim(x), call = NULL)
  grads <- layer_gradients(layer, x, r, training)
  expect_equal(grads$x, numeric_gradient(function(input) sum(make()(input, training = training) * r), x),
               tolerance = tolerance)
  trainable <- setdiff(names(state_of(layer)$weights), state_of(layer)$non_trainable)
  if (length(trainable)) expect_named(grads$weights, trainable)
  else expect_length(grads$weights, 0)
  for (name in trainable) {
    fresh <- make()
    selu:::build_layer(state_of(fresh), dim(x), call = NULL)
    loss_w <- function(w) with_weight(fresh, name, w, sum(fresh(x, training = training) * r))
    expect_equal(grads$weights[[name]], numeric_gradient(loss_w, state_of(fresh)$weights[[name]]),
                 tolerance = tolerance, label = name)
  }
  invisible(grads)
}

test_that("batch normalization's gradients match finite differences, training and inference", {
  set.seed(13)
  x <- matrix(rnorm(20, mean = 1, sd = 2), 5, 4)
  make <- function() {
    bn <- layer_batch_normalization(input_shape = 4)
    set_weights(bn, list(c(0.5, 1.5, -1, 2), c(0.1, -0.2, 0.3, 0), c(0.5, 1, 0, -1),
                         c(2, 0.5, 1, 3)))
    bn
  }
  for (training in c(TRUE, FALSE)) {
    grads <- check_normalization_gradients(make, x, training)
    expect_named(grads$weights, c("gamma", "beta"))
  }
  # in training the gradient for x sums to 0 per feature: the mean is taken out
  expect_equal(colSums(layer_gradients(make(), x, x^2, TRUE)$x), rep(0, 4), tolerance = 1e-12)

  # without beta and gamma, over a middle axis and over two axes of rank 3
  bare <- function() layer_batch_normalization(center = FALSE, scale = FALSE)
  expect_length(check_normalization_gradients(bare, x, TRUE)$weights, 0)
  x3 <- array(rnorm(3 * 2 * 4, sd = 2), c(3, 2, 4))
  for (axis in list(2, c(2, 3))) {
    for (training in c(TRUE, FALSE)) {
      make3 <- function() {
        bn <- layer_batch_normalization(axis = axis, momentum = 0.5,
                                        gamma_initializer = initializer_random_normal(seed = 1),
                                        beta_initializer = initializer_random_normal(seed = 2),
                                        moving_mean_initializer = initializer_random_normal(seed = 3),
                                        moving_variance_initializer = initializer_constant(2))
        bn(x3, training = TRUE) # moving statistics away from their start
        bn
      }
      check_normalization_gradients(make3, x3, training)
    }
  }
})

test_that("layer normalization's gradients match finite differences", {
  set.seed(14)
  x <- matrix(rnorm(12, sd = 2), 3, 4)
  make <- function() {
    layer_layer_normalization(gamma_initializer = initializer_random_normal(seed = 4),
                              beta_initializer = initializer_random_normal(seed = 5))
  }
  grads <- check_normalization_gradients(make, x, FALSE)
  expect_named(grads$weights, c("gamma", "beta"))
  check_normalization_gradients(make, x, TRUE)
  x3 <- array(rnorm(2 * 3 * 4), c(2, 3, 4))
  for (axis in list(2, c(-2, -1), 3)) {
    check_normalization_gradients(function() {
      layer_layer_normalization(axis = axis, center = FALSE,
                                gamma_initializer = initializer_random_uniform(seed = 6))
    }, x3, FALSE)
  }
})

test_that("backward() takes batch normalization in either mode", {
  x <- cbind(c(1, 2, 3, 6), c(0, 0, 4, 4))
  bn <- layer_batch_normalization()
  # inference: gamma / sqrt(moving variance + epsilon), here 1 / sqrt(1.001)
  expect_equal(backward(bn, x, 1), matrix(1 / sqrt(1.001), 4, 2), tolerance = 1e-14)
  # training: the output's column sums do not depend on x, so a constant
  # gradient gives 0
  expect_equal(backward(bn, x, 1, training = TRUE), x * 0, tolerance = 1e-12)
})

test_that("fit() trains a model with batch normalization; the optimizer leaves the moving statistics", {
  set.seed(15)
  x <- matrix(rnorm(40 * 3, mean = 2, sd = 3), 40, 3)
  y <- as.vector(x %*% c(1, -2, 0.5)) + 1
  model <- keras_model_sequential(input_shape = 3) |>
    layer_batch_normalization(momentum = 0.8, name = "bn") |>
    layer_dense(1, kernel_initializer = initializer_constant(0.1), name = "out")
  # weight decay would shrink any weight the optimizer held
  compile(model, optimizer = optimizer_sgd(0.01, weight_decay = 0.1), loss = "mse")
  program <- selu:::model_program(selu:::model_state(model)$steps, c(NA, 3L), "train")
  trains <- vapply(program$params, function(p) p$trainable, TRUE)
  expect_setequal(program$keys[trains], c("bn/gamma", "bn/beta", "out/kernel", "out/bias"))
  history <- fit(model, x, y, batch_size = 10, epochs = 10, shuffle = FALSE, verbose = 0)
  expect_lt(history$metrics$loss[10], history$metrics$loss[1] / 4)
  # the moving statistics by the momentum rule over the 40 batches, by hand
  moving_mean <- c(0, 0, 0)
  moving_var <- c(1, 1, 1)
  for (epoch in 1:10) for (b in 1:4) {
    xb <- x[(b - 1) * 10 + 1:10, ]
    for (j in 1:3) {
      m <- mean(xb[, j])
      moving_mean[j] <- 0.8 * moving_mean[j] + 0.2 * m
      moving_var[j] <- 0.8 * moving_var[j] + 0.2 * mean((xb[, j] - m)^2)
    }
  }
  weights <- get_weights(model)
  expect_equal(weights[[3]], moving_mean, tolerance = 1e-12)
  expect_equal(weights[[4]], moving_var, tolerance = 1e-12)
  # gamma and beta did train
  expect_false(isTRUE(all.equal(weights[[1]], c(1, 1, 1))))
  expect_false(isTRUE(all.equal(weights[[2]], c(0, 0, 0))))

  # a deeper model: batch normalization between dense layers
  set.seed(16)
  deep <- keras_model_sequential(input_shape = 3) |>
    layer_dense(8, kernel_initializer = initializer_lecun_normal(seed = 1)) |>
    layer_batch_normalization() |>
    layer_activation("selu") |>
    layer_dense(1, kernel_initializer = initializer_lecun_normal(seed = 2))
  compile(deep, optimizer = optimizer_adam(0.02), loss = "mse")
  history <- fit(deep, scale(x), as.vector(scale(y)), batch_size = 8, epochs = 15, verbose = 0)
  expect_lt(history$metrics$loss[15], history$metrics$loss[1] / 2)
  expect_true(all(is.finite(predict(deep, scale(x)))))

  # frozen: neither gamma and beta nor the moving statistics change
  freeze_weights(model, from = "bn", to = "bn")
  before <- get_weights(model)[1:4]
  fit(model, x, y, batch_size = 10, epochs = 1, verbose = 0)
  expect_identical(get_weights(model)[1:4], before)
})

test_that("summary() counts the moving statistics as non-trainable", {
  totals <- function(model) {
    lines <- summary(model)
    as.numeric(gsub("[^0-9]", "", grep("params:", lines, value = TRUE)))
  }
  model <- keras_model_sequential(input_shape = 4) |>
    layer_dense(8) |>
    layer_batch_normalization() |>
    layer_dense(1)
  expect_identical(totals(model), c(40 + 32 + 9, 40 + 16 + 9, 16))
  # the long "name (class)" is kept apart from the shape
  expect_match(capture.output(summary(model)), "\\(BatchNormalization\\) \\(None, 8\\) +32$", all = FALSE)
  no_beta <- keras_model_sequential(input_shape = 4) |> layer_batch_normalization(center = FALSE)
  expect_identical(totals(no_beta), c(12, 4, 8))
  frozen <- keras_model_sequential(input_shape = 4) |> layer_batch_normalization(trainable = FALSE)
  expect_identical(totals(frozen), c(16, 0, 16))
  ln <- keras_model_sequential(input_shape = c(3, 4)) |> layer_layer_normalization(axis = c(2, 3))
  expect_identical(totals(ln), c(24, 24, 0))
  expect_identical(count_params(ln), 24L)
})

test_that("configurations round trip with keras' keys", {
  bn <- layer_batch_normalization(axis = 2, momentum = 0.9, epsilon = 1e-5, center = FALSE,
                                  gamma_initializer = initializer_random_normal(seed = 1),
                                  moving_variance_initializer = initializer_constant(2),
                                  gamma_regularizer = regularizer_l2(0.1),
                                  gamma_constraint = constraint_nonneg(), name = "bn",
                                  input_shape = c(3, 5))
  config <- get_config(bn)
  expect_identical(attr(config, "class_name"), "BatchNormalization")
  expect_named(config, c("name", "trainable", "dtype", "batch_input_shape", "axis", "momentum",
                         "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
                         "moving_mean_initializer", "moving_variance_initializer",
                         "beta_regularizer", "gamma_regularizer", "beta_constraint",
                         "gamma_constraint"))
  expect_identical(config$axis, 2L)
  again <- from_config(config)
  expect_identical(get_config(again), config)
  expect_identical(get_weights(again), get_weights(bn))
  expect_false(is.null(state_of(again)$regularizers$gamma))

  ln <- layer_layer_normalization(axis = c(-2, -1), epsilon = 0.01, scale = FALSE,
                                  beta_regularizer = regularizer_l1(0.2),
                                  beta_constraint = constraint_maxnorm(2))
  config <- get_config(ln)
  expect_identical(attr(config, "class_name"), "LayerNormalization")
  expect_named(config, c("name", "trainable", "dtype", "axis", "epsilon", "center", "scale",
                         "beta_initializer", "gamma_initializer", "beta_regularizer",
                         "gamma_regularizer", "beta_constraint", "gamma_constraint"))
  expect_identical(get_config(from_config(config)), config)

  # in a model's configuration as well
  model <- keras_model_sequential(input_shape = 3) |> layer_batch_normalization(name = "b")
  expect_identical(get_config(from_config(get_config(model))), get_config(model))
})

test_that("the layers name themselves as keras, take weights and work in models", {
  k_clear_session()
  expect_identical(layer_batch_normalization()$name, "batch_normalization")
  expect_identical(layer_batch_normalization()$name, "batch_normalization_1")
  expect_identical(layer_layer_normalization()$name, "layer_normalization")
  bn <- layer_batch_normalization(weights = list(1:2, 3:4, 5:6, 7:8), input_shape = 2)
  expect_identical(get_weights(bn), list(c(1, 2), c(3, 4), c(5, 6), c(7, 8)))
  model <- keras_model_sequential(input_shape = c(3, 4)) |>
    layer_batch_normalization(axis = 2) |>
    layer_layer_normalization()
  expect_identical(compute_output_shape(model, c(NA, 3, 4)), c(NA, 3L, 4L))
  expect_identical(dim(predict(model, array(1, c(5, 3, 4)))), c(5L, 3L, 4L))
  input <- layer_input(shape = c(2, 6))
  expect_identical(layer_batch_normalization(input)$shape, c(NA, 2L, 6L))
  # float32 rounds the output
  f32 <- layer_layer_normalization(dtype = "float32")
  y <- f32(matrix(c(1, 2, 4), 1))
  expect_identical(y, selu:::as_float32_values(y))
})

test_that("every mistake is a classed error naming the argument", {
  x <- matrix(rnorm(8), 4, 2)
  for (f in list(layer_batch_normalization, layer_layer_normalization)) {
    for (axis in list(0, 1, c(2, 2), "a", NA, integer(0), 2.5, c(-1, 1), list(2))) {
      expect_error(f(axis = axis), class = "selu_error", regexp = "`axis`")
    }
    expect_error(f(axis = 3)(x), class = "selu_error_shape", regexp = "`axis` = 3 is out of range for `inputs`")
    expect_error(f(axis = -2)(x), class = "selu_error_shape", regexp = "`axis` = -2 is the batch axis")
    expect_error(f(axis = c(2, -1))(x), class = "selu_error_shape", regexp = "names axis 2 twice")
    expect_error(f()(1:3), class = "selu_error_shape", regexp = "batch axis of `inputs`")
    expect_error(f(input_shape = list(NULL)), class = "selu_error_shape",
                 regexp = "known, non-empty dimensions along `axis`.*`input_shape`")
    expect_error(f()(matrix(0, 2, 0)), class = "selu_error_shape", regexp = "non-empty")
    expect_error(f(input_shape = 3)(x), class = "selu_error_shape", regexp = "expects input of shape")
    for (epsilon in list(0, -1, NA, "a", Inf, c(1, 2))) {
      expect_error(f(epsilon = epsilon), class = "selu_error", regexp = "`epsilon` must be a single finite number above 0")
    }
    expect_error(f(center = NA), class = "selu_error", regexp = "`center` must be TRUE or FALSE")
    expect_error(f(scale = "yes"), class = "selu_error", regexp = "`scale` must be TRUE or FALSE")
    expect_error(f(beta_initializer = "nope"), class = "selu_error", regexp = "`beta_initializer`")
    expect_error(f(gamma_initializer = 1), class = "selu_error", regexp = "`gamma_initializer`")
    expect_error(f(beta_regularizer = "l3"), class = "selu_error", regexp = "`beta_regularizer`")
    expect_error(f(gamma_regularizer = 1), class = "selu_error", regexp = "`gamma_regularizer`")
    expect_error(f(beta_constraint = "x"), class = "selu_error", regexp = "`beta_constraint`")
    expect_error(f(gamma_constraint = list()), class = "selu_error", regexp = "`gamma_constraint`")
    expect_error(f(weights = list(1)), class = "selu_error", regexp = "`weights`")
    expect_error(f(name = 1), class = "selu_error", regexp = "`name`")
    expect_error(f(x, trainable = "no"), class = "selu_error", regexp = "`trainable`")
    expect_error(f(object = "a"), class = "selu_error", regexp = "`object`")
    expect_error(f()(x, training = NA), class = "selu_error", regexp = "`training`")
  }
  for (momentum in list(-0.1, 1.5, NA, "a", NULL, c(0.5, 0.5))) {
    expect_error(layer_batch_normalization(momentum = momentum), class = "selu_error",
                 regexp = "`momentum` must be a single finite number from 0 to 1")
  }
  expect_error(layer_batch_normalization(moving_mean_initializer = "nope"), class = "selu_error",
               regexp = "`moving_mean_initializer`")
  expect_error(layer_batch_normalization(moving_variance_initializer = NULL),
               class = "selu_error", regexp = "`moving_variance_initializer`")
  expect_error(layer_batch_normalization(weights = list(1, 2)), class = "selu_error",
               regexp = "expects 4 weights, but 2 were given")
  expect_error(layer_batch_normalization(weights = list(1, 2, 3, 4), input_shape = 2),
               class = "selu_error", regexp = "`weights\\[\\[1\\]\\]`")
  # keras' TensorFlow-only arguments: their defaults only
  expect_s3_class(layer_batch_normalization(renorm = FALSE, fused = TRUE, virtual_batch_size = NULL,
                                            renorm_momentum = 0.99, synchronized = FALSE),
                  "selu_layer")
  expect_error(layer_batch_normalization(renorm = TRUE), class = "selu_error", regexp = "`renorm`")
  expect_error(layer_batch_normalization(virtual_batch_size = 4), class = "selu_error",
               regexp = "`virtual_batch_size`")
  expect_error(layer_batch_normalization(fused = NA), class = "selu_error", regexp = "`fused`")
  expect_error(layer_batch_normalization(adjustment = identity), class = "selu_error",
               regexp = "`adjustment`")
  expect_error(layer_batch_normalization(foo = 1), class = "selu_error", regexp = "Unknown argument: `foo`")
  expect_error(layer_layer_normalization(foo = 1), class = "selu_error",
               regexp = "Unknown argument: `foo`")
  # configurations
  config <- get_config(layer_batch_normalization())
  config$gamma_initializer <- "ones"  # a name, as keras reads it
  expect_identical(attr(get_config(from_config(config))$gamma_initializer, "class_name"), "Ones")
  config$gamma_initializer <- "nonsense"
  expect_error(from_config(config), class = "selu_error", regexp = "`config`.*\"nonsense\"")
  config <- get_config(layer_layer_normalization())
  config$momentum <- 0.5
  expect_error(from_config(config), class = "selu_error", regexp = "`config` for a LayerNormalization may only have")
})
