# ONNX: a model's inference graph as an ONNX model (save_model_onnx()), and
# ONNX graphs of dense layers, activations and normalizations read back into
# models (load_model_onnx()). The protocol buffers are written and read here
# (onnx.proto3, ONNX 1.12: IR version 8, opset 17); nothing else is needed.

ONNX_IR_VERSION <- 8
ONNX_OPSET <- 17L
ONNX_FLOAT <- 1L
ONNX_INT64 <- 7L
ONNX_DOUBLE <- 11L

#' Export a model to ONNX
#'
#' Writes the inference graph of a model as an ONNX model (IR version 8,
#' opset 17 of the default domain), which ONNX Runtime and other ONNX
#' engines run: what [predict()] computes, dropout and noise layers left out
#' (they are the identity at inference). The input is named `input` and
#' the output `output` (for several, `input_1`, `input_2`, ... and
#' `output_1`, ... in the model's order); their first dimension is the
#' symbolic batch size `batch`, the others the model's shape.
#'
#' Layers go to ONNX operators: `Dense` to `Gemm` (rank-2 input) or
#' `MatMul` and `Add`; the activations to `Selu`, `Elu`, `Relu`,
#' `LeakyRelu`, `Sigmoid`, `Tanh`, `Softmax`, `ThresholdedRelu` and `PRelu`
#' (ReLU with a maximum, slope or threshold to `Where`, `Min` and
#' arithmetic); `BatchNormalization` to `BatchNormalization` (features on
#' the second axis) or its arithmetic with the moving statistics;
#' `LayerNormalization` to `LayerNormalization` (the last axes) or
#' `ReduceMean` and arithmetic; `Flatten` to `Flatten`; `Embedding` to
#' `Gather`; the merging layers to `Concat`, `Sum`, `Mul`, and `Sum` and
#' `Div`.
#'
#' `dtype = "float32"` (the default) writes the weights and computes in
#' float32, as ONNX models usually do; ONNX Runtime's results agree with
#' [predict()] to about 1e-6. `dtype = "float64"` keeps double precision
#' throughout (to about 1e-13): since ONNX Runtime has no double kernels for
#' `Selu`, `Elu`, `LeakyRelu`, `PRelu` and `ThresholdedRelu`, and ONNX keeps
#' their parameters as float32 attributes, those are written as elementary
#' operators (`Relu`, `Min`, `Exp`, `Mul`, `Add`, `Where`) with float64
#' constants.
#'
#' A layer whose activation is an R function has no ONNX form and is an
#' error. The file is written to a temporary file in the same directory
#' first, then renamed over `filepath`, as [save_model()] does.
#'
#' @inheritParams save_model
#' @param dtype `"float32"` (the default) or `"float64"`.
#' @return `model`, invisibly.
#' @family saving
#' @seealso [load_model_onnx()] to read ONNX models back.
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(8, activation = "selu", kernel_initializer = "lecun_normal") |>
#'   layer_alpha_dropout(0.1) |>
#'   layer_dense(3, activation = "softmax")
#' path <- tempfile(fileext = ".onnx")
#' save_model_onnx(model, path)
#' file.size(path)
#' # read back
#' twin <- load_model_onnx(path)
#' x <- matrix(rnorm(8), 2, 4)
#' all.equal(predict(twin, x), predict(model, x), tolerance = 1e-6)
#' unlink(path)
save_model_onnx <- function(model, filepath, dtype = "float32", overwrite = TRUE) {
  call <- sys.call()
  check_model_arg(model, call)
  filepath <- check_new_file_path(filepath, overwrite, call)
  dtype <- check_dtype(dtype, "dtype", call = call)
  bytes <- onnx_model_bytes(model, dtype, call)
  write_atomically(bytes, filepath, call, write = function(bytes, path) writeBin(bytes, path))
  invisible(model)
}

# --- protocol buffers ------------------------------------------------------------

# A varint of a whole number (a double, negative ones as int64's two's
# complement), from its two 32-bit halves.
pb_varint <- function(value) {
  value <- as.double(value)
  if (value < 0) {
    magnitude <- -value
    low <- (2^32 - magnitude %% 2^32) %% 2^32
    high <- 2^32 - 1 - floor((magnitude - 1) / 2^32)
  } else {
    high <- floor(value / 2^32)
    low <- value %% 2^32
  }
  out <- raw(0)
  repeat {
    byte <- low %% 128
    low <- (low - byte) / 128 + (high %% 128) * 2^25
    high <- floor(high / 128)
    if (high == 0 && low == 0) return(c(out, as.raw(byte)))
    out <- c(out, as.raw(byte + 128))
  }
}

pb_key <- function(field, wire) pb_varint(field * 8 + wire)
pb_int <- function(field, value) c(pb_key(field, 0), pb_varint(value))
pb_bytes <- function(field, bytes) c(pb_key(field, 2), pb_varint(length(bytes)), bytes)
pb_string <- function(field, text) pb_bytes(field, charToRaw(enc2utf8(text)))
pb_float <- function(field, value) {
  c(pb_key(field, 5), writeBin(as.double(value), raw(), size = 4, endian = "little"))
}

# --- the graph -------------------------------------------------------------------

onnx_graph <- function(dtype) {
  g <- new.env(parent = emptyenv())
  g$dtype <- dtype
  g$elem <- if (dtype == "float64") ONNX_DOUBLE else ONNX_FLOAT
  g$nodes <- list()
  g$initializers <- list()
  g$count <- 0L
  g
}

