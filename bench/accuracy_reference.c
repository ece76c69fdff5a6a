/* Reference values in long double (64-bit significand on x86-64: 11 bits
 * more than double) and the error of the package's results in units in the
 * last place of the exact value. */
#include <R.h>
#include <Rinternals.h>
#include <math.h>

static const long double SCALE_L = 1.0507009873554804934193349852946L;
static const long double SCALE_ALPHA_L = 1.7580993408473768599402175208123L;

/* The spacing of doubles (or floats) at the exact value r. */
static long double ulp_at(long double r, int mantissa_bits, int min_exp) {
  if (r == 0) return ldexpl(1.0L, min_exp);
  int e = ilogbl(r) - (mantissa_bits - 1);
  return ldexpl(1.0L, e < min_exp ? min_exp : e);
}

/* which: 0 forward, 1 backward (gradient of 1), both for double or float32
 * results. Returns c(max, mean, x at the max) of the ulp errors over finite x. */
SEXP ulp_errors(SEXP x, SEXP got, SEXP which, SEXP single) {
  R_xlen_t n = XLENGTH(x);
  const double *xs = REAL(x), *ys = REAL(got);
  int backward = asInteger(which), f32 = asLogical(single);
  int bits = f32 ? 24 : 53, min_exp = f32 ? -149 : -1074;
  long double max = 0, sum = 0;
  double worst = NA_REAL;
  R_xlen_t count = 0;
  for (R_xlen_t i = 0; i < n; i++) {
    long double xi = f32 ? (long double) (float) xs[i] : (long double) xs[i];
    if (!isfinite(xs[i])) continue;
    long double ref = backward ? (xi > 0 ? SCALE_L : SCALE_ALPHA_L * expl(xi))
                               : (xi > 0 ? SCALE_L * xi : SCALE_ALPHA_L * expm1l(xi));
    long double err = fabsl((long double) ys[i] - ref) / ulp_at(ref, bits, min_exp);
    if (err > max) {
      max = err;
      worst = xs[i];
    }
    sum += err;
    count++;
  }
  SEXP out = PROTECT(allocVector(REALSXP, 3));
  REAL(out)[0] = (double) max;
  REAL(out)[1] = count ? (double) (sum / count) : 0;
  REAL(out)[2] = worst;
  UNPROTECT(1);
  return out;
}
