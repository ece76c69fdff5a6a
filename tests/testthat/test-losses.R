# Losses: values against hand computations from the published formulas,
# gradients against central finite differences, targets' checks.

softmax_rows <- function(z) exp(z) / rowSums(exp(z))

test_that("each loss gives the hand-computed loss of each sample", {
  y <- matrix(1:4, 2)
  p <- matrix(c(1, 2, 4, 6), 2)
  # errors (0, 1) and (0, 2): squares 0, 1 and 0, 4; absolute 0, 1 and 0, 2
  expect_equal(loss_mean_squared_error(y, p), c(0.5, 2))
  expect_equal(loss_mean_absolute_error(y, p), c(0.5, 1))
  # Huber: 0.5^2 / 2 inside delta, 1 * 3 - 1 / 2 and 2 * 3 - 4 / 2 beyond
  expect_equal(loss_huber(c(0, 0), c(0.5, 3)), c(0.125, 2.5))
  expect_equal(loss_huber(c(0, 0), c(-0.5, -3), delta = 2), c(0.125, 4))
  expect_equal(loss_binary_crossentropy(c(1, 0), c(0.9, 0.2)), c(-log(0.9), -log(0.8)))
  probabilities <- matrix(c(0.7, 0.4, 0.3, 0.6), 2)
  expect_equal(loss_categorical_crossentropy(diag(2), probabilities), -log(c(0.7, 0.6)))
  expect_equal(loss_sparse_categorical_crossentropy(c(0, 1), probabilities), -log(c(0.7, 0.6)))
  expect_equal(loss_sparse_categorical_crossentropy(factor(c("a", "b")), probabilities),
               -log(c(0.7, 0.6)))
  expect_equal(loss_sparse_categorical_crossentropy(matrix(c(0, 1)), probabilities),
               -log(c(0.7, 0.6)))
  # soft targets: -(0.5 log 0.7 + 0.5 log 0.3)
  expect_equal(loss_categorical_crossentropy(matrix(0.5, 1, 2), matrix(c(0.7, 0.3), 1)),
               -(log(0.7) + log(0.3)) / 2)
  # a vector of predictions is one column; logical targets are 0 and 1
  expect_equal(loss_binary_crossentropy(c(TRUE, FALSE), c(0.9, 0.2)), -log(c(0.9, 0.8)))
})

test_that("the categorical cross-entropies normalize as keras does", {
  # categorical: (1.4, 0.6) is first divided by its sum 2
  expect_equal(loss_categorical_crossentropy(matrix(c(1, 0), 1), matrix(c(1.4, 0.6), 1)),
               -log(0.7))
  # sparse: the clipped probabilities are normalized: -log(0.2 / 0.4)
  expect_equal(loss_sparse_categorical_crossentropy(0, matrix(c(0.2, 0.2), 1)), log(2))
})

test_that("probabilities are clipped to [1e-7, 1 - 1e-7]", {
  expect_equal(loss_binary_crossentropy(1, 0), -log(1e-7))
  expect_equal(loss_binary_crossentropy(0, 1), -log(1e-7), tolerance = 1e-8)
  expect_equal(loss_binary_crossentropy(c(1, 0), c(1, 0)), -log1p(-c(1e-7, 1e-7)))
  expect_equal(loss_categorical_crossentropy(matrix(c(1, 0), 1), matrix(c(0, 1), 1)), -log(1e-7))
  # the row (1e-7, 1 - 1e-7) sums to 1
  expect_equal(loss_sparse_categorical_crossentropy(0, matrix(c(0, 1), 1)), -log(1e-7))
  expect_true(all(is.finite(loss_binary_crossentropy(c(1, 0, 1), c(-2, 5, 1e308)))))
})

