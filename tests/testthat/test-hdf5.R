# keras 2's HDF5 files: fixtures written with h5py in keras's layout
# (scripts/make-keras-files.py) read here; selu's files read back with h5py.

test_that("a keras 2 model file written with h5py loads and predicts numpy's values", {
  skip_if_not_installed("hdf5r")
  ref <- keras_references()$keras2
  for (load in list(load_model_hdf5, load_model)) {
    model <- load(keras_fixture("keras2-model.h5"))
    expect_equal(predict(model, ref$x), ref$y, tolerance = 1e-12)
    # compiled as its training_config says
    expect_identical(get_config(model_state(model)$compiled$optimizer)$learning_rate, 0.0010000000474974513)
    expect_identical(attr(get_config(model_state(model)$compiled$optimizer), "class_name"), "Adam")
  }
  expect_null(model_state(load_model_hdf5(keras_fixture("keras2-model.h5"), compile = FALSE))$compiled)
  expect_identical(vapply(model$layers, function(l) l$name, ""),
                   c("dense", "batch_normalization", "dense_1"))
})

test_that("keras 2 weights load by order, by name, and from a whole model's file", {
  skip_if_not_installed("hdf5r")
  ref <- keras_references()$keras2
  build <- function(names = c("a", "b", "c")) {
    keras_model_sequential(input_shape = 4) |>
      layer_dense(5, activation = "selu", name = names[1]) |>
      layer_batch_normalization(name = names[2]) |>
      layer_dense(3, activation = "softmax", name = names[3])
  }
  # by order: the names need not match
  model <- build()
  load_model_weights_hdf5(model, keras_fixture("keras2-weights.h5"))
  expect_equal(predict(model, ref$x), ref$y, tolerance = 1e-12)
  model <- build()
  load_model_weights_hdf5(model, keras_fixture("keras2-model.h5"))
  expect_equal(predict(model, ref$x), ref$y, tolerance = 1e-12)
  # load_model_weights() reads keras 2's layout too
  model <- build()
  load_model_weights(model, keras_fixture("keras2-weights.h5"))
  expect_equal(predict(model, ref$x), ref$y, tolerance = 1e-12)
  # by name: only the layers of the same name
  model <- build(c("dense", "other", "dense_1"))
  before <- get_weights(model)
  load_model_weights_hdf5(model, keras_fixture("keras2-weights.h5"), by_name = TRUE)
  after <- get_weights(model)
  expect_identical(after[3:6], before[3:6])
  expect_false(identical(after[[1]], before[[1]]))
  expect_identical(dim(after[[1]]), c(4L, 5L))
})

test_that("selu's HDF5 files round-trip and are keras's layout as h5py reads it", {
  skip_if_not_installed("hdf5r")
  model <- weighty_model()
  x <- weighty_inputs()
  dir <- withr::local_tempdir()
  path <- file.path(dir, "model.h5")
  expect_identical(save_model_hdf5(model, path), model)
  back <- load_model_hdf5(path)
  expect_identical(predict(back, x), predict(model, x))
  expect_identical(get_weights(back), get_weights(model))
  expect_identical(get_config(model_state(back)$compiled$optimizer), get_config(model_state(model)$compiled$optimizer))
  weights <- file.path(dir, "weights.hdf5")
  save_model_weights_hdf5(model, weights)
  twin <- from_config(get_config(model))
  load_model_weights_hdf5(twin, weights)
  expect_identical(predict(twin, x), predict(model, x))

  skip_without_h5py()
  seen <- h5py_read(path, c(
    "f = h5py.File(path, 'r')",
    "g = f['model_weights']",
    "names = [n.decode() for n in g.attrs['layer_names']]",
    "out = {'keras_version': f.attrs['keras_version'], 'backend': f.attrs['backend'],",
    "       'config': json.loads(f.attrs['model_config']),",
    "       'training': json.loads(f.attrs['training_config']), 'layer_names': names,",
    "       'weights': {}}",
    "for n in names:",
    "    for w in g[n].attrs['weight_names']:",
    "        w = w.decode()",
    "        out['weights'][w] = {'shape': list(g[n][w].shape), 'values': g[n][w][()].ravel().tolist()}",
    "print(json.dumps(out))"))
  expect_identical(seen$keras_version, "2.13.1")
  expect_identical(seen$backend, "tensorflow")
  expect_identical(seen$config$class_name, "Functional")
  expect_identical(seen$training$optimizer_config$class_name, "Adam")
  expect_identical(seen$layer_names, vapply(model$layers, function(l) l$name, ""))
  expect_identical(names(seen$weights)[1:6],
                   c("dense/kernel:0", "dense/bias:0", "batch_normalization/gamma:0",
                     "batch_normalization/beta:0", "batch_normalization/moving_mean:0",
                     "batch_normalization/moving_variance:0"))
  kernel <- get_weights(model$layers[[3]])[[1]]
  expect_identical(seen$weights$`dense/kernel:0`$shape, dim(kernel))
  # numpy's row-major order
  expect_identical(seen$weights$`dense/kernel:0`$values, as.vector(t(kernel)))
  expect_identical(seen$weights$`embedding/embeddings:0`$shape, c(6L, 2L))
})

