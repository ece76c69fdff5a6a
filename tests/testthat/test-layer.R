test_that("auto names count per session and k_clear_session() resets them", {
  k_clear_session()
  expect_identical(layer_activation_selu()$name, "activation")
  expect_identical(layer_activation_selu()$name, "activation_1")
  expect_identical(layer_activation_selu(name = "mine")$name, "mine")
  expect_identical(layer_activation_selu()$name, "activation_2")
  expect_identical(keras_model_sequential()$name, "sequential")
  expect_identical(keras_model_sequential()$name, "sequential_1")
  expect_identical(layer_input(2)$layer$name, "input_1")
  expect_identical(layer_input(2)$layer$name, "input_2")
  k_clear_session()
  expect_identical(layer_activation_selu()$name, "activation")
  expect_identical(layer_input(2)$layer$name, "input_1")
})

test_that("get_config() has keras' keys and from_config() round-trips", {
  act <- layer_activation_selu(name = "act", input_shape = list(NULL, 3), dtype = "float32",
                               trainable = FALSE)
  config <- get_config(act)
  expect_identical(names(config), c("name", "trainable", "dtype", "batch_input_shape",
                                    "activation"))
  expect_identical(attr(config, "class_name"), "Activation")
  expect_identical(config$batch_input_shape, list(NULL, NULL, 3L))
  expect_identical(config$activation, "selu")
  copy <- from_config(config)
  expect_identical(get_config(copy), config)
  expect_false(identical(copy, act))
  plain <- get_config(layer_activation_selu(name = "plain"))
  expect_identical(names(plain), c("name", "trainable", "dtype", "activation"))
  expect_identical(plain$dtype, "float64")
  expect_true(plain$trainable)
})

test_that("from_config() rejects what get_config() cannot give", {
  expect_error(from_config(list(name = "a")), "`config` must be a configuration")
  expect_error(from_config(structure(list(), class_name = "Conv2D")), "\"Activation\"")
  bad <- structure(list(name = "a", colour = "red", activation = "selu"),
                   class_name = "Activation")
  expect_error(from_config(bad), "may only have the keys")
  bad <- structure(list(name = "a", dtype = "int8", activation = "selu"),
                   class_name = "Activation")
  expect_error(from_config(bad), "`dtype`")
})

test_that("layer fields, weights and output shapes", {
  act <- layer_activation_selu(name = "act", input_shape = 5)
  expect_identical(act$name, "act")
  expect_true(act$trainable)
  act$trainable <- FALSE
  expect_false(act$trainable)
  expect_error(act$trainable <- "no", "`trainable` must be TRUE or FALSE")
  expect_error(act$name <- "b", "Only `trainable` can be set")
  expect_error(act$colour, "A layer has no field `colour`")
  expect_identical(get_weights(act), list())
  expect_identical(set_weights(act, list()), act)
  expect_error(set_weights(act, list(1)), "`weights` must be a list of 0 arrays")
  expect_identical(count_params(act), 0L)
  expect_identical(compute_output_shape(act, c(NA, 5)), c(NA, 5L))
  expect_identical(compute_output_shape(act, list(7, 5)), c(7L, 5L))
  expect_error(compute_output_shape(act, c(NA, 6)), "expects input of shape \\(None, 5\\)")
  expect_error(compute_output_shape(act, "a"), "`input_shape`")
  expect_error(get_weights(1), "`object` must be a layer or a model, not a double")
  expect_error(get_config("a"), "`object` must be a layer, a model")
})

test_that("a layer is one object: every name sees a change", {
  act <- layer_activation_selu()
  other <- act
  other$trainable <- FALSE
  expect_false(act$trainable)
})

test_that("layers print their class, name, arguments and shape", {
  act <- layer_activation_selu(name = "act", input_shape = 4)
  expect_output(print(act), "<Activation> \"act\"")
  expect_output(print(act), "activation: \"selu\"")
  expect_output(print(act), "input shape: \\(None, 4\\)")
  expect_output(print(act), "dtype: float64, trainable: TRUE, params: 0")
})

test_that("nested configurations print as keras's class with its arguments", {
  # keras 2.13's JSON of this layer: "kernel_initializer": {"class_name":
  # "LecunNormal", "config": {"seed": null}}, "bias_initializer": {"class_name":
  # "Zeros", "config": {}}, "kernel_regularizer": {"class_name": "L1L2",
  # "config": {"l1": 0.01, "l2": 0.1}}, "kernel_constraint": {"class_name":
  # "MaxNorm", ...}
  dense <- layer_dense(units = 3, kernel_initializer = "lecun_normal", name = "d",
                       kernel_regularizer = regularizer_l1_l2(l1 = 0.01, l2 = 0.1),
                       kernel_constraint = constraint_maxnorm(3))
  lines <- capture.output(print(dense))
  expect_true("  kernel_initializer: LecunNormal(seed = NULL)" %in% lines)
  expect_true("  bias_initializer: Zeros()" %in% lines)
  expect_true("  kernel_regularizer: L1L2(l1 = 0.01, l2 = 0.1)" %in% lines)
  expect_true(any(startsWith(lines, "  kernel_constraint: MaxNorm(max_value = 3, axis = ")))
  expect_true("  bias_regularizer: NULL" %in% lines)
  seeded <- capture.output(print(layer_dense(units = 2, kernel_initializer =
                                               initializer_glorot_uniform(seed = 7))))
  expect_true("  kernel_initializer: GlorotUniform(seed = 7)" %in% seeded)
  # any other list, by name
  expect_identical(format_config_value(list(a = 1, 2, b = "x")), "list(a = 1, 2, b = \"x\")")
  expect_identical(format_config_value(list()), "list()")
})

test_that("a layer called on anything but data or a tensor is an error", {
  act <- layer_activation_selu(name = "act")
  expect_error(act("a"), "`inputs` must be a numeric vector, matrix or array or a symbolic tensor for layer \"act\", not the string")
  expect_error(act(NULL), class = "selu_error")
})

test_that("errors about a layer passed as `object` name `object`", {
  act <- layer_activation_elu(input_shape = 3, name = "e")
  expect_error(compute_output_shape(act, c(NA, 2)),
               "`object`, the layer \"e\", expects input of shape \\(None, 3\\), but `input_shape` has shape",
               class = "selu_error_shape")
  expect_error(backward(act, matrix(0, 2, 2), 1), "`object`, the layer \"e\", expects input",
               class = "selu_error_shape")
  expect_error(set_weights(act, list(1)), "for `object`, the layer \"e\"", class = "selu_error")
  expect_error(set_weights(act), "`weights` is missing", class = "selu_error")
  expect_error(count_params(), "`object` is missing", class = "selu_error")
  expect_error(compute_output_shape(act), "`input_shape` is missing", class = "selu_error")
})

test_that("k_clear_session() takes no arguments", {
  expect_error(k_clear_session(TRUE), "Unknown argument", class = "selu_error")
})

test_that("what is wrong inside a configuration is an error in `config`", {
  expect_error(from_config(structure(list(alpha = "a"), class_name = "ELU")),
               "In `config`: `alpha` must be a single number", class = "selu_error_argument")
  expect_error(from_config(structure(list(name = "m", layers = list()), class_name = "Functional")),
               "`config` must hold the model's layers",
               class = "selu_error")
})
