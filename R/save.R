# Saving and loading models: one file of plain data for a whole model
# (save_model()), one for its weights alone (save_model_weights()), and
# keras's JSON architecture format (model_to_json()).
#
# Files hold data only, never closures or environments: a model is rebuilt
# from its configuration by this version of the package, so files outlive
# changes to the package's internals.

SAVED_MODEL_FORMAT <- "selu_model"
SAVED_MODEL_VERSION <- 1L
HDF5_SIGNATURE <- as.raw(c(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a))

#' Save and load a whole model
#'
#' `save_model()` writes a model to one file: its architecture (the
#' configuration of [get_config()]), its weights, its compile settings (the
#' configurations of the optimizer and the loss, and the metrics as given to
#' [compile()]) and the optimizer's state (its step count and slot variables,
#' such as Adam's moments), with the random streams of dropout layers given
#' a `seed`. `load_model()` rebuilds the model from that file: it predicts
#' exactly what the saved model predicted, and [fit()] on it continues as
#' training the saved model would have.
#'
#' The file is an R data file (RDS) of plain data (lists, numbers and
#' strings, no functions), marked with a format name and version. It is
#' written to a temporary file in the same directory first, then renamed
#' over `filepath`, so a failure or an interrupt while writing never leaves
#' a half-written file: `filepath` holds the old file or the new one.
#'
#' The extension of `filepath` picks the format, as in keras:
#' * `.rds`, none, or any other: selu's own, described above.
#' * `.keras`: keras 3's, a zip of `config.json` (the architecture),
#'   `metadata.json` and `model.weights.h5` (the weights), with the compile
#'   settings; keras 3 loads it with `keras.saving.load_model()`.
#' * `.h5` or `.hdf5`: keras 2's HDF5 file, as [save_model_hdf5()] writes it.
#'
#' keras's formats hold no optimizer state or random streams: a model loaded
#' from them predicts what the saved one predicted, and training goes on
#' from fresh optimizer state. They need the package hdf5r. `.weights.h5`
#' (keras 3's weights alone) is for [save_model_weights()]. `load_model()`
#' reads each format whatever the name: keras 3's `.keras` files and keras
#' 2's HDF5 files written by keras (R's `keras::save_model_hdf5()`, Python's
#' `model.save()`) as well as selu's.
#'
#' `load_model()` restores the session's random stream (`.Random.seed`)
#' after building the model, so loading draws no random numbers: a
#' shuffled `fit()` after loading continues as it would have without
#' saving.
#'
#' `saveRDS()` of a model works too (a model is a function whose
#' environment holds its state, and R serializes both), but the copy it
#' gives keeps the code of the package version that saved it, which a later
#' version may not run. `save_model()` keeps data only and is the portable
#' way, across sessions, machines and versions of selu. For exchange with
#' keras, see also [model_to_json()].
#'
#' @param model A model from [keras_model_sequential()] or [keras_model()].
#' @param filepath The path of the file, one string.
#' @param overwrite `TRUE` (the default) to replace an existing file;
#'   `FALSE` makes an existing file an error.
#' @return `save_model()`: `model`, invisibly. `load_model()`: the model,
#'   compiled if the saved one was.
#' @family saving
#' @export
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(40), 10, 4)
#' y <- rowSums(x)
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(3, activation = "selu", kernel_initializer = "lecun_normal") |>
#'   layer_dense(1)
#' compile(model, optimizer = optimizer_adam(0.01), loss = "mse")
#' fit(model, x, y, epochs = 2, verbose = 0)
#' path <- tempfile(fileext = ".rds")
#' save_model(model, path)
#' restored <- load_model(path)
#' identical(predict(restored, x), predict(model, x))
#' fit(restored, x, y, epochs = 2, verbose = 0)  # training goes on
#' unlink(path)
#'
#' # keras 3's format
#' if (requireNamespace("hdf5r", quietly = TRUE)) {
#'   keras_path <- tempfile(fileext = ".keras")
#'   save_model(model, keras_path)
#'   print(utils::unzip(keras_path, list = TRUE)$Name)
#'   from_keras <- load_model(keras_path)
#'   print(all.equal(predict(from_keras, x), predict(model, x)))
#'   unlink(keras_path)
#' }
save_model <- function(model, filepath, overwrite = TRUE) {
  call <- sys.call()
  check_model_arg(model, call)
  filepath <- check_write_path(filepath, call)
  overwrite <- check_flag(overwrite, "overwrite", call = call)
  if (!overwrite && file.exists(filepath)) {
    selu_abort(sprintf("`filepath` \"%s\" exists already: give `overwrite = TRUE` to replace it.",
                       filepath), kind = "file", call = call)
  }
  format <- keras_format_of(filepath)
  if (identical(format, "keras3")) return(save_keras3_model(model, filepath, call))
  if (identical(format, "keras2")) {
    hdf5r_namespace(call)
    config <- model_to_keras(model, NULL, call)
    training <- training_config(model)
    write_atomically(model, filepath, call, write = function(model, path) {
      write_keras2_h5(model, path, config, training)
    })
    return(invisible(model))
  }
  if (identical(format, "keras3_weights")) {
    selu_abort(sprintf(paste(
      "`filepath` \"%s\" names a keras 3 weights file (.weights.h5), which holds weights",
      "alone: write it with save_model_weights(), or name the whole model \".keras\"."),
      filepath), kind = "file", call = call)
  }
  data <- saved_model_data(model)
  for (entry in data$config$layers) {
    if (!is_plain_data(entry$config)) {
      selu_abort(sprintf(paste(
        "`model` holds the layer \"%s\", whose configuration has an R function (an",
        "activation given as a function?): save_model() writes data only. Use a named",
        "activation, or saveRDS() within one version of selu."), entry$config$name),
        call = call)
    }
  }
  write_atomically(data, filepath, call)
  invisible(model)
}

