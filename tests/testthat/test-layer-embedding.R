# The embedding layer: rows of its matrix by id, from 0 as keras; its
# gradient against finite differences; ids checked.

test_that("an embedding looks up rows by id from 0", {
  table <- matrix(1:12 / 10, 4, 3)
  embed <- layer_embedding(input_dim = 4, output_dim = 3, weights = list(table))
  ids <- matrix(c(0, 3, 1, 1), 2)
  out <- embed(ids)
  expect_identical(dim(out), c(2L, 2L, 3L))
  expect_identical(out[1, 1, ], table[1, ])
  expect_identical(out[2, 1, ], table[4, ])
  expect_identical(out[2, 2, ], table[2, ])
  # integer ids, and a vector of them
  expect_identical(embed(matrix(c(0L, 3L, 1L, 1L), 2)), out)
  expect_identical(embed(c(2, 0)), table[c(3, 1), ])
  # keras's uniform default, from -0.05 to 0.05
  set.seed(1)
  layer <- layer_embedding(input_dim = 50, output_dim = 20, input_length = 1)
  values <- get_weights(layer)[[1]]
  expect_identical(dim(values), c(50L, 20L))
  expect_true(all(values >= -0.05 & values <= 0.05))
})

test_that("the embeddings' gradient matches finite differences", {
  set.seed(3)
  ids <- matrix(c(0, 2, 2, 1, 0, 2), 3)
  make <- function() layer_embedding(input_dim = 3, output_dim = 2,
                                     embeddings_initializer = initializer_random_normal(seed = 1))
  layer <- make()
  y <- layer(ids)
  r <- array(rnorm(length(y)), dim(y))
  grads <- layer_gradients(layer, ids, r)
  f <- function(w) with_weight(layer, "embeddings", w, sum(layer(ids) * r))
  expect_equal(grads$weights$embeddings,
               numeric_gradient(f, selu:::layer_state(layer)$weights$embeddings),
               tolerance = 1e-8)
  # and in a model that trains: the loss falls
  set.seed(4)
  x <- matrix(sample(0:4, 200, TRUE))
  target <- c(-1, 0.5, 2, 0, 1)[x + 1]
  model <- keras_model_sequential(input_shape = 1) |>
    layer_embedding(5, 2) |> layer_flatten() |> layer_dense(1)
  compile(model, optimizer = optimizer_adam(0.05), loss = "mse")
  history <- fit(model, x, target, epochs = 30, verbose = 0)
  expect_lt(tail(history$metrics$loss, 1), 0.01)
})

test_that("ids outside the table and other mistakes are classed errors", {
  embed <- layer_embedding(input_dim = 3, output_dim = 2)
  expect_error(embed(matrix(c(0, 3))), "ids from 0 to 2.*element 2 is 3", class = "selu_error")
  expect_error(embed(matrix(c(0.5, 1))), "element 1 is 0.5", class = "selu_error")
  expect_error(embed(matrix(c(-1, 1))), "element 1 is -1", class = "selu_error")
  model <- keras_model_sequential(input_shape = 1) |> layer_embedding(3, 2) |> layer_flatten() |>
    layer_dense(1)
  compile(model, loss = "mse")
  before <- get_weights(model)
  expect_error(fit(model, matrix(c(0, 1, 5)), c(1, 2, 3), verbose = 0),
               "`x` must hold ids from 0 to 2", class = "selu_error")
  expect_identical(get_weights(model), before)
  expect_error(predict(model, matrix(NA)), "`x`", class = "selu_error")
  expect_error(layer_embedding(input_dim = 0, output_dim = 2), "`input_dim`", class = "selu_error")
  expect_error(layer_embedding(input_dim = 2), "`output_dim`", class = "selu_error")
  expect_error(layer_embedding(input_dim = 2, output_dim = 2, mask_zero = TRUE),
               "`mask_zero` must be FALSE", class = "selu_error")
  expect_error(layer_embedding(input_dim = 2, output_dim = 2, sparse = TRUE), "`sparse`",
               class = "selu_error")
})

test_that("an embedding's configuration round trips, through keras's JSON too", {
  model <- keras_model_sequential() |>
    layer_embedding(10, 4, input_length = 3, embeddings_regularizer = regularizer_l2(0.01),
                    name = "codes") |>
    layer_flatten() |>
    layer_dense(1)
  expect_identical(model$input_shape, c(NA, 3L))
  config <- get_config(model$layers[[1]])
  expect_identical(config$input_dim, 10L)
  expect_identical(attr(config$embeddings_initializer, "class_name"), "RandomUniform")
  x <- matrix(c(0, 9, 3, 1, 2, 8), 2)
  rebuilt <- model_from_json(model_to_json(model))
  set_weights(rebuilt, get_weights(model))
  expect_identical(predict(rebuilt, x), predict(model, x))
})