onnx_name <- function(g, hint) {
  g$count <- g$count + 1L
  paste0(hint, "_", g$count)
}

# A tensor proto of `values` in shape `dims` (R's order: written row-major).
onnx_tensor <- function(name, values, dims, elem) {
  if (length(dims) > 1) values <- aperm(array(values, dims), rev(seq_along(dims)))
  values <- as.vector(values)
  data <- writeBin(as.double(values), raw(), size = if (elem == ONNX_DOUBLE) 8 else 4,
                   endian = "little")
  c(unlist(lapply(dims, function(d) pb_int(1, d))), pb_int(2, elem), pb_string(8, name),
    pb_bytes(9, data))
}

# A constant (an initializer) of the graph's dtype; its name.
onnx_const <- function(g, hint, values, dims = length(values)) {
  name <- onnx_name(g, hint)
  g$initializers[[length(g$initializers) + 1]] <- onnx_tensor(name, values, dims, g$elem)
  name
}

onnx_scalar <- function(g, hint, value) onnx_const(g, hint, value, integer(0))

onnx_attr <- function(name, value, type = c("float", "int", "ints")) {
  type <- match.arg(type)
  body <- switch(type,
    float = c(pb_float(2, value), pb_int(20, 1)),
    int = c(pb_int(3, value), pb_int(20, 2)),
    ints = c(unlist(lapply(value, function(v) pb_int(8, v))), pb_int(20, 7)))
  c(pb_string(1, name), body)
}

# A node; its output's name.
onnx_node <- function(g, op, inputs, attrs = list(), output = onnx_name(g, tolower(op))) {
  node <- c(unlist(lapply(inputs, function(i) pb_string(1, i))), pb_string(2, output),
            pb_string(3, output), pb_string(4, op),
            unlist(lapply(attrs, function(a) pb_bytes(5, a))))
  g$nodes[[length(g$nodes) + 1]] <- node
  output
}

onnx_value_info <- function(name, shape, elem) {
  dims <- unlist(lapply(seq_along(shape), function(i) {
    pb_bytes(1, if (i == 1 || is.na(shape[i])) {
      pb_string(2, if (i == 1) "batch" else paste0("dim_", i - 1))
    } else {
      pb_int(1, shape[i])
    })
  }))
  tensor_type <- c(pb_int(1, elem), pb_bytes(2, dims))
  c(pb_string(1, name), pb_bytes(2, pb_bytes(1, tensor_type)))
}

# --- a model's graph -------------------------------------------------------------

onnx_model_bytes <- function(model, dtype, call) {
  self <- model_state(model)
  graph <- model_graph(self)
  inputs <- model_inputs(self)
  if (!length(self$steps) || any(vapply(inputs, function(i) is.null(i$shape), TRUE))) {
    selu_abort("`model` has no input shape yet: give one (`input_shape`) to export it.",
               call = call)
  }
  g <- onnx_graph(dtype)
  names <- list()
  shapes <- list()
  input_names <- if (length(graph$inputs) == 1) "input" else paste0("input_", seq_along(graph$inputs))
  for (k in seq_along(graph$inputs)) {
    id <- as.character(graph$inputs[k])
    names[[id]] <- input_names[k]
    shapes[[id]] <- inputs[[k]]$shape
  }
  for (node in graph$nodes) {
    ids <- as.character(node$inputs)
    layer <- node$layer
    in_shapes <- unname(shapes[ids])
    out_shape <- layer_output_shape(layer, if (takes_several(layer)) in_shapes else in_shapes[[1]],
                                    call = call)
    x <- unname(unlist(names[ids]))
    names[[as.character(node$output)]] <- layer_to_onnx(g, layer, x, in_shapes, call)
    shapes[[as.character(node$output)]] <- out_shape
  }
  output_names <- if (length(graph$outputs) == 1) "output" else paste0("output_", seq_along(graph$outputs))
  for (k in seq_along(graph$outputs)) {
    onnx_node(g, "Identity", names[[as.character(graph$outputs[k])]], output = output_names[k])
  }
  input_info <- unlist(lapply(seq_along(input_names), function(k) {
    pb_bytes(11, onnx_value_info(input_names[k], shapes[[as.character(graph$inputs[k])]], g$elem))
  }))
  output_info <- unlist(lapply(seq_along(output_names), function(k) {
    pb_bytes(12, onnx_value_info(output_names[k], shapes[[as.character(graph$outputs[k])]],
                                 g$elem))
  }))
  graph_bytes <- c(unlist(lapply(g$nodes, function(n) pb_bytes(1, n))),
                   pb_string(2, self$name),
                   unlist(lapply(g$initializers, function(t) pb_bytes(5, t))),
                   input_info, output_info)
  c(pb_int(1, ONNX_IR_VERSION), pb_string(2, "selu"),
    pb_string(3, as.character(utils::packageVersion("selu"))),
    pb_bytes(7, graph_bytes), pb_bytes(8, c(pb_string(1, ""), pb_int(2, ONNX_OPSET))))
}

# R's axis (from 1, the batch axis; negative from the end) as ONNX's (from 0).
onnx_axis <- function(axis) ifelse(axis > 0, axis - 1L, axis)

# The shape (without the batch axis) a per-feature vector broadcasts in
# along `axes` (R's) of input of shape `shape`.
feature_dims <- function(shape, axes) {
  rank <- length(shape)
  axes <- ifelse(axes < 0, rank + 1L + axes, axes)
  dims <- rep(1L, rank - 1L)
  dims[axes - 1L] <- shape[axes]
  dims
}

