# The references are the published update rules of keras >= 2.11
# (keras/optimizers/*.py, optimizer.py), worked by hand into closed forms
# for the first steps, and a per-element scalar loop written from the
# papers' forms for several steps; and for Nadam, Adamax, AdamW and Adadelta
# three steps frozen from torch.optim (where its rule is keras's) or from
# keras's rules computed on torch tensors (scripts/make-optimizer-references.py,
# fixtures/optimizers.json). No TensorFlow is at hand to compare with.

one_step <- function(opt, w, g) {
  optimizer_apply(opt, list(w = w), list(w = g))$w
}

test_that("SGD: plain, momentum and Nesterov steps", {
  w <- c(1, -2, 0.5)
  g <- c(0.3, -0.4, 2)
  expect_equal(one_step(optimizer_sgd(learning_rate = 0.1), w, g), c(0.97, -1.96, 0.3))
  # velocity -0.05, then -0.9 * 0.05 - 0.05 = -0.095, for w = 1 and g = 0.5
  opt <- optimizer_sgd(learning_rate = 0.1, momentum = 0.9)
  expect_equal(one_step(opt, 1, 0.5), 0.95)
  expect_equal(one_step(opt, 0.95, 0.5), 0.855)
  # Nesterov: w + 0.9 * v - 0.1 * g, v as above
  opt <- optimizer_sgd(learning_rate = 0.1, momentum = 0.9, nesterov = TRUE)
  expect_equal(one_step(opt, 1, 0.5), 0.905)
  expect_equal(one_step(opt, 0.905, 0.5), 0.7695)
  # momentum 0 keeps no slot
  expect_identical(optimizer_state(optimizer_sgd()), list(iterations = 0))
})

test_that("Adam's first step and its bias correction", {
  w <- c(1, -2, 0.5, 3)
  g <- c(0.3, -0.4, 2, 0)
  # m = 0.1 g, v = 0.001 g^2, step lr * sqrt(0.001) / 0.1 * m / (sqrt(v) + eps)
  # = lr * g / (|g| + eps / sqrt(0.001))
  expect_equal(one_step(optimizer_adam(learning_rate = 0.01), w, g),
               w - 0.01 * g / (abs(g) + 1e-7 / sqrt(0.001)))
  # without epsilon, each step of a constant gradient is lr * sign(g) exactly
  opt <- optimizer_adam(learning_rate = 0.01, epsilon = 0)
  x <- c(1, -2)
  for (i in 1:5) x <- one_step(opt, x, c(0.7, -3))
  expect_equal(x, c(1 - 0.05, -2 + 0.05))
})

test_that("AMSGrad keeps the largest second moment", {
  # beta 0.5: m = 0.5, v = 0.5 after g = 1; then g = 0: m = 0.25, v = 0.25,
  # vhat = 0.5, and the step size lr * sqrt(0.75) / 0.75 at t = 2
  ams <- optimizer_adam(learning_rate = 0.1, beta_1 = 0.5, beta_2 = 0.5, epsilon = 0,
                        amsgrad = TRUE)
  plain <- optimizer_adam(learning_rate = 0.1, beta_1 = 0.5, beta_2 = 0.5, epsilon = 0)
  expect_equal(one_step(ams, 1, 1), 0.9)
  expect_equal(one_step(ams, 0.9, 0), 0.9 - 0.1 * 0.25 / sqrt(0.375))
  expect_equal(one_step(plain, 1, 1), 0.9)
  expect_equal(one_step(plain, 0.9, 0), 0.9 - 0.05 / sqrt(0.75))
  expect_named(optimizer_state(ams), c("iterations", "m", "v", "vhat"))
  expect_equal(optimizer_state(ams)$vhat$w, 0.5)
})

test_that("RMSprop: plain, centered and with momentum", {
  # velocity 0.1 g^2: the first step is lr / sqrt(0.1) * sign(g) without epsilon
  g <- c(0.3, -2)
  expect_equal(one_step(optimizer_rmsprop(learning_rate = 0.1, epsilon = 0), c(1, 1), g),
               1 - 0.1 / sqrt(0.1) * sign(g))
  expect_equal(one_step(optimizer_rmsprop(learning_rate = 0.1), 1, 0.3),
               1 - 0.1 * 0.3 / sqrt(0.1 * 0.09 + 1e-7))
  # centered: 0.1 g^2 - (0.1 g)^2 = 0.09 g^2
  expect_equal(one_step(optimizer_rmsprop(learning_rate = 0.1, epsilon = 0, centered = TRUE),
                        c(1, 1), g), 1 - 0.1 / 0.3 * sign(g))
  # momentum 0.5, constant g: increments lr / sqrt(0.1), then lr / sqrt(0.19)
  # (velocity 0.19 g^2); the second step moves 0.5 * first + second
  opt <- optimizer_rmsprop(learning_rate = 0.1, momentum = 0.5, epsilon = 0)
  first <- 0.1 / sqrt(0.1)
  expect_equal(one_step(opt, 1, 2), 1 - first)
  expect_equal(one_step(opt, 1 - first, 2), 1 - first - (0.5 * first + 0.1 / sqrt(0.19)))
  expect_named(optimizer_state(opt), c("iterations", "velocity", "momentum"))
  expect_named(optimizer_state(optimizer_rmsprop(centered = TRUE)),
               c("iterations", "velocity", "average_gradient"))
})

test_that("Adagrad starts its accumulator at initial_accumulator_value", {
  # 0.16 + 0.3^2 = 0.25: a step of lr * 0.3 / 0.5
  opt <- optimizer_adagrad(learning_rate = 0.1, initial_accumulator_value = 0.16, epsilon = 0)
  expect_equal(one_step(opt, c(1, 2, 3), c(0.3, -0.3, 0)), c(0.94, 2.06, 3))
  expect_equal(optimizer_state(opt)$accumulator$w, c(0.25, 0.25, 0.16))
  expect_equal(one_step(optimizer_adagrad(), 1, 0.3), 1 - 0.001 * 0.3 / sqrt(0.19 + 1e-7))
})

test_that("Nadam's first step and its momentum schedule", {
  # u_1 = 0.9 * (1 - 0.96 / 2) = 0.468, u_2 = 0.9 * (1 - 0.9216 / 2) = 0.48528;
  # m = 0.1 g and v / (1 - 0.999) = g^2: without epsilon the step is
  # lr sign(g) (0.048528 / (1 - 0.468 * 0.48528) + 0.532 / 0.532)
  g <- c(0.3, -2, 5)
  step <- 0.01 * (1 + 0.048528 / (1 - 0.468 * 0.48528))
  expect_equal(one_step(optimizer_nadam(learning_rate = 0.01, epsilon = 0), c(1, 1, 1), g),
               1 - step * sign(g))
  expect_named(optimizer_state(optimizer_nadam()), c("iterations", "m", "v"))
})

