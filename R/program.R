# Models and layers compile to programs that the engine (src/engine.c) runs.
#
# A program is a list:
# * `slots`: the width (elements per sample) of each value that flows
#   between ops; a slot holds a batch, its first axis the rows, as R stores
#   an array.
# * `ops`: in the order they run, each a list with its `kind` ("dense",
#   "activation", "softmax", "prelu", "dropout", "alpha_dropout",
#   "batch_norm", "layer_norm", "r_function"), its `inputs` and `output`
#   slots, its `params` (indices into `params`, -1 for one a layer goes
#   without) and its attributes (`units`, `kernel`, `epsilon`, `feature`, ...).
# * `params`: the registry of weights, one entry per layer weight however
#   many ops use it (a layer called twice shares its weights), keyed
#   "<layer>/<weight>" as saving and keras name them: size, whether it
#   trains, whether the forward pass updates it (batch normalization's
#   moving statistics), its regularizer's factors and its constraint.
# * `inputs`, `outputs`: the slots of the model's inputs and outputs.
# * `training`: for fit() and evaluate(), each output's loss and the
#   optimizer.
# * `f32`: whether the engine computes in float32, its buffers floats: when
#   every layer (input layers aside) has dtype "float32". A model mixing
#   dtypes computes in float64, its float32 layers' outputs rounded to
#   float32 values.
# Slot and param indices count from 0, as C does.

new_program <- function(mode) {
  program <- new.env(parent = emptyenv())
  # "predict" (inference), "call" (a forward pass, and the input's gradient),
  # "gradient" (the weights' gradients too) or "train"
  program$mode <- mode
  program$widths <- numeric()
  program$shapes <- list()
  program$ops <- list()
  program$params <- list()
  program$keys <- character()
  program$owners <- list()
  program$dropout <- list() # by op: the dropout layer drawing its mask, or NULL
  program$dtypes <- character() # the layers', input layers aside
  program
}

add_slot <- function(program, shape) {
  program$widths <- c(program$widths, prod(shape[-1]))
  program$shapes <- c(program$shapes, list(shape))
  length(program$widths) - 1L
}

add_op <- function(program, kind, input, output, ..., params = integer(), layer = NULL) {
  program$ops <- c(program$ops, list(list(kind = kind, inputs = as.integer(input),
                                          output = as.integer(output),
                                          params = as.integer(params), ...)))
  program$dropout <- c(program$dropout, list(layer))
  invisible(length(program$ops))
}

# The index of a layer's weight in the registry, added the first time.
param_index <- function(program, self, name) {
  key <- weight_key(self, name)
  at <- match(key, program$keys)
  if (!is.na(at)) return(at - 1L)
  w <- self$weights[[name]]
  entry <- list(size = length(w),
                trainable = program$mode %in% c("train", "gradient") && self$trainable &&
                  !name %in% self$non_trainable,
                state = program$mode != "predict" && name %in% self$non_trainable)
  reg <- self$regularizers[[name]]
  if (!is.null(reg)) entry[c("l1", "l2")] <- as.list(penalty_factors(attr(reg, "config")))
  constraint <- self$constraints[[name]]
  if (!is.null(constraint)) {
    entry <- c(entry, constraint_spec(attr(constraint, "class_name"), attr(constraint, "config"),
                                      data_shape(w)))
  }
  program$params <- c(program$params, list(entry))
  program$keys <- c(program$keys, key)
  program$owners <- c(program$owners, list(list(layer = self, name = name)))
  length(program$keys) - 1L
}

weight_key <- function(step, name) paste0(step$name, "/", name)

# --- models and layers to programs --------------------------------------------

# A graph is a model's layers as calls: list(inputs = tensor ids, outputs =
# tensor ids, nodes = list(list(layer, inputs = tensor ids, output = tensor
# id)), the nodes in an order where each comes after those it reads.

