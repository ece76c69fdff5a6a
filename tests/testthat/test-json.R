# keras's JSON: the initializers keras and TensorFlow.js write, every layer
# selu has, models of several inputs and outputs, and the dtype option. The
# JSON of keras 2.13 itself is tested in test-save.R, TensorFlow.js's in
# test-tfjs.R.

dense_json <- function(initializer) {
  paste0(
    '{"class_name": "Sequential", "config": {"name": "s", "layers": [',
    '{"class_name": "Dense", "config": {"name": "d", "trainable": true, ',
    '"batch_input_shape": [null, 30], "dtype": "float32", "units": 20, ',
    '"activation": "linear", "use_bias": true, "kernel_initializer": ', initializer,
    ', "bias_initializer": {"class_name": "Zeros", "config": {}}}}]}}')
}

kernel_initializer <- function(model) {
  get_config(model$layers[[1]])$kernel_initializer
}

test_that("VarianceScaling in every mode and distribution, as keras 2.x writes it", {
  for (mode in c("fan_in", "fan_out", "fan_avg")) {
    for (distribution in c("normal", "truncated_normal", "untruncated_normal", "uniform")) {
      init <- sprintf(paste0('{"class_name": "VarianceScaling", "config": {"scale": 2.0, ',
                             '"mode": "%s", "distribution": "%s", "seed": 7}}'), mode, distribution)
      model <- model_from_json(dense_json(init))
      expected <- if (distribution == "normal") "truncated_normal" else distribution
      expect_identical(kernel_initializer(model),
                       structure(list(scale = 2, mode = mode, distribution = expected, seed = 7L),
                                 class_name = "VarianceScaling"))
      # the seeded draws of the initializer the JSON names
      expect_identical(get_weights(model)[[1]],
                       initializer_variance_scaling(2, mode, expected, seed = 7)(c(30, 20)))
    }
  }
  # keras 2.2 wrote glorot_uniform so: the same draws as GlorotUniform
  model <- model_from_json(dense_json(paste0(
    '{"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", ',
    '"distribution": "uniform", "seed": 3}}')))
  expect_identical(get_weights(model)[[1]], initializer_glorot_uniform(seed = 3)(c(30, 20)))
})

test_that("TensorFlow.js's spellings and every keras initializer class are read", {
  classes <- c(LeCunNormal = "LecunNormal", LeCunUniform = "LecunUniform",
               LecunNormal = "LecunNormal", GlorotNormal = "GlorotNormal",
               HeUniform = "HeUniform", Orthogonal = "Orthogonal", Identity = "Identity",
               RandomNormal = "RandomNormal", RandomUniform = "RandomUniform",
               TruncatedNormal = "TruncatedNormal", Zeros = "Zeros", Ones = "Ones",
               Constant = "Constant")
  for (class in names(classes)) {
    model <- model_from_json(dense_json(sprintf('{"class_name": "%s", "config": {}}', class)))
    expect_identical(attr(kernel_initializer(model), "class_name"), classes[[class]])
  }
  model <- model_from_json(dense_json('{"class_name": "Identity", "config": {"gain": 2}}'))
  expect_identical(get_weights(model)[[1]], 2 * diag(1, 30, 20))
  # a name where an object goes
  model <- model_from_json(dense_json('"he_uniform"'))
  expect_identical(attr(kernel_initializer(model), "class_name"), "HeUniform")
})

test_that("an unknown initializer class is an error naming it", {
  expect_error(model_from_json(dense_json('{"class_name": "GlorotUniformish", "config": {"seed": null}}')),
               "`json` holds the layer \"d\".*not of the class \"GlorotUniformish\"",
               class = "selu_error")
  expect_error(model_from_json(dense_json(paste0(
    '{"class_name": "VarianceScaling", "config": {"scale": 1, "mode": "fan_sum", ',
    '"distribution": "uniform", "seed": null}}'))),
    "`json` holds the layer \"d\".*`mode` must be one of", class = "selu_error")
})