test_that("Adamax divides by the decayed largest gradient", {
  # m = 0.1 g, u = |g|, bias 0.1: lr g / (|g| + eps); with epsilon 0 and a
  # constant gradient every step is lr sign(g), u staying |g|
  g <- c(0.3, -2)
  expect_equal(one_step(optimizer_adamax(learning_rate = 0.1), c(1, 1), g),
               1 - 0.1 * g / (abs(g) + 1e-7))
  opt <- optimizer_adamax(learning_rate = 0.1, epsilon = 0)
  x <- c(1, 1)
  for (i in 1:4) x <- one_step(opt, x, g)
  expect_equal(x, 1 - 0.4 * sign(g))
  expect_equal(optimizer_state(opt)$u$w, abs(g))
  # a smaller gradient leaves u at beta_2 u
  one_step(opt, x, g / 10)
  expect_equal(optimizer_state(opt)$u$w, 0.999 * abs(g))
})

test_that("AdamW is Adam with its weight decay, which it requires", {
  g <- c(0.3, -2)
  adamw <- one_step(optimizer_adamw(learning_rate = 0.01, weight_decay = 0.5), c(1, 2), g)
  adam <- one_step(optimizer_adam(learning_rate = 0.01, weight_decay = 0.5), c(1, 2), g)
  expect_identical(adamw, adam)
  # the default decay 0.004: w (1 - 0.004 lr) first
  expect_equal(one_step(optimizer_adamw(learning_rate = 0.1, epsilon = 0), 2, 3),
               2 - 2 * 0.004 * 0.1 - 0.1)
  expect_identical(optimizer_adamw()$weight_decay, 0.004)
  expect_error(optimizer_adamw(weight_decay = NULL), class = "selu_error",
               "`weight_decay` must be a single finite number of at least 0 for AdamW, not NULL")
  expect_named(optimizer_state(optimizer_adamw(amsgrad = TRUE)), c("iterations", "m", "v", "vhat"))
})

test_that("Adadelta scales by the ratio of the updates' and the gradients' mean squares", {
  # rho 0.5, epsilon 1, g = 2: a = 2, delta = -2 / sqrt(3), D = 2 / 3; then
  # a = 3, delta = -2 sqrt(5 / 3) / 2
  opt <- optimizer_adadelta(learning_rate = 0.5, rho = 0.5, epsilon = 1)
  expect_equal(one_step(opt, 1, 2), 1 - 0.5 * 2 / sqrt(3))
  expect_equal(optimizer_state(opt)$accumulated_delta_var$w, 2 / 3)
  expect_equal(one_step(opt, 0, 2), -0.5 * sqrt(5 / 3))
  expect_named(optimizer_state(opt), c("iterations", "accumulated_grad", "accumulated_delta_var"))
})

test_that("Ftrl solves the weight from its linear term; l1 holds weights at 0", {
  # n 0.1 + 0.09 = 0.19, z = 0.3 - (sqrt(0.19) - sqrt(0.1)) / lr * w
  # w = -z / (sqrt(0.19) / lr)
  opt <- optimizer_ftrl(learning_rate = 0.1)
  z <- 0.3 - (sqrt(0.19) - sqrt(0.1)) / 0.1 * 2
  expect_equal(one_step(opt, 2, 0.3), -z * 0.1 / sqrt(0.19))
  expect_equal(optimizer_state(opt)$accumulator$w, 0.19)
  expect_equal(optimizer_state(opt)$linear$w, z)
  # from 0 with no initial accumulation: -lr sign(g), like Adagrad's first step
  expect_equal(one_step(optimizer_ftrl(learning_rate = 0.1, initial_accumulator_value = 0), c(0, 0),
                        c(0.3, -2)), c(-0.1, 0.1))
  # |z| within l1: exactly 0
  expect_identical(one_step(optimizer_ftrl(learning_rate = 0.1, l1_regularization_strength = 0.5),
                            0, 0.3), 0)
  # l2 and beta add to the denominator: 2 l2 + beta / lr
  expect_equal(one_step(optimizer_ftrl(learning_rate = 0.1, l2_regularization_strength = 0.25,
                                       beta = 0.1), 0, 0.3),
               -0.3 / (sqrt(0.19) / 0.1 + 0.5 + 1))
})

test_that("weight decay shrinks the weights by lr * weight_decay before the step", {
  # 2 - 2 * 0.5 * 0.1 = 1.9, then - 0.1 * 1
  expect_equal(one_step(optimizer_sgd(learning_rate = 0.1, weight_decay = 0.5), 2, 1), 1.8)
  # Adam without epsilon: 0.9 * 3 - lr
  expect_equal(one_step(optimizer_adam(learning_rate = 0.1, weight_decay = 1, epsilon = 0), 3, -4),
               2.7 + 0.1)
  expect_equal(one_step(optimizer_adagrad(learning_rate = 0.1, weight_decay = 0.2,
                                          initial_accumulator_value = 0.16, epsilon = 0), 1, 0.3),
               0.98 - 0.06)
  expect_equal(one_step(optimizer_rmsprop(learning_rate = 0.1, weight_decay = 0), 1, 0.3),
               one_step(optimizer_rmsprop(learning_rate = 0.1), 1, 0.3))
})

test_that("gradients are clipped by norm, global norm or value, one rule as in keras", {
  w <- list(a = c(0, 0), b = c(0, 0))
  g <- list(a = c(3, 4), b = c(0.1, 0))
  sgd <- function(...) optimizer_apply(optimizer_sgd(learning_rate = 1, ...), w, g)
  # each gradient to norm at most 1: (3, 4) / 5; (0.1, 0) as it is
  expect_equal(sgd(clipnorm = 1), list(a = c(-0.6, -0.8), b = c(-0.1, 0)))
  # all together: norm sqrt(25 + 0.01), scaled to 2
  scale <- 2 / sqrt(25.01)
  expect_equal(sgd(global_clipnorm = 2), list(a = -c(3, 4) * scale, b = c(-0.1, 0) * scale))
  # within the bound, unchanged exactly
  expect_identical(sgd(global_clipnorm = 49), list(a = c(-3, -4), b = c(-0.1, 0)))
  expect_identical(sgd(clipnorm = 49), list(a = c(-3, -4), b = c(-0.1, 0)))
  expect_equal(sgd(clipvalue = 0.5), list(a = c(-0.5, -0.5), b = c(-0.1, 0)))
  # keras applies clipnorm and ignores clipvalue when both are given
  expect_equal(sgd(clipnorm = 10, clipvalue = 0.5), list(a = c(-3, -4), b = c(-0.1, 0)))
  expect_equal(sgd(global_clipnorm = 10, clipvalue = 0.5), list(a = c(-3, -4), b = c(-0.1, 0)))
  # a non-finite global norm makes every gradient NaN, as tf.clip_by_global_norm
  out <- optimizer_apply(optimizer_sgd(global_clipnorm = 1), w, list(a = c(Inf, 0), b = c(1, 1)))
  expect_true(all(is.nan(unlist(out))))
  # clipping comes before Adam's moments: the clipped (0.6, 0.8) in m
  opt <- optimizer_adam(clipnorm = 1)
  optimizer_apply(opt, w, g)
  expect_equal(optimizer_state(opt)$m$a, 0.1 * c(0.6, 0.8))
})

