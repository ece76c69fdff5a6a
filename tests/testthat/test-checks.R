test_that("errors carry the selu_error classes, the message and the user's call", {
  err <- tryCatch(layer_activation_selu(dtype = "int8"), error = identity)
  expect_s3_class(err, c("selu_error_argument", "selu_error", "error"))
  expect_identical(conditionCall(err)[[1]], quote(layer_activation_selu))
})

test_that("warnings carry the selu_warning classes, the message and the user's call", {
  w <- tryCatch(loss_binary_crossentropy(2, 0.5), warning = identity)
  expect_s3_class(w, c("selu_warning_argument", "selu_warning", "warning", "condition"),
                  exact = TRUE)
  expect_match(conditionMessage(w), "^`y_true` holds values outside")
  expect_identical(conditionCall(w)[[1]], quote(loss_binary_crossentropy))
})

test_that("describe() names what it was given", {
  expect_identical(describe(NULL), "NULL")
  expect_identical(describe("a"), "the string \"a\"")
  expect_identical(describe(1.5), "a double (1.5)")
  expect_identical(describe(1:3), "an integer vector of length 3")
  expect_identical(describe(matrix(0, 2, 3)), "a double array of shape (2, 3)")
  expect_identical(describe(list(1, 2)), "a list of length 2")
  expect_identical(describe(data.frame(a = 1)), "a data frame")
  expect_identical(describe(factor("a")), "a factor")
  expect_identical(describe(Sys.Date()), "an object of class <Date>")
  expect_identical(describe(sum), "a function")
  expect_identical(describe(globalenv()), "an environment")
  expect_identical(describe(as.raw(1)), "a raw (01)")
  expect_identical(describe(quote(x)), "an object of type symbol")
  expect_identical(describe(layer_activation_selu(name = "a")), "the layer \"a\"")
})

test_that("check_shape() takes vectors and lists with unknown dimensions", {
  expect_identical(check_shape(c(2, 3), "s"), c(2L, 3L))
  expect_identical(check_shape(c(NA, 3), "s"), c(NA, 3L))
  expect_identical(check_shape(list(NULL, 3L), "s"), c(NA, 3L))
  expect_identical(check_shape(NA, "s"), NA_integer_)
  expect_error(check_shape(integer(0), "s"), "`s` must have at least 1 dimension, not 0")
  expect_error(check_shape(c(1, 2^31), "s"), "2147483648 is not a whole number")
  expect_error(check_shape(list(c(1, 2)), "s"), "element 1 is a double vector of length 2")
  expect_error(check_shape(TRUE, "s"), "`s` must be a vector or list")
  expect_error(check_shape(factor(1), "s"), "not a factor")
})

test_that("check_count() takes one whole positive number", {
  expect_identical(check_count(3, "n"), 3L)
  expect_error(check_count(NA, "n"), "`n` must be a whole number between 1 and 2147483647, not a logical \\(NA\\)")
  expect_error(check_count(1.5, "n"), "`n`")
  expect_error(check_count(1e10, "n"), "`n`")
})

test_that("check_empty_dots() names unknown arguments", {
  expect_error(check_empty_dots(list(a = 1, 2)), "Unknown arguments: `a`, an unnamed argument")
  expect_null(check_empty_dots(list()))
})

test_that("format_shape() writes shapes as keras does", {
  expect_identical(format_shape(c(NA, 784L)), "(None, 784)")
  expect_identical(format_shape(5L), "(5,)")
  expect_identical(format_shape(c(2L, NA, 3L)), "(2, None, 3)")
})

test_that("a missing required argument is a classed error naming it", {
  expect_error(activation_elu(), "`x` is missing: give a numeric vector", class = "selu_error")
  expect_error(activation_elu_backward(1), "`grad_output` is missing", class = "selu_error")
  expect_error(get_config(), "`object` is missing", class = "selu_error_argument")
  expect_error(from_config(), "`config` is missing", class = "selu_error")
})

test_that("objects given a class of the package by hand are not taken for its objects", {
  fake <- structure(function(inputs) inputs, class = c("selu_elu", "selu_layer"))
  expect_identical(describe(fake), "a function")
  expect_error(get_config(fake), "`object` must be a layer or a model, not a function",
               class = "selu_error")
  expect_error(layer_activation_selu(structure(list(), class = "selu_tensor")),
               "`object` must be missing or NULL", class = "selu_error")
})

test_that("check_weight_size() refuses huge weights before allocating them", {
  expect_error(check_weight_size(c(1000000L, 1000000L), "`s`"), "`s` has shape \\(1000000, 1000000\\)",
               class = "selu_error_shape")
  withr_limit <- options(selu.max_weight_elements = 10)
  on.exit(options(withr_limit))
  expect_error(check_weight_size(c(3, 4), "`s`"), "more than the 10 allowed")
  expect_identical(check_weight_size(c(2, 5), "`s`"), c(2, 5))
  options(selu.max_weight_elements = "a")
  expect_error(check_weight_size(2, "`s`"), "options\\(selu.max_weight_elements\\)")
})

test_that("format_shape() shortens shapes of absurd rank", {
  expect_identical(format_shape(1:20), "(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ... 10 more)")
})