# A model of every layer selu writes to keras's JSON, with two inputs and
# two outputs.
every_layer_model <- function() {
  numbers <- layer_input(4, name = "numbers")
  ids <- layer_input(3, name = "ids")
  a <- numbers |>
    layer_dense(6, activation = "selu", kernel_initializer = "lecun_normal") |>
    layer_alpha_dropout(0.1) |>
    layer_batch_normalization() |>
    layer_activation_elu(0.5) |>
    layer_activation_leaky_relu() |>
    layer_activation_parametric_relu() |>
    layer_activation_relu(max_value = 3) |>
    layer_activation_thresholded_relu(0.1) |>
    layer_gaussian_noise(0.1) |>
    layer_gaussian_dropout(0.1) |>
    layer_dropout(0.1) |>
    layer_layer_normalization() |>
    layer_dense(6, kernel_initializer = initializer_variance_scaling(0.5, "fan_out", "uniform"))
  b <- ids |>
    layer_embedding(10, 2) |>
    layer_flatten() |>
    layer_dense(6, activation = "tanh")
  merged <- layer_concatenate(list(layer_add(list(a, b)), layer_multiply(list(a, b)),
                                   layer_average(list(a, b))))
  out1 <- merged |> layer_dense(3) |> layer_activation_softmax(name = "probs")
  out2 <- layer_dense(merged, 1, name = "value")
  keras_model(list(numbers, ids), list(out1, out2), name = "two_by_two")
}

test_that("every layer, and models of several inputs and outputs, go to JSON and back", {
  set.seed(3)
  model <- every_layer_model()
  json <- model_to_json(model)
  written <- jsonlite::fromJSON(json, simplifyVector = FALSE)
  classes <- vapply(written$config$layers, function(l) l$class_name, "")
  expect_true(all(c("InputLayer", "Dense", "AlphaDropout", "BatchNormalization", "ELU",
                    "LeakyReLU", "PReLU", "ReLU", "ThresholdedReLU", "GaussianNoise",
                    "GaussianDropout", "Dropout", "LayerNormalization", "Embedding", "Flatten",
                    "Add", "Multiply", "Average", "Concatenate", "Softmax") %in% classes))
  expect_identical(written$config$input_layers, list(list("numbers", 0L, 0L), list("ids", 0L, 0L)))
  expect_identical(written$config$output_layers, list(list("probs", 0L, 0L), list("value", 0L, 0L)))
  back <- model_from_json(json)
  expect_identical(get_config(back), get_config(model))
  set_weights(back, get_weights(model))
  x <- list(matrix(rnorm(20), 5, 4), matrix(c(0, 1, 9, 3, 4, 5, 6, 7, 8, 2, 1, 1, 0, 0, 9), 5, 3))
  expect_identical(predict(back, x), predict(model, x))
})

test_that("dtype = \"float32\" writes every layer in float32, in spellings TensorFlow.js reads", {
  model <- every_layer_model()
  written <- jsonlite::fromJSON(model_to_json(model, dtype = "float32"), simplifyVector = FALSE)
  dtypes <- unlist(lapply(written$config$layers, function(l) l$config$dtype))
  expect_length(dtypes, length(written$config$layers))
  expect_true(all(dtypes == "float32"))
  dense <- written$config$layers[[3]]
  expect_identical(dense$config$kernel_initializer$class_name, "VarianceScaling")
  expect_identical(dense$config$kernel_initializer$config,
                   list(scale = 1, mode = "fan_in", distribution = "normal", seed = NULL))
  # keras's own spelling without it
  written <- jsonlite::fromJSON(model_to_json(model), simplifyVector = FALSE)
  expect_identical(written$config$layers[[3]]$config$kernel_initializer$class_name, "LecunNormal")
  expect_true(all(unlist(lapply(written$config$layers, function(l) l$config$dtype)) == "float64"))
  # read back, the same model, its LeCun normal now a VarianceScaling of the same draws
  back <- model_from_json(model_to_json(model, dtype = "float64"))
  init <- get_config(back)$layers[[3]]$config$kernel_initializer
  expect_identical(init, structure(list(scale = 1, mode = "fan_in", distribution = "truncated_normal",
                                        seed = NULL), class_name = "VarianceScaling"))
  set_weights(back, get_weights(model))
  x <- list(matrix(rnorm(8), 2, 4), matrix(c(0, 1, 2, 3, 4, 5), 2, 3))
  expect_identical(predict(back, x), predict(model, x))
  # a sequential model's input layer too
  seq_model <- keras_model_sequential(input_shape = 3) |> layer_dense(2)
  written <- jsonlite::fromJSON(model_to_json(seq_model, dtype = "float32"), simplifyVector = FALSE)
  expect_identical(written$config$layers[[1]]$config$dtype, "float32")
  expect_error(model_to_json(seq_model, dtype = "float16"),
               "`dtype` must be one of \"float64\" or \"float32\"", class = "selu_error")
  expect_error(model_to_json(seq_model, dtype = 32), "`dtype`", class = "selu_error")
})