# The program of a graph for inputs of shapes `shapes` (batch axis
# included), each layer built for its input on the way.
graph_program <- function(graph, shapes, mode, call = NULL) {
  program <- new_program(mode)
  slots <- integer(0)
  for (k in seq_along(graph$inputs)) {
    slots[as.character(graph$inputs[k])] <- add_slot(program, shapes[[k]])
  }
  for (node in graph$nodes) {
    input <- unname(slots[as.character(node$inputs)])
    in_shapes <- program$shapes[input + 1L]
    build_layer(node$layer, if (takes_several(node$layer)) in_shapes else in_shapes[[1]],
                call = call)
    if (!identical(node$layer$class_name, "InputLayer")) {
      program$dtypes <- c(program$dtypes, node$layer$dtype)
    }
    slots[as.character(node$output)] <- layer_ops(node$layer, program, input)
  }
  program$inputs <- unname(slots[as.character(graph$inputs)])
  program$outputs <- unname(slots[as.character(graph$outputs)])
  program
}

# A chain of layers as a graph: input 0, the output of step i is i.
chain_graph <- function(steps) {
  list(inputs = 0L, outputs = length(steps),
       nodes = lapply(seq_along(steps), function(i) {
         list(layer = steps[[i]], inputs = i - 1L, output = i)
       }))
}

# The program of a chain of steps for input of shape `shape`.
model_program <- function(steps, shape, mode, call = NULL) {
  graph_program(chain_graph(steps), list(shape), mode, call = call)
}

# Adds a layer's ops reading the slots `input` (one, or several for a
# merging layer); returns the slot of its output.
layer_ops <- function(self, program, input) {
  shape <- program$shapes[[input[1] + 1L]]
  kind <- layer_kinds[[self$class_name]]
  if (is.null(kind)) {
    selu_abort(sprintf("internal error: no ops for a %s layer.", self$class_name),
               kind = "internal")
  }
  kind(self, program, input, shape)
}

single <- function(self) identical(self$dtype, "float32")

# An op with the output slot it makes, of `shape`.
op_to_new_slot <- function(program, kind, input, shape, ...) {
  output <- add_slot(program, shape)
  add_op(program, kind, input, output, ...)
  output
}

# The ops of an activation by name (with keras' default parameters) or R
# function, reading `input`.
activation_ops <- function(program, activation, input, shape, single) {
  if (is.function(activation)) {
    return(op_to_new_slot(program, "r_function", input, shape,
                          fun = r_function_op(activation, shape, single)))
  }
  if (identical(activation, "softmax")) {
    return(softmax_op(program, input, shape, length(shape), single))
  }
  params <- switch(activation, elu = c(1, 0, 0), relu = c(Inf, 0, 0), leaky_relu = c(0.2, 0, 0),
                   c(0, 0, 0))
  op_to_new_slot(program, "activation", input, shape, single = single, kernel = activation,
                 kernel_params = params)
}

# An R function as an op: list(forward, backward) for the engine, forward
# taking a batch of `rows` rows as doubles and returning the function's
# values, checked.
r_function_op <- function(fun, shape, single) {
  kernels <- r_activation(fun)
  list(function(x, rows) {
    dim(x) <- c(rows, shape[-1])
    as.double(kernels$forward(x, single))
  }, kernels$backward)
}

# Softmax along `axis` (from 1, the batch axis) of a batch of shape `shape`:
# the sample's elements before the axis (`pre`), along it (`len`) and after
# it (`post`).
softmax_op <- function(program, input, shape, axis, single) {
  if (axis == 1L) {
    return(op_to_new_slot(program, "softmax", input, shape, single = single, batch_axis = TRUE))
  }
  dims <- shape[-1]
  op_to_new_slot(program, "softmax", input, shape, single = single,
                 pre = prod(dims[seq_len(axis - 2L)]), len = dims[axis - 1L],
                 post = prod(dims[-seq_len(axis - 1L)]))
}

# Each position of a sample (dims, column-major) mapped to the linear index
# of its coordinates along `axes` (of dims, from 1): the feature a
# normalization's gamma and beta, or PReLU's alpha, give it.
position_map <- function(dims, axes) {
  width <- prod(dims)
  if (!length(axes)) return(list(map = integer(width), count = 1L))
  coords <- arrayInd(seq_len(width), dims) - 1L
  strides <- cumprod(c(1, dims[axes]))[seq_along(axes)]
  list(map = as.integer(coords[, axes, drop = FALSE] %*% strides), count = as.integer(prod(dims[axes])))
}