layer_to_onnx <- function(g, self, x, in_shapes, call) {
  config <- self$config
  w <- self$weights
  shape <- in_shapes[[1]]
  rank <- length(shape)
  switch(self$class_name,
    Dense = {
      kernel <- onnx_const(g, paste0(self$name, "_kernel"), w$kernel, dim(w$kernel))
      bias <- if (isTRUE(config$use_bias)) onnx_const(g, paste0(self$name, "_bias"), w$bias)
      y <- if (rank == 2) {
        onnx_node(g, "Gemm", c(x, kernel, bias))
      } else {
        product <- onnx_node(g, "MatMul", c(x, kernel))
        if (is.null(bias)) product else onnx_node(g, "Add", c(product, bias))
      }
      activation_to_onnx(g, config$activation, y, self, call)
    },
    Activation = activation_to_onnx(g, config$activation, x, self, call),
    ELU = onnx_elu(g, x, config$alpha),
    LeakyReLU = onnx_leaky_relu(g, x, config$alpha),
    ThresholdedReLU = onnx_thresholded_relu(g, x, config$theta),
    ReLU = onnx_relu(g, x, config$max_value, config$negative_slope, config$threshold),
    Softmax = onnx_node(g, "Softmax", x, list(onnx_attr("axis", onnx_axis(config$axis), "int"))),
    PReLU = onnx_prelu(g, x, onnx_const(g, paste0(self$name, "_alpha"), w$alpha,
                                        data_shape(w$alpha))),
    BatchNormalization = {
      axes <- config$axis
      n <- length(w$moving_mean)
      gamma <- if (is.null(w$gamma)) rep(1, n) else as.vector(w$gamma)
      beta <- if (is.null(w$beta)) rep(0, n) else as.vector(w$beta)
      mean <- as.vector(w$moving_mean)
      variance <- as.vector(w$moving_variance)
      # in float64, ONNX's float32 epsilon attribute would not do
      # ONNX's BatchNormalization: features on the second axis
      if (g$dtype == "float32" && length(axes) == 1 && (axes == 2 || (rank == 2 && axes == -1))) {
        onnx_node(g, "BatchNormalization",
                  c(x, onnx_const(g, "gamma", gamma), onnx_const(g, "beta", beta),
                    onnx_const(g, "mean", mean), onnx_const(g, "variance", variance)),
                  list(onnx_attr("epsilon", config$epsilon, "float")))
      } else {
        a <- gamma / sqrt(variance + config$epsilon)
        dims <- feature_dims(shape, axes)
        scaled <- onnx_node(g, "Mul", c(x, onnx_const(g, "bn_scale", a, dims)))
        onnx_node(g, "Add", c(scaled, onnx_const(g, "bn_shift", beta - mean * a, dims)))
      }
    },
    LayerNormalization = {
      axes <- config$axis
      axes <- sort(ifelse(axes < 0, rank + 1L + axes, axes))
      dims <- feature_dims(shape, axes)
      n <- prod(dims)
      gamma <- if (is.null(w$gamma)) rep(1, n) else as.vector(w$gamma)
      beta <- if (is.null(w$beta)) rep(0, n) else as.vector(w$beta)
      trailing <- identical(as.integer(axes), seq.int(min(axes), rank))
      if (trailing && g$dtype == "float32") {
        onnx_node(g, "LayerNormalization",
                  c(x, onnx_const(g, "gamma", gamma, shape[axes]),
                    onnx_const(g, "beta", beta, shape[axes])),
                  list(onnx_attr("axis", min(axes) - 1L, "int"),
                       onnx_attr("epsilon", config$epsilon, "float")))
      } else {
        reduce <- list(onnx_attr("axes", axes - 1L, "ints"), onnx_attr("keepdims", 1, "int"))
        mean <- onnx_node(g, "ReduceMean", x, reduce)
        centred <- onnx_node(g, "Sub", c(x, mean))
        variance <- onnx_node(g, "ReduceMean", onnx_node(g, "Mul", c(centred, centred)), reduce)
        sd <- onnx_node(g, "Sqrt", c(onnx_node(g, "Add", c(variance, onnx_scalar(g, "epsilon",
                                                                              config$epsilon)))))
        normal <- onnx_node(g, "Div", c(centred, sd))
        scaled <- onnx_node(g, "Mul", c(normal, onnx_const(g, "gamma", gamma, dims)))
        onnx_node(g, "Add", c(scaled, onnx_const(g, "beta", beta, dims)))
      }
    },
    Flatten = onnx_node(g, "Flatten", x, list(onnx_attr("axis", 1, "int"))),
    Embedding = {
      ids <- onnx_node(g, "Cast", x, list(onnx_attr("to", ONNX_INT64, "int")))
      onnx_node(g, "Gather", c(onnx_const(g, paste0(self$name, "_embeddings"), w$embeddings,
                                          dim(w$embeddings)), ids),
                list(onnx_attr("axis", 0, "int")))
    },
    Concatenate = onnx_node(g, "Concat", x, list(onnx_attr("axis", onnx_axis(config$axis), "int"))),
    Add = onnx_node(g, "Sum", x),
    Multiply = if (length(x) == 2) onnx_node(g, "Mul", x) else Reduce(function(a, b) onnx_node(g, "Mul", c(a, b)), x),
    # ONNX Runtime has no double kernel for Mean
    Average = onnx_node(g, "Div", c(onnx_node(g, "Sum", x), onnx_scalar(g, "count", length(x)))),
    Dropout = , AlphaDropout = , GaussianNoise = , GaussianDropout = x,
    selu_abort(sprintf("`model` holds the layer \"%s\" of class %s, which has no ONNX form here.",
                       self$name, self$class_name), call = call)
  )
}

