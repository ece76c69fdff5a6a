# keras 3's files: .keras (a zip of config.json, metadata.json and
# model.weights.h5) and .weights.h5, through save_model() / load_model() and
# save_model_weights() / load_model_weights(). Fixtures written with h5py and
# Python's zipfile in keras's layout (scripts/make-keras-files.py); selu's
# files read back with them.

keras3_inputs <- function(ref) list(ref$left, ref$right)

test_that("a keras 3 .keras file loads and predicts numpy's values, compiled", {
  skip_if_not_installed("hdf5r")
  ref <- keras_references()$keras3
  model <- load_model(keras_fixture("keras3-model.keras"))
  expect_equal(predict(model, keras3_inputs(ref)), ref$y, tolerance = 1e-12)
  expect_identical(vapply(model$layers, function(l) l$name, ""),
                   c("left", "right", "dense", "dense_1", "add", "concatenate", "dense_2"))
  optimizer <- get_config(model_state(model)$compiled$optimizer)
  expect_identical(attr(optimizer, "class_name"), "SGD")
  expect_identical(optimizer$learning_rate, 0.009999999776482582)
})

test_that("keras 3 weights files load by layer order", {
  skip_if_not_installed("hdf5r")
  ref <- keras_references()$keras3
  left <- layer_input(3)
  right <- layer_input(2)
  a <- layer_dense(left, 4, activation = "selu", name = "p")
  b <- layer_dense(right, 4, activation = "selu", name = "q")
  out <- layer_dense(layer_concatenate(list(layer_add(list(a, b)), a)), 2, name = "r")
  model <- keras_model(list(left, right), out)
  load_model_weights(model, keras_fixture("keras3-model.weights.h5"))
  expect_equal(predict(model, keras3_inputs(ref)), ref$y, tolerance = 1e-12)
})

test_that("selu's .keras and .weights.h5 round-trip", {
  skip_if_not_installed("hdf5r")
  model <- weighty_model()
  x <- weighty_inputs()
  dir <- withr::local_tempdir()
  path <- file.path(dir, "model.keras")
  expect_identical(save_model(model, path), model)
  back <- load_model(path)
  expect_identical(get_config(back), get_config(model))
  expect_identical(predict(back, x), predict(model, x))
  expect_identical(get_config(model_state(back)$compiled$optimizer),
                   get_config(model_state(model)$compiled$optimizer))
  # a sequential model, with its build_config
  seq_model <- keras_model_sequential(input_shape = 3) |>
    layer_dense(4, activation = "elu") |>
    layer_dense(4) |>
    layer_activation_parametric_relu()
  save_model(seq_model, path)
  xs <- matrix(rnorm(6), 2, 3)
  expect_identical(predict(load_model(path), xs), predict(seq_model, xs))
  weights <- file.path(dir, "w.weights.h5")
  save_model_weights(model, weights)
  twin <- from_config(get_config(model))
  load_model_weights(twin, weights)
  expect_identical(predict(twin, x), predict(model, x))
})

test_that("selu's .keras is keras 3's layout as Python's zipfile and h5py read it", {
  skip_without_h5py()
  model <- weighty_model()
  dir <- withr::local_tempdir()
  path <- file.path(dir, "model.keras")
  save_model(model, path)
  seen <- h5py_read(path, c(
    "z = zipfile.ZipFile(path)",
    "assert z.testzip() is None",
    "names = z.namelist()",
    "config = json.loads(z.read('config.json'))",
    "metadata = json.loads(z.read('metadata.json'))",
    "f = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')",
    "paths = []",
    "f.visit(lambda p: paths.append(p) if isinstance(f[p], h5py.Dataset) else None)",
    "shapes = {p: list(f[p].shape) for p in paths}",
    "concat = [l for l in config['config']['layers'] if l['class_name'] == 'Concatenate'][0]",
    "concat_from = [t['config']['keras_history'][0] for t in concat['inbound_nodes'][0]['args'][0]]",
    "print(json.dumps({'names': sorted(names), 'config': config, 'metadata': metadata,",
    "                  'shapes': shapes, 'concat_from': concat_from,",
    "                  'kernel': f['layers/dense/vars/0'][()].ravel().tolist()}))"))
  expect_identical(seen$names, c("config.json", "metadata.json", "model.weights.h5"))
  expect_identical(seen$metadata$keras_version, "3.3.3")
  expect_identical(seen$config$class_name, "Functional")
  expect_identical(seen$config$module, "keras.src.models.functional")
  layers <- seen$config$config$layers
  expect_identical(layers$config$batch_shape[[1]], c(NA, 4L))
  expect_identical(layers$module[[3]], "keras.layers")
  # a merging layer's node: one argument, the list of its inputs
  expect_true(all(startsWith(seen$concat_from, c("layer_normalization", "flatten"))))
  expect_identical(seen$config$compile_config$optimizer$class_name, "Adam")
  expect_identical(seen$shapes$`layers/dense/vars/0`, c(4L, 5L))
  expect_identical(seen$shapes$`layers/batch_normalization/vars/3`, 5L)
  expect_identical(seen$shapes$`layers/embedding/vars/0`, c(6L, 2L))
  expect_identical(seen$shapes$`layers/dense_1/vars/1`, 2L)
  expect_identical(seen$kernel, as.vector(t(get_weights(model$layers[[3]])[[1]])))
})

