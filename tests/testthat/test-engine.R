# The engine (R/engine.R, R/program.R, src/engine.c): what a fit() loop
# relies on beyond each step's numbers, which test-reference.R checks
# against PyTorch.

engine_data <- function(n = 90, inputs = 6, seed = 5) {
  set.seed(seed)
  x <- matrix(rnorm(n * inputs), n)
  list(x = x, classes = as.integer((x[, 1] > 0) + (x[, 2] > 0.5)))
}

test_that("a network of every op trains, with its loss falling", {
  d <- engine_data()
  model <- every_op_net()
  compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy",
          metrics = "accuracy")
  set.seed(12)
  history <- fit(model, d$x, d$classes, epochs = 30, batch_size = 16, verbose = 0)
  expect_lt(history$metrics$loss[30], history$metrics$loss[1] * 0.7)
  expect_gt(history$metrics$accuracy[30], 0.8)
  # the max-norm constraint held after every update
  expect_lte(max(sqrt(colSums(get_weights(model)[[8]]^2))), 2 + 1e-12)
})

test_that("training is bit for bit the same on 1 and 2 threads and across a second fit()", {
  d <- engine_data(n = 300)
  train <- function(threads, epochs) {
    old <- selu_threads(threads)
    on.exit(selu_threads(old))
    set.seed(11)
    model <- every_op_net()
    compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy")
    set.seed(12)
    for (e in epochs) fit(model, d$x, d$classes, epochs = e, batch_size = 64, verbose = 0)
    get_weights(model)
  }
  one <- train(1, 4)
  expect_identical(train(2, 4), one)
  expect_identical(train(1, c(2, 2)), one)
})

test_that("callbacks that run per batch see the weights of every step", {
  d <- engine_data()
  model <- every_op_net()
  kernels <- list()
  record <- callback_lambda(on_batch_end = function(batch, logs) {
    kernels[[length(kernels) + 1]] <<- get_weights(model)[[1]]
  })
  compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy")
  fit(model, d$x, d$classes, epochs = 2, batch_size = 30, verbose = 0, callbacks = record)
  expect_length(kernels, 6)
  expect_false(identical(kernels[[1]], kernels[[2]]))
  expect_identical(kernels[[6]], get_weights(model)[[1]])
  # and weights a callback sets are the ones the next step starts from
  zero <- callback_lambda(on_batch_begin = function(batch, logs) {
    set_weights(model, lapply(get_weights(model), function(w) w * 0))
  })
  compile(model, optimizer = optimizer_sgd(1e-300), loss = "sparse_categorical_crossentropy")
  fit(model, d$x, d$classes, epochs = 1, batch_size = 30, verbose = 0, callbacks = zero)
  expect_lt(max(abs(unlist(get_weights(model)))), 1e-250)
})

test_that("a loss that is not finite stops training before the update", {
  d <- engine_data()
  model <- keras_model_sequential(input_shape = 6) |> layer_dense(8) |> layer_dense(1)
  compile(model, optimizer = optimizer_sgd(1e6), loss = "mse")
  before <- get_weights(model)
  expect_message(fit(model, d$x, d$x[, 1] * 1e200, epochs = 3, batch_size = 30, verbose = 0),
                 class = "selu_message_not_finite")
  expect_true(all(is.finite(unlist(get_weights(model)))))
})

test_that("predict() and evaluate() are the model's forward pass in inference", {
  d <- engine_data(n = 101)
  model <- every_op_net()
  compile(model, optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = "accuracy")
  fit(model, d$x, d$classes, epochs = 2, verbose = 0)
  p <- predict(model, d$x)
  expect_equal(p, model(d$x), tolerance = 1e-14)
  # predict() takes batch_size within 128 to 256 rows, the last batch short
  expect_identical(vapply(c(1, 7, 128, 200, 256, 1000), selu:::predict_batch_rows, 1L, n = 1e4),
                   c(128L, 128L, 128L, 200L, 256L, 256L))
  expect_identical(selu:::predict_batch_rows(32, 101), 101L)
  many <- engine_data(n = 601)$x
  whole <- model(many)
  for (batch_size in c(1, 7, 100, 200, 601, 1000)) {
    expect_equal(predict(model, many, batch_size = batch_size), whole, tolerance = 1e-14)
  }
  named <- d$x
  rownames(named) <- paste0("r", seq_len(nrow(named)))
  expect_identical(rownames(predict(model, named)), rownames(named))
  # the loss by its formula: the mean cross-entropy and the penalties
  w <- get_weights(model)
  penalty <- 0.01 * sum(w[[1]]^2)
  scores <- evaluate(model, d$x, d$classes, batch_size = 101)
  cross_entropy <- -mean(log(p[cbind(seq_len(101), d$classes + 1)]))
  hidden <- predict(keras_model_sequential(model$layers[1], input_shape = 6), d$x)
  expect_equal(unname(scores["loss"]), cross_entropy + penalty + 0.001 * sum(abs(hidden)) / 101,
               tolerance = 1e-12)
  expect_equal(unname(scores["accuracy"]), mean(max.col(p) - 1 == d$classes))
  expect_error(predict(model, d$x[, 1:5]), class = "selu_error", regexp = "shape")
})

