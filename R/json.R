# keras's JSON model format (keras 2.x `model.to_json()`): the architecture
# only, as keras writes it, so that models move between keras and selu.

KERAS_VERSION <- "2.13.1"

# The layer classes keras and selu share, and where keras keeps the nested
# objects of their configurations.
json_layer_classes <- c("Dense", "Activation", "Dropout", "AlphaDropout", "ELU", "LeakyReLU",
                        "ReLU", "Softmax", "ThresholdedReLU", "PReLU", "BatchNormalization",
                        "LayerNormalization", "Flatten", "Embedding", "Concatenate", "Add",
                        "Multiply", "Average", "GaussianNoise", "GaussianDropout")
nested_modules <- c(kernel_initializer = "keras.initializers",
                    bias_initializer = "keras.initializers",
                    alpha_initializer = "keras.initializers",
                    kernel_regularizer = "keras.regularizers",
                    bias_regularizer = "keras.regularizers",
                    activity_regularizer = "keras.regularizers",
                    alpha_regularizer = "keras.regularizers",
                    kernel_constraint = "keras.constraints",
                    bias_constraint = "keras.constraints",
                    alpha_constraint = "keras.constraints",
                    beta_initializer = "keras.initializers",
                    gamma_initializer = "keras.initializers",
                    moving_mean_initializer = "keras.initializers",
                    moving_variance_initializer = "keras.initializers",
                    embeddings_initializer = "keras.initializers",
                    beta_regularizer = "keras.regularizers",
                    gamma_regularizer = "keras.regularizers",
                    embeddings_regularizer = "keras.regularizers",
                    beta_constraint = "keras.constraints",
                    gamma_constraint = "keras.constraints",
                    embeddings_constraint = "keras.constraints")