test_that("label smoothing moves the targets towards 1/2 or 1/K", {
  # binary: y = 1 becomes 0.9 with s = 0.2
  expect_equal(loss_binary_crossentropy(1, 0.9, label_smoothing = 0.2),
               -(0.9 * log(0.9) + 0.1 * log(0.1)))
  # categorical, 2 classes, s = 0.3: (1, 0) becomes (0.85, 0.15)
  expect_equal(loss_categorical_crossentropy(matrix(c(1, 0), 1), matrix(c(0.7, 0.3), 1),
                                             label_smoothing = 0.3),
               -(0.85 * log(0.7) + 0.15 * log(0.3)))
  expect_equal(loss_binary_crossentropy(1, 0.9, label_smoothing = 1), -(log(0.9) + log(0.1)) / 2)
})

test_that("from_logits = TRUE takes logits", {
  # log(1 + e^-2) = -log(sigmoid(2)); for y = 0, -log(1 - sigmoid(2))
  expect_equal(loss_binary_crossentropy(c(1, 0), c(2, 2), from_logits = TRUE),
               c(log1p(exp(-2)), 2 + log1p(exp(-2))))
  # log(e^1 + e^2) - 2 = log(1 + e^-1)
  expect_equal(loss_categorical_crossentropy(matrix(c(0, 1), 1), matrix(c(1, 2), 1),
                                             from_logits = TRUE), log1p(exp(-1)))
  expect_equal(loss_sparse_categorical_crossentropy(0, matrix(c(1, 2), 1), from_logits = TRUE),
               1 + log1p(exp(-1)))
  # exact for logits far beyond where sigmoid and softmax round to 0 and 1
  expect_identical(loss_binary_crossentropy(c(0, 1, 1, 0), c(800, -800, 800, -800),
                                            from_logits = TRUE), c(800, 800, 0, 0))
  expect_identical(loss_sparse_categorical_crossentropy(c(0, 1), matrix(c(-800, 800, 800, -800), 2),
                                                        from_logits = TRUE), c(1600, 1600))
})

test_that("the loss object reduces as keras' sum_over_batch_size", {
  bce <- loss_binary_crossentropy()
  expect_s3_class(bce, "selu_loss")
  # the weighted sum divided by the number of samples, not by the weights' sum
  expect_equal(bce(c(1, 0), c(0.9, 0.2)), (-log(0.9) - log(0.8)) / 2)
  expect_equal(bce(c(1, 0), c(0.9, 0.2), sample_weight = c(1, 3)), (-log(0.9) - 3 * log(0.8)) / 2)
  expect_equal(bce(c(1, 0), c(0.9, 0.2), sample_weight = matrix(c(0, 2))), -log(0.8))
  # rank 3: the mean over both non-batch axes
  y <- array(0, c(2, 2, 2))
  p <- array(1:8, c(2, 2, 2))
  expect_equal(loss_mean_squared_error()(y, p), mean(c(mean(c(1, 3, 5, 7)^2), mean(c(2, 4, 6, 8)^2))))
  expect_equal(loss_mean_squared_error(y, p), c(mean(c(1, 3, 5, 7)^2), mean(c(2, 4, 6, 8)^2)))
})

# Valid targets and predictions of every loss, batch of 4, with sample weights.
gradient_cases <- function() {
  set.seed(3)
  p3 <- matrix(runif(12, 0.1, 0.9), 4)
  # (4, 3) cells of 2 classes each
  classes <- sample(1:2, 12, replace = TRUE)
  onehot_rank3 <- array(0, c(4, 3, 2))
  onehot_rank3[cbind(rep(1:4, 3), rep(1:3, each = 4), classes)] <- 1
  list(
    mse = list(loss_mean_squared_error(), matrix(rnorm(12), 4), matrix(rnorm(12), 4)),
    mae = list(loss_mean_absolute_error(), matrix(rnorm(12), 4), matrix(rnorm(12), 4)),
    huber = list(loss_huber(delta = 0.7), matrix(rnorm(12), 4), matrix(rnorm(12, sd = 2), 4)),
    bce = list(loss_binary_crossentropy(label_smoothing = 0.1), matrix(rbinom(12, 1, 0.5), 4),
               matrix(runif(12, 0.05, 0.95), 4)),
    cce = list(loss_categorical_crossentropy(label_smoothing = 0.2), diag(3)[c(1, 2, 3, 1), ],
               p3),
    scce = list(loss_sparse_categorical_crossentropy(), c(0L, 2L, 1L, 2L), p3),
    mse_rank3 = list(loss_mean_squared_error(), array(rnorm(24), c(4, 3, 2)),
                     array(rnorm(24), c(4, 3, 2))),
    cce_rank3 = list(loss_categorical_crossentropy(), onehot_rank3,
                     array(runif(24, 0.1, 0.9), c(4, 3, 2))),
    scce_rank3 = list(loss_sparse_categorical_crossentropy(), matrix(classes - 1L, 4),
                      array(runif(24, 0.1, 0.9), c(4, 3, 2)))
  )
}

