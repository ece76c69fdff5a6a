#include "dispatch.h"

/* Softmax along one axis of an array, and parametric ReLU.
 *
 * An array seen around an axis is outer blocks of `len` slices of `inner`
 * contiguous elements (R arrays are column-major). Each pass over the axis
 * works on `inner` independent slices at once, so the loops run over
 * contiguous memory and vectorize whichever axis it is, the last included.
 * exp(x - max) never overflows, and a slice of -Inf and finite values gives
 * zeros where it is -Inf; a slice all -Inf gives NaN, as keras does. */

/* The maxima (m) and minima (lo) of `inner` slices of `len` elements,
 * `stride` apart, and `normal`: whether no slice spans more than 708, so
 * that every e^(x - max) is a normal number (NaN left out: it stays NaN). */
#define SOFTMAX_RANGE(x, inner, stride, len, m, lo, normal)                              \
  for (R_xlen_t i = 0; i < inner; i++) {                                                \
    m[i] = R_NegInf;                                                                    \
    lo[i] = R_PosInf;                                                                   \
  }                                                                                     \
  for (R_xlen_t j = 0; j < len; j++) {                                                  \
    const double *xj = x + j * stride;                                                  \
    SIMD_LOOP for (R_xlen_t i = 0; i < inner; i++) {                                    \
      m[i] = choose(xj[i] > m[i], xj[i], m[i]);                                         \
      lo[i] = choose(xj[i] < lo[i], xj[i], lo[i]);                                      \
    }                                                                                   \
  }                                                                                     \
  int outside = 0;                                                                      \
  for (R_xlen_t i = 0; i < inner; i++) outside |= !(lo[i] - m[i] >= EXP_NORMAL_FLOOR);  \
  int normal = !outside;

/* y = exp(x - max), s = 1 / sum(y) and, with g (WITH_G 1), dot = sum(g y). */
#define SOFTMAX_EXP(x, g, y, inner, stride, len, m, s, dot, NORMAL, WITH_G)             \
  for (R_xlen_t i = 0; i < inner; i++) {                                                \
    s[i] = 0;                                                                           \
    if (WITH_G) dot[i] = 0;                                                             \
  }                                                                                     \
  for (R_xlen_t j = 0; j < len; j++) {                                                  \
    const double *xj = x + j * stride;                                                  \
    const double *gj = WITH_G ? g + j * stride : x;                                     \
    double *yj = y + j * stride;                                                        \
    SIMD_LOOP for (R_xlen_t i = 0; i < inner; i++) {                                    \
      double z = xj[i] - m[i];                                                          \
      double e = choose(z != z, z, g_c_exp(z, 1.0, 1.0, 53, NORMAL));                   \
      yj[i] = e;                                                                        \
      s[i] += e;                                                                        \
      if (WITH_G) dot[i] += gj[i] * e;                                                  \
    }                                                                                   \
    /* while this pass computes, the next block's stretch of the row comes in */       \
    prefetch(xj + inner, ahead);                                                        \
    if (WITH_G) prefetch(gj + inner, ahead);                                            \
    prefetch_to_write(yj + inner, ahead);                                               \
  }                                                                                     \
  SIMD_LOOP for (R_xlen_t i = 0; i < inner; i++) s[i] = 1.0 / s[i];

/* Each block: the range pass, the exponentials (in the normal form where
 * they allow it) and the pass that scales them; the gradient is
 * y (g - sum_j g_j y_j), with y = e s, the sum taken over e, then scaled. */
#define SOFTMAX_BLOCK(SUFFIX, TARGET)                                                   \
  TARGET static void softmax_block_##SUFFIX(const double *x, double *y, R_xlen_t inner, \
                                            R_xlen_t stride, R_xlen_t len, R_xlen_t ahead, \
                                            double *m, double *lo, double *s) {        \
    SOFTMAX_RANGE(x, inner, stride, len, m, lo, normal)                                 \
    if (normal) { /* no g: no dot product, lo stands in unused */                      \
      SOFTMAX_EXP(x, x, y, inner, stride, len, m, s, lo, 1, 0)                          \
    } else {                                                                            \
      SOFTMAX_EXP(x, x, y, inner, stride, len, m, s, lo, 0, 0)                          \
    }                                                                                   \
    for (R_xlen_t j = 0; j < len; j++) {                                                \
      double *yj = y + j * stride;                                                      \
      SIMD_LOOP for (R_xlen_t i = 0; i < inner; i++) yj[i] = yj[i] * s[i];             \
    }                                                                                   \
  }                                                                                     \
  TARGET static void softmax_grad_block_##SUFFIX(const double *x, const double *g,      \
                                                 double *y, R_xlen_t inner,            \
                                                 R_xlen_t stride, R_xlen_t len,        \
                                                 R_xlen_t ahead, double *m, double *lo, \
                                                 double *s) {                          \
    SOFTMAX_RANGE(x, inner, stride, len, m, lo, normal)                                 \
    double *dot = lo; /* the minima are no longer needed */                             \
    if (normal) {                                                                       \
      SOFTMAX_EXP(x, g, y, inner, stride, len, m, s, dot, 1, 1)                         \
    } else {                                                                            \
      SOFTMAX_EXP(x, g, y, inner, stride, len, m, s, dot, 0, 1)                         \
    }                                                                                   \
    for (R_xlen_t j = 0; j < len; j++) {                                                \
      const double *gj = g + j * stride;                                                \
      double *yj = y + j * stride;                                                      \
      SIMD_LOOP for (R_xlen_t i = 0; i < inner; i++)                                    \
        yj[i] = (yj[i] * s[i]) * (gj[i] - dot[i] * s[i]);                               \
    }                                                                                   \
  }