test_that("bad keras 3 files are errors naming the file", {
  skip_if_not_installed("hdf5r")
  dir <- withr::local_tempdir()
  model <- weighty_model()
  path <- file.path(dir, "model.keras")
  save_model(model, path)
  bytes <- readBin(path, "raw", file.size(path))
  for (n in c(10, 200, length(bytes) %/% 2, length(bytes) - 10)) {
    cut <- file.path(dir, "cut.keras")
    writeBin(bytes[seq_len(n)], cut)
    expect_error(load_model(cut), class = "selu_error_file",
                 regexp = "`filepath` \"[^\"]*cut.keras\".*(damaged|truncated)")
  }
  # a zip of something else
  files <- list("config.json" = charToRaw("{}"), "metadata.json" = charToRaw("{}"))
  other <- file.path(dir, "other.keras")
  write_zip(files["config.json"], other)
  expect_error(load_model(other), class = "selu_error_file",
               regexp = "other.keras\" is a zip archive without \"metadata.json\"")
  # newer
  unzipped <- file.path(dir, "parts")
  utils::unzip(path, exdir = unzipped)
  part <- function(name) readBin(file.path(unzipped, name), "raw", file.size(file.path(unzipped, name)))
  newer <- file.path(dir, "newer.keras")
  write_zip(list("metadata.json" = charToRaw('{"keras_version": "4.1.0"}'),
                 "config.json" = part("config.json"), "model.weights.h5" = part("model.weights.h5")),
            newer)
  expect_error(load_model(newer), class = "selu_error_file",
               regexp = "newer.keras\" was written by keras 4.1.0, newer than the keras 3 format selu reads")
  # foreign JSON in it
  foreign <- file.path(dir, "foreign.keras")
  write_zip(list("metadata.json" = part("metadata.json"), "config.json" = charToRaw("[1, 2"),
                 "model.weights.h5" = part("model.weights.h5")), foreign)
  expect_error(load_model(foreign), class = "selu_error_file",
               regexp = "foreign.keras\" is damaged: its config.json is not JSON")
  # wrong shapes: the weights of another model
  other_model <- keras_model_sequential(input_shape = 4) |> layer_dense(3)
  save_model(other_model, file.path(dir, "small.keras"))
  mixed <- file.path(dir, "mixed.keras")
  utils::unzip(file.path(dir, "small.keras"), exdir = file.path(dir, "small"))
  small_weights <- file.path(dir, "small", "model.weights.h5")
  write_zip(list("metadata.json" = part("metadata.json"), "config.json" = part("config.json"),
                 "model.weights.h5" = readBin(small_weights, "raw", file.size(small_weights))), mixed)
  expect_error(load_model(mixed), class = "selu_error_file",
               regexp = "mixed.keras\" has a model.weights.h5 that holds the weight \"layers/dense/vars/0\" in shape \\(4, 3\\)")
  weights <- file.path(dir, "small.weights.h5")
  save_model_weights(other_model, weights)
  before <- get_weights(model)
  expect_error(load_model_weights(model, weights), class = "selu_error_file",
               regexp = "small.weights.h5\" holds the weight \"layers/dense/vars/0\" in shape \\(4, 3\\)")
  expect_identical(get_weights(model), before)
  wide <- keras_model_sequential(input_shape = 5) |> layer_dense(3)
  expect_error(load_model_weights(wide, weights), class = "selu_error_file",
               regexp = "holds the weight \"layers/dense/vars/0\" in shape \\(4, 3\\), but weight \"kernel\" of layer \"[a-z_0-9]+\" of `model` needs \\(5, 3\\)")
  expect_error(load_model_weights(model, path), class = "selu_error_file",
               regexp = "model.keras\" is a zip archive.*load_model\\(\\)")
})

test_that("the zip writer's checksums are zip's CRC-32", {
  # the check values of CRC-32 (ISO 3309, as zip and PNG use it)
  expect_identical(.Call(C_selu_crc32, charToRaw("123456789")), 3421780262)
  expect_identical(.Call(C_selu_crc32, raw(0)), 0)
  expect_identical(.Call(C_selu_crc32, charToRaw("The quick brown fox jumps over the lazy dog")),
                   1095738169)
  path <- withr::local_tempfile(fileext = ".zip")
  write_zip(list("a.txt" = charToRaw("hello"), "b/c.bin" = as.raw(0:255)), path)
  listing <- utils::unzip(path, list = TRUE)
  expect_identical(listing$Name, c("a.txt", "b/c.bin"))
  expect_identical(listing$Length, c(5, 256))
  out <- withr::local_tempdir()
  utils::unzip(path, exdir = out)
  expect_identical(readBin(file.path(out, "b", "c.bin"), "raw", 300), as.raw(0:255))
})
