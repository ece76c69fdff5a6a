# Float32 models: the engine's single-precision path (src/engine.c, gemm.c),
# checked against the float64 path (an independent computation in another
# precision) within float32's tolerance, against finite differences, and for
# what float32 promises: float32 values out, the same results on any number
# of threads, the dtype kept through saving.

f32_data <- function(n = 240, inputs = 12, seed = 3) {
  set.seed(seed)
  x <- matrix(rnorm(n * inputs), n)
  list(x = x, classes = as.integer((x[, 1] > 0) + (x[, 2] + x[, 3] > 0.5)))
}

# x rounded to float32 values, its attributes kept.
rounded32 <- function(x) {
  x[] <- as_float32(as.vector(x))
  x
}

# Whether every element of x is a float32 value.
is_float32_valued <- function(x) {
  x <- as.vector(x)
  identical(x, as_float32(x))
}

dense_net <- function(dtype, inputs = 12, units = 16, activation = "selu") {
  keras_model_sequential(input_shape = inputs) |>
    layer_dense(units, activation = activation, dtype = dtype,
                kernel_initializer = initializer_lecun_normal(seed = 1)) |>
    layer_dense(units, activation = activation, dtype = dtype,
                kernel_initializer = initializer_lecun_normal(seed = 2)) |>
    layer_dense(3, activation = "softmax", dtype = dtype,
                kernel_initializer = initializer_lecun_normal(seed = 3))
}

# The largest difference of two lists of weights, relative to each weight's
# largest element.
weights_gap <- function(a, b) {
  max(mapply(function(u, v) max(abs(u - v)) / max(abs(v), 1e-3), a, b))
}

train_net <- function(make, dtype, d, optimizer = optimizer_adam(0.005), epochs = 3,
                      batch_size = 32, threads = NULL) {
  if (!is.null(threads)) {
    old <- selu_threads(threads)
    on.exit(selu_threads(old))
  }
  model <- make(dtype)
  compile(model, optimizer = optimizer, loss = "sparse_categorical_crossentropy")
  set.seed(21)
  history <- fit(model, d$x, d$classes, epochs = epochs, batch_size = batch_size, verbose = 0)
  list(model = model, weights = get_weights(model), loss = history$metrics$loss)
}

test_that("float32 training follows float64 within float32's precision", {
  d <- f32_data()
  f64 <- train_net(dense_net, "float64", d)
  f32 <- train_net(dense_net, "float32", d)
  # the engine held the weights in float32
  expect_true(all(vapply(f32$weights, is_float32_valued, TRUE)))
  expect_false(all(vapply(f64$weights, is_float32_valued, TRUE)))
  expect_lt(weights_gap(f32$weights, f64$weights), 1e-4)
  expect_equal(f32$loss, f64$loss, tolerance = 1e-5)
  # predict() and evaluate() in float32, close to float64's
  p32 <- predict(f32$model, d$x)
  expect_true(is.double(p32) && is_float32_valued(p32))
  expect_equal(p32, predict(f64$model, d$x), tolerance = 1e-4)
  expect_equal(evaluate(f32$model, d$x, d$classes, verbose = 0),
               evaluate(f64$model, d$x, d$classes, verbose = 0), tolerance = 1e-4)
  # the optimizer's slots came back float32 values too
  state <- selu:::optimizer_state_env(selu:::model_state(f32$model)$compiled$optimizer)
  expect_true(all(vapply(unlist(state$slots, recursive = FALSE), is_float32_valued, TRUE)))
})

test_that("the portable float32 products and SGD with momentum follow float64", {
  d <- f32_data(n = 120)
  sgd <- function() optimizer_sgd(0.05, momentum = 0.9, nesterov = TRUE)
  f64 <- train_net(dense_net, "float64", d, optimizer = sgd(), epochs = 2)
  old <- options(selu.portable_sgemm = TRUE)
  on.exit(options(old))
  f32 <- train_net(dense_net, "float32", d, optimizer = sgd(), epochs = 2)
  expect_true(all(vapply(f32$weights, is_float32_valued, TRUE)))
  expect_lt(weights_gap(f32$weights, f64$weights), 1e-4)
})