test_that("loss_value_grad() gives the reduced loss and its gradient", {
  weights <- c(0.5, 2, 1, 0)
  for (case in names(gradient_cases())) {
    args <- gradient_cases()[[case]]
    loss <- args[[1]]
    y <- args[[2]]
    p <- args[[3]]
    for (w in list(NULL, weights)) {
      out <- loss_value_grad(loss, y, p, w)
      expect_equal(out$value, loss(y, p, w), info = case)
      expect_identical(dim(out$grad), dim(p), info = case)
      expect_equal(out$grad, numeric_gradient(function(q) loss(y, q, w), p), tolerance = 1e-6,
                   info = case)
    }
  }
})

test_that("the gradient is 0 where probabilities are clipped", {
  bce <- loss_binary_crossentropy()
  out <- loss_value_grad(bce, c(1, 0), matrix(c(0, 1.5)))
  expect_identical(out$grad, matrix(c(0, 0)))
})

test_that("from_logits losses give the gradient in the logits", {
  set.seed(4)
  z <- matrix(rnorm(12, sd = 2), 4)
  w <- c(1, 0.5, 2, 3)
  cases <- list(
    list(loss_binary_crossentropy(from_logits = TRUE, label_smoothing = 0.1),
         matrix(rbinom(12, 1, 0.5), 4)),
    list(loss_categorical_crossentropy(from_logits = TRUE, label_smoothing = 0.1),
         diag(3)[c(3, 1, 2, 2), ]),
    list(loss_sparse_categorical_crossentropy(from_logits = TRUE), c(1L, 0L, 2L, 2L))
  )
  for (case in cases) {
    loss <- case[[1]]
    out <- loss_value_grad(loss, case[[2]], z, w)
    expect_equal(out$value, loss(case[[2]], z, w))
    expect_equal(out$grad, numeric_gradient(function(q) loss(case[[2]], q, w), z),
                 tolerance = 1e-6)
  }
})

test_that("the logits path agrees with the probability path and its finite differences", {
  set.seed(5)
  z <- matrix(rnorm(12), 4)
  w <- c(2, 1, 0.5, 1)
  # binary: sigmoid of each value
  y <- matrix(rbinom(12, 1, 0.5), 4)
  bce <- loss_binary_crossentropy(label_smoothing = 0.2)
  out <- loss_value_grad(bce, y, stats::plogis(z), w, logits = z)
  expect_equal(out$value, bce(y, stats::plogis(z), w))
  expect_equal(out$grad, numeric_gradient(function(q) bce(y, stats::plogis(q), w), z),
               tolerance = 1e-6)
  # chain rule through the sigmoid: dL/dz = dL/dp * p (1 - p)
  by_probability <- loss_value_grad(bce, y, stats::plogis(z), w)$grad
  expect_equal(out$grad, by_probability * stats::plogis(z) * (1 - stats::plogis(z)))
  # categorical and sparse: softmax of each row
  onehot <- diag(3)[c(2, 3, 1, 1), ]
  for (case in list(list(loss_categorical_crossentropy(label_smoothing = 0.1), onehot),
                    list(loss_sparse_categorical_crossentropy(), c(1L, 2L, 0L, 0L)))) {
    loss <- case[[1]]
    out <- loss_value_grad(loss, case[[2]], softmax_rows(z), w, logits = z)
    expect_equal(out$value, loss(case[[2]], softmax_rows(z), w))
    expect_equal(out$grad, numeric_gradient(function(q) loss(case[[2]], softmax_rows(q), w), z),
                 tolerance = 1e-6)
  }
  # keras' closed forms: (p - y) * w / n, smoothed targets for the binary
  expect_equal(loss_value_grad(loss_sparse_categorical_crossentropy(), c(1L, 2L, 0L, 0L),
                               softmax_rows(z), logits = z)$grad,
               (softmax_rows(z) - diag(3)[c(2, 3, 1, 1), ]) / 4)
})

