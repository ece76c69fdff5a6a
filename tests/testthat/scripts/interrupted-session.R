# Run by test-interrupt.R in an R process of its own, as
#   Rscript interrupted-session.R LIBRARY READY RESULT
# It loops over long selu calls, writing its process id to READY once the
# loop runs, until the test interrupts it; then it checks that R and the
# objects are as they were and writes one line per check to RESULT.
args <- commandArgs(trailingOnly = TRUE)
library(selu, lib.loc = args[1])
ready <- args[2]
# written whole, then renamed, so that the test never reads half a file
report <- function(lines, file) {
  writeLines(as.character(lines), paste0(file, ".part"))
  file.rename(paste0(file, ".part"), file)
}
set.seed(1)
x <- matrix(rnorm(4e6), ncol = 4)
x_before <- unserialize(serialize(x, NULL))
model <- keras_model_sequential(input_shape = 4) |>
  layer_activation_parametric_relu(alpha_initializer = initializer_constant(0.25)) |>
  layer_activation_selu()
weights <- unserialize(serialize(get_weights(model), NULL))
small <- matrix(c(-2, -1, 1, 2), 1, 4)
expected <- predict(model, small)
reference <- activation_selu(x)
threads <- selu_threads()
where <- character()
outcome <- tryCatch(
  withCallingHandlers(
    repeat {
      # the test interrupts only once this loop runs
      if (!file.exists(ready)) report(Sys.getpid(), ready)
      predict(model, x)
      activation_selu(x, inplace = TRUE)
      backward(model, x, 1)
    },
    interrupt = function(condition) {
      where <<- vapply(sys.calls(), function(call) deparse(call[[1]])[1], "")
    }),
  interrupt = function(condition) "interrupted")
checks <- c(
  interrupted = identical(outcome, "interrupted"),
  during_a_call = any(where %in% c("predict", "activation_selu", "backward")),
  input_unchanged = identical(x, x_before),
  weights_unchanged = identical(get_weights(model), weights),
  model_works = identical(predict(model, small), expected),
  threads_unchanged = identical(selu_threads(), threads),
  kernels_work = identical(activation_selu(x), reference)
)
report(paste0(names(checks), "=", checks), args[3])
