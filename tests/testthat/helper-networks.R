# Networks more than one test file trains.

# A network with every kind of op the engine has.
every_op_net <- function(inputs = 6) {
  keras_model_sequential(input_shape = inputs) |>
    layer_dense(8, kernel_initializer = initializer_lecun_normal(seed = 1),
                kernel_regularizer = regularizer_l2(0.01), activity_regularizer = regularizer_l1(0.001)) |>
    layer_batch_normalization() |>
    layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.1)) |>
    layer_alpha_dropout(0.1) |>
    layer_dense(8, activation = "selu", kernel_initializer = initializer_lecun_normal(seed = 2),
                kernel_constraint = constraint_maxnorm(2)) |>
    layer_layer_normalization() |>
    layer_activation_elu() |>
    layer_dropout(0.1) |>
    layer_dense(3, kernel_initializer = initializer_lecun_normal(seed = 3)) |>
    layer_activation_softmax()
}