test_that("the logits path is exact at logits of -800 and 800", {
  bce <- loss_binary_crossentropy()
  z <- matrix(c(800, -800, 800, -800))
  out <- loss_value_grad(bce, c(0, 1, 1, 0), stats::plogis(z), logits = z)
  expect_identical(out$value, 1600 / 4)
  expect_identical(out$grad, matrix(c(1, -1, 0, 0)) / 4)
  cce <- loss_categorical_crossentropy()
  z <- matrix(c(800, -800, -800, 800, 0, 0), 2)
  out <- loss_value_grad(cce, diag(3)[c(2, 1), ], softmax_rows(pmin(z, 700)), logits = z)
  expect_identical(out$value, 1600)
  expect_identical(out$grad, matrix(c(1, -1, -1, 1, 0, 0), 2) / 2)
  scce <- loss_sparse_categorical_crossentropy()
  out <- loss_value_grad(scce, c(1L, 1L), softmax_rows(pmin(z, 700)), logits = z)
  expect_identical(out$value, 800)
  expect_identical(out$grad, matrix(c(1, 0, -1, 0, 0, 0), 2) / 2)
})

test_that("loss_value_grad() refuses logits for a loss that takes none", {
  expect_error(loss_value_grad(loss_mean_squared_error(), 1, matrix(0.5), logits = matrix(0)),
               class = "selu_error_internal")
  expect_error(loss_value_grad(loss_binary_crossentropy(from_logits = TRUE), 1, matrix(0.5),
                               logits = matrix(0)), class = "selu_error_internal")
})

test_that("a cross-entropy fuses with its output activation, and only then", {
  fused <- function(loss, output) {
    model <- keras_model_sequential(input_shape = 3) |> layer_dense(2, activation = output)
    program <- selu:::model_program(selu:::model_state(model)$steps, c(NA, 3L), "train")
    selu:::loss_program_spec(program, selu:::as_loss(loss), program$outputs)$fused
  }
  expect_true(fused("binary_crossentropy", "sigmoid"))
  expect_true(fused("categorical_crossentropy", "softmax"))
  expect_true(fused(loss_sparse_categorical_crossentropy(), "softmax"))
  expect_false(fused("binary_crossentropy", "softmax"))
  expect_false(fused("categorical_crossentropy", "sigmoid"))
  expect_false(fused(loss_binary_crossentropy(from_logits = TRUE), "sigmoid"))
  expect_false(fused("mse", "softmax"))
  expect_false(fused("binary_crossentropy", "linear"))
  expect_false(fused("binary_crossentropy", function(x) x))
})

test_that("as_loss() takes names, aliases and loss objects", {
  expect_identical(loss_name(as_loss("mse")), "mean_squared_error")
  expect_identical(loss_name(as_loss("mae")), "mean_absolute_error")
  expect_identical(loss_name(as_loss("huber_loss")), "huber")
  for (name in c("mean_squared_error", "mean_absolute_error", "binary_crossentropy",
                 "categorical_crossentropy", "sparse_categorical_crossentropy", "huber")) {
    expect_identical(loss_name(as_loss(name)), name)
  }
  custom <- loss_huber(delta = 3, name = "robust")
  expect_identical(as_loss(custom), custom)
  expect_identical(loss_name(custom), "robust")
  expect_error(as_loss("hinge"), class = "selu_error",
               regexp = "`loss` must be a loss object .*\"mse\".*the string \"hinge\"")
  expect_error(as_loss(function(y_true, y_pred) 1), class = "selu_error", regexp = "`loss`")
  expect_error(as_loss(NA_character_, arg = "my_loss"), class = "selu_error", regexp = "`my_loss`")
  expect_error(as_loss(structure(function(y_true, y_pred) 1, class = "selu_loss")),
               class = "selu_error", regexp = "`loss`")
})

