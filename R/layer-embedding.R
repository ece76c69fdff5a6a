#' Embedding layer
#'
#' keras' `Embedding`: each whole number `i` of the input, from 0 to
#' `input_dim - 1` as in keras, becomes row `i + 1` of a trained matrix of
#' `input_dim` rows and `output_dim` columns. It gives a factor or a code of
#' many levels a learned representation: `as.integer(f) - 1` are its ids.
#'
#' The ids are R integers or doubles that are whole numbers; an id outside
#' 0 to `input_dim - 1` is an error that names it (keras's CPU kernels fail
#' too; its GPU kernels give zeros). selu has no masking: `mask_zero` must
#' be `FALSE`.
#'
#' @inheritParams layer_activation_selu
#' @param input_dim The number of ids, a whole positive number.
#' @param output_dim The length of each id's vector, a whole positive number.
#' @param embeddings_initializer An initializer or its name; `"uniform"`,
#'   the default, is keras's uniform from -0.05 to 0.05.
#' @param embeddings_regularizer,activity_regularizer `NULL` or a
#'   regularizer ([regularizer_l2()] and its siblings).
#' @param embeddings_constraint `NULL` or a constraint
#'   ([constraint_maxnorm()] and its siblings).
#' @param mask_zero `FALSE`: keras's masking of id 0 is not in selu.
#' @param input_length `NULL` or the number of ids per sample, a whole
#'   positive number: the input shape, when `input_shape` is not given.
#' @param sparse `FALSE`, as keras's default.
#' @param weights `NULL`, or `list(embeddings)` to set when the layer is built.
#' @param ... Not used; an error if given.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object` (see [layer_activation_selu()]).
#' @section Shape:
#' Input: (batch, ...) of ids. Output: (batch, ..., output_dim).
#' @family layers
#' @export
#' @examples
#' colours <- factor(c("red", "green", "red", "blue"))
#' embed <- layer_embedding(input_dim = nlevels(colours), output_dim = 2)
#' embed(matrix(as.integer(colours) - 1L))
#'
#' model <- keras_model_sequential(input_shape = 1) |>
#'   layer_embedding(input_dim = 3, output_dim = 2) |>
#'   layer_flatten() |>
#'   layer_dense(1)
#' predict(model, matrix(c(0, 2, 1)))
layer_embedding <- function(object, input_dim, output_dim, embeddings_initializer = "uniform",
                            embeddings_regularizer = NULL, activity_regularizer = NULL,
                            embeddings_constraint = NULL, mask_zero = FALSE, input_length = NULL,
                            sparse = FALSE, input_shape = NULL, batch_input_shape = NULL,
                            batch_size = NULL, dtype = NULL, name = NULL, trainable = NULL,
                            weights = NULL, ...) {
  call <- sys.call()
  if (!missing(object)) force(object)
  check_empty_dots(list(...), call = call)
  if (missing(input_dim)) abort_missing("input_dim", "the number of ids, a whole positive number")
  if (missing(output_dim)) {
    abort_missing("output_dim", "the length of each id's vector, a whole positive number")
  }
  input_dim <- check_count(input_dim, "input_dim", call = call)
  output_dim <- check_count(output_dim, "output_dim", call = call)
  if (identical(embeddings_initializer, "uniform")) {
    embeddings_initializer <- initializer_random_uniform(-0.05, 0.05)
  }
  init <- as_initializer(embeddings_initializer, "embeddings_initializer", call)
  regularizer <- as_regularizer(embeddings_regularizer, "embeddings_regularizer", call)
  activity <- as_regularizer(activity_regularizer, "activity_regularizer", call)
  constraint <- as_constraint(embeddings_constraint, "embeddings_constraint", call)
  if (!identical(check_flag(mask_zero, "mask_zero", call = call), FALSE)) {
    selu_abort("`mask_zero` must be FALSE: selu has no masking.", call = call)
  }
  if (!identical(check_flag(sparse, "sparse", call = call), FALSE)) {
    selu_abort("`sparse` must be FALSE: selu's embeddings are dense.", call = call)
  }
  if (!is.null(input_length)) {
    input_length <- check_count(input_length, "input_length", call = call)
    if (is.null(input_shape) && is.null(batch_input_shape)) input_shape <- input_length
  }
  layer <- do.call(create_layer, c(list("Embedding", "embedding"), common_args(), list(
    output_shape = function(self, shape) c(shape, output_dim),
    build = function(self, shape, call, what) {
      check_weight_size(c(input_dim, output_dim),
                        sprintf("The embeddings of an Embedding layer for %s", what), call = call)
      self$weights <- list(embeddings = init(c(input_dim, output_dim)))
    },
    config = list(input_dim = input_dim, output_dim = output_dim,
                  embeddings_initializer = get_config(init),
                  embeddings_regularizer = config_or_null(regularizer),
                  activity_regularizer = config_or_null(activity),
                  embeddings_constraint = config_or_null(constraint), mask_zero = FALSE,
                  input_length = input_length),
    n_weights = 1L, call = call
  )), quote = TRUE)
  self <- layer_state(layer)
  self$regularizers <- list(embeddings = regularizer)
  self$constraints <- list(embeddings = constraint)
  self$activity_regularizer <- activity
  finish_layer(missing(object), object, layer, call)
}

# Ids for the embedding layers a program reads straight from its inputs,
# checked: whole numbers from 0 below each layer's input_dim.
check_embedding_ids <- function(program, xs, args, call) {
  for (op in program$ops) {
    if (op$kind != "embedding") next
    k <- match(op$inputs, program$inputs)
    if (is.na(k)) next
    ids <- xs[[k]]
    bad <- which(!(is.finite(ids) & ids == trunc(ids) & ids >= 0 & ids < op$input_dim))[1]
    if (!is.na(bad)) {
      selu_abort(sprintf(
        "`%s` must hold ids from 0 to %d for an embedding of %d ids, but element %d is %s.",
        args[k], op$input_dim - 1L, op$input_dim, bad, format(ids[bad])), call = call)
    }
  }
  invisible(xs)
}

embedding_from_config <- function(config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", "input_dim",
                                "output_dim", "embeddings_initializer", "embeddings_regularizer",
                                "activity_regularizer", "embeddings_constraint", "mask_zero",
                                "input_length"), call = call)
  args$embeddings_initializer <- initializer_from_config(args$embeddings_initializer, call)
  args$embeddings_regularizer <- regularizer_from_config(args$embeddings_regularizer, call)
  args$activity_regularizer <- regularizer_from_config(args$activity_regularizer, call)
  args$embeddings_constraint <- constraint_from_config(args$embeddings_constraint, call)
  do.call(layer_embedding, args, quote = TRUE)
}
