# Training speed of selu against PyTorch, on both BLASes and in both dtypes, in
# one run.
#
# Run from the package root with `make bench-train` (selu installed). Each BLAS
# runs in a plain Rscript of its own, as a user runs it: R's reference BLAS
# (Debian's libblas3) and, when installed, OpenBLAS (Debian's
# libopenblas0-pthread), each chosen through R_LD_LIBRARY_PATH without
# changing the machine's default BLAS. In each, at 1 and 2 threads
# (selu_threads(); torch.set_num_threads(), and the BLAS's threads on both
# sides), float64 and float32 (layers with dtype = "float32"; PyTorch's
# model and data .float()): one epoch of a 784-256-256-10 SELU network on
# 10,000 random rows at batch 128 and 32, one epoch of a small tabular
# network (9-32-32-32-32-1, sigmoid output) on 700 rows, and predict() on 1e5
# rows, each against PyTorch on the same data, the same initial weights and
# the same BLAS (its process given the BLAS's directory first in
# LD_LIBRARY_PATH: Debian's torch loads the system's libblas.so.3). On the
# reference BLAS selu's float32 is also timed with its portable loops
# (options(selu.portable_sgemm = TRUE)), against PyTorch's float32. Each
# process checks which BLAS it loaded: the run stops when the OpenBLAS run
# did not load OpenBLAS in R or in PyTorch, or the reference run did. The
# OpenBLAS run (else the reference one) then measures the memory of fit() on
# a 1e5 x 784 input in float64 (a fresh Rscript) and profiles the float64
# batch-32 epoch.
#
# Writes bench/results/train.csv, train.md and train-profile.txt, the README's
# tables (OpenBLAS between <!-- train:start --> and <!-- train:end -->, the
# reference BLAS between <!-- train-reference:start --> and
# <!-- train-reference:end -->), and prints the table. About 12 minutes on
# the 2-core machine. PyTorch runs in one Python process per BLAS and thread
# count ($PYTHON, else python3, else /usr/bin/python3: the first that imports
# torch), driven over a local socket so that its repetitions alternate with
# selu's and share the machine's noise. Without one, the selu figures alone.
#
# `Rscript bench/train.R quick` (or SELU_BENCH_QUICK=true) runs every case
# once on smaller data, in a few minutes, to check the benchmark itself; it
# writes its tables to $SELU_BENCH_OUT, else to selu-bench-train-quick in the
# temporary directory, and leaves bench/results and the README alone.
#
# The processes: `Rscript bench/train.R [quick]` starts, for each BLAS,
# `Rscript bench/train.R run BLAS DIR OUT.rds [profile]`, which starts the
# PyTorch processes and, with `profile`, `Rscript bench/train.R memory OUT.rds
# ROWS`.
args <- commandArgs(trailingOnly = TRUE)
if ("quick" %in% args) Sys.setenv(SELU_BENCH_QUICK = "true") # the children inherit it
args <- setdiff(args, "quick")
quick <- tolower(Sys.getenv("SELU_BENCH_QUICK")) %in% c("true", "yes", "1")
script <- file.path("bench", "train.R")
torch_script <- file.path("bench", "train_torch.py")
rscript <- file.path(R.home("bin"), "Rscript")

# The sizes: the full run's, or the quick run's.
size <- if (quick) {
  list(rows = 2000, tabular_rows = 700, tile = 2, predict_batch = 2000, memory_rows = 2e4,
       torch_memory_steps = 20)
} else {
  list(rows = 1e4, tabular_rows = 700, tile = 10, predict_batch = 1e4, memory_rows = 1e5,
       torch_memory_steps = 100) # PyTorch's peak is reached in the first steps
}
# Repetitions, fewer where a case is slow: on the reference BLAS an epoch of
# the large network takes about 4 s a side and predict() 15 to 30 s; on
# OpenBLAS an eighth of that, and its rows carry the targets.
reps_for <- function(blas) {
  if (quick) return(list(epoch = 1, tabular = 1, predict = 1))
  if (blas == "OpenBLAS") list(epoch = 7, tabular = 25, predict = 3)
  else list(epoch = 3, tabular = 15, predict = 1)
}
threads <- c(1L, 2L)
mnist_sizes <- c(784, 256, 256, 10)

