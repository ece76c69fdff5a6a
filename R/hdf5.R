# keras's HDF5 files, through hdf5r (a Suggests): keras 2's whole models and
# weights (saving/legacy/hdf5_format.py) and keras 3's weights
# (`model.weights.h5`, saving/saving_lib.py). See ../shared/KERAS.md.
#
# HDF5 stores arrays row-major (C's order), R column-major: hdf5r writes an
# R array with its dimensions reversed, so an array goes to HDF5 transposed
# (aperm(x, rev(...))) to keep keras's shapes, and comes back the same way.

#' Save and load models and weights in keras's HDF5 format
#'
#' `save_model_hdf5()` writes a whole model as keras 2's `model.save()` does
#' to an HDF5 file (`.h5`): the architecture as keras's JSON (the
#' `model_config` attribute, as [model_to_json()] writes it), the compile
#' settings (`training_config`: the optimizer's and the loss's
#' configurations, the metrics given by name) and the weights (the group
#' `model_weights`). `load_model_hdf5()` reads such a file, written by keras
#' 2.x (R's `keras::save_model_hdf5()`, Python's `model.save("m.h5")`) or
#' by selu, into a model that predicts what the saved one predicted; it is
#' compiled as the file says when `compile = TRUE`. The optimizer's state
#' (keras's `optimizer_weights`) is neither written nor read: training goes
#' on from fresh optimizer state.
#'
#' `save_model_weights_hdf5()` writes the weights alone in keras 2's layout
#' (`model.save_weights("w.h5")`): an attribute `layer_names` (the model's
#' layers, in order), and for each layer a group with an attribute
#' `weight_names` (`"dense/kernel:0"`, `"dense/bias:0"`, ...) and the arrays
#' at those paths. `load_model_weights_hdf5()` sets the weights of a model
#' from such a file, or from the `model_weights` of a whole model's file:
#' as keras does, layer by layer in order among the layers that have
#' weights, or with `by_name = TRUE` by layer name. A layer count, weight
#' count or shape that does not fit is an error that names the file and the
#' layer, and changes no weight.
#'
#' keras 3's files go through [save_model()] and [load_model()] (`.keras`)
#' and [save_model_weights()] and [load_model_weights()] (`.weights.h5`),
#' which pick the format by the file's extension; [load_model()] and
#' [load_model_weights()] read keras 2's HDF5 files too.
#'
#' Weights are written in double precision (`float64`), which keras reads
#' into its `float32` variables; weights of keras's files, `float32` or
#' `float64`, are read as doubles. The file is written to a temporary file
#' in the same directory first, then renamed over `filepath`, as
#' [save_model()] does.
#'
#' The package hdf5r reads and writes HDF5: these functions are an error
#' naming it where it is not installed.
#'
#' @inheritParams save_model
#' @param compile `TRUE` (the default) to compile the model as the file's
#'   `training_config` says, when it has one; `FALSE` leaves it uncompiled.
#' @param by_name `FALSE` (the default) to match the file's layers to the
#'   model's by their order, `TRUE` by their names (layers of the model
#'   missing from the file keep their weights).
#' @return `save_model_hdf5()` and `save_model_weights_hdf5()`: `model`,
#'   invisibly. `load_model_hdf5()`: the model. `load_model_weights_hdf5()`:
#'   `model`, invisibly, with its weights replaced.
#' @family saving
#' @export
#' @examplesIf requireNamespace("hdf5r", quietly = TRUE)
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(3, activation = "selu", kernel_initializer = "lecun_normal") |>
#'   layer_dense(1)
#' compile(model, optimizer = "adam", loss = "mse")
#' path <- tempfile(fileext = ".h5")
#' save_model_hdf5(model, path)
#' restored <- load_model_hdf5(path)
#' x <- matrix(rnorm(8), 2, 4)
#' all.equal(predict(restored, x), predict(model, x))
#'
#' weights <- tempfile(fileext = ".h5")
#' save_model_weights_hdf5(model, weights)
#' twin <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(3, activation = "selu") |>
#'   layer_dense(1)
#' load_model_weights_hdf5(twin, weights)
#' all.equal(predict(twin, x), predict(model, x))
#' unlink(c(path, weights))
save_model_hdf5 <- function(model, filepath, overwrite = TRUE) {
  call <- sys.call()
  check_model_arg(model, call)
  filepath <- check_new_file_path(filepath, overwrite, call)
  hdf5r_namespace(call)
  config <- model_to_keras(model, NULL, call)
  training <- training_config(model)
  write_atomically(model, filepath, call, write = function(model, path) {
    write_keras2_h5(model, path, config, training)
  })
  invisible(model)
}

