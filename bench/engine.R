# The engine's cost for the layers beyond Dense: one epoch of a 784-256-256-10
# network with an L2 penalty on its kernels, batch normalization, PReLU and
# layer normalization, against the plain Dense stack of the same widths, on
# R's reference BLAS and on OpenBLAS, one thread, in one run.
#
# Run from the package root with `make bench-engine` (selu installed). Each
# BLAS runs in a plain Rscript of its own (OpenBLAS through
# R_LD_LIBRARY_PATH, Debian's libopenblas0-pthread, without changing the
# machine's default BLAS); the two networks alternate, the median of 5
# epochs each, on 10,000 random rows with Adam at batch 128 and 32. Writes
# bench/results/engine.csv and engine.md, and prints the table.
args <- commandArgs(trailingOnly = TRUE)
out_dir <- file.path("bench", "results")

if (length(args) == 2 && args[1] == "run") {
  library(selu)
  selu_threads(1)
  set.seed(2017)
  x <- matrix(rnorm(1e4 * 784), 1e4)
  y <- sample(0:9, 1e4, TRUE)
  networks <- list(
    plain = function() {
      keras_model_sequential(input_shape = 784) |>
        layer_dense(256, activation = "selu", kernel_initializer = "lecun_normal") |>
        layer_dense(256, activation = "selu", kernel_initializer = "lecun_normal") |>
        layer_dense(10, activation = "softmax")
    },
    full = function() {
      keras_model_sequential(input_shape = 784) |>
        layer_dense(256, kernel_initializer = "lecun_normal",
                    kernel_regularizer = regularizer_l2(1e-4)) |>
        layer_batch_normalization() |>
        layer_activation_parametric_relu() |>
        layer_dense(256, kernel_initializer = "lecun_normal",
                    kernel_regularizer = regularizer_l2(1e-4)) |>
        layer_layer_normalization() |>
        layer_activation_selu() |>
        layer_dense(10, activation = "softmax")
    })
  results <- list()
  for (batch in c(128L, 32L)) {
    models <- lapply(networks, function(make) {
      model <- make()
      compile(model, optimizer = optimizer_adam(), loss = "sparse_categorical_crossentropy")
      fit(model, x[1:1024, ], y[1:1024], batch_size = batch, epochs = 1, verbose = 0) # warm-up
      model
    })
    times <- matrix(NA_real_, 5, 2, dimnames = list(NULL, names(networks)))
    for (r in 1:5) {
      for (name in names(networks)) {
        times[r, name] <- system.time(
          fit(models[[name]], x, y, batch_size = batch, epochs = 1, verbose = 0))[["elapsed"]]
      }
    }
    results[[length(results) + 1]] <- data.frame(batch = batch, plain_s = median(times[, "plain"]),
                                                 full_s = median(times[, "full"]))
  }
  saveRDS(list(results = do.call(rbind, results), blas = selu:::blas_threads()$library),
          args[2])
  quit(save = "no")
}

rscript <- file.path(R.home("bin"), "Rscript")
script <- file.path("bench", "engine.R")
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
table <- do.call(rbind, lapply(names(blases), function(name) {
  out <- tempfile(fileext = ".rds")
  if (system2(rscript, c(shQuote(script), "run", shQuote(out)), env = blases[[name]]) != 0) {
    stop("the ", name, " run failed")
  }
  run <- readRDS(out)
  if (name == "OpenBLAS" && run$blas != "OpenBLAS") stop("the OpenBLAS run did not load OpenBLAS")
  cbind(blas = name, run$results)
}))
table$ratio <- table$full_s / table$plain_s
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
write.csv(table, file.path(out_dir, "engine.csv"), row.names = FALSE)
lines <- c(
  "# The engine: normalization, PReLU and penalties against the plain Dense stack",
  "",
  sprintf(paste(
    "Machine: %s, %d cores, %s. Run: `make bench-engine`, %s, %.0f s. One epoch of a",
    "784-256-256-10 network on 10,000 random rows, Adam, one thread: plain (SELU Dense",
    "layers) against full (L2 penalties on the kernels, batch normalization, PReLU, layer",
    "normalization), the two alternating, the median of 5 epochs. Target: full at most 1.5",
    "times plain."),
    sub("^model name\\s*:\\s*", "", grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1]),
    parallel::detectCores(), R.version.string, format(started, "%Y-%m-%d %H:%M"),
    as.numeric(difftime(Sys.time(), started, units = "secs"))),
  "",
  "| BLAS | batch | plain s | full s | full / plain |",
  "|---|---|---|---|---|",
  sprintf("| %s | %d | %.3f | %.3f | %.2f |", table$blas, table$batch, table$plain_s,
          table$full_s, table$ratio))
writeLines(lines, file.path(out_dir, "engine.md"))
writeLines(lines)
