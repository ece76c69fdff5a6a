# Training speed of selu against PyTorch, in one run.
#
# Run from the package root with `make bench-train` (selu installed): plain
# Rscript, as a user runs it, no environment settings. For 1 and 2 threads
# (selu_threads(); torch.set_num_threads()), it times one epoch of a
# 784-256-256-10 SELU network on 10,000 random rows at batch 128 and 32, one
# epoch of a small tabular network (9-32-32-32-32-1, sigmoid output) on 700
# rows, and predict() on 1e5 rows, each against PyTorch on the same data and
# the same initial weights; then the memory of fit() on a 1e5 x 784 input (a
# fresh Rscript) and a profile of the batch-32 epoch. Writes
# bench/results/train.csv, train.md and train-profile.txt, and prints the
# table. PyTorch runs in one Python process per thread count ($PYTHON, else
# python3, else /usr/bin/python3: the first that imports torch), driven over a
# local socket so that its repetitions alternate with selu's and share the
# machine's noise. Without one, the selu figures alone.
library(selu)

args <- commandArgs(trailingOnly = TRUE)
out_dir <- file.path("bench", "results")
torch_script <- file.path("bench", "train_torch.py")

# The networks: SELU hidden layers, LeCun normal, Adam with keras' defaults.
network <- function(sizes, output_activation) {
  model <- keras_model_sequential(input_shape = sizes[1])
  hidden <- sizes[-c(1, length(sizes))]
  for (units in hidden) {
    model <- layer_dense(model, units, kernel_initializer = "lecun_normal", activation = "selu")
  }
  layer_dense(model, sizes[length(sizes)], kernel_initializer = "lecun_normal",
              activation = output_activation)
}
mnist_sizes <- c(784, 256, 256, 10)

vm_bytes <- function(key) {
  line <- grep(paste0("^", key, ":"), readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", line)) * 1024
}

# The memory child (`Rscript bench/train.R memory OUT.rds`): the peak RSS of
# fit() on 1e5 x 784, first, in a process that holds little but x; then
# what one epoch at batch 128 allocates per step (10,000 rows, R's
# allocations as Rprofmem sees them).
if (length(args) == 2 && args[1] == "memory") {
  set.seed(2017)
  rows <- 1e5
  x <- rnorm(rows * mnist_sizes[1])
  dim(x) <- c(rows, mnist_sizes[1])
  y <- sample(0:9, rows, replace = TRUE)
  model <- network(mnist_sizes, "softmax")
  compile(model, optimizer = optimizer_adam(), loss = "sparse_categorical_crossentropy")
  big_file <- tempfile()
  before <- vm_bytes("VmRSS")
  gc_before <- gc(reset = TRUE)
  writeLines("5", "/proc/self/clear_refs") # the peak RSS starts again from here
  Rprofmem(big_file, threshold = 1e7) # R's allocations above 10 MB, with their calls
  seconds <- system.time(
    fit(model, x, y, batch_size = 128, epochs = 1, verbose = 0), gcFirst = FALSE)[["elapsed"]]
  Rprofmem(NULL)
  peak <- vm_bytes("VmHWM")
  gc_after <- gc()
  big <- grep("^[0-9]+ ?:", readLines(big_file), value = TRUE)
  big <- data.frame(bytes = as.numeric(sub(" ?:.*", "", big)), calls = sub("^[0-9]+ ?:", "", big))
  big <- big[order(-big$bytes), ]
  max_used <- function(g) sum(g[, match("max used", colnames(g)) + 1]) * 2^20
  # then the allocations per step, from a new optimizer
  x_small <- x[1:1e4, ]
  y_small <- y[1:1e4]
  compile(model, optimizer = optimizer_adam(), loss = "sparse_categorical_crossentropy")
  profiled <- bench::bench_memory(
    fit(model, x_small, y_small, batch_size = 128, epochs = 1, verbose = 0))
  allocations <- profiled$memory[[1]]
  per_step <- list(rows = 1e4, steps = ceiling(1e4 / 128),
                   bytes = as.numeric(profiled$mem_alloc),
                   largest = max(c(0, allocations$bytes), na.rm = TRUE),
                   count = nrow(allocations), x_bytes = as.numeric(object.size(x_small)))
  saveRDS(list(x_bytes = as.numeric(object.size(x)), rss_before = before, peak = peak,
               r_max_used = max_used(gc_after), r_used_before = sum(gc_before[, 2]) * 2^20,
               seconds = seconds, big = big, per_step = per_step), args[2])
  quit(save = "no")
}

threads <- c(1L, 2L)
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
# OpenBLAS, when R's BLAS is OpenBLAS, runs as many threads as each side is given
source(file.path("bench", "build.R"))
build_and_load("blas_threads")
set_blas_threads <- function(n) .Call("set_blas_threads", as.integer(n), PACKAGE = "blas_threads")
work_dir <- tempfile("selu-train-bench-")
dir.create(work_dir)
started <- proc.time()[["elapsed"]]
load_average <- function() paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3], collapse = ", ")
load_at_start <- load_average()

