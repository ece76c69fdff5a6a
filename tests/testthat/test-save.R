# Saving, loading and exchanging models.

regression_data <- function() {
  set.seed(11)
  x <- matrix(rnorm(60), 15, 4)
  list(x = x, y = cbind(x[, 1] - 2 * x[, 2], x[, 3] * x[, 4]))
}

# A model with every kind of state: Adam's moments, a seeded alpha dropout's
# stream, a frozen layer, a PReLU, metrics by name and as objects.
trained_model <- function(compiled = TRUE) {
  set.seed(3)
  model <- keras_model_sequential(input_shape = 4, name = "net") |>
    layer_dense(6, activation = "selu", kernel_initializer = "lecun_normal", name = "hidden") |>
    layer_alpha_dropout(0.1, seed = 5, name = "noise") |>
    layer_activation_parametric_relu(name = "prelu", trainable = FALSE) |>
    layer_dense(2, name = "out", kernel_constraint = constraint_maxnorm(3))
  if (compiled) {
    compile(model, optimizer = optimizer_adam(0.01), loss = "mse",
            metrics = list("mae", metric_mean_squared_error(name = "sq")))
  }
  model
}

# The fixtures follow the JSON of keras 2.13's `model.to_json()`
# (see fixtures/README.md).
read_fixture <- function(name) paste(readLines(test_path("fixtures", name)), collapse = "\n")

# A temporary path (a directory with `dir = TRUE`), removed after the test.
local_path <- function(dir = FALSE, env = parent.frame()) {
  path <- tempfile(fileext = if (!dir) ".rds" else "")
  if (dir) dir.create(path)
  do.call(on.exit, list(call("unlink", path, recursive = TRUE), add = TRUE), envir = env)
  path
}

# Replaces the package's one writer of files for the rest of the test
# (testthat's local_mocked_bindings() where there is one).
local_failing_write <- function(fake, env = parent.frame()) {
  if (exists("local_mocked_bindings", asNamespace("testthat"))) {
    return(testthat::local_mocked_bindings(write_rds_file = fake, .env = env))
  }
  real <- get("write_rds_file", asNamespace("selu"))
  utils::assignInNamespace("write_rds_file", fake, "selu")
  do.call(on.exit, list(call("assignInNamespace", "write_rds_file", real, "selu"), add = TRUE),
          envir = env)
}

# Any function or environment anywhere in `x`, attributes included.
holds_code <- function(x) {
  if (is.function(x) || is.environment(x)) return(TRUE)
  parts <- c(if (is.list(x)) unclass(x), attributes(x))
  any(vapply(parts, holds_code, TRUE))
}

test_that("a loaded model predicts what the saved one did, with its settings", {
  data <- regression_data()
  model <- trained_model()
  fit(model, data$x, data$y, epochs = 2, batch_size = 5, verbose = 0)
  path <- local_path()
  expect_identical(save_model(model, path), model)
  loaded <- load_model(path)
  expect_s3_class(loaded, "selu_sequential")
  expect_identical(predict(loaded, data$x), predict(model, data$x))
  expect_identical(get_config(loaded), get_config(model))
  expect_identical(get_weights(loaded), get_weights(model))
  expect_false(loaded$layers[[3]]$trainable)
  old <- model_state(model)$compiled
  new <- model_state(loaded)$compiled
  expect_identical(get_config(new$optimizer), get_config(old$optimizer))
  expect_identical(get_config(new$losses[[1]]), get_config(old$losses[[1]]))
  expect_identical(new$metrics[[1]][[1]], "mae")
  expect_identical(get_config(new$metrics[[1]][[2]]), get_config(old$metrics[[1]][[2]]))
  expect_identical(optimizer_state(new$optimizer), optimizer_state(old$optimizer))
  expect_identical(evaluate(loaded, data$x, data$y), evaluate(model, data$x, data$y))
  # the loaded model is a model of its own
  set_weights(loaded, lapply(get_weights(loaded), function(w) w * 0))
  expect_false(identical(get_weights(loaded), get_weights(model)))
})