SOFTMAX_BLOCK(portable, )
SOFTMAX_BLOCK(avx2, SELU_TARGET_AVX2)
SOFTMAX_BLOCK(avx512, SELU_TARGET_AVX512)

/* A slice that is contiguous (the axis is the first, or a vector's only
 * one): the same passes run along it, its sums in SIMD lanes. y = softmax
 * of the slice or, given g, its gradient. */
#if defined(_OPENMP)
#define SIMD_RANGE_LOOP _Pragma("omp simd reduction(max : m) reduction(min : lo)")
#define SIMD_SUM_LOOP _Pragma("omp simd reduction(+ : sum, dot)")
#else
#define SIMD_RANGE_LOOP
#define SIMD_SUM_LOOP
#endif
#define SLICE_EXP(NORMAL, WITH_G)                                                        \
  SIMD_SUM_LOOP for (R_xlen_t j = 0; j < len; j++) {                                     \
    double z = x[j] - m;                                                                 \
    double e = choose(z != z, z, g_c_exp(z, 1.0, 1.0, 53, NORMAL));                      \
    y[j] = e;                                                                            \
    sum += e;                                                                            \
    if (WITH_G) dot += g[j] * e;                                                         \
  }
#define SOFTMAX_SLICE(SUFFIX, TARGET)                                                    \
  TARGET static void softmax_slice_##SUFFIX(const double *x, const double *g, double *y, \
                                            R_xlen_t len) {                              \
    double m = R_NegInf, lo = R_PosInf;                                                  \
    SIMD_RANGE_LOOP for (R_xlen_t j = 0; j < len; j++) {                                 \
      m = x[j] > m ? x[j] : m;                                                           \
      lo = x[j] < lo ? x[j] : lo;                                                        \
    }                                                                                    \
    double sum = 0, dot = 0;                                                             \
    int normal = lo - m >= EXP_NORMAL_FLOOR;                                             \
    if (g && normal) {                                                                   \
      SLICE_EXP(1, 1)                                                                    \
    } else if (g) {                                                                      \
      SLICE_EXP(0, 1)                                                                    \
    } else if (normal) {                                                                 \
      SLICE_EXP(1, 0)                                                                    \
    } else {                                                                             \
      SLICE_EXP(0, 0)                                                                    \
    }                                                                                    \
    const double inv = 1.0 / sum;                                                        \
    if (g) {                                                                             \
      const double dot_y = dot * inv;                                                    \
      SIMD_LOOP for (R_xlen_t j = 0; j < len; j++) y[j] = (y[j] * inv) * (g[j] - dot_y); \
    } else {                                                                             \
      SIMD_LOOP for (R_xlen_t j = 0; j < len; j++) y[j] = y[j] * inv;                   \
    }                                                                                    \
  }

SOFTMAX_SLICE(portable, )
SOFTMAX_SLICE(avx2, SELU_TARGET_AVX2)
SOFTMAX_SLICE(avx512, SELU_TARGET_AVX512)

typedef void (*softmax_slice)(const double *, const double *, double *, R_xlen_t);
static const softmax_slice softmax_slices[ISA_COUNT] = {
    softmax_slice_portable, softmax_slice_avx2, softmax_slice_avx512};

typedef void (*softmax_block)(const double *, double *, R_xlen_t, R_xlen_t, R_xlen_t, R_xlen_t,
                              double *, double *, double *);
static const softmax_block softmax_blocks[ISA_COUNT] = {softmax_block_portable,
                                                        softmax_block_avx2,
                                                        softmax_block_avx512};
typedef void (*softmax_grad_block)(const double *, const double *, double *, R_xlen_t, R_xlen_t,
                                   R_xlen_t, R_xlen_t, double *, double *, double *);
