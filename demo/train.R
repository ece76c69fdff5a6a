# A self-normalizing network for the Wisconsin breast cancer biopsies
# (MASS::biopsy, 683 complete cases, 9 cell features scored 1 to 10): SELU
# layers with LeCun-normal weights and alpha dropout, trained with Adam on 80%
# of the cases, its accuracy measured on the 20% it never saw.
library(selu)
set.seed(2017)
biopsy <- stats::na.omit(MASS::biopsy)
x <- scale(as.matrix(biopsy[, paste0("V", 1:9)]))
y <- as.integer(biopsy$class == "malignant")
test <- sample(nrow(x), round(0.2 * nrow(x)))

model <- keras_model_sequential(input_shape = 9) |>
  layer_dense(64, kernel_initializer = "lecun_normal", activation = "selu") |>
  layer_alpha_dropout(0.05) |>
  layer_dense(64, kernel_initializer = "lecun_normal", activation = "selu") |>
  layer_dense(1, activation = "sigmoid")
model |> compile(optimizer = optimizer_adam(), loss = "binary_crossentropy",
                 metrics = c("accuracy", "auc"))
history <- model |> fit(x[-test, ], y[-test], epochs = 30, batch_size = 32,
                        validation_split = 0.2, verbose = 0,
                        callbacks = callback_early_stopping(patience = 5,
                                                            restore_best_weights = TRUE))
print(history)
scores <- evaluate(model, x[test, ], y[test])
cat(sprintf("\nHeld-out accuracy on %d biopsies: %.3f (AUC %.3f)\n",
            length(test), scores[["accuracy"]], scores[["auc"]]))
