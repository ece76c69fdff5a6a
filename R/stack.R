# The C stack (src/train.c): a model that is a chain of Dense layers trains
# one batch per .Call (forward pass, loss, backward pass and the optimizer's
# update) and predicts in one .Call, on buffers made once per fit(). The
# arithmetic is the R path's (train_step() and optimizer_apply()), so that
# which path runs is a matter of speed only. Other models, losses and layer
# options take the R path.

# The activations the C stack runs: softmax only on the last layer.
stack_activations <- c("linear", "selu", "elu", "relu", "leaky_relu", "sigmoid", "tanh",
                       "softmax")

# The model's layers as the C stack takes them, list(layers = an integer
# matrix of (inputs, units, use_bias, trainable, dropout) per Dense layer,
# the dropout after it being 0 (none), 1 (dropout) or 2 (alpha dropout),
# an Activation layer after a linear Dense layer taken as its activation,
# activations, dropout = the dropout layers' states by Dense layer (NULL
# where none), keys = the weights' keys, kernel then bias), or NULL when it
# cannot run the model.
stack_layers <- function(self) {
  steps <- self$steps
  if (!length(steps) || length(unique_steps(steps)) != length(steps)) return(NULL)
  layers <- matrix(0L, 0, 5)
  activations <- keys <- character()
  dropout <- list()
  for (i in seq_along(steps)) {
    step <- steps[[i]]
    if (step$class_name %in% c("Dropout", "AlphaDropout")) {
      count <- nrow(layers)
      if (!count || layers[count, 5] != 0L || i == length(steps) ||
          !is.null(step$config$noise_shape) || !identical(step$dtype, "float64")) {
        return(NULL)
      }
      layers[count, 5] <- if (step$class_name == "Dropout") 1L else 2L
      dropout[[count]] <- step
      next
    }
    if (identical(step$class_name, "Activation")) {
      # the activation of the linear Dense layer before it
      count <- nrow(layers)
      activation <- step$config$activation
      if (!count || activations[count] != "linear" || layers[count, 5] != 0L ||
          !is.character(activation) || !activation %in% stack_activations ||
          (activation == "softmax" && i < length(steps)) || !identical(step$dtype, "float64")) {
        return(NULL)
      }
      activations[count] <- activation
      next
    }
    activation <- step$config$activation
    if (!identical(step$class_name, "Dense") || !identical(step$dtype, "float64") ||
        !step$built || !is.character(activation) || !activation %in% stack_activations ||
        (activation == "softmax" && i < length(steps)) || !is.null(step$activity_regularizer) ||
        !all(vapply(step$regularizers, is.null, TRUE)) ||
        !all(vapply(step$constraints, is.null, TRUE))) {
      return(NULL)
    }
    kernel <- step$weights$kernel
    has_bias <- !is.null(step$weights$bias)
    layers <- rbind(layers, c(nrow(kernel), ncol(kernel), has_bias, isTRUE(step$trainable), 0L))
    activations <- c(activations, activation)
    dropout[nrow(layers)] <- list(NULL)
    keys <- c(keys, weight_key(step, c("kernel", if (has_bias) "bias")))
  }
  list(layers = layers, activations = activations, dropout = dropout, keys = keys,
       dense = Filter(function(step) step$class_name == "Dense", steps))
}

# The stack's weights, kernel then bias of each layer, as the C stack reads them.
stack_weights <- function(stack) {
  weights <- list()
  for (step in stack$dense) {
    weights <- c(weights, unname(step$weights[intersect(c("kernel", "bias"), names(step$weights))]))
  }
  lapply(weights, function(w) {
    if (!is.double(w)) storage.mode(w) <- "double"
    w
  })
}

# The output of the stack for every row of the double matrix x, in batches;
# with `logits`, list(output, the last layer's z).
stack_forward <- function(stack, x, batch_size, logits = FALSE) {
  .Call(C_selu_stack_forward, stack$layers, stack$activations, stack_weights(stack), x,
        as.integer(batch_size), logits)
}

# Whether the C stack can take data: a double matrix (an integer one would
# be copied whole).
stack_takes <- function(x) is.double(x) && length(dim(x)) == 2

# The loss's code for the C stack, or NULL: mean squared error, or a
# cross-entropy fused with the softmax or sigmoid output, without label
# smoothing.
stack_loss_code <- function(loss, plan, stack) {
  spec <- loss_spec(loss)
  last <- stack$activations[length(stack$activations)]
  if (spec$kind == "mean_squared_error") return(if (last != "softmax") 0L)
  if (!plan$fused || (!is.null(spec$label_smoothing) && spec$label_smoothing != 0)) return(NULL)
  c(binary_crossentropy = 1L, categorical_crossentropy = 2L,
    sparse_categorical_crossentropy = 3L)[[spec$kind]]
}