test_that("the engine's entry points keep what they allocate through garbage collections", {
  d <- engine_data(n = 20)
  model <- every_op_net()
  compile(model, optimizer = optimizer_adam(0.01), loss = "sparse_categorical_crossentropy")
  self <- selu:::model_state(model)
  compiled <- self$compiled
  # everything R prepares, made before: under gctorture only the .Calls run
  x <- list(d$x)
  y <- list(d$classes)
  program <- selu:::model_program(self$steps, c(NA, 6L), "train")
  spec <- selu:::program_list(program, list(
    losses = list(selu:::loss_program_spec(program, compiled$losses[[1]], program$outputs)),
    optimizer = selu:::optimizer_program_spec(compiled$optimizer)))
  call_spec <- selu:::program_list(selu:::model_program(self$steps, c(20L, 6L), "gradient"),
                                   input_gradients = TRUE)
  weights <- selu:::program_weights(program)
  masks <- selu:::draw_masks(list(program = program), 8)
  call_masks <- selu:::draw_masks(list(program = program), 20)
  last_masks <- selu:::draw_masks(list(program = program), 4)
  run <- function() {
    engine <- .Call(C_selu_engine_new, spec, 8L, FALSE)
    .Call(C_selu_engine_load, engine, weights, list(NULL, NULL), 0)
    list(step = .Call(C_selu_engine_steps, engine, x, y, NULL, 1:8, 8L, 0.01, list(masks), TRUE),
         steps = .Call(C_selu_engine_steps, engine, x, y, NULL, 20:1, 8L, c(0.01, 0.02, 0.03),
                       list(masks, masks, last_masks), TRUE),
         iterations = .Call(C_selu_engine_iterations, engine),
         tested = .Call(C_selu_engine_test, list(engine), x, y, NULL, list(1:8)),
         # two batches side by side on two engines, the second reading the first's weights
         tested_side_by_side = .Call(C_selu_engine_test,
                                     list(engine, .Call(C_selu_engine_new, spec, 8L, FALSE)),
                                     x, y, NULL, list(9:16, 1:8)),
         gradients = .Call(C_selu_engine_gradients, engine, x, y, NULL, 1:8, masks),
         stored = .Call(C_selu_engine_store, engine, TRUE),
         predicted = .Call(C_selu_engine_predict, list(engine), x, 7L),
         # batches side by side on two engines, the second reading the first's weights
         side_by_side = .Call(C_selu_engine_predict,
                              list(engine, .Call(C_selu_engine_new, spec, 8L, FALSE)), x, 7L),
         called = local({
           eager <- .Call(C_selu_engine_new, call_spec, 20L, TRUE)
           .Call(C_selu_engine_load, eager, weights, NULL, NULL)
           .Call(C_selu_engine_call, eager, x, TRUE, call_masks, list(1))
         }),
         # freed twice, then used: an error, never a crash
         freed = local({
           .Call(C_selu_engine_free, engine)
           .Call(C_selu_engine_free, engine)
           tryCatch(.Call(C_selu_engine_predict, list(engine), x, 7L), error = conditionMessage)
         }))
  }
  plain <- run()
  gctorture2(if (reduced_tests()) 50 else 1)
  tortured <- run()
  gctorture(FALSE)
  expect_identical(tortured, plain)
  expect_identical(plain$step[[3]], 0L)
  expect_identical(plain$steps[[4]], 3L)
  expect_identical(dim(plain$steps[[5]][[1]]), c(20L, 3L))
  expect_identical(plain$iterations, 4)
  expect_identical(plain$side_by_side, plain$predicted)
  expect_identical(plain$tested_side_by_side[[2]], plain$tested[[1]])
  expect_false(identical(plain$tested_side_by_side[[1]], plain$tested[[1]]))
  expect_match(plain$freed, "not an engine")
})
