# Float32 against float64: one epoch of a 784-256-256-10 SELU network on
# 10,000 random rows, Adam, batch 128 and 32, one thread, and a forward pass
# (predict()) on the same rows, on R's reference BLAS and on OpenBLAS, in
# one run; with PyTorch's float64 and float32 epochs beside them when
# python3 imports torch.
#
# Run from the package root with `make bench-float32` (selu installed). Each
# BLAS runs in a plain Rscript of its own (OpenBLAS through
# R_LD_LIBRARY_PATH, Debian's libopenblas0-pthread, without changing the
# machine's default BLAS), then PyTorch on the same BLAS (LD_LIBRARY_PATH:
# Debian's torch uses the system's libblas.so.3). In R the variants
# alternate: float64, float32 with the BLAS's sgemm, float32 with selu's
# portable loops; the median of 3 epochs each. Writes
# bench/results/float32.csv and float32.md, the table into the README
# (between <!-- float32:start --> and <!-- float32:end -->), and prints it.
args <- commandArgs(trailingOnly = TRUE)
out_dir <- file.path("bench", "results")
reps <- 3L
rows <- 1e4
batches <- c(128L, 32L)

if (length(args) == 2 && args[1] == "run") {
  library(selu)
  selu_threads(1)
  set.seed(2017)
  x <- matrix(rnorm(rows * 784), rows)
  y <- sample(0:9, rows, TRUE)
  variants <- list(float64 = list(dtype = "float64", portable = FALSE),
                   float32 = list(dtype = "float32", portable = FALSE),
                   float32_portable = list(dtype = "float32", portable = TRUE))
  network <- function(dtype) {
    model <- keras_model_sequential(input_shape = 784) |>
      layer_dense(256, activation = "selu", kernel_initializer = "lecun_normal", dtype = dtype) |>
      layer_dense(256, activation = "selu", kernel_initializer = "lecun_normal", dtype = dtype) |>
      layer_dense(10, activation = "softmax", dtype = dtype)
    compile(model, optimizer = optimizer_adam(), loss = "sparse_categorical_crossentropy")
    model
  }
  timed <- function(variant, code) {
    old <- options(selu.portable_sgemm = variant$portable)
    on.exit(options(old))
    system.time(code)[["elapsed"]]
  }
  models <- lapply(variants, function(v) network(v$dtype))
  results <- list()
  for (batch in batches) {
    for (name in names(variants)) { # warm-up
      timed(variants[[name]], fit(models[[name]], x[1:1024, ], y[1:1024], batch_size = batch,
                                  epochs = 1, verbose = 0))
    }
    times <- matrix(NA_real_, reps, length(variants), dimnames = list(NULL, names(variants)))
    for (r in seq_len(reps)) {
      for (name in names(variants)) {
        times[r, name] <- timed(variants[[name]], fit(models[[name]], x, y, batch_size = batch,
                                                      epochs = 1, verbose = 0))
      }
    }
    results[[length(results) + 1]] <- data.frame(case = sprintf("epoch, batch %d", batch),
                                                 t(apply(times, 2, median)))
  }
  times <- matrix(NA_real_, reps, length(variants), dimnames = list(NULL, names(variants)))
  for (r in seq_len(reps)) {
    for (name in names(variants)) {
      times[r, name] <- timed(variants[[name]], predict(models[[name]], x, batch_size = rows))
    }
  }
  results[[length(results) + 1]] <- data.frame(case = sprintf("predict %g rows", rows),
                                               t(apply(times, 2, median)))
  saveRDS(list(results = do.call(rbind, results), blas = selu:::blas_threads()$library,
               sgemm = .Call(selu:::C_selu_has_sgemm)), args[2])
  quit(save = "no")
}

rscript <- file.path(R.home("bin"), "Rscript")
script <- file.path("bench", "float32.R")
torch_script <- file.path("bench", "float32_torch.py")
python <- "/usr/bin/python3"
has_torch <- file.exists(python) &&
  system2(python, c("-c", shQuote("import torch")), stdout = FALSE, stderr = FALSE) == 0