# The per-element reference: one scalar at a time, Adam and RMSprop in the
# forms of their papers (bias-corrected moments, with keras's epsilon hat
# turned into the paper's epsilon), clipping from norms summed in loops.
reference_run <- function(kind, config, w, gradient, steps) {
  lr <- config$learning_rate
  n <- length(w)
  groups <- config$groups
  s1 <- rep(if (kind %in% c("Adagrad", "Ftrl")) config$initial_accumulator_value else 0, n)
  s2 <- s3 <- rep(0, n)
  product <- 1 # Nadam's u_1 ... u_t
  for (t in seq_len(steps)) {
    g <- gradient(w)
    if (!is.null(config$clipnorm)) {
      for (group in unique(groups)) {
        idx <- which(groups == group)
        total <- 0
        for (i in idx) total <- total + g[i] * g[i]
        if (sqrt(total) > config$clipnorm) for (i in idx) g[i] <- g[i] * config$clipnorm / sqrt(total)
      }
    } else if (!is.null(config$global_clipnorm)) {
      total <- 0
      for (i in seq_len(n)) total <- total + g[i] * g[i]
      if (sqrt(total) > config$global_clipnorm) g <- g * (config$global_clipnorm / sqrt(total))
    } else if (!is.null(config$clipvalue)) {
      for (i in seq_len(n)) g[i] <- max(-config$clipvalue, min(config$clipvalue, g[i]))
    }
    for (i in seq_len(n)) {
      if (!is.null(config$weight_decay)) w[i] <- w[i] * (1 - lr * config$weight_decay)
      gi <- g[i]
      if (kind == "SGD") {
        mu <- config$momentum
        s1[i] <- mu * s1[i] - lr * gi
        w[i] <- if (config$nesterov) w[i] + mu * s1[i] - lr * gi else w[i] + s1[i]
      } else if (kind %in% c("Adam", "AdamW")) {
        b1 <- config$beta_1
        b2 <- config$beta_2
        s1[i] <- b1 * s1[i] + (1 - b1) * gi
        s2[i] <- b2 * s2[i] + (1 - b2) * gi^2
        s3[i] <- if (config$amsgrad) max(s3[i], s2[i]) else s2[i]
        m_hat <- s1[i] / (1 - b1^t)
        v_hat <- s3[i] / (1 - b2^t)
        w[i] <- w[i] - lr * m_hat / (sqrt(v_hat) + config$epsilon / sqrt(1 - b2^t))
      } else if (kind == "RMSprop") {
        rho <- config$rho
        s1[i] <- rho * s1[i] + (1 - rho) * gi^2
        s2[i] <- rho * s2[i] + (1 - rho) * gi
        variance <- if (config$centered) s1[i] - s2[i]^2 else s1[i]
        step <- lr * gi / sqrt(variance + config$epsilon)
        s3[i] <- config$momentum * s3[i] + step
        w[i] <- w[i] - s3[i]
      } else if (kind == "Adagrad") {
        s1[i] <- s1[i] + gi^2
        w[i] <- w[i] - lr * gi / sqrt(s1[i] + config$epsilon)
      } else if (kind == "Nadam") {
        # Dozat's schedule u_t, the product of u_1 ... u_t, bias-corrected v
        b1 <- config$beta_1
        b2 <- config$beta_2
        u_now <- b1 * (1 - 0.96^t / 2)
        u_next <- b1 * (1 - 0.96^(t + 1) / 2)
        if (i == 1) product <- product * u_now
        s1[i] <- b1 * s1[i] + (1 - b1) * gi
        s2[i] <- b2 * s2[i] + (1 - b2) * gi^2
        m_bar <- u_next * s1[i] / (1 - product * u_next) + (1 - u_now) * gi / (1 - product)
        w[i] <- w[i] - lr * m_bar / (sqrt(s2[i] / (1 - b2^t)) + config$epsilon)
      } else if (kind == "Adamax") {
        b1 <- config$beta_1
        s1[i] <- b1 * s1[i] + (1 - b1) * gi
        s2[i] <- max(config$beta_2 * s2[i], abs(gi))
        w[i] <- w[i] - lr / (1 - b1^t) * s1[i] / (s2[i] + config$epsilon)
      } else if (kind == "Adadelta") {
        rho <- config$rho
        eps <- config$epsilon
        s1[i] <- rho * s1[i] + (1 - rho) * gi^2
        delta <- -sqrt(s2[i] + eps) / sqrt(s1[i] + eps) * gi
        s2[i] <- rho * s2[i] + (1 - rho) * delta^2
        w[i] <- w[i] + lr * delta
      } else {
        # FTRL-Proximal: the accumulator n in s1, the linear term z in s2
        p <- -config$learning_rate_power
        l1 <- config$l1_regularization_strength
        n_new <- s1[i] + gi^2
        s2[i] <- s2[i] + gi + 2 * config$l2_shrinkage_regularization_strength * w[i] -
          (n_new^p - s1[i]^p) * w[i] / lr
        s1[i] <- n_new
        w[i] <- (min(max(s2[i], -l1), l1) - s2[i]) /
          (n_new^p / lr + 2 * config$l2_regularization_strength + config$beta / lr)
      }
    }
  }
  w
}

