# Independent references for the kernels.

selu_alpha_text <- "1.6732632423543772848170429916717"
selu_scale_text <- "1.0507009873554804934193349852946"
# scale * alpha, correctly rounded from its decimal expansion
selu_scale_alpha <- 1.7580993408473768599402175208123

# Distance in units in the last place of the reference.
ulp_error <- function(got, ref) {
  ulp <- 2^(floor(log2(pmax(abs(ref), 2^-1022))) - 52)
  abs(got - ref) / ulp
}

# SELU and its derivative in 200-bit arithmetic (Rmpfr), rounded to double.
selu_mpfr <- function(x) {
  bits <- 200
  alpha <- Rmpfr::mpfr(selu_alpha_text, bits)
  scale <- Rmpfr::mpfr(selu_scale_text, bits)
  xm <- Rmpfr::mpfr(x, bits)
  neg <- scale * alpha * expm1(xm)
  Rmpfr::asNumeric(ifelse(x > 0, Rmpfr::asNumeric(scale * xm), Rmpfr::asNumeric(neg)))
}

selu_grad_mpfr <- function(x) {
  bits <- 200
  alpha <- Rmpfr::mpfr(selu_alpha_text, bits)
  scale <- Rmpfr::mpfr(selu_scale_text, bits)
  neg <- Rmpfr::asNumeric(scale * alpha * exp(Rmpfr::mpfr(x, bits)))
  ifelse(x > 0, Rmpfr::asNumeric(scale), neg)
}

# Rounds doubles to float32 and back, through R's own 4-byte binary I/O.
as_float32 <- function(x) {
  readBin(writeBin(x, raw(), size = 4), "double", n = length(x), size = 4)
}
