# selu's default thread count against one thread, on R's reference BLAS and
# on OpenBLAS, in one run.
#
# Run from the package root with `make bench-threads` (selu installed). For
# each BLAS, a plain Rscript (as a user runs it; OpenBLAS through
# R_LD_LIBRARY_PATH, Debian's libopenblas0-pthread, without changing the
# machine's default BLAS) times fit() (one epoch), evaluate() and predict()
# of a 50-256-256-1 SELU network on 20,000 rows and of a 784-256-256-10 one
# on 10,000 (a wide input: the products dominate), at batch sizes 32 to 2048,
# with the default selu_threads() and with selu_threads(1), the two
# alternating, the median of the repetitions. Writes bench/results/threads.csv
# and threads.md, and prints the table.
args <- commandArgs(trailingOnly = TRUE)
out_dir <- file.path("bench", "results")

# The child: `Rscript bench/threads.R run OUT.rds`.
if (length(args) == 2 && args[1] == "run") {
  library(selu)
  default <- selu_threads()
  # a narrow input, and a wide one whose products are the costly part
  networks <- list(
    list(name = "50-256-256-1, 20,000 rows", sizes = c(50, 256, 256, 1), rows = 20000),
    list(name = "784-256-256-10, 10,000 rows", sizes = c(784, 256, 256, 10), rows = 10000))
  reps <- 7
  results <- list()
  for (net in networks) {
    set.seed(2017)
    x <- matrix(rnorm(net$rows * net$sizes[1]), net$rows)
    outputs <- net$sizes[4]
    y <- if (outputs == 1) rnorm(net$rows) else sample(0:(outputs - 1), net$rows, replace = TRUE)
    model <- keras_model_sequential(input_shape = net$sizes[1]) |>
      layer_dense(256, activation = "selu", kernel_initializer = "lecun_normal") |>
      layer_dense(256, activation = "selu", kernel_initializer = "lecun_normal") |>
      layer_dense(outputs, activation = if (outputs == 1) "linear" else "softmax")
    compile(model, optimizer = optimizer_adam(),
            loss = if (outputs == 1) "mse" else "sparse_categorical_crossentropy")
    initial <- get_weights(model)
    calls <- list(
      fit = function(batch) {
        set_weights(model, initial)
        fit(model, x, y, batch_size = batch, epochs = 1, verbose = 0)
      },
      evaluate = function(batch) evaluate(model, x, y, batch_size = batch, verbose = 0),
      predict = function(batch) predict(model, x, batch_size = batch))
    fit(model, x[1:2048, ], y[1:2048], batch_size = 256, epochs = 1, verbose = 0) # warm-up
    for (call in names(calls)) {
      for (batch in c(32L, 128L, 512L, 2048L)) {
        times <- matrix(NA_real_, reps, 2)
        for (r in seq_len(reps)) {
          for (k in 1:2) {
            selu_threads(c(default, 1L)[k])
            times[r, k] <- system.time(calls[[call]](batch))[["elapsed"]]
          }
        }
        selu_threads(default)
        results[[length(results) + 1]] <- data.frame(
          network = net$name, call = call, batch = batch, default_threads = default,
          default_s = median(times[, 1]), one_s = median(times[, 2]))
      }
    }
  }
  blas <- selu:::blas_threads()
  saveRDS(list(results = do.call(rbind, results),
               blas = extSoftVersion()[["BLAS"]], setter = blas$library,
               blas_threads = blas$threads), args[2])
  quit(save = "no")
}

rscript <- file.path(R.home("bin"), "Rscript")
script <- file.path("bench", "threads.R")
openblas <- Sys.glob("/usr/lib/*/openblas-pthread/libblas.so.3")
blases <- list(reference = character())
if (length(openblas)) {
  path <- paste(c(dirname(openblas[1]), file.path(R.home(), "lib"),
                  Sys.getenv("R_LD_LIBRARY_PATH")), collapse = ":")
  blases$OpenBLAS <- paste0("R_LD_LIBRARY_PATH=", shQuote(path))
} else {
  message("No OpenBLAS (Debian: apt-get install libopenblas0-pthread): the reference BLAS only.")
}
started <- Sys.time()
runs <- lapply(names(blases), function(name) {
  out <- tempfile(fileext = ".rds")
  status <- system2(rscript, c(shQuote(script), "run", shQuote(out)), env = blases[[name]])
  if (status != 0) stop("the ", name, " run failed")
  run <- readRDS(out)
  if (name == "OpenBLAS" && run$setter != "OpenBLAS") stop("the OpenBLAS run did not load OpenBLAS")
  cbind(blas = name, run$results)
})
table <- do.call(rbind, runs)
table$ratio <- table$default_s / table$one_s
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
write.csv(table, file.path(out_dir, "threads.csv"), row.names = FALSE)

lines <- c(
  "# Threads: selu's default against one thread",
  "",
  sprintf(paste(
    "Machine: %s, %d cores, %s. Run: `make bench-threads` (plain Rscript, no environment",
    "settings but the BLAS), %s, %.0f s. A 50-256-256-1 SELU network (Adam, MSE) on 20,000",
    "rows and a 784-256-256-10 one (Adam, softmax cross-entropy) on 10,000: one epoch of",
    "fit(), evaluate() and predict(), at each batch size, with the default",
    "selu_threads() and with selu_threads(1) alternating, the median of 7 repetitions.",
    "selu_threads() bounds OpenBLAS's threads too, so one thread is one core for both."),
    sub("^model name\\s*:\\s*", "", grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1]),
    parallel::detectCores(), R.version.string, format(started, "%Y-%m-%d %H:%M"),
    as.numeric(difftime(Sys.time(), started, units = "secs"))),
  "",
  "| BLAS | network | call | batch | default threads | default s | 1 thread s | default / 1 thread |",
  "|---|---|---|---|---|---|---|---|",
  sprintf("| %s | %s | %s | %d | %d | %.3f | %.3f | %.2f |", table$blas, table$network,
          table$call, table$batch, table$default_threads, table$default_s, table$one_s,
          table$ratio))
writeLines(lines, file.path(out_dir, "threads.md"))
writeLines(lines)
