#include "dispatch.h"
#include <string.h>

/* The elementwise activations of the family besides SELU, on the same
 * loops, instruction sets and threads. Each element function is
 * branch-free; NaN (NA) passes through with its payload. Parameters:
 * ELU and leaky ReLU: a = alpha; ReLU: a = max_value (Inf for none),
 * b = negative_slope, c = threshold; thresholded ReLU: a = theta. */

#define SIGN_BIT ((uint64_t) 1 << 63)

SELU_INLINE double keep_nan(double x, double y) {
  return choose(x != x, x, y);
}

/* x for x >= 0, alpha (e^x - 1) otherwise, within 1 ulp. */
SELU_INLINE stage elu_reduce(double x, kernel_params p) {
  (void) p;
  return reduced(clamp_below(x, -40.0));
}

SELU_INLINE double elu_finish(double x, stage s, kernel_params p, int fma_ok) {
  return choose(x < 0, mul_dd(p.a, expm1_from_pieces(s), fma_ok), x);
}
STAGED_UNARY(elu_value, elu, expm1_stage)

SELU_INLINE double elu_grad_in(double x, double g, kernel_params p, int fma_ok, int normal) {
  (void) fma_ok;
  return keep_nan(x, choose(x <= 0, g_c_exp(x, g, p.a, 53, normal), g));
}
RANGED_BINARY(elu_grad, elu_grad_in)

SELU_INLINE double leaky_relu_value(double x, kernel_params p, int fma_ok) {
  (void) fma_ok;
  return choose(x < 0, p.a * x, x);
}

SELU_INLINE double leaky_relu_grad(double x, double g, kernel_params p, int fma_ok) {
  (void) fma_ok;
  return keep_nan(x, choose(x < 0, p.a * g, g));
}

/* max_value at and above it, x from threshold up, slope * (x - threshold) below. */
SELU_INLINE double relu_value(double x, kernel_params p, int fma_ok) {
  (void) fma_ok;
  double y = choose(x >= p.c, x, p.b * (x - p.c));
  return keep_nan(x, choose(x >= p.a, p.a, y));
}

SELU_INLINE double relu_grad(double x, double g, kernel_params p, int fma_ok) {
  (void) fma_ok;
  double d = choose(x >= p.a, 0.0, choose(x >= p.c, 1.0, p.b));
  return keep_nan(x, g * d);
}

SELU_INLINE double thresholded_relu_value(double x, kernel_params p, int fma_ok) {
  (void) fma_ok;
  return keep_nan(x, choose(x > p.a, x, 0.0));
}

SELU_INLINE double thresholded_relu_grad(double x, double g, kernel_params p, int fma_ok) {
  (void) fma_ok;
  return keep_nan(x, choose(x > p.a, g, 0.0));
}

/* 1 / (1 + t) for x >= 0 and t / (1 + t) below, t = e^-|x| as a
 * double-double, divided with a correction step: within 1 ulp. */
SELU_INLINE stage sigmoid_reduce(double x, kernel_params p) {
  (void) p;
  return reduced(clamp_below(-fabs(x), EXP_FLOOR));
}

SELU_INLINE double sigmoid_finish(double x, stage e, kernel_params p, int fma_ok) {
  (void) p;
  dd t = {e.a, e.b};
  dd s = fast_two_sum(1.0, t.hi);
  s.lo += t.lo;
  dd n = {choose(x >= 0, 1.0, t.hi), choose(x >= 0, 0.0, t.lo)};
  return keep_nan(x, div_dd(n, s, fma_ok));
}
STAGED_UNARY(sigmoid_value, sigmoid, exp_dd_stage)

/* sigmoid'(x) = t / (1 + t)^2, t = e^-|x|: from the input, so it stays right
 * where sigmoid(x) has rounded to 1. */
SELU_INLINE stage sigmoid_grad_reduce(double x, kernel_params p) {
  return sigmoid_reduce(x, p);
}

