# Accuracy of the SELU kernels against long double references, on every
# instruction set this CPU has. Run from the package root with
# `make accuracy` (selu installed). Needs x86-64, where long double carries
# 11 bits more than double.
library(selu)

source(file.path("bench", "build.R"))
invisible(build_and_load("accuracy_reference"))
ulp_errors <- function(x, got, backward, single) {
  .Call("ulp_errors", x, got, as.integer(backward), single, PACKAGE = "accuracy_reference")
}

set.seed(1706)
exponents <- -1074:9
# every power of two, and random significands in each binade, negative and positive
binades <- as.vector(outer(1 + runif(16), 2^exponents))
x <- c(
  runif(1e7, -750, 0),                         # [-750, 0] uniformly
  -2^exponents, 2^exponents,                   # every power of two
  -binades, binades,                           # tiny negatives down to subnormals
  runif(1e5, 0, 750)                           # and the linear side
)
cat(sprintf("%s inputs: %s uniform on [-750, 0], %d powers of two (each sign), %d in binades\n\n",
            format(length(x), big.mark = ","), format(1e7, big.mark = ","),
            length(exponents), 2 * length(binades)))

act32 <- layer_activation_selu(dtype = "float32")
rows <- list()
for (isa in c("portable", "avx2", "avx512")) {
  ok <- tryCatch({ selu:::kernel_isa(isa); TRUE }, error = function(e) FALSE)
  if (!ok) next
  cases <- list(
    forward = list(activation_selu(x), FALSE, FALSE, 1),
    backward = list(activation_selu_backward(x, 1), TRUE, FALSE, 2),
    "forward float32" = list(act32(x), FALSE, TRUE, 1),
    "backward float32" = list(backward(act32, x, 1), TRUE, TRUE, 1)
  )
  for (name in names(cases)) {
    case <- cases[[name]]
    err <- ulp_errors(x, case[[1]], case[[2]], case[[3]])
    rows[[length(rows) + 1]] <- data.frame(
      kernels = isa, result = name, max_ulp = round(err[1], 3), mean_ulp = round(err[2], 4),
      worst_x = signif(err[3], 6), bound = case[[4]], met = if (err[1] <= case[[4]]) "yes" else "NO")
  }
}
invisible(selu:::kernel_isa(c(portable = "portable", avx2 = "avx2", avx512 = "avx512")[
  rev(vapply(rows, function(r) r$kernels, ""))[1]]))
report <- do.call(rbind, rows)
libm <- ulp_errors(x, ifelse(x > 0, 1.0507009873554804934193349852946 * x,
                             1.7580993408473768599402175208123 * expm1(x)), FALSE, FALSE)
cat("For comparison, libm's expm1() times the constant: max", round(libm[1], 3),
    "ulp, mean", round(libm[2], 4), "ulp\n\n")
print(report, row.names = FALSE)

# Special values give what the scalar definition gives, with 1 and 2 threads.
special <- c(NA, NaN, Inf, -Inf, 0, -0, 2^-1074, -2^-1074, -.Machine$double.xmax)
expected <- c(NA, NaN, Inf, -1.7580993408473768599402175208123, 0, -0,
              1.0507009873554804934193349852946 * 2^-1074, -2 * 2^-1074,
              -1.7580993408473768599402175208123)
got <- activation_selu(special)
same <- identical(is.na(got), is.na(expected)) && identical(is.nan(got), is.nan(expected)) &&
  all(got == expected | is.na(got)) && identical(1 / got[5:6], c(Inf, -Inf))
big <- rnorm(4e6) * 20
old <- selu_threads(1)
one <- list(activation_selu(big), activation_selu_backward(big, big))
selu_threads(2)
two <- list(activation_selu(big), activation_selu_backward(big, big))
selu_threads(old)
cat("\nSpecial values as the scalar definition:", if (same) "yes" else "NO",
    "\nIdentical bit for bit with 1 and 2 threads:", if (identical(one, two)) "yes" else "NO", "\n")
dir.create(file.path("bench", "results"), showWarnings = FALSE)
writeLines(c(
  sprintf("%s inputs; reference: long double expm1l() and expl().", format(length(x), big.mark = ",")),
  sprintf("libm's expm1() times the constant: max %.3f ulp, mean %.4f ulp.", libm[1], libm[2]), "",
  "| kernels | result | max ulp | mean ulp | worst x | bound | met |", "|---|---|---|---|---|---|---|",
  sprintf("| %s | %s | %.3f | %.4f | %g | %d | %s |", report$kernels, report$result, report$max_ulp,
          report$mean_ulp, report$worst_x, report$bound, report$met), "",
  sprintf("Special values as the scalar definition: %s. Identical bit for bit with 1 and 2 threads: %s.",
          if (same) "yes" else "NO", if (identical(one, two)) "yes" else "NO")),
  file.path("bench", "results", "accuracy.md"))
