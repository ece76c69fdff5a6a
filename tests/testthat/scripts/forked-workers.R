# Forked workers after threaded work in the parent (test-threads.R runs this
# in an R process of its own, under a time limit, so that a hang fails).
# Arguments: the library holding selu, the file to write the checks to.
args <- commandArgs(trailingOnly = TRUE)
library(selu, lib.loc = args[1])
checks <- list()
check <- function(name, passed) checks[[name]] <<- isTRUE(passed)

selu_threads(2)
set.seed(1)
x <- matrix(rnorm(2048 * 64), 2048)
y <- rnorm(2048)
model <- keras_model_sequential(input_shape = 64) |>
  layer_dense(256, activation = "selu", kernel_initializer = "lecun_normal") |>
  layer_dense(1)
compile(model, optimizer = optimizer_adam(), loss = "mse")
fit(model, x, y, batch_size = 256, epochs = 1, verbose = 0) # threaded steps
big <- rnorm(2e6)
expected <- list(kernel = activation_selu(big),                # threaded kernels
                 softmax = activation_softmax(matrix(big, 2e4)),
                 predict = predict(model, x, batch_size = 2048))

in_child <- function(i) {
  found <- list(threads = selu_threads(),
                kernel = activation_selu(big),
                softmax = activation_softmax(matrix(big, 2e4)),
                predict = predict(model, x, batch_size = 2048))
  selu_threads(2) # a team of the child's own
  found$kernel_team <- activation_selu(big)
  found$softmax_team <- activation_softmax(matrix(big, 2e4))
  set.seed(i)
  fit(model, x, y, batch_size = 256, epochs = 1, verbose = 0)
  found$fitted <- predict(model, x[1:5, ])
  found
}
children <- parallel::mclapply(1:2, in_child, mc.cores = 2)
for (i in 1:2) {
  found <- children[[i]]
  check(sprintf("child %d runs on one thread", i), identical(found$threads, 1L))
  for (what in names(expected)) {
    check(sprintf("child %d: %s as in the parent", i, what), identical(found[[what]], expected[[what]]))
  }
  check(sprintf("child %d: kernels on a team of its own as in the parent", i),
        identical(found$kernel_team, expected$kernel) &&
          identical(found$softmax_team, expected$softmax))
  check(sprintf("child %d trains", i), all(is.finite(found$fitted)))
}
check("the parent keeps its threads", identical(selu_threads(), 2L))
check("the children's training leaves the parent's model alone",
      identical(predict(model, x, batch_size = 2048), expected$predict))
check("the parent still computes on its threads", identical(activation_selu(big), expected$kernel))

# an interrupt in a forked child stops that child only
job <- parallel::mcparallel({
  for (i in 1:1e4) activation_selu(big)
  "not interrupted"
})
Sys.sleep(1)
tools::pskill(job$pid, tools::SIGINT)
result <- parallel::mccollect(job, wait = TRUE)[[1]]
check("the interrupted child stops", !identical(result, "not interrupted"))
check("the parent's model is as it was after the child's interrupt",
      identical(predict(model, x, batch_size = 2048), expected$predict))
check("the parent computes after the child's interrupt",
      identical(activation_selu(big), expected$kernel))

writeLines(sprintf("%s=%s", names(checks), unlist(checks)), args[2])
