test_that("selu_threads() reads and sets the thread count", {
  old <- selu_threads()
  on.exit(selu_threads(old))
  expect_true(is.integer(old) && old >= 1)
  expect_identical(selu_threads(1), old)
  expect_identical(selu_threads(), 1L)
  # more than the cores gives the cores
  selu_threads(1e6)
  expect_lte(selu_threads(), max(1L, parallel::detectCores()))
  expect_error(selu_threads(0), "`n` must be a whole number between 1 and")
  expect_error(selu_threads("2"), "`n`", class = "selu_error")
  expect_error(selu_threads(1.5), "`n`")
})

test_that("results are identical bit for bit with 1 and 2 threads", {
  old <- selu_threads()
  on.exit(selu_threads(old))
  set.seed(3)
  x <- c(rnorm(3e5) * 10, NA, NaN, -Inf, Inf, -0, 0, 2^-1074, -2^-1074)
  g <- rnorm(length(x))
  act32 <- layer_activation_selu(dtype = "float32")
  run <- function() list(activation_selu(x), activation_selu_backward(x, g),
                         activation_selu_backward(x, 2), act32(x), backward(act32, x, g))
  selu_threads(1)
  one <- run()
  selu_threads(2)
  two <- run()
  expect_identical(one, two)
})

test_that("softmax and parametric ReLU give the same results with 1 and 2 threads", {
  old <- selu_threads()
  on.exit(selu_threads(old))
  set.seed(4)
  x <- array(rnorm(2e5) * 30, c(100, 200, 10))
  x[1, 1, ] <- -Inf
  x[2, 3, 4] <- NA
  g <- array(rnorm(length(x)), dim(x))
  xm <- matrix(x, 2e4, 10)
  gm <- matrix(g, 2e4, 10)
  alpha <- runif(10)
  run <- function() {
    c(lapply(c(1, 2, 3, -1), function(axis) {
      list(activation_softmax(x, axis), activation_softmax_backward(x, g, axis),
           activation_softmax_backward(x, 2, axis))
    }),
    # ten elements along the first axis: slices in tiles
    list(activation_softmax(t(xm), 1), activation_softmax_backward(t(xm), t(gm), 1)),
    list(activation_parametric_relu_backward(xm, alpha, gm),
         activation_parametric_relu_backward(xm, alpha, 2)))
  }
  selu_threads(1)
  one <- run()
  selu_threads(2)
  two <- run()
  expect_identical(one, two)
  # and the split results are softmax's values, against the formula
  rows <- which(is.finite(rowSums(xm)))
  reference <- t(apply(xm[rows, ], 1, function(r) exp(r - max(r)) / sum(exp(r - max(r)))))
  expect_equal(matrix(two[[4]][[1]], 2e4, 10)[rows, ], reference, tolerance = 1e-14)
})