#' @rdname save_model
#' @export
load_model <- function(filepath) {
  call <- sys.call()
  format <- keras_file_format(filepath, call)
  if (identical(format, "hdf5")) return(read_keras2_model(filepath, TRUE, call, strict = FALSE))
  if (identical(format, "zip")) return(load_keras3_model(filepath, call))
  data <- read_saved_file(filepath, call)
  check_saved_model(data, filepath, call)
  in_file(filepath, call, with_own_stream(function() NULL, model_from_saved(data, filepath, call)))
}

#' Save and load the weights of a model
#'
#' `save_model_weights()` writes the weights of a model alone to a file: an
#' R data file (RDS) of a named list whose names are
#' `"<layer name>/<weight name>"` (`"dense/kernel"`, `"dense/bias"`, ...) and
#' whose values are the arrays. `load_model_weights()` sets the weights of a
#' model of the same architecture from such a file, matching them by layer
#' name, weight name and shape: a layer of `model` without its weights in
#' the file, weights of a layer `model` does not have, or a shape that does
#' not fit is an error that changes no weight. It also takes a file of
#' [save_model()], whose weights it uses.
#'
#' The file is written to a temporary file in the same directory, then
#' renamed over `filepath`, as [save_model()] does.
#'
#' The extension of `filepath` picks the format, as in keras (these need
#' the package hdf5r):
#' * `.weights.h5`: keras 3's weights file (`model.save_weights()`):
#'   `layers/<layer>/vars/<i>`, the layers named by their class in
#'   snake_case (`dense`, `dense_1`, ...), each layer's weights numbered in
#'   keras's order. Loaded by layer order: the models must have the same
#'   layers in the same order, whatever their names.
#' * `.h5` or `.hdf5`: keras 2's weights file, as
#'   [save_model_weights_hdf5()] writes it.
#'
#' `load_model_weights()` reads either of keras's layouts from any HDF5 file.
#'
#' @inheritParams save_model
#' @return `model`, invisibly (for `load_model_weights()`, with its weights
#'   replaced).
#' @family saving
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 2) |> layer_dense(1, name = "out")
#' path <- tempfile(fileext = ".rds")
#' save_model_weights(model, path)
#' names(readRDS(path))
#' twin <- keras_model_sequential(input_shape = 2) |> layer_dense(1, name = "out")
#' load_model_weights(twin, path)
#' identical(get_weights(twin), get_weights(model))
#' unlink(path)
#'
#' # keras 3's weights file
#' if (requireNamespace("hdf5r", quietly = TRUE)) {
#'   keras_path <- tempfile(fileext = ".weights.h5")
#'   save_model_weights(model, keras_path)
#'   load_model_weights(twin, keras_path)
#'   print(all.equal(get_weights(twin), get_weights(model)))
#'   unlink(keras_path)
#' }
save_model_weights <- function(model, filepath) {
  call <- sys.call()
  check_model_arg(model, call)
  filepath <- check_write_path(filepath, call)
  format <- keras_format_of(filepath)
  if (identical(format, "keras3_weights")) return(save_keras3_weights(model, filepath, call))
  if (identical(format, "keras2")) {
    hdf5r_namespace(call)
    write_atomically(model, filepath, call, write = function(model, path) {
      write_keras2_h5(model, path)
    })
    return(invisible(model))
  }
  if (identical(format, "keras3")) {
    selu_abort(sprintf(paste(
      "`filepath` \"%s\" names a keras 3 model file (.keras), which holds a whole model:",
      "write it with save_model(), or name the weights file \".weights.h5\"."),
      filepath), kind = "file", call = call)
  }
  write_atomically(named_weights(model), filepath, call)
  invisible(model)
}

