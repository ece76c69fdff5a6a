/* The straightforward C implementation, for comparison: one libm call per
 * negative element, as most hand-written kernels do. */
#include <R.h>
#include <Rinternals.h>
#include <math.h>

#define SCALE 1.0507009873554804934193349852946
#define SCALE_ALPHA 1.7580993408473768599402175208123

SEXP scalar_selu(SEXP x) {
  R_xlen_t n = XLENGTH(x);
  SEXP out = PROTECT(allocVector(REALSXP, n));
  const double *in = REAL(x);
  double *y = REAL(out);
  for (R_xlen_t i = 0; i < n; i++) y[i] = in[i] > 0 ? SCALE * in[i] : SCALE_ALPHA * expm1(in[i]);
  UNPROTECT(1);
  return out;
}

SEXP scalar_selu_backward(SEXP x, SEXP g) {
  R_xlen_t n = XLENGTH(x);
  SEXP out = PROTECT(allocVector(REALSXP, n));
  const double *in = REAL(x), *gr = REAL(g);
  double *y = REAL(out);
  for (R_xlen_t i = 0; i < n; i++)
    y[i] = gr[i] * (in[i] > 0 ? SCALE : SCALE_ALPHA * exp(in[i]));
  UNPROTECT(1);
  return out;
}