test_that("the file holds plain data: a marker, a version, configs, weights and state", {
  model <- trained_model()
  data <- regression_data()
  fit(model, data$x, data$y, epochs = 1, batch_size = 5, verbose = 0)
  path <- local_path()
  save_model(model, path)
  saved <- readRDS(path)
  expect_false(holds_code(saved))
  expect_identical(saved$format, "selu_model")
  expect_identical(saved$version, 1L)
  expect_setequal(names(saved$weights),
                  c("hidden/kernel", "hidden/bias", "prelu/alpha", "out/kernel", "out/bias"))
  expect_identical(saved$weights[["out/kernel"]], get_weights(model)[[4]])
  expect_identical(attr(saved$compile$optimizer, "class_name"), "Adam")
  expect_identical(saved$optimizer_state$iterations, 3)
  expect_named(saved$streams, "noise")
})

test_that("training a loaded model continues as uninterrupted training", {
  data <- regression_data()
  straight <- trained_model()
  fit(straight, data$x, data$y, epochs = 4, batch_size = 5, shuffle = FALSE, verbose = 0)
  first <- trained_model()
  fit(first, data$x, data$y, epochs = 2, batch_size = 5, shuffle = FALSE, verbose = 0)
  path <- local_path()
  save_model(first, path)
  resumed <- load_model(path)
  fit(resumed, data$x, data$y, epochs = 2, batch_size = 5, shuffle = FALSE, verbose = 0)
  expect_identical(get_weights(resumed), get_weights(straight))
  expect_identical(optimizer_state(model_state(resumed)$compiled$optimizer),
                   optimizer_state(model_state(straight)$compiled$optimizer))
})

test_that("loading draws no random numbers, so shuffled training continues too", {
  data <- regression_data()
  straight <- trained_model()
  set.seed(21)
  fit(straight, data$x, data$y, epochs = 4, batch_size = 4, verbose = 0)
  first <- trained_model()
  set.seed(21)
  fit(first, data$x, data$y, epochs = 2, batch_size = 4, verbose = 0)
  path <- local_path()
  save_model(first, path)
  resumed <- load_model(path)
  fit(resumed, data$x, data$y, epochs = 2, batch_size = 4, verbose = 0)
  expect_identical(get_weights(resumed), get_weights(straight))
})

test_that("functional and uncompiled models round-trip", {
  set.seed(4)
  inputs <- layer_input(shape = 3, name = "features")
  outputs <- inputs |> layer_dense(4, activation = "relu") |> layer_dropout(0.2) |>
    layer_dense(2, activation = "softmax")
  model <- keras_model(inputs, outputs, name = "classifier")
  path <- local_path()
  save_model(model, path)
  loaded <- load_model(path)
  expect_s3_class(loaded, "selu_functional")
  expect_null(model_state(loaded)$compiled)
  x <- matrix(rnorm(12), 4, 3)
  expect_identical(predict(loaded, x), predict(model, x))
  expect_identical(get_config(loaded), get_config(model))
})

test_that("overwrite = FALSE keeps an existing file", {
  path <- local_path()
  writeLines("old", path)
  expect_error(save_model(trained_model(), path, overwrite = FALSE),
               class = "selu_error", regexp = "`filepath`.*exists.*overwrite")
  expect_identical(readLines(path), "old")
})

test_that("a failure while writing leaves the old file as it was, and no temporary file", {
  dir <- local_path(dir = TRUE)
  path <- file.path(dir, "model.rds")
  save_model(trained_model(), path)
  before <- readBin(path, "raw", file.size(path))
  local_failing_write(function(data, path) {
    writeBin(as.raw(1:10), path) # a part written, then the disk fills
    stop("no space left on device")
  })
  expect_error(save_model(trained_model(), path), class = "selu_error",
               regexp = "`filepath`.*model.rds.*no space left")
  expect_error(save_model_weights(trained_model(), path), class = "selu_error",
               regexp = "`filepath`.*no space left")
  expect_identical(readBin(path, "raw", file.size(path) + 1), before)
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "model.rds")
})

test_that("an interrupt while writing leaves the old file as it was", {
  dir <- local_path(dir = TRUE)
  path <- file.path(dir, "model.rds")
  save_model(trained_model(), path)
  before <- readBin(path, "raw", file.size(path))
  local_failing_write(function(data, path) {
    writeBin(as.raw(1:10), path)
    # Ctrl-C here: R signals an interrupt condition and unwinds
    signalCondition(structure(class = c("interrupt", "condition"), list(message = "", call = NULL)))
  })
  outcome <- tryCatch(save_model(trained_model(), path), interrupt = function(i) "interrupted")
  expect_identical(outcome, "interrupted")
  expect_identical(readBin(path, "raw", file.size(path) + 1), before)
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "model.rds")
})

