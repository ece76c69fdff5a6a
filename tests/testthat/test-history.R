example_history <- function(epochs = 10, run = 10, validation = TRUE, samples = 1000,
                            validation_samples = NULL) {
  metrics <- list(loss = seq(0.9, 0.35612, length.out = run),
                  accuracy = seq(0.5, 0.86914, length.out = run))
  if (validation) {
    metrics$val_loss <- seq(1, 0.37861, length.out = run)
    metrics$val_accuracy <- seq(0.45, 0.86521, length.out = run)
  }
  new_history(
    params = list(verbose = 1, epochs = epochs, steps = 32, samples = samples, batch_size = 32,
                  validation_samples = validation_samples),
    metrics = metrics
  )
}

test_that("new_history makes R keras' object", {
  history <- new_history(
    params = list(samples = 100, epochs = 2, verbose = 0, batch_size = 10, steps = 10,
                  validation_samples = NULL, extra = "kept"),
    metrics = list(loss = c(2L, 1L), val_loss = c(3, 2.5))
  )
  expect_s3_class(history, "keras_training_history", exact = TRUE)
  expect_named(history, c("params", "metrics"))
  expect_identical(history$params, list(verbose = 0, epochs = 2, steps = 10, samples = 100,
                                        batch_size = 10, validation_samples = NULL,
                                        extra = "kept"))
  expect_identical(history$metrics, list(loss = c(2, 1), val_loss = c(3, 2.5)))
  # a metric recorded on fewer epochs is padded with NA, as in R keras
  padded <- new_history(list(epochs = 3), list(loss = c(3, 2, 1), val_loss = 5))
  expect_identical(padded$metrics$val_loss, c(5, NA, NA))
  expect_identical(new_history(list(epochs = 0), list())$metrics, list())
})

test_that("print gives R keras' text", {
  expect_identical(capture.output(print(example_history())), c(
    "Trained on 1,000 samples (batch_size=32, epochs=10)",
    "Final epoch (plot to see history):",
    "        loss: 0.3561",
    "    accuracy: 0.8691",
    "    val_loss: 0.3786",
    "val_accuracy: 0.8652 "
  ))
  # stopped early: the epochs run; validation samples when known
  expect_identical(capture.output(print(example_history(run = 4, validation_samples = 25000))), c(
    "Trained on 1,000 samples, validated on 25,000 samples (batch_size=32, epochs=4)",
    "Final epoch (plot to see history):",
    "        loss: 0.3561",
    "    accuracy: 0.8691",
    "    val_loss: 0.3786",
    "val_accuracy: 0.8652 "
  ))
  # the samples unknown (as R keras with TensorFlow 2.2 and later): no first line
  expect_identical(capture.output(print(example_history(samples = NULL, validation = FALSE))), c(
    "",
    "Final epoch (plot to see history):",
    "    loss: 0.3561",
    "accuracy: 0.8691 "
  ))
  # four significant digits, big marks, no scientific notation, NA
  odd <- new_history(list(samples = 12345678, batch_size = 1024, epochs = 1),
                     list(loss = 12345.678, mae = 1.23456e-6, mse = NA))
  expect_identical(capture.output(print(odd)), c(
    "Trained on 12,345,678 samples (batch_size=1,024, epochs=1)",
    "Final epoch (plot to see history):",
    "loss: 12,346",
    " mae: 0.000001235",
    " mse: NA "
  ))
  expect_identical(capture.output(print(new_history(list(samples = 10, batch_size = 5, epochs = 3),
                                                    list()))),
                   "Trained on 10 samples (batch_size=5, epochs=0) ")
  capture.output(expect_invisible(print(example_history())))
})

test_that("as.data.frame is R keras' long form", {
  history <- new_history(list(epochs = 3),
                         list(loss = c(3, 2, 1), acc = c(0.1, 0.2, 0.3),
                              val_loss = c(4, 3, 2), val_acc = c(0.05, 0.1, 0.15)))
  expected <- data.frame(
    epoch = rep(1:3, 4),
    value = c(3, 2, 1, 0.1, 0.2, 0.3, 4, 3, 2, 0.05, 0.1, 0.15),
    metric = factor(rep(c("loss", "acc", "loss", "acc"), each = 3), levels = c("loss", "acc")),
    data = factor(rep(c("training", "validation"), each = 6), levels = c("training", "validation"))
  )
  expect_identical(as.data.frame(history), expected)
  # without validation data, the validation level is still there
  df <- as.data.frame(new_history(list(epochs = 2), list(loss = c(2, 1))))
  expect_identical(levels(df$data), c("training", "validation"))
  expect_identical(df$epoch, 1:2)
  # rows for the epochs run only (R keras pads to the epochs asked for)
  expect_identical(nrow(as.data.frame(example_history(epochs = 10, run = 4))), 16L)
  empty <- as.data.frame(new_history(list(epochs = 0), list()))
  expect_identical(nrow(empty), 0L)
  expect_identical(vapply(empty, class, ""), c(epoch = "integer", value = "numeric",
                                               metric = "factor", data = "factor"))
})