#' @rdname save_model_hdf5
#' @export
load_model_hdf5 <- function(filepath, compile = TRUE) {
  call <- sys.call()
  filepath <- check_existing_file_path(filepath, call)
  compile <- check_flag(compile, "compile", call = call)
  read_keras2_model(filepath, compile, call)
}

#' @rdname save_model_hdf5
#' @export
save_model_weights_hdf5 <- function(model, filepath, overwrite = TRUE) {
  call <- sys.call()
  check_model_arg(model, call)
  filepath <- check_new_file_path(filepath, overwrite, call)
  hdf5r_namespace(call)
  write_atomically(model, filepath, call, write = function(model, path) {
    write_keras2_h5(model, path)
  })
  invisible(model)
}

#' @rdname save_model_hdf5
#' @export
load_model_weights_hdf5 <- function(model, filepath, by_name = FALSE) {
  call <- sys.call()
  check_model_arg(model, call)
  filepath <- check_existing_file_path(filepath, call)
  by_name <- check_flag(by_name, "by_name", call = call)
  with_h5_file(filepath, call, function(file, bad) {
    group <- if (file$exists("model_weights")) file[["model_weights"]] else file
    if (!"layer_names" %in% hdf5r::h5attr_names(group)) {
      if (file$exists("layers")) {
        bad(paste("holds keras 3's weights (layers/.../vars), not keras 2's: read it with",
                  "load_model_weights()."))
      }
      bad("is not a keras weights file: it has no attribute \"layer_names\".")
    }
    set_keras2_weights(model, read_keras2_weights(group, bad), by_name, bad)
  })
  invisible(model)
}

# --- hdf5r ---------------------------------------------------------------------

has_hdf5r <- function() requireNamespace("hdf5r", quietly = TRUE)

hdf5r_namespace <- function(call) {
  if (!has_hdf5r()) {
    selu_abort(paste(
      "Reading and writing keras's HDF5 files (.h5, .weights.h5, .keras) needs the package",
      "hdf5r, which is not installed: install.packages(\"hdf5r\"). selu's own format",
      "(save_model() to a \".rds\" file) and keras's JSON (model_to_json()) need nothing more."),
      kind = "dependency", call = call)
  }
  invisible(TRUE)
}

check_new_file_path <- function(filepath, overwrite, call) {
  if (missing(filepath)) abort_missing("filepath", "the path of the file to write", call = call)
  filepath <- check_path(filepath, call)
  check_file_place(filepath, "filepath", call)
  overwrite <- check_flag(overwrite, "overwrite", call = call)
  if (!overwrite && file.exists(filepath)) {
    selu_abort(sprintf("`filepath` \"%s\" exists already: give `overwrite = TRUE` to replace it.",
                       filepath), kind = "file", call = call)
  }
  filepath
}

check_existing_file_path <- function(filepath, call) {
  if (missing(filepath)) abort_missing("filepath", "the path of a file to read", call = call)
  filepath <- check_path(filepath, call)
  check_readable_file(filepath, call)
  filepath
}

check_readable_file <- function(filepath, call) {
  bad_file <- function(what) {
    selu_abort(sprintf("`filepath` \"%s\" %s", filepath, what), kind = "file", call = call)
  }
  if (dir.exists(filepath)) bad_file("is a directory, not a file.")
  if (!file.exists(filepath)) bad_file("does not exist.")
  size <- file.size(filepath)
  if (is.na(size) || size == 0) bad_file("is empty.")
  invisible(filepath)
}