test_that("float32 gradients match float64's and central finite differences", {
  d <- f32_data(n = 40, inputs = 5)
  m64 <- dense_net("float64", inputs = 5, units = 6)
  compile(m64, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  m32 <- dense_net("float32", inputs = 5, units = 6)
  compile(m32, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  # the same weights, float32 values, in both; the data too
  w <- lapply(get_weights(m64), rounded32)
  set_weights(m64, w)
  set_weights(m32, w)
  x <- rounded32(d$x)
  g64 <- selu:::model_gradients(m64, x, d$classes)
  g32 <- selu:::model_gradients(m32, x, d$classes)
  expect_equal(g32$loss, g64$loss, tolerance = 1e-6)
  # the two models' layers have names of their own: by position
  expect_length(g32$gradients, 6)
  for (k in seq_along(g64$gradients)) {
    scale <- max(abs(g64$gradients[[k]]))
    expect_lt(max(abs(g32$gradients[[k]] - g64$gradients[[k]])) / scale, 1e-5)
    expect_true(is_float32_valued(g32$gradients[[k]]))
  }
  # central differences of the float32 loss, whose rounding (about 1e-7 of
  # it) sets the step; on a smooth network, so that no step crosses a kink
  smooth <- dense_net("float32", inputs = 5, units = 6, activation = "tanh")
  compile(smooth, optimizer = "adam", loss = "sparse_categorical_crossentropy")
  w <- lapply(get_weights(smooth), rounded32)
  analytic <- selu:::model_gradients(smooth, x, d$classes)$gradients
  for (k in c(1, 3)) {
    loss_at <- function(weight) {
      set_weights(smooth, replace(w, k, list(weight)))
      evaluate(smooth, x, d$classes, batch_size = 40, verbose = 0)
    }
    numeric <- numeric_gradient(loss_at, w[[k]], h = 1e-2)
    expect_lt(max(abs(numeric - analytic[[k]])) / max(abs(analytic[[k]])), 2e-3)
  }
})

# A float32 network of every op kind: those without float32 kernels run on
# double copies, an R-side regularizer and constraint send Adam there too.
every_op_net32 <- function(dtype) {
  old <- k_set_floatx(dtype)
  on.exit(k_set_floatx(old))
  every_op_net(12)
}

test_that("a float32 network of every op trains close to float64, the same on 1 and 2 threads", {
  d <- f32_data(n = 300)
  one <- train_net(every_op_net32, "float32", d, epochs = 2, batch_size = 64, threads = 1)
  two <- train_net(every_op_net32, "float32", d, epochs = 2, batch_size = 64, threads = 2)
  expect_identical(two$weights, one$weights)
  expect_identical(two$loss, one$loss)
  expect_true(all(vapply(one$weights, is_float32_valued, TRUE)))
  f64 <- train_net(every_op_net32, "float64", d, epochs = 2, batch_size = 64)
  expect_lt(weights_gap(one$weights, f64$weights), 1e-3)
  expect_lte(max(sqrt(colSums(one$weights[[8]]^2))), 2 * (1 + 1e-6))
})

test_that("float32 Dense training is bit for bit the same on 1 and 2 threads", {
  d <- f32_data(n = 600, inputs = 40)
  net <- function(dtype) {
    keras_model_sequential(input_shape = 40) |>
      layer_dense(64, activation = "selu", dtype = dtype,
                  kernel_initializer = initializer_lecun_normal(seed = 4)) |>
      layer_dense(3, activation = "softmax", dtype = dtype,
                  kernel_initializer = initializer_lecun_normal(seed = 5))
  }
  one <- train_net(net, "float32", d, epochs = 2, batch_size = 128, threads = 1)
  two <- train_net(net, "float32", d, epochs = 2, batch_size = 128, threads = 2)
  expect_identical(two$weights, one$weights)
  expect_identical(predict(two$model, d$x), predict(one$model, d$x))
})

test_that("other optimizers and clipping train float32 models through double copies", {
  d <- f32_data(n = 120)
  for (make_opt in list(function() optimizer_rmsprop(0.01),
                        function() optimizer_adam(0.01, clipnorm = 0.5, amsgrad = TRUE))) {
    f64 <- train_net(dense_net, "float64", d, optimizer = make_opt(), epochs = 2)
    f32 <- train_net(dense_net, "float32", d, optimizer = make_opt(), epochs = 2)
    expect_true(all(vapply(f32$weights, is_float32_valued, TRUE)))
    expect_lt(weights_gap(f32$weights, f64$weights), 1e-3)
  }
})

test_that("layer calls and backward() of float32 layers compute in float32", {
  set.seed(4)
  x <- matrix(rnorm(30), 10)
  dense32 <- layer_dense(units = 4, activation = "selu", dtype = "float32",
                         kernel_initializer = initializer_lecun_normal(seed = 6))
  y32 <- dense32(x)
  expect_true(is_float32_valued(y32))
  dense64 <- layer_dense(units = 4, activation = "selu",
                         kernel_initializer = initializer_lecun_normal(seed = 6))
  dense64(x)
  set_weights(dense64, get_weights(dense32))
  expect_equal(y32, dense64(rounded32(x)), tolerance = 1e-6)
  g32 <- backward(dense32, x, 1)
  expect_true(is_float32_valued(g32))
  expect_equal(g32, backward(dense64, rounded32(x), 1), tolerance = 1e-6)
  # R's NA and NaN stay what they are
  x[1, 1] <- NA
  x[2, 1] <- NaN
  y <- dense32(x)
  expect_true(all(is.na(y[1, ]) & !is.nan(y[1, ])))
  expect_true(all(is.nan(y[2, ])))
})

test_that("a mixed-dtype model computes in float64, rounding its float32 layers' outputs", {
  d <- f32_data(n = 120)
  mixed <- function(dtype) {
    keras_model_sequential(input_shape = 12) |>
      layer_dense(8, activation = "selu", kernel_initializer = initializer_lecun_normal(seed = 1)) |>
      layer_dense(3, activation = "softmax", dtype = "float32",
                  kernel_initializer = initializer_lecun_normal(seed = 2))
  }
  run <- train_net(mixed, NULL, d, epochs = 1)
  expect_false(all(vapply(run$weights, is_float32_valued, TRUE)))
  expect_true(is_float32_valued(predict(run$model, d$x)))
})

test_that("a float32 model keeps its dtype and predictions through save_model() and JSON", {
  d <- f32_data(n = 60)
  run <- train_net(dense_net, "float32", d, epochs = 1)
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  save_model(run$model, path)
  loaded <- load_model(path)
  expect_identical(vapply(loaded$layers, function(l) l$dtype, ""), rep("float32", 3))
  expect_identical(predict(loaded, d$x), predict(run$model, d$x))
  config <- get_config(loaded)
  expect_identical(unique(vapply(config$layers, function(l) l$config$dtype, "")), "float32")
  json <- model_to_json(run$model)
  expect_match(json, "\"dtype\": \"float32\"")
  # keras's float32 is read as k_floatx()
  expect_identical(model_from_json(json)$layers[[1]]$dtype, "float64")
  old <- k_set_floatx("float32")
  on.exit(k_set_floatx(old), add = TRUE)
  from_json <- model_from_json(json)
  expect_identical(from_json$layers[[1]]$dtype, "float32")
  set_weights(from_json, get_weights(run$model))
  expect_identical(predict(from_json, d$x), predict(run$model, d$x))
})

test_that("bad dtypes are errors naming the argument", {
  expect_error(k_set_floatx("float16"), class = "selu_error", regexp = "`floatx` must be one of")
  expect_error(k_set_floatx(32), class = "selu_error", regexp = "`floatx`")
  expect_error(k_set_floatx(NULL), class = "selu_error", regexp = "`floatx`.*not NULL")
  expect_error(k_set_floatx(), class = "selu_error", regexp = "`floatx`")
  expect_error(layer_dense(units = 2, dtype = "double"), class = "selu_error",
               regexp = "`dtype` must be one of \"float64\" or \"float32\"")
  expect_error(layer_input(shape = 2, dtype = c("float32", "float64")), class = "selu_error",
               regexp = "`dtype`")
  expect_identical(k_floatx(), "float64")
})
