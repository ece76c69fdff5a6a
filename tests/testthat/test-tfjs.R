# keras's JSON against TensorFlow.js 4.22 itself (the npm package
# @tensorflow/tfjs, installed in tests/testthat/node: see .ci/run): selu's
# models, written with model_to_json() and their weights in TensorFlow.js's
# files, load there and predict what selu predicts; models built and trained
# there load here and predict what TensorFlow.js predicts. TensorFlow.js
# computes in float32, selu in double: they agree to float32's precision.

node_dir <- function() normalizePath(test_path("node"))

skip_without_tfjs <- function() {
  skip_if(!nzchar(Sys.which("node")), "node is not installed")
  skip_if_not(dir.exists(file.path(node_dir(), "node_modules", "@tensorflow", "tfjs")),
              "@tensorflow/tfjs is not installed in tests/testthat/node (npm ci there)")
}

run_tfjs <- function(task, dir) {
  out <- suppressWarnings(system2("node", c(shQuote(file.path(node_dir(), "tfjs-check.js")),
                                            task, shQuote(dir)),
                                  stdout = TRUE, stderr = TRUE))
  status <- attr(out, "status")
  if (!is.null(status) && status != 0) {
    stop("TensorFlow.js failed:\n", paste(grep("Error", out, value = TRUE), collapse = "\n"))
  }
  invisible(out)
}

# Arrays in TensorFlow.js's order (row-major) and R's (column-major).
from_row_major <- function(values, shape) {
  values <- as.double(unlist(values))
  shape <- as.integer(unlist(shape))
  if (length(shape) <= 1) return(values)
  aperm(array(values, rev(shape)), rev(seq_along(shape)))
}

to_row_major <- function(x) {
  d <- dim(x)
  if (length(d) <= 1) return(as.vector(x))
  as.vector(aperm(x, rev(seq_along(d))))
}

read_entries <- function(path) {
  lapply(jsonlite::read_json(path), function(e) from_row_major(e$values, e$shape))
}

write_entries <- function(arrays, path) {
  entries <- lapply(arrays, function(x) {
    list(shape = as.list(if (is.null(dim(x))) length(x) else dim(x)), values = to_row_major(x))
  })
  writeLines(jsonlite::toJSON(entries, auto_unbox = TRUE, digits = NA), path)
}

json_text <- function(x) {
  as.character(jsonlite::toJSON(x, auto_unbox = TRUE, null = "null", digits = NA))
}

# A model TensorFlow.js saved (model.json and its weight files): the model
# from keras's JSON, the weights by name through selu's weights file.
read_tfjs_model <- function(dir) {
  manifest <- jsonlite::read_json(file.path(dir, "model.json"))
  model <- model_from_json(json_text(manifest$modelTopology))
  weights <- list()
  for (group in manifest$weightsManifest) {
    con <- file(file.path(dir, group$paths[[1]]), "rb")
    for (spec in group$weights) {
      expect_identical(spec$dtype, "float32")
      shape <- unlist(spec$shape)
      values <- readBin(con, "double", n = prod(shape), size = 4, endian = "little")
      weights[[spec$name]] <- from_row_major(values, shape)
    }
    close(con)
  }
  path <- file.path(dir, "weights.rds")
  saveRDS(weights, path)
  load_model_weights(model, path)
  model
}

# A selu model as TensorFlow.js saves one, in float32.
write_tfjs_model <- function(model, dir) {
  dir.create(dir, showWarnings = FALSE)
  path <- file.path(dir, "weights.rds")
  save_model_weights(model, path)
  weights <- readRDS(path)
  specs <- lapply(names(weights), function(name) {
    w <- weights[[name]]
    list(name = name, shape = as.list(if (is.null(dim(w))) length(w) else dim(w)),
         dtype = "float32")
  })
  con <- file(file.path(dir, "weights.bin"), "wb")
  for (w in weights) writeBin(to_row_major(w), con, size = 4, endian = "little")
  close(con)
  topology <- model_to_json(model, dtype = "float32")
  manifest <- sprintf(paste0('{"format": "layers-model", "modelTopology": %s, ',
                             '"weightsManifest": [{"paths": ["weights.bin"], "weights": %s}]}'),
                      topology, json_text(specs))
  writeLines(manifest, file.path(dir, "model.json"))
}

expect_tfjs_predicts <- function(model, inputs, tolerance = 1e-5) {
  dir <- tempfile("tfjs-")
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  write_tfjs_model(model, dir)
  write_entries(inputs, file.path(dir, "inputs.json"))
  run_tfjs("predict", dir)
  theirs <- read_entries(file.path(dir, "outputs.json"))
  ours <- predict(model, if (length(inputs) == 1) inputs[[1]] else inputs)
  if (length(theirs) == 1) ours <- list(ours)
  expect_length(theirs, length(ours))
  for (i in seq_along(ours)) {
    expect_equal(theirs[[i]], unname(ours[[i]]), tolerance = tolerance)
  }
}