#' Exchange model architectures with keras as JSON
#'
#' `model_to_json()` writes a model's architecture in the JSON format of
#' keras 2.x's `model.to_json()` (R: `keras::model_to_json()`), which keras's
#' `model_from_json()` reads; `model_from_json()` builds a model here from
#' such JSON, written by keras or by `model_to_json()`. The JSON holds the
#' architecture only: move the weights with [get_weights()] and
#' [set_weights()], which keep keras's order and shapes, or within selu
#' with [save_model()].
#'
#' The layers keras and selu share are read and written: `Dense`,
#' `Activation`, `Dropout`, `AlphaDropout`, `GaussianNoise`,
#' `GaussianDropout`, `ELU`, `LeakyReLU`, `ReLU`, `Softmax`,
#' `ThresholdedReLU`, `PReLU`, `BatchNormalization`, `LayerNormalization`,
#' `Embedding`, `Flatten` and the merging layers `Concatenate`, `Add`,
#' `Multiply` and `Average`, in a `Sequential` model or a functional model
#' (`Functional`, or `Model` in older keras) of any graph of them, with
#' several inputs and outputs. Any other layer class is an error that names
#' it.
#'
#' Conversions:
#' * Axes: keras counts them from 0 (the batch axis) in Python's way, selu
#'   from 1 in R's. A positive axis `k` in keras's JSON (Softmax's `axis`,
#'   PReLU's `shared_axes`, a constraint's `axis`) is `k + 1` here, and the
#'   other way round when writing; negative axes count from the end in both
#'   and stay as they are.
#' * dtype: keras's `"float64"` is read as it is, and its `"float32"` (keras's
#'   default, and what a layer without a dtype has) as [k_floatx()]:
#'   `"float64"`, R's doubles, unless the session asks for `"float32"` with
#'   `k_set_floatx("float32")`, which makes the model train and predict in
#'   single precision as keras does. Layers are written with their own dtype,
#'   which keras reads as it is. `dtype = "float32"` writes every layer and
#'   input as `"float32"`, the dtype keras and TensorFlow.js build by default
#'   (TensorFlow.js computes in float32 only).
#' * Initializers, regularizers and constraints are nested objects
#'   (`{"class_name": "GlorotUniform", "config": {"seed": null}}`), with the
#'   `module` and `registered_name` keys keras 2.13 writes; both forms are
#'   read. Every initializer class of keras and TensorFlow.js is read:
#'   `VarianceScaling` (see [initializer_variance_scaling()]; `"normal"` is a
#'   truncated normal, as keras reads it), as older keras and TensorFlow.js
#'   write the Glorot, He and LeCun initializers; TensorFlow.js's spellings
#'   `LeCunNormal` and `LeCunUniform`; `Identity`, `Orthogonal` and the
#'   rest. A class selu does not have is an error naming it. With `dtype`
#'   given, LeCun's initializers are written as the `VarianceScaling` both
#'   keras and TensorFlow.js read (TensorFlow.js spells them `LeCunNormal`,
#'   keras `LecunNormal`), and its `"truncated_normal"` as `"normal"`.
#'
#' The weights move with [get_weights()] and [set_weights()] in keras's
#' order (layer by layer, each layer's weights as keras lists them: Dense's
#' kernel then bias; BatchNormalization's gamma, beta, moving mean, moving
#' variance), or by name through keras's weight files
#' ([save_model_weights_hdf5()]).
#'
#' A layer whose activation is an R function cannot be written: keras could
#' not run it.
#'
#' @inheritParams save_model
#' @param dtype `NULL` (the default) to write each layer's own dtype, or
#'   `"float32"` or `"float64"` to write every layer and input in that dtype.
#' @param json keras's JSON of a model, one string (for a file, read it
#'   first: `paste(readLines(path), collapse = "\n")`).
#' @return `model_to_json()`: the JSON, one string. `model_from_json()`: a
#'   model, not compiled, with new weights.
#' @family saving
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 4, name = "snn") |>
#'   layer_dense(8, activation = "selu", kernel_initializer = "lecun_normal") |>
#'   layer_alpha_dropout(0.1) |>
#'   layer_dense(3, activation = "softmax")
#' json <- model_to_json(model)
#' cat(json)
#' # for TensorFlow.js, which computes in float32
#' substr(model_to_json(model, dtype = "float32"), 1, 200)
#' twin <- model_from_json(json)
#' summary(twin)
#'
#' # a model written by keras 2.13's model.to_json()
#' keras_json <- paste0(
#'   '{"class_name": "Sequential", "config": {"name": "sequential", "layers": [',
#'   '{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], ',
#'   '"dtype": "float32", "sparse": false, "ragged": false, "name": "dense_input"}}, ',
#'   '{"class_name": "Dense", "config": {"name": "dense", "trainable": true, ',
#'   '"dtype": "float32", "units": 2, "activation": "softmax", "use_bias": true, ',
#'   '"kernel_initializer": {"module": "keras.initializers", "class_name": ',
#'   '"GlorotUniform", "config": {"seed": null}, "registered_name": null}, ',
#'   '"bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", ',
#'   '"config": {}, "registered_name": null}, "kernel_regularizer": null, ',
#'   '"bias_regularizer": null, "activity_regularizer": null, ',
#'   '"kernel_constraint": null, "bias_constraint": null}}]}, ',
#'   '"keras_version": "2.13.1", "backend": "tensorflow"}')
#' model_from_json(keras_json)
model_to_json <- function(model, dtype = NULL) {
  call <- sys.call()
  check_model_arg(model, call)
  if (!is.null(dtype)) dtype <- check_dtype(dtype, "dtype", call = call)
  json_value(model_to_keras(model, dtype, call))
}

# A model as the parsed JSON keras writes, every dtype `dtype` unless NULL.
model_to_keras <- function(model, dtype, call) {
  self <- model_state(model)
  steps <- self$steps
  entries <- lapply(steps, layer_to_keras, call = call)
  if (!is.null(dtype)) {
    for (i in seq_along(entries)) {
      if (is.null(entries[[i]])) next
      if (!is.null(entries[[i]]$config$dtype)) entries[[i]]$config$dtype <- dtype
      entries[[i]]$config <- lapply_named(entries[[i]]$config, portable_initializer)
    }
  }
  if (self$class_name == "Sequential") {
    layers <- entries
    if (!is.null(self$batch_input_shape) && length(steps)) {
      input <- input_layer_entry(self$batch_input_shape,
                                 if (is.null(dtype)) steps[[1]]$dtype else dtype,
                                 paste0(steps[[1]]$name, "_input"))
      layers <- c(list(input), layers)
    }
    config <- list(name = self$name, layers = layers)
  } else {
    links <- graph_links(self)
    for (i in seq_along(entries)) {
      if (steps[[i]]$class_name == "InputLayer") {
        entries[[i]] <- input_layer_entry(steps[[i]]$batch_input_shape,
                                          if (is.null(dtype)) steps[[i]]$dtype else dtype,
                                          steps[[i]]$name)
      }
      entries[[i]]$name <- steps[[i]]$name
      entries[[i]]["inbound_nodes"] <- list(links$inbound[[i]])
    }
    config <- list(name = self$name, layers = entries, input_layers = links$inputs,
                   output_layers = links$outputs)
  }
  list(class_name = self$class_name, config = config, keras_version = KERAS_VERSION,
       backend = "tensorflow")
}