test_that("a checkpoint named .h5 writes keras's HDF5", {
  skip_if_not_installed("hdf5r")
  dir <- withr::local_tempdir()
  model <- keras_model_sequential(input_shape = 2) |> layer_dense(1)
  compile(model, optimizer = "sgd", loss = "mse")
  x <- matrix(c(1, 2, 3, 4), 2)
  fit(model, x, c(1, 2), epochs = 2, verbose = 0,
      callbacks = callback_model_checkpoint(file.path(dir, "m-{epoch:02d}.h5"), monitor = "loss"))
  expect_setequal(list.files(dir), c("m-01.h5", "m-02.h5"))
  expect_identical(predict(load_model(file.path(dir, "m-02.h5")), x), predict(model, x))
})

test_that("bad HDF5 files are errors naming the file", {
  skip_if_not_installed("hdf5r")
  dir <- withr::local_tempdir()
  model <- weighty_model()
  path <- file.path(dir, "model.h5")
  save_model_hdf5(model, path)
  bytes <- readBin(path, "raw", file.size(path))
  # truncated anywhere
  for (n in c(8, 100, 800, length(bytes) %/% 2, length(bytes) - 1)) {
    cut <- file.path(dir, "cut.h5")
    writeBin(bytes[seq_len(n)], cut)
    expect_error(load_model_hdf5(cut), class = "selu_error_file",
                 regexp = "`filepath` \"[^\"]*cut.h5\".*(damaged|truncated)")
    expect_error(load_model_weights_hdf5(model, cut), class = "selu_error_file",
                 regexp = "`filepath` \"[^\"]*cut.h5\"")
  }
  # foreign: not HDF5; HDF5 of something else
  foreign <- file.path(dir, "foreign.h5")
  writeLines("not hdf5", foreign)
  expect_error(load_model_hdf5(foreign), class = "selu_error_file",
               regexp = "`filepath` \"[^\"]*foreign.h5\" is not an HDF5 file")
  other <- file.path(dir, "other.h5")
  file <- hdf5r::H5File$new(other, mode = "w")
  file[["data"]] <- 1:3
  file$close_all()
  expect_error(load_model_hdf5(other), class = "selu_error_file",
               regexp = "other.h5\" is not a keras model file: it has no attribute \"model_config\"")
  expect_error(load_model_weights_hdf5(model, other), class = "selu_error_file",
               regexp = "other.h5\" is not a keras weights file")
  expect_error(load_model_hdf5(keras_fixture("keras2-weights.h5")), class = "selu_error_file",
               regexp = "weights alone.*load_model_weights_hdf5")
  expect_error(load_model_weights_hdf5(model, keras_fixture("keras3-model.weights.h5")),
               class = "selu_error_file", regexp = "keras 3's weights.*load_model_weights\\(\\)")
  # newer: a model of a keras whose HDF5 selu does not know
  newer <- file.path(dir, "newer.h5")
  file.copy(keras_fixture("keras2-model.h5"), newer)
  file <- hdf5r::H5File$new(newer, mode = "r+")
  file$attr_delete("keras_version")
  file$create_attr("keras_version", robj = "4.0.0", space = hdf5r::H5S$new("scalar"))
  file$close_all()
  expect_error(load_model_hdf5(newer), class = "selu_error_file",
               regexp = "newer.h5\" was written by keras 4.0.0, newer than the keras 3 format")
  # wrong shape: another architecture, no weight changed
  small <- keras_model_sequential(input_shape = 4) |>
    layer_dense(7, activation = "selu") |>
    layer_batch_normalization() |>
    layer_dense(3)
  before <- get_weights(small)
  expect_error(load_model_weights_hdf5(small, keras_fixture("keras2-weights.h5")),
               class = "selu_error_file",
               regexp = "keras2-weights.h5\" holds the weight \"dense/kernel:0\" of layer \"dense\" in shape \\(4, 5\\), but layer \"dense_[0-9]+\" of `model` needs \\(4, 7\\)")
  expect_identical(get_weights(small), before)
  fewer <- keras_model_sequential(input_shape = 4) |> layer_dense(3)
  expect_error(load_model_weights_hdf5(fewer, keras_fixture("keras2-weights.h5")),
               class = "selu_error_file",
               regexp = "holds the weights of 3 layers, but `model` has 1 layer with weights")
  # missing and directory
  expect_error(load_model_hdf5(file.path(dir, "none.h5")), class = "selu_error_file",
               regexp = "none.h5\" does not exist")
  expect_error(load_model_hdf5(dir), class = "selu_error_file", regexp = "is a directory")
})