# The ops of each layer class: function(self, program, input, shape) adding
# the layer's ops and returning its output slot (`input`: its input slots,
# `shape`: the first one's shape).
layer_kinds <- list(
  InputLayer = function(self, program, input, shape) input,
  Dense = function(self, program, input, shape) {
    config <- self$config
    activation <- config$activation
    linear <- identical(activation, "linear")
    out_shape <- c(shape[-length(shape)], config$units)
    params <- c(param_index(program, self, "kernel"),
                if (config$use_bias) param_index(program, self, "bias") else -1L)
    z <- op_to_new_slot(program, "dense", input, out_shape, params = params,
                        inputs_width = shape[length(shape)], units = config$units,
                        single = linear && single(self))
    out <- if (linear) z else activation_ops(program, activation, z, out_shape, single(self))
    with_activity_penalty(program, self)
    out
  },
  Activation = function(self, program, input, shape) {
    activation_ops(program, self$config$activation, input, shape, single(self))
  },
  ELU = function(self, program, input, shape) {
    kernel_layer_ops(self, program, input, shape, "elu", c(self$config$alpha, 0, 0))
  },
  LeakyReLU = function(self, program, input, shape) {
    kernel_layer_ops(self, program, input, shape, "leaky_relu", c(self$config$alpha, 0, 0))
  },
  ReLU = function(self, program, input, shape) {
    config <- self$config
    kernel_layer_ops(self, program, input, shape, "relu",
                     c(if (is.null(config$max_value)) Inf else config$max_value,
                       config$negative_slope, config$threshold))
  },
  ThresholdedReLU = function(self, program, input, shape) {
    kernel_layer_ops(self, program, input, shape, "thresholded_relu", c(self$config$theta, 0, 0))
  },
  Softmax = function(self, program, input, shape) {
    softmax_op(program, input, shape, check_axis(self$config$axis, length(shape), call = NULL),
               single(self))
  },
  PReLU = function(self, program, input, shape) {
    dims <- shape[-1]
    # alpha has the sample's shape but 1 along the shared axes
    map <- position_map(dims, which(data_shape(self$weights$alpha) == dims))
    op_to_new_slot(program, "prelu", input, shape, params = param_index(program, self, "alpha"),
                   single = single(self), feature = map$map, n_features = map$count)
  },
  Dropout = function(self, program, input, shape) {
    op_to_new_slot(program, "dropout", input, shape, single = single(self), layer = self)
  },
  AlphaDropout = function(self, program, input, shape) {
    op_to_new_slot(program, "alpha_dropout", input, shape, single = single(self),
                   a = self$alpha_dropout_a, b = self$alpha_dropout_b, layer = self)
  },
  BatchNormalization = function(self, program, input, shape) {
    map <- position_map(shape[-1], self$axes - 1L)
    params <- c(affine_params(program, self), param_index(program, self, "moving_mean"),
                param_index(program, self, "moving_variance"))
    op_to_new_slot(program, "batch_norm", input, shape, params = params, single = single(self),
                   feature = map$map, n_features = map$count, epsilon = self$config$epsilon,
                   momentum = self$config$momentum, batch_statistics = self$trainable)
  },
  LayerNormalization = function(self, program, input, shape) {
    dims <- shape[-1]
    axes <- self$axes - 1L
    feature <- position_map(dims, axes)
    group <- position_map(dims, setdiff(seq_along(dims), axes))
    op_to_new_slot(program, "layer_norm", input, shape, params = affine_params(program, self),
                   single = single(self), feature = feature$map, n_features = feature$count,
                   group = group$map, n_groups = group$count, epsilon = self$config$epsilon)
  },
  Flatten = function(self, program, input, shape) {
    dims <- shape[-1]
    if (length(dims) < 2) return(input) # already flat: nothing to move
    # keras flattens a sample's axes in row-major order, channels last
    order <- if (identical(self$config$data_format, "channels_first")) {
      c(seq_along(dims)[-1], 1L)
    } else seq_along(dims)
    kept <- dims[order]
    row_major <- arrayInd(seq_len(prod(dims)), rev(kept))[, rev(seq_along(kept)), drop = FALSE]
    coords <- row_major
    coords[, order] <- row_major
    op_to_new_slot(program, "gather", input, c(shape[1], as.integer(prod(dims))),
                   source = integer(prod(dims)), position = linear_index(coords, dims))
  },
  Embedding = function(self, program, input, shape) {
    out <- op_to_new_slot(program, "embedding", input, c(shape, self$config$output_dim),
                          params = param_index(program, self, "embeddings"),
                          input_dim = self$config$input_dim, single = single(self))
    with_activity_penalty(program, self)
    out
  },
  GaussianNoise = function(self, program, input, shape) {
    op_to_new_slot(program, "add_noise", input, shape, single = single(self), layer = self)
  },
  GaussianDropout = function(self, program, input, shape) {
    op_to_new_slot(program, "dropout", input, shape, single = single(self), layer = self)
  }
)