#' @rdname model_to_json
#' @export
model_from_json <- function(json) {
  call <- sys.call()
  if (missing(json)) abort_missing("json", "keras's JSON of a model, one string", call = call)
  if (!(is.character(json) && length(json) >= 1 && !anyNA(json) && !is.object(json))) {
    selu_abort(sprintf("`json` must be keras's JSON of a model, one string, not %s.",
                       describe(json)), call = call)
  }
  parsed <- tryCatch(jsonlite::parse_json(paste(json, collapse = "\n"), simplifyVector = FALSE),
                     error = function(e) e, warning = function(w) w)
  if (inherits(parsed, "condition")) {
    if (length(json) == 1 && nchar(json, type = "bytes") < 4096 && file.exists(json)) {
      selu_abort(sprintf(paste(
        "`json` must be JSON, not the path of a file (\"%s\"): read the file first,",
        "`paste(readLines(path), collapse = \"\\n\")`."), json), call = call)
    }
    selu_abort(sprintf("`json` is not valid JSON: %s", trimws(conditionMessage(parsed))),
               call = call)
  }
  bad <- function(what) selu_abort(sprintf("`json` %s", what), call = call)
  if (!is.list(parsed) || is.null(names(parsed)) || !is.character(parsed$class_name) ||
      !is.list(parsed$config)) {
    bad("must be a keras model: an object with the keys \"class_name\" and \"config\".")
  }
  class_name <- parsed$class_name
  config <- parsed$config
  build <- if (identical(class_name, "Sequential")) {
    sequential_from_keras
  } else if (identical(class_name, "Functional") || identical(class_name, "Model")) {
    functional_from_keras
  } else {
    bad(sprintf("holds a model of class %s; selu reads \"Sequential\" and \"Functional\" models.",
                describe(class_name)))
  }
  # whatever else goes wrong is in `json`
  withCallingHandlers(build(config, bad, call), error = function(e) {
    if (!grepl("`json`", conditionMessage(e), fixed = TRUE)) {
      bad(sprintf("holds a model selu cannot build: %s", conditionMessage(e)))
    }
  })
}

# --- writing ------------------------------------------------------------------

input_layer_entry <- function(shape, dtype, name) {
  list(class_name = "InputLayer",
       config = list(batch_input_shape = shape_to_list(shape), dtype = dtype, sparse = FALSE,
                     ragged = FALSE, name = name))
}

# A layer's entry as keras writes it: list(class_name, config).
layer_to_keras <- function(step, call) {
  config <- unclass_config(get_config(step$object))
  class_name <- step$class_name
  if (!class_name %in% json_layer_classes) {
    if (class_name == "InputLayer") return(NULL)
    selu_abort(sprintf("`model` holds the layer \"%s\" of class %s, which keras's JSON cannot hold here.",
                       step$name, class_name), call = call)
  }
  if ("activation" %in% names(config) && !is.character(config$activation)) {
    selu_abort(sprintf(paste(
      "`model` holds the layer \"%s\", whose activation is an R function: keras",
      "could not run it, so it has no JSON. Use a named activation."), step$name),
      call = call)
  }
  for (key in intersect(names(nested_modules), names(config))) {
    config[key] <- list(keras_object(config[[key]], nested_modules[[key]]))
  }
  if (class_name %in% c("Softmax", "Concatenate", "BatchNormalization", "LayerNormalization")) {
    config$axis <- keras_axis(config$axis)
  }
  if (class_name == "PReLU" && !is.null(config$shared_axes)) {
    config$shared_axes <- as.list(keras_axis(config$shared_axes))
  }
  if (class_name %in% c("Dropout", "AlphaDropout") && !is.null(config$noise_shape)) {
    config$noise_shape <- shape_to_list(config$noise_shape)
  }
  list(class_name = class_name, config = config)
}