test_that("check_targets() gives each loss its form of targets", {
  expect_identical(check_targets("sparse_categorical_crossentropy", c(0, 2, 1), c(NA, 3)),
                   c(0L, 2L, 1L))
  expect_identical(check_targets("sparse_categorical_crossentropy", matrix(c(2, 0)), c(NA, 3)),
                   c(2L, 0L))
  expect_identical(check_targets("sparse_categorical_crossentropy", factor(c("b", "a")),
                                 c(NA, 3)), c(1L, 0L))
  expect_identical(check_targets("sparse_categorical_crossentropy", c(TRUE, FALSE), c(NA, 2)),
                   c(1L, 0L))
  expect_identical(check_targets("sparse_categorical_crossentropy", matrix(c(0, 1, 1, 0), 2),
                                 c(NA, 2, 3)), matrix(c(0L, 1L, 1L, 0L), 2))
  expect_identical(check_targets("categorical_crossentropy", diag(3), c(NA, 3)), diag(3))
  expect_identical(check_targets("binary_crossentropy", c(1, 0), c(NA, 1)), matrix(c(1, 0)))
  expect_identical(check_targets("binary_crossentropy", c(TRUE, FALSE), c(NA, 1)), matrix(c(1, 0)))
  expect_identical(check_targets("mse", 1:2, c(NA, 1)), matrix(c(1, 2)))
  expect_identical(check_targets(loss_huber(), matrix(1:4, 2), c(NA, 2)), matrix(c(1, 2, 3, 4), 2))
  expect_identical(check_targets("mae", array(1:8, c(2, 2, 2)), c(NA, 2, 2)),
                   array(as.double(1:8), c(2, 2, 2)))
})

test_that("check_targets() rejects targets that do not fit, naming `y`", {
  scce <- "sparse_categorical_crossentropy"
  expect_error(check_targets(scce, c(0, 3), c(NA, 3)), class = "selu_error",
               regexp = "`y` holds the class 3, but the model has 3 classes (0 to 2).", fixed = TRUE)
  expect_error(check_targets(scce, c(-1, 0), c(NA, 3)), class = "selu_error",
               regexp = "`y` holds the class -1, but the model has 3 classes (0 to 2).", fixed = TRUE)
  expect_error(check_targets(scce, c(0.5, 1), c(NA, 3)), class = "selu_error",
               regexp = "`y` must hold whole class indices (0 to 2)", fixed = TRUE)
  expect_error(check_targets(scce, factor(letters[1:4]), c(NA, 3)), class = "selu_error",
               regexp = "`y` is a factor of 4 levels, but the model has 3 classes")
  expect_error(check_targets(scce, diag(3), c(NA, 3)), class = "selu_error",
               regexp = "`y` has shape \\(3, 3\\), like one-hot targets.*categorical_crossentropy")
  expect_error(check_targets(scce, matrix(0, 2, 2), c(NA, 3)), class = "selu_error",
               regexp = "`y` has shape \\(2, 2\\)")
  expect_error(check_targets("categorical_crossentropy", c(0, 2, 1), c(NA, 3)),
               class = "selu_error",
               regexp = "`y` looks like class indices.*use sparse_categorical_crossentropy")
  expect_error(check_targets("categorical_crossentropy", matrix(0, 2, 2), c(NA, 3)),
               class = "selu_error",
               regexp = "`y` has shape (2, 2), but the model's output has shape (None, 3).",
               fixed = TRUE)
  expect_error(check_targets("categorical_crossentropy", factor("a"), c(NA, 3)),
               class = "selu_error", regexp = "`y` is a factor.*sparse_categorical_crossentropy")
  expect_warning(check_targets("binary_crossentropy", c(0, 2), c(NA, 1)),
                 class = "selu_warning_argument",
                 regexp = "`y` holds values outside [0, 1] (from 0 to 2)", fixed = TRUE)
  expect_error(check_targets("binary_crossentropy", c(0, 1), c(NA, 2)), class = "selu_error",
               regexp = "`y` has shape")
  expect_error(check_targets("mse", c(0, 1), c(NA, 2)), class = "selu_error",
               regexp = "`y` has shape")
  expect_error(check_targets("mse", array(0, c(2, 3, 2)), c(NA, 2, 3)), class = "selu_error",
               regexp = "`y` has shape \\(2, 3, 2\\)")
  for (bad in list(c(1, NA), c(1, NaN), c(1, Inf), c(-Inf, 0))) {
    for (loss in c("mse", "binary_crossentropy", scce)) {
      expect_error(check_targets(loss, bad, c(NA, 2)), class = "selu_error",
                   regexp = "`y` must hold finite numbers")
    }
  }
  expect_error(check_targets("mse", data.frame(a = 1:2), c(NA, 1)), class = "selu_error",
               regexp = "`y` must be a numeric vector, matrix or array, not a data frame")
  expect_error(check_targets("mse", c("a", "b"), c(NA, 1)), class = "selu_error",
               regexp = "`y` must be a numeric")
  expect_error(check_targets("mse", list(1, 2), c(NA, 1)), class = "selu_error", regexp = "`y`")
  expect_error(check_targets("mse", factor("a"), c(NA, 1)), class = "selu_error",
               regexp = "`y` is a factor")
  expect_error(check_targets("mse", numeric(0), c(NA, 1)), class = "selu_error",
               regexp = "`y` must hold at least one value")
  expect_error(check_targets("mse", c(1, NA), c(NA, 1), arg = "validation y"),
               class = "selu_error", regexp = "`validation y`")
  expect_error(check_targets("mse", 1, c(NA, 1), call = quote(fit(model))), class = "selu_error",
               regexp = NA)
})