pythons <- unique(c(Sys.getenv("PYTHON"), "python3", "/usr/bin/python3"))
pythons <- pythons[nzchar(pythons) & nzchar(Sys.which(pythons))]
imports_torch <- vapply(pythons, function(py) {
  system2(py, c("-c", shQuote("import torch")), stdout = FALSE, stderr = FALSE) == 0
}, logical(1))
has_torch <- any(imports_torch)
python <- if (has_torch) pythons[imports_torch][1]

# One workload's data, initial weights and spec in a folder for PyTorch:
# doubles as writeBin() writes them, x by rows, each kernel (inputs x units,
# column-major) as it stands, which is torch's (units, inputs) by rows.
write_workload <- function(w, folder) {
  dir.create(folder)
  put <- function(value, name) writeBin(as.double(value), file.path(folder, name))
  put(t(w$x), "x.f64")
  put(w$y, "y.f64")
  for (i in seq_len(length(w$initial) / 2)) {
    put(w$initial[[2 * i - 1]], sprintf("w%d.f64", i))
    put(w$initial[[2 * i]], sprintf("b%d.f64", i))
  }
  jsonlite::write_json(list(sizes = w$sizes, batch = w$batch, tile = w$tile,
                            loss = if (w$loss == "binary_crossentropy") "bce" else "ce"),
                       file.path(folder, "spec.json"), auto_unbox = TRUE)
  folder
}

workload <- function(key, label, sizes, rows, batch, output, loss, reps, target, tile = 1) {
  set.seed(2017)
  x <- matrix(rnorm(rows * sizes[1]), rows)
  y <- if (loss == "binary_crossentropy") sample(0:1, rows, TRUE) else sample(0:9, rows, TRUE)
  model <- network(sizes, output)
  w <- list(key = key, label = label, sizes = sizes, batch = batch, x = x, y = y, loss = loss,
            model = model, initial = get_weights(model), reps = reps, target = target,
            tile = tile)
  w$dir <- write_workload(w, file.path(work_dir, key))
  w
}

# Repetitions: fewer for the slow cases, to keep the run near 10 minutes.
workloads <- list(
  workload("mnist-128", "784-256-256-10 epoch, 10,000 rows, batch 128", mnist_sizes, 1e4, 128,
           "softmax", "sparse_categorical_crossentropy", reps = 3, target = 1, tile = 10),
  workload("mnist-32", "784-256-256-10 epoch, 10,000 rows, batch 32", mnist_sizes, 1e4, 32,
           "softmax", "sparse_categorical_crossentropy", reps = 3, target = 1.25),
  workload("tabular-32", "9-32-32-32-32-1 epoch, 700 rows, batch 32", c(9, 32, 32, 32, 32, 1),
           700, 32, "sigmoid", "binary_crossentropy", reps = 15, target = 1))
