test_that("a dense layer computes activation(x %*% kernel + bias) with keras' weight shapes", {
  k_clear_session()
  set.seed(1)
  x <- matrix(rnorm(12), 4, 3)
  kernel <- matrix(c(0.5, -1, 2, 0.25, 1, -0.5), 3, 2)
  bias <- c(0.1, -0.2)
  dense <- layer_dense(units = 2, weights = list(kernel, bias))
  expect_identical(dense$name, "dense")
  expect_identical(get_weights(dense), list())
  y <- dense(x)
  expect_equal(y, x %*% kernel + matrix(bias, 4, 2, byrow = TRUE), tolerance = 1e-15)
  expect_identical(lapply(get_weights(dense), dim), list(c(3L, 2L), NULL))
  expect_identical(count_params(dense), 8L)
  selu_dense <- layer_dense(units = 2, activation = "selu", weights = list(kernel, bias))
  expect_equal(selu_dense(x), activation_selu(x %*% kernel + matrix(bias, 4, 2, byrow = TRUE)),
               tolerance = 1e-15)
  softmax <- layer_dense(units = 2, activation = "softmax", weights = list(kernel, bias))
  expect_equal(rowSums(softmax(x)), rep(1, 4))
  no_bias <- layer_dense(units = 2, use_bias = FALSE, weights = list(kernel))
  expect_equal(no_bias(x), x %*% kernel, tolerance = 1e-15)
  expect_identical(count_params(no_bias), 6L)
  expect_identical(layer_dense(units = 1)$name, "dense_4")
})

test_that("input of rank above 2 is transformed along its last axis", {
  set.seed(2)
  x <- array(rnorm(2 * 3 * 4), c(2, 3, 4))
  dense <- layer_dense(units = 5, kernel_initializer = initializer_lecun_normal(seed = 1),
                       bias_initializer = initializer_constant(0.5))
  y <- dense(x)
  expect_identical(dim(y), c(2L, 3L, 5L))
  w <- get_weights(dense)
  for (t in 1:3) expect_equal(y[, t, ], x[, t, ] %*% w[[1]] + 0.5, tolerance = 1e-15)
  expect_identical(compute_output_shape(dense, c(NA, 3, 4)), c(NA, 3L, 5L))
})

test_that("dense layers build in models, count in summaries, and round-trip their config", {
  k_clear_session()
  model <- keras_model_sequential(input_shape = 10) |>
    layer_dense(32, kernel_initializer = "lecun_normal", activation = "selu") |>
    layer_dense(3, activation = "softmax")
  expect_identical(vapply(model$layers, function(l) l$name, ""), c("dense", "dense_1"))
  lines <- capture.output(summary(model))
  expect_match(lines, "dense \\(Dense\\) +\\(None, 32\\) +352", all = FALSE)
  expect_match(lines, "Total params: 451", all = FALSE)
  config <- get_config(model$layers[[1]])
  expect_identical(attr(config, "class_name"), "Dense")
  expect_identical(names(config), c("name", "trainable", "dtype", "units", "activation",
                                    "use_bias", "kernel_initializer", "bias_initializer",
                                    "kernel_regularizer", "bias_regularizer",
                                    "activity_regularizer", "kernel_constraint",
                                    "bias_constraint"))
  expect_identical(config$activation, "selu")
  expect_identical(attr(config$kernel_initializer, "class_name"), "LecunNormal")
  rebuilt <- from_config(get_config(model))
  expect_identical(count_params(rebuilt), 451L)
  expect_identical(get_config(rebuilt$layers[[2]])[-1], get_config(model$layers[[2]])[-1])
  regularized <- layer_dense(units = 2, kernel_regularizer = regularizer_l2(0.1),
                             kernel_constraint = constraint_maxnorm(3), name = "reg")
  again <- from_config(get_config(regularized))
  expect_identical(get_config(again), get_config(regularized))
  # set_weights() exchanges weights in keras' order and shapes
  set_weights(model, lapply(get_weights(model), function(w) w * 0 + 1))
  expect_equal(predict(model, matrix(0, 1, 10)), matrix(1 / 3, 1, 3))
})

test_that("dense layers reject bad arguments and inputs with errors naming them", {
  expect_error(layer_dense(), "`units` is missing", class = "selu_error")
  expect_error(layer_dense(units = 0), "`units` must be a whole number", class = "selu_error")
  expect_error(layer_dense(units = 2.5), "`units`", class = "selu_error")
  expect_error(layer_dense(units = 2, activation = "swish2"), "`activation` must be one of",
               class = "selu_error")
  expect_error(layer_dense(units = 2, use_bias = NA), "`use_bias` must be TRUE or FALSE",
               class = "selu_error")
  expect_error(layer_dense(units = 2, kernel_initializer = "nope"), "`kernel_initializer`",
               class = "selu_error")
  expect_error(layer_dense(units = 2, bias_initializer = 1), "`bias_initializer`",
               class = "selu_error")
  expect_error(layer_dense(units = 2, kernel_regularizer = "l3"), "`kernel_regularizer`",
               class = "selu_error")
  expect_error(layer_dense(units = 2, bias_constraint = 2), "`bias_constraint`",
               class = "selu_error")
  expect_error(layer_dense(units = 2, kernel_size = 3), "Unknown argument: `kernel_size`",
               class = "selu_error")
  expect_error(layer_dense(units = 2, weights = list(1)), "expects 2 weights, but 1 was given",
               class = "selu_error")
  expect_error(layer_dense(units = 2, input_shape = list(NULL)), "known last dimension",
               class = "selu_error_shape")
  dense <- layer_dense(units = 2)
  expect_error(dense(1:3), "`inputs` has shape \\(3,\\)", class = "selu_error_shape")
  dense(matrix(0, 2, 3))
  expect_error(dense(matrix(0, 2, 4)), "expects input of shape \\(None, 3\\)",
               class = "selu_error_shape")
  model <- keras_model_sequential(input_shape = 3) |> layer_dense(2)
  expect_error(set_weights(model, list(matrix(0, 2, 3), c(0, 0))),
               "`weights\\[\\[1\\]\\]` must be a numeric array of shape \\(3, 2\\)")
})
