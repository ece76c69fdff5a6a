# selu_threads() bounds OpenBLAS's threads during fit(), evaluate() and
# predict(), and gives the BLAS its own count back after (test-threads.R
# runs this in an R process whose BLAS is OpenBLAS).
# Arguments: the library holding selu, the file to write the checks to.
args <- commandArgs(trailingOnly = TRUE)
library(selu, lib.loc = args[1])
checks <- list()
check <- function(name, passed) checks[[name]] <<- isTRUE(passed)
blas <- function() selu:::blas_threads()$threads

check("R's BLAS is OpenBLAS, found by its thread setter",
      identical(selu:::blas_threads()$library, "OpenBLAS"))
own <- blas()
check("OpenBLAS runs more than one thread of its own", own >= 2L)
set.seed(1)
x <- matrix(rnorm(512 * 32), 512)
y <- rnorm(512)
model <- keras_model_sequential(input_shape = 32) |> layer_dense(64, activation = "selu") |>
  layer_dense(1)
compile(model, optimizer = optimizer_adam(), loss = "mse")
during <- integer()
record <- callback_lambda(on_batch_end = function(batch, logs) during <<- c(during, blas()))

selu_threads(1)
fit(model, x, y, batch_size = 64, epochs = 1, verbose = 0, callbacks = list(record))
check("fit() runs the BLAS on selu_threads() threads", all(during == 1L) && length(during) == 8)
check("fit() gives the BLAS its count back", identical(blas(), own))
predict(model, x)
evaluate(model, x, y, verbose = 0)
layer_dense(units = 3)(x)
check("predict(), evaluate() and a layer call give the BLAS its count back", identical(blas(), own))

selu_threads(own)
during <- integer()
own_during <- integer()
record_own <- callback_lambda(on_batch_end = function(batch, logs) {
  own_during <<- c(own_during, selu_threads())
})
fit(model, x, y, batch_size = 64, epochs = 1, verbose = 0, callbacks = list(record, record_own))
check("selu_threads() never raises the BLAS's count", all(during == own))
# OpenBLAS's threads spin waiting for work: selu's own yield to them
check("while the BLAS has threads, selu's own work runs on one",
      all(own_during == 1L) && length(own_during) == 8)
check("and selu's threads are back after fit()", identical(selu_threads(), own))

# predict() and evaluate() run their batches side by side on selu's
# threads, each one's products on one BLAS thread: as on one thread, bit for bit
wide <- keras_model_sequential(input_shape = 32) |> layer_dense(256, activation = "selu") |>
  layer_dense(3, activation = "softmax")
wide32 <- keras_model_sequential(input_shape = 32) |>
  layer_dense(256, activation = "selu", dtype = "float32") |>
  layer_dense(3, activation = "softmax", dtype = "float32")
compile(wide, optimizer = "adam", loss = "mse")
compile(wide32, optimizer = "adam", loss = "mse")
targets <- matrix(runif(3 * 512), 512)
run <- function() {
  list(predict(wide, x), predict(wide32, x), evaluate(wide, x, targets, verbose = 0),
       evaluate(wide32, x, targets, verbose = 0))
}
selu_threads(1)
alone <- run()
selu_threads(own)
check("predict() and evaluate() on threads give what one thread gives", identical(run(), alone))
check("and gives the BLAS its count back", identical(blas(), own))

writeLines(sprintf("%s=%s", names(checks), unlist(checks)), args[2])