predict_reps <- 1 # each call takes 15 to 40 s here, on the reference BLAS
predict_x <- workloads[[1]]$x[rep(seq_len(1e4), 10), ] # 1e5 rows, as PyTorch tiles them
predict_batch <- 1e4

# Wall-clock seconds, after an untimed gc() as system.time() does, to the
# microsecond (the tabular epoch is a few hundredths of a second).
elapsed <- function(expr) {
  invisible(gc())
  start <- bench::hires_time()
  force(expr)
  as.numeric(bench::hires_time() - start)
}
# Each repetition starts from the same weights and a new optimizer.
selu_epoch <- function(w, rows = nrow(w$x)) {
  set_weights(w$model, w$initial)
  compile(w$model, optimizer = optimizer_adam(), loss = w$loss)
  x <- if (rows < nrow(w$x)) w$x[seq_len(rows), , drop = FALSE] else w$x
  y <- w$y[seq_len(rows)]
  elapsed(fit(w$model, x, y, batch_size = w$batch, epochs = 1, verbose = 0, shuffle = TRUE))
}
selu_predict <- function(w, x, batch) {
  set_weights(w$model, w$initial)
  elapsed(predict(w$model, x, batch_size = batch))
}

# A PyTorch process answering train_torch.py's commands, one line each way.
torch_session <- function(nt) {
  port_file <- file.path(work_dir, sprintf("port-%d", nt))
  system2(python, c(torch_script, "serve", port_file), wait = FALSE)
  waited <- 0
  while (!file.exists(port_file)) {
    if (waited > 120) stop("PyTorch did not start: see its messages above")
    Sys.sleep(0.1)
    waited <- waited + 0.1
  }
  con <- socketConnection("127.0.0.1", as.integer(readLines(port_file)), blocking = TRUE,
                          open = "r+", timeout = 900)
  ask <- function(...) {
    writeLines(paste(...), con)
    flush(con)
    answer <- readLines(con, n = 1)
    if (length(answer) == 0) stop("PyTorch stopped: see its messages above")
    answer
  }
  ask("threads", nt)
  list(ask = ask, close = function() {
    writeLines("quit", con)
    close(con)
  })
}

timings <- list()
record <- function(case, nt, impl, seconds) {
  timings[[length(timings) + 1]] <<- data.frame(case = case, threads = nt, impl = impl,
                                                seconds = seconds)
}
torch_info <- NULL
for (nt in threads) {
  selu_threads(nt)
  set_blas_threads(nt)
  torch <- if (has_torch) torch_session(nt)
  if (has_torch && is.null(torch_info)) torch_info <- jsonlite::fromJSON(torch$ask("info"))
  for (w in workloads) {
    # a warm-up on the first 10 batches, then R and PyTorch in turn
    selu_epoch(w, rows = min(nrow(w$x), 10 * w$batch))
    if (has_torch) torch$ask("warmup", w$dir)
    for (r in seq_len(w$reps)) {
      record(w$key, nt, "selu", selu_epoch(w))
      if (has_torch) record(w$key, nt, "torch", as.numeric(torch$ask("epoch", w$dir)))
    }
    cat(sprintf("measured %s, %d thread%s\n", w$label, nt, if (nt > 1) "s" else ""))
  }
  w <- workloads[[1]]
  invisible(predict(w$model, w$x, batch_size = 32))
  invisible(predict(w$model, w$x, batch_size = predict_batch))
  for (r in seq_len(predict_reps)) {
    record("predict-32", nt, "selu", selu_predict(w, predict_x, 32))
    record(sprintf("predict-%g", predict_batch), nt, "selu",
           selu_predict(w, predict_x, predict_batch))
    if (has_torch) record("predict-all", nt, "torch", as.numeric(torch$ask("predict", w$dir)))
  }
  cat(sprintf("measured predict() on 1e5 rows, %d thread%s\n", nt, if (nt > 1) "s" else ""))
  if (has_torch) torch$close()
}
timings <- do.call(rbind, timings)
timed_seconds <- proc.time()[["elapsed"]] - started

