# Functional models with several inputs and outputs: training, evaluation,
# prediction and what they log; their gradients against finite
# differences; configurations, keras JSON and saving.

graph_data <- function(n = 120) {
  set.seed(7)
  numbers <- matrix(rnorm(n * 3), n)
  codes <- matrix(sample(0:3, n, TRUE))
  list(x = list(numbers = numbers, codes = codes),
       y = list(amount = numbers[, 1] - codes[, 1] / 2,
                kind = as.integer(numbers[, 2] > 0) + as.integer(codes[, 1] > 1)))
}

graph_model <- function() {
  numbers <- layer_input(shape = 3, name = "numbers")
  codes <- layer_input(shape = 1, name = "codes")
  embedded <- codes |> layer_embedding(4, 2, embeddings_initializer = initializer_random_normal(seed = 1)) |>
    layer_flatten()
  hidden <- layer_concatenate(list(numbers, embedded)) |>
    layer_dense(8, activation = "selu", kernel_initializer = initializer_lecun_normal(seed = 2))
  keras_model(list(numbers, codes),
              list(layer_dense(hidden, 1, name = "amount",
                               kernel_initializer = initializer_lecun_normal(seed = 3)),
                   layer_dense(hidden, 3, activation = "softmax", name = "kind",
                               kernel_initializer = initializer_lecun_normal(seed = 4))))
}

test_that("a model of two inputs and two outputs trains, logging each output", {
  d <- graph_data()
  model <- graph_model()
  expect_identical(model$input_shape, list(c(NA, 3L), c(NA, 1L)))
  expect_identical(model$output_shape, list(c(NA, 1L), c(NA, 3L)))
  compile(model, optimizer = optimizer_adam(0.02),
          loss = list(amount = "mse", kind = "sparse_categorical_crossentropy"),
          metrics = list(amount = "mae", kind = "accuracy"), loss_weights = c(1, 0.5))
  history <- fit(model, d$x, d$y, epochs = 25, batch_size = 16, verbose = 0,
                 validation_split = 0.25)
  expect_named(history$metrics, c("loss", "amount_loss", "kind_loss", "amount_mae",
                                  "kind_accuracy", "val_loss", "val_amount_loss",
                                  "val_kind_loss", "val_amount_mae", "val_kind_accuracy"))
  m <- history$metrics
  expect_lt(m$loss[25], m$loss[1] / 2)
  # the total is the weighted sum of the outputs' losses
  scores <- evaluate(model, d$x, d$y)
  expect_equal(unname(scores["loss"]), unname(scores["amount_loss"] + 0.5 * scores["kind_loss"]),
               tolerance = 1e-12)
  # each by its formula on the predictions
  p <- predict(model, d$x)
  expect_named(p, c("amount", "kind"))
  expect_equal(unname(scores["amount_loss"]), mean((p$amount - d$y$amount)^2), tolerance = 1e-12)
  expect_equal(unname(scores["kind_loss"]),
               -mean(log(p$kind[cbind(seq_along(d$y$kind), d$y$kind + 1)])), tolerance = 1e-12)
  expect_equal(unname(scores["kind_accuracy"]), mean(max.col(p$kind) - 1 == d$y$kind))
  # lists by position give the same as lists by name
  expect_identical(evaluate(model, unname(d$x), unname(d$y)), scores)
  expect_identical(predict(model, unname(d$x), batch_size = 7), p)
  expect_identical(model(d$x), p)
})

test_that("the gradient of the weighted losses matches finite differences", {
  d <- graph_data(20)
  model <- graph_model()
  compile(model, optimizer = "sgd", loss = list("mse", "sparse_categorical_crossentropy"),
          loss_weights = c(0.7, 1.3))
  run <- selu:::model_gradients(model, d$x, d$y)
  loss <- function() {
    p <- predict(model, d$x)
    0.7 * mean((p$amount - d$y$amount)^2) +
      1.3 * -mean(log(p$kind[cbind(seq_along(d$y$kind), d$y$kind + 1)]))
  }
  expect_equal(run$loss, loss(), tolerance = 1e-12)
  for (layer in model$layers) {
    for (name in names(layer$weights)) {
      key <- paste0(layer$name, "/", name)
      f <- function(w) with_weight(layer, name, w, loss())
      expect_equal(run$gradients[[key]], numeric_gradient(f, layer$weights[[name]]),
                   tolerance = 1e-6, label = key)
    }
  }
})

