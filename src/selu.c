#include "dispatch.h"
#include "vecmath.h"
#include "memory.h"

/* The constants of Klambauer et al. (2017) as decimal literals: recomputing
 * them from their closed forms lands a few ulp away. */
#define SELU_SCALE 1.0507009873554804934193349852946
#define SELU_SCALE_ALPHA 1.7580993408473768599402175208123

/* Below -40, scale * alpha * expm1(x) is -scale * alpha to far more than
 * double precision; below -746, e^x is 0 in double. */
#define FORWARD_FLOOR -40.0
#define BACKWARD_FLOOR -746.0

/* The element functions. Each is branch-free: both sides are computed and
 * the result chosen, so that the loops vectorize. NaN (and NA, a NaN with a
 * payload) passes through untouched, as does the sign of zero. */

/* x, but not below floor; NaN goes to floor. Lanes with x >= 0 compute
 * garbage (never trapping: floating-point exceptions are masked) that the
 * final choice discards. */
SELU_INLINE double clamp_below(double x, double floor) {
  return choose(x > floor, x, floor);
}

/* x >= 0 and NaN take scale * x, which keeps the sign of zero and the
 * payload of NA. */
SELU_INLINE double selu_value(double x, int fma_ok) {
  dd e = expm1_neg(clamp_below(x, FORWARD_FLOOR), 53, fma_ok);
  return choose(x < 0, mul_dd(SELU_SCALE_ALPHA, e, fma_ok), SELU_SCALE * x);
}

SELU_INLINE double selu_positive_value(double x, int fma_ok) {
  (void) fma_ok;
  return SELU_SCALE * x;
}

/* float32: the input and the result are rounded to float; in between, double
 * arithmetic with a polynomial for float accuracy keeps the result within
 * 1 ulp of float32. */
SELU_INLINE double selu_value_f32(double x, int fma_ok) {
  double xf = (double) (float) x;
  dd e = expm1_neg(clamp_below(xf, FORWARD_FLOOR), 24, fma_ok);
  double neg = (double) (float) (SELU_SCALE_ALPHA * e.hi);
  double pos = (double) (float) (SELU_SCALE * xf);
  /* x < -2^-150 exactly when xf < 0; tested on x, it stays a double compare */
  return choose(x < -0x1p-150, neg, choose(x != x, x, pos));
}

SELU_INLINE double selu_positive_value_f32(double x, int fma_ok) {
  (void) fma_ok;
  return (double) (float) (SELU_SCALE * (double) (float) x);
}

/* g * d selu / dx, from x: g * scale * alpha * e^x for x <= 0, computed as
 * (scale * alpha * e^r) * 2^k with the power of two applied in two exact
 * steps, the second only where the result is subnormal. */
SELU_INLINE double selu_grad_value(double x, double g, int fma_ok) {
  double k;
  (void) fma_ok;
  double d = SELU_SCALE_ALPHA * exp_reduced(clamp_below(x, BACKWARD_FLOOR), &k, 53);
  double k_low = choose(k < -1000, -600.0, 0.0);
  double neg = (g * (d * pow2i(k - k_low))) * pow2i(k_low);
  return choose(x <= 0, neg, choose(x != x, x, g * SELU_SCALE));
}

SELU_INLINE double selu_grad_value_f32(double x, double g, int fma_ok) {
  (void) fma_ok;
  double xf = (double) (float) x, gf = (double) (float) g;
  double k;
  double d = SELU_SCALE_ALPHA * exp_reduced(clamp_below(xf, BACKWARD_FLOOR), &k, 24);
  double k_low = choose(k < -1000, -600.0, 0.0);
  double neg = (gf * (d * pow2i(k - k_low))) * pow2i(k_low);
  /* x <= 2^-150 exactly when xf <= 0; tested on x, it stays a double compare */
  double y = (double) (float) choose(x <= 0x1p-150, neg, gf * SELU_SCALE);
  return choose(x != x, x, choose(g != g, g, y));
}

DEFINE_UNARY_LOOPS(selu_full, selu_value)
DEFINE_UNARY_LOOPS(selu_positive, selu_positive_value)
DEFINE_UNARY_LOOPS(selu_full_f32, selu_value_f32)
DEFINE_UNARY_LOOPS(selu_positive_f32, selu_positive_value_f32)
DEFINE_BINARY_LOOPS(selu_grad, selu_grad_value)
DEFINE_BINARY_LOOPS(selu_grad_f32, selu_grad_value_f32)

