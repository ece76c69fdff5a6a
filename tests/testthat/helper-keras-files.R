# For the tests of keras's files (test-hdf5.R, test-keras3.R): the fixtures
# that scripts/make-keras-files.py writes with h5py, and Python with h5py to
# read selu's files back.

keras_fixture <- function(name) test_path("fixtures", name)

keras_references <- function() {
  jsonlite::read_json(keras_fixture("keras-files.json"), simplifyVector = TRUE)
}

# A Python 3 with h5py, or "" (Debian's python3-h5py is for /usr/bin/python3).
python_with_h5py <- function() {
  for (python in unique(c(Sys.getenv("SELU_TEST_PYTHON"), "/usr/bin/python3",
                          Sys.which("python3")))) {
    if (!nzchar(python) || !file.exists(python)) next
    status <- suppressWarnings(system2(python, c("-c", shQuote("import h5py, numpy")),
                                       stdout = FALSE, stderr = FALSE))
    if (identical(status, 0L)) return(python)
  }
  ""
}

skip_without_h5py <- function() {
  skip_if_not_installed("hdf5r")
  skip_if(!nzchar(python_with_h5py()), "no python3 with h5py (Debian: python3-h5py)")
}

# Runs Python code (with `path` bound to the file) and parses the JSON it
# prints.
h5py_read <- function(path, code) {
  script <- tempfile(fileext = ".py")
  on.exit(unlink(script))
  writeLines(c("import h5py, json, numpy, sys, zipfile, io", sprintf("path = %s",
               as.character(jsonlite::toJSON(normalizePath(path), auto_unbox = TRUE))), code),
             script)
  out <- suppressWarnings(system2(python_with_h5py(), shQuote(script), stdout = TRUE,
                                  stderr = TRUE))
  if (!is.null(attr(out, "status"))) stop("python failed:\n", paste(out, collapse = "\n"))
  jsonlite::parse_json(paste(out, collapse = "\n"), simplifyVector = TRUE)
}

# Replaces a function of the package for the rest of the test.
local_replaced <- function(name, fake, env = parent.frame()) {
  if (exists("local_mocked_bindings", asNamespace("testthat"))) {
    args <- list(fake, .env = env)
    names(args)[1] <- name
    return(do.call(testthat::local_mocked_bindings, args))
  }
  real <- get(name, asNamespace("selu"))
  utils::assignInNamespace(name, fake, "selu")
  do.call(on.exit, list(call("assignInNamespace", name, real, "selu"), add = TRUE), envir = env)
}

# A model of every kind of weight: dense, batch normalization, layer
# normalization, PReLU and an embedding, two inputs and two outputs, trained
# a little so that no weight is at its initial value. Its layers are named
# as in a fresh session (dense, batch_normalization, ...).
weighty_model <- function() {
  k_clear_session()
  set.seed(7)
  numbers <- layer_input(4, name = "numbers")
  ids <- layer_input(3, name = "ids")
  a <- numbers |>
    layer_dense(5, activation = "selu", kernel_initializer = "lecun_normal") |>
    layer_batch_normalization() |>
    layer_activation_parametric_relu() |>
    layer_layer_normalization()
  b <- ids |> layer_embedding(6, 2) |> layer_flatten()
  merged <- layer_concatenate(list(a, b))
  model <- keras_model(list(numbers, ids),
                       list(layer_dense(merged, 2, name = "value"),
                            layer_dense(merged, 3, activation = "softmax", name = "probs")))
  compile(model, optimizer = optimizer_adam(0.01),
          loss = list("mse", "categorical_crossentropy"), metrics = "mae")
  x <- weighty_inputs()
  fit(model, x, list(matrix(rnorm(20), 10, 2), diag(3)[rep(1:3, length.out = 10), ]),
      epochs = 2, batch_size = 5, verbose = 0)
  model
}

weighty_inputs <- function() {
  set.seed(8)
  list(matrix(rnorm(40), 10, 4), matrix(sample(0:5, 30, replace = TRUE), 10, 3))
}