# The merging layers: each output position's source in each input.
merge_kinds <- list(
  Concatenate = function(self, program, input, shape) {
    shapes <- program$shapes[input + 1L]
    out_shape <- merged_shape(self, shapes)
    axis <- check_axis(self$config$axis, length(out_shape), call = NULL) - 1L
    dims <- out_shape[-1]
    coords <- arrayInd(seq_len(prod(dims)), dims)
    ends <- cumsum(vapply(shapes, function(s) as.integer(s[axis + 1L]), 1L))
    source <- findInterval(coords[, axis] - 1L, ends) # from 0
    starts <- c(0L, ends)[source + 1L]
    coords[, axis] <- coords[, axis] - starts
    position <- integer(nrow(coords))
    for (k in seq_along(shapes)) {
      at <- source == k - 1L
      position[at] <- linear_index(coords[at, , drop = FALSE], shapes[[k]][-1])
    }
    op_to_new_slot(program, "gather", input, out_shape, source = as.integer(source),
                   position = position)
  },
  Add = function(self, program, input, shape) merge_op(self, program, input, 0L),
  Multiply = function(self, program, input, shape) merge_op(self, program, input, 1L),
  Average = function(self, program, input, shape) merge_op(self, program, input, 2L)
)
layer_kinds <- c(layer_kinds, merge_kinds)

merge_op <- function(self, program, input, merge) {
  shapes <- program$shapes[input + 1L]
  out_shape <- merged_shape(self, shapes)
  dims <- out_shape[-1]
  coords <- arrayInd(seq_len(prod(dims)), dims)
  # an input of size 1 along an axis is read at 0 all along it
  position <- unlist(lapply(shapes, function(s) {
    own <- coords
    own[, s[-1] == 1] <- 1L
    linear_index(own, s[-1])
  }))
  op_to_new_slot(program, "merge", input, out_shape, merge = merge, position = position,
                 single = single(self))
}

# The column-major positions (from 0) of coordinates (from 1, a row each)
# in an array of dimensions `dims`.
linear_index <- function(coords, dims) {
  if (!length(dims)) return(integer(nrow(coords)))
  strides <- cumprod(c(1, dims))[seq_along(dims)]
  as.integer((coords - 1L) %*% strides)
}

kernel_layer_ops <- function(self, program, input, shape, kernel, params) {
  op_to_new_slot(program, "activation", input, shape, single = single(self), kernel = kernel,
                 kernel_params = as.double(params))
}

affine_params <- function(program, self) {
  c(if (!is.null(self$weights$gamma)) param_index(program, self, "gamma") else -1L,
    if (!is.null(self$weights$beta)) param_index(program, self, "beta") else -1L)
}

# A layer's activity regularizer, on the output of its last op.
with_activity_penalty <- function(program, self) {
  reg <- self$activity_regularizer
  if (is.null(reg)) return(invisible())
  factors <- penalty_factors(attr(reg, "config"))
  last <- length(program$ops)
  program$ops[[last]]$activity_l1 <- factors[["l1"]]
  program$ops[[last]]$activity_l2 <- factors[["l2"]]
  invisible()
}

# --- losses and the optimizer ---------------------------------------------------

loss_codes <- c(mean_squared_error = 0L, mean_absolute_error = 1L, huber = 2L,
                binary_crossentropy = 3L, categorical_crossentropy = 4L,
                sparse_categorical_crossentropy = 5L)

