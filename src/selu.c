#include "selu.h"
#include <math.h>

/* The constants of Klambauer et al. (2017) as decimal literals: recomputing
 * them from their closed forms lands a few ulp away. */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define SELU_SCALE_ALPHA 1.7580993408473768599402175208123

static inline double selu_1(double x) {
  if (x > 0) return SELU_SCALE * x;
  if (isnan(x)) return x; /* keeps NA's payload: NA stays NA, not NaN */
  return SELU_SCALE_ALPHA * expm1(x);
}

/* The derivative is computed from the input, not the output: the output has
 * rounded to -scale * alpha long before scale * alpha * exp(x) underflows. */
static inline double selu_grad_1(double x, double g) {
  if (x > 0) return g * SELU_SCALE;
  if (isnan(x)) return x;
  return g * (SELU_SCALE_ALPHA * exp(x));
}

static inline float selu_1f(float x) {
  if (x > 0) return (float) SELU_SCALE * x;
  return (float) SELU_SCALE_ALPHA * expm1f(x);
}

static inline float selu_grad_1f(float x, float g) {
  if (x > 0) return g * (float) SELU_SCALE;
  return g * ((float) SELU_SCALE_ALPHA * expf(x));
}

/* Integer and logical input becomes double (NA_INTEGER -> NA_REAL). */
static SEXP as_double(SEXP x) {
  if (TYPEOF(x) == REALSXP) return x;
  if (TYPEOF(x) == INTSXP || TYPEOF(x) == LGLSXP) return Rf_coerceVector(x, REALSXP);
  Rf_error("internal error: selu kernels take double, integer or logical vectors, not %s",
           Rf_type2char(TYPEOF(x)));
}

/* The result keeps the input's shape and labels and nothing else. */
static void copy_shape(SEXP from, SEXP to) {
  SEXP dim = Rf_getAttrib(from, R_DimSymbol);
  if (dim != R_NilValue) {
    Rf_setAttrib(to, R_DimSymbol, dim);
    Rf_setAttrib(to, R_DimNamesSymbol, Rf_getAttrib(from, R_DimNamesSymbol));
  }
  /* for a 1-d array, names are its dimnames, already copied */
  if (dim == R_NilValue || XLENGTH(dim) != 1)
    Rf_setAttrib(to, R_NamesSymbol, Rf_getAttrib(from, R_NamesSymbol));
}

/* A fresh vector for the result: the coerced copy when there is one (no one
 * else can see it), a new allocation otherwise. */
static SEXP result_for(SEXP x, SEXP xd) {
  if (xd != x) return xd;
  return Rf_allocVector(REALSXP, XLENGTH(x));
}

static int as_flag(SEXP single) {
  if (TYPEOF(single) != LGLSXP || XLENGTH(single) != 1 || LOGICAL(single)[0] == NA_LOGICAL)
    Rf_error("internal error: `single` must be TRUE or FALSE");
  return LOGICAL(single)[0];
}

SEXP selu_forward(SEXP x, SEXP single) {
  int use_float = as_flag(single);
  SEXP xd = PROTECT(as_double(x));
  SEXP out = PROTECT(result_for(x, xd));
  const double *in = REAL(xd);
  double *res = REAL(out);
  R_xlen_t n = XLENGTH(xd);
  if (use_float) {
    for (R_xlen_t i = 0; i < n; i++)
      res[i] = isnan(in[i]) ? in[i] : (double) selu_1f((float) in[i]);
  } else {
    for (R_xlen_t i = 0; i < n; i++) res[i] = selu_1(in[i]);
  }
  copy_shape(x, out);
  UNPROTECT(2);
  return out;
}

SEXP selu_backward(SEXP x, SEXP grad_output, SEXP single) {
  int use_float = as_flag(single);
  R_xlen_t n = XLENGTH(x), ng = XLENGTH(grad_output);
  if (ng != n && ng != 1)
    Rf_error("internal error: `grad_output` has length %lld, not %lld or 1",
             (long long) ng, (long long) n);
  SEXP xd = PROTECT(as_double(x));
  SEXP gd = PROTECT(as_double(grad_output));
  SEXP out = PROTECT(result_for(x, xd));
  const double *in = REAL(xd);
  const double *g = REAL(gd);
  double *res = REAL(out);
  R_xlen_t g_step = ng == 1 ? 0 : 1;
  if (use_float) {
    for (R_xlen_t i = 0; i < n; i++) {
      double gi = g[i * g_step];
      if (isnan(in[i])) res[i] = in[i];
      else if (isnan(gi)) res[i] = gi;
      else res[i] = (double) selu_grad_1f((float) in[i], (float) gi);
    }
  } else {
    for (R_xlen_t i = 0; i < n; i++) res[i] = selu_grad_1(in[i], g[i * g_step]);
  }
  copy_shape(x, out);
  UNPROTECT(3);
  return out;
}