# A trainer for fit(), or NULL when the model, the loss or the data take
# the R path. Its weights and slots are loaded by stack_load() and given
# back to the model and the optimizer by stack_store().
stack_trainer <- function(self, plan, compiled, data, batch_size) {
  stack <- plan$stack
  if (is.null(stack) || !stack_takes(data$x) || ncol(data$x) != stack$layers[1, 1]) return(NULL)
  loss <- stack_loss_code(compiled$loss, plan, stack)
  if (is.null(loss) || (loss == 3L && !is.integer(data$y)) || (loss != 3L && !is.double(data$y))) {
    return(NULL)
  }
  state <- optimizer_state_env(compiled$optimizer)
  hyper <- switch(state$class_name,
    SGD = c(state$momentum, state$nesterov, 0, 0),
    Adam = c(state$beta_1, state$beta_2, state$epsilon, state$amsgrad),
    RMSprop = c(state$rho, state$momentum, state$epsilon, state$centered),
    Adagrad = c(state$initial_accumulator_value, 0, state$epsilon, 0))
  clips <- c(state$clipnorm, state$global_clipnorm, state$clipvalue)
  clip <- if (!is.null(state$clipnorm)) 1L else if (!is.null(state$global_clipnorm)) 2L else
    if (!is.null(state$clipvalue)) 3L else 0L
  codes <- c(as.integer(min(batch_size, data$n)), loss,
             match(state$class_name, c("SGD", "Adam", "RMSprop", "Adagrad")) - 1L, clip)
  settings <- c(hyper, if (is.null(state$weight_decay)) NA else state$weight_decay,
                if (clip) clips[1] else 0,
                if (state$class_name == "Adagrad") state$initial_accumulator_value else 0, 0)
  # alpha dropout's affine map, a (x + ...) + b, as layer_alpha_dropout() has it
  affine <- t(vapply(stack$dropout, function(step) {
    if (is.null(step) || step$class_name != "AlphaDropout") return(c(0, 0))
    c(step$alpha_dropout_a, step$alpha_dropout_b)
  }, c(0, 0)))
  ptr <- .Call(C_selu_trainer_new, stack$layers, stack$activations, codes, as.double(settings),
               affine)
  trainer <- list(ptr = ptr, stack = stack, state = state,
                  trainable = rep(stack$layers[, 4] == 1L, 1L + stack$layers[, 3]))
  stack_load(trainer)
  trainer
}

# Copies the model's weights (and, with `slots`, the optimizer's slots and
# step count) into the trainer.
stack_load <- function(trainer, slots = TRUE) {
  state <- trainer$state
  keys <- trainer$stack$keys
  kept <- if (slots) lapply(state$slot_names, function(slot) {
    unname(lapply(keys, function(key) {
      v <- state$slots[[slot]][[key]]
      if (!is.null(v) && !is.double(v)) storage.mode(v) <- "double"
      v
    }))
  })
  .Call(C_selu_trainer_load, trainer$ptr, stack_weights(trainer$stack), kept,
        if (slots) as.double(state$iterations))
  invisible(trainer)
}

# Gives the trainer's weights back to the model's layers, and with `slots`
# its slots and step count to the optimizer, all at once.
stack_store <- function(trainer, slots = TRUE) {
  stored <- .Call(C_selu_trainer_store, trainer$ptr, slots)
  state <- trainer$state
  keys <- trainer$stack$keys
  steps <- rep(trainer$stack$dense, 1L + trainer$stack$layers[, 3])
  names <- sub(".*/", "", keys)
  suspendInterrupts({
    for (k in which(trainer$trainable)) {
      like <- steps[[k]]$weights[[names[k]]]
      steps[[k]]$weights[[names[k]]] <- keep_attributes(stored[[1]][[k]], like)
      for (j in seq_along(stored[[2]])) {
        slot <- state$slot_names[j]
        state$slots[[slot]][[keys[k]]] <- keep_attributes(stored[[2]][[j]][[k]], like)
      }
    }
    if (slots) state$iterations <- stored[[3]]
  })
  invisible(trainer)
}

# One batch: list(loss, output, failure), the failure NULL or why no update
# was made (as train_step() and run_epoch() find it).
stack_step <- function(trainer, data, rows, output) {
  # the masks drawn as the layers draw them in the R path, in layer order
  stack <- trainer$stack
  masks <- lapply(seq_along(stack$dropout), function(i) {
    step <- stack$dropout[[i]]
    if (!is.null(step)) step$draw_mask(c(length(rows), stack$layers[i, 2]))
  })
  step <- .Call(C_selu_trainer_step, trainer$ptr, data$x, data$y, data$weights, as.integer(rows),
                as.double(trainer$state$learning_rate), masks, output)
  failure <- switch(step[[2]] + 1L, NULL, sprintf("the loss is %s", format(step[[1]])),
                    "the update makes weights that are not finite")
  list(loss = step[[1]], output = step[[3]], failure = failure)
}
