#include "dispatch.h"

/* The constants of Klambauer et al. (2017) as decimal literals: recomputing
 * them from their closed forms lands a few ulp away. */
#define SELU_SCALE 1.0507009873554804934193349852946
#define SELU_SCALE_ALPHA 1.7580993408473768599402175208123

/* Below -40, scale * alpha * expm1(x) is -scale * alpha to far more than
 * double precision. */
#define FORWARD_FLOOR -40.0

/* The element functions. Each is branch-free: both sides are computed and
 * the result chosen, so that the loops vectorize. NaN (and NA, a NaN with a
 * payload) passes through untouched, as does the sign of zero. */

/* x >= 0 and NaN take scale * x, which keeps the sign of zero and the
 * payload of NA. */
SELU_INLINE stage selu_reduce(double x, kernel_params p) {
  (void) p;
  return reduced(clamp_below(x, FORWARD_FLOOR));
}

SELU_INLINE double selu_finish(double x, stage s, kernel_params p, int fma_ok) {
  (void) p;
  dd e = expm1_from_pieces(s);
  return choose(x < 0, mul_dd(SELU_SCALE_ALPHA, e, fma_ok), SELU_SCALE * x);
}
STAGED_UNARY(selu_value, selu, expm1_stage)

SELU_INLINE double selu_positive_value(double x, kernel_params p, int fma_ok) {
  (void) p;
  (void) fma_ok;
  return SELU_SCALE * x;
}

/* float32: the input and the result are rounded to float; in between, double
 * arithmetic with a polynomial for float accuracy keeps the result within
 * 1 ulp of float32. */
SELU_INLINE double selu_value_f32(double x, kernel_params p, int fma_ok) {
  (void) p;
  (void) fma_ok;
  double xf = (double) (float) x;
  double e = expm1_neg_f32(clamp_below(xf, FORWARD_FLOOR));
  double neg = (double) (float) (SELU_SCALE_ALPHA * e);
  double pos = (double) (float) (SELU_SCALE * xf);
  /* x < -2^-150 exactly when xf < 0; tested on x, it stays a double compare */
  return choose(x < -0x1p-150, neg, choose(x != x, x, pos));
}

SELU_INLINE double selu_positive_value_f32(double x, kernel_params p, int fma_ok) {
  (void) p;
  (void) fma_ok;
  return (double) (float) (SELU_SCALE * (double) (float) x);
}

/* g * d selu / dx, from x: g * scale * alpha * e^x for x <= 0. */
SELU_INLINE double selu_grad_in(double x, double g, kernel_params p, int fma_ok, int normal) {
  (void) p;
  (void) fma_ok;
  double neg = g_c_exp(x, g, SELU_SCALE_ALPHA, 53, normal);
  return choose(x <= 0, neg, choose(x != x, x, g * SELU_SCALE));
}
RANGED_BINARY(selu_grad_value, selu_grad_in)

SELU_INLINE double selu_grad_value_f32(double x, double g, kernel_params p, int fma_ok) {
  (void) p;
  (void) fma_ok;
  double xf = (double) (float) x, gf = (double) (float) g;
  double neg = g_c_exp(xf, gf, SELU_SCALE_ALPHA, 24, 0);
  /* x <= 2^-150 exactly when xf <= 0; tested on x, it stays a double compare */
  double y = (double) (float) choose(x <= 0x1p-150, neg, gf * SELU_SCALE);
  return choose(x != x, x, choose(g != g, g, y));
}

DEFINE_UNARY_LOOPS(selu_full, selu_value)
DEFINE_UNARY_LOOPS(selu_positive, selu_positive_value)
DEFINE_UNARY_LOOPS(selu_full_f32, selu_value_f32)
DEFINE_UNARY_LOOPS(selu_positive_f32, selu_positive_value_f32)
/* e^x is a normal number down to x = -708 */
DEFINE_RANGED_BINARY_LOOPS(selu_grad, selu_grad_value, 708.0)
DEFINE_BINARY_LOOPS(selu_grad_f32, selu_grad_value_f32)

/* Stops at the first value that is not positive: on mixed data, at once. */
static int all_positive(const double *x, R_xlen_t n) {
  for (R_xlen_t i = 0; i < n; i++)
    if (!(x[i] > 0)) return 0;
  return 1;
}

/* Stretches with no value <= 0 (and no NaN) take the cheap positive loop. */
static void forward_with_fast_path(const unary_loop *full, const unary_loop *positive,
                                   const double *x, double *y, R_xlen_t n, kernel_params p) {
  for (R_xlen_t s = 0; s < n; s += ALIGN) {
    R_xlen_t len = n - s < ALIGN ? n - s : ALIGN;
    (all_positive(x + s, len) ? positive : full)[selu_isa_in_use](x + s, y + s, len, p);
  }
}

static void selu_forward_loop(const double *x, double *y, R_xlen_t n, kernel_params p) {
  forward_with_fast_path(selu_full_loops, selu_positive_loops, x, y, n, p);
}

static void selu_forward_loop_f32(const double *x, double *y, R_xlen_t n, kernel_params p) {
  forward_with_fast_path(selu_full_f32_loops, selu_positive_f32_loops, x, y, n, p);
}

SEXP selu_forward(SEXP x, SEXP single, SEXP inplace) {
  if (!is_numeric_data(x) || !is_flag(inplace)) check_in_r("check_forward_args", x, inplace);
  int use_float = as_flag(single, "single");
  SEXP xd = PROTECT(as_double(x));
  SEXP out = PROTECT(result_for(x, as_flag(inplace, "inplace")));
  kernel_params none = {0, 0, 0};
  run_unary(use_float ? selu_forward_loop_f32 : selu_forward_loop, REAL(xd), REAL(out),
            XLENGTH(xd), none);
  UNPROTECT(2);
  return out;
}

SEXP selu_backward(SEXP x, SEXP grad_output, SEXP single) {
  int use_float = as_flag(single, "single");
  check_backward_args(x, grad_output);
  R_xlen_t n = XLENGTH(x), ng = XLENGTH(grad_output);
  SEXP xd = PROTECT(as_double(x));
  SEXP gd = PROTECT(as_double(grad_output));
  SEXP out = PROTECT(result_for(x, 0));
  int scalar = ng == 1 && n != 1;
  const binary_loop *loops = use_float ? (scalar ? selu_grad_f32_scalar_loops : selu_grad_f32_loops)
                                       : (scalar ? selu_grad_scalar_loops : selu_grad_loops);
  kernel_params none = {0, 0, 0};
  run_binary(loops[selu_isa_in_use], REAL(xd), REAL(gd), !scalar, REAL(out), n, none);
  UNPROTECT(3);
  return out;
}

/* SELU's loops, for doubles or float32 values, for the engine's ops. */
void selu_loops(int single, unary_loop *forward, binary_loop *backward) {
  *forward = single ? selu_forward_loop_f32 : selu_forward_loop;
  *backward = (single ? selu_grad_f32_loops : selu_grad_loops)[selu_isa_in_use];
}