SELU_INLINE double sigmoid_grad_finish(double x, double g, stage e, kernel_params p, int fma_ok) {
  (void) p;
  dd t = {e.a, e.b};
  return keep_nan(x, g * t_over_one_plus_t_squared(t, 1.0, fma_ok));
}
STAGED_BINARY(sigmoid_grad, sigmoid_grad, exp_dd_stage)

/* tanh |x| = -e / (2 + e), e = expm1(-2|x|), with the sign of x. The
 * denominator is rounded straight from expm1's pieces, 1 + 2^k + 2^k p,
 * so that the division need not wait for e to be summed; its low part,
 * exact by Sterbenz's lemma, comes later. A single correction step then
 * needs only the denominator normalized. */
SELU_INLINE stage tanh_reduce(double x, kernel_params p) {
  (void) p;
  return reduced(clamp_below(-2.0 * fabs(x), -40.0));
}

SELU_INLINE double tanh_finish(double x, stage q, kernel_params p, int fma_ok) {
  (void) p;
  double two_k = q.a, p_sum = q.b + q.c, one_plus = 1.0 + two_k;
  dd e = expm1_from_pieces(q);
  dd d;
  d.hi = fma_ok ? fma(two_k, p_sum, one_plus) : two_k * p_sum + one_plus;
  d.lo = ((2.0 - d.hi) + e.hi) + e.lo;
  dd n = {-e.hi, -e.lo};
  double y = div_dd(n, d, fma_ok);
  return keep_nan(x, as_double_bits(bits_of(y) | (bits_of(x) & SIGN_BIT)));
}
STAGED_UNARY(tanh_value, tanh, expm1_stage)

/* tanh'(x) = 4 t / (1 + t)^2, t = e^-2|x|: e^-2|x| times 2^2. */
SELU_INLINE stage tanh_grad_reduce(double x, kernel_params p) {
  (void) p;
  stage s = reduced(clamp_below(-2.0 * fabs(x), EXP_FLOOR));
  s.b += 2.0;
  return s;
}

SELU_INLINE double tanh_grad_finish(double x, double g, stage e, kernel_params p, int fma_ok) {
  (void) p;
  dd t4 = {e.a, e.b};
  return keep_nan(x, g * t_over_one_plus_t_squared(t4, 4.0, fma_ok));
}
STAGED_BINARY(tanh_grad, tanh_grad, exp_dd_stage)

SELU_INLINE double linear_value(double x, kernel_params p, int fma_ok) {
  (void) p;
  (void) fma_ok;
  return x;
}

SELU_INLINE double linear_grad(double x, double g, kernel_params p, int fma_ok) {
  (void) x;
  (void) p;
  (void) fma_ok;
  return g;
}

/* Each kernel in float64 and float32; sigmoid and tanh run in stages (see
 * dispatch.h) in float64, ELU's gradient in the cheaper normal form where
 * |x| <= 708. */