test_that("bad files are errors that name the file and what is wrong", {
  dir <- local_path(dir = TRUE)
  missing_path <- file.path(dir, "none.rds")
  expect_error(load_model(missing_path), class = "selu_error",
               regexp = "`filepath`.*none.rds.*does not exist")
  empty <- file.path(dir, "empty.rds")
  file.create(empty)
  expect_error(load_model(empty), class = "selu_error", regexp = "`filepath`.*empty.rds.*empty")
  expect_error(load_model(dir), class = "selu_error", regexp = "`filepath`.*directory")

  other <- file.path(dir, "iris.rds")
  saveRDS(iris, other)
  expect_error(load_model(other), class = "selu_error",
               regexp = "`filepath`.*iris.rds.*not a model written by save_model")
  random <- file.path(dir, "random.bin")
  set.seed(1)
  writeBin(as.raw(sample(0:255, 500, replace = TRUE)), random)
  expect_error(load_model(random), class = "selu_error",
               regexp = "`filepath`.*random.bin.*could not be read")
  skip_if_not_installed("hdf5r")
  hdf5 <- file.path(dir, "model.h5")
  writeBin(c(as.raw(c(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a)), as.raw(rep(0, 100))), hdf5)
  expect_error(load_model(hdf5), class = "selu_error",
               regexp = "`filepath`.*model.h5.*could not be opened as HDF5 \\(damaged or truncated")
  expect_error(load_model_weights(trained_model(), hdf5), class = "selu_error",
               regexp = "`filepath`.*model.h5.*could not be opened as HDF5")

  zip <- file.path(dir, "model.keras")
  writeBin(c(as.raw(c(0x50, 0x4b, 0x03, 0x04)), as.raw(rep(0, 100))), zip)
  expect_error(load_model(zip), class = "selu_error",
               regexp = "`filepath`.*model.keras.*not a zip archive that can be read")
  json <- file.path(dir, "model.json")
  writeLines(read_fixture("keras-sequential.json"), json)
  expect_error(load_model(json), class = "selu_error",
               regexp = "`filepath`.*model.json.*JSON.*model_from_json")
  expect_error(model_from_json(json), class = "selu_error",
               regexp = "`json` must be JSON, not the path of a file.*readLines")

  weights_only <- file.path(dir, "weights.rds")
  save_model_weights(trained_model(), weights_only)
  expect_error(load_model(weights_only), class = "selu_error",
               regexp = "weights.rds.*weights of a model alone.*load_model_weights")
})

test_that("the extension picks the format: selu's own unless it is keras's", {
  dir <- local_path(dir = TRUE)
  model <- trained_model()
  # .rds, no extension and other extensions write selu's format
  for (name in c("m.rds", "m", "m.h5.rds", "m.model")) {
    path <- file.path(dir, name)
    save_model(model, path)
    expect_false(identical(readBin(path, "raw", 8L), selu:::HDF5_SIGNATURE))
    expect_s3_class(load_model(path), "selu_model")
  }
  # a whole model is no weights file, and the other way round
  path <- file.path(dir, "m.weights.h5")
  expect_error(save_model(model, path), class = "selu_error_file",
               regexp = "`filepath` \"[^\"]*m.weights.h5\".*weights alone.*save_model_weights")
  expect_false(file.exists(path))
  path <- file.path(dir, "m.keras")
  expect_error(save_model_weights(model, path), class = "selu_error_file",
               regexp = "`filepath` \"[^\"]*m.keras\".*whole model.*save_model\\(\\)")
  expect_false(file.exists(path))
})