# The spelling of an initializer that keras and TensorFlow.js both read:
# TensorFlow.js knows LeCun's as LeCunNormal and LeCunUniform, keras as
# LecunNormal and LecunUniform; both read VarianceScaling, and read its
# "normal" as a truncated normal.
portable_initializer <- function(x) {
  if (!(is.list(x) && identical(x$module, "keras.initializers"))) return(x)
  if (x$class_name %in% c("LecunNormal", "LecunUniform")) {
    x$config <- list(scale = 1, mode = "fan_in",
                     distribution = if (x$class_name == "LecunNormal") "normal" else "uniform",
                     seed = x$config$seed)
    x$class_name <- "VarianceScaling"
  }
  if (identical(x$class_name, "VarianceScaling") &&
      identical(x$config$distribution, "truncated_normal")) {
    x$config$distribution <- "normal"
  }
  x
}

lapply_named <- function(x, f) {
  x[] <- lapply(x, f)
  x
}

keras_object <- function(config, module) {
  if (is.null(config)) return(NULL)
  class_name <- attr(config, "class_name")
  config <- unclass_config(config)
  if (!is.null(config$axis)) config$axis <- keras_axis(config$axis)
  list(module = module, class_name = class_name, config = json_object(config),
       registered_name = NULL)
}

# R's axes (from 1) as Python's (from 0); negative axes stay.
keras_axis <- function(axis) {
  axis <- as.integer(axis)
  axis[axis > 0] <- axis[axis > 0] - 1L
  if (length(axis) == 1) axis else as.list(axis)
}

# Python's axes (from 0) as R's; anything else is left for the layer to refuse.
r_axis <- function(axis) {
  values <- unlist(axis)
  if (!(is.numeric(values) && length(values) == length(axis) && is_whole(values) &&
        all(abs(values) < .Machine$integer.max))) {
    return(axis)
  }
  axis <- as.integer(values)
  axis[axis >= 0] <- axis[axis >= 0] + 1L
  axis
}

json_object <- function(x = list()) if (length(x)) x else structure(list(), names = character(0))

# JSON as Python's json.dumps writes it: ", " and ": " between items,
# floats with a decimal point, numbers to full precision. Named lists are
# objects, other lists arrays, single values scalars.
json_value <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    items <- vapply(x, json_value, "", USE.NAMES = FALSE)
    if (!is.null(names(x))) {
      if (!length(x)) return("{}")
      return(paste0("{", paste0(json_string(names(x)), ": ", items, collapse = ", "), "}"))
    }
    return(paste0("[", paste(items, collapse = ", "), "]"))
  }
  if (length(x) != 1) return(json_value(as.list(x)))
  if (is.na(x) && !is.nan(x)) return("null")
  if (is.logical(x)) return(if (x) "true" else "false")
  if (is.character(x)) return(json_string(x))
  if (is.integer(x)) return(as.character(x))
  json_number(x)
}

json_string <- function(x) {
  vapply(x, function(s) as.character(jsonlite::toJSON(s, auto_unbox = TRUE)), "",
         USE.NAMES = FALSE)
}

json_number <- function(x) {
  if (is.nan(x)) return("NaN")
  if (is.infinite(x)) return(if (x > 0) "Infinity" else "-Infinity")
  if (x == round(x) && abs(x) < 1e16) return(sprintf("%.1f", x))
  for (digits in 15:17) {
    text <- sprintf("%.*g", digits, x)
    if (as.numeric(text) == x) break
  }
  text
}

# --- reading ------------------------------------------------------------------

sequential_from_keras <- function(config, bad, call) {
  layers <- config$layers
  if (!is.list(layers)) bad("must hold the model's layers in \"config\": {\"layers\": [...]}.")
  shape <- config$build_input_shape
  first <- if (length(layers)) layers[[1]]
  if (is.list(first) && identical(first$class_name, "InputLayer")) {
    shape <- input_shape_of(first, bad)
    layers <- layers[-1]
  }
  built <- lapply(layers, layer_from_keras, bad = bad)
  name <- if (is.character(config$name)) config$name
  keras_model_sequential(built, name = name, batch_input_shape = shape)
}