test_that("the exported losses check every argument", {
  for (fun in list(loss_binary_crossentropy, loss_categorical_crossentropy,
                   loss_sparse_categorical_crossentropy)) {
    expect_error(fun(from_logits = NA), class = "selu_error", regexp = "`from_logits`")
    expect_error(fun(from_logits = "yes"), class = "selu_error", regexp = "`from_logits`")
  }
  for (fun in list(loss_binary_crossentropy, loss_categorical_crossentropy)) {
    for (bad in list(-0.1, 1.5, NA, "a", c(0.1, 0.2), NULL)) {
      expect_error(fun(label_smoothing = bad), class = "selu_error", regexp = "`label_smoothing`")
    }
  }
  for (bad in list(0, -1, Inf, NA, "1", NULL)) {
    expect_error(loss_huber(delta = bad), class = "selu_error", regexp = "`delta` must be")
  }
  for (fun in list(loss_mean_squared_error, loss_mean_absolute_error, loss_huber,
                   loss_binary_crossentropy, loss_categorical_crossentropy,
                   loss_sparse_categorical_crossentropy)) {
    expect_error(fun(name = ""), class = "selu_error", regexp = "`name`")
    expect_error(fun(name = 1), class = "selu_error", regexp = "`name`")
    expect_error(fun(reduction = "sum"), class = "selu_error", regexp = "`reduction`")
    expect_error(fun(y_true = 1), class = "selu_error", regexp = "`y_pred` is missing")
    expect_error(fun(y_pred = 1), class = "selu_error", regexp = "`y_true` is missing")
  }
  expect_error(loss_mean_squared_error(1:3, 1:2), class = "selu_error",
               regexp = "`y_true` has 3 samples \\(rows\\) but `y_pred` has 2")
  expect_error(loss_mean_squared_error(1:2, c("a", "b")), class = "selu_error",
               regexp = "`y_pred` must be a numeric")
  expect_error(loss_mean_squared_error(1:2, matrix(0, 2, 0)), class = "selu_error",
               regexp = "`y_pred` must hold at least one sample")
  expect_error(loss_sparse_categorical_crossentropy(c(0, 2), matrix(0.5, 2, 2)),
               class = "selu_error",
               regexp = "`y_true` holds the class 2, but `y_pred` has 2 classes (0 to 1).",
               fixed = TRUE)
  expect_error(loss_categorical_crossentropy(diag(2), matrix(0.5, 2, 3)), class = "selu_error",
               regexp = "`y_true` has shape (2, 2), but `y_pred` has shape (2, 3).", fixed = TRUE)
})

