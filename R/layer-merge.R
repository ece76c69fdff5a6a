#' Layers that merge several inputs
#'
#' keras' merging layers, for functional models with several branches:
#' `layer_concatenate()` joins its inputs along `axis`; `layer_add()`,
#' `layer_multiply()` and `layer_average()` take their elementwise sum,
#' product and mean. As in keras, `inputs` is a list of symbolic tensors
#' (the layer applied to them gives a tensor) or of numeric arrays (the
#' layer applied to them gives an array); without `inputs`, the function
#' gives the layer, which is then called on such a list.
#'
#' The inputs of `layer_add()`, `layer_multiply()` and `layer_average()`
#' have one shape, or a size of 1 along an axis where others have more (it
#' is repeated along it). Those of `layer_concatenate()` have the same shape
#' but along `axis`.
#'
#' @param inputs Missing or `NULL` (to get the layer), or a list of at
#'   least two symbolic tensors or numeric arrays with as many rows.
#' @param ... More inputs (unnamed), or the layer's common arguments by
#'   name: `name`, `dtype`, `trainable`, `input_shape`, `batch_input_shape`,
#'   `batch_size`, `weights` (see [layer_activation_selu()]).
#' @param axis The axis to join along, counted from 1 for the batch axis
#'   (negative from the end: -1, the default, is the last, as keras' -1).
#' @return A layer, a symbolic tensor or an array, by `inputs`.
#' @section Shape:
#' Inputs: (batch, ...) each. Output: that shape; for `layer_concatenate()`
#' the sum of the inputs' sizes along `axis`.
#' @family layers
#' @export
#' @examples
#' a <- matrix(1:6, 2)
#' b <- matrix(7:10, 2)
#' layer_concatenate(list(a, b))
#' layer_add(list(a, a))
#' layer_average(list(a, a * 3))
#'
#' # in a functional model
#' x1 <- layer_input(shape = 3)
#' x2 <- layer_input(shape = 2)
#' out <- layer_concatenate(list(x1, x2)) |> layer_dense(1)
#' model <- keras_model(list(x1, x2), out)
#' model$output_shape
layer_concatenate <- function(inputs = NULL, ..., axis = -1L) {
  call <- sys.call()
  axis <- check_merge_axis(axis, call)
  merging_layer("Concatenate", "concatenate", "layer_concatenate", inputs, list(...),
                list(axis = axis), call)
}

#' @rdname layer_concatenate
#' @export
layer_add <- function(inputs = NULL, ...) {
  merging_layer("Add", "add", "layer_add", inputs, list(...), list(), sys.call())
}

#' @rdname layer_concatenate
#' @export
layer_multiply <- function(inputs = NULL, ...) {
  merging_layer("Multiply", "multiply", "layer_multiply", inputs, list(...), list(),
                sys.call())
}

#' @rdname layer_concatenate
#' @export
layer_average <- function(inputs = NULL, ...) {
  merging_layer("Average", "average", "layer_average", inputs, list(...), list(),
                sys.call())
}

merging_common_args <- c("input_shape", "batch_input_shape", "batch_size", "dtype", "name",
                         "trainable", "weights")