# The loss of the output in `slot` as the engine takes it: fused with a
# softmax (along the last axis) or sigmoid op that makes the output, whose
# input, the logits, it then reads.
loss_program_spec <- function(program, loss, slot, weight = 1) {
  spec <- loss_spec(loss)
  shape <- program$shapes[[slot + 1L]]
  out <- list(kind = loss_codes[[spec$kind]], from_logits = isTRUE(spec$from_logits),
              label_smoothing = if (is.null(spec$label_smoothing)) 0 else spec$label_smoothing,
              delta = if (is.null(spec$delta)) 1 else spec$delta, weight = weight,
              slot = slot, input = slot, classes = shape[length(shape)], fused = FALSE)
  maker <- Find(function(op) op$output == slot, program$ops)
  fusing <- unname(fused_activations[spec$kind])
  if (!is.null(maker) && !out$from_logits && !is.na(fusing) && is.null(maker$activity_l1) &&
      ((fusing == "softmax" && maker$kind == "softmax" && !isTRUE(maker$batch_axis) &&
        identical(maker$post, 1)) ||
       (fusing == "sigmoid" && identical(maker$kernel, "sigmoid"))) &&
      sum(vapply(program$ops, function(op) slot %in% op$inputs, TRUE)) == 0) {
    out$fused <- TRUE
    out$input <- maker$inputs[1]
  }
  out
}

# The engine's rules (src/engine.h); AdamW is Adam's, with the weight decay
# every optimizer applies.
optimizer_codes <- c(SGD = 0L, Adam = 1L, RMSprop = 2L, Adagrad = 3L, Nadam = 4L, Adamax = 5L,
                     Adadelta = 6L, Ftrl = 7L, AdamW = 1L)

optimizer_program_spec <- function(optimizer) {
  state <- optimizer_state_env(optimizer)
  clip <- if (!is.null(state$clipnorm)) 1L else if (!is.null(state$global_clipnorm)) 2L else
    if (!is.null(state$clipvalue)) 3L else 0L
  c(list(kind = optimizer_codes[[state$class_name]], clip = clip,
         clip_value = c(state$clipnorm, state$global_clipnorm, state$clipvalue, 0)[1],
         weight_decay = if (is.null(state$weight_decay)) NA_real_ else state$weight_decay),
    mget(state$own_keys, envir = state))
}

# The program as the engine takes it.
program_list <- function(program, training = NULL, input_gradients = FALSE) {
  list(slots = program$widths, ops = program$ops, params = program$params,
       inputs = as.integer(program$inputs), outputs = as.integer(program$outputs),
       training = training, input_gradients = input_gradients,
       f32 = program_in_float32(program),
       portable_gemm = isTRUE(getOption("selu.portable_sgemm")))
}

program_in_float32 <- function(program) {
  length(program$dtypes) > 0 && all(program$dtypes == "float32")
}

# --- constraints -------------------------------------------------------------------

constraint_codes <- c(MaxNorm = 1L, NonNeg = 2L, UnitNorm = 3L, MinMaxNorm = 4L)

# A constraint on a weight of shape `shape` as the engine takes it: its code
# and bounds, and each element's norm group (the positions along the other
# axes than the constraint's, which the norm runs over).
constraint_spec <- function(class_name, config, shape, call = NULL) {
  spec <- list(constraint = constraint_codes[[class_name]])
  if (class_name == "NonNeg") return(spec)
  rank <- length(shape)
  axes <- vapply(config$axis, check_axis, 1L, rank = rank, arg = "axis", call = call)
  if (anyDuplicated(axes)) {
    selu_abort(sprintf("`axis` (%s) names an axis twice for weights of rank %d.",
                       paste(config$axis, collapse = ", "), rank), call = call)
  }
  groups <- position_map(shape, setdiff(seq_len(rank), axes))
  c(spec, list(max_value = if (is.null(config$max_value)) 0 else config$max_value,
               min_value = if (is.null(config$min_value)) 0 else config$min_value,
               rate = if (is.null(config$rate)) 1 else config$rate,
               groups = groups$map, n_groups = groups$count))
}
