# Every C entry point under gctorture(): a garbage collection at every
# allocation finds an object that is not PROTECTed. The entry points are
# called directly, with arguments as their R wrappers prepare them, so that
# the collections are spent on the C code rather than on R-level checks.
test_that("the C entry points survive gctorture on small inputs", {
  skip_on_cran()
  x <- matrix(c(-2, -0.5, 0, 1.5, NA, 3), 2, 3, dimnames = list(c("a", "b"), NULL))
  xi <- c(-1L, 2L, NA)
  g <- matrix(c(1, -1, 2, 0.5, 1, -2), 2, 3)
  alpha <- c(0.1, 0.2, 0.3)
  x3 <- array(c(-2, -1, 0, 1, NA, 3, -4, 5), c(2, 2, 2))
  alpha3 <- matrix(c(0.1, 0.2), 1, 2)
  run <- function() {
    list(
      .Call(C_selu_forward, x, FALSE, FALSE), .Call(C_selu_forward, xi, TRUE, FALSE),
      .Call(C_selu_forward, x * 1, FALSE, TRUE),
      .Call(C_selu_backward, x, g, FALSE), .Call(C_selu_backward, xi, 2L, TRUE),
      .Call(C_selu_activation_forward, "elu", x, list(0.7), FALSE),
      .Call(C_selu_activation_forward, "sigmoid", xi, NULL, TRUE),
      .Call(C_selu_activation_forward, "relu", x, list(NULL, 0.1, 0L), FALSE),
      .Call(C_selu_activation_backward, "elu", xi, 1, list(0.7), FALSE),
      .Call(C_selu_activation_backward, "tanh", x, g, NULL, TRUE),
      .Call(C_selu_kernel_params, "relu", list(1L, 0.1, 0)),
      .Call(C_selu_softmax_forward, x, 2), .Call(C_selu_softmax_forward, xi, -1L),
      .Call(C_selu_softmax_backward, x, g, 1),
      .Call(C_selu_softmax_backward, x, 1, -1),
      .Call(C_selu_prelu_forward, x, alpha), .Call(C_selu_prelu_backward, x, alpha, g),
      # alpha shared along an axis: broadcast, and its gradient summed, in R
      .Call(C_selu_prelu_forward, x3, alpha3), .Call(C_selu_prelu_backward, x3, alpha3, 1),
      .Call(C_selu_get_threads), .Call(C_selu_set_threads, .Call(C_selu_get_threads)[1]),
      .Call(C_selu_blas_threads, NULL),
      # the engine's losses, optimizer, penalties and constraints on their own
      .Call(C_selu_loss, list(5L, FALSE, TRUE, 0, 1, 3L), c(0L, 2L), g, 2L, NULL, TRUE),
      .Call(C_selu_loss, list(2L, FALSE, FALSE, 0, 0.5, 1L), g * 2, g, 2L, c(1, 0.5), TRUE),
      .Call(C_selu_optimizer_step, list(kind = 1L, clip = 1L, clip_value = 1, weight_decay = 0.1,
                                        amsgrad = TRUE), list(c(1, 2)), list(c(0.5, -1)),
            list(NULL, NULL, NULL), 3, 0.01),
      # Nadam's product of its schedule, Ftrl's two slots of different starts
      .Call(C_selu_optimizer_step, list(kind = 4L, clip = 0L), list(c(1, 2)), list(c(0.5, -1)),
            list(NULL, NULL), 7, 0.01),
      .Call(C_selu_optimizer_step, list(kind = 7L, clip = 3L, clip_value = 0.5,
                                        initial_accumulator_value = 0.1), list(c(1, 2)),
            list(c(0.5, -1)), list(NULL, list(c(0.1, 0.2))), 0, 0.01),
      .Call(C_selu_penalty, c(0.1, 0.2), c(1, -2), TRUE),
      .Call(C_selu_constrain, 1L, c(2, 0, 1), c(0L, 1L, 0L, 1L), 2L, c(1, 2, 3, 4)),
      .Call(C_selu_kernel_isa, NULL),
      # the path from C back to R that signals a user's error
      tryCatch(.Call(C_selu_activation_forward, "elu", x, list("a"), FALSE),
               selu_error = function(e) "error"),
      tryCatch(.Call(C_selu_softmax_forward, x, 3), selu_error = function(e) "error"),
      tryCatch(.Call(C_selu_forward, "a", FALSE, FALSE), selu_error = function(e) "error")
    )
  }
  expected <- run()
  # a collection at every allocation, or (reduced, under valgrind) every 50th
  gctorture2(if (reduced_tests()) 50 else 1)
  got <- run()
  gctorture(FALSE)
  expect_identical(got, expected)
  expect_identical(expected[[1]], activation_selu(x))
  expect_identical(tail(expected, 3), list("error", "error", "error"))
})