# Environments for a BLAS's directory (NA: the machine's default BLAS): R's
# for a child Rscript, set by the parent (its own children inherit it), and
# the dynamic loader's for PyTorch.
search_path <- function(...) {
  path <- unlist(strsplit(c(...), ":"))
  paste(unique(path[nzchar(path)]), collapse = ":")
}
r_env <- function(dir) {
  if (is.na(dir)) return(character())
  paste0("R_LD_LIBRARY_PATH=",
         shQuote(search_path(dir, file.path(R.home(), "lib"), Sys.getenv("R_LD_LIBRARY_PATH"))))
}
python_env <- function(dir) {
  if (is.na(dir)) return(character())
  paste0("LD_LIBRARY_PATH=", shQuote(search_path(dir, Sys.getenv("LD_LIBRARY_PATH"))))
}
is_openblas <- function(paths) any(grepl("openblas", paths, ignore.case = TRUE))
# Stops unless the BLAS loaded (by R, or by PyTorch) is the run's.
check_blas <- function(blas, side, loaded) {
  if (blas == "OpenBLAS" && !is_openblas(loaded)) {
    stop(sprintf("the OpenBLAS run did not load OpenBLAS in %s (it loaded: %s)", side,
                 paste(loaded, collapse = ", ")), call. = FALSE)
  }
  if (blas != "OpenBLAS" && is_openblas(loaded)) {
    stop(sprintf("the %s run loaded OpenBLAS in %s (%s)", blas, side,
                 paste(loaded, collapse = ", ")), call. = FALSE)
  }
}

vm_bytes <- function(key) {
  line <- grep(paste0("^", key, ":"), readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", line)) * 1024
}
load_average <- function() paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3], collapse = ", ")

# The networks: SELU hidden layers, LeCun normal, Adam with keras' defaults.
network <- function(sizes, output_activation, dtype = "float64") {
  model <- selu::keras_model_sequential(input_shape = sizes[1])
  hidden <- sizes[-c(1, length(sizes))]
  for (units in hidden) {
    model <- selu::layer_dense(model, units, kernel_initializer = "lecun_normal",
                               activation = "selu", dtype = dtype)
  }
  selu::layer_dense(model, sizes[length(sizes)], kernel_initializer = "lecun_normal",
                    activation = output_activation, dtype = dtype)
}

# The memory child (`Rscript bench/train.R memory OUT.rds ROWS`): the peak RSS
# of fit() on ROWS x 784 (float64), first, in a process that holds little but
# x; then what one epoch at batch 128 allocates per step (10,000 rows, R's
# allocations as Rprofmem sees them).
if (length(args) == 3 && args[1] == "memory") {
  library(selu)
  set.seed(2017)
  rows <- as.numeric(args[3])
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
  step_rows <- min(rows, 1e4)
  x_small <- x[seq_len(step_rows), ]
  y_small <- y[seq_len(step_rows)]
  compile(model, optimizer = optimizer_adam(), loss = "sparse_categorical_crossentropy")
  profiled <- bench::bench_memory(
    fit(model, x_small, y_small, batch_size = 128, epochs = 1, verbose = 0))
  allocations <- profiled$memory[[1]]
  per_step <- list(rows = step_rows, steps = ceiling(step_rows / 128),
                   bytes = as.numeric(profiled$mem_alloc),
                   largest = max(c(0, allocations$bytes), na.rm = TRUE),
                   count = nrow(allocations), x_bytes = as.numeric(object.size(x_small)))
  saveRDS(list(blas = extSoftVersion()[["BLAS"]], rows = rows, x_bytes = as.numeric(object.size(x)), rss_before = before,
               peak = peak, r_max_used = max_used(gc_after),
               r_used_before = sum(gc_before[, 2]) * 2^20, seconds = seconds, big = big,
               per_step = per_step), args[2])
  quit(save = "no")
}