static const softmax_grad_block softmax_grad_blocks[ISA_COUNT] = {
    softmax_grad_block_portable, softmax_grad_block_avx2, softmax_grad_block_avx512};

/* Elements of the inner stretch handled at once: with a few elements along
 * the axis, a block's stretches of x, g and y stay in L1 between its passes,
 * and the next block's come in meanwhile (of 64 to 4096, 64 measured
 * fastest, both in cache and from memory). */
#define INNER_CHUNK 64

/* y = softmax(x), or, given g (of x's length), the gradient y (g - <g, y>). */
static void softmax_into(const double *x, const double *g, double *y, R_xlen_t inner,
                         R_xlen_t len, R_xlen_t outer) {
  softmax_block block = softmax_blocks[selu_isa_in_use];
  softmax_grad_block grad_block = softmax_grad_blocks[selu_isa_in_use];
  double m[INNER_CHUNK], lo[INNER_CHUNK], s[INNER_CHUNK];
  if (inner == 1) {
    softmax_slice slice = softmax_slices[selu_isa_in_use];
    for (R_xlen_t o = 0; o < outer; o++) {
      slice(x + o * len, g ? g + o * len : NULL, y + o * len, len);
      if ((o & 255) == 255) R_CheckUserInterrupt();
    }
    return;
  }
  for (R_xlen_t o = 0; o < outer; o++) {
    R_xlen_t offset = o * inner * len;
    for (R_xlen_t i0 = 0; i0 < inner; i0 += INNER_CHUNK) {
      R_xlen_t width = inner - i0 < INNER_CHUNK ? inner - i0 : INNER_CHUNK;
      /* how much of each row the next block takes, to be fetched ahead */
      R_xlen_t rest = inner - i0 - width, ahead = rest < INNER_CHUNK ? rest : INNER_CHUNK;
      if (g) {
        grad_block(x + offset + i0, g + offset + i0, y + offset + i0, width, inner, len, ahead,
                   m, lo, s);
      } else {
        block(x + offset + i0, y + offset + i0, width, inner, len, ahead, m, lo, s);
      }
    }
    if ((o & 255) == 255) R_CheckUserInterrupt();
  }
}

static void check_layout(SEXP x, SEXP layout, R_xlen_t *inner, R_xlen_t *len, R_xlen_t *outer) {
  if (TYPEOF(layout) != REALSXP || XLENGTH(layout) != 3)
    Rf_error("internal error: `layout` must be c(inner, len, outer)");
  *inner = (R_xlen_t) REAL(layout)[0];
  *len = (R_xlen_t) REAL(layout)[1];
  *outer = (R_xlen_t) REAL(layout)[2];
  if (!is_numeric_data(x) || *inner * *len * *outer != XLENGTH(x))
    Rf_error("internal error: `layout` does not match `x`");
}

SEXP selu_softmax_forward(SEXP x, SEXP layout) {
  R_xlen_t inner, len, outer;
  check_layout(x, layout, &inner, &len, &outer);
  SEXP xd = PROTECT(as_double(x));
  SEXP out = PROTECT(result_for(x, 0));
  softmax_into(REAL(xd), NULL, REAL(out), inner, len, outer);
  UNPROTECT(2);
  return out;
}

/* dx = y (g - sum_j g_j y_j) along the axis, y = softmax(x) recomputed. */
SEXP selu_softmax_backward(SEXP x, SEXP grad_output, SEXP layout) {
  R_xlen_t inner, len, outer;
  check_layout(x, layout, &inner, &len, &outer);
  R_xlen_t n = XLENGTH(x), ng = XLENGTH(grad_output);
  if (!is_numeric_data(grad_output) || (ng != n && ng != 1))
    Rf_error("internal error: `grad_output` must be numeric data of x's length or 1");
  SEXP xd = PROTECT(as_double(x));
  SEXP gd = PROTECT(as_double(grad_output));
  SEXP out = PROTECT(result_for(x, 0));
  if (ng == 1) { /* one number for every element: expand it */
    SEXP full = PROTECT(Rf_allocVector(REALSXP, n));
    double g0 = REAL(gd)[0], *gf = REAL(full);
    for (R_xlen_t i = 0; i < n; i++) gf[i] = g0;
    softmax_into(REAL(xd), gf, REAL(out), inner, len, outer);
    UNPROTECT(1);
  } else {
    softmax_into(REAL(xd), REAL(gd), REAL(out), inner, len, outer);
  }
  UNPROTECT(3);
  return out;
}

/* Parametric ReLU: x for x >= 0, alpha x otherwise, where x is a batch of
 * `features` values per sample (batch axis first, so a feature's values are
 * contiguous) and alpha holds one value per feature. */