# Memory, in a fresh R and a fresh Python.
memory_file <- file.path(work_dir, "memory.rds")
status <- system2(file.path(R.home("bin"), "Rscript"), c(file.path("bench", "train.R"), "memory",
                                                       memory_file))
stopifnot(status == 0)
memory <- readRDS(memory_file)
torch_steps <- 100 # its peak is reached in the first steps; a whole epoch is a minute here
torch_memory <- if (has_torch) {
  jsonlite::fromJSON(system2(python, c(torch_script, "memory", 1e5, 784, 128, torch_steps, 1),
                             stdout = TRUE))
}
cat("measured memory\n")

# The profile of the batch-32 epoch, one thread: Rprof over two epochs, then
# perf (when it is installed and allowed) over one.
selu_threads(1)
set_blas_threads(1)
w <- workloads[[2]]
prof_file <- file.path(work_dir, "Rprof.out")
set_weights(w$model, w$initial)
compile(w$model, optimizer = optimizer_adam(), loss = w$loss)
Rprof(prof_file, interval = 0.002, line.profiling = FALSE)
profiled_seconds <- elapsed(fit(w$model, w$x, w$y, batch_size = 32, epochs = 2, verbose = 0))
Rprof(NULL)
profile <- summaryRprof(prof_file)
stacks <- lapply(strsplit(readLines(prof_file)[-1], " "), function(s) gsub('"', "", s))
stacks <- Filter(length, stacks)
innermost <- vapply(stacks, `[`, "", 1)
caller <- vapply(stacks, function(s) if (length(s) > 1) s[2] else "", "")
# Rprof counts a .Call's time to the R function that makes it: a training
# step is one .Call in engine_step(), BLAS and the package's C together,
# which perf's split below takes apart.
group <- ifelse(innermost == "engine_step",
                "the engine's training step (engine_step()'s .Call: BLAS and selu's C, split by perf)",
                "R interpreter and R's own built-ins (everything else)")
groups <- sort(table(group), decreasing = TRUE)
groups <- data.frame(group = names(groups), share = as.numeric(groups) / length(group))
profile_text <- c(
  "Rprof (interval 2 ms) of two epochs of the 784-256-256-10 network at batch 32, 10,000 rows,",
  sprintf(paste("1 thread: %d samples, %.1f s sampled of %.1f s wall (the system's timer may tick",
                "more coarsely than 2 ms; the shares are what count)."),
          length(stacks), profile$sampling.time, profiled_seconds), "",
  "Self time by group (innermost frame of each sample):",
  sprintf("  %5.1f%%  %s", 100 * groups$share, groups$group), "",
  "summaryRprof() by.self, top 25:",
  utils::capture.output(print(utils::head(profile$by.self, 25))), "",
  "summaryRprof() by.total, top 25:",
  utils::capture.output(print(utils::head(profile$by.total, 25))))

