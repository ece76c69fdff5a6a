# Central finite differences, the independent reference for every gradient.

# The gradient of the scalar function f at x, by central differences with a
# step relative to each element.
numeric_gradient <- function(f, x, h = 1e-6) {
  g <- x
  g[] <- 0
  for (i in seq_along(x)) {
    step <- h * max(1, abs(x[i]))
    up <- x
    down <- x
    up[i] <- x[i] + step
    down[i] <- x[i] - step
    g[i] <- (f(up) - f(down)) / (2 * step)
  }
  g
}

# A layer's gradients by the engine's backward pass, for the loss
# sum(layer(x) * r): list(x = , weights = ), the weights' by name.
layer_gradients <- function(layer, x, r, training = FALSE) {
  self <- selu:::layer_state(layer)
  program <- selu:::model_program(list(self), dim(x), "gradient")
  engine <- selu:::new_engine(program, nrow(x), input_gradients = TRUE, io_bound = TRUE)
  selu:::engine_load(engine)
  run <- selu:::engine_call(engine, list(x), training, list(as.double(r)))
  weights <- list()
  for (k in seq_along(program$owners)) {
    owner <- program$owners[[k]]
    if (!is.null(run[[3]][[k]])) {
      weights[[owner$name]] <- selu:::keep_attributes(run[[3]][[k]], self$weights[[owner$name]])
    }
  }
  list(x = array(run[[2]][[1]], dim(x)), weights = weights)
}

# A weight of a layer replaced, for the finite differences of the loss in it.
with_weight <- function(layer, name, value, code) {
  self <- selu:::layer_state(layer)
  old <- self$weights[[name]]
  self$weights[[name]] <- value
  on.exit(self$weights[[name]] <- old)
  force(code)
}