test_that("predict() and evaluate() run batches side by side on threads, as on one thread", {
  old <- selu_threads()
  on.exit(selu_threads(old))
  set.seed(5)
  x <- matrix(rnorm(1000 * 40), 1000)
  # wide enough that the activations would split over threads by themselves
  network <- function(dtype, activation = "selu") {
    keras_model_sequential(input_shape = 40) |>
      layer_dense(512, activation = activation, dtype = dtype) |>
      layer_batch_normalization(dtype = dtype) |>
      layer_dropout(0.5, dtype = dtype) |>
      layer_dense(64, activation = "tanh", dtype = dtype) |>
      layer_dense(5, activation = "softmax", dtype = dtype)
  }
  codes <- layer_input(shape = 1)
  numbers <- layer_input(shape = 40)
  merged <- layer_concatenate(list(numbers, codes |> layer_embedding(7, 3) |> layer_flatten()))
  graph <- keras_model(list(numbers, codes), list(layer_dense(merged, 2), layer_dense(merged, 1)))
  codes_x <- matrix(sample(0:6, 1000, replace = TRUE))
  models <- list(network("float64"), network("float32"),
                 network("float64", activation = function(x) x / 2))
  classes <- sample(0:4, 1000, replace = TRUE)
  for (model in models) {
    compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy",
            metrics = "accuracy")
  }
  compile(graph, optimizer = "adam", loss = list("mse", "mae"), metrics = "mae")
  targets <- list(matrix(rnorm(2000), 1000), rnorm(1000))
  weights <- runif(1000)
  run <- function() {
    c(lapply(models, function(model) predict(model, x, batch_size = 100)),
      list(predict(graph, list(x, codes_x), batch_size = 128)),
      lapply(models, function(model) evaluate(model, x, classes, batch_size = 64)),
      list(evaluate(graph, list(x, codes_x), targets, sample_weight = weights,
                    batch_size = 33)))
  }
  selu_threads(1)
  one <- run()
  selu_threads(2)
  two <- run()
  expect_identical(one, two)
  # evaluate()'s loss by its formula, from predict()'s probabilities
  p <- two[[1]]
  expect_equal(unname(two[[5]]["loss"]), -mean(log(p[cbind(1:1000, classes + 1)])),
               tolerance = 1e-12)
  expect_equal(unname(two[[5]]["accuracy"]), mean(max.col(p) - 1 == classes))
  outputs <- two[[4]]
  mse <- rowMeans((outputs[[1]] - targets[[1]])^2)
  mae <- abs(outputs[[2]][, 1] - targets[[2]])
  expect_equal(unname(two[[8]][1]), sum(weights * (mse + mae)) / 1000, tolerance = 1e-12)
  # the same numbers as the model's call on all the rows at once
  expect_equal(two[[1]], models[[1]](x), tolerance = 1e-14)
  expect_equal(two[[2]], models[[2]](x), tolerance = 1e-6)
  expect_equal(two[[3]], models[[3]](x), tolerance = 1e-14)
  expect_equal(two[[4]], graph(list(x, codes_x)), tolerance = 1e-14)
  # the reference: softmax's rows sum to one, every batch written
  expect_equal(rowSums(two[[1]]), rep(1, 1000), tolerance = 1e-14)
  expect_false(anyNA(two[[2]]))
})

test_that("OMP_THREAD_LIMIT and options(selu.threads) cap the default", {
  skip_on_cran()
  rscript <- file.path(R.home("bin"), "Rscript")
  installed <- find.package("selu", lib.loc = .libPaths(), quiet = TRUE)
  skip_if(length(installed) == 0, "selu is not installed")
  lib <- dirname(installed[1])
  code <- sprintf("library(selu, lib.loc = '%s'); cat(selu_threads())", lib)
  limited <- system2(rscript, c("-e", shQuote(code)), stdout = TRUE,
                     env = "OMP_THREAD_LIMIT=1")
  expect_identical(limited, "1")
  code <- sprintf("options(selu.threads = 1); library(selu, lib.loc = '%s'); cat(selu_threads())", lib)
  expect_identical(system2(rscript, c("-e", shQuote(code)), stdout = TRUE), "1")
})

# Runs scripts/<script> in an R process of its own with the installed selu,
# under a time limit so that a hang fails instead of stalling the suite, and
# expects each check it reports to have passed.
run_script_checks <- function(script, checks, env = character(), seconds = 120) {
  installed <- find.package("selu", lib.loc = .libPaths(), quiet = TRUE)
  skip_if(length(installed) == 0, "selu is not installed")
  result <- tempfile()
  log <- tempfile()
  on.exit(unlink(c(result, log)))
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    shQuote(c("--vanilla", test_path("scripts", script), dirname(installed[1]),
                              result)),
                    stdout = log, stderr = log, env = env, timeout = seconds)
  if (!file.exists(result)) {
    fail(paste(c(sprintf("%s ended with status %d and no report:", script, status),
                 readLines(log)), collapse = "\n"))
    return(invisible())
  }
  found <- read.table(result, sep = "=", quote = "", col.names = c("check", "passed"))
  expect_identical(nrow(found), checks)
  for (i in seq_len(nrow(found))) expect_true(found$passed[i], info = found$check[i])
}