perf_lines <- NULL
if (nzchar(Sys.which("perf"))) {
  perf_data <- file.path(work_dir, "perf.data")
  perf_pid <- system(sprintf("perf record -e cpu-clock -F 999 -p %d -o %s >%s 2>&1 & echo $!",
                             Sys.getpid(), perf_data, file.path(work_dir, "perf.log")),
                     intern = TRUE)
  Sys.sleep(1)
  set_weights(w$model, w$initial)
  compile(w$model, optimizer = optimizer_adam(), loss = w$loss)
  perf_seconds <- elapsed(fit(w$model, w$x, w$y, batch_size = 32, epochs = 1, verbose = 0))
  tools::pskill(as.integer(perf_pid), tools::SIGINT)
  system(sprintf("while kill -0 %s 2>/dev/null; do sleep 0.1; done", perf_pid))
  report <- function(sort) {
    suppressWarnings(system(sprintf("perf report -i %s --stdio --no-children --sort %s 2>/dev/null",
                                    perf_data, sort), intern = TRUE))
  }
  by_dso <- grep("^ *[0-9.]+%", report("dso"), value = TRUE)
  by_symbol <- grep("^ *[0-9.]+%", report("dso,symbol"), value = TRUE)
  if (length(by_dso)) {
    perf_lines <- c(
      sprintf(paste("perf record -e cpu-clock (999 Hz) of one epoch of the same, 1 thread, attached",
                    "to R during fit() (%.1f s):"), perf_seconds),
      "", "By shared object (libblas: BLAS; selu.so: the package's kernels; libR.so: R's interpreter",
      "and built-ins; libc, libm, the kernel: memory and the rest):", by_dso, "",
      "Top 30 symbols:", utils::head(by_symbol, 30))
  }
}
writeLines(c(profile_text, if (length(perf_lines)) c("", perf_lines)),
           file.path(out_dir, "train-profile.txt"))
cat("measured the profile\n")

# The table.
times_of <- function(case, nt, impl) {
  timings$seconds[timings$case == case & timings$threads == nt & timings$impl == impl]
}
summary_of <- function(f) function(case, nt, impl) {
  v <- times_of(case, nt, impl)
  if (length(v)) f(v) else NA_real_
}
median_of <- summary_of(stats::median)
min_of <- summary_of(min)
max_of <- summary_of(max)
comparisons <- rbind(
  do.call(rbind, lapply(workloads, function(w) data.frame(
    workload = w$label, selu = w$key, torch = w$key, target = w$target))),
  data.frame(workload = c("predict() 1e5 rows: selu batch 32, torch all rows at once",
                          sprintf("predict() 1e5 rows: selu batch %g, torch all rows at once",
                                  predict_batch)),
             selu = c("predict-32", sprintf("predict-%g", predict_batch)),
             torch = "predict-all", target = 1))
table <- do.call(rbind, lapply(threads, function(nt) {
  data.frame(workload = comparisons$workload, threads = nt,
             selu_seconds = mapply(median_of, comparisons$selu, nt, "selu"),
             torch_seconds = mapply(median_of, comparisons$torch, nt, "torch"),
             reps = lengths(mapply(times_of, comparisons$selu, nt, "selu", SIMPLIFY = FALSE)),
             target = comparisons$target,
             selu_min = mapply(min_of, comparisons$selu, nt, "selu"),
             selu_max = mapply(max_of, comparisons$selu, nt, "selu"),
             torch_min = mapply(min_of, comparisons$torch, nt, "torch"),
             torch_max = mapply(max_of, comparisons$torch, nt, "torch"), row.names = NULL)
}))
table <- table[order(match(table$workload, comparisons$workload), table$threads), ]
table$ratio <- table$selu_seconds / table$torch_seconds
table$met <- ifelse(is.na(table$target) | is.na(table$ratio), "-",
                    ifelse(table$ratio <= table$target, "yes", "NO"))
seconds_columns <- grep("seconds|_min|_max", names(table))
table[seconds_columns] <- lapply(table[seconds_columns], signif, 4)
table$ratio <- signif(table$ratio, 3)
write.csv(table, file.path(out_dir, "train.csv"), row.names = FALSE)