train_briefly <- function(model, x, y, loss = "mse") {
  compile(model, optimizer = optimizer_adam(0.01), loss = loss)
  fit(model, x, y, epochs = 2, batch_size = 16, verbose = 0)
  model
}

test_that("selu's JSON and weights load in TensorFlow.js and predict the same", {
  skip_without_tfjs()
  set.seed(42)
  x <- matrix(rnorm(40 * 4), 40, 4)
  # every activation layer, dropout and noise, normalization
  model <- keras_model_sequential(input_shape = 4) |>
    layer_dense(8, activation = "selu", kernel_initializer = "lecun_normal") |>
    layer_alpha_dropout(0.1) |>
    layer_dense(6, activation = "elu") |>
    layer_activation_leaky_relu(alpha = 0.2) |>
    layer_batch_normalization() |>
    layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.3)) |>
    layer_activation_relu(max_value = 1.5) |>
    layer_dense(6, activation = "tanh") |>
    layer_layer_normalization() |>
    layer_gaussian_noise(0.1) |>
    layer_gaussian_dropout(0.1) |>
    layer_dropout(0.2) |>
    layer_activation_elu() |>
    layer_dense(5, activation = "sigmoid") |>
    layer_activation_thresholded_relu(theta = 0.5) |>
    layer_activation("relu") |>
    layer_dense(3) |>
    layer_activation_softmax()
  train_briefly(model, x, to_categorical(rep(0:2, length.out = 40)), "categorical_crossentropy")
  expect_tfjs_predicts(model, list(x))

  # a functional model of two inputs and two outputs, with every merge
  left <- layer_input(3, name = "left")
  right <- layer_input(3, name = "right")
  a <- layer_dense(left, 4, activation = "sigmoid")
  b <- layer_dense(right, 4, activation = "linear")
  merged <- layer_concatenate(list(layer_add(list(a, b)), layer_multiply(list(a, b)),
                                   layer_average(list(a, b)), a))
  reg <- layer_dense(merged, 2, name = "reg")
  cls <- layer_dense(merged, 3, activation = "softmax", name = "cls")
  model <- keras_model(list(left, right), list(reg, cls))
  x2 <- list(matrix(rnorm(30), 10, 3), matrix(rnorm(30), 10, 3))
  expect_tfjs_predicts(model, x2)

  # embedding and flatten
  model <- keras_model_sequential(input_shape = 5) |>
    layer_embedding(12, 3) |>
    layer_flatten() |>
    layer_dense(2)
  ids <- matrix(sample(0:11, 50, replace = TRUE), 10, 5)
  expect_tfjs_predicts(model, list(ids))

  # rank-3 input, with softmax along the last axis and PReLU shared axes
  model <- keras_model_sequential(input_shape = c(3, 4)) |>
    layer_dense(5, activation = "selu") |>
    layer_activation_parametric_relu(shared_axes = 2,
                                     alpha_initializer = initializer_random_uniform(seed = 1)) |>
    layer_activation_softmax(axis = -1) |>
    layer_batch_normalization() |>
    layer_flatten() |>
    layer_dense(2)
  x3 <- array(rnorm(8 * 12), c(8, 3, 4))
  train_briefly(model, x3, matrix(rnorm(16), 8, 2))
  expect_tfjs_predicts(model, list(x3))
})

test_that("models built and trained in TensorFlow.js load in selu and predict the same", {
  skip_without_tfjs()
  dir <- tempfile("tfjs-trained-")
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  run_tfjs("train", dir)
  kinds <- c("sequential", "functional", "embedding", "rank3", "thresholded")
  expect_setequal(list.files(dir), kinds)
  for (kind in kinds) {
    model <- read_tfjs_model(file.path(dir, kind))
    inputs <- read_entries(file.path(dir, kind, "inputs.json"))
    theirs <- read_entries(file.path(dir, kind, "outputs.json"))
    ours <- predict(model, if (length(inputs) == 1) inputs[[1]] else inputs)
    if (length(theirs) == 1) ours <- list(ours)
    for (i in seq_along(theirs)) {
      expect_equal(unname(ours[[i]]), theirs[[i]], tolerance = 1e-5, label = kind)
    }
  }
  # the classes TensorFlow.js wrote are all there
  topology <- jsonlite::read_json(file.path(dir, "sequential", "model.json"))$modelTopology
  classes <- vapply(topology$config$layers, function(l) l$class_name, "")
  expect_true(all(c("Dense", "AlphaDropout", "LeakyReLU", "BatchNormalization", "PReLU", "ReLU",
                    "LayerNormalization", "GaussianNoise", "GaussianDropout", "Dropout", "ELU",
                    "Softmax") %in% classes))
  initializers <- vapply(Filter(function(l) l$class_name == "Dense", topology$config$layers),
                         function(l) l$config$kernel_initializer$class_name, "")
  expect_true(all(c("VarianceScaling", "Identity") %in% initializers))
})