#define DEFINE_F32_LOOPS(NAME)                         \
  F32_UNARY(NAME##_value_f32, NAME##_value)            \
  F32_BINARY(NAME##_grad_f32, NAME##_grad)             \
  DEFINE_UNARY_LOOPS(NAME##_fwd_f32, NAME##_value_f32) \
  DEFINE_BINARY_LOOPS(NAME##_bwd_f32, NAME##_grad_f32)
#define DEFINE_KERNEL(NAME)                      \
  DEFINE_F32_LOOPS(NAME)                         \
  DEFINE_UNARY_LOOPS(NAME##_fwd, NAME##_value)   \
  DEFINE_BINARY_LOOPS(NAME##_bwd, NAME##_grad)

DEFINE_KERNEL(leaky_relu)
DEFINE_KERNEL(relu)
DEFINE_KERNEL(thresholded_relu)
DEFINE_KERNEL(linear)

DEFINE_F32_LOOPS(elu)
DEFINE_UNARY_LOOPS(elu_fwd, elu_value)
DEFINE_RANGED_BINARY_LOOPS(elu_bwd, elu_grad, 708.0)
DEFINE_F32_LOOPS(sigmoid)
DEFINE_STAGED_UNARY_LOOPS(sigmoid_fwd, sigmoid, exp_dd_stage)
DEFINE_STAGED_BINARY_LOOPS(sigmoid_bwd, sigmoid_grad, exp_dd_stage)
DEFINE_F32_LOOPS(tanh)
DEFINE_STAGED_UNARY_LOOPS(tanh_fwd, tanh, expm1_stage)
DEFINE_STAGED_BINARY_LOOPS(tanh_bwd, tanh_grad, exp_dd_stage)

/* A parameter of a kernel: its name (for errors), its smallest value, and
 * whether NULL stands for no bound (Inf), as ReLU's max_value. */
typedef struct {
  const char *name;
  double min;
  int null_is_inf;
} param_spec;

typedef struct {
  const char *name;
  const unary_loop *forward, *forward_f32;
  const binary_loop *backward, *backward_f32, *backward_scalar, *backward_scalar_f32;
  param_spec params[3]; /* the first `name`-less one ends the list */
} kernel;

#define KERNEL_ENTRY(NAME, ...)                                                     \
  {#NAME, NAME##_fwd_loops, NAME##_fwd_f32_loops, NAME##_bwd_loops,                 \
   NAME##_bwd_f32_loops, NAME##_bwd_scalar_loops, NAME##_bwd_f32_scalar_loops,      \
   {__VA_ARGS__}}

static const kernel kernels[] = {
  KERNEL_ENTRY(elu, {"alpha", -INFINITY, 0}),
  KERNEL_ENTRY(leaky_relu, {"alpha", -INFINITY, 0}),
  KERNEL_ENTRY(relu, {"max_value", 0, 1}, {"negative_slope", 0, 0}, {"threshold", 0, 0}),
  KERNEL_ENTRY(thresholded_relu, {"theta", 0, 0}),
  KERNEL_ENTRY(sigmoid, {NULL, 0, 0}),
  KERNEL_ENTRY(tanh, {NULL, 0, 0}),
  KERNEL_ENTRY(linear, {NULL, 0, 0}),
};

static const kernel *find_kernel(SEXP name) {
  if (TYPEOF(name) == STRSXP && XLENGTH(name) == 1) {
    const char *wanted = CHAR(STRING_ELT(name, 0));
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
      if (strcmp(kernels[i].name, wanted) == 0) return &kernels[i];
  }
  Rf_error("internal error: no kernel of that name");
}

static int param_count(const kernel *k) {
  int n = 0;
  while (n < 3 && k->params[n].name) n++;
  return n;
}

/* Whether `value` is one number, not NA, at least `min`, as check_number()
 * in R asks; if so, it is stored in *out. */
static int is_number_at_least(SEXP value, double min, double *out) {
  if ((TYPEOF(value) != REALSXP && TYPEOF(value) != INTSXP) || OBJECT(value) ||
      XLENGTH(value) != 1)
    return 0;
  double v;
  if (TYPEOF(value) == REALSXP) {
    v = REAL(value)[0];
  } else if (TYPEOF(value) == INTSXP && INTEGER(value)[0] != NA_INTEGER) {
    v = INTEGER(value)[0];
  } else {
    return 0;
  }
  if (ISNAN(v) || !(v >= min)) return 0;
  *out = v;
  return 1;
}

/* The kernel's parameters from a list of their values as the user gave
 * them (NULL for a kernel without). A value the kernel cannot take goes to
 * check_number() in R, which signals the user's error. */
static kernel_params params_of(const kernel *k, SEXP params) {
  double v[3] = {0, 0, 0};
  int n = param_count(k);
  if (n == 0 && params == R_NilValue) {
    kernel_params none = {0, 0, 0};
    return none;
  }
  if (TYPEOF(params) != VECSXP || XLENGTH(params) != n)
    Rf_error("internal error: `params` must be a list of the kernel's %d parameters", n);
  for (int i = 0; i < n; i++) {
    SEXP value = VECTOR_ELT(params, i);
    const param_spec *spec = &k->params[i];
    if (value == R_NilValue && spec->null_is_inf) {
      v[i] = INFINITY;
    } else if (!is_number_at_least(value, spec->min, &v[i])) {
      check_number_in_r(value, spec->name, spec->min);
    }
  }
  kernel_params p = {v[0], v[1], v[2]};
  return p;
}

/* The parameters checked, for a layer to keep: the list with each value a
 * double (NULL kept where it means no bound). */
SEXP selu_kernel_params(SEXP name, SEXP params) {
  const kernel *k = find_kernel(name);
  kernel_params p = params_of(k, params);
  double v[3] = {p.a, p.b, p.c};
  int n = param_count(k);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
  for (int i = 0; i < n; i++)
    if (VECTOR_ELT(params, i) != R_NilValue) SET_VECTOR_ELT(out, i, Rf_ScalarReal(v[i]));
  UNPROTECT(1);
  return out;
}

/* y = x for x >= 0, alpha x below: parametric ReLU runs it on each feature. */
void run_leaky_relu(const double *x, double *y, R_xlen_t n, double alpha) {
  kernel_params p = {alpha, 0, 0};
  run_unary(leaky_relu_fwd_loops[selu_isa_in_use], x, y, n, p);
}

/* activation(x) for the kernel `name` with parameters `params` (see
 * params_of()). */
SEXP selu_activation_forward(SEXP name, SEXP x, SEXP params, SEXP single) {
  const kernel *k = find_kernel(name);
  int use_float = as_flag(single, "single");
  kernel_params p = params_of(k, params);
  if (!is_numeric_data(x)) check_in_r("check_forward_input", x, R_NilValue);
  SEXP xd = PROTECT(as_double(x));
  SEXP out = PROTECT(result_for(x, 0));
  run_unary((use_float ? k->forward_f32 : k->forward)[selu_isa_in_use], REAL(xd), REAL(out),
            XLENGTH(xd), p);
  UNPROTECT(2);
  return out;
}

/* The gradient with respect to x, given that with respect to the output. */
SEXP selu_activation_backward(SEXP name, SEXP x, SEXP grad_output, SEXP params, SEXP single) {
  const kernel *k = find_kernel(name);
  int use_float = as_flag(single, "single");
  kernel_params p = params_of(k, params);
  check_backward_args(x, grad_output);
  R_xlen_t n = XLENGTH(x), ng = XLENGTH(grad_output);
  SEXP xd = PROTECT(as_double(x));
  SEXP gd = PROTECT(as_double(grad_output));
  SEXP out = PROTECT(result_for(x, 0));
  int scalar = ng == 1 && n != 1;
  const binary_loop *loops = use_float ? (scalar ? k->backward_scalar_f32 : k->backward_f32)
                                       : (scalar ? k->backward_scalar : k->backward);
  run_binary(loops[selu_isa_in_use], REAL(xd), REAL(gd), !scalar, REAL(out), n, p);
  UNPROTECT(3);
  return out;
}

int kernel_loops(const char *name, int single, unary_loop *forward, binary_loop *backward) {
  if (strcmp(name, "selu") == 0) {
    selu_loops(single, forward, backward);
    return 1;
  }
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
    if (strcmp(kernels[i].name, name) != 0) continue;
    *forward = (single ? kernels[i].forward_f32 : kernels[i].forward)[selu_isa_in_use];
    *backward = (single ? kernels[i].backward_f32 : kernels[i].backward)[selu_isa_in_use];
    return 1;
  }
  return 0;
}
