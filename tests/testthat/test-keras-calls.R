# The calls of keras 2.13's own R tests (tests/testthat/test-layers.R,
# test-model.R, test-history.R of rstudio/keras at v2.13.0) for the layers,
# models and history selu has, as keras wrote them (`%>%` from magrittr);
# where selu counts axes differently (from 1, the batch axis), the call is
# changed and says so.
library(magrittr)

define_model <- function() {
  model <- keras_model_sequential()
  model %>%
    layer_dense(32, input_shape = 784, kernel_initializer = initializer_ones()) %>%
    layer_activation('relu') %>%
    layer_dense(10) %>%
    layer_activation('softmax')
  model
}

define_and_compile_model <- function() {
  model <- define_model()
  model %>%
    compile(loss = 'binary_crossentropy', optimizer = optimizer_sgd(), metrics = 'accuracy')
  model
}

get_merge_inputs <- function() {
  c(layer_input(shape = c(4, 5)), layer_input(shape = c(4, 5)), layer_input(shape = c(4, 5)))
}

test_that("keras's layer calls run", {
  expect_no_error(layer_input(shape = c(32)))
  expect_no_error(layer_dense(keras_model_sequential(), 32, input_shape = c(784)))
  for (add in list(function(m) layer_activation(m, 'relu'), layer_activation_relu,
                   layer_activation_selu, layer_activation_leaky_relu,
                   layer_activation_parametric_relu, layer_activation_thresholded_relu,
                   layer_activation_elu, layer_activation_softmax,
                   function(m) layer_dropout(m, rate = 0.5, noise_shape = c(1)))) {
    expect_no_error(keras_model_sequential() %>% layer_dense(32, input_shape = c(784)) %>% add())
  }
  expect_no_error(keras_model_sequential() %>% layer_embedding(1000, 64, input_length = 10))
  for (merge in list(layer_add, layer_multiply, layer_average, layer_concatenate)) {
    merge_inputs <- get_merge_inputs()
    expect_no_error(keras_model(merge_inputs, merge(merge_inputs)))
    expect_no_error(keras_model(merge_inputs, merge()(merge_inputs)))
    # test_merge_layers(): two inputs, as a list, as arguments, to the layer
    merge_inputs <- get_merge_inputs()[1:2]
    expect_no_error(keras_model(merge_inputs, merge(merge_inputs)))
    expect_no_error(keras_model(merge_inputs, do.call(merge, c(merge_inputs))))
    expect_no_error(keras_model(merge_inputs, merge()(merge_inputs)))
  }
  # keras's axis = 1 and -2 (Python's, from 0) are selu's 2 and -2
  for (axis in c(2, -1, -2)) {
    merge_inputs <- get_merge_inputs()[1:2]
    expect_no_error(keras_model(merge_inputs, layer_concatenate(merge_inputs, axis = axis)))
  }
})

test_that("keras's model calls run", {
  expect_no_error(define_and_compile_model())
  expect_no_error(clone_model(define_model()))
  set.seed(1)
  data <- matrix(rexp(1000 * 784), nrow = 1000, ncol = 784)
  labels <- matrix(round(runif(1000 * 10, min = 0, max = 9)), nrow = 1000, ncol = 10)
  input <- matrix(rexp(10 * 784), nrow = 10, ncol = 784)
  model <- define_and_compile_model()
  # keras's test feeds binary cross-entropy targets from 0 to 9: a warning
  expect_warning(fit(model, data, labels, verbose = 0), class = "selu_warning")
  suppressWarnings(expect_no_error(evaluate(model, data, labels)))
  expect_no_error(predict(model, input))
  expect_no_error(predict_on_batch(model, input))
  result <- suppressWarnings(evaluate(model, data, labels))
  expect_true(!is.null(names(result)))
  # generics' evaluate(), which masks selu's when attached after it, reaches it
  expect_identical(suppressWarnings(generics::evaluate(model, data, labels)), result)
  suppressWarnings(expect_no_error(train_on_batch(model, data, labels)))
  suppressWarnings(expect_no_error(test_on_batch(model, data, labels)))
  model <- keras_model_sequential(input_shape = 784) %>%
    layer_dense(32, kernel_initializer = initializer_ones()) %>%
    layer_activation('relu') %>%
    layer_dense(10) %>%
    layer_activation('softmax') %>%
    compile(loss = loss_binary_crossentropy(), optimizer = optimizer_sgd(), metrics = 'accuracy')
  suppressWarnings(expect_no_error(fit(model, data, labels, verbose = 0)))
  model <- keras_model_sequential()
  model %>%
    layer_dense(32, input_shape = 784, kernel_initializer = initializer_ones()) %>%
    layer_activation('relu', name = 'first_activation') %>%
    layer_dense(10) %>%
    layer_activation('softmax')
  expect_identical(get_layer(model, name = 'first_activation')$name, "first_activation")
  expect_identical(get_layer(model, index = 1)$name, model$layers[[1]]$name)
  expect_equal(length(model$layers), 4)
  pop_layer(model)
  expect_equal(length(model$layers), 3)
  input1 <- layer_input(shape = 1)
  input2 <- layer_input(shape = 1)
  output <- layer_concatenate(list(input1, input2))
  model <- keras_model(list(input1, input2), output)
  expect_no_error(model(list(matrix(runif(10), ncol = 1), matrix(runif(10), ncol = 1))))
  model <- keras_model_sequential() %>% layer_dropout(rate = 0.99999999)
  expect_equal(as.numeric(model(1, training = TRUE)), 0)
  expect_equal(as.numeric(model(1, training = FALSE)), 1)
})

test_that("keras's history calls run", {
  early_stop <- callback_early_stopping(monitor = "loss", patience = 1)
  model <- keras_model_sequential() %>% layer_dense(1, input_shape = 1)
  model %>% compile(loss = "mse", optimizer = "adam")
  x <- matrix(runif(100), ncol = 1)
  history <- model %>% fit(x = x, y = x[, 1] + rnorm(100, 0.1), epochs = 500,
                           validation_split = 0.2, verbose = 0, callbacks = list(early_stop))
  expect_no_error(as.data.frame(history))
  pdf(NULL)
  on.exit(dev.off())
  expect_no_error(plot(history))
})
