# Speed of the SELU kernels against the alternatives, all in one run.
#
# Run from the package root with `make bench` (selu installed), in a plain
# session as a user runs R. Writes bench/results/bench.csv, bench/results/bench.md
# and bench/results/bench.png and prints the table and the targets. PyTorch
# joins when a Python that can `import torch` is found: $PYTHON, else python3,
# else /usr/bin/python3 (Debian: apt-get install python3-torch).
#
# `Rscript bench/bench.R tuned` (make bench-tuned, under glibc tunables that
# keep freed memory for reuse) times the same cases but not the family, and
# writes bench/results/bench-tuned.csv and .md instead.
library(selu)
tuned <- identical(commandArgs(trailingOnly = TRUE), "tuned")
stem <- if (tuned) "bench-tuned" else "bench"
malloc_env <- if (nzchar(Sys.getenv("GLIBC_TUNABLES"))) {
  paste0("GLIBC_TUNABLES=", Sys.getenv("GLIBC_TUNABLES"))
} else "no GLIBC_TUNABLES"

sizes <- c(1e3, 1e5, 1e7)
threads <- c(1L, 2L)
out_dir <- file.path("bench", "results")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

scale <- 1.0507009873554804934193349852946
scale_alpha <- 1.7580993408473768599402175208123

# The base R versions a user would write.
selu_ifelse <- function(x) ifelse(x > 0, scale * x, scale_alpha * expm1(x))
selu_subset <- function(x) {
  y <- scale * x
  neg <- which(x <= 0)
  y[neg] <- scale_alpha * expm1(x[neg])
  y
}
selu_grad_ifelse <- function(x, g) g * ifelse(x > 0, scale, scale_alpha * exp(x))
selu_grad_subset <- function(x, g) {
  d <- rep(scale, length(x))
  neg <- which(x <= 0)
  d[neg] <- scale_alpha * exp(x[neg])
  g * d
}

# The scalar C loop with libm's expm1(), built here.
source(file.path("bench", "build.R"))
build_dir <- build_and_load("scalar_selu")
scalar_selu <- function(x) .Call("scalar_selu", x, PACKAGE = "scalar_selu")
scalar_selu_backward <- function(x, g) .Call("scalar_selu_backward", x, g, PACKAGE = "scalar_selu")

act32 <- layer_activation_selu(dtype = "float32")

# The median time of each expression; below 1e7 the best of three rounds of
# bench::mark, which keeps a passing disturbance on this shared machine from
# landing on one implementation only.
measure <- function(expr_list, n) {
  rounds <- if (n >= 1e7) 1 else 3
  runs <- lapply(seq_len(rounds), function(i) {
    bench::mark(exprs = expr_list, check = FALSE, min_iterations = 5,
                min_time = if (n >= 1e7) 2 else 0.3, filter_gc = FALSE)
  })
  data.frame(impl = names(expr_list),
             median = do.call(pmin, lapply(runs, function(b) as.numeric(b$median))),
             mem_alloc = as.numeric(runs[[1]]$mem_alloc))
}

# a first pass, unmeasured, so that no measured case pays for loading code
invisible(measure(list(a = quote(activation_selu(rnorm(1e4))),
                       b = quote(activation_selu_backward(rnorm(1e4), 1))), 1e4))

rows <- list()
set.seed(2017)
for (n in sizes) {
  x <- rnorm(n)
  g <- rnorm(n)
  for (nt in threads) {
    selu_threads(nt)
    fwd <- list(
      "selu" = quote(activation_selu(x)),
      "selu float32" = quote(act32(x)),
      "x * 1 (memory floor)" = quote(x * 1)
    )
    bwd <- list(
      "selu" = quote(activation_selu_backward(x, g)),
      "selu float32" = quote(backward(act32, x, g)),
      "x * g (memory floor)" = quote(x * g)
    )
    if (nt == 1) { # single-threaded alternatives, measured once
      fwd <- c(fwd, list("C scalar libm" = quote(scalar_selu(x)),
                         "base R subset" = quote(selu_subset(x)),
                         "base R ifelse" = quote(selu_ifelse(x))))
      bwd <- c(bwd, list("C scalar libm" = quote(scalar_selu_backward(x, g)),
                         "base R subset" = quote(selu_grad_subset(x, g)),
                         "base R ifelse" = quote(selu_grad_ifelse(x, g))))
    }
    rows[[length(rows) + 1]] <- cbind(op = "forward", threads = nt, n = n, measure(fwd, n))
    rows[[length(rows) + 1]] <- cbind(op = "backward", threads = nt, n = n, measure(bwd, n))
    cat(sprintf("measured n = %g, %d thread%s\n", n, nt, if (nt > 1) "s" else ""))
  }
}
selu_threads(max(threads))
results <- do.call(rbind, rows)
# the single-threaded alternatives stand in both thread counts
single <- results[results$threads == 1 & !grepl("^selu|floor", results$impl), ]
for (nt in setdiff(threads, 1)) results <- rbind(results, transform(single, threads = nt))

