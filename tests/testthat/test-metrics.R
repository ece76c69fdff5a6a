# Metrics: values by hand, streaming over batches against one pass over the
# whole data, the AUC against the exact Mann-Whitney statistic.

# The exact ROC AUC: the chance that a positive scores above a negative,
# ties counted half (Mann-Whitney U over nP * nN), from ranks.
mann_whitney_auc <- function(labels, scores) {
  ranks <- rank(scores)
  n_pos <- sum(labels == 1)
  n_neg <- sum(labels == 0)
  (sum(ranks[labels == 1]) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
}

streamed <- function(metric, batches) {
  state <- metric_reset(metric)
  for (b in batches) state <- metric_update(metric, state, b$y, b$p, b$w)
  metric_result(metric, state)
}

test_that("the accuracies and errors give the hand-computed value of each sample", {
  expect_identical(metric_binary_accuracy(c(1, 0, 1), c(0.8, 0.6, 0.3)), c(1, 0, 0))
  expect_identical(metric_binary_accuracy(c(1, 0, 1), c(0.8, 0.6, 0.3), threshold = 0.7),
                   c(1, 1, 0))
  # a prediction at the threshold is not above it; NaN is not above it either
  expect_identical(metric_binary_accuracy(c(1, 0), c(0.5, NaN)), c(0, 1))
  expect_identical(metric_binary_accuracy(matrix(c(1, 0, 1, 1), 2), matrix(c(0.9, 0.1, 0.2, 0.7), 2)),
                   c(0.5, 1))
  # the largest of each row: classes 0, 1, 0
  probabilities <- matrix(c(0.7, 0.3, 0.2, 0.8, 0.9, 0.1), 3, byrow = TRUE)
  expect_identical(metric_categorical_accuracy(diag(2)[c(1, 1, 2), ], probabilities), c(1, 0, 0))
  expect_identical(metric_sparse_categorical_accuracy(c(0, 0, 1), probabilities), c(1, 0, 0))
  expect_identical(metric_sparse_categorical_accuracy(factor(c("a", "b", "b")), probabilities),
                   c(1, 1, 0))
  # ties go to the first class, as keras' argmax
  expect_identical(metric_sparse_categorical_accuracy(c(0, 1), matrix(0.5, 2, 2)), c(1, 0))
  expect_identical(metric_mean_squared_error(matrix(1:4, 2), matrix(c(1, 2, 4, 6), 2)), c(0.5, 2))
  expect_identical(metric_mean_absolute_error(c(1, 2), c(1.5, 1)), c(0.5, 1))
})

test_that("a metric object gives the weighted mean of one batch", {
  acc <- metric_binary_accuracy()
  expect_s3_class(acc, "selu_metric")
  expect_identical(acc(c(1, 0, 1), c(0.8, 0.6, 0.3)), 1 / 3)
  expect_identical(acc(c(1, 0, 1), c(0.8, 0.6, 0.3), sample_weight = c(3, 1, 0)), 3 / 4)
  expect_identical(metric_mean_absolute_error()(c(1, 2), c(1.5, 1), c(1, 3)), (0.5 + 3) / 4)
  # before any weight, keras' divide_no_nan gives 0
  expect_identical(acc(c(1, 0), c(0.8, 0.6), sample_weight = c(0, 0)), 0)
  expect_identical(metric_result(acc, metric_reset(acc)), 0)
})

test_that("streaming over batches gives the mean over the whole data", {
  set.seed(11)
  n <- 50
  p <- matrix(runif(3 * n), n)
  classes <- sample(0:2, n, replace = TRUE)
  w <- runif(n)
  first <- 1:20
  second <- 21:n
  cases <- list(
    list(metric_sparse_categorical_accuracy(), classes),
    list(metric_categorical_accuracy(), diag(3)[classes + 1, ]),
    list(metric_binary_accuracy(), matrix(rbinom(3 * n, 1, 0.5), n)),
    list(metric_mean_squared_error(), matrix(rnorm(3 * n), n)),
    list(metric_mean_absolute_error(), matrix(rnorm(3 * n), n))
  )
  for (case in cases) {
    metric <- case[[1]]
    y <- case[[2]]
    rows <- function(i) if (is.matrix(y)) y[i, , drop = FALSE] else y[i]
    batches <- list(list(y = rows(first), p = p[first, ], w = w[first]),
                    list(y = rows(second), p = p[second, ], w = w[second]))
    whole <- list(list(y = y, p = p, w = w))
    expect_equal(streamed(metric, batches), streamed(metric, whole), info = metric_name(metric))
    # and the weighted mean of the per-sample values
    fun <- get(paste0("metric_", metric_name(metric)))
    expect_equal(streamed(metric, whole), sum(w * fun(y, p)) / sum(w), info = metric_name(metric))
  }
})

test_that("metric_update() takes the targets check_targets() gives for the loss", {
  p <- matrix(c(0.7, 0.2, 0.3, 0.8), 2)
  classes <- check_targets("sparse_categorical_crossentropy", c(0, 0), c(NA, 2))
  for (metric in list(metric_categorical_accuracy(), metric_sparse_categorical_accuracy())) {
    expect_identical(metric_result(metric, metric_update(metric, metric_reset(metric), classes, p)),
                     0.5)
  }
  onehot <- check_targets("categorical_crossentropy", diag(2)[c(1, 1), ], c(NA, 2))
  for (metric in list(metric_categorical_accuracy(), metric_sparse_categorical_accuracy())) {
    expect_identical(metric_result(metric, metric_update(metric, metric_reset(metric), onehot, p)),
                     0.5)
  }
  # class indices become one-hot rows for metrics of the output's shape:
  # rows (0.7, 0.3) and (0.2, 0.8) against (1, 0): errors (0.3, 0.3) and (0.8, 0.8)
  mse <- metric_mean_squared_error()
  expect_equal(metric_result(mse, metric_update(mse, metric_reset(mse), classes, p)),
               mean(c(0.3^2, 0.3^2, 0.8^2, 0.8^2)))
  binary <- check_targets("binary_crossentropy", c(1, 0), c(NA, 1))
  acc <- metric_binary_accuracy()
  expect_identical(metric_result(acc, metric_update(acc, metric_reset(acc), binary,
                                                    matrix(c(0.6, 0.7)))), 0.5)
})

test_that("the AUC matches keras' documented examples", {
  # tf.keras.metrics.AUC(num_thresholds = 3): thresholds (-1e-7, 0.5, 1 + 1e-7),
  # tp (2, 1, 0), fp (2, 0, 0): ((1 + 0.5) / 2) * (1 - 0) = 0.75
  auc <- metric_auc(num_thresholds = 3)
  expect_identical(auc(c(0, 0, 1, 1), c(0, 0.5, 0.3, 0.9)), 0.75)
  expect_identical(auc(c(0, 0, 1, 1), c(0, 0.5, 0.3, 0.9), sample_weight = c(1, 0, 0, 1)), 1)
})

test_that("the AUC of a tiny case is exact", {
  # 5 thresholds (-eps, 0.25, 0.5, 0.75, 1 + eps); positives at 0.6 and 0.9,
  # negatives at 0.1 and 0.6. Above each threshold: tp (2, 2, 2, 1, 0),
  # fp (2, 1, 1, 0, 0): TPR (1, 1, 1, 0.5, 0), FPR (1, 0.5, 0.5, 0, 0).
  # Trapezoids: 0.5 * 1 + 0 + 0.5 * 0.75 + 0 = 0.875
  auc <- metric_auc(num_thresholds = 5)
  expect_equal(auc(c(1, 1, 0, 0), c(0.6, 0.9, 0.1, 0.6)), 0.875)
  # Mann-Whitney: pairs (0.6 > 0.1), (0.6 = 0.6: 1/2), (0.9 > both): 3.5 / 4
  expect_equal(mann_whitney_auc(c(1, 1, 0, 0), c(0.6, 0.9, 0.1, 0.6)), 0.875)
  # PR by keras' interpolation, num_thresholds 3 on keras' example: tp (2, 1, 0),
  # predicted positives (4, 1, 0), positives 2. First interval: slope 1/3,
  # intercept 1 - 1/3; (1/3) (1 + (2/3) log 4) / 2. Second: slope 1, intercept 0: 1/2.
  pr <- metric_auc(num_thresholds = 3, curve = "PR")
  expect_equal(pr(c(0, 0, 1, 1), c(0, 0.5, 0.3, 0.9)), (1 + 2 / 3 * log(4)) / 6 + 1 / 2)
  # perfectly separated scores: both areas are 1
  expect_identical(metric_auc()(c(1, 1, 0, 0), c(0.9, 0.8, 0.2, 0.1)), 1)
  expect_identical(metric_auc(curve = "PR")(c(1, 1, 0, 0), c(0.9, 0.8, 0.2, 0.1)), 1)
  # no positives: every rate is 0 (divide_no_nan)
  expect_identical(metric_auc()(c(0, 0), c(0.2, 0.7)), 0)
})

test_that("the AUC of 200 thresholds is within 1e-2 of the exact one", {
  set.seed(7)
  n <- 1000
  labels <- rbinom(n, 1, 0.4)
  scores <- stats::plogis(rnorm(n, mean = labels))
  exact <- mann_whitney_auc(labels, scores)
  auc <- metric_auc()
  expect_equal(auc(labels, scores), exact, tolerance = 1e-2)
  # integer sample weights are repeated samples
  w <- sample(0:3, n, replace = TRUE)
  expect_equal(auc(labels, scores, sample_weight = w),
               mann_whitney_auc(rep(labels, w), rep(scores, w)), tolerance = 1e-2)
  # streaming accumulates the counts: the same as one batch
  batches <- list(list(y = labels[1:300], p = scores[1:300], w = w[1:300]),
                  list(y = labels[301:n], p = scores[301:n], w = w[301:n]))
  expect_equal(streamed(auc, batches), auc(labels, scores, w))
  # from logits: the sigmoid first
  expect_identical(metric_auc(from_logits = TRUE)(labels, stats::qlogis(scores)),
                   auc(labels, stats::plogis(stats::qlogis(scores))))
  # columns are pooled (multi_label = FALSE)
  expect_identical(auc(matrix(labels, ncol = 2), matrix(scores, ncol = 2)), auc(labels, scores))
  # the PR area is near the precision averaged over the positives
  ordered <- order(scores, decreasing = TRUE)
  hits <- labels[ordered]
  average_precision <- sum((cumsum(hits) / seq_along(hits))[hits == 1]) / sum(hits)
  expect_equal(metric_auc(curve = "PR")(labels, scores), average_precision, tolerance = 2e-2)
})

test_that("the AUC takes predictions outside [0, 1] and NaN", {
  auc <- metric_auc(num_thresholds = 3)
  # -1 counts as 0, 2 as 1: the keras example again
  expect_identical(auc(c(0, 0, 1, 1), c(-1, 0.5, 0.3, 2)), 0.75)
  expect_no_warning(value <- auc(c(0, 1), c(NaN, 0.7)))
  expect_true(is.finite(value))
})

test_that("as_metrics() chooses the accuracy as keras does", {
  accuracy_kind <- function(loss, shape, name = "accuracy") {
    metric <- as_metrics(name, loss, shape)[[1]]
    attr(get_config(metric), "class_name")
  }
  expect_identical(accuracy_kind("binary_crossentropy", c(NA, 3)), "BinaryAccuracy")
  expect_identical(accuracy_kind("categorical_crossentropy", c(NA, 1)), "BinaryAccuracy")
  expect_identical(accuracy_kind("mse", c(NA, 1)), "BinaryAccuracy")
  expect_identical(accuracy_kind("sparse_categorical_crossentropy", c(NA, 5)),
                   "SparseCategoricalAccuracy")
  expect_identical(accuracy_kind(loss_sparse_categorical_crossentropy(), c(NA, 5), "acc"),
                   "SparseCategoricalAccuracy")
  expect_identical(accuracy_kind("categorical_crossentropy", c(NA, 5)), "CategoricalAccuracy")
  expect_identical(accuracy_kind("mse", c(NA, 2)), "CategoricalAccuracy")
  expect_identical(accuracy_kind(NULL, c(NA, 2)), "CategoricalAccuracy")
  expect_identical(accuracy_kind("mse", c(NA, 4, 1)), "BinaryAccuracy")
})

test_that("as_metrics() gives unique log keys", {
  expect_identical(as_metrics(NULL, "mse", c(NA, 1)), list())
  expect_identical(as_metrics(character(0), "mse", c(NA, 1)), list())
  metrics <- as_metrics(list("acc", "mae", "mean_squared_error", "auc", metric_auc(),
                             metric_auc(name = "auc_1"), metric_mean_absolute_error(name = "l1")),
                        "binary_crossentropy", c(NA, 1))
  keys <- c("acc", "mae", "mean_squared_error", "auc", "auc_2", "auc_1", "l1")
  expect_identical(names(metrics), keys)
  expect_identical(vapply(metrics, metric_name, "", USE.NAMES = FALSE), keys)
  expect_identical(names(as_metrics(c("accuracy", "mse", "auc", "auc", "auc"), "mse", c(NA, 1))),
                   c("accuracy", "mse", "auc", "auc_1", "auc_2"))
  expect_identical(names(as_metrics(c("binary_accuracy", "categorical_accuracy",
                                      "sparse_categorical_accuracy", "mean_absolute_error"),
                                    "mse", c(NA, 2))),
                   c("binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                     "mean_absolute_error"))
  single <- as_metrics(metric_auc(curve = "PR"), "binary_crossentropy", c(NA, 1))
  expect_identical(names(single), "auc")
  expect_identical(get_config(single$auc)$curve, "PR")
  # a renamed metric keeps its parameters
  renamed <- as_metrics(list(metric_auc(num_thresholds = 7), metric_auc(num_thresholds = 9)),
                        "mse", c(NA, 1))
  expect_identical(get_config(renamed$auc_1)$num_thresholds, 9L)
})

test_that("as_metrics() rejects what is not a metric, naming `metrics`", {
  for (bad in list("f1", NA_character_, list("acc", 1), list(NULL), data.frame(a = 1), 1,
                   function(y_true, y_pred) 1, list(list("acc")))) {
    expect_error(as_metrics(bad, "mse", c(NA, 1)), class = "selu_error", regexp = "`metrics`")
  }
  expect_error(as_metrics(c("acc", "f1"), "mse", c(NA, 1)), class = "selu_error",
               regexp = "`metrics` must hold metric objects or the names .*element 2 is the string \"f1\"")
})

test_that("the exported metrics check every argument", {
  for (bad in list(NA, Inf, "0.5", c(0.1, 0.2), NULL)) {
    expect_error(metric_binary_accuracy(threshold = bad), class = "selu_error",
                 regexp = "`threshold` must be a single finite number")
  }
  for (bad in list(1, 2.5, 1e7, NA, "200", NULL, c(10, 20))) {
    expect_error(metric_auc(num_thresholds = bad), class = "selu_error",
                 regexp = "`num_thresholds` must be a whole number from 2 to 1,000,000")
  }
  for (bad in list("XY", NA, 1, c("ROC", "PR"), NULL)) {
    expect_error(metric_auc(curve = bad), class = "selu_error",
                 regexp = "`curve` must be \"ROC\" or \"PR\"")
  }
  expect_identical(get_config(metric_auc(curve = "pr"))$curve, "PR")
  expect_error(metric_auc(from_logits = NA), class = "selu_error", regexp = "`from_logits`")
  expect_error(metric_auc(name = ""), class = "selu_error", regexp = "`name`")
  expect_error(metric_auc(multi_label = TRUE), class = "selu_error", regexp = "`multi_label`")
  for (fun in list(metric_binary_accuracy, metric_categorical_accuracy,
                   metric_sparse_categorical_accuracy, metric_mean_squared_error,
                   metric_mean_absolute_error)) {
    expect_error(fun(name = 2), class = "selu_error", regexp = "`name`")
    expect_error(fun(dtype = "float32"), class = "selu_error", regexp = "`dtype`")
    expect_error(fun(y_true = 1), class = "selu_error", regexp = "`y_pred` is missing")
    expect_error(fun(y_pred = 1), class = "selu_error", regexp = "`y_true` is missing")
  }
  expect_error(metric_categorical_accuracy(c(0, 1), matrix(0.5, 2, 2)), class = "selu_error",
               regexp = "`y_true` looks like class indices.*sparse_categorical_accuracy")
  expect_error(metric_sparse_categorical_accuracy(c(0, 2), matrix(0.5, 2, 2)),
               class = "selu_error", regexp = "`y_true` holds the class 2, but `y_pred` has 2 classes")
  expect_error(metric_binary_accuracy(1:3, 1:2), class = "selu_error",
               regexp = "`y_true` has 3 samples")
  auc <- metric_auc()
  expect_error(auc(), class = "selu_error", regexp = "`y_true` is missing")
  expect_error(auc(c(0, 1)), class = "selu_error", regexp = "`y_pred` is missing")
  expect_error(auc(c(0, 2), c(0.1, 0.2)), class = "selu_error",
               regexp = "`y_true` must hold values between 0 and 1 for auc")
  expect_error(auc(c(0, 1), c(0.1, 0.2), sample_weight = c(1, NA)), class = "selu_error",
               regexp = "`sample_weight`")
})

test_that("get_config() gives keras' configuration and a metric prints it", {
  config <- get_config(metric_binary_accuracy(threshold = 0.7))
  expect_identical(attr(config, "class_name"), "BinaryAccuracy")
  expect_identical(unclass(config)[names(config)],
                   list(name = "binary_accuracy", dtype = "float64", threshold = 0.7))
  config <- get_config(metric_auc(num_thresholds = 50, from_logits = TRUE))
  expect_identical(attr(config, "class_name"), "AUC")
  expect_identical(unclass(config)[names(config)],
                   list(name = "auc", dtype = "float64", num_thresholds = 50L, curve = "ROC",
                        summation_method = "interpolation", multi_label = FALSE,
                        from_logits = TRUE))
  classes <- c(categorical_accuracy = "CategoricalAccuracy",
               sparse_categorical_accuracy = "SparseCategoricalAccuracy",
               mean_squared_error = "MeanSquaredError", mean_absolute_error = "MeanAbsoluteError")
  for (name in names(classes)) {
    metric <- get(paste0("metric_", name))()
    expect_identical(attr(get_config(metric), "class_name"), classes[[name]])
    expect_identical(get_config(metric)$name, name)
  }
  expect_output(print(metric_binary_accuracy()),
                "<metric BinaryAccuracy>(name = \"binary_accuracy\", dtype = \"float64\", threshold = 0.5)",
                fixed = TRUE)
  expect_error(get_config(structure(function(y_true, y_pred) 1, class = "selu_metric")),
               class = "selu_error", regexp = "`object` must be")
})
