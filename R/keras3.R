# keras 3's files (saving/saving_lib.py): `.keras`, a zip of config.json,
# metadata.json and model.weights.h5; `.weights.h5`, that weights file alone.
# save_model(), load_model(), save_model_weights() and load_model_weights()
# reach them by extension (R/save.R). See ../shared/KERAS.md.

KERAS3_VERSION <- "3.3.3"

# --- the weights file ----------------------------------------------------------

# keras 3's names of a model's layers in its weights file: the snake_case
# class name, numbered from the second of a class on (dense, dense_1, ...).
keras3_layer_paths <- function(steps) {
  used <- list()
  vapply(steps, function(step) {
    name <- snake_case(step$class_name)
    if (is.null(used[[name]])) {
      used[[name]] <<- 0L
      name
    } else {
      used[[name]] <<- used[[name]] + 1L
      paste0(name, "_", used[[name]])
    }
  }, "")
}

# keras's naming.to_snake_case()
snake_case <- function(name) {
  name <- gsub("(.)([A-Z][a-z]+)", "\\1_\\2", name, perl = TRUE)
  tolower(gsub("([a-z])([A-Z])", "\\1_\\2", name, perl = TRUE))
}

# keras 3 lists a Sequential model's layers without its input layer, a
# functional model's with them.
keras3_steps <- function(model) model_state(model)$steps

write_keras3_weights <- function(model, path) {
  file <- hdf5r::H5File$new(path, mode = "w")
  on.exit(file$close_all())
  steps <- keras3_steps(model)
  layers <- file$create_group("layers")
  paths <- keras3_layer_paths(steps)
  for (i in seq_along(steps)) {
    vars <- layers$create_group(paths[i])$create_group("vars")
    weights <- steps[[i]]$weights
    for (j in seq_along(weights)) h5_write_array(vars, as.character(j - 1L), weights[[j]])
  }
  file$create_group("vars")
  invisible()
}

read_keras3_weights <- function(model, file, bad) {
  if (!file$exists("layers")) {
    if ("layer_names" %in% hdf5r::h5attr_names(file) || file$exists("model_weights")) {
      bad("holds keras 2's weights (layer_names), not keras 3's: read it with load_model_weights_hdf5().")
    }
    bad("is not a keras weights file: it has no group \"layers\".")
  }
  layers <- file[["layers"]]
  steps <- keras3_steps(model)
  paths <- keras3_layer_paths(steps)
  values <- list()
  for (i in seq_along(steps)) {
    weights <- steps[[i]]$weights
    path <- paste0(paths[i], "/vars")
    found <- if (layers$exists(paths[i]) && layers[[paths[i]]]$exists("vars")) {
      layers[[path]]$ls()$name
    } else character(0)
    if (length(found) != length(weights)) {
      bad(sprintf("holds %d weights at \"layers/%s\", where layer \"%s\" of `model` has %d.",
                  length(found), path, steps[[i]]$name, length(weights)))
    }
    for (j in seq_along(weights)) {
      key <- as.character(j - 1L)
      if (!key %in% found) bad(sprintf("is damaged: \"layers/%s\" has no weight \"%s\".", path, key))
      value <- h5_read_array(layers[[path]][[key]])
      expected <- data_shape(weights[[j]])
      if (!identical(as.integer(data_shape(value)), as.integer(expected))) {
        bad(sprintf(paste("holds the weight \"layers/%s/%s\" in shape %s, but weight \"%s\" of",
                          "layer \"%s\" of `model` needs %s."), path, key,
                    format_dims(data_shape(value)), names(weights)[j], steps[[i]]$name,
                    format_dims(expected)))
      }
      if (length(expected) > 1) dim(value) <- expected
      values[[weight_key(steps[[i]], names(weights)[j])]] <- value
    }
  }
  set_some_weights(model, values)
}

save_keras3_weights <- function(model, filepath, call) {
  hdf5r_namespace(call)
  write_atomically(model, filepath, call, write = write_keras3_weights)
  invisible(model)
}

load_keras3_weights <- function(model, filepath, call) {
  check_readable_file(filepath, call)
  with_h5_file(filepath, call, function(file, bad) {
    if ("layer_names" %in% hdf5r::h5attr_names(file) || file$exists("model_weights")) {
      group <- if (file$exists("model_weights")) file[["model_weights"]] else file
      return(set_keras2_weights(model, read_keras2_weights(group, bad), FALSE, bad))
    }
    read_keras3_weights(model, file, bad)
  })
  invisible(model)
}

# --- configurations ------------------------------------------------------------