# Opens an HDF5 file for reading and runs `read(file, bad)`; `bad(what)`
# raises an error naming the file. Errors of HDF5 itself (a damaged or cut
# file) name the file too.
with_h5_file <- function(filepath, call, read, bad = NULL) {
  hdf5r_namespace(call)
  if (is.null(bad)) {
    bad <- function(what) {
      selu_abort(sprintf("`filepath` \"%s\" %s", filepath, what), kind = "file", call = call)
    }
  }
  if (!identical(readBin(filepath, "raw", 8L), HDF5_SIGNATURE)) {
    bad("is not an HDF5 file (keras's .h5): it does not start with HDF5's signature.")
  }
  file <- tryCatch(suppressWarnings(hdf5r::H5File$new(filepath, mode = "r")),
                   error = function(e) {
                     bad(sprintf("could not be opened as HDF5 (damaged or truncated?): %s",
                                 first_line(conditionMessage(e))))
                   })
  on.exit(try(file$close_all(), silent = TRUE), add = TRUE)
  withCallingHandlers(read(file, bad), error = function(e) {
    if (inherits(e, "selu_error")) return()
    bad(sprintf("could not be read (damaged or truncated?): %s", first_line(conditionMessage(e))))
  })
}

first_line <- function(text) {
  lines <- strsplit(trimws(text), "\n", fixed = TRUE)[[1]]
  lines <- trimws(lines[nzchar(trimws(lines))])
  paste(utils::head(lines, 3), collapse = " ")
}

# A string attribute as h5py writes a Python str: a scalar.
h5_string_attr <- function(object, name, value) {
  object$create_attr(name, robj = enc2utf8(value), space = hdf5r::H5S$new("scalar"))
}

# Strings as keras writes a list of names: fixed-length byte strings; an
# empty list an empty float64 array (numpy's np.asarray([])).
h5_names_attr <- function(object, name, values) {
  if (!length(values)) {
    object$create_attr(name, dtype = hdf5r::h5types$H5T_NATIVE_DOUBLE,
                       space = hdf5r::H5S$new("simple", dims = 0, maxdims = 0))
    return(invisible())
  }
  values <- enc2utf8(values)
  type <- hdf5r::H5T_STRING$new(size = max(nchar(values, type = "bytes")))
  type$set_strpad(hdf5r::h5const$H5T_STR_NULLPAD)
  object$create_attr(name, robj = values, dtype = type)
}

h5_attr <- function(object, name) {
  if (!name %in% hdf5r::h5attr_names(object)) return(NULL)
  attr <- object$attr_open(name)
  on.exit(attr$close())
  if (prod(attr$get_space()$dims) == 0) return(character(0))
  value <- attr$read()
  if (is.raw(value)) value <- rawToChar(value)
  value
}

h5_write_array <- function(group, name, x) {
  group$create_dataset(name, robj = h5_order(as_double_array(x)), chunk_dims = NULL,
                       gzip_level = 0, dtype = hdf5r::h5types$H5T_NATIVE_DOUBLE)
}

as_double_array <- function(x) {
  storage.mode(x) <- "double"
  x
}

# An array in the order HDF5 stores it through hdf5r, and back.
h5_order <- function(x) {
  d <- dim(x)
  if (length(d) <= 1) return(as.vector(x))
  aperm(x, rev(seq_along(d)))
}

h5_read_array <- function(dataset) {
  x <- dataset$read(drop = FALSE)
  if (!is.numeric(x) && !is.logical(x)) stop("a weight is not numeric")
  storage.mode(x) <- "double"
  d <- dim(x)
  if (length(d) <= 1) return(as.vector(x))
  aperm(x, rev(seq_along(d)))
}

# --- keras 2 -------------------------------------------------------------------

# The layers of a model as keras lists them (`model.layers`), each with its
# keras weight names ("dense/kernel:0") and arrays.
keras2_layers <- function(model) {
  lapply(model_state(model)$steps, function(step) {
    list(name = step$name, weights = step$weights,
         names = if (length(step$weights)) paste0(step$name, "/", names(step$weights), ":0")
                 else character(0))
  })
}

write_keras2_weights <- function(group, model) {
  layers <- keras2_layers(model)
  h5_names_attr(group, "layer_names", vapply(layers, function(l) l$name, ""))
  h5_string_attr(group, "backend", "tensorflow")
  h5_string_attr(group, "keras_version", KERAS_VERSION)
  for (layer in layers) {
    layer_group <- group$create_group(layer$name)
    h5_names_attr(layer_group, "weight_names", layer$names)
    for (i in seq_along(layer$names)) {
      parts <- strsplit(layer$names[i], "/", fixed = TRUE)[[1]]
      target <- layer_group
      for (part in parts[-length(parts)]) {
        target <- if (target$exists(part)) target[[part]] else target$create_group(part)
      }
      h5_write_array(target, parts[length(parts)], layer$weights[[i]])
    }
  }
}