activation_to_onnx <- function(g, activation, x, self, call) {
  if (is.function(activation)) {
    selu_abort(sprintf(paste("`model` holds the layer \"%s\", whose activation is an R",
                             "function, which has no ONNX form. Use a named activation."),
                       self$name), call = call)
  }
  switch(activation,
    linear = x,
    selu = onnx_selu(g, x),
    elu = onnx_elu(g, x, 1),
    relu = onnx_node(g, "Relu", x),
    leaky_relu = onnx_leaky_relu(g, x, 0.2),
    sigmoid = onnx_node(g, "Sigmoid", x),
    tanh = onnx_node(g, "Tanh", x),
    softmax = onnx_node(g, "Softmax", x, list(onnx_attr("axis", -1, "int"))),
    selu_abort(sprintf("`model` holds the layer \"%s\" of activation \"%s\", which has no ONNX form here.",
                       self$name, activation), call = call)
  )
}

# The activations ONNX Runtime runs in float32 only, as elementary ops in
# float64: max(x, 0) and min(x, 0) parts, constants in float64.
SELU_ALPHA <- 1.6732632423543772848170429916717
SELU_SCALE <- 1.0507009873554804934193349852946

onnx_negative_part <- function(g, x) onnx_node(g, "Min", c(x, onnx_scalar(g, "zero", 0)))

onnx_expm1_negative <- function(g, x) {
  onnx_node(g, "Sub", c(onnx_node(g, "Exp", onnx_negative_part(g, x)), onnx_scalar(g, "one", 1)))
}

onnx_selu <- function(g, x) {
  if (g$dtype == "float32") {
    return(onnx_node(g, "Selu", x, list(onnx_attr("alpha", SELU_ALPHA, "float"),
                                         onnx_attr("gamma", SELU_SCALE, "float"))))
  }
  positive <- onnx_node(g, "Mul", c(onnx_node(g, "Relu", x), onnx_scalar(g, "scale", SELU_SCALE)))
  negative <- onnx_node(g, "Mul", c(onnx_expm1_negative(g, x),
                                    onnx_scalar(g, "scale_alpha", SELU_SCALE * SELU_ALPHA)))
  onnx_node(g, "Add", c(positive, negative))
}

onnx_elu <- function(g, x, alpha) {
  if (g$dtype == "float32") return(onnx_node(g, "Elu", x, list(onnx_attr("alpha", alpha, "float"))))
  onnx_node(g, "Add", c(onnx_node(g, "Relu", x),
                        onnx_node(g, "Mul", c(onnx_expm1_negative(g, x), onnx_scalar(g, "alpha", alpha)))))
}

onnx_leaky_relu <- function(g, x, alpha) {
  if (g$dtype == "float32") {
    return(onnx_node(g, "LeakyRelu", x, list(onnx_attr("alpha", alpha, "float"))))
  }
  onnx_prelu(g, x, onnx_scalar(g, "alpha", alpha))
}

onnx_prelu <- function(g, x, slope) {
  if (g$dtype == "float32") return(onnx_node(g, "PRelu", c(x, slope)))
  onnx_node(g, "Add", c(onnx_node(g, "Relu", x),
                        onnx_node(g, "Mul", c(onnx_negative_part(g, x), slope))))
}

onnx_thresholded_relu <- function(g, x, theta) {
  if (g$dtype == "float32") {
    return(onnx_node(g, "ThresholdedRelu", x, list(onnx_attr("alpha", theta, "float"))))
  }
  above <- onnx_node(g, "Greater", c(x, onnx_scalar(g, "theta", theta)))
  onnx_node(g, "Where", c(above, x, onnx_scalar(g, "zero", 0)))
}

# keras's ReLU: x from `threshold` up, `negative_slope * (x - threshold)`
# below, at most `max_value`.
onnx_relu <- function(g, x, max_value, negative_slope, threshold) {
  y <- if (negative_slope == 0 && threshold == 0) {
    onnx_node(g, "Relu", x)
  } else {
    t <- onnx_scalar(g, "threshold", threshold)
    below <- onnx_node(g, "Mul", c(onnx_node(g, "Sub", c(x, t)),
                                   onnx_scalar(g, "slope", negative_slope)))
    onnx_node(g, "Where", c(onnx_node(g, "GreaterOrEqual", c(x, t)), x, below))
  }
  if (is.null(max_value)) return(y)
  onnx_node(g, "Min", c(y, onnx_scalar(g, "max_value", max_value)))
}

# --- reading -------------------------------------------------------------------