# A BLAS's child (`Rscript bench/train.R run BLAS DIR OUT.rds [profile]`, DIR
# the BLAS's directory or NA): every case, selu and PyTorch alternating.
if (length(args) >= 4 && args[1] == "run") {
  library(selu)
  blas <- args[2]
  blas_dir <- if (args[3] == "NA") NA_character_ else args[3]
  out_file <- args[4]
  profile_here <- "profile" %in% args[-(1:4)]
  reps <- reps_for(blas)
  started <- proc.time()[["elapsed"]]
  load_at_start <- load_average()
  r_blas <- list(setter = selu:::blas_threads()$library, la_library = La_library(),
                 blas = extSoftVersion()[["BLAS"]], session = sessionInfo()$BLAS,
                 sgemm = .Call(selu:::C_selu_has_sgemm),
                 r_ld_library_path = Sys.getenv("R_LD_LIBRARY_PATH"))
  check_blas(blas, "R", c(r_blas$blas, if (r_blas$setter == "OpenBLAS") "OpenBLAS"))
  # OpenBLAS, when R's BLAS is OpenBLAS, runs as many threads as each side is given
  source(file.path("bench", "build.R"))
  build_and_load("blas_threads")
  set_blas_threads <- function(n) .Call("set_blas_threads", as.integer(n), PACKAGE = "blas_threads")
  work_dir <- tempfile("selu-train-bench-")
  dir.create(work_dir)

  pythons <- unique(c(Sys.getenv("PYTHON"), "python3", "/usr/bin/python3"))
  pythons <- pythons[nzchar(pythons) & nzchar(Sys.which(pythons))]
  imports_torch <- vapply(pythons, function(py) {
    system2(py, c("-c", shQuote("import torch")), stdout = FALSE, stderr = FALSE,
            env = python_env(blas_dir)) == 0
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
  # A float64 and a float32 model of the network, with the same initial
  # weights (float32 rounds them).
  workload <- function(key, sizes, rows, batch, output, loss, reps, tile = 1) {
    set.seed(2017)
    x <- matrix(rnorm(rows * sizes[1]), rows)
    y <- if (loss == "binary_crossentropy") sample(0:1, rows, TRUE) else sample(0:9, rows, TRUE)
    models <- list(float64 = network(sizes, output, "float64"))
    initial <- get_weights(models$float64)
    models$float32 <- network(sizes, output, "float32")
    w <- list(key = key, sizes = sizes, batch = batch, x = x, y = y, loss = loss,
              models = models, initial = initial, reps = reps, tile = tile)
    w$dir <- write_workload(w, file.path(work_dir, key))
    w
  }
  workloads <- list(
    workload("mnist-128", mnist_sizes, size$rows, 128, "softmax",
             "sparse_categorical_crossentropy", reps$epoch, tile = size$tile),
    workload("mnist-32", mnist_sizes, size$rows, 32, "softmax",
             "sparse_categorical_crossentropy", reps$epoch),
    workload("tabular-32", c(9, 32, 32, 32, 32, 1), size$tabular_rows, 32, "sigmoid",
             "binary_crossentropy", reps$tabular))
  predict_x <- workloads[[1]]$x[rep(seq_len(size$rows), size$tile), ] # as PyTorch tiles them
  # selu's variants, each with the PyTorch dtype it is compared with
  variants <- list(float64 = list(dtype = "float64", torch = "float64", portable = FALSE),
                   float32 = list(dtype = "float32", torch = "float32", portable = FALSE))
  if (blas != "OpenBLAS") {
    variants[["float32 portable"]] <- list(dtype = "float32", torch = "float32", portable = TRUE)
  }
  torch_dtypes <- c("float64", "float32")

  # OpenBLAS's threads spin for a while after each product before they
  # sleep: a pause before each timing, so that the other process's threads
  # (PyTorch's or R's, alternating) are asleep and leave the cores free.
  settle <- function() Sys.sleep(0.3)
  # Wall-clock seconds, after an untimed gc() as system.time() does, to the
  # microsecond (the tabular epoch is a few thousandths of a second).
  elapsed <- function(expr) {
    invisible(gc())
    settle()
    start <- bench::hires_time()
    force(expr)
    as.numeric(bench::hires_time() - start)
  }
  # Each repetition starts from the same weights and a new optimizer.
  selu_epoch <- function(w, v, rows = nrow(w$x)) {
    model <- w$models[[v$dtype]]
    set_weights(model, w$initial)
    compile(model, optimizer = optimizer_adam(), loss = w$loss)
    x <- if (rows < nrow(w$x)) w$x[seq_len(rows), , drop = FALSE] else w$x
    y <- w$y[seq_len(rows)]
    old <- options(selu.portable_sgemm = v$portable)
    on.exit(options(old))
    elapsed(fit(model, x, y, batch_size = w$batch, epochs = 1, verbose = 0, shuffle = TRUE))
  }
  selu_predict <- function(w, v, x, batch) {
    model <- w$models[[v$dtype]]
    set_weights(model, w$initial)
    old <- options(selu.portable_sgemm = v$portable)
    on.exit(options(old))
    elapsed(predict(model, x, batch_size = batch))
  }

  # A PyTorch process on the run's BLAS, answering train_torch.py's
  # commands, one line each way.
  torch_session <- function(nt) {
    port_file <- file.path(work_dir, sprintf("port-%d", nt))
    system2(python, c(torch_script, "serve", port_file), wait = FALSE, env = python_env(blas_dir))
    waited <- 0
    while (!file.exists(port_file)) {
      if (waited > 120) stop("PyTorch did not start: see its messages above")
      Sys.sleep(0.1)
      waited <- waited + 0.1
    }
    con <- socketConnection("127.0.0.1", as.integer(readLines(port_file)), blocking = TRUE,
                            open = "r+", timeout = 900)
    ask <- function(...) {
      settle()
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
  record <- function(case, variant, nt, impl, seconds) {
    timings[[length(timings) + 1]] <<- data.frame(case = case, variant = variant, threads = nt,
                                                  impl = impl, seconds = seconds)
  }
  torch_info <- NULL
  for (nt in threads) {
    selu_threads(nt)
    set_blas_threads(nt)
    torch <- if (has_torch) torch_session(nt)
    if (has_torch) {
      info <- jsonlite::fromJSON(torch$ask("info"))
      check_blas(blas, "PyTorch", info$blas_loaded)
      torch_info <- info
    }
    for (w in workloads) {
      # a warm-up on the first 10 batches, then R and PyTorch in turn, each
      # variant after the other in every repetition
      for (v in variants) selu_epoch(w, v, rows = min(nrow(w$x), 10 * w$batch))
      if (has_torch) for (d in torch_dtypes) torch$ask("warmup", w$dir, d)
      for (r in seq_len(w$reps)) {
        for (name in names(variants)) {
          v <- variants[[name]]
          record(w$key, name, nt, "selu", selu_epoch(w, v))
          if (has_torch && !v$portable) {
            record(w$key, v$torch, nt, "torch", as.numeric(torch$ask("epoch", w$dir, v$torch)))
          }
        }
      }
      cat(sprintf("%s: measured %s, %d thread%s\n", blas, w$key, nt, if (nt > 1) "s" else ""))
    }
    w <- workloads[[1]]
    for (v in variants) {
      selu_predict(w, v, w$x, 32)
      selu_predict(w, v, w$x, size$predict_batch)
    }
    for (r in seq_len(reps$predict)) {
      for (name in names(variants)) {
        v <- variants[[name]]
        record("predict-32", name, nt, "selu", selu_predict(w, v, predict_x, 32))
        record("predict-batch", name, nt, "selu",
               selu_predict(w, v, predict_x, size$predict_batch))
        if (has_torch && !v$portable) {
          record("predict-all", v$torch, nt, "torch",
                 as.numeric(torch$ask("predict", w$dir, v$torch)))
        }
      }
    }
    cat(sprintf("%s: measured predict(), %d thread%s\n", blas, nt, if (nt > 1) "s" else ""))
    if (has_torch) torch$close()
  }
  timings <- do.call(rbind, timings)
  timed_seconds <- proc.time()[["elapsed"]] - started
  result <- list(blas = blas, dir = blas_dir, timings = timings, torch_info = torch_info,
                 python = python, r_blas = r_blas, python_env = python_env(blas_dir),
                 timed_seconds = timed_seconds, load_at_start = load_at_start,
                 predict_rows = nrow(predict_x), reps = reps)

  if (profile_here) {
    # Memory, in a fresh R and a fresh Python on the same BLAS, float64.
    memory_file <- file.path(work_dir, "memory.rds")
    status <- system2(rscript, c(script, "memory", memory_file, size$memory_rows)) # this BLAS
    if (status != 0) stop("the memory child failed")
    result$memory <- readRDS(memory_file)
    check_blas(blas, "R's memory child", result$memory$blas)
    if (has_torch) {
      result$torch_memory <- jsonlite::fromJSON(system2(
        python, c(torch_script, "memory", size$memory_rows, 784, 128, size$torch_memory_steps, 1),
        stdout = TRUE, env = python_env(blas_dir)))
    }
    cat(blas, ": measured memory\n", sep = "")

    # The profile of the float64 batch-32 epoch, one thread: Rprof over two
    # epochs, then perf (when it is installed and allowed) over one.
    selu_threads(1)
    set_blas_threads(1)
    w <- workloads[[2]]
    model <- w$models$float64
    prof_file <- file.path(work_dir, "Rprof.out")
    set_weights(model, w$initial)
    compile(model, optimizer = optimizer_adam(), loss = w$loss)
    Rprof(prof_file, interval = 0.002, line.profiling = FALSE)
    profiled_seconds <- elapsed(fit(model, w$x, w$y, batch_size = 32, epochs = 2, verbose = 0))
    Rprof(NULL)
    profile <- summaryRprof(prof_file)
    stacks <- lapply(strsplit(readLines(prof_file)[-1], " "), function(s) gsub('"', "", s))
    stacks <- Filter(length, stacks)
    innermost <- vapply(stacks, `[`, "", 1)
    # Rprof counts a .Call's time to the R function that makes it: the
    # training steps are a .Call in engine_steps(), BLAS and the package's C
    # together, which perf's split below takes apart.
    group <- ifelse(innermost == "engine_steps",
                    "the engine's training steps (their .Call: BLAS and selu's C, split by perf)",
                    "R interpreter and R's own built-ins (everything else)")
    groups <- sort(table(group), decreasing = TRUE)
    groups <- data.frame(group = names(groups), share = as.numeric(groups) / length(group))
    result$groups <- groups
    result$profile_text <- c(
      sprintf(paste("Rprof (interval 2 ms) of two epochs of the 784-256-256-10 network, float64,",
                    "at batch 32, %s rows, on %s, 1 thread: %d samples, %.1f s sampled of %.1f s",
                    "wall (the system's timer may tick more coarsely than 2 ms; the shares are",
                    "what count)."),
              format(nrow(w$x), big.mark = ","), blas, length(stacks), profile$sampling.time,
              profiled_seconds), "",
      "Self time by group (innermost frame of each sample):",
      sprintf("  %5.1f%%  %s", 100 * groups$share, groups$group), "",
      "summaryRprof() by.self, top 25:",
      utils::capture.output(print(utils::head(profile$by.self, 25))), "",
      "summaryRprof() by.total, top 25:",
      utils::capture.output(print(utils::head(profile$by.total, 25))))

    if (nzchar(Sys.which("perf"))) {
      perf_data <- file.path(work_dir, "perf.data")
      perf_pid <- system(sprintf("perf record -e cpu-clock -F 999 -p %d -o %s >%s 2>&1 & echo $!",
                                 Sys.getpid(), perf_data, file.path(work_dir, "perf.log")),
                         intern = TRUE)
      Sys.sleep(1)
      set_weights(model, w$initial)
      compile(model, optimizer = optimizer_adam(), loss = w$loss)
      perf_seconds <- elapsed(fit(model, w$x, w$y, batch_size = 32, epochs = 1, verbose = 0))
      tools::pskill(as.integer(perf_pid), tools::SIGINT)
      system(sprintf("while kill -0 %s 2>/dev/null; do sleep 0.1; done", perf_pid))
      perf_report <- function(sort) {
        suppressWarnings(system(sprintf(
          "perf report -i %s --stdio --no-children --sort %s 2>/dev/null", perf_data, sort),
          intern = TRUE))
      }
      by_dso <- grep("^ *[0-9.]+%", perf_report("dso"), value = TRUE)
      by_symbol <- grep("^ *[0-9.]+%", perf_report("dso,symbol"), value = TRUE)
      if (length(by_dso)) {
        result$by_dso <- by_dso
        result$perf_lines <- c(
          sprintf(paste("perf record -e cpu-clock (999 Hz) of one epoch of the same, 1 thread,",
                        "attached to R during fit() (%.1f s):"), perf_seconds),
          "", "By shared object (libblas or libopenblas: BLAS; selu.so: the package's kernels;",
          "libR.so: R's interpreter and built-ins; libc, libm, the kernel: memory and the rest):",
          by_dso, "", "Top 30 symbols:", utils::head(by_symbol, 30))
      }
    }
    cat(blas, ": measured the profile\n", sep = "")
  }
  result$seconds <- proc.time()[["elapsed"]] - started
  result$load_at_end <- load_average()
  saveRDS(result, out_file)
  unlink(work_dir, recursive = TRUE)
  quit(save = "no")
}

# The parent: a child per BLAS, then the tables.
if (length(args)) stop("usage: Rscript bench/train.R [quick]")
out_dir <- if (quick) {
  Sys.getenv("SELU_BENCH_OUT", file.path(dirname(tempdir()), "selu-bench-train-quick"))
} else {
  file.path("bench", "results")
}
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
out_dir <- normalizePath(out_dir)
readme_tags <- c(OpenBLAS = "train", reference = "train-reference")
readme_span <- function(text, tag) {
  span <- c(grep(sprintf("^<!-- %s:start -->$", tag), text),
            grep(sprintf("^<!-- %s:end -->$", tag), text))
  if (length(span) != 2 || span[1] > span[2]) {
    stop(sprintf("README.md needs one <!-- %s:start --> and one <!-- %s:end --> line", tag, tag))
  }
  span
}
if (!quick) for (tag in readme_tags) readme_span(readLines("README.md"), tag) # before the run
started <- proc.time()[["elapsed"]]
started_at <- Sys.time()

blases <- list()
openblas <- Sys.glob("/usr/lib/*/openblas-pthread/libblas.so.3")
if (length(openblas)) {
  blases$OpenBLAS <- dirname(openblas[1])
} else {
  message("No OpenBLAS (Debian: apt-get install libopenblas0-pthread): the reference BLAS only.")
}
reference <- Sys.glob("/usr/lib/*/blas/libblas.so.3") # Debian's libblas3, else the default
blases$reference <- if (length(reference)) dirname(reference[1]) else NA_character_
# the memory and the profile on the first: OpenBLAS when installed
runs <- lapply(seq_along(blases), function(i) {
  name <- names(blases)[i]
  out <- tempfile(fileext = ".rds")
  status <- system2(rscript, c(shQuote(script), "run", name, shQuote(blases[[i]]), shQuote(out),
                               if (i == 1) "profile"), env = r_env(blases[[i]]))
  if (status != 0) stop("the ", name, " run failed: see its messages above")
  run <- readRDS(out)
  check_blas(name, "R", c(run$r_blas$blas, if (run$r_blas$setter == "OpenBLAS") "OpenBLAS"))
  if (!is.null(run$torch_info)) check_blas(name, "PyTorch", run$torch_info$blas_loaded)
  run
})
names(runs) <- names(blases)
profiled <- runs[[1]]
has_torch <- any(vapply(runs, function(run) !is.null(run$torch_info), logical(1)))
torch_version <- if (has_torch) Filter(Negate(is.null), lapply(runs, `[[`, "torch_info"))[[1]]$version

# The table: one row per BLAS, selu variant, workload and thread count.
count_text <- function(n) { # 1e5, or 10,000
  if (n >= 1e5 && log10(n) == round(log10(n))) sprintf("1e%d", round(log10(n)))
  else format(n, big.mark = ",")
}
workloads <- data.frame(
  key = c("mnist-128", "mnist-32", "tabular-32", "predict-32", "predict-batch"),
  torch = c("mnist-128", "mnist-32", "tabular-32", "predict-all", "predict-all"),
  label = c(sprintf("784-256-256-10 epoch, %s rows, batch %d", format(size$rows, big.mark = ","),
                    c(128L, 32L)),
            sprintf("9-32-32-32-32-1 epoch, %d rows, batch 32", size$tabular_rows),
            sprintf("predict() %s rows: selu batch %s, PyTorch all rows at once",
                    count_text(size$rows * size$tile),
                    vapply(c(32, size$predict_batch), count_text, ""))))
# The targets: on OpenBLAS, selu's epochs and predict() at most PyTorch's, the
# tabular epoch at most half; on the reference BLAS, parity. The portable
# loops' rows are for comparison only.
target_of <- function(blas, variant, key) {
  if (variant == "float32 portable") return(NA_real_)
  if (blas == "OpenBLAS" && key == "tabular-32") 0.5 else 1
}
table <- do.call(rbind, lapply(runs, function(run) {
  tm <- run$timings
  times_of <- function(case, variant, nt, impl) {
    tm$seconds[tm$case == case & tm$variant == variant & tm$threads == nt & tm$impl == impl]
  }
  summary_of <- function(v, f) if (length(v)) f(v) else NA_real_
  variants <- unique(tm$variant[tm$impl == "selu"])
  do.call(rbind, lapply(variants, function(variant) {
    torch_variant <- if (variant == "float32 portable") "float32" else variant
    do.call(rbind, lapply(seq_len(nrow(workloads)), function(i) {
      do.call(rbind, lapply(threads, function(nt) {
        s <- times_of(workloads$key[i], variant, nt, "selu")
        p <- times_of(workloads$torch[i], torch_variant, nt, "torch")
        data.frame(blas = run$blas, dtype = variant, workload = workloads$label[i], threads = nt,
                   selu_seconds = summary_of(s, stats::median),
                   torch_seconds = summary_of(p, stats::median),
                   target = target_of(run$blas, variant, workloads$key[i]), reps = length(s),
                   selu_min = summary_of(s, min), selu_max = summary_of(s, max),
                   torch_min = summary_of(p, min), torch_max = summary_of(p, max))
      }))
    }))
  }))
}))
rownames(table) <- NULL
table$ratio <- table$selu_seconds / table$torch_seconds
table$met <- ifelse(is.na(table$target) | is.na(table$ratio), "-",
                    ifelse(table$ratio <= table$target, "yes", "NO"))
table <- table[c("blas", "dtype", "workload", "threads", "selu_seconds", "torch_seconds", "ratio",
                 "target", "met", "reps", "selu_min", "selu_max", "torch_min", "torch_max")]
seconds_columns <- grep("seconds|_min|_max", names(table))
table[seconds_columns] <- lapply(table[seconds_columns], signif, 4)
table$ratio <- signif(table$ratio, 3)
write.csv(table, file.path(out_dir, "train.csv"), row.names = FALSE)

fmt <- function(v, digits = 3) ifelse(is.na(v), "-", formatC(v, digits = digits, format = "f"))
target_text <- ifelse(is.na(table$target), "-", sprintf("at most %g", table$target))
table_lines <- function(rows, blas_column = TRUE) {
  t <- table[rows, ]
  cells <- cbind(if (blas_column) t$blas, t$dtype, t$workload, t$threads, fmt(t$selu_seconds),
                 fmt(t$torch_seconds), fmt(t$ratio, 2), target_text[rows], t$met, t$reps)
  c(paste0("| ", if (blas_column) "BLAS | ",
           "dtype | workload | threads | selu s | PyTorch s | selu / PyTorch | target | met | reps |"),
    paste0("|", strrep("---|", ncol(cells))),
    apply(cells, 1, function(r) paste0("| ", paste(r, collapse = " | "), " |")))
}

mb <- function(bytes) sprintf("%.1f MB", bytes / 1e6)
memory <- profiled$memory
torch_memory <- profiled$torch_memory
step <- memory$per_step
width_bytes <- 128 * 256 * 8
input <- sprintf("%s x 784", count_text(memory$rows))
memory_rows <- rbind(
  c(sprintf("fit(), %s input at batch 128, 1 epoch: peak RSS / size of x (target below 1.5)", input),
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
  c(sprintf("R allocations per step, epoch of %s rows at batch 128 (%d steps)",
            format(step$rows, big.mark = ","), step$steps),
    sprintf("%s per step = %.1f x (batch x width x 8 = 128 x 256 x 8 = %s), %.3f x size of x (%s)",
            mb(step$bytes / step$steps), step$bytes / step$steps / width_bytes, mb(width_bytes),
            step$bytes / step$steps / step$x_bytes, mb(step$x_bytes)), "-"),
  c("the same: the largest single allocation / size of x (a copy of x would be 1)",
    sprintf("%.4f (%s, of %d allocations)", step$largest / step$x_bytes, mb(step$largest),
            step$count), if (step$largest < 0.5 * step$x_bytes) "yes" else "NO"))
if (!is.null(torch_memory)) {
  memory_rows <- rbind(memory_rows, c(
    sprintf("PyTorch, the same %s at batch 128, first %d steps: peak RSS / size of x", input,
            torch_memory$steps),
    sprintf("%.2f (peak %s; before training %s: %.2f x)", torch_memory$peak_bytes /
              torch_memory$x_bytes, mb(torch_memory$peak_bytes), mb(torch_memory$before_fit_bytes),
            torch_memory$before_fit_bytes / torch_memory$x_bytes), "-"))
}

cpu <- sub(".*: ", "", grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1])
machine <- sprintf("%s, %d cores, %s, selu %s (kernels: %s)%s", cpu, parallel::detectCores(),
                   R.version.string, utils::packageVersion("selu"), selu:::kernel_isa(),
                   if (has_torch) paste0(", PyTorch ", torch_version) else ", no PyTorch")
default_blas <- system2("readlink", c("-f", "/usr/lib/x86_64-linux-gnu/libblas.so.3"),
                        stdout = TRUE)
reps_text <- vapply(runs, function(run) {
  sprintf("%s: %d for the large network's epochs, %d for the tabular one's, %d for predict()",
          run$blas, run$reps$epoch, run$reps$tabular, run$reps$predict)
}, "")
blas_lines <- unlist(lapply(runs, function(run) {
  c(sprintf(paste("- %s run: %s. R: `La_library()` %s; `extSoftVersion()[\"BLAS\"]` %s;",
                  "selu's BLAS thread setter: %s; `sgemm` for float32: %s."), run$blas,
            if (is.na(run$dir)) "the machine's default BLAS"
            else sprintf("`R_LD_LIBRARY_PATH=%s`", run$r_blas$r_ld_library_path),
            run$r_blas$la_library, run$r_blas$blas,
            if (nzchar(run$r_blas$setter)) run$r_blas$setter else "none",
            if (isTRUE(run$r_blas$sgemm)) "the BLAS's" else "selu's portable loops"),
    if (!is.null(run$torch_info)) {
      sprintf("  PyTorch %s (%s%s): BLAS loaded in its process: %s.", run$torch_info$version,
              run$python, if (length(run$python_env)) paste0(", `", gsub("'", "", run$python_env), "`")
              else "", paste(run$torch_info$blas_loaded, collapse = ", "))
    })
}))
by_dso <- profiled$by_dso
groups <- profiled$groups
report <- c(
  if (quick) "# Training speed: selu against PyTorch (QUICK RUN: 1 repetition, small data; not for the README)"
  else "# Training speed: selu against PyTorch",
  "",
  paste0("Machine: ", machine, "."),
  sprintf(paste("Run: `%s` (a plain Rscript per BLAS, no environment settings but the BLAS), %s,",
                "%.0f s in all (%s); the machine's load average (1, 5 and 15 minutes) %s at the",
                "start of the first BLAS's run, %s at the end of the last (other work shares the",
                "machine; train.csv has each case's fastest and slowest repetitions)."),
          if (quick) "Rscript bench/train.R quick" else "make bench-train",
          format(started_at, "%Y-%m-%d %H:%M"), proc.time()[["elapsed"]] - started,
          paste(sprintf("%s %.0f s", names(runs), vapply(runs, `[[`, 0, "seconds")),
                collapse = ", "),
          runs[[1]]$load_at_start, runs[[length(runs)]]$load_at_end),
  paste("Each BLAS in a process of its own on both sides, R through `R_LD_LIBRARY_PATH` and",
        "PyTorch through `LD_LIBRARY_PATH` (see BLAS below), each side given the same number of",
        "threads (selu_threads() and `torch.set_num_threads()`, and the BLAS's). The same random",
        "data and initial weights (in float32 both sides' rounded from the float64 ones; selu's",
        "float32 times include rounding R's double input, PyTorch's start from float32 tensors),",
        "Adam (lr 0.001, betas 0.9/0.999, eps 1e-7: keras adds it to sqrt(v) before the bias",
        "correction, torch after, the same work), shuffled epochs; median seconds of the",
        "repetitions, selu's and PyTorch's alternating and float64 alternating with float32, each",
        "from the initial weights and a new optimizer, after a warm-up on 10 batches.",
        paste0("Repetitions: ", paste(reps_text, collapse = "; "), ".")),
  paste("PyTorch: `model.train()`, a `randperm` per epoch, for each batch `zero_grad`, forward,",
        "`CrossEntropyLoss` on the logits (`BCEWithLogitsLoss` for the tabular network),",
        "`backward`, `step`; predict: `with torch.no_grad(): model(x)`; in float32 the model and",
        "data `.float()`. selu: `fit(verbose = 0)` with a softmax output and",
        "`sparse_categorical_crossentropy` (sigmoid and `binary_crossentropy`), fused with the",
        "output as keras does; `predict()`; float32 layers with `dtype = \"float32\"`. \"float32",
        "portable\" (reference BLAS only): selu's float32 with its portable loops instead of the",
        "BLAS's `sgemm` (`options(selu.portable_sgemm = TRUE)`), against PyTorch's float32."),
  paste("Targets: on OpenBLAS, selu's epochs and `predict()` at most PyTorch's time in both",
        "dtypes and the tabular epoch at most half of it; on the reference BLAS, at most",
        "PyTorch's time (parity)."),
  "",
  table_lines(seq_len(nrow(table))), "",
  "## Memory", "",
  sprintf("On %s, float64.", profiled$blas), "",
  "| measure | value | met |", "|---|---|---|",
  sprintf("| %s | %s | %s |", memory_rows[, 1], memory_rows[, 2], memory_rows[, 3]), "",
  sprintf(paste("The fit() on %s rows ran in a fresh Rscript (it took %.1f s); the peak is",
                "VmHWM after resetting it (/proc/self/clear_refs) just before fit(). R's",
                "allocations per step are those Rprofmem records (bench::bench_memory()),",
                "not C's malloc()."), count_text(memory$rows), memory$seconds), "",
  "## BLAS", "",
  blas_lines,
  sprintf(paste("- The machine's default, untouched by the run: /usr/lib/x86_64-linux-gnu/libblas.so.3",
                "resolves to %s."), default_blas),
  "", "## Profile of the float64 batch-32 epoch", "",
  sprintf(paste("On %s. From train-profile.txt (Rprof, one thread), self time by group. Rprof",
                "counts a .Call's time to the R function that makes it, so C code that runs a",
                "whole training step falls under that function's name; perf's split by shared",
                "object below sees inside it."), profiled$blas), "",
  sprintf("- %.1f%% %s", 100 * groups$share, groups$group),
  if (length(by_dso)) c("", "perf, by shared object:", "", "```", utils::head(by_dso, 8), "```"))
writeLines(report, file.path(out_dir, "train.md"))
writeLines(c(profiled$profile_text, if (length(profiled$perf_lines)) c("", profiled$perf_lines)),
           file.path(out_dir, "train-profile.txt"))

# The README's tables, from a full run only.
if (!quick) {
  for (blas in intersect(names(readme_tags), names(runs))) {
    text <- readLines("README.md")
    span <- readme_span(text, readme_tags[[blas]])
    writeLines(c(text[seq_len(span[1])],
                 table_lines(which(table$blas == blas), blas_column = FALSE),
                 text[span[2]:length(text)]), "README.md")
  }
}

options(width = 200)
cat("\n", machine, "\n\n", sep = "")
print(table[c("blas", "dtype", "workload", "threads", "selu_seconds", "torch_seconds", "ratio",
              "target", "met", "reps")], row.names = FALSE, right = FALSE)
cat("\n")
cat(sprintf("%s: %s%s\n", memory_rows[, 1], memory_rows[, 2],
            ifelse(memory_rows[, 3] == "-", "", paste0(" (met: ", memory_rows[, 3], ")"))), sep = "")
cat("\n", paste(profiled$profile_text[seq_len(4 + nrow(groups))], collapse = "\n"), "\n", sep = "")
if (length(by_dso)) cat("\nperf by shared object:\n", paste(head(by_dso, 8), collapse = "\n"),
                        "\n", sep = "")
cat(sprintf("\nThe whole run: %.0f s\n", proc.time()[["elapsed"]] - started))
cat("Wrote", file.path(out_dir, c("train.csv", "train.md", "train-profile.txt")),
    if (!quick) "and the README's tables", "\n")