# keras 2's parsed JSON of a model (model_to_keras()) as keras 3 writes it:
# every object with its module, the input layers' `batch_shape`, no
# `batch_input_shape` elsewhere, the functional graph's nodes as calls on
# keras tensors.
keras3_config <- function(model, config) {
  self <- model_state(model)
  layers <- config$config$layers
  functional <- config$class_name != "Sequential"
  shapes <- if (functional) step_output_shapes(self)
  names(shapes) <- if (functional) vapply(self$steps, function(s) s$name, "")
  for (i in seq_along(layers)) {
    entry <- layers[[i]]
    layer_config <- entry$config
    if (entry$class_name == "InputLayer") {
      layer_config <- list(batch_shape = layer_config$batch_input_shape, dtype = layer_config$dtype,
                           sparse = FALSE, name = layer_config$name)
    } else {
      layer_config$batch_input_shape <- NULL
    }
    out <- list(module = "keras.layers", class_name = entry$class_name, config = layer_config,
                registered_name = NULL)
    if (functional) {
      out$name <- entry$name
      out$inbound_nodes <- lapply(entry$inbound_nodes, function(node) {
        tensors <- lapply(node, function(ref) {
          list(class_name = "__keras_tensor__",
               config = list(shape = shape_to_list(shapes[[ref[[1]]]]), dtype = "float32",
                             keras_history = list(ref[[1]], ref[[2]], ref[[3]])))
        })
        list(args = if (length(tensors) == 1) tensors else list(tensors), kwargs = json_object())
      })
    }
    layers[[i]] <- out
  }
  inner <- config$config
  inner$layers <- layers
  inner$trainable <- TRUE
  result <- list(module = if (functional) "keras.src.models.functional" else "keras",
                 class_name = config$class_name, config = inner, registered_name = NULL)
  if (!functional && !is.null(self$batch_input_shape)) {
    result$build_config <- list(input_shape = shape_to_list(self$batch_input_shape))
  }
  compiled <- training_config(model)
  if (!is.null(compiled)) {
    result$compile_config <- list(optimizer = compiled$optimizer_config, loss = compiled$loss,
                                  loss_weights = compiled$loss_weights,
                                  metrics = compiled$metrics)
  }
  result
}

# keras 3's parsed config.json as keras 2's JSON, which model_from_json()
# reads: the nodes of a functional graph back to [layer, node, tensor, {}].
keras2_config <- function(config) {
  if (!is.list(config) || !is.list(config$config)) return(config)
  layers <- config$config$layers
  for (i in seq_along(layers)) {
    entry <- layers[[i]]
    if (!is.list(entry)) next
    nodes <- entry$inbound_nodes
    if (is.list(nodes) && length(nodes) && is.list(nodes[[1]]) && !is.null(names(nodes[[1]])) &&
        "args" %in% names(nodes[[1]])) {
      entry$inbound_nodes <- lapply(nodes, function(node) {
        args <- node$args
        if (length(args) == 1 && is.list(args[[1]]) && is.null(names(args[[1]]))) args <- args[[1]]
        lapply(args, function(tensor) {
          history <- tensor$config$keras_history
          if (!is.list(history) || length(history) != 3) {
            stop("a layer's inbound node is not a keras tensor with its keras_history")
          }
          list(history[[1]], history[[2]], history[[3]], json_object())
        })
      })
    }
    # keys of later keras 3 versions, at the values that change nothing
    for (key in c("lora_rank", "lora_alpha", "quantization_config")) {
      if (is.list(entry$config) && key %in% names(entry$config) && is.null(entry$config[[key]])) {
        entry$config[key] <- NULL
      }
    }
    layers[[i]] <- entry
  }
  config$config$layers <- layers
  if (identical(config$class_name, "Sequential") && is.null(config$config$build_input_shape) &&
      is.list(config$build_config)) {
    config$config$build_input_shape <- config$build_config$input_shape
  }
  config
}

# --- the zip -------------------------------------------------------------------

# A zip archive of `files` (name -> raw bytes), stored without compression
# as keras 3's zipfile.ZipFile(..., "w") stores them.
write_zip <- function(files, path) {
  u16 <- function(v) writeBin(as.integer(v), raw(), size = 2, endian = "little")
  u32 <- function(v) {
    v <- as.double(v)
    writeBin(as.integer(if (v >= 2^31) v - 2^32 else v), raw(), size = 4, endian = "little")
  }
  now <- as.POSIXlt(Sys.time())
  time <- now$hour * 2048 + now$min * 32 + now$sec %/% 2
  date <- (now$year - 80) * 512 + (now$mon + 1) * 32 + now$mday
  locals <- list()
  centrals <- list()
  offset <- 0
  for (name in names(files)) {
    data <- files[[name]]
    if (length(data) >= 2^32 - 1) stop("a file of 4 GiB or more does not fit a zip without zip64")
    crc <- .Call(C_selu_crc32, data)
    name_bytes <- charToRaw(enc2utf8(name))
    common <- c(u16(20), u16(0), u16(0), u16(time), u16(date), u32(crc), u32(length(data)),
                u32(length(data)), u16(length(name_bytes)), u16(0))
    local <- c(u32(0x04034b50), common, name_bytes, data)
    centrals[[name]] <- c(u32(0x02014b50), u16(20), common, u16(0), u16(0), u16(0), u32(0),
                          u32(offset), name_bytes)
    locals[[name]] <- local
    offset <- offset + length(local)
  }
  central <- unlist(centrals, use.names = FALSE)
  end <- c(u32(0x06054b50), u16(0), u16(0), u16(length(files)), u16(length(files)),
           u32(length(central)), u32(offset), u16(0))
  writeBin(c(unlist(locals, use.names = FALSE), central, end), path)
}