test_that("five steps agree with the per-element reference for every option", {
  target <- c(0.5, -1, 2, 0.25, -3, 1)
  curvature <- c(1, 4, 0.5, 2, 3, 10)
  gradient <- function(w) curvature * (w - target) + sin(3 * w)
  start <- c(1, 2, -1, 0, 0.5, -2)
  # "dense/kernel" (2 x 2) is elements 1:4, "dense/bias" 5:6
  groups <- c(1, 1, 1, 1, 2, 2)
  cases <- list(
    list("SGD", list(learning_rate = 0.05, momentum = 0, nesterov = FALSE)),
    list("SGD", list(learning_rate = 0.05, momentum = 0.8, nesterov = FALSE)),
    list("SGD", list(learning_rate = 0.05, momentum = 0.8, nesterov = TRUE, clipnorm = 1)),
    list("SGD", list(learning_rate = 0.05, momentum = 0.5, nesterov = FALSE, weight_decay = 0.1,
                     global_clipnorm = 2)),
    list("Adam", list(learning_rate = 0.1, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7,
                      amsgrad = FALSE)),
    list("Adam", list(learning_rate = 0.1, beta_1 = 0.8, beta_2 = 0.9, epsilon = 0.01,
                      amsgrad = TRUE, clipvalue = 0.5)),
    list("Adam", list(learning_rate = 0.1, beta_1 = 0.5, beta_2 = 0.7, epsilon = 1e-7,
                      amsgrad = TRUE, weight_decay = 0.3, clipnorm = 2)),
    list("RMSprop", list(learning_rate = 0.01, rho = 0.9, momentum = 0, epsilon = 1e-7,
                         centered = FALSE)),
    list("RMSprop", list(learning_rate = 0.01, rho = 0.8, momentum = 0.7, epsilon = 1e-3,
                         centered = TRUE, global_clipnorm = 1)),
    list("RMSprop", list(learning_rate = 0.01, rho = 0.5, momentum = 0.3, epsilon = 1e-7,
                         centered = FALSE, weight_decay = 0.2, clipvalue = 1)),
    list("Adagrad", list(learning_rate = 0.1, initial_accumulator_value = 0.1, epsilon = 1e-7)),
    list("Adagrad", list(learning_rate = 0.1, initial_accumulator_value = 0, epsilon = 1e-3,
                         weight_decay = 0.05, clipnorm = 0.5)),
    list("Nadam", list(learning_rate = 0.1, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7)),
    list("Nadam", list(learning_rate = 0.05, beta_1 = 0.6, beta_2 = 0.8, epsilon = 0.01,
                       weight_decay = 0.1, clipnorm = 1)),
    list("Adamax", list(learning_rate = 0.1, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7)),
    list("Adamax", list(learning_rate = 0.1, beta_1 = 0.5, beta_2 = 0.6, epsilon = 0.1,
                        weight_decay = 0.2, clipvalue = 2)),
    list("AdamW", list(learning_rate = 0.1, weight_decay = 0.004, beta_1 = 0.9, beta_2 = 0.999,
                       epsilon = 1e-7, amsgrad = FALSE)),
    list("AdamW", list(learning_rate = 0.1, weight_decay = 0.3, beta_1 = 0.7, beta_2 = 0.8,
                       epsilon = 1e-7, amsgrad = TRUE, global_clipnorm = 3)),
    list("Adadelta", list(learning_rate = 1, rho = 0.95, epsilon = 1e-7)),
    list("Adadelta", list(learning_rate = 0.5, rho = 0.6, epsilon = 1e-3, weight_decay = 0.1,
                          clipnorm = 2)),
    list("Ftrl", list(learning_rate = 0.1, learning_rate_power = -0.5,
                      initial_accumulator_value = 0.1, l1_regularization_strength = 0,
                      l2_regularization_strength = 0, l2_shrinkage_regularization_strength = 0,
                      beta = 0)),
    # l1 0.5 holds some weights at exactly 0
    list("Ftrl", list(learning_rate = 0.2, learning_rate_power = -0.7,
                      initial_accumulator_value = 0.5, l1_regularization_strength = 0.5,
                      l2_regularization_strength = 0.1, l2_shrinkage_regularization_strength = 0.05,
                      beta = 0.3, weight_decay = 0.1, clipvalue = 3))
  )
  constructors <- list(SGD = optimizer_sgd, Adam = optimizer_adam, RMSprop = optimizer_rmsprop,
                       Adagrad = optimizer_adagrad, Nadam = optimizer_nadam,
                       Adamax = optimizer_adamax, AdamW = optimizer_adamw,
                       Adadelta = optimizer_adadelta, Ftrl = optimizer_ftrl)
  for (case in cases) {
    kind <- case[[1]]
    config <- case[[2]]
    opt <- do.call(constructors[[kind]], config)
    weights <- list("dense/kernel" = matrix(start[1:4], 2, 2), "dense/bias" = start[5:6])
    for (step in 1:5) {
      g <- gradient(c(weights[[1]], weights[[2]]))
      weights <- optimizer_apply(opt, weights,
                                 list("dense/bias" = g[5:6], "dense/kernel" = matrix(g[1:4], 2, 2)))
    }
    expected <- reference_run(kind, c(config, list(groups = groups)), start, gradient, 5)
    label <- paste(kind, paste(names(config), unlist(config), collapse = " "))
    expect_equal(c(weights[[1]], weights[[2]]), expected, tolerance = 1e-12, label = label)
    expect_identical(dim(weights[["dense/kernel"]]), c(2L, 2L))
    expect_identical(opt$iterations, 5)
  }
})

test_that("slots are kept by name, and the weights of a step share its count", {
  opt <- optimizer_adam(learning_rate = 0.1, epsilon = 0)
  w <- list(a = 1, b = c(2, 3))
  g <- list(a = 0.5, b = c(-1, 2))
  w <- optimizer_apply(opt, w, g)
  expect_identical(opt$iterations, 1)
  # both took the first step, lr * sign(g)
  expect_equal(w, list(a = 0.9, b = c(2.1, 2.9)))
  # the same names in another order find their own slots
  w_rev <- optimizer_apply(opt, w[c("b", "a")], g[c("a", "b")])
  expect_named(w_rev, c("b", "a"))
  expect_equal(w_rev, list(b = c(2.2, 2.8), a = 0.8))
  # a new name gets fresh slots but the shared step count t = 3
  out <- optimizer_apply(opt, list(a = 0.8, c = 5), list(a = 0.5, c = 1))
  expect_equal(out$c, 5 - 0.1 * sqrt(1 - 0.999^3) / (1 - 0.9^3) * 0.1 / sqrt(0.001))
  expect_equal(out$a, 0.7)
  expect_identical(opt$iterations, 3)
  expect_named(optimizer_state(opt)$m, c("a", "b", "c"))
  # no weights: nothing happens and the count stays, as keras
  expect_identical(optimizer_apply(opt, list(), list()), list())
  expect_identical(opt$iterations, 3)
})

test_that("the new weights keep the attributes of the old, as doubles", {
  w <- list(k = matrix(1:4, 2, dimnames = list(c("x", "y"), NULL)), b = c(u = 1, v = 2))
  g <- list(k = matrix(0.5, 2, 2), b = c(1, 1))
  out <- optimizer_apply(optimizer_sgd(learning_rate = 1), w, g)
  expect_identical(out$k, matrix(c(0.5, 1.5, 2.5, 3.5), 2, dimnames = list(c("x", "y"), NULL)))
  expect_identical(out$b, c(u = 0, v = 1))
  # the caller's list is left alone
  expect_identical(w$k, matrix(1:4, 2, dimnames = list(c("x", "y"), NULL)))
})