SEXP selu_prelu_forward(SEXP x, SEXP alpha) {
  R_xlen_t n = XLENGTH(x), features = XLENGTH(alpha);
  if (!is_numeric_data(x) || TYPEOF(alpha) != REALSXP || features == 0 || n % features)
    Rf_error("internal error: `alpha` must hold one double per feature of `x`");
  R_xlen_t batch = features ? n / features : 0;
  SEXP xd = PROTECT(as_double(x));
  SEXP out = PROTECT(result_for(x, 0));
  const double *xs = REAL(xd), *a = REAL(alpha);
  double *y = REAL(out);
  for (R_xlen_t f = 0; f < features; f++) {
    const double af = a[f];
    const double *xf = xs + f * batch;
    double *yf = y + f * batch;
    SIMD_LOOP for (R_xlen_t b = 0; b < batch; b++) yf[b] = choose(xf[b] < 0, af * xf[b], xf[b]);
  }
  UNPROTECT(2);
  return out;
}

/* One feature's stretch of the batch: writes the gradient for x and returns
 * the one for its alpha. It goes in pieces that stay in cache between the
 * two loops over them. The sum runs in 8 lanes (the same order on every
 * instruction set) so that it vectorizes without reassociating
 * floating-point sums. */
#define PRELU_PIECE 2048
#define PRELU_GRAD_BLOCK(SUFFIX, TARGET)                                                   \
  TARGET static double prelu_grad_block_##SUFFIX(const double *x, const double *g,         \
                                                 R_xlen_t g_step, double a, double *dx,    \
                                                 R_xlen_t n) {                             \
    double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                            \
    const double g0 = g[0];                                                                \
    for (R_xlen_t from = 0; from < n; from += PRELU_PIECE) {                               \
      R_xlen_t to = n - from < PRELU_PIECE ? n : from + PRELU_PIECE;                       \
      if (g_step) {                                                                        \
        SIMD_LOOP for (R_xlen_t b = from; b < to; b++)                                     \
          dx[b] = choose(x[b] != x[b], x[b], choose(x[b] < 0, a * g[b], g[b]));            \
      } else {                                                                             \
        SIMD_LOOP for (R_xlen_t b = from; b < to; b++)                                     \
          dx[b] = choose(x[b] != x[b], x[b], choose(x[b] < 0, a * g0, g0));                \
      }                                                                                    \
      R_xlen_t b = from;                                                                   \
      for (; b + 8 <= to; b += 8)                                                          \
        for (int l = 0; l < 8; l++)                                                        \
          lanes[l] += g[(b + l) * g_step] * (x[b + l] < 0 ? x[b + l] : 0.0);               \
      for (; b < to; b++) lanes[0] += g[b * g_step] * (x[b] < 0 ? x[b] : 0.0);            \
    }                                                                                      \
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +                               \
           ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));                                \
  }

PRELU_GRAD_BLOCK(portable, )
PRELU_GRAD_BLOCK(avx2, SELU_TARGET_AVX2)
PRELU_GRAD_BLOCK(avx512, SELU_TARGET_AVX512)

typedef double (*prelu_grad_block)(const double *, const double *, R_xlen_t, double, double *,
                                   R_xlen_t);
static const prelu_grad_block prelu_grad_blocks[ISA_COUNT] = {
    prelu_grad_block_portable, prelu_grad_block_avx2, prelu_grad_block_avx512};

/* list(gradient for x, gradient for alpha per feature). */
SEXP selu_prelu_backward(SEXP x, SEXP alpha, SEXP grad_output) {
  R_xlen_t n = XLENGTH(x), features = XLENGTH(alpha), ng = XLENGTH(grad_output);
  if (!is_numeric_data(x) || TYPEOF(alpha) != REALSXP || features == 0 || n % features ||
      !is_numeric_data(grad_output) || (ng != n && ng != 1))
    Rf_error("internal error: `alpha` or `grad_output` does not match `x`");
  R_xlen_t batch = features ? n / features : 0, g_step = ng == 1 ? 0 : 1;
  SEXP xd = PROTECT(as_double(x));
  SEXP gd = PROTECT(as_double(grad_output));
  SEXP dx = PROTECT(result_for(x, 0));
  SEXP dalpha = PROTECT(Rf_allocVector(REALSXP, features));
  const double *xs = REAL(xd), *a = REAL(alpha), *g = REAL(gd);
  double *dxs = REAL(dx), *da = REAL(dalpha);
  prelu_grad_block block = prelu_grad_blocks[selu_isa_in_use];
  for (R_xlen_t f = 0; f < features; f++)
    da[f] = block(xs + f * batch, g + f * batch * g_step, g_step, a[f], dxs + f * batch, batch);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(out, 0, dx);
  SET_VECTOR_ELT(out, 1, dalpha);
  UNPROTECT(5);
  return out;
}