test_that("load_model() of a damaged keras file under each keras extension is a clear error", {
  skip_if_not_installed("hdf5r")
  dir <- local_path(dir = TRUE)
  hdf5 <- c(as.raw(c(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a)), as.raw(rep(0, 100)))
  zip <- c(as.raw(c(0x50, 0x4b, 0x03, 0x04)), as.raw(rep(0, 100)))
  files <- list("m.h5" = hdf5, "m.hdf5" = hdf5, "m.weights.h5" = hdf5, "m.keras" = zip)
  for (name in names(files)) {
    path <- file.path(dir, name)
    writeBin(files[[name]], path)
    what <- if (identical(files[[name]], zip)) "zip archive" else "HDF5"
    expect_error(load_model(path), class = "selu_error_file",
                 regexp = sprintf("`filepath`.*%s.*%s", name, what))
    expect_error(load_model_weights(trained_model(), path), class = "selu_error_file",
                 regexp = sprintf("`filepath`.*%s.*%s", name, what))
  }
})

test_that("a file truncated at any byte is an error, never a crash or a model", {
  dir <- local_path(dir = TRUE)
  path <- file.path(dir, "model.rds")
  save_model(trained_model(), path)
  bytes <- readBin(path, "raw", file.size(path))
  n <- length(bytes)
  cut <- file.path(dir, "cut.rds")
  for (keep in unique(c(1, 2, 10, n %/% 4, n %/% 2, (3 * n) %/% 4, n - 10, n - 1))) {
    writeBin(bytes[seq_len(keep)], cut)
    expect_error(load_model(cut), class = "selu_error", regexp = "`filepath`.*cut.rds")
    expect_error(load_model_weights(trained_model(), cut), class = "selu_error",
                 regexp = "`filepath`.*cut.rds")
  }
})

test_that("a file of a newer format version asks for a newer selu", {
  path <- local_path()
  save_model(trained_model(), path)
  saved <- readRDS(path)
  saved$version <- 2L
  saved$selu_version <- "9.0.0"
  saveRDS(saved, path)
  expect_error(load_model(path), class = "selu_error",
               regexp = "`filepath`.*newer version of selu.*9.0.0.*format version 2.*update")
})

test_that("a damaged model file is an error naming it, not a half-built model", {
  path <- local_path()
  save_model(trained_model(), path)
  saved <- readRDS(path)
  damage <- function(change) {
    changed <- change(saved)
    saveRDS(changed, path)
    path
  }
  expect_error(load_model(damage(function(s) {
    s$weights[["out/kernel"]] <- matrix(0, 2, 2)
    s
  })), class = "selu_error", regexp = "`filepath`.*\"kernel\" of layer \"out\" in shape \\(2, 2\\).*\\(6, 2\\)")
  expect_error(load_model(damage(function(s) {
    s$weights[["hidden/bias"]] <- NULL
    s
  })), class = "selu_error", regexp = "`filepath`.*no weight \"bias\" for layer \"hidden\"")
  expect_error(load_model(damage(function(s) {
    s$compile$loss <- function(y, p) 0
    s
  })), class = "selu_error", regexp = "`filepath`.*functions or environments")
  expect_error(load_model(damage(function(s) {
    s$config$layers[[1]]$class_name <- "Conv2D"
    s
  })), class = "selu_error", regexp = "`filepath`.*damaged")
  expect_error(load_model(damage(function(s) {
    s$optimizer_state$m <- list(x = "a")
    s
  })), class = "selu_error", regexp = "`filepath`.*damaged")
  expect_error(load_model(damage(function(s) {
    s$version <- "one"
    s
  })), class = "selu_error", regexp = "`filepath`.*format version")
})

test_that("weights alone are saved by layer and weight name and loaded by name and shape", {
  model <- trained_model()
  path <- local_path()
  expect_identical(save_model_weights(model, path), model)
  saved <- readRDS(path)
  expect_false(holds_code(saved))
  expect_identical(saved[["hidden/kernel"]], get_weights(model)[[1]])
  twin <- trained_model(compiled = FALSE)
  set_weights(twin, lapply(get_weights(twin), function(w) w + 1))
  expect_identical(load_model_weights(twin, path), twin)
  expect_identical(get_weights(twin), get_weights(model))
  # a file of save_model() gives its weights too
  full <- local_path()
  save_model(model, full)
  other <- trained_model(compiled = FALSE)
  set_weights(other, lapply(get_weights(other), function(w) w * 0))
  load_model_weights(other, full)
  expect_identical(get_weights(other), get_weights(model))
})