test_that("every optimizer minimizes a quadratic", {
  target <- c(1, -2, 0.5)
  gradient <- function(w) 2 * (w - target)
  optimizers <- list(
    optimizer_sgd(learning_rate = 0.1), optimizer_sgd(learning_rate = 0.05, momentum = 0.9),
    optimizer_sgd(learning_rate = 0.05, momentum = 0.9, nesterov = TRUE),
    optimizer_adam(learning_rate = 0.01), optimizer_adam(learning_rate = 0.01, amsgrad = TRUE),
    optimizer_rmsprop(learning_rate = 0.001), optimizer_rmsprop(learning_rate = 0.001, centered = TRUE),
    optimizer_rmsprop(learning_rate = 0.001, momentum = 0.5),
    optimizer_adagrad(learning_rate = 0.5)
  )
  for (opt in optimizers) {
    w <- list(w = c(0, 0, 0))
    for (i in 1:3000) w <- optimizer_apply(opt, w, list(w = gradient(w$w)))
    expect_equal(w$w, target, tolerance = 1e-2, label = format(get_config(opt)$name))
  }
})

test_that("state round trips exactly and reset forgets it", {
  make <- list(function() optimizer_adam(amsgrad = TRUE),
               function() optimizer_rmsprop(momentum = 0.5, centered = TRUE),
               function() optimizer_sgd(momentum = 0.9), function() optimizer_adagrad())
  w <- list("d/kernel" = matrix(c(1, 2, 3, 4), 2), "d/bias" = c(0.5, -0.5))
  g <- list("d/kernel" = matrix(c(0.1, -0.2, 0.3, 0), 2), "d/bias" = c(1, -1))
  for (new in make) {
    opt <- new()
    fresh_state <- optimizer_state(opt)
    for (i in 1:3) w1 <- optimizer_apply(opt, w, g)
    state <- optimizer_state(opt)
    expect_identical(state$iterations, 3)
    copy <- new()
    optimizer_set_state(copy, state)
    expect_identical(optimizer_state(copy), state)
    expect_identical(optimizer_apply(copy, w, g), optimizer_apply(opt, w, g))
    optimizer_reset(opt)
    expect_identical(optimizer_state(opt), fresh_state)
    expect_identical(opt$iterations, 0)
    expect_identical(optimizer_apply(opt, w, g), optimizer_apply(new(), w, g))
    # a fresh state loads too
    optimizer_set_state(copy, fresh_state)
    expect_identical(optimizer_state(copy), fresh_state)
  }
})

test_that("configurations have keras's keys in keras's order and rebuild the optimizer", {
  base <- c("name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
            "ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer",
            "learning_rate")
  expect_named(get_config(optimizer_sgd()), c(base, "momentum", "nesterov"))
  expect_named(get_config(optimizer_adam()), c(base, "beta_1", "beta_2", "epsilon", "amsgrad"))
  expect_named(get_config(optimizer_rmsprop()), c(base, "rho", "momentum", "epsilon", "centered"))
  expect_named(get_config(optimizer_adagrad()), c(base, "initial_accumulator_value", "epsilon"))
  expect_identical(attr(get_config(optimizer_rmsprop()), "class_name"), "RMSprop")
  expect_identical(get_config(optimizer_rmsprop())$ema_overwrite_frequency, 100)
  config <- get_config(optimizer_adam())
  expect_identical(config[c("name", "learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad",
                            "weight_decay", "use_ema")],
                   list(name = "Adam", learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999,
                        epsilon = 1e-07, amsgrad = FALSE, weight_decay = NULL, use_ema = FALSE))
  optimizers <- list(
    optimizer_sgd(0.2, momentum = 0.5, nesterov = TRUE, clipvalue = 3, name = "s"),
    optimizer_adam(0.3, beta_1 = 0.5, beta_2 = 0.6, epsilon = 0, amsgrad = TRUE, clipnorm = 1),
    optimizer_rmsprop(0.4, rho = 0.7, momentum = 0.1, epsilon = 1, centered = TRUE,
                      global_clipnorm = 2, weight_decay = 0.01),
    optimizer_adagrad(0.5, initial_accumulator_value = 0, epsilon = 2)
  )
  for (opt in optimizers) {
    rebuilt <- optimizer_from_config(get_config(opt))
    expect_identical(class(rebuilt), class(opt))
    expect_identical(get_config(rebuilt), get_config(opt))
  }
  # keys missing take the defaults; a configuration as keras writes it loads
  expect_identical(get_config(optimizer_from_config(structure(list(), class_name = "SGD"))),
                   get_config(optimizer_sgd()))
  keras_config <- structure(list(name = "Adam", weight_decay = NULL, clipnorm = NULL,
    global_clipnorm = NULL, clipvalue = NULL, use_ema = FALSE, ema_momentum = 0.99,
    ema_overwrite_frequency = NULL, jit_compile = TRUE, is_legacy_optimizer = FALSE,
    learning_rate = 0.0010000000474974513, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-07,
    amsgrad = FALSE), class_name = "Adam")
  expect_equal(optimizer_from_config(keras_config)$learning_rate, 0.001, tolerance = 1e-7)
})

test_that("the learning rate is read and set by reference; other fields only read", {
  opt <- optimizer_sgd(learning_rate = 0.1, momentum = 0.3)
  held <- opt
  opt$learning_rate <- 0.5
  expect_identical(held$learning_rate, 0.5)
  expect_identical(optimizer_apply(held, list(w = 1), list(w = 1))$w, 0.5)
  expect_identical(opt$iterations, 1)
  expect_identical(opt$momentum, 0.3)
  expect_identical(opt$name, "SGD")
  expect_null(opt$clipnorm)
  expect_identical(get_config(held)$learning_rate, 0.5)
  opt[["learning_rate"]] <- 0.25
  expect_identical(opt$learning_rate, 0.25)
  expect_error(opt$learning_rate <- 0, class = "selu_error", "`learning_rate` must be a single positive")
  expect_error(opt$learning_rate <- "a", class = "selu_error", "`learning_rate`.*the string \"a\"")
  expect_error(opt$learning_rate <- Inf, class = "selu_error", "`learning_rate`")
  expect_error(opt$momentum <- 0.1, class = "selu_error", "Only `learning_rate` can be set.*`momentum`")
  expect_error(opt$iterations <- 3, class = "selu_error", "`iterations`")
  expect_error(opt$foo, class = "selu_error", "no field `foo`")
  expect_identical(opt$learning_rate, 0.25)
  expect_setequal(.DollarNames(opt, "^l"), "learning_rate")
})

