# Every C entry point under gctorture(): a garbage collection at every
# allocation finds an object that is not PROTECTed.
test_that("the C entry points survive gctorture on small inputs", {
  skip_on_cran()
  x <- matrix(c(-2, -0.5, 0, 1.5, NA, 3), 2, 3, dimnames = list(c("a", "b"), NULL))
  xi <- c(-1L, 2L, NA)
  g <- matrix(c(1, -1, 2, 0.5, 1, -2), 2, 3)
  run <- function() {
    list(
      activation_selu(x), activation_selu(xi), activation_selu(x * 1, inplace = TRUE),
      activation_selu_backward(x, g), activation_selu_backward(xi, 2L),
      layer_activation_selu(x, dtype = "float32"),
      activation_elu(x), activation_elu_backward(xi, 1), activation_tanh_backward(x, g),
      activation_sigmoid(xi), activation_relu(x, max_value = 1),
      activation_softmax(x), activation_softmax_backward(x, g, axis = 1),
      activation_parametric_relu(x, c(0.1, 0.2, 0.3)),
      activation_parametric_relu_backward(x, c(0.1, 0.2, 0.3), g),
      selu_threads(), tryCatch(activation_selu("a"), selu_error = function(e) "error")
    )
  }
  expected <- run()
  # a collection at every allocation, or (reduced, under valgrind) every 50th
  gctorture2(if (reduced_tests()) 50 else 1)
  got <- run()
  gctorture(FALSE)
  expect_identical(got, expected)
})