test_that("weights that do not fit the model change nothing and name the file and layer", {
  path <- local_path()
  save_model_weights(trained_model(), path)
  wider <- keras_model_sequential(input_shape = 4) |>
    layer_dense(7, name = "hidden") |> layer_alpha_dropout(0.1, name = "noise") |>
    layer_activation_parametric_relu(name = "prelu") |> layer_dense(2, name = "out")
  before <- get_weights(wider)
  expect_error(load_model_weights(wider, path), class = "selu_error",
               regexp = "`filepath`.*\"kernel\" of layer \"hidden\" in shape \\(4, 6\\).*\\(4, 7\\)")
  expect_identical(get_weights(wider), before)
  renamed <- keras_model_sequential(input_shape = 4) |>
    layer_dense(6, name = "first") |> layer_dense(2, name = "out")
  expect_error(load_model_weights(renamed, path), class = "selu_error",
               regexp = "`filepath`.*no weight \"kernel\" for layer \"first\"")
  smaller <- keras_model_sequential(input_shape = 4) |> layer_dense(6, name = "hidden")
  expect_error(load_model_weights(smaller, path), class = "selu_error",
               regexp = "`filepath`.*layer \"prelu\", which `model` does not have")
  other <- local_path()
  saveRDS(list(a = 1), other)
  expect_error(load_model_weights(smaller, other), class = "selu_error",
               regexp = "`filepath`.*not a weights file")
})

test_that("the arguments are checked", {
  path <- local_path()
  model <- trained_model()
  expect_error(save_model(), class = "selu_error", regexp = "`model`")
  expect_error(save_model(layer_dense(units = 2), path), class = "selu_error", regexp = "`model` must be a model")
  expect_error(save_model(model), class = "selu_error", regexp = "`filepath`")
  expect_error(save_model(model, 1), class = "selu_error", regexp = "`filepath` must be a single")
  expect_error(save_model(model, ""), class = "selu_error", regexp = "`filepath` must be a single")
  expect_error(save_model(model, file.path(tempfile(), "m.rds")), class = "selu_error",
               regexp = "`filepath`.*directory that does not exist")
  expect_error(save_model(model, tempdir()), class = "selu_error", regexp = "`filepath`.*directory")
  expect_error(save_model(model, path, overwrite = NA), class = "selu_error", regexp = "`overwrite`")
  expect_error(load_model(), class = "selu_error", regexp = "`filepath`")
  expect_error(load_model(NA_character_), class = "selu_error", regexp = "`filepath`")
  expect_error(load_model(strrep("n", 5000)), class = "selu_error",
               regexp = "`filepath` must be a path of at most 4095 bytes, not one of 5000")
  expect_error(save_model(model, strrep("n", 5000)), class = "selu_error", regexp = "`filepath`")
  expect_error(save_model_weights("model", path), class = "selu_error", regexp = "`model`")
  expect_error(load_model_weights(model), class = "selu_error", regexp = "`filepath`")
  expect_error(load_model_weights(NULL, path), class = "selu_error", regexp = "`model`")
  custom <- keras_model_sequential(input_shape = 2) |>
    layer_dense(2, activation = function(x) x, name = "own")
  expect_error(save_model(custom, path), class = "selu_error",
               regexp = "`model`.*layer \"own\".*R function")
  expect_false(file.exists(path))
})

test_that("saveRDS() of a model gives a working, independent copy", {
  data <- regression_data()
  model <- trained_model()
  fit(model, data$x, data$y, epochs = 1, batch_size = 5, verbose = 0)
  path <- local_path()
  saveRDS(model, path)
  copy <- readRDS(path)
  expect_identical(predict(copy, data$x), predict(model, data$x))
  weights <- get_weights(model)
  fit(copy, data$x, data$y, epochs = 1, batch_size = 5, shuffle = FALSE, verbose = 0)
  expect_identical(get_weights(model), weights)
  fit(model, data$x, data$y, epochs = 1, batch_size = 5, shuffle = FALSE, verbose = 0)
  expect_identical(get_weights(copy), get_weights(model))
})

# --- keras's JSON -------------------------------------------------------------