test_that("print shows the class, name, settings and step count", {
  opt <- optimizer_adam(clipnorm = 1, name = "my_adam")
  expect_output(print(opt), "<optimizer Adam> \"my_adam\"")
  expect_output(print(opt), "learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-07, amsgrad = FALSE")
  expect_output(print(opt), "clipnorm = 1\n  iterations: 0")
  expect_output(expect_invisible(print(optimizer_sgd())), "SGD")
  expect_false(any(grepl("weight_decay", capture.output(print(optimizer_sgd())))))
})

test_that("as_optimizer takes an optimizer or a name, as keras", {
  opt <- optimizer_rmsprop()
  expect_identical(as_optimizer(opt), opt)
  expect_s3_class(as_optimizer("adam"), "selu_optimizer_adam")
  expect_s3_class(as_optimizer("SGD"), "selu_optimizer_sgd")
  expect_identical(get_config(as_optimizer("adagrad")), get_config(optimizer_adagrad()))
  expect_identical(get_config(as_optimizer("rmsprop")), get_config(optimizer_rmsprop()))
  expect_error(as_optimizer("lion"), class = "selu_error", paste0(
    "`optimizer` must be an optimizer.*\"sgd\", \"adam\", \"rmsprop\", \"adagrad\", ",
    "\"nadam\", \"adamax\", \"adadelta\", \"ftrl\", not the string \"lion\""))
  # keras 2.13 has no name for AdamW
  expect_error(as_optimizer("adamw"), class = "selu_error", "`optimizer`")
  for (name in c("nadam", "Adamax", "ADADELTA", "ftrl")) {
    opt <- as_optimizer(name)
    expect_identical(tolower(attr(get_config(opt), "class_name")), tolower(name))
    expect_identical(get_config(opt), get_config(optimizer_constructors[[attr(get_config(opt),
                                                                              "class_name")]]()))
  }
  expect_error(as_optimizer(NULL), class = "selu_error", "`optimizer`.*NULL")
  expect_error(as_optimizer(c("adam", "sgd"), arg = "opt"), class = "selu_error", "`opt` must")
  expect_error(as_optimizer(structure(list(), class = "selu_optimizer")), class = "selu_error",
               "`optimizer`")
})

test_that("constructor arguments are checked", {
  expect_error(optimizer_sgd(learning_rate = 0), class = "selu_error", "`learning_rate` must be a single positive finite")
  expect_error(optimizer_sgd(learning_rate = NA), class = "selu_error", "`learning_rate`")
  expect_error(optimizer_adam(learning_rate = c(1, 2)), class = "selu_error", "`learning_rate`")
  expect_error(optimizer_sgd(momentum = 1), class = "selu_error", "`momentum` must be a single number in \\[0, 1\\)")
  expect_error(optimizer_sgd(momentum = -0.1), class = "selu_error", "`momentum`")
  expect_error(optimizer_sgd(nesterov = NA), class = "selu_error", "`nesterov` must be TRUE or FALSE")
  expect_error(optimizer_adam(beta_1 = 1), class = "selu_error", "`beta_1`")
  expect_error(optimizer_adam(beta_2 = "a"), class = "selu_error", "`beta_2`")
  expect_error(optimizer_adam(epsilon = -1), class = "selu_error", "`epsilon` must be a single finite number of at least 0")
  expect_error(optimizer_adam(amsgrad = 1), class = "selu_error", "`amsgrad`")
  expect_error(optimizer_rmsprop(rho = 1), class = "selu_error", "`rho`")
  expect_error(optimizer_rmsprop(momentum = 2), class = "selu_error", "`momentum`")
  expect_error(optimizer_rmsprop(centered = "yes"), class = "selu_error", "`centered`")
  expect_error(optimizer_rmsprop(epsilon = Inf), class = "selu_error", "`epsilon`")
  expect_error(optimizer_adagrad(initial_accumulator_value = -1), class = "selu_error",
               "`initial_accumulator_value`")
  expect_error(optimizer_adagrad(epsilon = NULL), class = "selu_error", "`epsilon`")
  expect_error(optimizer_sgd(weight_decay = -1), class = "selu_error",
               "`weight_decay` must be NULL or a single finite number of at least 0")
  expect_error(optimizer_adam(clipnorm = 0), class = "selu_error",
               "`clipnorm` must be NULL or a single positive finite number")
  expect_error(optimizer_adam(clipvalue = Inf), class = "selu_error", "`clipvalue`")
  expect_error(optimizer_adam(global_clipnorm = list(1)), class = "selu_error", "`global_clipnorm`")
  expect_error(optimizer_rmsprop(clipnorm = 1, global_clipnorm = 1), class = "selu_error",
               "At most one of `clipnorm` and `global_clipnorm`")
  expect_error(optimizer_sgd(name = ""), class = "selu_error", "`name`")
  expect_error(optimizer_adagrad(name = 1), class = "selu_error", "`name`")
  expect_error(optimizer_adam(jit_compile = TRUE), class = "selu_error", "Unknown argument: `jit_compile`")
  expect_error(optimizer_sgd(use_ema = TRUE, ema_momentum = 0.9), class = "selu_error",
               "Unknown arguments: `use_ema`, `ema_momentum`")
  expect_error(optimizer_sgd(0.1, 0.2, FALSE, NULL, NULL, NULL, NULL, "s", 3), class = "selu_error",
               "an unnamed argument")
})

test_that("configurations are checked", {
  expect_error(optimizer_from_config(list(learning_rate = 1)), class = "selu_error",
               "`config` must be an optimizer's configuration")
  expect_error(optimizer_from_config(structure(list(), class_name = "Lion")), class = "selu_error",
               "`config`.*\"SGD\", \"Adam\", \"RMSprop\", \"Adagrad\", \"Nadam\"")
  expect_error(optimizer_from_config(get_config(layer_activation_selu())), class = "selu_error", "`config`")
  expect_error(optimizer_from_config(structure(list(decay = 0), class_name = "SGD")),
               class = "selu_error", "`config` of an SGD optimizer may only have the keys")
  expect_error(optimizer_from_config(structure(list(1), class_name = "SGD")), class = "selu_error", "`config`")
  expect_error(optimizer_from_config(structure(list(momentum = 2), class_name = "SGD")),
               class = "selu_error", "In `config`: `momentum`")
  bad <- function(key, value) {
    config <- get_config(optimizer_adam())
    config[key] <- list(value)
    optimizer_from_config(config)
  }
  expect_error(bad("use_ema", TRUE), class = "selu_error", "`config\\$use_ema` must be FALSE")
  expect_error(bad("is_legacy_optimizer", TRUE), class = "selu_error", "`config\\$is_legacy_optimizer`")
  expect_error(bad("jit_compile", NA), class = "selu_error", "`config\\$jit_compile`")
  expect_error(bad("ema_momentum", 2), class = "selu_error", "`config\\$ema_momentum`")
  expect_error(bad("ema_overwrite_frequency", 0.5), class = "selu_error",
               "`config\\$ema_overwrite_frequency`")
  expect_error(bad("clipnorm", "a"), class = "selu_error", "In `config`: `clipnorm`")
  expect_error(get_config(optimizer_adam(), 1), class = "selu_error", "Unknown argument")
  expect_error(get_config(structure(list(), class = "selu_optimizer")), class = "selu_error",
               "`object` must be an optimizer")
})