# The files of a zip, extracted to a temporary directory: name -> path.
read_zip <- function(filepath, bad) {
  listing <- tryCatch(suppressWarnings(utils::unzip(filepath, list = TRUE)),
                      error = function(e) NULL)
  if (is.null(listing) || !nrow(listing)) {
    bad("is not a zip archive that can be read (damaged or truncated?).")
  }
  dir <- tempfile("selu-keras-")
  dir.create(dir)
  extracted <- tryCatch(suppressWarnings(utils::unzip(filepath, exdir = dir)),
                        error = function(e) NULL, warning = function(w) NULL)
  if (is.null(extracted) || length(extracted) != nrow(listing) ||
      any(file.size(extracted) != listing$Length[match(basename(extracted), basename(listing$Name))])) {
    unlink(dir, recursive = TRUE)
    bad("is a damaged zip archive (truncated?): its files could not be extracted.")
  }
  structure(file.path(dir, listing$Name), names = listing$Name, dir = dir)
}

# --- .keras --------------------------------------------------------------------

save_keras3_model <- function(model, filepath, call) {
  hdf5r_namespace(call)
  config <- keras3_config(model, model_to_keras(model, NULL, call))
  metadata <- list(keras_version = KERAS3_VERSION,
                   date_saved = format(Sys.time(), "%Y-%m-%d@%H:%M:%S"))
  write_atomically(model, filepath, call, write = function(model, path) {
    weights <- tempfile(fileext = ".weights.h5")
    on.exit(unlink(weights))
    write_keras3_weights(model, weights)
    write_zip(list("metadata.json" = charToRaw(enc2utf8(json_value(metadata))),
                   "config.json" = charToRaw(enc2utf8(json_value(config))),
                   "model.weights.h5" = readBin(weights, "raw", file.size(weights))), path)
  })
  invisible(model)
}

load_keras3_model <- function(filepath, call) {
  check_readable_file(filepath, call)
  hdf5r_namespace(call)
  bad <- function(what) {
    selu_abort(sprintf("`filepath` \"%s\" %s", filepath, what), kind = "file", call = call)
  }
  files <- read_zip(filepath, bad)
  on.exit(unlink(attr(files, "dir"), recursive = TRUE), add = TRUE)
  for (needed in c("config.json", "metadata.json", "model.weights.h5")) {
    if (is.na(files[needed])) {
      bad(sprintf("is a zip archive without \"%s\": not a keras 3 model (.keras).", needed))
    }
  }
  read_json_file <- function(name) {
    tryCatch(jsonlite::read_json(files[[name]], simplifyVector = FALSE),
             error = function(e) bad(sprintf("is damaged: its %s is not JSON.", name)))
  }
  metadata <- read_json_file("metadata.json")
  version <- metadata$keras_version
  if (!(is.character(version) && length(version) == 1)) {
    bad("is damaged: its metadata.json has no \"keras_version\".")
  }
  check_keras_version(version, 3, bad)
  config <- read_json_file("config.json")
  json <- tryCatch(json_value(keras2_config(config)),
                   error = function(e) bad(sprintf("is damaged: %s.", conditionMessage(e))))
  model <- tryCatch(model_from_json(json), selu_error = function(e) {
    bad(sprintf("holds a model selu cannot build: %s",
                sub("^`json` ", "its configuration ", conditionMessage(e))))
  })
  weights <- unname(files[["model.weights.h5"]])
  bad_weights <- function(what) bad(sprintf("has a model.weights.h5 that %s", what))
  with_h5_file(weights, call, function(file, bad) read_keras3_weights(model, file, bad),
               bad = bad_weights)
  compiled <- config$compile_config
  if (is.list(compiled) && !is.null(compiled$optimizer)) {
    settings <- list(optimizer_config = compiled$optimizer, loss = compiled$loss,
                     metrics = compiled$metrics, loss_weights = compiled$loss_weights)
    compile_from_keras(model, json_value(settings), bad, FALSE, filepath, call)
  }
  model
}

# A keras_version newer than the format selu reads is an error naming it.
check_keras_version <- function(version, newest_major, bad) {
  major <- suppressWarnings(as.integer(sub("\\..*$", "", version)))
  if (!is.na(major) && major > newest_major) {
    bad(sprintf(paste("was written by keras %s, newer than the keras %d format selu reads:",
                      "update selu, or save the model with keras %d."),
                version, newest_major, newest_major))
  }
}
