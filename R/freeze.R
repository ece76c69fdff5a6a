#' Freeze and unfreeze weights
#'
#' A frozen layer (`trainable = FALSE`) keeps its weights when the model is
#' trained with [fit()], and [summary()][summary.selu_model()] counts them
#' as non-trainable parameters. `freeze_weights()` freezes a layer, or the
#' layers of a model from `from` to `to` (all of them by default);
#' `unfreeze_weights()` makes them trainable again. The change is made in
#' place and applies to the next [fit()].
#'
#' @param object A layer or a model.
#' @param from,to `NULL` (the first and the last layer), a layer's name or
#'   its position in `object$layers` (from 1).
#' @return `object`, invisibly.
#' @family training
#' @export
#' @examples
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(8, name = "hidden") |>
#'   layer_dense(1, name = "output")
#' freeze_weights(model, to = "hidden")
#' summary(model)
#' unfreeze_weights(model)
freeze_weights <- function(object, from = NULL, to = NULL) {
  set_trainable(object, from, to, FALSE, call = sys.call())
}

#' @rdname freeze_weights
#' @export
unfreeze_weights <- function(object, from = NULL, to = NULL) {
  set_trainable(object, from, to, TRUE, call = sys.call())
}

set_trainable <- function(object, from, to, trainable, call) {
  if (missing(object)) abort_missing("object", "a layer or a model", call = call)
  check_layer_or_model(object, call = call)
  if (inherits(object, "selu_layer")) {
    if (!is.null(from) || !is.null(to)) {
      selu_abort("`from` and `to` must be NULL when `object` is a layer.", call = call)
    }
    self <- layer_state(object)
    self$trainable <- trainable
    return(invisible(object))
  }
  steps <- model_state(object)$steps
  first <- if (is.null(from)) 1L else layer_position(steps, from, "from", call)
  last <- if (is.null(to)) length(steps) else layer_position(steps, to, "to", call)
  for (step in steps[seq_len(length(steps)) >= first & seq_len(length(steps)) <= last]) {
    step$trainable <- trainable
  }
  invisible(object)
}

layer_position <- function(steps, at, arg, call) {
  names <- vapply(steps, function(step) step$name, "")
  if (is.character(at) && length(at) == 1 && !is.na(at) && at %in% names) {
    return(match(at, names))
  }
  if (length(at) == 1 && is_whole(at) && at >= 1 && at <= length(steps)) return(as.integer(at))
  selu_abort(sprintf("`%s` must be NULL, a layer's name (%s) or a position from 1 to %d, not %s.",
                     arg, paste0("\"", utils::head(names, 5), "\"", collapse = ", "),
                     length(steps), describe(at)), call = call)
}