mb <- function(bytes) sprintf("%.1f MB", bytes / 1e6)
step <- memory$per_step
width_bytes <- 128 * 256 * 8
memory_rows <- rbind(
  c("fit(), 1e5 x 784 input at batch 128, 1 epoch: peak RSS / size of x (target below 1.5)",
    sprintf("%.2f (peak %s, x %s)", memory$peak / memory$x_bytes, mb(memory$peak),
            mb(memory$x_bytes)), if (memory$peak / memory$x_bytes < 1.5) "yes" else "NO"),
  c("the same: RSS before fit() / size of x (R, the package and x itself)",
    sprintf("%.2f (%s)", memory$rss_before / memory$x_bytes, mb(memory$rss_before)), "-"),
  c("the same: (peak RSS - RSS before fit()) / size of x, what fit() added",
    sprintf("%.2f (%s)", (memory$peak - memory$rss_before) / memory$x_bytes,
            mb(memory$peak - memory$rss_before)), "-"),
  c("the same: R's heap, gc() max used during fit() / size of x",
    sprintf("%.2f (%s)", memory$r_max_used / memory$x_bytes, mb(memory$r_max_used)), "-"),
  c("the same: R's allocations above 10 MB during fit() (Rprofmem)",
    if (nrow(memory$big) == 0) "none" else sprintf("%d, the largest %s from %s", nrow(memory$big),
                                                   mb(memory$big$bytes[1]), memory$big$calls[1]),
    if (nrow(memory$big) == 0) "yes" else "NO"),
  c(sprintf("R allocations per step, epoch of 10,000 rows at batch 128 (%d steps)", step$steps),
    sprintf("%s per step = %.1f x (batch x width x 8 = 128 x 256 x 8 = %s), %.3f x size of x (%s)",
            mb(step$bytes / step$steps), step$bytes / step$steps / width_bytes, mb(width_bytes),
            step$bytes / step$steps / step$x_bytes, mb(step$x_bytes)), "-"),
  c("the same: the largest single allocation / size of x (a copy of x would be 1)",
    sprintf("%.4f (%s, of %d allocations)", step$largest / step$x_bytes, mb(step$largest),
            step$count), if (step$largest < 0.5 * step$x_bytes) "yes" else "NO"))
if (has_torch) {
  memory_rows <- rbind(memory_rows, c(
    sprintf("PyTorch, the same 1e5 x 784 at batch 128, first %d steps: peak RSS / size of x",
            torch_memory$steps),
    sprintf("%.2f (peak %s; before training %s: %.2f x)", torch_memory$peak_bytes /
              torch_memory$x_bytes, mb(torch_memory$peak_bytes), mb(torch_memory$before_fit_bytes),
            torch_memory$before_fit_bytes / torch_memory$x_bytes), "-"))
}

blas_target <- Sys.readlink("/usr/lib/x86_64-linux-gnu/libblas.so.3")
blas_resolved <- system2("readlink", c("-f", "/usr/lib/x86_64-linux-gnu/libblas.so.3"),
                         stdout = TRUE)
cpu <- sub(".*: ", "", grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1])
machine <- sprintf("%s, %d cores, %s, selu %s (kernels: %s)%s", cpu, parallel::detectCores(),
                   R.version.string, utils::packageVersion("selu"), selu:::kernel_isa(),
                   if (has_torch) paste0(", PyTorch ", torch_info$version) else ", no PyTorch")