#' @rdname save_model_weights
#' @export
load_model_weights <- function(model, filepath) {
  call <- sys.call()
  check_model_arg(model, call)
  format <- keras_file_format(filepath, call)
  if (identical(format, "hdf5")) return(load_keras3_weights(model, filepath, call))
  if (identical(format, "zip")) {
    selu_abort(sprintf(paste(
      "`filepath` \"%s\" is a zip archive, such as keras 3's whole models (.keras):",
      "read it with load_model()."), filepath), kind = "file", call = call)
  }
  data <- read_saved_file(filepath, call)
  if (is.list(data) && identical(data$format, SAVED_MODEL_FORMAT)) {
    check_saved_model(data, filepath, call)
    data <- data$weights
  } else if (!is_weights_list(data)) {
    selu_abort(sprintf(paste(
      "`filepath` \"%s\" is not a weights file from save_model_weights() or",
      "save_model(): it holds %s, not a list of arrays named \"<layer>/<weight>\"."),
      filepath, describe(data)), kind = "file", call = call)
  }
  set_named_weights(model, data, filepath, call)
  invisible(model)
}

# --- writing -------------------------------------------------------------------

check_model_arg <- function(model, call) {
  if (missing(model)) abort_missing("model", "a model", call = call)
  if (!is_model(model)) {
    selu_abort(sprintf("`model` must be a model from keras_model_sequential() or keras_model(), not %s.",
                       describe(model)), call = call)
  }
}

check_write_path <- function(filepath, call) {
  if (missing(filepath)) abort_missing("filepath", "the path of the file to write", call = call)
  filepath <- check_path(filepath, call)
  check_file_place(filepath, "filepath", call)
  filepath
}

# A file can be written at `path` (argument `arg`): it is no directory, and
# its directory exists.
check_file_place <- function(path, arg, call) {
  if (dir.exists(path)) {
    selu_abort(sprintf("`%s` \"%s\" is a directory, not a file.", arg, path),
               kind = "file", call = call)
  }
  if (!dir.exists(dirname(path))) {
    selu_abort(sprintf("`%s` \"%s\" is in a directory that does not exist, \"%s\".",
                       arg, path, dirname(path)), kind = "file", call = call)
  }
  invisible(path)
}

