# Writes the benchmark's float64 table into the README and the vignette,
# between their <!-- bench:start --> and <!-- bench:end --> lines, and the
# family's table into the README, between <!-- family:start --> and
# <!-- family:end -->; with bench/results/bench-tuned.csv (make bench-tuned),
# the plain session against the tuned one, between <!-- tuned:start --> and
# <!-- tuned:end -->. Run by `make bench` and `make bench-tuned` after bench.R.
results <- read.csv(file.path("bench", "results", "bench.csv"))
cell <- function(impl, op, n, nt, from = results) {
  v <- from$ns_per_element[from$impl == impl & from$op == op & from$n == n & from$threads == nt]
  if (length(v)) sprintf("%.2f", v) else ""
}
rows <- c("| n | threads | op | selu | PyTorch | C scalar libm | base R subset | `x * 1` / `x * g` |",
          "|---|---|---|---|---|---|---|---|")
for (n in c(1e5, 1e7)) for (nt in 1:2) for (op in c("forward", "backward")) {
  floor <- if (op == "forward") "x * 1 (memory floor)" else "x * g (memory floor)"
  rows <- c(rows, sprintf("| %s | %d | %s | %s | %s | %s | %s | %s |",
                          format(n, scientific = TRUE), nt, op, cell("selu", op, n, nt),
                          cell("torch", op, n, nt), cell("C scalar libm", op, n, nt),
                          cell("base R subset", op, n, nt), cell(floor, op, n, nt)))
}
write_between <- function(file, tag, rows) {
  text <- readLines(file)
  start <- grep(sprintf("^<!-- %s:start -->$", tag), text)
  end <- grep(sprintf("^<!-- %s:end -->$", tag), text)
  stopifnot(length(start) == 1, length(end) == 1, start < end)
  writeLines(c(text[seq_len(start)], rows, text[end:length(text)]), file)
}
for (file in c("README.md", file.path("vignettes", "selu.Rmd"))) write_between(file, "bench", rows)

tuned_csv <- file.path("bench", "results", "bench-tuned.csv")
if (file.exists(tuned_csv)) {
  tuned <- read.csv(tuned_csv)
  rows <- c(paste("| n | threads | op | selu | selu, tunables | PyTorch | PyTorch, tunables |",
                  "`x * 1` / `x * g` | `x * 1` / `x * g`, tunables |"),
            "|---|---|---|---|---|---|---|---|---|")
  for (n in c(1e5, 1e7)) for (nt in 1:2) for (op in c("forward", "backward")) {
    floor <- if (op == "forward") "x * 1 (memory floor)" else "x * g (memory floor)"
    rows <- c(rows, sprintf("| %s | %d | %s | %s | %s | %s | %s | %s | %s |",
                            format(n, scientific = TRUE), nt, op,
                            cell("selu", op, n, nt), cell("selu", op, n, nt, tuned),
                            cell("torch", op, n, nt), cell("torch", op, n, nt, tuned),
                            cell(floor, op, n, nt), cell(floor, op, n, nt, tuned)))
  }
  write_between("README.md", "tuned", rows)
}

family <- read.csv(file.path("bench", "results", "family.csv"))
one <- family[family$threads == 1, ]
two <- family[family$threads == 2, ]
write_between("README.md", "family", c(
  "| kernel | 1 thread: ns/element | time / SELU's | 2 threads: ns/element | time / SELU's | 10 numbers, microseconds |",
  "|---|---|---|---|---|---|",
  sprintf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f |", one$kernel, one$ns_per_element,
          one$time_over_selu, two$ns_per_element[match(one$kernel, two$kernel)],
          two$time_over_selu[match(one$kernel, two$kernel)], one$us_10_numbers)))