fmt <- function(v, digits = 3) ifelse(is.na(v), "-", formatC(v, digits = digits, format = "f"))
report <- c(
  "# Training speed: selu against PyTorch", "",
  paste0("Machine: ", machine, "."),
  sprintf(paste("Run: `make bench-train` (plain Rscript, no environment settings), %s, the",
                "comparisons %.0f s, the whole run %.0f s; the machine's load average (1, 5 and",
                "15 minutes) %s at the start, %s at the end (other work shares the machine;",
                "train.csv has each case's fastest and slowest repetitions). float64 on both",
                "sides, the same random data and initial weights, Adam (lr 0.001, betas",
                "0.9/0.999, eps 1e-7: keras adds it to sqrt(v) before the bias correction,",
                "torch after, the same work), shuffled epochs;",
                "median seconds of the repetitions, selu's and PyTorch's alternating, each",
                "from the initial weights and a new optimizer, after a warm-up on 10 batches."),
          format(Sys.time(), "%Y-%m-%d %H:%M"), timed_seconds,
          proc.time()[["elapsed"]] - started, load_at_start, load_average()),
  paste("PyTorch: `model.train()`, a `randperm` per epoch, for each batch `zero_grad`, forward,",
        "`CrossEntropyLoss` on the logits (`BCEWithLogitsLoss` for the tabular network),",
        "`backward`, `step`; predict: `with torch.no_grad(): model(x)`. selu: `fit(verbose = 0)`",
        "with a softmax output and `sparse_categorical_crossentropy` (sigmoid and",
        "`binary_crossentropy`), fused with the output as keras does; `predict()`."), "",
  "| workload | threads | selu s | PyTorch s | selu / PyTorch | target | met | reps |",
  "|---|---|---|---|---|---|---|---|",
  sprintf("| %s | %d | %s | %s | %s | %s | %s | %d |", table$workload, table$threads,
          fmt(table$selu_seconds), fmt(table$torch_seconds), fmt(table$ratio, 2),
          ifelse(is.na(table$target), "-", sprintf("at most %g", table$target)), table$met,
          table$reps), "",
  "## Memory", "",
  "| measure | value | met |", "|---|---|---|",
  sprintf("| %s | %s | %s |", memory_rows[, 1], memory_rows[, 2], memory_rows[, 3]), "",
  sprintf(paste("The fit() on 1e5 rows ran in a fresh Rscript (it took %.1f s); the peak is",
                "VmHWM after resetting it (/proc/self/clear_refs) just before fit(). R's",
                "allocations per step are those Rprofmem records (bench::bench_memory()),",
                "not C's malloc()."), memory$seconds), "",
  "## BLAS", "",
  sprintf("- R: `La_library()` %s; `extSoftVersion()[\"BLAS\"]` %s; `sessionInfo()$BLAS` %s.",
          La_library(), extSoftVersion()[["BLAS"]], sessionInfo()$BLAS),
  sprintf("- /usr/lib/x86_64-linux-gnu/libblas.so.3 -> %s, resolving to %s.",
          if (is.na(blas_target)) "-" else blas_target, blas_resolved),
  if (has_torch) sprintf("- PyTorch %s: %s; BLAS loaded in its process: %s.", torch_info$version,
                         torch_info$blas_info, paste(torch_info$blas_loaded, collapse = ", ")),
  "", "## Profile of the batch-32 epoch", "",
  paste("From bench/results/train-profile.txt (Rprof, one thread), self time by group. Rprof",
        "counts a .Call's time to the R function that makes it, so C code that runs a whole",
        "training step falls under that function's name; perf's split by shared object below",
        "sees inside it."), "",
  sprintf("- %.1f%% %s", 100 * groups$share, groups$group),
  if (length(perf_lines)) c("", "perf, by shared object:", "", "```",
                            utils::head(by_dso, 8), "```"))
writeLines(report, file.path(out_dir, "train.md"))

options(width = 150)
cat("\n", machine, "\n\n", sep = "")
print(table[c("workload", "threads", "selu_seconds", "torch_seconds", "ratio", "target", "met",
              "reps")], row.names = FALSE, right = FALSE)
cat("\n")
cat(sprintf("%s: %s%s\n", memory_rows[, 1], memory_rows[, 2],
            ifelse(memory_rows[, 3] == "-", "", paste0(" (met: ", memory_rows[, 3], ")"))), sep = "")
cat("\n", paste(profile_text[seq_len(4 + nrow(groups))], collapse = "\n"), "\n", sep = "")
if (length(perf_lines)) cat("\nperf by shared object:\n", paste(head(by_dso, 8), collapse = "\n"),
                            "\n", sep = "")
unlink(work_dir, recursive = TRUE)
cat("\nWrote", file.path(out_dir, c("train.csv", "train.md", "train-profile.txt")), "\n")