# The keras format a file name promises by its extension, or NULL for
# selu's own (".rds", no extension, any other).
keras_format_of <- function(filepath) {
  name <- tolower(basename(filepath))
  if (endsWith(name, ".weights.h5")) {
    "keras3_weights"
  } else if (grepl("\\.(h5|hdf5)$", name)) {
    "keras2"
  } else if (endsWith(name, ".keras")) {
    "keras3"
  }
}

# A file to read is keras's HDF5 ("hdf5"), a zip ("zip", keras 3's
# .keras), or anything else (NULL, for selu's own reader to judge).
keras_file_format <- function(filepath, call) {
  if (missing(filepath)) abort_missing("filepath", "the path of a file to read", call = call)
  filepath <- check_path(filepath, call)
  if (!file.exists(filepath) || dir.exists(filepath)) return(NULL)
  start <- readBin(filepath, "raw", 8L)
  if (identical(start, HDF5_SIGNATURE)) return("hdf5")
  if (length(start) >= 4 && identical(start[1:4], as.raw(c(0x50, 0x4b, 0x03, 0x04)))) return("zip")
  NULL
}

# A path the file system takes: R warns about longer ones before failing.
MAX_PATH_BYTES <- 4095L

check_path <- function(filepath, call, arg = "filepath") {
  filepath <- check_string(filepath, arg, call = call)
  if (nchar(filepath, type = "bytes") > MAX_PATH_BYTES) {
    selu_abort(sprintf("`%s` must be a path of at most %d bytes, not one of %d.",
                       arg, MAX_PATH_BYTES, nchar(filepath, type = "bytes")), call = call)
  }
  as.vector(filepath)
}

# Writes to a temporary file beside the target, then renames it over the
# target: the target is the old file or the whole new one, never a part.
# `write(data, path)` writes the temporary file; errors name `arg`.
write_atomically <- function(data, filepath, call, write = write_rds_file, arg = "filepath") {
  temp <- tempfile(paste0(".", basename(filepath), "-"), tmpdir = dirname(filepath),
                   fileext = ".tmp")
  on.exit(if (file.exists(temp)) unlink(temp), add = TRUE)
  failed <- function(e) {
    selu_abort(sprintf("Could not write `%s` \"%s\": %s; an existing file was left as it was.",
                       arg, filepath, conditionMessage(e)), kind = "file", call = call)
  }
  tryCatch(write(data, temp), error = failed, warning = failed)
  if (!suppressWarnings(file.rename(temp, filepath))) {
    failed(simpleError("the written file could not be renamed to it"))
  }
}

# The two places files are written (R data and text), so that tests can
# make them fail.
# R data uncompressed, so that every byte is needed to read it back: a file
# cut short anywhere fails to load (a gzip stream cut in its trailer still
# reads).
write_rds_file <- function(data, path) saveRDS(data, path, version = 3, compress = FALSE)

# Text as it is, in UTF-8, without R's translation of line ends.
write_text_file <- function(text, path) writeBin(charToRaw(enc2utf8(text)), path)

saved_model_data <- function(model) {
  self <- model_state(model)
  compiled <- self$compiled
  list(
    format = SAVED_MODEL_FORMAT,
    version = SAVED_MODEL_VERSION,
    selu_version = as.character(utils::packageVersion("selu")),
    config = get_config(model),
    weights = named_weights(model),
    compile = if (!is.null(compiled)) compile_settings(compiled),
    optimizer_state = if (!is.null(compiled)) optimizer_state(compiled$optimizer),
    streams = dropout_streams(self)
  )
}

# compile()'s arguments as data: for a model of one output as one loss and
# one set of metrics, else by output, with the loss weights.
compile_settings <- function(compiled) {
  losses <- lapply(compiled$losses, get_config)
  metrics <- lapply(compiled$metrics, metrics_spec)
  if (length(losses) == 1) {
    return(list(optimizer = get_config(compiled$optimizer), loss = losses[[1]],
                metrics = metrics[[1]]))
  }
  list(optimizer = get_config(compiled$optimizer), loss = losses, metrics = metrics,
       loss_weights = compiled$loss_weights)
}