#' Import an ONNX model
#'
#' Reads an ONNX model whose graph is a chain of operators that map onto
#' selu's layers, from one input to one output, into a model that predicts
#' what the ONNX model computes (in double precision):
#'
#' | ONNX | selu |
#' |---|---|
#' | `Gemm` (`alpha = 1`, `beta = 1`, `transA = 0`; `transB` either), `MatMul` followed by `Add` of a vector, `MatMul` alone | [layer_dense()] |
#' | `Relu`, `Sigmoid`, `Tanh`, `Selu` (keras's `alpha` and `gamma` only) | [layer_activation()] |
#' | `Elu`, `LeakyRelu`, `ThresholdedRelu`, `PRelu`, `Softmax` (one axis; before opset 13, the last) | [layer_activation_elu()] and the others of the family, with their parameters |
#' | `BatchNormalization` (inference: moving statistics) | [layer_batch_normalization()] on the second axis |
#' | `LayerNormalization` (the last axes) | [layer_layer_normalization()] |
#' | `Flatten` (`axis = 1`) | [layer_flatten()] |
#' | `Identity`, `Dropout` | nothing: the identity at inference |
#'
#' This is what [save_model_onnx()] writes for such models in float32, and
#' what PyTorch's `torch.onnx.export()` writes for a multilayer perceptron
#' (`nn.Linear` as `Gemm` with `transB = 1`, its activations, dropout left
#' in as `Dropout` or out). Any other operator, an attribute of another
#' value (such as `Selu` with another `alpha`), a graph that is not a chain,
#' or a weight that is not a float32 or float64 constant is an error naming
#' it. ONNX files of IR version 10 or older and default-domain opset 21 or
#' older are read; newer ones are an error.
#'
#' @inheritParams save_model
#' @return A model from [keras_model_sequential()], not compiled, named after
#'   the ONNX graph.
#' @family saving
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 3) |>
#'   layer_dense(4, activation = "relu") |>
#'   layer_batch_normalization() |>
#'   layer_dense(2)
#' path <- tempfile(fileext = ".onnx")
#' save_model_onnx(model, path)
#' imported <- load_model_onnx(path)
#' imported
#' x <- matrix(rnorm(6), 2, 3)
#' all.equal(predict(imported, x), predict(model, x), tolerance = 1e-6)
#' unlink(path)
load_model_onnx <- function(filepath) {
  call <- sys.call()
  filepath <- check_existing_file_path(filepath, call)
  bad <- function(what) {
    selu_abort(sprintf("`filepath` \"%s\" %s", filepath, what), kind = "file", call = call)
  }
  bytes <- readBin(filepath, "raw", file.size(filepath))
  withCallingHandlers(onnx_to_model(onnx_parse_model(bytes), bad), error = function(e) {
    if (inherits(e, "selu_error")) return()
    bad(sprintf("is not an ONNX model, or a damaged one (truncated?): %s",
                first_line(conditionMessage(e))))
  })
}

onnx_damaged <- function(what) {
  stop(structure(class = c("onnx_damaged", "error", "condition"),
                 list(message = what, call = NULL)))
}

# The fields of a protocol buffer message: a list of list(field, wire,
# value), varints as doubles (int64's negatives as negatives), fixed32 and
# fixed64 and length-delimited values as raw vectors.
pb_parse <- function(bytes) {
  n <- length(bytes)
  at <- 1L
  fields <- list()
  read_varint <- function() {
    groups <- integer(0)
    repeat {
      if (at > n) onnx_damaged("a number runs past the end of the data")
      b <- as.integer(bytes[at])
      at <<- at + 1L
      groups <- c(groups, b %% 128L)
      if (b < 128L) break
      if (length(groups) >= 10) onnx_damaged("a number is longer than ten bytes")
    }
    if (length(groups) == 10 && groups[10] >= 1) {
      # a negative int64: minus (its bits inverted, plus one)
      inverted <- sum((127 - groups[1:9]) * 128^(0:8)) + (1 - groups[10] %% 2) * 2^63
      return(-(inverted + 1))
    }
    sum(groups * 128^(seq_along(groups) - 1))
  }
  while (at <= n) {
    key <- read_varint()
    field <- key %/% 8
    wire <- key %% 8
    value <- switch(as.character(wire),
      "0" = read_varint(),
      "1" = , "5" = {
        size <- if (wire == 1) 8L else 4L
        if (at + size - 1L > n) onnx_damaged("a fixed-size value runs past the end of the data")
        v <- bytes[at:(at + size - 1L)]
        at <- at + size
        v
      },
      "2" = {
        len <- read_varint()
        if (len > n - at + 1) onnx_damaged("a field runs past the end of the data")
        v <- if (len > 0) bytes[at:(at + len - 1)] else raw(0)
        at <- at + len
        v
      },
      onnx_damaged(sprintf("a field has the wire type %d, which protocol buffers do not have", wire)))
    if (field < 1) onnx_damaged("a field has the number 0")
    fields[[length(fields) + 1L]] <- list(field = field, wire = wire, value = value)
  }
  fields
}

pb_get <- function(fields, number) Filter(function(f) f$field == number, fields)
pb_first <- function(fields, number, default = NULL) {
  found <- pb_get(fields, number)
  if (length(found)) found[[length(found)]]$value else default
}
pb_text <- function(fields, number, default = "") {
  value <- pb_first(fields, number)
  if (is.null(value)) default else rawToChar(value)
}
pb_texts <- function(fields, number) vapply(pb_get(fields, number), function(f) rawToChar(f$value), "")

# Repeated varints, packed or not.
pb_ints <- function(fields, number) {
  unlist(lapply(pb_get(fields, number), function(f) {
    if (f$wire == 0) f$value else pb_parse_varints(f$value)
  }))
}