openblas <- Sys.glob("/usr/lib/*/openblas-pthread/libblas.so.3")
blases <- list(reference = list(r = character(), py = character()))
if (length(openblas)) {
  path <- paste(c(dirname(openblas[1]), file.path(R.home(), "lib"),
                  Sys.getenv("R_LD_LIBRARY_PATH")), collapse = ":")
  blases$OpenBLAS <- list(r = paste0("R_LD_LIBRARY_PATH=", shQuote(path)),
                          py = paste0("LD_LIBRARY_PATH=", shQuote(dirname(openblas[1]))))
} else {
  message("No OpenBLAS (Debian: apt-get install libopenblas0-pthread): the reference BLAS only.")
}
started <- Sys.time()
table <- do.call(rbind, lapply(names(blases), function(name) {
  out <- tempfile(fileext = ".rds")
  if (system2(rscript, c(shQuote(script), "run", shQuote(out)), env = blases[[name]]$r) != 0) {
    stop("the ", name, " run failed")
  }
  run <- readRDS(out)
  if (name == "OpenBLAS" && run$blas != "OpenBLAS") stop("the OpenBLAS run did not load OpenBLAS")
  res <- run$results
  res$torch_float64 <- res$torch_float32 <- NA_real_
  if (has_torch) {
    answer <- system2(python, c(torch_script, rows, reps, 1, batches), stdout = TRUE,
                      env = blases[[name]]$py)
    torch <- jsonlite::fromJSON(answer[length(answer)])
    for (b in batches) {
      at <- res$case == sprintf("epoch, batch %d", b)
      res$torch_float64[at] <- torch$epoch[[as.character(b)]]$float64
      res$torch_float32[at] <- torch$epoch[[as.character(b)]]$float32
    }
    at <- startsWith(res$case, "predict")
    res$torch_float64[at] <- torch$predict$float64
    res$torch_float32[at] <- torch$predict$float32
  }
  cbind(blas = name, sgemm = run$sgemm, res)
}))
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
write.csv(table, file.path(out_dir, "float32.csv"), row.names = FALSE)
lines <- c(
  "# Float32 against float64",
  "",
  sprintf(paste(
    "Machine: %s, %d cores, %s. Run: `make bench-float32`, %s, %.0f s. One epoch of a",
    "784-256-256-10 SELU network on 10,000 random rows (Adam, one thread), and predict() on",
    "them: selu float64, float32 with the BLAS's sgemm and float32 with selu's portable loops,",
    "alternating, the median of %d; PyTorch %s on the same BLAS, float64 and float32",
    "alternating, the median of %d (its forward pass under no_grad)."),
    sub("^model name\\s*:\\s*", "", grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1]),
    parallel::detectCores(), R.version.string, format(started, "%Y-%m-%d %H:%M"),
    as.numeric(difftime(Sys.time(), started, units = "secs")), reps,
    if (has_torch) system2(python, c("-c", shQuote("import torch; print(torch.__version__)")),
                           stdout = TRUE) else "(not installed)", reps),
  "",
  "| BLAS | case | selu f64 s | selu f32 s | selu f32 portable s | f32 / f64 | torch f64 s | torch f32 s | selu f32 / torch f32 |",
  "|---|---|---|---|---|---|---|---|---|",
  sprintf("| %s | %s | %.3f | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f |", table$blas, table$case,
          table$float64, table$float32, table$float32_portable, table$float32 / table$float64,
          table$torch_float64, table$torch_float32, table$float32 / table$torch_float32))
writeLines(lines, file.path(out_dir, "float32.md"))
writeLines(lines)
readme <- readLines("README.md")
start <- grep("^<!-- float32:start -->$", readme)
end <- grep("^<!-- float32:end -->$", readme)
stopifnot(length(start) == 1, length(end) == 1, start < end)
table_lines <- lines[startsWith(lines, "|")]
writeLines(c(readme[seq_len(start)], table_lines, readme[end:length(readme)]), "README.md")