test_that("plot draws with base graphics, with and without validation data", {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  par_before <- graphics::par("mfrow", "mar")
  expect_invisible(plot(example_history()))
  expect_identical(graphics::par("mfrow", "mar"), par_before)
  expect_identical(plot(example_history(validation = FALSE)), example_history(validation = FALSE))
  plot(example_history(run = 3))                  # too few epochs to smooth
  plot(example_history(), smooth = FALSE, theme_bw = TRUE)
  plot(example_history(), metrics = "accuracy")
  plot(example_history(), metrics = c("val_loss", "loss"), main = "", col.axis = "grey30")
  plot(new_history(list(epochs = 1), list(loss = 1, val_loss = 2)))
  # values that are not finite leave gaps
  plot(new_history(list(epochs = 12), list(loss = c(NaN, Inf, 1:10), val_loss = rep(NA, 12))))
  withr_option <- options(keras.plot.history.smooth = FALSE)
  on.exit(options(withr_option), add = TRUE)
  plot(example_history())
})

test_that("the smooth line is the loess of R keras's plot, following steep first epochs", {
  # a loss that falls fast, then levels off
  epoch <- 1:20
  value <- 2 * exp(-epoch / 2) + 0.3 + 0.01 * sin(epoch)
  smooth <- history_smooth(epoch, value)
  expect_equal(smooth$x, seq(1, 20, length.out = 80))
  # by hand (Cleveland 1979): at x0, the 15 (floor(0.75 n)) nearest epochs
  # weighted (1 - (d / h)^3)^3, h the distance to the 15th, and a weighted
  # least-squares quadratic; its value at x0
  by_hand <- vapply(smooth$x, function(x0) {
    d <- abs(epoch - x0)
    h <- sort(d)[15]
    w <- ifelse(d < h, (1 - (d / h)^3)^3, 0)
    design <- cbind(1, epoch - x0, (epoch - x0)^2)
    solve(crossprod(design, w * design), crossprod(design, w * value))[1]
  }, 0)
  expect_equal(smooth$y, by_hand, tolerance = 1e-12)
  # it follows the steep start: within 0.15 of the first epoch's loss, where
  # lowess() stayed 0.4 below it
  expect_lt(abs(smooth$y[1] - value[1]), 0.15)
  expect_lt(abs(smooth$y[80] - value[20]), 0.01)
})

test_that("plot's arguments are checked", {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  history <- example_history()
  expect_error(plot(history, method = "ggplot2"), class = "selu_error",
               regexp = "`method` must be \"base\" .*not the string \"ggplot2\"")
  expect_error(plot(history, method = c("auto", "ggplot2", "base")), class = "selu_error",
               regexp = "`method`")
  expect_error(plot(history, smooth = NA), class = "selu_error", regexp = "`smooth` must be TRUE or FALSE")
  expect_error(plot(history, theme_bw = "yes"), class = "selu_error", regexp = "`theme_bw` must be TRUE or FALSE")
  expect_error(plot(history, metrics = "mae"), class = "selu_error",
               regexp = "`metrics` must be NULL or names of the history's metrics \\(\"loss\", \"accuracy\"\\), not the string \"mae\"")
  expect_error(plot(history, metrics = character(0)), class = "selu_error", regexp = "`metrics`")
  expect_error(plot(history, metrics = 1), class = "selu_error", regexp = "`metrics`")
  expect_error(plot(new_history(list(epochs = 0), list(loss = numeric(0)))), class = "selu_error",
               regexp = "`x` has no epochs to plot")
  old <- options(keras.plot.history.smooth = "yes")
  on.exit(options(old), add = TRUE)
  expect_error(plot(history), class = "selu_error", regexp = "`smooth`")
})

test_that("a malformed history is an error naming `x`", {
  bad <- list(
    structure(list(params = list(), metrics = list(1)), class = "keras_training_history"),
    structure(list(params = list(), metrics = list(loss = "a")), class = "keras_training_history"),
    structure(list(params = 1, metrics = list(loss = 1)), class = "keras_training_history"),
    structure(list(params = list(), metrics = list(loss = 1, acc = c(1, 2))),
              class = "keras_training_history"),
    structure(list(), class = "keras_training_history"),
    structure(1, class = "keras_training_history")
  )
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  for (x in bad) {
    expect_error(print(x), class = "selu_error", regexp = "`x` must be a training history")
    expect_error(as.data.frame(x), class = "selu_error", regexp = "`x` must be a training history")
    expect_error(plot(x), class = "selu_error", regexp = "`x` must be a training history")
  }
})