# A merging layer from the arguments of its function: the unnamed ones of
# `dots` are more inputs, the named ones the common layer arguments.
merging_layer <- function(class_name, base_name, fun_name, inputs, dots, config, call) {
  named <- if (is.null(names(dots))) rep(FALSE, length(dots)) else nzchar(names(dots))
  unknown <- setdiff(names(dots)[named], merging_common_args)
  if (length(unknown)) {
    selu_abort(sprintf("`%s` is not an argument of %s(); its arguments are `inputs`, %s.",
                       unknown[1], fun_name,
                       paste0("`", c(names(config), merging_common_args), "`", collapse = ", ")),
               call = call)
  }
  if (!is.null(inputs) && !is_tensor(inputs) && !is_numeric_data(inputs) &&
      !(is.list(inputs) && !is.object(inputs))) {
    selu_abort(sprintf(
      "`inputs` must be NULL or a list of symbolic tensors or numeric arrays, not %s.",
      describe(inputs)), call = call)
  }
  common <- stats::setNames(rep(list(NULL), length(merging_common_args)), merging_common_args)
  common[names(dots)[named]] <- dots[named]
  more <- unname(dots[!named])
  if (!is.null(inputs) && (is_tensor(inputs) || is_numeric_data(inputs))) inputs <- list(inputs)
  inputs <- c(inputs, more)
  layer <- do.call(create_layer, c(list(class_name, base_name), common, list(
    output_shape = function(self, shapes) merged_shape(self, shapes),
    config = config, call = call)), quote = TRUE)
  self <- layer_state(layer)
  self$merging <- TRUE
  if (!length(inputs)) return(layer)
  call_layer(layer_state(layer), inputs, training = FALSE, call = call, what = "`inputs`")
}

check_merge_axis <- function(axis, call) {
  if (!(length(axis) == 1 && is_whole(axis) && axis != 0 &&
        abs(axis) <= .Machine$integer.max)) {
    selu_abort(sprintf("`axis` must be a whole number other than 0, not %s.", describe(axis)),
               call = call)
  }
  if (axis == 1) {
    selu_abort("`axis` cannot be the batch axis, 1: axes count from 1 for the batch axis.",
               call = call)
  }
  as.integer(axis)
}

# The output shape of a merging layer for its inputs' shapes (a list).
merged_shape <- function(self, shapes) {
  ranks <- lengths(shapes)
  describe_shapes <- paste(vapply(shapes, format_shape, ""), collapse = ", ")
  if (any(ranks != ranks[1])) {
    selu_abort(sprintf("The `inputs` of a %s layer must have one rank, not the shapes %s.",
                       self$class_name, describe_shapes), kind = "shape")
  }
  rank <- ranks[1]
  dims <- do.call(rbind, shapes)
  if (self$class_name == "Concatenate") {
    axis <- check_axis(self$config$axis, rank, call = NULL)
    if (axis == 1) {
      selu_abort(sprintf("The `inputs` of a Concatenate layer along its last axis need one more than the batch axis, not the shapes %s.",
                         describe_shapes), kind = "shape")
    }
    others <- dims[, -axis, drop = FALSE]
    same <- apply(others, 2, function(d) length(unique(d[!is.na(d)])) <= 1)
    if (!all(same)) {
      selu_abort(sprintf("The `inputs` of a Concatenate layer along axis %d must have one shape but along it, not %s.",
                         axis, describe_shapes), kind = "shape")
    }
    out <- apply(dims, 2, function(d) if (all(is.na(d))) NA_integer_ else max(d, na.rm = TRUE))
    out[axis] <- if (anyNA(dims[, axis])) NA_integer_ else sum(dims[, axis])
    return(as.integer(out))
  }
  out <- integer(rank)
  for (j in seq_len(rank)) {
    d <- dims[, j]
    known <- unique(d[!is.na(d)])
    if (length(setdiff(known, 1)) > 1) {
      selu_abort(sprintf("The `inputs` of a %s layer must have one shape (or a size of 1 along an axis), not %s.",
                         self$class_name, describe_shapes), kind = "shape")
    }
    out[j] <- if (j == 1 && anyNA(d)) NA_integer_ else if (!length(known)) NA_integer_ else max(known)
  }
  out
}

merge_from_config <- function(config, call) {
  class_name <- attr(config, "class_name")
  own <- if (class_name == "Concatenate") "axis" else character()
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", own),
                      call = call)
  layer_function <- switch(class_name, Concatenate = layer_concatenate, Add = layer_add,
                           Multiply = layer_multiply, Average = layer_average)
  do.call(layer_function, args, quote = TRUE)
}
