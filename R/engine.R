# The bridge to the engine (src/engine.c): the one place that makes, feeds
# and reads engines. An engine is made for a program (R/program.R) and a
# largest batch; it holds copies of the weights (and, for training, the
# optimizer's slots), loaded from the layers and given back to them.

new_engine <- function(program, max_rows, training = NULL, input_gradients = FALSE,
                       io_bound = FALSE) {
  ptr <- .Call(C_selu_engine_new, program_list(program, training, input_gradients),
               as.integer(max_rows), io_bound)
  list(ptr = ptr, program = program, max_rows = max_rows, training = training)
}

# The engines that run `batches` inference batches side by side, a thread
# each: `engine` (its weights loaded) and as many more as selu_threads()
# allows, at most one per batch, each with buffers of its own and reading
# `engine`'s weights. Only `engine` when the forward pass calls R (a layer
# of an R function). The caller frees the others; while they run, the
# BLAS runs on one thread (bound_blas_threads(blas_limit = 1)). Rows are
# independent in inference, so a thread running whole batches gains more
# than the BLAS splitting each product: on two cores, 784-256-256-10's
# predict() in float32 took 0.7 of one thread's time on the BLAS's two
# threads, and about half with the batches on two.
engine_team <- function(engine, batches) {
  size <- min(selu_threads(), batches)
  if (size < 2 || !.Call(C_selu_engine_threadable, engine$ptr)) return(list(engine))
  c(list(engine), lapply(seq_len(size - 1L), function(i) {
    new_engine(engine$program, engine$max_rows, engine$training)
  }))
}

# The BLAS's thread limit for a team's run: one thread per engine when the
# engines run side by side.
team_blas_limit <- function(team) if (length(team) > 1) 1L else selu_threads()

# Frees the engine's buffers; the caller makes the engine and frees it on
# exit, so that memory does not wait for a garbage collection.
engine_free <- function(engine) {
  .Call(C_selu_engine_free, engine$ptr)
  invisible()
}

# The layers' weights, in the registry's order, as doubles.
program_weights <- function(program) {
  lapply(program$owners, function(owner) {
    w <- owner$layer$weights[[owner$name]]
    if (!is.double(w)) storage.mode(w) <- "double"
    w
  })
}

# Copies the layers' weights (and, with an optimizer, its slots and step
# count) into the engine.
engine_load <- function(engine, optimizer = NULL) {
  slots <- iterations <- NULL
  if (!is.null(optimizer)) {
    state <- optimizer_state_env(optimizer)
    slots <- lapply(state$slot_names, function(slot) {
      lapply(engine$program$keys, function(key) {
        v <- state$slots[[slot]][[key]]
        if (!is.null(v) && !is.double(v)) storage.mode(v) <- "double"
        v
      })
    })
    iterations <- as.double(state$iterations)
  }
  .Call(C_selu_engine_load, engine$ptr, program_weights(engine$program), slots, iterations)
  invisible(engine)
}

# Gives the engine's weights back to the layers (those that train or that
# the forward pass updates), and with an optimizer its slots and step count,
# all at once.
engine_store <- function(engine, optimizer = NULL) {
  stored <- .Call(C_selu_engine_store, engine$ptr, !is.null(optimizer))
  program <- engine$program
  changing <- vapply(program$params, function(p) isTRUE(p$trainable) || isTRUE(p$state), TRUE)
  state <- if (!is.null(optimizer)) optimizer_state_env(optimizer)
  suspendInterrupts({
    for (k in which(changing)) {
      owner <- program$owners[[k]]
      like <- owner$layer$weights[[owner$name]]
      owner$layer$weights[[owner$name]] <- keep_attributes(stored[[1]][[k]], like)
      if (!is.null(state) && isTRUE(program$params[[k]]$trainable)) {
        for (j in seq_along(state$slot_names)) {
          state$slots[[state$slot_names[j]]][[program$keys[k]]] <-
            keep_attributes(stored[[2]][[j]][[k]], like)
        }
      }
    }
    if (!is.null(state)) state$iterations <- stored[[3]]
  })
  invisible(engine)
}

# The engine's step count, the optimizer's while an epoch runs.
engine_iterations <- function(engine) .Call(C_selu_engine_iterations, engine$ptr)

# The dropout masks of a step of `rows` rows, by op (NULL for the others),
# drawn in op order by the layers, from their own streams or the session's.
draw_masks <- function(engine, rows) {
  program <- engine$program
  lapply(seq_along(program$dropout), function(k) {
    self <- program$dropout[[k]]
    if (is.null(self)) return(NULL)
    shape <- c(rows, program$shapes[[program$ops[[k]]$output + 1L]][-1])
    dropout_mask(self, shape)
  })
}

# `x` as the engine takes an input: doubles, the batch axis first.
as_engine_input <- function(x) {
  if (!is.double(x)) storage.mode(x) <- "double"
  x
}

# A one-batch call on whole arrays: the outputs (reshaped to `shapes`), and
# with `grads` the gradients of the inputs and of the params.
engine_call <- function(engine, xs, training = FALSE, grads = NULL) {
  masks <- if (training) draw_masks(engine, nrow_of(xs[[1]]))
  .Call(C_selu_engine_call, engine$ptr, lapply(xs, as_engine_input), training, masks, grads)
}