pythons <- unique(c(Sys.getenv("PYTHON"), "python3", "/usr/bin/python3"))
pythons <- pythons[nzchar(pythons) & nzchar(Sys.which(pythons))]
imports_torch <- vapply(pythons, function(py) {
  system2(py, c("-c", shQuote("import torch")), stdout = FALSE, stderr = FALSE) == 0
}, logical(1))
has_torch <- any(imports_torch)
torch_version <- NA_character_
if (has_torch) {
  python <- pythons[imports_torch][1]
  torch_csv <- file.path(build_dir, "torch.csv")
  status <- system2(python, c(file.path("bench", "torch_selu.py"),
                                 paste(sprintf("%.0f", sizes), collapse = ","),
                                 paste(threads, collapse = ","), torch_csv))
  stopifnot(status == 0)
  torch <- read.csv(torch_csv)
  results <- rbind(results, data.frame(
    op = torch$op, threads = torch$threads, n = torch$n,
    impl = ifelse(torch$dtype == "float64", "torch", "torch float32"),
    median = torch$seconds, mem_alloc = NA))
  torch_version <- system2(python, c("-c", shQuote("import torch; print(torch.__version__)")),
                           stdout = TRUE)
}
results$ns_per_element <- results$median / results$n * 1e9

# The family at 1e7, on 1 and 2 threads: time per element against SELU's.
if (!tuned) {
  x <- rnorm(1e7)
  g <- rnorm(1e7)
  xm <- matrix(x, 1e6, 10)  # softmax and PReLU along the last axis of 10
  gm <- matrix(g, 1e6, 10)
  family_mark <- function(x, g, xm, gm, min_iterations, min_time) bench::mark(
    "selu" = activation_selu(x), "elu" = activation_elu(x),
    "leaky_relu" = activation_leaky_relu(x), "relu" = activation_relu(x),
    "thresholded_relu" = activation_thresholded_relu(x), "sigmoid" = activation_sigmoid(x),
    "tanh" = activation_tanh(x), "softmax (last axis)" = activation_softmax(xm),
    "parametric_relu" = activation_parametric_relu(xm, rep(0.1, 10)),
    "selu backward" = activation_selu_backward(x, g), "elu backward" = activation_elu_backward(x, g),
    "leaky_relu backward" = activation_leaky_relu_backward(x, g),
    "relu backward" = activation_relu_backward(x, g),
    "thresholded_relu backward" = activation_thresholded_relu_backward(x, g),
    "sigmoid backward" = activation_sigmoid_backward(x, g),
    "tanh backward" = activation_tanh_backward(x, g),
    "softmax backward" = activation_softmax_backward(xm, gm),
    "parametric_relu backward" = activation_parametric_relu_backward(xm, rep(0.1, 10), gm),
    check = FALSE, min_iterations = min_iterations, min_time = min_time, filter_gc = FALSE)
  # Three rounds, each kernel's best median kept: a busy moment of the machine
  # then spoils one round, not the ratio.
  family_at <- function(nt) {
    selu_threads(nt)
    rounds <- lapply(1:3, function(i) family_mark(x, g, xm, gm, min_iterations = 5, min_time = 2))
    kernel <- names(rounds[[1]]$expression)
    ns <- do.call(pmin, lapply(rounds, function(r) as.numeric(r$median))) / 1e7 * 1e9
    selu_ns <- ifelse(grepl("backward", kernel), ns[kernel == "selu backward"], ns[kernel == "selu"])
    data.frame(kernel = kernel, threads = nt, ns_per_element = ns, time_over_selu = ns / selu_ns)
  }
  family <- do.call(rbind, lapply(threads, family_at))
  # The same calls on 10 numbers (softmax and PReLU on a 1 x 10 matrix): the
  # cost of a call itself, on one thread whatever the setting.
  small_family <- family_mark(x[1:10], g[1:10], xm[1, , drop = FALSE], gm[1, , drop = FALSE],
                              min_iterations = 1e4, min_time = 0.5)
  family$us_10_numbers <- as.numeric(small_family$median)[match(family$kernel,
                                                                names(small_family$expression))] * 1e6
  write.csv(family, file.path(out_dir, "family.csv"), row.names = FALSE)
}
selu_threads(max(threads))

