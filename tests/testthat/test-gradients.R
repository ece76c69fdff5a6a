# Every layer's backward pass against central finite differences, for its
# input and for its weights, on the loss sum(layer(x) * r).

check_layer_gradients <- function(make_layer, x, training = FALSE, tolerance = 1e-6) {
  y <- make_layer()(x, training = training)
  set.seed(99)
  r <- array(rnorm(length(y)), dim(y))
  # a fresh layer, built, whose first draw the backward pass goes through
  layer <- make_layer()
  self <- selu:::layer_state(layer)
  selu:::build_layer(self, dim(x), call = NULL)
  grads <- layer_gradients(layer, x, r, training)
  # a layer that draws noise is made afresh for each evaluation: its seed
  # gives every evaluation the same draw
  loss <- function(input) sum(make_layer()(input, training = training) * r)
  expect_equal(grads$x, numeric_gradient(loss, x), tolerance = tolerance)
  for (name in names(self$weights)) {
    loss_w <- function(w) with_weight(layer, name, w, sum(layer(x, training = training) * r))
    expect_equal(grads$weights[[name]], numeric_gradient(loss_w, self$weights[[name]]),
                 tolerance = tolerance, label = name)
  }
  invisible(grads)
}

# inputs away from the kinks of the piecewise activations
away_from_kinks <- function(n, rows = 4) {
  set.seed(3)
  x <- matrix(rnorm(n * rows), rows, n)
  x[abs(x) < 0.05] <- 0.3
  x[abs(x - 1) < 0.05] <- 1.3
  x
}

test_that("dense layers' gradients match finite differences, for x and for the weights", {
  x <- away_from_kinks(5)
  for (activation in c("linear", "selu", "elu", "relu", "sigmoid", "tanh", "softmax",
                       "leaky_relu")) {
    make <- function() {
      layer_dense(units = 3, activation = activation, input_shape = 5,
                  kernel_initializer = initializer_lecun_normal(seed = 1),
                  bias_initializer = initializer_constant(0.1))
    }
    grads <- check_layer_gradients(make, x)
    expect_named(grads$weights, c("kernel", "bias"))
  }
  # without a bias, and on input of rank 3 (along the last axis)
  check_layer_gradients(function() {
    layer_dense(units = 2, use_bias = FALSE, kernel_initializer = initializer_lecun_normal(seed = 2))
  }, x)
  set.seed(4)
  x3 <- array(rnorm(2 * 3 * 4), c(2, 3, 4))
  grads <- check_layer_gradients(function() {
    layer_dense(units = 2, activation = "tanh", kernel_initializer = initializer_lecun_normal(seed = 5))
  }, x3)
  expect_identical(dim(grads$x), c(2L, 3L, 4L))
})

test_that("every activation layer's gradient matches finite differences", {
  x <- away_from_kinks(6)
  makers <- list(
    function() layer_activation_selu(),
    function() layer_activation(activation = "elu"),
    function() layer_activation(activation = "sigmoid"),
    function() layer_activation(activation = "tanh"),
    function() layer_activation(activation = "softmax"),
    function() layer_activation(activation = "linear"),
    function() layer_activation_elu(alpha = 0.7),
    function() layer_activation_leaky_relu(alpha = 0.1),
    function() layer_activation_relu(max_value = 1.5, negative_slope = 0.2, threshold = 0.5),
    function() layer_activation_thresholded_relu(theta = 0.5),
    function() layer_activation_softmax(axis = 1),
    function() layer_activation_softmax()
  )
  for (make in makers) check_layer_gradients(make, x)
})

test_that("PReLU's gradients match finite differences, alpha shared or not", {
  set.seed(5)
  x <- array(rnorm(3 * 4 * 2), c(3, 4, 2))
  x[abs(x) < 0.05] <- 0.3
  for (shared in list(NULL, 2L, c(2L, 3L))) {
    grads <- check_layer_gradients(function() {
      layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.25),
                                       shared_axes = shared)
    }, x)
    expect_named(grads$weights, "alpha")
  }
})

test_that("dropout and alpha dropout's gradients go through the forward pass's draw", {
  x <- away_from_kinks(50, rows = 6)
  for (make in list(function() layer_dropout(rate = 0.4, seed = 11),
                    function() layer_alpha_dropout(rate = 0.4, seed = 11),
                    function() layer_dropout(rate = 0.3, noise_shape = c(1, NA), seed = 2))) {
    grads <- check_layer_gradients(make, x, training = TRUE)
    # the draw dropped some units: their gradient is 0
    expect_true(any(grads$x == 0))
    expect_true(any(grads$x != 0))
  }
  # each call draws afresh, and the gradient goes through the forward
  # pass's own draw: zero exactly where the unit was dropped
  layer <- layer_alpha_dropout(rate = 0.4, seed = 11)
  dropped <- function() {
    run <- selu:::run_graph(selu:::layer_graph(selu:::layer_state(layer), 1L), list(x),
                            training = TRUE, grad_outputs = list(1))
    run <- list(output = run$outputs[[1]], grad = run$grads[[1]])
    alpha_p <- -1.7580993408473768599402175208123
    a <- ((1 - 0.4) * (1 + 0.4 * alpha_p^2))^-0.5
    expect_equal(run$output[run$grad == 0], rep(a * alpha_p - a * alpha_p * 0.4,
                                                 sum(run$grad == 0)), tolerance = 1e-14)
    run$grad == 0
  }
  first <- dropped()
  second <- dropped()
  expect_true(any(first) && !all(first))
  expect_false(identical(first, second))
})

test_that("a whole network's gradient matches finite differences of its loss", {
  set.seed(7)
  x <- matrix(rnorm(8 * 5), 8, 5)
  y <- c(0, 1, 2, 1, 0, 2, 2, 1)
  model <- keras_model_sequential(input_shape = 5) |>
    layer_dense(6, kernel_initializer = "lecun_normal", activation = "selu",
                kernel_regularizer = regularizer_l2(0.01)) |>
    layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.2)) |>
    layer_dense(4, kernel_initializer = "lecun_normal", activation = "tanh") |>
    layer_dense(3, kernel_initializer = "lecun_normal", activation = "softmax",
                bias_initializer = initializer_constant(0.05))
  compile(model, optimizer = "sgd", loss = "sparse_categorical_crossentropy")
  step <- selu:::model_gradients(model, x, y)
  # the loss by its formula: the mean cross-entropy of the predictions and the penalty
  value <- function() {
    p <- predict(model, x)
    -mean(log(p[cbind(1:8, y + 1)])) + 0.01 * sum(get_weights(model)[[1]]^2)
  }
  expect_equal(step$loss, value(), tolerance = 1e-12)
  layers <- model$layers
  keys <- c("kernel", "bias")
  expect_named(step$gradients, c(paste0(layers[[1]]$name, "/", keys),
                                 paste0(layers[[2]]$name, "/alpha"),
                                 paste0(layers[[3]]$name, "/", keys),
                                 paste0(layers[[4]]$name, "/", keys)), ignore.order = TRUE)
  for (key in names(step$gradients)) {
    layer <- Find(function(l) startsWith(key, paste0(l$name, "/")), layers)
    name <- sub(".*/", "", key)
    f <- function(w) with_weight(layer, name, w, value())
    expect_equal(step$gradients[[key]], numeric_gradient(f, layer$weights[[name]]),
                 tolerance = 1e-6, label = key)
  }
})
