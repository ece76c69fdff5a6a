# Compares a self-normalizing MLP with a regular MLP: keras' example
# reuters_mlp_relu_vs_selu, written for selu. Two networks of the same shape
# (6 dense layers of 16 units) are trained on the same data with SGD: one with
# ReLU, Glorot-uniform weights and dropout 0.5, the other with SELU,
# LeCun-normal weights and alpha dropout 0.1. Their histories and held-out
# scores are compared, and their losses plotted.
#
# The keras example uses the Reuters newswires, which are downloaded; this
# demo uses a data set that is offline: mlbench's LetterRecognition (20000
# letters, 16 features, 26 classes; the mlbench package must be installed).
# By default it is a short run, 10 epochs on 6000 letters (under a minute);
# set `max_rows <- Inf` and `epochs <- 40` for the example's full run.
#
# Klambauer, G., Unterthiner, T., Mayr, A., & Hochreiter, S. (2017).
# Self-Normalizing Neural Networks. arXiv:1706.02515.
library(selu)
if (!requireNamespace("mlbench", quietly = TRUE)) {
  stop("This demo needs the mlbench package: install.packages(\"mlbench\")")
}
max_rows <- 6000
batch_size <- 16
epochs <- 10
plot <- TRUE
set.seed(2017)

# A fully connected network of `n_dense` blocks (dense, activation, dropout)
# and a softmax layer, compiled with the categorical cross-entropy.
create_network <- function(n_features, num_classes, n_dense = 6, dense_units = 16,
                           activation = "selu", dropout = layer_alpha_dropout,
                           dropout_rate = 0.1, kernel_initializer = "lecun_normal",
                           optimizer = "sgd") {
  model <- keras_model_sequential(input_shape = n_features)
  for (i in seq_len(n_dense)) {
    model <- model |>
      layer_dense(dense_units, kernel_initializer = kernel_initializer) |>
      layer_activation(activation) |>
      dropout(dropout_rate)
  }
  model |>
    layer_dense(num_classes) |>
    layer_activation("softmax") |>
    compile(loss = "categorical_crossentropy", optimizer = optimizer,
            metrics = "accuracy")
  model
}

network1 <- list(n_dense = 6, dense_units = 16, activation = "relu",
                 dropout = layer_dropout, dropout_rate = 0.5,
                 kernel_initializer = "glorot_uniform", optimizer = "sgd")
network2 <- list(n_dense = 6, dense_units = 16, activation = "selu",
                 dropout = layer_alpha_dropout, dropout_rate = 0.1,
                 kernel_initializer = "lecun_normal", optimizer = "sgd")

cat("Loading data...\n")
data("LetterRecognition", package = "mlbench", envir = environment())
letters_data <- LetterRecognition[sample(nrow(LetterRecognition),
                                         min(max_rows, nrow(LetterRecognition))), ]
x <- as.matrix(letters_data[, -1])
labels <- as.integer(letters_data$lettr) - 1L
num_classes <- max(labels) + 1L
test <- seq_len(round(0.2 * nrow(x)))
# Standardized with the training rows' means and standard deviations.
centre <- colMeans(x[-test, ])
spread <- apply(x[-test, ], 2, stats::sd)
x <- sweep(sweep(x, 2, centre), 2, spread, "/")
# One-hot rows, as keras' to_categorical() makes them.
y <- diag(num_classes)[labels + 1L, ]
x_train <- x[-test, ]
y_train <- y[-test, ]
x_test <- x[test, ]
y_test <- y[test, ]
cat(nrow(x_train), "train rows,", nrow(x_test), "test rows,", num_classes, "classes\n")

cat("\nBuilding network 1...\n")
model1 <- do.call(create_network, c(list(ncol(x), num_classes), network1))
history_model1 <- fit(model1, x_train, y_train, batch_size = batch_size, epochs = epochs,
                      verbose = 2, validation_split = 0.1)
score_model1 <- evaluate(model1, x_test, y_test, batch_size = batch_size)

cat("\nBuilding network 2...\n")
model2 <- do.call(create_network, c(list(ncol(x), num_classes), network2))
history_model2 <- fit(model2, x_train, y_train, batch_size = batch_size, epochs = epochs,
                      verbose = 2, validation_split = 0.1)
score_model2 <- evaluate(model2, x_test, y_test, batch_size = batch_size)

describe_network <- function(network) {
  network$dropout <- if (identical(network$dropout, layer_dropout)) "dropout" else "alpha dropout"
  paste(names(network), unlist(network), sep = ": ", collapse = ", ")
}
cat("\nNetwork 1 results\n")
cat("Hyperparameters:", describe_network(network1), "\n")
cat(sprintf("Test score: %.4f\nTest accuracy: %.4f\n", score_model1[["loss"]],
            score_model1[["accuracy"]]))
cat("Network 2 results\n")
cat("Hyperparameters:", describe_network(network2), "\n")
cat(sprintf("Test score: %.4f\nTest accuracy: %.4f\n", score_model2[["loss"]],
            score_model2[["accuracy"]]))

if (plot) {
  losses <- cbind(history_model1$metrics$val_loss, history_model2$metrics$val_loss,
                  history_model1$metrics$loss, history_model2$metrics$loss)
  graphics::matplot(seq_len(nrow(losses)), losses, type = "l", lty = c(1, 1, 2, 2),
                    col = c("darkgreen", "red", "darkgreen", "red"),
                    xlab = "Epochs", ylab = "Loss",
                    main = "ReLU (network 1) against SELU (network 2)")
  graphics::legend("topright", lty = c(1, 1, 2, 2),
                   col = c("darkgreen", "red", "darkgreen", "red"),
                   legend = c("Network 1 Val Loss", "Network 2 Val Loss",
                              "Network 1 Loss", "Network 2 Loss"))
}
