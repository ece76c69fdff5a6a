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
