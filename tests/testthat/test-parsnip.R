# The "selu" engine of parsnip's mlp(), in workflows and tune_grid().

skip_if_no_tidymodels <- function() {
  for (p in c("parsnip", "workflows", "recipes", "rsample", "tune", "yardstick")) {
    skip_if_not_installed(p)
  }
}

boston <- function() {
  data(BostonHousing, package = "mlbench", envir = environment())
  BostonHousing
}

test_that("the engine is registered for regression and classification", {
  skip_if_not_installed("parsnip")
  engines <- parsnip::show_engines("mlp")
  expect_true(all(c("regression", "classification") %in% engines$mode[engines$engine == "selu"]))
  spec <- parsnip::set_engine(parsnip::mlp(hidden_units = 4, epochs = 3), "selu", batch_size = 16)
  translated <- parsnip::translate(parsnip::set_mode(spec, "regression"))
  expect_identical(translated$method$fit$func, c(pkg = "selu", fun = "snn_engine_fit"))
  expect_identical(rlang::eval_tidy(translated$method$fit$args$batch_size), 16)
})

test_that("mlp() with the engine fits snn() with its arguments and predicts as tidymodels", {
  skip_if_not_installed("parsnip")
  spec <- parsnip::mlp(hidden_units = 8, penalty = 0.001, dropout = 0.05, epochs = 20,
                       learn_rate = 0.01) |>
    parsnip::set_engine("selu", hidden_layers = 3, validation = 0) |>
    parsnip::set_mode("classification")
  set.seed(1)
  fitted <- generics::fit(spec, Species ~ ., data = iris)
  snn_fit <- fitted$fit
  expect_s3_class(snn_fit, "selu_snn")
  expect_identical(snn_fit$settings$hidden_units, c(8L, 8L, 8L))
  expect_identical(snn_fit$settings$penalty, 0.001)
  expect_identical(snn_fit$settings$dropout, 0.05)
  expect_identical(snn_fit$settings$epochs, 20L)
  expect_identical(snn_fit$settings$learn_rate, 0.01)
  classes <- predict(fitted, iris[c(1, 51, 101), ])
  expect_named(classes, ".pred_class")
  probs <- predict(fitted, iris[c(1, 51, 101), ], type = "prob")
  expect_named(probs, paste0(".pred_", levels(iris$Species)))
  expect_equal(rowSums(probs), rep(1, 3), tolerance = 1e-12)
  expect_error(generics::fit(parsnip::set_mode(parsnip::set_engine(
    parsnip::mlp(activation = "relu"), "selu"), "regression"), mpg ~ ., data = mtcars),
    regexp = "`activation` must be \"selu\"")
})

test_that("a workflow with a recipe tunes on resamples, the same sequentially, on socket and on forked workers", {
  skip_if_no_tidymodels()
  skip_if_not_installed("future")
  skip_on_cran()
  d <- boston()
  set.seed(2)
  folds <- rsample::vfold_cv(d, v = 3)
  rec <- recipes::recipe(medv ~ ., data = d)
  spec <- parsnip::mlp(hidden_units = tune::tune(), penalty = tune::tune(), epochs = 30,
                       learn_rate = 0.005) |>
    parsnip::set_engine("selu") |>
    parsnip::set_mode("regression")
  wf <- workflows::workflow(rec, spec)
  grid <- data.frame(hidden_units = c(8L, 16L), penalty = c(1e-4, 1e-3))
  set.seed(3)
  sequential <- tune::tune_grid(wf, folds, grid = grid)
  metrics <- tune::collect_metrics(sequential)
  expect_identical(nrow(metrics), 4L)
  rmse <- metrics$mean[metrics$.metric == "rmse"]
  # better than predicting the mean (the outcome's sd is 9.2)
  expect_true(all(rmse < 0.7 * sd(d$medv)))

  old_plan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(old_plan), add = TRUE)
  set.seed(3)
  parallel <- tune::tune_grid(wf, folds, grid = grid)
  expect_identical(tune::collect_metrics(parallel), metrics)
  # and on forked workers, after selu has run threaded code in this process
  if (future::supportsMulticore()) {
    future::plan(future::multicore, workers = 2)
    set.seed(3)
    forked <- tune::tune_grid(wf, folds, grid = grid)
    expect_identical(tune::collect_metrics(forked), metrics)
  }

  best <- tune::select_best(sequential, metric = "rmse")
  final <- generics::fit(tune::finalize_workflow(wf, best), d)
  pred <- predict(final, d[1:5, ])
  expect_named(pred, ".pred")
  expect_identical(nrow(pred), 5L)
})