write_keras2_h5 <- function(model, path, config = NULL, training = NULL) {
  file <- hdf5r::H5File$new(path, mode = "w")
  on.exit(file$close_all())
  if (is.null(config)) {
    write_keras2_weights(file, model)
    return(invisible())
  }
  h5_string_attr(file, "backend", "tensorflow")
  h5_string_attr(file, "keras_version", KERAS_VERSION)
  h5_string_attr(file, "model_config", json_value(config))
  if (!is.null(training)) h5_string_attr(file, "training_config", json_value(training))
  write_keras2_weights(file$create_group("model_weights"), model)
}

# The file's weights: list(layer name = list(names, arrays)), in its order.
read_keras2_weights <- function(group, bad) {
  names <- h5_attr(group, "layer_names")
  if (!is.character(names)) bad("is damaged: its \"layer_names\" are not strings.")
  layers <- list()
  for (name in names) {
    if (!group$exists(name)) bad(sprintf("is damaged: it names the layer \"%s\" but has no group for it.", name))
    layer_group <- group[[name]]
    weight_names <- h5_attr(layer_group, "weight_names")
    if (is.null(weight_names)) weight_names <- character(0)
    if (!is.character(weight_names)) {
      bad(sprintf("is damaged: the \"weight_names\" of layer \"%s\" are not strings.", name))
    }
    arrays <- lapply(weight_names, function(w) {
      if (!layer_group$exists(w)) {
        bad(sprintf("is damaged: layer \"%s\" names the weight \"%s\" but has no data for it.",
                    name, w))
      }
      h5_read_array(layer_group[[w]])
    })
    layers[[length(layers) + 1]] <- list(name = name, names = weight_names, arrays = arrays)
  }
  layers
}

# Sets a model's weights from the file's layers, by order among the layers
# with weights (keras's rule) or by name; all or nothing.
set_keras2_weights <- function(model, file_layers, by_name, bad) {
  ours <- Filter(function(l) length(l$weights) > 0, keras2_layers(model))
  theirs <- Filter(function(l) length(l$arrays) > 0, file_layers)
  pairs <- if (by_name) {
    found <- Filter(function(l) l$name %in% vapply(theirs, function(t) t$name, ""), ours)
    lapply(found, function(l) list(ours = l, theirs = Find(function(t) t$name == l$name, theirs)))
  } else {
    if (length(ours) != length(theirs)) {
      bad(sprintf(paste(
        "holds the weights of %d layer%s, but `model` has %d layer%s with weights: they are",
        "matched in order, as in keras (give `by_name = TRUE` to match them by name)."),
        length(theirs), if (length(theirs) == 1) "" else "s", length(ours),
        if (length(ours) == 1) "" else "s"))
    }
    Map(function(o, t) list(ours = o, theirs = t), ours, theirs)
  }
  values <- list()
  for (pair in pairs) {
    o <- pair$ours
    t <- pair$theirs
    if (length(o$weights) != length(t$arrays)) {
      bad(sprintf("holds %d weights for layer \"%s\", where layer \"%s\" of `model` has %d.",
                  length(t$arrays), t$name, o$name, length(o$weights)))
    }
    for (i in seq_along(o$weights)) {
      expected <- data_shape(o$weights[[i]])
      got <- data_shape(t$arrays[[i]])
      if (!identical(as.integer(expected), as.integer(got))) {
        bad(sprintf("holds the weight \"%s\" of layer \"%s\" in shape %s, but layer \"%s\" of `model` needs %s.",
                    t$names[i], t$name, format_dims(got), o$name, format_dims(expected)))
      }
      value <- t$arrays[[i]]
      if (length(expected) > 1) dim(value) <- expected
      values[[paste0(o$name, "/", names(o$weights)[i])]] <- value
    }
  }
  set_some_weights(model, values)
}

# Sets the weights named "layer/weight" in `values`, already checked.
set_some_weights <- function(model, values) {
  for (self in unique_states(model)) {
    for (name in names(self$weights)) {
      value <- values[[weight_key(self, name)]]
      if (!is.null(value)) self$weights[[name]] <- value
    }
  }
  invisible(model)
}