pb_parse_varints <- function(bytes) {
  values <- numeric(0)
  at <- 1L
  while (at <= length(bytes)) {
    end <- at
    while (as.integer(bytes[end]) >= 128L) {
      end <- end + 1L
      if (end > length(bytes)) onnx_damaged("a packed number runs past the end of the data")
    }
    values <- c(values, pb_parse(c(as.raw(0x08), bytes[at:end]))[[1]]$value)
    at <- end + 1L
  }
  values
}

onnx_parse_model <- function(bytes) {
  model <- pb_parse(bytes)
  graph <- pb_first(model, 7)
  if (is.null(graph)) onnx_damaged("it has no graph")
  opsets <- lapply(pb_get(model, 8), function(f) pb_parse(f$value))
  opset <- NA
  for (o in opsets) if (pb_text(o, 1) %in% c("", "ai.onnx")) opset <- pb_first(o, 2, NA)
  graph <- pb_parse(graph)
  list(ir_version = pb_first(model, 1, NA), opset = opset, graph = graph)
}

onnx_read_tensor <- function(fields, bad) {
  name <- pb_text(fields, 8)
  dims <- pb_ints(fields, 1)
  type <- pb_first(fields, 2, 0)
  raw_data <- pb_first(fields, 9)
  n <- prod(dims)
  values <- if (!is.null(raw_data)) {
    size <- switch(as.character(type), "1" = 4L, "11" = 8L, NA)
    if (is.na(size)) bad(sprintf("holds the constant \"%s\" of ONNX data type %d; selu reads float32 (1) and float64 (11).", name, type))
    if (length(raw_data) != n * size) bad(sprintf("is damaged: the constant \"%s\" has %d bytes for %g values.", name, length(raw_data), n))
    readBin(raw_data, "double", n = n, size = size, endian = "little")
  } else if (type == 1) {
    packed <- pb_get(fields, 4)
    unlist(lapply(packed, function(f) {
      if (f$wire == 5) readBin(f$value, "double", 1, size = 4, endian = "little")
      else readBin(f$value, "double", length(f$value) / 4, size = 4, endian = "little")
    }))
  } else if (type == 11) {
    unlist(lapply(pb_get(fields, 10), function(f) {
      readBin(f$value, "double", length(f$value) / 8, size = 8, endian = "little")
    }))
  } else {
    bad(sprintf("holds the constant \"%s\" of ONNX data type %d; selu reads float32 (1) and float64 (11).", name, type))
  }
  if (length(values) != n) bad(sprintf("is damaged: the constant \"%s\" has %d values for its shape.", name, length(values)))
  if (length(dims) > 1) {
    values <- aperm(array(values, rev(dims)), rev(seq_along(dims)))
  }
  list(name = name, dims = dims, values = values)
}

onnx_read_attribute <- function(fields) {
  name <- pb_text(fields, 1)
  type <- pb_first(fields, 20, 0)
  value <- switch(as.character(type),
    "1" = readBin(pb_first(fields, 2, raw(4)), "double", 1, size = 4, endian = "little"),
    "2" = pb_first(fields, 3, 0),
    "3" = rawToChar(pb_first(fields, 4, raw(0))),
    "7" = pb_ints(fields, 8),
    "4" = structure(list(), tensor = pb_first(fields, 5)),
    "6" = unlist(lapply(pb_get(fields, 7), function(f) {
      readBin(f$value, "double", length(f$value) / 4, size = 4, endian = "little")
    })),
    structure(NA, unsupported = type))
  list(name = name, value = value)
}

ONNX_MAX_IR <- 10
ONNX_MAX_OPSET <- 21