test_that("optimizer_apply checks its arguments", {
  opt <- optimizer_adam()
  w <- list(a = c(1, 2))
  expect_error(optimizer_apply("adam", w, w), class = "selu_error", "`opt` must be an optimizer")
  expect_error(optimizer_apply(opt, c(a = 1), w), class = "selu_error", "`weights` must be a list")
  expect_error(optimizer_apply(opt, list(1), list(1)), class = "selu_error", "`weights`.*unique names")
  expect_error(optimizer_apply(opt, list(a = 1, a = 2), list(a = 1, a = 2)), class = "selu_error", "`weights`")
  expect_error(optimizer_apply(opt, list(a = "x"), list(a = 1)), class = "selu_error",
               "`weights\\[\\[\"a\"\\]\\]` must be a numeric array")
  expect_error(optimizer_apply(opt, w, list(a = factor(1:2))), class = "selu_error", "`grads\\[\\[\"a\"\\]\\]`")
  expect_error(optimizer_apply(opt, w, list(b = c(1, 2))), class = "selu_error", "`grads` must have the names")
  expect_error(optimizer_apply(opt, w, list(a = 1)), class = "selu_error",
               "`grads\\[\\[\"a\"\\]\\]` must have the shape of its weight, \\(2\\)")
  optimizer_apply(opt, w, w)
  expect_error(optimizer_apply(opt, list(a = 1:3), list(a = 1:3)), class = "selu_error",
               "`weights\\[\\[\"a\"\\]\\]` has shape \\(3\\).*`m`.*\\(2\\)")
  # a refused step changes nothing
  expect_identical(opt$iterations, 1)
})

test_that("optimizer_set_state checks the state", {
  opt <- optimizer_adam()
  optimizer_apply(opt, list(a = 1), list(a = 1))
  state <- optimizer_state(opt)
  expect_error(optimizer_state(list()), class = "selu_error", "`opt`")
  expect_error(optimizer_reset(NULL), class = "selu_error", "`opt`")
  expect_error(optimizer_set_state(NULL, state), class = "selu_error", "`opt`")
  expect_error(optimizer_set_state(opt, state[1:2]), class = "selu_error",
               "`state` of this Adam optimizer must be a list with the entries `iterations`, `m`, `v`")
  expect_error(optimizer_set_state(optimizer_adam(amsgrad = TRUE), state), class = "selu_error", "`vhat`")
  expect_error(optimizer_set_state(opt, modifyList(state, list(iterations = -1))), class = "selu_error",
               "`state\\$iterations` must be a whole number")
  expect_error(optimizer_set_state(opt, modifyList(state, list(iterations = 1.5))), class = "selu_error",
               "`state\\$iterations`")
  bad_m <- state
  bad_m$m <- list(1)
  expect_error(optimizer_set_state(opt, bad_m), class = "selu_error", "`state\\$m` must be a list")
  bad_m$m <- list(a = "x")
  expect_error(optimizer_set_state(opt, bad_m), class = "selu_error", "`state\\$m\\[\\[\"a\"\\]\\]`")
  bad_m$m <- list(a = c(1, 2))
  expect_error(optimizer_set_state(opt, bad_m), class = "selu_error",
               "`state\\$v` must have the names and shapes of `state\\$m`")
  bad_m$m <- list(b = 1)
  expect_error(optimizer_set_state(opt, bad_m), class = "selu_error", "`state\\$v`")
  expect_identical(optimizer_state(opt), state)
})

test_that("the new rules step as torch.optim and keras's rules on torch tensors (frozen)", {
  fixture <- jsonlite::fromJSON(test_path("fixtures", "optimizers.json"), simplifyVector = TRUE,
                                simplifyDataFrame = FALSE)
  expect_setequal(vapply(fixture$cases, `[[`, "", "class_name"),
                  c("Nadam", "Adamax", "AdamW", "Adadelta"))
  for (case in fixture$cases) {
    opt <- optimizer_from_config(structure(case$config, class_name = case$class_name))
    weights <- case$weights
    for (k in seq_along(case$steps)) {
      weights <- optimizer_apply(opt, weights, case$gradients[[k]])
      for (key in names(weights)) {
        expect_equal(weights[[key]], case$steps[[k]][[key]], tolerance = 1e-12,
                     info = paste(case$label, case$reference, "step", k, key))
      }
    }
  }
})

test_that("the new optimizers' configurations have keras's keys and rebuild them", {
  base <- c("name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
            "ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer",
            "learning_rate")
  expect_named(get_config(optimizer_nadam()), c(base, "beta_1", "beta_2", "epsilon"))
  expect_named(get_config(optimizer_adamax()), c(base, "beta_1", "beta_2", "epsilon"))
  expect_named(get_config(optimizer_adamw()), c(base, "beta_1", "beta_2", "epsilon", "amsgrad"))
  expect_named(get_config(optimizer_adadelta()), c(base, "rho", "epsilon"))
  expect_named(get_config(optimizer_ftrl()), c(base, "learning_rate_power",
    "initial_accumulator_value", "l1_regularization_strength", "l2_regularization_strength",
    "l2_shrinkage_regularization_strength", "beta"))
  # keras 2.13's defaults
  expect_identical(get_config(optimizer_adadelta())[c("learning_rate", "rho", "epsilon")],
                   list(learning_rate = 0.001, rho = 0.95, epsilon = 1e-07))
  expect_identical(unlist(get_config(optimizer_ftrl())[c("learning_rate", "learning_rate_power",
                                                         "initial_accumulator_value", "beta")]),
                   c(learning_rate = 0.001, learning_rate_power = -0.5,
                     initial_accumulator_value = 0.1, beta = 0))
  expect_identical(get_config(optimizer_adamw())$weight_decay, 0.004)
  for (opt in list(optimizer_nadam(), optimizer_adamax(), optimizer_adamw(),
                   optimizer_adadelta(), optimizer_ftrl())) {
    class_name <- attr(get_config(opt), "class_name")
    expect_identical(get_config(opt)$name, class_name)
    expect_s3_class(opt, paste0("selu_optimizer_", tolower(class_name)))
  }
  optimizers <- list(
    optimizer_nadam(0.3, beta_1 = 0.5, beta_2 = 0.6, epsilon = 0, clipnorm = 1, name = "n"),
    optimizer_adamax(0.2, beta_1 = 0.1, beta_2 = 0.2, epsilon = 2, weight_decay = 0.1),
    optimizer_adamw(0.4, weight_decay = 0, amsgrad = TRUE, global_clipnorm = 3),
    optimizer_adadelta(1, rho = 0.5, epsilon = 0.1, clipvalue = 2),
    optimizer_ftrl(0.5, learning_rate_power = 0, initial_accumulator_value = 0,
                   l1_regularization_strength = 1, l2_regularization_strength = 2,
                   l2_shrinkage_regularization_strength = 3, beta = 4)
  )
  for (opt in optimizers) {
    rebuilt <- optimizer_from_config(get_config(opt))
    expect_identical(class(rebuilt), class(opt))
    expect_identical(get_config(rebuilt), get_config(opt))
  }
  # keras writes AdamW's required decay; without it the configuration fails
  config <- get_config(optimizer_adamw())
  config["weight_decay"] <- list(NULL)
  expect_error(optimizer_from_config(config), class = "selu_error", "In `config`: `weight_decay`")
})