# Small inputs and memory.
x10 <- rnorm(10)
small <- bench::mark(activation_selu(x10), min_iterations = 1e5, filter_gc = FALSE)
x <- rnorm(1e5)
invisible(activation_selu(x * 1, inplace = TRUE))
inplace_bytes <- as.numeric(bench::bench_memory(activation_selu(x * 1, inplace = TRUE))$mem_alloc) -
  as.numeric(bench::bench_memory(x * 1)$mem_alloc)

# The table: ns per element, and each alternative's time over selu's.
results <- results[order(results$op, results$threads, results$n, results$ns_per_element), ]
ratio_to <- function(i) {
  ref <- if (grepl("float32", results$impl[i])) "selu float32" else "selu"
  same <- results$op == results$op[i] & results$threads == results$threads[i] &
    results$n == results$n[i] & results$impl == ref
  results$median[i] / results$median[same]
}
results$time_over_selu <- vapply(seq_len(nrow(results)), ratio_to, 0)
write.csv(results, file.path(out_dir, paste0(stem, ".csv")), row.names = FALSE)

cpu <- sub(".*: ", "", grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1])
machine <- sprintf("%s, %d cores, %s, selu kernels: %s%s, %s", cpu, parallel::detectCores(),
                   R.version.string, selu:::kernel_isa(),
                   if (has_torch) paste0(", PyTorch ", torch_version) else ", no PyTorch",
                   malloc_env)

lookup <- function(impl, op, n, nt) {
  results$median[results$impl == impl & results$op == op & results$n == n &
                   results$threads == nt]
}
target <- function(label, value, ok) {
  data.frame(target = label, measured = sprintf("%.2f", value), met = if (ok) "yes" else "NO")
}
targets <- rbind(
  target("1e7 forward, 1 thread: selu / (x * 1), at most 1.15",
         v <- lookup("selu", "forward", 1e7, 1) / lookup("x * 1 (memory floor)", "forward", 1e7, 1), v <= 1.15),
  target("1e7 forward, 2 threads: selu / (x * 1), below 1",
         v <- lookup("selu", "forward", 1e7, 2) / lookup("x * 1 (memory floor)", "forward", 1e7, 2), v < 1),
  target("1e7 backward, 2 threads: selu / (x * g), below 1",
         v <- lookup("selu", "backward", 1e7, 2) / lookup("x * g (memory floor)", "backward", 1e7, 2), v < 1),
  target("1e5 forward, 1 thread: C scalar libm / selu, at least 8",
         v <- lookup("C scalar libm", "forward", 1e5, 1) / lookup("selu", "forward", 1e5, 1), v >= 8),
  target("forward allocates 8n bytes + at most 2 KB: bytes over 8n at 1e5",
         v <- results$mem_alloc[results$impl == "selu" & results$op == "forward" &
                                  results$n == 1e5 & results$threads == 1] - 8e5, v <= 2048),
  target("in-place forward allocates nothing: bytes at 1e5", inplace_bytes, inplace_bytes <= 0),
  target("10 numbers: microseconds per call", v <- as.numeric(small$median) * 1e6, v <= 1.5)
)
if (!tuned) for (nt in threads) {
  d <- family[family$threads == nt, ]
  worst <- which.max(d$time_over_selu)
  targets <- rbind(targets, target(
    sprintf("1e7, %d thread%s: every kernel of the family within 1.25x SELU's time (the slowest: %s)",
            nt, if (nt > 1) "s" else "", d$kernel[worst]),
    d$time_over_selu[worst], d$time_over_selu[worst] <= 1.25))
}
if (has_torch) {
  for (nt in threads) for (op in c("forward", "backward")) {
    for (case in list(c("torch", "selu", 1e5, 1.5), c("torch", "selu", 1e7, 1.25),
                      c("torch float32", "selu float32", 1e5, 1.5))) {
      n <- as.numeric(case[3])
      v <- lookup(case[1], op, n, nt) / lookup(case[2], op, n, nt)
      targets <- rbind(targets, target(
        sprintf("%g %s, %d thread%s: %s / %s, at least %s", n, op, nt, if (nt > 1) "s" else "",
                case[1], case[2], case[4]), v, v >= as.numeric(case[4])))
    }
    v <- lookup("torch float32", op, 1e7, nt) / lookup("selu float32", op, 1e7, nt)
    targets <- rbind(targets, data.frame(
      target = sprintf("1e7 %s, %d thread%s: torch float32 / selu float32 (no target)", op, nt,
                       if (nt > 1) "s" else ""), measured = sprintf("%.2f", v), met = "-"))
  }
}