onnx_to_model <- function(parsed, bad) {
  if (!is.na(parsed$ir_version) && parsed$ir_version > ONNX_MAX_IR) {
    bad(sprintf("is an ONNX model of IR version %g, newer than those selu reads (up to %d).",
                parsed$ir_version, ONNX_MAX_IR))
  }
  if (!is.na(parsed$opset) && parsed$opset > ONNX_MAX_OPSET) {
    bad(sprintf("uses ONNX opset %g, newer than those selu reads (up to %d).", parsed$opset,
                ONNX_MAX_OPSET))
  }
  graph <- parsed$graph
  constants <- list()
  for (f in pb_get(graph, 5)) {
    tensor <- onnx_read_tensor(pb_parse(f$value), bad)
    constants[[tensor$name]] <- tensor
  }
  nodes <- lapply(pb_get(graph, 1), function(f) {
    node <- pb_parse(f$value)
    attrs <- lapply(pb_get(node, 5), function(a) onnx_read_attribute(pb_parse(a$value)))
    list(op = pb_text(node, 4), domain = pb_text(node, 7), inputs = pb_texts(node, 1),
         outputs = pb_texts(node, 2),
         attrs = stats::setNames(lapply(attrs, function(a) a$value),
                                 vapply(attrs, function(a) a$name, "")))
  })
  inputs <- Filter(function(v) !v$name %in% names(constants),
                   lapply(pb_get(graph, 11), function(f) onnx_value_info_of(pb_parse(f$value))))
  outputs <- lapply(pb_get(graph, 12), function(f) onnx_value_info_of(pb_parse(f$value)))
  if (length(inputs) != 1 || length(outputs) != 1) {
    bad(sprintf("has %d inputs and %d outputs; selu reads graphs of one input and one output.",
                length(inputs), length(outputs)))
  }
  # Constant nodes are constants too
  for (node in Filter(function(n) n$op == "Constant", nodes)) {
    tensor <- attr(node$attrs$value, "tensor")
    if (is.null(tensor)) {
      bad(sprintf("has the Constant node \"%s\" without a tensor value, which selu does not read.",
                  node$outputs[1]))
    }
    constants[[node$outputs[1]]] <- list(name = node$outputs[1],
                                         values = onnx_read_tensor(pb_parse(tensor), bad)$values)
  }
  nodes <- Filter(function(n) n$op != "Constant", nodes)
  shape <- inputs[[1]]$shape
  if (length(shape) < 2) {
    bad(sprintf(paste("has the input \"%s\" of shape %s: selu needs a batch axis first and at",
                      "least one more."), inputs[[1]]$name,
                if (is.null(shape)) "unknown" else format_dims(shape)))
  }
  if (any(is.na(shape[-1]))) {
    bad(sprintf("has the input \"%s\" of shape %s: selu needs every dimension but the first known.",
                inputs[[1]]$name, format_shape(shape)))
  }
  layers <- list()
  current <- inputs[[1]]$name
  constant <- function(name, node) {
    value <- constants[[name]]
    if (is.null(value)) {
      bad(sprintf("has the node \"%s\" (%s) reading \"%s\" as a weight, which is no constant of the graph; selu reads chains of layers.",
                  node$outputs[1], node$op, name))
    }
    value$values
  }
  i <- 1L
  while (i <= length(nodes)) {
    node <- nodes[[i]]
    if (!(node$domain %in% c("", "ai.onnx"))) {
      bad(sprintf("has the operator %s of the domain \"%s\", which selu does not read.",
                  node$op, node$domain))
    }
    if (!length(node$inputs) || node$inputs[1] != current) {
      bad(sprintf("has the node making \"%s\" (%s) off the chain from the input: selu reads graphs that are a chain of layers.",
                  node$outputs[1], node$op))
    }
    made <- onnx_node_layer(node, nodes, i, constant, bad, parsed$opset)
    layers <- c(layers, made$layers)
    i <- made$next_node
    current <- made$output
  }
  if (current != outputs[[1]]$name) {
    bad(sprintf("has the output \"%s\", which the chain of nodes from the input does not end in.",
                outputs[[1]]$name))
  }
  name <- pb_text(graph, 2, "")
  model <- keras_model_sequential(input_shape = shape[-1],
                                  name = if (nzchar(name) && grepl("^[A-Za-z0-9_.-]+$", name)) name)
  weights <- list()
  for (layer in layers) {
    model <- model |> (layer$make)()
    if (!is.null(layer$weights)) {
      added <- model$layers[[length(model$layers)]]
      expected <- get_weights(added)
      given <- layer$weights
      for (k in seq_along(given)) {
        if (!identical(as.integer(data_shape(given[[k]])), as.integer(data_shape(expected[[k]])))) {
          bad(sprintf("has a weight of shape %s for its %s, where selu's layer needs %s.",
                      format_dims(data_shape(given[[k]])), layer$op,
                      format_dims(data_shape(expected[[k]]))))
        }
        if (length(dim(expected[[k]])) > 1) dim(given[[k]]) <- dim(expected[[k]])
      }
      set_weights(added, given)
    }
  }
  model
}

onnx_value_info_of <- function(fields) {
  name <- pb_text(fields, 1)
  type <- pb_first(fields, 2)
  shape <- NULL
  if (!is.null(type)) {
    tensor <- pb_first(pb_parse(type), 1)
    if (!is.null(tensor)) {
      dims <- pb_first(pb_parse(tensor), 2)
      if (!is.null(dims)) {
        shape <- vapply(pb_get(pb_parse(dims), 1), function(d) {
          value <- pb_first(pb_parse(d$value), 1)
          if (is.null(value)) NA_real_ else value
        }, 0)
      }
    }
  }
  list(name = name, shape = shape)
}