test_that("writes are atomic and check their arguments", {
  skip_if_not_installed("hdf5r")
  dir <- withr::local_tempdir()
  model <- weighty_model()
  path <- file.path(dir, "kept.h5")
  writeLines("old", path)
  local_replaced("write_keras2_h5", function(...) stop("disk full"))
  expect_error(save_model_hdf5(model, path), class = "selu_error_file",
               regexp = "Could not write `filepath` \"[^\"]*kept.h5\": disk full")
  expect_error(save_model(model, path), class = "selu_error_file", regexp = "disk full")
  expect_error(save_model_weights_hdf5(model, path), class = "selu_error_file", regexp = "disk full")
  expect_identical(readLines(path), "old")
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "kept.h5")
  expect_error(save_model_hdf5(model, path, overwrite = FALSE), class = "selu_error_file",
               regexp = "exists already")
  expect_error(save_model_hdf5("model", path), class = "selu_error", regexp = "`model` must be a model")
  expect_error(save_model_hdf5(model), class = "selu_error", regexp = "`filepath`")
  expect_error(save_model_hdf5(model, file.path(dir, "no", "m.h5")), class = "selu_error_file",
               regexp = "directory that does not exist")
  expect_error(load_model_hdf5(path, compile = NA), class = "selu_error", regexp = "`compile`")
  expect_error(load_model_weights_hdf5(model, path, by_name = "yes"), class = "selu_error",
               regexp = "`by_name`")
})

test_that("without hdf5r, keras's HDF5 formats are an error naming it", {
  local_replaced("has_hdf5r", function() FALSE)
  model <- keras_model_sequential(input_shape = 2) |> layer_dense(1)
  dir <- withr::local_tempdir()
  for (name in c("m.h5", "m.keras", "m.hdf5")) {
    expect_error(save_model(model, file.path(dir, name)), class = "selu_error_dependency",
                 regexp = "needs the package hdf5r.*install.packages\\(\"hdf5r\"\\)")
  }
  expect_error(save_model_weights(model, file.path(dir, "m.weights.h5")),
               class = "selu_error_dependency", regexp = "hdf5r")
  expect_error(save_model_hdf5(model, file.path(dir, "m.h5")), class = "selu_error_dependency",
               regexp = "hdf5r")
  expect_error(load_model(keras_fixture("keras2-model.h5")), class = "selu_error_dependency",
               regexp = "hdf5r")
  expect_error(load_model(keras_fixture("keras3-model.keras")), class = "selu_error_dependency",
               regexp = "hdf5r")
  expect_length(list.files(dir), 0)
})