test_that("loss objects check their arguments", {
  mse <- loss_mean_squared_error()
  expect_error(mse(), class = "selu_error", regexp = "`y_true` is missing")
  expect_error(mse(1:2), class = "selu_error", regexp = "`y_pred` is missing")
  expect_error(mse(c(1, NA), 1:2), class = "selu_error", regexp = "`y_true` must hold finite")
  for (bad in list(c(1, -1), c(1, NA), c(1, Inf), 1, "a", list(1, 1), matrix(1, 2, 2))) {
    expect_error(mse(1:2, 1:2, sample_weight = bad), class = "selu_error",
                 regexp = "`sample_weight` must be NULL or 2 finite non-negative numbers")
  }
  expect_identical(mse(1:2, c(1, 4), sample_weight = c(0, 0)), 0)
  # predictions that are not finite give a loss that is not finite, without a warning
  expect_identical(mse(1:2, c(NaN, 1)), NaN)
  expect_no_warning(value <- loss_categorical_crossentropy()(diag(2), matrix(c(-1, 1, 1, -1), 2)))
  expect_true(is.finite(value))
})

test_that("the per-sample form takes odd data with a classed error naming it", {
  odd <- list(NULL, NA, "a", list(1), function(x) x, globalenv(), data.frame(a = 1),
              factor("a"), matrix("a", 2, 2), 1i, numeric(0), matrix(0, 0, 2), Sys.Date(),
              c(Inf, 1), c(NaN, NaN), 1:1e5, array(1:8, c(2, 2, 2)), quote(x), 1e308)
  valid <- list(y_true = diag(2), y_pred = matrix(c(0.8, 0.3, 0.2, 0.7), 2))
  funs <- list(loss_mean_squared_error, loss_mean_absolute_error, loss_huber,
               loss_binary_crossentropy, loss_categorical_crossentropy,
               sparse = loss_sparse_categorical_crossentropy)
  for (i in seq_along(funs)) {
    args <- valid
    if (identical(names(funs)[i], "sparse")) args$y_true <- c(0, 1)
    expect_length(do.call(funs[[i]], args), 2)
    for (arg in names(args)) {
      for (value in odd) {
        call_args <- args
        call_args[arg] <- list(value)
        outcome <- tryCatch({
          do.call(funs[[i]], call_args, quote = TRUE)
          "ok"
        }, warning = function(w) paste("warning", conditionMessage(w)), error = identity)
        if (!identical(outcome, "ok")) {
          expect_s3_class(outcome, "selu_error")
          expect_match(conditionMessage(outcome), paste0("`", arg, "`"), fixed = TRUE)
        }
      }
    }
  }
})

