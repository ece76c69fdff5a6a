# Run by test-interrupt.R in an R process of its own, as
#   Rscript interrupted-fit.R LIBRARY READY RESULT
# It trains a model for many epochs, writing its process id to READY once an
# epoch has run, until the test interrupts it (as Ctrl-C does); then it
# checks that fit() returned a history and left a usable model, and writes
# one line per check to RESULT.
args <- commandArgs(trailingOnly = TRUE)
library(selu, lib.loc = args[1])
ready <- args[2]
report <- function(lines, file) {
  writeLines(as.character(lines), paste0(file, ".part"))
  file.rename(paste0(file, ".part"), file)
}
set.seed(1)
x <- matrix(rnorm(2e4 * 20), 2e4, 20)
y <- rowSums(x[, 1:3])
model <- keras_model_sequential(input_shape = 20) |>
  layer_dense(64, kernel_initializer = "lecun_normal", activation = "selu") |>
  layer_dense(1)
compile(model, optimizer = "adam", loss = "mse")
# a callback at the epochs' ends only: the batches run in the engine's own
# loop, where the interrupt lands
started <- callback_lambda(on_epoch_end = function(epoch, logs) {
  if (!file.exists(ready)) report(Sys.getpid(), ready)
})
said <- character()
history <- withCallingHandlers(
  fit(model, x, y, epochs = 1000, verbose = 0, callbacks = started),
  message = function(m) {
    said <<- c(said, conditionMessage(m))
    invokeRestart("muffleMessage")
  })
weights <- get_weights(model)
again <- fit(model, x[1:64, ], y[1:64], epochs = 1, verbose = 0)
checks <- c(
  returned_history = inherits(history, "keras_training_history"),
  said_interrupted = any(grepl("Training was interrupted", said)),
  weights_finite = all(vapply(weights, function(w) all(is.finite(w)), TRUE)),
  model_predicts = all(is.finite(predict(model, x[1:5, ]))),
  fits_again = length(again$metrics$loss) == 1
)
report(paste0(names(checks), "=", checks), args[3])