# The selu layers of the node at `i` (and of an Add after a MatMul): a list
# of list(make = function(model) model with the layer added, weights, op),
# the next node's index and the chain's new tensor.
onnx_node_layer <- function(node, nodes, i, constant, bad, opset) {
  attrs <- node$attrs
  attr_or <- function(name, default) if (is.null(attrs[[name]])) default else attrs[[name]]
  refuse <- function(what) {
    bad(sprintf("has the operator %s with %s, which selu's layers do not have.", node$op, what))
  }
  only <- function(allowed) {
    extra <- setdiff(names(attrs), allowed)
    if (length(extra)) refuse(sprintf("the attribute \"%s\"", extra[1]))
  }
  layer <- function(make, weights = NULL) list(make = make, weights = weights, op = node$op)
  out <- function(layers, next_node = i + 1L, output = node$outputs[1]) {
    list(layers = layers, next_node = next_node, output = output)
  }
  same <- function(a, b) isTRUE(abs(a - b) <= 1e-6 * abs(b))
  switch(node$op,
    Gemm = {
      only(c("alpha", "beta", "transA", "transB"))
      if (!same(attr_or("alpha", 1), 1)) refuse(sprintf("alpha = %g", attrs$alpha))
      if (!same(attr_or("beta", 1), 1)) refuse(sprintf("beta = %g", attrs$beta))
      if (attr_or("transA", 0) != 0) refuse("transA = 1")
      kernel <- constant(node$inputs[2], node)
      if (attr_or("transB", 0) != 0) kernel <- t(kernel)
      bias <- if (length(node$inputs) >= 3 && nzchar(node$inputs[3])) as.vector(constant(node$inputs[3], node))
      if (!is.null(bias) && length(bias) == 1 && ncol(kernel) > 1) bias <- rep(bias, ncol(kernel))
      units <- ncol(kernel)
      use_bias <- !is.null(bias)
      out(list(layer(function(m) layer_dense(m, units, use_bias = use_bias),
                     c(list(kernel), if (use_bias) list(bias)))))
    },
    MatMul = {
      kernel <- constant(node$inputs[2], node)
      if (length(dim(kernel)) != 2) refuse("a weight that is not a matrix")
      units <- ncol(kernel)
      following <- if (i < length(nodes)) nodes[[i + 1L]]
      if (!is.null(following) && following$op == "Add" && length(following$inputs) == 2 &&
          following$inputs[1] == node$outputs[1] && !is.null(tryCatch(constant(following$inputs[2], following), error = function(e) NULL))) {
        bias <- as.vector(constant(following$inputs[2], following))
        if (length(bias) == 1) bias <- rep(bias, units)
        return(out(list(layer(function(m) layer_dense(m, units), list(kernel, bias))),
                   i + 2L, following$outputs[1]))
      }
      out(list(layer(function(m) layer_dense(m, units, use_bias = FALSE), list(kernel))))
    },
    Relu = , Sigmoid = , Tanh = {
      only(character(0))
      name <- c(Relu = "relu", Sigmoid = "sigmoid", Tanh = "tanh")[[node$op]]
      out(list(layer(function(m) layer_activation(m, name))))
    },
    Selu = {
      only(c("alpha", "gamma"))
      if (!same(attr_or("alpha", SELU_ALPHA), SELU_ALPHA)) refuse(sprintf("alpha = %g", attrs$alpha))
      if (!same(attr_or("gamma", SELU_SCALE), SELU_SCALE)) refuse(sprintf("gamma = %g", attrs$gamma))
      out(list(layer(function(m) layer_activation(m, "selu"))))
    },
    Elu = {
      only("alpha")
      alpha <- attr_or("alpha", 1)
      out(list(layer(function(m) layer_activation_elu(m, alpha = alpha))))
    },
    LeakyRelu = {
      only("alpha")
      alpha <- attr_or("alpha", 0.01)
      out(list(layer(function(m) layer_activation_leaky_relu(m, alpha = alpha))))
    },
    ThresholdedRelu = {
      only("alpha")
      theta <- attr_or("alpha", 1)
      out(list(layer(function(m) layer_activation_thresholded_relu(m, theta = theta))))
    },
    PRelu = {
      slope <- constant(node$inputs[2], node)
      out(list(layer(function(m) {
        shape <- m$output_shape[-1]
        dims <- data_shape(slope)
        if (length(dims) < length(shape)) dims <- c(rep(1L, length(shape) - length(dims)), dims)
        shared <- which(dims == 1 & shape != 1) + 1L
        layer_activation_parametric_relu(m, shared_axes = if (length(shared)) shared)
      }, list(slope))))
    },
    Softmax = {
      only("axis")
      old <- !is.na(opset) && opset < 13
      axis <- attr_or("axis", if (old) 1 else -1)
      out(list(layer(function(m) {
        rank <- length(m$output_shape)
        # before opset 13, Softmax ran over all the axes from `axis` on, flattened
        if (old && (if (axis >= 0) axis else rank + axis) != rank - 1) {
          refuse(sprintf("axis = %g on input of rank %d in opset %g (over the axes from it on)",
                         axis, rank, opset))
        }
        layer_activation_softmax(m, axis = if (axis >= 0) axis + 1L else axis)
      })))
    },
    BatchNormalization = {
      only(c("epsilon", "momentum", "training_mode", "spatial"))
      if (attr_or("training_mode", 0) != 0) refuse("training_mode = 1")
      epsilon <- attr_or("epsilon", 1e-5)
      weights <- lapply(node$inputs[2:5], function(n) as.vector(constant(n, node)))
      out(list(layer(function(m) layer_batch_normalization(m, axis = 2, epsilon = epsilon),
                     weights)))
    },
    LayerNormalization = {
      only(c("axis", "epsilon", "stash_type"))
      axis <- attr_or("axis", -1)
      epsilon <- attr_or("epsilon", 1e-5)
      gamma <- constant(node$inputs[2], node)
      beta <- if (length(node$inputs) >= 3 && nzchar(node$inputs[3])) constant(node$inputs[3], node)
      out(list(layer(function(m) {
        rank <- length(m$output_shape)
        first <- if (axis >= 0) axis + 1L else rank + 1L + axis
        layer_layer_normalization(m, axis = seq.int(first, rank), epsilon = epsilon,
                                  center = !is.null(beta))
      }, c(list(gamma), if (!is.null(beta)) list(beta)))))
    },
    Flatten = {
      only("axis")
      if (attr_or("axis", 1) != 1) refuse(sprintf("axis = %g", attrs$axis))
      out(list(layer(function(m) layer_flatten(m))))
    },
    # the identity at inference (a Dropout's mask output, if any, is left unread)
    Identity = , Dropout = out(list()),
    bad(sprintf("has the operator %s, which selu does not read; it reads %s.", node$op,
                paste(c("Gemm", "MatMul", "Add (after MatMul)", "Relu", "Sigmoid", "Tanh",
                        "Selu", "Elu", "LeakyRelu", "ThresholdedRelu", "PRelu", "Softmax",
                        "BatchNormalization", "LayerNormalization", "Flatten", "Identity",
                        "Dropout"), collapse = ", ")))
  )
}