test_that("a keras Sequential model's JSON builds the same model", {
  model <- model_from_json(read_fixture("keras-sequential.json"))
  expect_identical(model$name, "snn")
  expect_identical(model$input_shape, c(NA, 4L))
  classes <- vapply(model$layers, function(l) attr(get_config(l), "class_name"), "")
  expect_identical(classes, c("Dense", "AlphaDropout", "Dense", "ELU", "LeakyReLU", "ReLU",
                              "ThresholdedReLU", "Dropout", "PReLU", "Activation", "Dense",
                              "Softmax"))
  configs <- lapply(model$layers, get_config)
  expect_true(all(vapply(configs, function(c) c$dtype, "") == "float64"))
  expect_identical(configs[[1]]$activation, "selu")
  expect_identical(attr(configs[[1]]$kernel_initializer, "class_name"), "LecunNormal")
  expect_identical(configs[[1]]$kernel_regularizer$l2, 0.009999999776482582)
  # keras's constraint axis 0 is R's 1
  expect_equal(configs[[1]]$kernel_constraint$axis, 1)
  expect_identical(configs[[5]]$alpha, 0.30000001192092896)
  expect_identical(configs[[6]]$max_value, 6)
  expect_identical(configs[[8]]$seed, 42L)
  expect_identical(attr(configs[[9]]$alpha_constraint, "class_name"), "NonNeg")
  expect_identical(configs[[10]]$activation, "tanh")
  expect_equal(configs[[12]]$axis, -1)
  expect_identical(vapply(get_weights(model), function(w) length(w), 1L),
                   c(32L, 8L, 48L, 6L, 6L, 18L, 3L))
  expect_identical(as.vector(get_weights(model)[[5]]), rep(0.25, 6))
})

test_that("a keras functional model's JSON builds the same chain, axes from 0 made R's", {
  model <- model_from_json(read_fixture("keras-functional.json"))
  expect_s3_class(model, "selu_functional")
  expect_identical(model$input_shape, c(NA, 5L, 3L))
  configs <- lapply(model$layers, get_config)
  # keras's shared_axes [1] and Softmax axis 1 are the first axis after the batch: R's 2
  expect_equal(configs[[2]]$shared_axes, 2)
  expect_equal(configs[[4]]$axis, 2)
  expect_identical(dim(get_weights(model)[[1]]), c(1L, 3L))
  expect_identical(model$output_shape, c(NA, 5L, 4L))
  # the softmax runs along the axis of length 5: each [i, , j] sums to 1
  set.seed(2)
  x <- array(rnorm(2 * 5 * 3), c(2, 5, 3))
  y <- predict(model, x)
  expect_equal(apply(y, c(1, 3), sum), matrix(1, 2, 4))
})

# The fixture as keras reads our JSON back: our dtypes are float64, and
# AlphaDropout keeps its noise_shape (keras leaves it out, a bug).
expected_from_fixture <- function(name) {
  fixture <- jsonlite::fromJSON(read_fixture(name), simplifyVector = FALSE)
  rapply_dtype <- function(x) {
    if (!is.list(x)) return(x)
    if (identical(x$dtype, "float32")) x$dtype <- "float64"
    if (identical(x$class_name, "AlphaDropout")) x$config <- append(x$config, list(noise_shape = NULL), 4)
    x[] <- lapply(x, rapply_dtype)
    x
  }
  fixture <- rapply_dtype(fixture)
  fixture$config$trainable <- NULL
  fixture
}

test_that("model_to_json() writes what keras writes", {
  for (name in c("keras-sequential.json", "keras-functional.json")) {
    model <- model_from_json(read_fixture(name))
    json <- model_to_json(model)
    expect_type(json, "character")
    expect_length(json, 1)
    written <- jsonlite::fromJSON(json, simplifyVector = FALSE)
    expect_identical(written, expected_from_fixture(name))
  }
  # and in keras's spacing: Python's json.dumps
  json <- model_to_json(model_from_json(read_fixture("keras-functional.json")))
  expect_match(json, "{\"class_name\": \"Functional\", \"config\": {\"name\": \"model\"", fixed = TRUE)
  expect_match(json, "\"inbound_nodes\": [[[\"input_1\", 0, 0, {}]]]", fixed = TRUE)
  expect_match(json, "\"keras_version\": \"2.13.1\", \"backend\": \"tensorflow\"}$")
})