test_that("a layer called twice shares its weights and sums their gradients", {
  a <- layer_input(shape = 2)
  b <- layer_input(shape = 2)
  shared <- layer_dense(units = 3, name = "shared")
  model <- keras_model(list(a, b), layer_add(list(shared(a), shared(b))))
  expect_length(get_weights(model), 2)
  set.seed(8)
  x <- list(matrix(rnorm(10), 5), matrix(rnorm(10), 5))
  w <- get_weights(model)
  expect_equal(predict(model, x),
               sweep(x[[1]] %*% w[[1]], 2, w[[2]], "+") + sweep(x[[2]] %*% w[[1]], 2, w[[2]], "+"),
               tolerance = 1e-14)
  compile(model, optimizer = "sgd", loss = "mse")
  y <- matrix(rnorm(15), 5)
  run <- selu:::model_gradients(model, x, y)
  f <- function(v) with_weight(shared, "kernel", v, mean((predict(model, x) - y)^2))
  expect_equal(run$gradients[["shared/kernel"]], numeric_gradient(f, w[[1]]), tolerance = 1e-7)
  # its JSON and configuration keep the two calls
  rebuilt <- from_config(get_config(model))
  set_weights(rebuilt, get_weights(model))
  expect_identical(predict(rebuilt, x), predict(model, x))
  json <- model_from_json(model_to_json(model))
  set_weights(json, get_weights(model))
  expect_identical(predict(json, x), predict(model, x))
})

test_that("several inputs and outputs go through configs, JSON, saving and summaries", {
  d <- graph_data(30)
  model <- graph_model()
  compile(model, optimizer = optimizer_adam(), loss = list("mse", "sparse_categorical_crossentropy"),
          metrics = list("mae", "accuracy"))
  fit(model, d$x, d$y, epochs = 2, verbose = 0)
  path <- tempfile(fileext = ".rds")
  save_model(model, path)
  loaded <- load_model(path)
  expect_identical(predict(loaded, d$x), predict(model, d$x))
  expect_identical(evaluate(loaded, d$x, d$y), evaluate(model, d$x, d$y))
  from_json <- model_from_json(model_to_json(model))
  set_weights(from_json, get_weights(model))
  expect_identical(predict(from_json, d$x), predict(model, d$x))
  text <- paste(capture.output(summary(model)), collapse = "\n")
  expect_match(text, "Connected to")
  expect_match(text, "['numbers[0][0]', 'flatten", fixed = TRUE)
})

test_that("lists of inputs and targets that do not fit are classed errors", {
  d <- graph_data(30)
  model <- graph_model()
  compile(model, loss = list("mse", "sparse_categorical_crossentropy"))
  before <- get_weights(model)
  expect_error(fit(model, d$x[1], d$y, verbose = 0), "`x` must hold an array for each input",
               class = "selu_error")
  expect_error(fit(model, unname(d$x[1]), d$y, verbose = 0), "`x` must be a list of 2 arrays",
               class = "selu_error")
  expect_error(fit(model, list(numbers = d$x$numbers, other = d$x$codes), d$y, verbose = 0),
               "names the input \"other\"", class = "selu_error")
  expect_error(fit(model, list(d$x$numbers, d$x$codes[1:10, , drop = FALSE]), d$y, verbose = 0),
               "as many rows for each input", class = "selu_error")
  expect_error(fit(model, d$x, list(amount = d$y$amount, sort = d$y$kind), verbose = 0),
               "names the output \"sort\"", class = "selu_error")
  expect_error(fit(model, d$x, list(d$y$amount), verbose = 0), "`y`", class = "selu_error")
  expect_error(fit(model, d$x, list(d$y$amount[1:5], d$y$kind), verbose = 0),
               "one target per row", class = "selu_error")
  expect_error(compile(model, loss = list(amount = "mse", size = "mse")), "names the output \"size\"",
               class = "selu_error")
  expect_error(compile(model, loss = "mse", loss_weights = c(1, -1)), "`loss_weights`",
               class = "selu_error")
  expect_identical(get_weights(model), before)
  expect_error(keras_model(list(layer_input(2), layer_input(2)), layer_input(2)),
               "not computed from `inputs` alone", class = "selu_error")
})
