# Results from 64 KB to 16 MB come from a cache of recently collected blocks
# (src/alloc.c). What the cache holds and what R holds of it:
allocator_stats <- function() .Call(C_selu_allocator_stats)

selu_reference <- function(x) {
  ifelse(x > 0, 1.0507009873554804934193349852946 * x,
         1.7580993408473768599402175208123 * expm1(x))
}

test_that("results from reused blocks are right and independent of each other", {
  set.seed(11)
  n <- 1e5 # 800 KB, in the cache's range
  x1 <- rnorm(n)
  x2 <- rnorm(n)
  a <- activation_selu(x1)
  b <- activation_selu(x2)
  expect_equal(a, selu_reference(x1), tolerance = 1e-14)
  expect_equal(b, selu_reference(x2), tolerance = 1e-14)
  a[1] <- 123
  expect_equal(b[1], selu_reference(x2[1]), tolerance = 1e-14)
  expect_identical(a[-1], activation_selu(x1)[-1])
  # freed, then reused: the new result holds the new values only
  rm(a, b)
  gc()
  cached <- allocator_stats()[["cached_blocks"]]
  expect_gte(cached, 2)
  x3 <- -abs(rnorm(n))
  c3 <- activation_selu(x3)
  expect_identical(allocator_stats()[["cached_blocks"]], cached - 1)
  expect_equal(c3, selu_reference(x3), tolerance = 1e-14)
  expect_null(attributes(c3))
})

test_that("a reused block takes the new result's attributes, not the old one's", {
  set.seed(12)
  x <- matrix(rnorm(2e4 * 5), 2e4, 5, dimnames = list(NULL, letters[1:5]))
  y <- activation_selu_backward(x, 2)
  expect_identical(dim(y), dim(x))
  expect_identical(dimnames(y), dimnames(x))
  rm(y)
  gc()
  v <- rnorm(1e5)
  names(v) <- NULL
  got <- activation_elu(v)
  expect_null(attributes(got))
  expect_equal(got, ifelse(v > 0, v, expm1(v)), tolerance = 1e-14)
  arr <- array(rnorm(1e5), c(100, 50, 20))
  got <- activation_softmax(arr)
  expect_identical(dim(got), c(100L, 50L, 20L))
  e <- exp(arr - array(apply(arr, 1:2, max), dim(arr)))
  expect_equal(got, e / array(apply(e, 1:2, sum), dim(arr)), tolerance = 1e-14)
})

test_that("the dense layer's product lands in cached blocks too", {
  set.seed(13)
  x <- matrix(rnorm(2e4 * 4), 2e4, 4)
  k <- matrix(rnorm(4 * 3), 4, 3)
  b <- c(0.5, -1, 2)
  dense <- layer_dense(units = 3, weights = list(k, b))
  for (i in 1:3) {
    y <- dense(x)
    expect_equal(y, sweep(x %*% k, 2, b, "+"), tolerance = 1e-14)
    rm(y)
    gc()
  }
})

test_that("many results of many sizes keep the cache and the garbage bounded", {
  gc()
  before <- allocator_stats()
  set.seed(14)
  mb <- 2^20
  worst <- 0
  # 64 KB to 16 MB, most of them garbage at once; one in ten kept
  sizes <- round(exp(runif(sample_size(400), log(8200), log(2e6))))
  kept <- list()
  for (i in seq_along(sizes)) {
    y <- activation_selu(rnorm(sizes[i]))
    if (i %% 10 == 0) kept[[length(kept) + 1]] <- y
    s <- allocator_stats()
    expect_lte(s[["cached_bytes"]], 64 * mb)
    expect_lte(s[["cached_blocks"]], 256)
    worst <- max(worst, s[["live_bytes"]] - sum(lengths(kept)) * 8)
  }
  # garbage: about the 64 MB the allocator hands out between the collections
  # it runs, and some that survived a young collection
  expect_lte(worst - before[["live_bytes"]], 128 * mb)
  kept_bytes <- sum(lengths(kept)) * 8
  rm(y, kept)
  gc()
  after <- allocator_stats()
  expect_identical(after[["live_bytes"]], before[["live_bytes"]])
  expect_identical(after[["live_blocks"]], before[["live_blocks"]])
  expect_lte(after[["cached_bytes"]], 64 * mb)
  expect_gt(kept_bytes, 0)
})

test_that("results outside the cache's range come from R as before", {
  gc()
  before <- allocator_stats()
  xs <- rnorm(1000) # 8 KB
  xl <- rnorm(3e6) # 24 MB
  small <- activation_selu(xs)
  large <- activation_selu(xl)
  expect_identical(allocator_stats()[["live_blocks"]], before[["live_blocks"]])
  expect_equal(small, selu_reference(xs), tolerance = 1e-14)
  expect_equal(large, selu_reference(xl), tolerance = 1e-14)
})

test_that("unloading the library while its results are alive does not crash R", {
  skip_on_cran()
  skip_on_os("windows")
  installed <- find.package("selu", lib.loc = .libPaths(), quiet = TRUE)
  skip_if(length(installed) == 0, "selu is not installed")
  log <- tempfile()
  on.exit(unlink(log))
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    shQuote(c("--vanilla", test_path("scripts", "unload-reload.R"),
                              dirname(installed[1]))),
                    stdout = log, stderr = log)
  out <- readLines(log)
  expect_identical(status, 0L, info = paste(out, collapse = "\n"))
  found <- read.table(text = grep("=(TRUE|FALSE)$", out, value = TRUE), sep = "=",
                      col.names = c("check", "passed"))
  expect_identical(nrow(found), 6L)
  for (i in seq_len(nrow(found))) expect_true(found$passed[i], info = found$check[i])
})

test_that("cached results survive gctorture", {
  skip_on_cran()
  set.seed(15)
  x <- matrix(rnorm(2e4), 1e4, 2) # 160 KB
  g <- matrix(rnorm(2e4), 1e4, 2)
  alpha <- c(0.1, 0.3)
  dense <- layer_dense(units = 3, use_bias = FALSE, weights = list(matrix(rnorm(6), 2, 3)))
  run <- function() {
    list(
      .Call(C_selu_forward, x, FALSE, FALSE), .Call(C_selu_backward, x, g, FALSE),
      .Call(C_selu_activation_forward, "elu", x, list(0.7), FALSE),
      .Call(C_selu_activation_backward, "tanh", x, g, NULL, FALSE),
      .Call(C_selu_softmax_forward, x, 2), .Call(C_selu_softmax_backward, x, g, 2),
      .Call(C_selu_prelu_forward, x, alpha), .Call(C_selu_prelu_backward, x, alpha, g),
      dense(x)
    )
  }
  expected <- run()
  gctorture2(if (reduced_tests()) 50 else 1)
  got <- run()
  gctorture(FALSE)
  expect_identical(got, expected)
  # the collection the allocator runs itself, once 64 MB is handed out
  held <- lapply(1:5, function(i) activation_selu(rnorm(2e6)))
  gctorture2(if (reduced_tests()) 50 else 1)
  got <- .Call(C_selu_forward, x, FALSE, FALSE)
  gctorture(FALSE)
  expect_identical(got, expected[[1]])
  expect_length(held, 5)
})