# The metrics as compile() was given them, metric objects as configurations.
metrics_spec <- function(metrics) {
  if (is.null(metrics) || is.character(metrics)) return(metrics)
  if (is_metric(metrics)) metrics <- list(metrics)
  lapply(metrics, function(m) if (is_metric(m)) get_config(m) else m)
}

metrics_from_spec <- function(spec) {
  if (is.null(spec) || is.character(spec)) return(spec)
  lapply(spec, function(m) if (is.character(m)) m else metric_from_config(m))
}

named_weights <- function(model) {
  weights <- list()
  for (self in unique_states(model)) {
    for (name in names(self$weights)) weights[[weight_key(self, name)]] <- self$weights[[name]]
  }
  weights
}

# The random streams of dropout layers with a seed, by layer name, so that
# training after loading draws what it would have drawn.
dropout_streams <- function(self) {
  streams <- list()
  for (step in unique_steps(self$steps)) {
    if (!is.null(step$stream$state)) streams[[step$name]] <- step$stream$state
  }
  streams
}

# --- reading -------------------------------------------------------------------

# The R data in a file, or an error naming the file and what is wrong.
read_saved_file <- function(filepath, call) {
  if (missing(filepath)) abort_missing("filepath", "the path of a file to read", call = call)
  filepath <- check_path(filepath, call)
  bad_file <- function(what) {
    selu_abort(sprintf("`filepath` \"%s\" %s", filepath, what), kind = "file", call = call)
  }
  if (dir.exists(filepath)) bad_file("is a directory, not a file.")
  if (!file.exists(filepath)) bad_file("does not exist.")
  size <- file.size(filepath)
  if (is.na(size) || size == 0) bad_file("is empty.")
  start <- readBin(filepath, "raw", 4L)
  if (start[1] == charToRaw("{")) {
    bad_file("looks like JSON: for keras's JSON of a model, use model_from_json().")
  }
  read <- tryCatch(list(value = readRDS(filepath)),
                   error = function(e) e, warning = function(w) w)
  if (inherits(read, "condition")) {
    bad_file(sprintf(paste(
      "is not a file of save_model() or save_model_weights(), or it is damaged",
      "(truncated?): it could not be read as R data (%s)."), conditionMessage(read)))
  }
  read$value
}

check_saved_model <- function(data, filepath, call) {
  bad_file <- function(what) {
    selu_abort(sprintf("`filepath` \"%s\" %s", filepath, what), kind = "file", call = call)
  }
  if (is_weights_list(data) && length(data)) {
    bad_file(paste("holds the weights of a model alone (from save_model_weights()):",
                   "build the model and use load_model_weights()."))
  }
  if (!(is.list(data) && !is.object(data) && identical(data$format, SAVED_MODEL_FORMAT))) {
    bad_file(sprintf("is R data, but not a model written by save_model(): it holds %s.",
                     describe(data)))
  }
  version <- data$version
  if (!(length(version) == 1 && is_whole(version) && version >= 1)) {
    bad_file(sprintf("is damaged: its format version is %s.", describe(version)))
  }
  if (version > SAVED_MODEL_VERSION) {
    bad_file(sprintf(paste(
      "was written by a newer version of selu (%s), in file format version %d;",
      "this version reads format version %d at most: update selu to load it."),
      format_value(as.character(data$selu_version)[1]), as.integer(version),
      SAVED_MODEL_VERSION))
  }
  if (!is_plain_data(data)) {
    bad_file("is damaged: it holds functions or environments, where save_model() writes data only.")
  }
  if (!is.list(data$config) || !(identical(attr(data$config, "class_name"), "Sequential") ||
                                 identical(attr(data$config, "class_name"), "Functional"))) {
    bad_file("is damaged: it holds no model configuration.")
  }
  if (!is_weights_list(data$weights)) {
    bad_file("is damaged: its weights are not a list of arrays named \"<layer>/<weight>\".")
  }
  invisible(data)
}