# A markdown report, for the README.
table_rows <- results[results$n %in% sizes, ]
fmt_table <- function(d) {
  c("| op | threads | n | implementation | ns/element | time / selu's |",
    "|---|---|---|---|---|---|",
    sprintf("| %s | %d | %s | %s | %.3f | %.2f |", d$op, d$threads,
            format(d$n, scientific = TRUE), d$impl, d$ns_per_element, d$time_over_selu))
}
family_wide <- function(family) {
  one <- family[family$threads == threads[1], ]
  cells <- vapply(threads, function(nt) {
    d <- family[family$threads == nt, ]
    sprintf("%.3f | %.2f | %s", d$ns_per_element, d$time_over_selu,
            ifelse(d$time_over_selu <= 1.25, "yes", "NO"))
  }, character(nrow(one)))
  c(paste0("| kernel |", paste(sprintf(" %d thread%s: ns/element | time / SELU's | within 1.25x |",
                                       threads, ifelse(threads > 1, "s", "")), collapse = ""),
           " 10 numbers, microseconds |"),
    paste0("|---|", strrep("---|", 3 * length(threads) + 1)),
    sprintf("| %s | %s | %.2f |", one$kernel, apply(matrix(cells, nrow(one)), 1, paste,
                                                   collapse = " | "), one$us_10_numbers))
}
family_table <- if (!tuned) c(
  "The family at 1e7 elements (softmax and PReLU on a 1e6 x 10 matrix, along its last axis):", "",
  family_wide(family))
report <- c(paste0("Machine: ", machine, "."), "",
            "| target | measured | met |", "|---|---|---|",
            sprintf("| %s | %s | %s |", targets$target, targets$measured, targets$met), "",
            fmt_table(table_rows), "", family_table)
writeLines(report, file.path(out_dir, paste0(stem, ".md")))

# The plot: ns per element against size, one line per implementation.
png(file.path(out_dir, paste0(stem, ".png")), width = 1100, height = 800, res = 110)
impls <- unique(results$impl)
colours <- setNames(c("#d7301f", "#fc8d59", "#08519c", "#6baed6", "black", "#238b45",
                      "#74c476", "#807dba", "#969696")[seq_along(impls)], impls)
op <- par(mfrow = c(2, 2), mar = c(4, 4.5, 2.5, 1), oma = c(0, 0, 2.5, 0))
for (o in c("forward", "backward")) for (nt in threads) {
  d <- results[results$op == o & results$threads == nt, ]
  plot(NA, xlim = range(sizes), ylim = range(results$ns_per_element), log = "xy",
       xlab = "elements", ylab = "ns per element",
       main = sprintf("%s, %d thread%s", o, nt, if (nt > 1) "s" else ""))
  for (i in unique(d$impl)) {
    di <- d[d$impl == i, ]
    di <- di[order(di$n), ]
    lines(di$n, di$ns_per_element, type = "b", pch = 19, col = colours[[i]],
          lwd = if (grepl("^selu", i)) 3 else 1.5)
  }
}
legend("topright", legend = impls, col = colours[impls], lwd = 2, bty = "n", cex = 0.75)
mtext(strwrap(machine, 120), outer = TRUE, cex = 0.8)
par(op)
invisible(dev.off())

options(width = 140)
cat("\n", machine, "\n\n", sep = "")
print(targets, right = FALSE, row.names = FALSE)
cat("\n")
if (!tuned) print(family, row.names = FALSE, digits = 3)
cat("\n")
print(data.frame(op = table_rows$op, threads = table_rows$threads, n = table_rows$n,
                 impl = table_rows$impl, ns_per_element = round(table_rows$ns_per_element, 3),
                 time_over_selu = round(table_rows$time_over_selu, 2)), row.names = FALSE)
# the vignette shows the plot too, in 256 colours where pngquant is there
# (the installed package stays under R CMD check's 5 MB)
if (!tuned) {
  invisible(file.copy(file.path(out_dir, "bench.png"), file.path("vignettes", "bench.png"),
                      overwrite = TRUE))
  if (nzchar(Sys.which("pngquant"))) {
    system2("pngquant", c("--force", "--output", "vignettes/bench.png", "vignettes/bench.png"))
  }
}
cat("\nWrote", file.path(out_dir, paste0(stem, c(".csv", ".md", ".png"))),
    if (!tuned) "and vignettes/bench.png", "\n")
