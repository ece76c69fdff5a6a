# Whole training steps against frozen values from another framework:
# PyTorch float64 autograd with keras 2.13's formulas (BN and LN epsilon
# 1e-3, BN momentum 0.99, Adam's epsilon added to sqrt(v), keras's loss
# reduction), written by scripts/make-references.py into fixtures/step-*.json.
# Each case is a network with its initial weights, inputs and targets; for
# each loss, its training-mode output, loss and gradients, its inference
# output, and for each of twelve optimizer settings the weights after one
# and after two steps on the batch.

read_reference <- function(case) {
  jsonlite::fromJSON(test_path("fixtures", paste0("step-", case, ".json")),
                     simplifyVector = TRUE, simplifyDataFrame = FALSE)
}

reference_regularizer <- function(config) {
  if (is.null(config)) return(NULL)
  switch(config$class_name, L1 = regularizer_l1(config$config$l1),
         L2 = regularizer_l2(config$config$l2))
}

# The fixture's network, built with selu's layer functions, at its initial
# weights.
reference_model <- function(reference) {
  model <- keras_model_sequential(input_shape = reference$input_shape)
  for (layer in reference$layers) {
    config <- layer$config
    switch(layer$class_name,
      Dense = layer_dense(model, config$units, activation = config$activation,
                          use_bias = config$use_bias,
                          kernel_regularizer = reference_regularizer(config$kernel_regularizer),
                          bias_regularizer = reference_regularizer(config$bias_regularizer),
                          name = config$name),
      BatchNormalization = layer_batch_normalization(model, momentum = config$momentum,
                                                     epsilon = config$epsilon, name = config$name),
      PReLU = layer_activation_parametric_relu(model, name = config$name),
      LayerNormalization = layer_layer_normalization(model, epsilon = config$epsilon,
                                                     name = config$name))
  }
  reset_reference_weights(model, reference)
  model
}

reset_reference_weights <- function(model, reference) {
  keys <- names(selu:::named_weights(model))
  expect_setequal(keys, names(reference$weights))
  set_weights(model, unname(reference$weights[keys]))
}

reference_loss <- function(loss) {
  config <- loss$config
  switch(loss$class_name,
    MeanSquaredError = loss_mean_squared_error(),
    MeanAbsoluteError = loss_mean_absolute_error(),
    Huber = loss_huber(delta = config$delta),
    BinaryCrossentropy = loss_binary_crossentropy(label_smoothing = config$label_smoothing),
    CategoricalCrossentropy = loss_categorical_crossentropy(label_smoothing = config$label_smoothing),
    SparseCategoricalCrossentropy = loss_sparse_categorical_crossentropy())
}

reference_optimizer <- function(entry) {
  config <- entry$config
  selu:::optimizer_from_config(structure(config, class_name = entry$class_name))
}


expect_weights <- function(model, expected, info) {
  got <- selu:::named_weights(model)
  for (key in names(expected)) {
    expect_equal(as.vector(got[[key]]), as.vector(expected[[key]]), tolerance = 1e-12,
                 info = paste(info, key))
  }
}

for (case in c("mlp-scce", "regression", "binary", "categorical")) {
  test_that(sprintf("training steps match the PyTorch references: %s", case), {
    reference <- read_reference(case)
    x <- reference$x
    y <- reference$y
    if (is.null(dim(y)) && !is.integer(y)) y <- matrix(y)
    model <- reference_model(reference)
    for (entry in reference$entries) {
      info <- paste(case, entry$name)
      w <- entry$sample_weight
      reset_reference_weights(model, reference)
      compile(model, optimizer = "sgd", loss = reference_loss(entry$loss))
      # the forward pass, the loss and every gradient
      run <- selu:::model_gradients(model, x, y, sample_weight = w)
      expect_equal(run$loss, entry$loss_value, tolerance = 1e-12, info = info)
      expect_setequal(names(run$gradients), names(entry$gradients))
      for (key in names(entry$gradients)) {
        expect_equal(as.vector(run$gradients[[key]]), as.vector(entry$gradients[[key]]),
                     tolerance = 1e-12, info = paste(info, key))
      }
      expect_equal(unname(predict(model, x)), unname(as.matrix(entry$output_inference)),
                   tolerance = 1e-12, info = info)
      expect_equal(unname(model(x, training = TRUE)), unname(as.matrix(entry$output_training)),
                   tolerance = 1e-12, info = info)
      reset_reference_weights(model, reference) # the call updated the moving statistics
      # two steps of each optimizer from the initial weights
      for (opt in entry$optimizers) {
        reset_reference_weights(model, reference)
        compile(model, optimizer = reference_optimizer(opt), loss = reference_loss(entry$loss))
        for (k in 1:2) {
          step <- opt[[paste0("step_", k)]]
          history <- fit(model, x, y, batch_size = nrow(x), epochs = k, initial_epoch = k - 1,
                         shuffle = FALSE, verbose = 0, sample_weight = w)
          expect_equal(history$metrics$loss, step$loss_value, tolerance = 1e-12,
                       info = paste(info, opt$label, k))
          expect_weights(model, step$weights, paste(info, opt$label, "step", k))
        }
      }
    }
  })
}