functional_from_keras <- function(config, bad, call) {
  build_functional(config$layers, node_refs(config$input_layers),
                   node_refs(config$output_layers), config$name,
                   make_layer = function(entry) layer_from_keras(entry, bad),
                   make_input = function(entry) {
                     input_from_shape(input_shape_of(entry, bad), entry$name, NULL, call)
                   }, bad = bad)
}

# keras writes [["input_1", 0, 0]], or ["input_1", 0, 0] for a single one.
node_refs <- function(x) {
  if (!is.list(x)) return(list())
  if (length(x) && is.character(x[[1]])) list(x) else x
}

input_shape_of <- function(entry, bad) {
  shape <- entry$config$batch_input_shape
  if (is.null(shape)) shape <- entry$config$batch_shape
  if (is.null(shape)) bad("holds an InputLayer without its \"batch_input_shape\".")
  shape
}

# A layer from its keras entry, keras's conventions turned into selu's.
layer_from_keras <- function(entry, bad) {
  class_name <- if (is.list(entry)) entry$class_name
  if (!is.character(class_name) || length(class_name) != 1) {
    bad("must hold each layer as {\"class_name\": ..., \"config\": {...}}.")
  }
  config <- entry$config
  name <- if (is.list(config) && is.character(config$name)) config$name else class_name
  if (!class_name %in% json_layer_classes) {
    bad(sprintf("holds the layer \"%s\" of class \"%s\", which selu does not have; it reads %s.",
                name, class_name, paste0("\"", json_layer_classes, "\"", collapse = ", ")))
  }
  if (!is.list(config) || (length(config) && is.null(names(config)))) {
    bad(sprintf("holds the layer \"%s\" without a \"config\" object.", name))
  }
  if ("dtype" %in% names(config)) config$dtype <- dtype_from_keras(config$dtype, name, bad)
  # TensorFlow.js writes null for false
  if (class_name == "Embedding" && "mask_zero" %in% names(config) && is.null(config$mask_zero)) {
    config["mask_zero"] <- list(FALSE)
  }
  for (key in intersect(names(nested_modules), names(config))) {
    config[key] <- list(object_from_keras(config[[key]], name, key, bad))
  }
  if (class_name %in% c("Softmax", "Concatenate", "BatchNormalization", "LayerNormalization") &&
      !is.null(config$axis)) {
    config$axis <- r_axis(config$axis)
  }
  if (class_name == "PReLU" && !is.null(config$shared_axes)) {
    config$shared_axes <- r_axis(config$shared_axes)
  }
  if (!is.null(config$batch_input_shape)) config$batch_input_shape <- unlist_shape(config$batch_input_shape)
  if (!is.null(config$noise_shape)) config$noise_shape <- unlist_shape(config$noise_shape)
  withCallingHandlers(
    from_config(structure(config, class_name = class_name)),
    selu_error = function(e) {
      bad(sprintf("holds the layer \"%s\" (%s) with a configuration selu cannot take: %s",
                  name, class_name, sub("^In `config`: ", "", conditionMessage(e))))
    })
}

# A shape from JSON, null for unknown, as the integer vector check_shape() makes.
unlist_shape <- function(shape) {
  if (!is.list(shape)) return(shape)
  vapply(shape, function(d) if (is.null(d)) NA_real_ else if (is.numeric(d) && length(d) == 1) d else NaN, 0)
}

dtype_from_keras <- function(dtype, name, bad) {
  if (is.list(dtype) && is.list(dtype$config)) dtype <- dtype$config$name # a dtype policy
  if (identical(dtype, "float64")) return("float64")
  if (is.null(dtype) || identical(dtype, "float32")) return(k_floatx())
  bad(sprintf(paste(
    "holds the layer \"%s\" of dtype %s; selu reads \"float32\" (as k_floatx(),",
    "\"float64\" unless set) and \"float64\"."), name, describe(dtype)))
}

object_from_keras <- function(x, name, key, bad) {
  if (is.null(x) || is.character(x)) return(x)
  if (!(is.list(x) && is.character(x$class_name) && length(x$class_name) == 1 &&
        (is.null(x$config) || is.list(x$config)))) {
    bad(sprintf("holds the layer \"%s\" whose \"%s\" is not {\"class_name\": ..., \"config\": {...}}.",
                name, key))
  }
  config <- if (is.null(x$config)) list() else x$config
  if (!is.null(config$axis)) config$axis <- r_axis(config$axis)
  structure(config, class_name = x$class_name)
}