# keras 2's training_config: the optimizer's and loss's configurations as
# keras objects, the metrics when given by name.
training_config <- function(model) {
  compiled <- model_state(model)$compiled
  if (is.null(compiled)) return(NULL)
  settings <- compile_settings(compiled)
  metrics <- settings$metrics
  if (!is.null(metrics) && !is.character(metrics)) metrics <- NULL
  loss <- if (is.null(attr(settings$loss, "class_name"))) {
    lapply(settings$loss, config_to_keras)
  } else {
    config_to_keras(settings$loss)
  }
  list(loss = loss, metrics = if (!is.null(metrics)) as.list(metrics),
       weighted_metrics = NULL, loss_weights = settings$loss_weights,
       optimizer_config = config_to_keras(settings$optimizer))
}

# selu's configurations (lists with a "class_name" attribute) as keras's
# nested objects, and back.
config_to_keras <- function(x) {
  if (!is.list(x)) return(x)
  class_name <- attr(x, "class_name")
  x <- lapply_named(unclass_config(x), config_to_keras)
  if (is.null(class_name)) return(x)
  list(class_name = class_name, config = json_object(x))
}

config_from_keras <- function(x) {
  if (!is.list(x)) return(x)
  if (is.character(x$class_name) && is.list(x$config) && length(x$class_name) == 1) {
    config <- lapply_named(x$config, config_from_keras)
    if (!length(config)) config <- list()
    return(structure(config, class_name = x$class_name))
  }
  lapply_named(x, config_from_keras)
}

# `strict`: compile settings selu cannot take are an error (else a warning,
# and the model is loaded uncompiled).
read_keras2_model <- function(filepath, compile, call, strict = TRUE) {
  with_h5_file(filepath, call, function(file, bad) {
    config_text <- h5_attr(file, "model_config")
    if (is.null(config_text)) {
      if ("layer_names" %in% hdf5r::h5attr_names(file)) {
        bad("holds weights alone (keras's save_weights()): build the model and use load_model_weights_hdf5().")
      }
      if (file$exists("layers") || file$exists("vars")) {
        bad("holds keras 3's weights alone (.weights.h5): build the model and use load_model_weights().")
      }
      bad("is not a keras model file: it has no attribute \"model_config\".")
    }
    version <- h5_attr(file, "keras_version")
    if (is.character(version) && length(version) == 1) check_keras_version(version, 3, bad)
    # keras 3 writes this layout too, with its own configurations
    json <- tryCatch(json_value(keras2_config(jsonlite::parse_json(config_text))),
                     error = function(e) bad("is damaged: its \"model_config\" is not JSON."))
    model <- tryCatch(model_from_json(json), selu_error = function(e) {
      bad(sprintf("holds a model selu cannot build: %s", sub("^`json` ", "its configuration ",
                                                               conditionMessage(e))))
    })
    if (!file$exists("model_weights")) bad("is damaged: it has no group \"model_weights\".")
    set_keras2_weights(model, read_keras2_weights(file[["model_weights"]], bad), FALSE, bad)
    training <- h5_attr(file, "training_config")
    if (compile && is.character(training) && length(training) == 1) {
      compile_from_keras(model, training, bad, strict, filepath, call)
    }
    model
  })
}

compile_from_keras <- function(model, text, bad, strict, filepath, call) {
  settings <- tryCatch(jsonlite::parse_json(text, simplifyVector = FALSE),
                       error = function(e) bad("is damaged: its \"training_config\" is not JSON."))
  settings <- config_from_keras(settings)
  tryCatch({
    optimizer <- optimizer_from_config(settings$optimizer_config)
    loss <- settings$loss
    loss <- if (is.character(loss)) loss else if (!is.null(attr(loss, "class_name"))) {
      loss_from_config(loss)
    } else {
      lapply(loss, function(l) if (is.character(l)) l else loss_from_config(l))
    }
    metrics <- unlist(settings$metrics)
    if (!is.character(metrics)) metrics <- NULL
    loss_weights <- settings$loss_weights
    if (is.list(loss_weights)) loss_weights <- unlist(loss_weights)
    compile(model, optimizer = optimizer, loss = loss, metrics = metrics,
            loss_weights = loss_weights)
  }, selu_error = function(e) {
    if (strict) {
      bad(sprintf(paste("holds compile settings selu cannot take (give `compile = FALSE` to",
                        "load the model uncompiled): %s"), conditionMessage(e)))
    }
    selu_warn(sprintf(paste("`filepath` \"%s\" holds compile settings selu cannot take, so",
                            "the model is loaded uncompiled: %s"), filepath, conditionMessage(e)),
              kind = "file", call = call)
  })
}