test_that("our models go to keras's JSON with keras's axes and back unchanged", {
  set.seed(5)
  model <- keras_model_sequential(input_shape = c(3, 4), name = "axes") |>
    layer_activation_parametric_relu(shared_axes = 2L, alpha_constraint = constraint_maxnorm(2, axis = c(1, -1))) |>
    layer_dense(5, activation = "elu", kernel_regularizer = regularizer_l1_l2(0.1, 0.2)) |>
    layer_activation_softmax(axis = 2) |>
    layer_dropout(0.3, noise_shape = c(NA, 1, 5), seed = 9)
  json <- model_to_json(model)
  written <- jsonlite::fromJSON(json, simplifyVector = FALSE)
  layers <- written$config$layers
  expect_identical(layers[[1]]$class_name, "InputLayer")
  expect_identical(layers[[1]]$config$batch_input_shape, list(NULL, 3L, 4L))
  expect_identical(layers[[1]]$config$name, paste0(model$layers[[1]]$name, "_input"))
  expect_identical(layers[[2]]$config$shared_axes, list(1L))
  expect_identical(layers[[2]]$config$alpha_constraint$config$axis, list(0L, -1L))
  expect_identical(layers[[2]]$config$alpha_constraint$module, "keras.constraints")
  expect_identical(layers[[3]]$config$kernel_regularizer$config, list(l1 = 0.1, l2 = 0.2))
  expect_identical(layers[[4]]$config$axis, 1L)
  expect_identical(layers[[5]]$config$noise_shape, list(NULL, 1L, 5L))
  back <- model_from_json(json)
  expect_identical(get_config(back), get_config(model))
  # the weights move with get_weights() and set_weights()
  set_weights(back, get_weights(model))
  x <- array(rnorm(24), c(2, 3, 4))
  expect_identical(predict(back, x), predict(model, x))
})

test_that("JSON that selu cannot read is an error that says why", {
  conv <- sub("\"class_name\": \"Dropout\"", "\"class_name\": \"Conv2D\"",
              read_fixture("keras-sequential.json"), fixed = TRUE)
  expect_error(model_from_json(conv), class = "selu_error",
               regexp = "`json`.*\"dropout\" of class \"Conv2D\", which selu does not have")
  expect_error(model_from_json("{\"class_name\": "), class = "selu_error",
               regexp = "`json` is not valid JSON")
  expect_error(model_from_json("[1, 2]"), class = "selu_error", regexp = "`json` must be a keras model")
  expect_error(model_from_json("{\"class_name\": \"Graph\", \"config\": {}}"),
               class = "selu_error", regexp = "`json`.*\"Graph\"")
  half <- sub("\"float32\", \"sparse\"", "\"float16\", \"sparse\"", read_fixture("keras-sequential.json"),
              fixed = TRUE)
  half <- sub("\"dtype\": \"float32\", \"units\": 6", "\"dtype\": \"float16\", \"units\": 6", half,
              fixed = TRUE)
  expect_error(model_from_json(half), class = "selu_error",
               regexp = "`json`.*\"dense_1\" of dtype the string \"float16\"")
  bad_units <- sub("\"units\": 6", "\"units\": -6", read_fixture("keras-sequential.json"), fixed = TRUE)
  expect_error(model_from_json(bad_units), class = "selu_error",
               regexp = "`json`.*\"dense_1\" \\(Dense\\).*`units`")
  branch <- sub("[[[\"p_re_lu\", 0, 0, {}]]]", "[[[\"p_re_lu\", 0, 0, {}], [\"input_1\", 0, 0, {}]]]",
                read_fixture("keras-functional.json"), fixed = TRUE)
  expect_error(model_from_json(branch), class = "selu_error",
               regexp = "`json`.*`inputs` must be a numeric vector, matrix or array or a symbolic tensor for layer \"dense\"")
  expect_error(model_from_json(), class = "selu_error", regexp = "`json`")
  expect_error(model_from_json(1), class = "selu_error", regexp = "`json` must be")
  expect_error(model_from_json(list("{}")), class = "selu_error", regexp = "`json` must be")
})

test_that("model_to_json() refuses what keras could not read", {
  model <- keras_model_sequential(input_shape = 2) |> layer_dense(2, activation = function(x) x)
  expect_error(model_to_json(model), class = "selu_error",
               regexp = "`model`.*activation is an R function")
  expect_error(model_to_json("model"), class = "selu_error", regexp = "`model` must be a model")
  expect_error(model_to_json(), class = "selu_error", regexp = "`model`")
})
