# Independent references for the kernels.

selu_alpha_text <- "1.6732632423543772848170429916717"
selu_scale_text <- "1.0507009873554804934193349852946"
# scale * alpha, 1.7580993408473768599402175208123 correctly rounded. In hex:
# R reads long decimal literals through long double, which valgrind runs as
# double, landing 3 ulp away.
selu_scale_alpha <- 0x1.c212cc640f031p+0

# Rounds doubles to float32 and back, through R's own 4-byte binary I/O.
as_float32 <- function(x) {
  readBin(writeBin(x, raw(), size = 4), "double", n = length(x), size = 4)
}

# The instruction sets this CPU runs the kernels with.
available_isas <- function() {
  best <- selu:::kernel_isa()
  isas <- c("portable", "avx2", "avx512")
  isas[seq_len(match(best, isas))]
}

# Runs code with the kernels of one instruction set, then restores the best.
with_isa <- function(isa, code) {
  best <- selu:::kernel_isa()
  selu:::kernel_isa(isa)
  on.exit(selu:::kernel_isa(best))
  force(code)
}

# Inputs covering the negative range, tiny and subnormal values and powers of two.
accuracy_inputs <- function(n = 3000) {
  n <- sample_size(n)
  set.seed(42)
  c(-runif(n, 0, 750), -runif(n, 0, 1), -runif(n, 0.25, 0.45), -2^-(0:1074),
    -runif(200) * 2^-1022, runif(n, 0, 50), -745.13, -708.4, -37.1, -40, -1e-300)
}

# Errors in units in the last place of an exact (mpfr) value, for results of
# `bits` significant bits (53 double, 24 float32) down to `min_exp`.
ulp_error_mpfr <- function(got, exact, bits = 53, min_exp = -1074) {
  r <- Rmpfr::asNumeric(exact)
  e <- pmax(floor(log2(abs(r))) - (bits - 1), min_exp)
  e[r == 0] <- min_exp
  Rmpfr::asNumeric(abs(Rmpfr::mpfr(got, 120) - exact) / Rmpfr::mpfr(2^e, 120))
}