test_that("get_config() gives keras' configuration and loss_from_config() rebuilds it", {
  config <- get_config(loss_binary_crossentropy(label_smoothing = 0.1, name = "bce"))
  expect_identical(attr(config, "class_name"), "BinaryCrossentropy")
  expect_identical(unclass(config)[names(config)],
                   list(reduction = "auto", name = "bce", from_logits = FALSE, label_smoothing = 0.1))
  expect_identical(attr(get_config(loss_huber(delta = 2)), "class_name"), "Huber")
  expect_identical(get_config(loss_huber(delta = 2))$delta, 2)
  losses <- list(loss_mean_squared_error(), loss_mean_absolute_error(name = "l1"),
                 loss_binary_crossentropy(from_logits = TRUE),
                 loss_categorical_crossentropy(label_smoothing = 0.2),
                 loss_sparse_categorical_crossentropy(from_logits = TRUE), loss_huber(delta = 0.5))
  classes <- c("MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
               "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Huber")
  for (i in seq_along(losses)) {
    config <- get_config(losses[[i]])
    expect_identical(attr(config, "class_name"), classes[i])
    rebuilt <- loss_from_config(config)
    expect_identical(get_config(rebuilt), config)
    y <- if (i == 5) c(0, 1) else diag(2)
    p <- matrix(c(0.8, 0.3, 0.2, 0.7), 2)
    expect_identical(rebuilt(y, p), losses[[i]](y, p))
  }
  expect_error(loss_from_config(list(name = "a")), class = "selu_error", regexp = "`config`")
  expect_error(loss_from_config(structure(list(name = "a"), class_name = "Hinge")),
               class = "selu_error", regexp = "`config`")
  expect_error(loss_from_config(structure(list(reduction = "auto", name = "h"),
                                          class_name = "Huber")),
               class = "selu_error", regexp = "`config` of a Huber must have the keys")
  expect_error(loss_from_config(structure(list(reduction = "auto", name = "h", delta = -1),
                                          class_name = "Huber")),
               class = "selu_error", regexp = "`config` holds a bad value: `delta`")
  expect_error(get_config(loss_huber(), 1), class = "selu_error", regexp = "Unknown argument")
  expect_error(get_config(structure(function(y_true, y_pred) 1, class = "selu_loss")),
               class = "selu_error", regexp = "`object` must be")
})

test_that("a loss prints its class and configuration", {
  expect_output(print(loss_huber(delta = 2)),
                "<loss Huber>(reduction = \"auto\", name = \"huber\", delta = 2)", fixed = TRUE)
  expect_output(print(loss_categorical_crossentropy()), "from_logits = FALSE, label_smoothing = 0",
                fixed = TRUE)
})

test_that("binary cross-entropy of targets outside [0, 1] warns and computes on them, as keras", {
  y <- 0:9
  # p = 1/2: log 2 whatever the target
  expect_warning(half <- loss_binary_crossentropy(y, rep(0.5, 10)), class = "selu_warning",
                 regexp = "`y_true` holds values outside [0, 1] (from 0 to 9), where binary_crossentropy",
                 fixed = TRUE)
  expect_equal(half, rep(log(2), 10), tolerance = 1e-15)
  # p = 3/4: -(y log 3/4 + (1 - y) log 1/4) = log 4 - y log 3, below 0 from y = 2
  expect_warning(three_quarters <- loss_binary_crossentropy(y, rep(0.75, 10)), class = "selu_warning")
  expect_equal(three_quarters, log(4) - y * log(3), tolerance = 1e-14)
  expect_warning(from_logits <- loss_binary_crossentropy(from_logits = TRUE)(y, rep(log(3), 10)),
                 class = "selu_warning")
  expect_equal(from_logits, mean(log(4) - y * log(3)), tolerance = 1e-14)
  expect_warning(loss_binary_crossentropy(c(-0.5, 1), c(0.5, 0.5)), regexp = "from -0.5 to 1")

  # in training too: one warning naming `y`, and the loss the model's
  # predictions give before its one step (zero weights predict sigmoid(0) = 1/2)
  model <- keras_model_sequential(input_shape = 2) |>
    layer_dense(1, activation = "sigmoid", kernel_initializer = "zeros")
  compile(model, optimizer = "sgd", loss = "binary_crossentropy")
  x <- matrix(rnorm(20), 10, 2)
  warnings <- list()
  history <- withCallingHandlers(
    fit(model, x, y, epochs = 1, batch_size = 10, verbose = 0),
    warning = function(w) {
      warnings[[length(warnings) + 1]] <<- w
      invokeRestart("muffleWarning")
    })
  expect_length(warnings, 1)
  expect_s3_class(warnings[[1]], "selu_warning")
  expect_match(conditionMessage(warnings[[1]]), "^`y` holds values outside \\[0, 1\\]")
  expect_equal(history$metrics$loss, log(2), tolerance = 1e-12)
  # AUC takes labels in [0, 1] only, as keras
  expect_error(metric_auc()(c(0, 2), c(0.1, 0.2)), class = "selu_error",
               regexp = "`y_true` must hold values between 0 and 1 for auc, not values from 0 to 2")
})
