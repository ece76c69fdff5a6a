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

# A layer's gradients by its backward pass, for the loss sum(layer(x) * r):
# list(x = , weights = ) as the layer contract gives them.
layer_gradients <- function(layer, x, r, training = FALSE) {
  self <- selu:::layer_state(layer)
  run <- self$forward_cached(self, x, training)
  self$backward(self, x, r, run$cache)
}

# A weight of a layer replaced, for the finite differences of the loss in it.
with_weight <- function(layer, name, value, code) {
  self <- selu:::layer_state(layer)
  old <- self$weights[[name]]
  self$weights[[name]] <- value
  on.exit(self$weights[[name]] <- old)
  force(code)
}