/* Stops at the first value that is not positive: on mixed data, at once. */
static int all_positive(const double *x, R_xlen_t n) {
  for (R_xlen_t i = 0; i < n; i++)
    if (!(x[i] > 0)) return 0;
  return 1;
}

/* Stretches with no value <= 0 (and no NaN) take the cheap positive loop. */
static void selu_forward_loop(const double *x, double *y, R_xlen_t n) {
  unary_loop full = selu_full_loops[selu_isa_in_use];
  unary_loop positive = selu_positive_loops[selu_isa_in_use];
  for (R_xlen_t s = 0; s < n; s += ALIGN) {
    R_xlen_t len = n - s < ALIGN ? n - s : ALIGN;
    (all_positive(x + s, len) ? positive : full)(x + s, y + s, len);
  }
}

static void selu_forward_loop_f32(const double *x, double *y, R_xlen_t n) {
  unary_loop full = selu_full_f32_loops[selu_isa_in_use];
  unary_loop positive = selu_positive_f32_loops[selu_isa_in_use];
  for (R_xlen_t s = 0; s < n; s += ALIGN) {
    R_xlen_t len = n - s < ALIGN ? n - s : ALIGN;
    (all_positive(x + s, len) ? positive : full)(x + s, y + s, len);
  }
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

static int is_flag(SEXP flag) {
  return TYPEOF(flag) == LGLSXP && XLENGTH(flag) == 1 && LOGICAL(flag)[0] != NA_LOGICAL;
}

static int as_flag(SEXP flag, const char *what) {
  if (!is_flag(flag)) Rf_error("internal error: `%s` must be TRUE or FALSE", what);
  return LOGICAL(flag)[0];
}

static int is_numeric_data(SEXP x) {
  int type = TYPEOF(x);
  return (type == REALSXP || type == INTSXP || type == LGLSXP) && !OBJECT(x);
}

/* Arguments the kernels cannot take go to the R function `checker`, which
 * signals the user's error: the checks stay in R, and valid calls, the
 * common case, pay for no R-level check. */
static void check_in_r(const char *checker, SEXP x, SEXP flag) {
  SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("selu")));
  SEXP call = PROTECT(Rf_lang3(Rf_install(checker), x, flag));
  Rf_eval(call, ns);
  UNPROTECT(2);
  Rf_error("internal error: %s() passed what the kernels cannot take", checker);
}

/* Where the result goes: x itself when asked to and no other R object can
 * see it, otherwise a new vector of x's shape. */
static SEXP result_for(SEXP x, int inplace) {
  if (inplace && TYPEOF(x) == REALSXP && !MAYBE_SHARED(x)) return x;
  SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(x)));
  advise_huge_pages(REAL(out), XLENGTH(out) * sizeof(double));
  copy_shape(x, out);
  UNPROTECT(1);
  return out;
}

SEXP selu_forward(SEXP x, SEXP single, SEXP inplace) {
  if (!is_numeric_data(x) || !is_flag(inplace)) check_in_r("check_forward_args", x, inplace);
  int use_float = as_flag(single, "single");
  SEXP xd = PROTECT(as_double(x));
  SEXP out = PROTECT(result_for(x, as_flag(inplace, "inplace")));
  run_unary(use_float ? selu_forward_loop_f32 : selu_forward_loop, REAL(xd), REAL(out),
            XLENGTH(xd));
  UNPROTECT(2);
  return out;
}

SEXP selu_backward(SEXP x, SEXP grad_output, SEXP single) {
  int use_float = as_flag(single, "single");
  R_xlen_t n = XLENGTH(x), ng = XLENGTH(grad_output);
  if (ng != n && ng != 1)
    Rf_error("internal error: `grad_output` has length %lld, not %lld or 1",
             (long long) ng, (long long) n);
  SEXP xd = PROTECT(as_double(x));
  SEXP gd = PROTECT(as_double(grad_output));
  SEXP out = PROTECT(result_for(x, 0));
  int scalar = ng == 1 && n != 1;
  const binary_loop *loops = use_float ? (scalar ? selu_grad_f32_scalar_loops : selu_grad_f32_loops)
                                       : (scalar ? selu_grad_scalar_loops : selu_grad_loops);
  run_binary(loops[selu_isa_in_use], REAL(xd), REAL(gd), !scalar, REAL(out), n);
  UNPROTECT(3);
  return out;
}