test_that("forked workers after threaded work compute as the parent and return", {
  skip_on_cran()
  skip_on_os("windows")
  run_script_checks("forked-workers.R", 18L)
})

test_that("selu_threads() bounds OpenBLAS's threads while selu computes", {
  skip_on_cran()
  skip_on_os("windows")
  openblas <- Sys.glob(c("/usr/lib/*/openblas-pthread/libblas.so.3", "/usr/lib/openblas-pthread/libblas.so.3"))
  skip_if(length(openblas) == 0, "OpenBLAS is not installed (Debian: libopenblas0-pthread)")
  # R's start-up script puts R_LD_LIBRARY_PATH first in the library path
  path <- paste(c(dirname(openblas[1]), file.path(R.home(), "lib"), Sys.getenv("R_LD_LIBRARY_PATH")),
                collapse = ":")
  run_script_checks("blas-threads.R", 10L, env = paste0("R_LD_LIBRARY_PATH=", shQuote(path)))
})

test_that("the default honours OMP_NUM_THREADS and R CMD check's core limit", {
  skip_on_cran()
  installed <- find.package("selu", lib.loc = .libPaths(), quiet = TRUE)
  skip_if(length(installed) == 0, "selu is not installed")
  threads_with <- function(env) {
    code <- sprintf("library(selu, lib.loc = '%s'); cat(selu_threads())", dirname(installed[1]))
    system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", "-e", shQuote(code)),
            stdout = TRUE, stderr = FALSE, env = env)
  }
  expect_identical(threads_with("OMP_NUM_THREADS=1"), "1")
  expect_identical(threads_with("OMP_NUM_THREADS=1,1"), "1")
  expect_identical(threads_with("_R_CHECK_LIMIT_CORES_=TRUE"),
                   as.character(min(2L, parallel::detectCores())))
  expect_identical(threads_with("OMP_NUM_THREADS=zero"), as.character(parallel::detectCores()))
})

test_that("models travel to socket workers and predict there as at home", {
  skip_on_cran()
  installed <- find.package("selu", lib.loc = .libPaths(), quiet = TRUE)
  skip_if(length(installed) == 0, "selu is not installed")
  set.seed(5)
  x <- matrix(rnorm(300 * 4), 300)
  y <- as.integer(x[, 1] + x[, 2] > 0)
  model <- keras_model_sequential(input_shape = 4) |>
    layer_dense(16, activation = "selu", kernel_initializer = "lecun_normal") |>
    layer_alpha_dropout(0.1) |>
    layer_dense(1, activation = "sigmoid")
  compile(model, optimizer = optimizer_adam(0.01), loss = "binary_crossentropy",
          metrics = "accuracy")
  history <- fit(model, x, y, epochs = 3, verbose = 0)
  cluster <- parallel::makePSOCKcluster(1)
  on.exit(parallel::stopCluster(cluster))
  parallel::clusterCall(cluster, function(lib) {
    library(selu, lib.loc = lib)
    invisible()
  }, dirname(installed[1]))
  there <- parallel::clusterCall(cluster, function(model, history, x) {
    list(predict = predict(model, x), history = as.data.frame(history),
         evaluate = evaluate(model, x, as.integer(x[, 1] + x[, 2] > 0), verbose = 0))
  }, model, history, x)[[1]]
  expect_identical(there$predict, predict(model, x))
  expect_identical(there$history, as.data.frame(history))
  expect_identical(there$evaluate, evaluate(model, x, y, verbose = 0))
  # the reference: the sigmoid of the network's own arithmetic, in R
  w <- get_weights(model)
  hidden <- activation_selu(sweep(x %*% w[[1]], 2, w[[2]], "+"))
  expect_equal(there$predict, 1 / (1 + exp(-(hidden %*% w[[3]] + w[[4]][1]))), tolerance = 1e-12,
               ignore_attr = TRUE)
})