# Lists, atomic vectors and NULL all the way down, attributes included.
is_plain_data <- function(x) {
  if (is.function(x) || is.environment(x) || isS4(x) || typeof(x) %in% c("externalptr", "symbol",
                                                                         "language", "weakref")) {
    return(FALSE)
  }
  attrs <- attributes(x)
  if (length(attrs) && !all(vapply(attrs, is_plain_data, TRUE))) return(FALSE)
  if (is.list(x)) return(all(vapply(x, is_plain_data, TRUE)))
  TRUE
}

is_weights_list <- function(x) {
  is.list(x) && !is.object(x) && (length(x) == 0 || (
    !is.null(names(x)) && !anyNA(names(x)) && all(grepl("./.", names(x))) &&
      !anyDuplicated(names(x)) && all(vapply(x, is_numeric_data, TRUE))))
}

# Errors while rebuilding a model from a file name the file.
in_file <- function(filepath, call, code) {
  withCallingHandlers(code, error = function(e) {
    if (inherits(e, "selu_error_file")) return()
    selu_abort(sprintf("`filepath` \"%s\" is damaged: %s", filepath, conditionMessage(e)),
               kind = "file", call = call)
  })
}

model_from_saved <- function(data, filepath, call) {
  model <- from_config(data$config)
  set_named_weights(model, data$weights, filepath, call, who = "the model it holds")
  settings <- data$compile
  if (!is.null(settings)) {
    optimizer <- optimizer_from_config(settings$optimizer)
    several <- is.null(attr(settings$loss, "class_name"))
    compile(model, optimizer = optimizer,
            loss = if (several) lapply(settings$loss, loss_from_config) else loss_from_config(settings$loss),
            metrics = if (several) lapply(settings$metrics, metrics_from_spec) else metrics_from_spec(settings$metrics),
            loss_weights = settings$loss_weights)
    if (!is.null(data$optimizer_state)) optimizer_set_state(optimizer, data$optimizer_state)
  }
  steps <- model_state(model)$steps
  for (name in names(data$streams)) {
    step <- Find(function(s) identical(s$name, name), steps)
    stream <- if (!is.null(step)) step$stream
    if (is.null(stream)) stop(sprintf("it holds a random stream for layer \"%s\", which has none.", name))
    stream$state <- data$streams[[name]]
  }
  model
}

# Sets every weight of `model` from `weights` ("layer/weight" -> array), by
# name and shape; all or none.
# `who` names the model in errors.
set_named_weights <- function(model, weights, filepath, call, who = "`model`") {
  bad <- function(what) {
    selu_abort(sprintf("`filepath` \"%s\" %s", filepath, what), kind = "file", call = call)
  }
  states <- unique_states(model)
  expected <- character(0)
  for (self in states) {
    for (name in names(self$weights)) {
      key <- weight_key(self, name)
      expected <- c(expected, key)
      value <- weights[[key]]
      if (is.null(value)) {
        bad(sprintf("has no weight \"%s\" for layer \"%s\" of %s.", name, self$name, who))
      }
      if (!identical(data_shape(value), data_shape(self$weights[[name]]))) {
        bad(sprintf("has the weight \"%s\" of layer \"%s\" in shape %s, but %s needs %s.",
                    name, self$name, format_dims(data_shape(value)), who,
                    format_dims(data_shape(self$weights[[name]]))))
      }
    }
  }
  extra <- setdiff(names(weights), expected)
  if (length(extra)) {
    layer <- sub("/[^/]*$", "", extra[1])
    bad(sprintf("has the weight \"%s\" of layer \"%s\", which %s does not have.",
                sub("^.*/", "", extra[1]), layer, who))
  }
  for (self in states) {
    for (name in names(self$weights)) {
      value <- weights[[weight_key(self, name)]]
      storage.mode(value) <- "double"
      self$weights[[name]] <- value
    }
  }
  invisible(model)
}