test_that("the new optimizers' arguments are checked", {
  expect_error(optimizer_nadam(beta_1 = 1), class = "selu_error", "`beta_1`")
  expect_error(optimizer_nadam(epsilon = -1), class = "selu_error", "`epsilon`")
  expect_error(optimizer_adamax(beta_2 = NA), class = "selu_error", "`beta_2`")
  expect_error(optimizer_adamw(weight_decay = -0.1), class = "selu_error", "`weight_decay`")
  expect_error(optimizer_adamw(amsgrad = NA), class = "selu_error", "`amsgrad`")
  expect_error(optimizer_adadelta(rho = 1), class = "selu_error", "`rho` must be a single number in")
  expect_error(optimizer_ftrl(learning_rate_power = 0.5), class = "selu_error",
               "`learning_rate_power` must be a single finite number of at most 0")
  for (arg in c("initial_accumulator_value", "l1_regularization_strength",
                "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta")) {
    expect_error(do.call(optimizer_ftrl, stats::setNames(list(-1), arg)), class = "selu_error",
                 sprintf("`%s` must be a single finite number of at least 0", arg))
  }
  expect_error(optimizer_ftrl(momentum = 0.9), class = "selu_error", "Unknown argument: `momentum`")
})

test_that("keras 2's `lr` is taken with a warning; `decay` is refused for a schedule", {
  expect_warning(opt <- optimizer_adam(lr = 0.01), class = "selu_warning_deprecated",
                 "`lr` is deprecated.*use `learning_rate`")
  expect_identical(opt$learning_rate, 0.01)
  for (make in list(optimizer_sgd, optimizer_rmsprop, optimizer_adagrad, optimizer_nadam,
                    optimizer_adamax, optimizer_adamw, optimizer_adadelta, optimizer_ftrl)) {
    expect_warning(opt <- make(lr = 0.25), class = "selu_warning_deprecated")
    expect_identical(opt$learning_rate, 0.25)
    expect_error(make(decay = 0.01), class = "selu_error",
                 "`decay` is an argument of keras 2's legacy optimizers.*learning_rate_schedule_")
  }
  expect_error(optimizer_sgd(learning_rate = 0.1, lr = 0.2), class = "selu_error",
               "Give the learning rate once, as `learning_rate`: `lr` is its deprecated name")
  expect_error(optimizer_sgd(0.1, lr = 0.2), class = "selu_error", "`lr`")
  expect_error(optimizer_sgd(lr = 0.2, lr = 0.3), class = "selu_error", "`lr`")
  # a bad `lr` is named as given, before any warning
  expect_no_warning(expect_error(optimizer_sgd(lr = -1), class = "selu_error",
                                 "`lr` must be a single positive finite number"))
  expect_error(suppressWarnings(optimizer_sgd(lr = 0.1, momentum = 0.9, foo = 1)),
               class = "selu_error", "Unknown argument: `foo`")
  # keras 2's legacy decay, lr / (1 + decay * iterations), is the inverse time schedule
  schedule <- learning_rate_schedule_inverse_time_decay(0.1, decay_steps = 1, decay_rate = 0.01)
  expect_equal(schedule(0:2), 0.1 / (1 + 0.01 * 0:2))
})

# A small regression network, the same weights each time, compiled with `optimizer`.
small_model <- function(optimizer) {
  set.seed(5)
  model <- keras_model_sequential(input_shape = 3) |>
    layer_dense(5, activation = "selu", kernel_initializer = "lecun_normal", name = "hidden") |>
    layer_dense(1, name = "out")
  compile(model, optimizer = optimizer, loss = "mse")
}

small_data <- function() {
  set.seed(6)
  x <- matrix(rnorm(120), 40, 3)
  list(x = x, y = x %*% c(1, -0.5, 0.25) + 0.1)
}

new_optimizers <- list(
  nadam = function() optimizer_nadam(0.01),
  adamax = function() optimizer_adamax(0.02),
  adamw = function() optimizer_adamw(0.01),
  adadelta = function() optimizer_adadelta(1),
  ftrl = function() optimizer_ftrl(0.1),
  nadam_by_name = function() "nadam"
)

test_that("a model trains with each new optimizer, and resumes exactly after save and load", {
  data <- small_data()
  for (name in names(new_optimizers)) {
    model <- small_model(new_optimizers[[name]]())
    history <- fit(model, data$x, data$y, epochs = 15, batch_size = 8, verbose = 0)
    loss <- history$metrics$loss
    expect_lt(loss[15], 0.75 * loss[1], label = paste(name, "final loss"))
    expect_null(history$metrics$lr)

    straight <- small_model(new_optimizers[[name]]())
    fit(straight, data$x, data$y, epochs = 4, batch_size = 16, shuffle = FALSE, verbose = 0)
    first <- small_model(new_optimizers[[name]]())
    fit(first, data$x, data$y, epochs = 2, batch_size = 16, shuffle = FALSE, verbose = 0)
    path <- withr::local_tempfile(fileext = ".rds")
    save_model(first, path)
    resumed <- load_model(path)
    expect_identical(get_config(selu:::model_state(resumed)$compiled$optimizer),
                     get_config(selu:::model_state(first)$compiled$optimizer))
    fit(resumed, data$x, data$y, epochs = 2, batch_size = 16, shuffle = FALSE, verbose = 0)
    expect_identical(get_weights(resumed), get_weights(straight), label = name)
    expect_identical(optimizer_state(selu:::model_state(resumed)$compiled$optimizer),
                     optimizer_state(selu:::model_state(straight)$compiled$optimizer), label = name)
  }
})
