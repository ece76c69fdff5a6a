#include "dispatch.h"
#include "memory.h"

/* Softmax along one axis of an array, and parametric ReLU.
 *
 * An array seen around an axis is outer blocks of `len` slices of `inner`
 * contiguous elements (R arrays are column-major). Each pass over the axis
 * works on `inner` independent slices at once, so the loops run over
 * contiguous memory and vectorize whichever axis it is, the last included.
 * exp(x - max) never overflows, and a slice of -Inf and finite values gives
 * zeros where it is -Inf; a slice all -Inf gives NaN, as keras does. */

/* A pass goes down the axis in groups of ROWS rows (the last group may be
 * shorter), one loop over the block per group, so that each slice's running
 * maximum, sum or dot product stays in a register across a group instead of
 * going to memory and back after each row. The pass
 * is given as macros PASS_START (loads a slice's state), PASS_ROW(k) (row
 * k), PASS_END (stores the state) and PASS_AFTER(j) (after rows j to
 * j + ROWS - 1), each taking the pass's two compile-time switches A, B.
 * GROUP_OF(n, ...) is one group's loop, n a constant whose tests are gone
 * once compiled. */
#define ROWS 4
#define GROUP_OF(n, PASS, A, B)                                                          \
  SIMD_LOOP for (R_xlen_t i = 0; i < width; i++) {                                       \
    PASS##_START(A, B)                                                                   \
    PASS##_ROW(j, A, B)                                                                  \
    if ((n) > 1) PASS##_ROW(j + 1, A, B)                                                 \
    if ((n) > 2) PASS##_ROW(j + 2, A, B)                                                 \
    if ((n) > 3) PASS##_ROW(j + 3, A, B)                                                 \
    PASS##_END(A, B)                                                                     \
  }
#define DOWN_THE_AXIS(PASS, A, B)                                                        \
  for (R_xlen_t j = 0; j < len; j += ROWS) {                                             \
    R_xlen_t left = len - j;                                                             \
    if (left >= ROWS) {                                                                  \
      GROUP_OF(4, PASS, A, B)                                                            \
    } else if (left == 3) {                                                              \
      GROUP_OF(3, PASS, A, B)                                                            \
    } else if (left == 2) {                                                              \
      GROUP_OF(2, PASS, A, B)                                                            \
    } else {                                                                             \
      GROUP_OF(1, PASS, A, B)                                                            \
    }                                                                                    \
    PASS##_AFTER(j, A, B)                                                                \
  }

/* The range pass: the maxima (m) and minima (lo) of the slices. Written as
 * comparisons, they compile to the max and min instructions, which skip a
 * NaN v as the comparisons do. */
#define RANGE_START(A, B) double mi = m[i], li = lo[i];
#define RANGE_ROW(k, A, B)                                                               \
  {                                                                                      \
    double v = x[i + (k) * stride];                                                      \
    mi = v > mi ? v : mi;                                                                \
    li = v < li ? v : li;                                                                \
  }
#define RANGE_END(A, B)                                                                  \
  m[i] = mi;                                                                             \
  lo[i] = li;
#define RANGE_AFTER(j, A, B)

/* g's element at `index`: WITH_G is 0 without g, 1 for a g of x's length,
 * 2 for one number g[0] for all. */
#define G_AT(index, WITH_G) ((WITH_G) == 1 ? g[index] : g[0])

/* exp(z) for z = x - max <= 0 or NaN; `normal` where no slice spans more
 * than 708, so that every result is a normal number. That form carries a
 * NaN z through; the other one clamps z first, so a NaN is chosen back. */
SELU_INLINE double exp_shifted(double z, int normal) {
  return normal ? exp_neg(z, 1) : choose(z != z, z, exp_neg(z, 0));
}

/* The exponential pass: y = e = exp(x - max), s = sum(e) and, with g,
 * dot = sum(g e); in the normal form (NORMAL 1) where it can (see
 * exp_shifted). Meanwhile the next block's stretches of the rows are asked
 * for. */
#define EXP_START(NORMAL, WITH_G) double mi = m[i], si = s[i], di = dot[i];
#define EXP_ROW(k, NORMAL, WITH_G)                                                       \
  {                                                                                      \
    double z = x[i + (k) * stride] - mi;                                                 \
    double e = exp_shifted(z, NORMAL);                                                   \
    y[i + (k) * stride] = e;                                                             \
    si += e;                                                                             \
    if (WITH_G) di += G_AT(i + (k) * stride, WITH_G) * e;                                \
  }
#define EXP_END(NORMAL, WITH_G)                                                          \
  s[i] = si;                                                                             \
  dot[i] = di;
#define EXP_AFTER(j, NORMAL, WITH_G)                                                     \
  for (R_xlen_t k = j; k < j + ROWS && k < len; k++) {                                   \
    prefetch(x + k * stride + width, ahead);                                             \
    if (WITH_G == 1) prefetch(g + k * stride + width, ahead);                            \
    prefetch_to_write(y + k * stride + width, ahead);                                    \
  }

/* The scaling pass, with s = 1 / sum(e) by then: y = e s, the softmax, or
 * y (g - dot s), its gradient. */
#define SCALE_START(WITH_G, B) double si = s[i], di = dot[i] * s[i];
#define SCALE_ROW(k, WITH_G, B)                                                          \
  {                                                                                      \
    double *yk = y + i + (k) * stride;                                                   \
    *yk = WITH_G ? (*yk * si) * (G_AT(i + (k) * stride, WITH_G) - di) : *yk * si;        \
  }
#define SCALE_END(WITH_G, B)
#define SCALE_AFTER(j, WITH_G, B)

/* One block of `width` slices, rows `stride` apart, whose first elements
 * are x, g (NULL for the forward pass; with g_step 0, one number for all)
 * and y; `ahead` elements of each row
 * of the next block are fetched meanwhile. m, lo, s: room for `width`
 * doubles each. */
#define SOFTMAX_PASSES(WITH_G)                                                           \
  for (R_xlen_t i = 0; i < width; i++) {                                                 \
    m[i] = R_NegInf;                                                                     \
    lo[i] = R_PosInf;                                                                    \
  }                                                                                      \
  DOWN_THE_AXIS(RANGE, 0, 0)                                                             \
  int outside = 0;                                                                       \
  for (R_xlen_t i = 0; i < width; i++) outside |= !(lo[i] - m[i] >= EXP_NORMAL_FLOOR);   \
  double *dot = lo; /* the minima are no longer needed */                               \
  for (R_xlen_t i = 0; i < width; i++) s[i] = dot[i] = 0;                                \
  if (outside) {                                                                         \
    DOWN_THE_AXIS(EXP, 0, WITH_G)                                                        \
  } else {                                                                               \
    DOWN_THE_AXIS(EXP, 1, WITH_G)                                                        \
  }                                                                                      \
  SIMD_LOOP for (R_xlen_t i = 0; i < width; i++) s[i] = 1.0 / s[i];                      \
  DOWN_THE_AXIS(SCALE, WITH_G, 0)
#define SOFTMAX_BLOCK(SUFFIX, TARGET)                                                    \
  TARGET static void softmax_block_##SUFFIX(const double *x, const double *g, double *y, \
                                            R_xlen_t g_step, R_xlen_t width,             \
                                            R_xlen_t stride, R_xlen_t len, R_xlen_t ahead, \
                                            double *m, double *lo, double *s) {          \
    if (!g) {                                                                            \
      SOFTMAX_PASSES(0)                                                                  \
    } else if (g_step) {                                                                 \
      SOFTMAX_PASSES(1)                                                                  \
    } else {                                                                             \
      SOFTMAX_PASSES(2)                                                                  \
    }                                                                                    \
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
    double e = exp_shifted(z, NORMAL);                                                   \
    y[j] = e;                                                                            \
    sum += e;                                                                            \
    if (WITH_G) dot += G_AT(j, WITH_G) * e;                                              \
  }
#define SLICE_PASSES(WITH_G)                                                             \
  if (normal) {                                                                          \
    SLICE_EXP(1, WITH_G)                                                                 \
  } else {                                                                               \
    SLICE_EXP(0, WITH_G)                                                                 \
  }                                                                                      \
  const double inv = 1.0 / sum, dot_y = dot * inv;                                       \
  SIMD_LOOP for (R_xlen_t j = 0; j < len; j++)                                           \
    y[j] = WITH_G ? (y[j] * inv) * (G_AT(j, WITH_G) - dot_y) : y[j] * inv;
#define SOFTMAX_SLICE(SUFFIX, TARGET)                                                    \
  TARGET static void softmax_slice_##SUFFIX(const double *x, const double *g,            \
                                            R_xlen_t g_step, double *y, R_xlen_t len) {  \
    double m = R_NegInf, lo = R_PosInf;                                                  \
    SIMD_RANGE_LOOP for (R_xlen_t j = 0; j < len; j++) {                                 \
      m = x[j] > m ? x[j] : m;                                                           \
      lo = x[j] < lo ? x[j] : lo;                                                        \
    }                                                                                    \
    double sum = 0, dot = 0;                                                             \
    int normal = lo - m >= EXP_NORMAL_FLOOR;                                             \
    if (!g) {                                                                            \
      SLICE_PASSES(0)                                                                    \
    } else if (g_step) {                                                                 \
      SLICE_PASSES(1)                                                                    \
    } else {                                                                             \
      SLICE_PASSES(2)                                                                    \
    }                                                                                    \
  }

SOFTMAX_SLICE(portable, )
SOFTMAX_SLICE(avx2, SELU_TARGET_AVX2)
SOFTMAX_SLICE(avx512, SELU_TARGET_AVX512)

typedef void (*softmax_slice)(const double *, const double *, R_xlen_t, double *, R_xlen_t);
static const softmax_slice softmax_slices[ISA_COUNT] = {
    softmax_slice_portable, softmax_slice_avx2, softmax_slice_avx512};

typedef void (*softmax_block)(const double *, const double *, double *, R_xlen_t, R_xlen_t,
                              R_xlen_t, R_xlen_t, R_xlen_t, double *, double *, double *);
static const softmax_block softmax_blocks[ISA_COUNT] = {softmax_block_portable,
                                                        softmax_block_avx2,
                                                        softmax_block_avx512};

/* Slices in a block: with a few elements along the axis, a block's
 * stretches of x, g and y stay in L1 between its passes while the next
 * block's come in (of 64 to 256, 128 measured fastest from memory). */
#define BLOCK_WIDTH 128

/* Short contiguous slices (the first axis, with few elements along it) go
 * through the block passes too, a tile of them at a time: copied across
 * into an L1 scratch so that the passes run over the slices side by side,
 * then back. One slice at a time, the passes' loops are too short to pay
 * for themselves. A tile holds up to TILE_DOUBLES elements, in rows of a
 * multiple of 8 slices (96 at most). Measured from memory against one slice
 * at a time, tiles are faster up to 32 elements per slice for softmax
 * (1.7 against 6.4 ns/el at 10) and up to 12 for its gradient (4.1 against
 * 6.9 at 10). */
#define TILE_DOUBLES 1024
#define TILE_SLICES 96
#define TILE_MAX_LEN 32
#define TILE_MAX_LEN_GRADIENT 12

typedef struct {
  const double *x, *g;
  R_xlen_t g_step;
  double *y;
  R_xlen_t inner, len, outer;
  R_xlen_t blocks; /* of BLOCK_WIDTH slices, per outer block */
  R_xlen_t tile;   /* slices per tile, for short contiguous slices (inner 1) */
} softmax_job;

/* Units from to `to`: where slices are contiguous (inner 1), tiles of
 * `tile` slices if they are short, else single slices; otherwise blocks of
 * up to BLOCK_WIDTH slices, `blocks` to each outer block. */
static void softmax_units(const void *context, R_xlen_t from, R_xlen_t to) {
  const softmax_job *j = context;
  const R_xlen_t inner = j->inner, len = j->len, g_step = j->g_step;
  softmax_block block = softmax_blocks[selu_isa_in_use];
  double m[BLOCK_WIDTH], lo[BLOCK_WIDTH], s[BLOCK_WIDTH];
  if (inner == 1 && j->tile) {
    double xt[TILE_DOUBLES], gt[TILE_DOUBLES], yt[TILE_DOUBLES];
    for (R_xlen_t u = from; u < to; u++) {
      R_xlen_t o0 = u * j->tile, rest = j->outer - o0;
      R_xlen_t w = rest < j->tile ? rest : j->tile, pitch = j->tile;
      const double *xs = j->x + o0 * len, *gs = j->g ? j->g + o0 * len * g_step : NULL;
      double *ys = j->y + o0 * len;
      for (R_xlen_t i = 0; i < w; i++)
        for (R_xlen_t k = 0; k < len; k++) xt[i + k * pitch] = xs[i * len + k];
      if (gs && g_step)
        for (R_xlen_t i = 0; i < w; i++)
          for (R_xlen_t k = 0; k < len; k++) gt[i + k * pitch] = gs[i * len + k];
      block(xt, gs && g_step ? gt : gs, yt, g_step, w, pitch, len, 0, m, lo, s);
      for (R_xlen_t i = 0; i < w; i++)
        for (R_xlen_t k = 0; k < len; k++) ys[i * len + k] = yt[i + k * pitch];
    }
    return;
  }
  if (inner == 1) {
    softmax_slice slice = softmax_slices[selu_isa_in_use];
    for (R_xlen_t o = from; o < to; o++)
      slice(j->x + o * len, j->g ? j->g + o * len * g_step : NULL, g_step, j->y + o * len, len);
    return;
  }
  for (R_xlen_t u = from; u < to; u++) {
    R_xlen_t i0 = u % j->blocks * BLOCK_WIDTH, offset = u / j->blocks * inner * len + i0;
    R_xlen_t width = inner - i0 < BLOCK_WIDTH ? inner - i0 : BLOCK_WIDTH;
    /* how much of each row the next block takes, to be fetched ahead */
    R_xlen_t rest = inner - i0 - width, ahead = rest < BLOCK_WIDTH ? rest : BLOCK_WIDTH;
    block(j->x + offset, j->g ? j->g + offset * g_step : NULL, j->y + offset, g_step, width,
          inner, len, ahead, m, lo, s);
  }
}

/* Softmax over x into y, or, given g (of x's length, or with g_step 0 one
 * number for all), its gradient y (g - <g, y>): the array seen as `outer`
 * blocks of `len` slices of `inner` elements (see the top of this file). */
void softmax_into(const double *x, const double *g, R_xlen_t g_step, double *y,
                         R_xlen_t inner, R_xlen_t len, R_xlen_t outer) {
  if (inner == 1 && len > 0 && len <= (g ? TILE_MAX_LEN_GRADIENT : TILE_MAX_LEN)) {
    R_xlen_t tile = TILE_DOUBLES / len < TILE_SLICES ? TILE_DOUBLES / len : TILE_SLICES;
    tile -= tile % 8;
    softmax_job j = {x, g, g_step, y, inner, len, outer, 0, tile};
    run_units(softmax_units, &j, (outer + tile - 1) / tile, tile * len);
  } else if (inner == 1) {
    softmax_job j = {x, g, g_step, y, inner, len, outer, 0, 0};
    run_units(softmax_units, &j, outer, len);
  } else {
    R_xlen_t blocks = (inner + BLOCK_WIDTH - 1) / BLOCK_WIDTH;
    softmax_job j = {x, g, g_step, y, inner, len, outer, blocks, 0};
    run_units(softmax_units, &j, outer * blocks,
              (inner < BLOCK_WIDTH ? inner : BLOCK_WIDTH) * len);
  }
}

/* Whether `axis` is a whole number other than 0 within [-rank, rank], as
 * check_axis() in R asks; if so, *out is it counted from 1. */
static int is_axis(SEXP axis, int rank, int *out) {
  if ((TYPEOF(axis) != REALSXP && TYPEOF(axis) != INTSXP) || OBJECT(axis) ||
      XLENGTH(axis) != 1)
    return 0;
  double a = TYPEOF(axis) == REALSXP ? REAL(axis)[0]
             : INTEGER(axis)[0] == NA_INTEGER ? NA_REAL : INTEGER(axis)[0];
  if (!R_FINITE(a) || a != trunc(a) || a == 0 || fabs(a) > rank) return 0;
  *out = a < 0 ? rank + (int) a + 1 : (int) a;
  return 1;
}

/* x (numeric data) seen around `axis` as c(inner, len, outer): the
 * elements before the axis, along it, after it. An axis that is not one of
 * x's goes to check_axis() in R, which signals the user's error. */
static void layout_of(SEXP x, SEXP axis, R_xlen_t *inner, R_xlen_t *len, R_xlen_t *outer) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  int rank = dim == R_NilValue ? 1 : (int) XLENGTH(dim), k;
  if (!is_axis(axis, rank, &k)) {
    SEXP r = PROTECT(Rf_ScalarInteger(rank));
    check_in_r("check_axis", axis, r);
  }
  if (dim == R_NilValue) {
    *inner = *outer = 1;
    *len = XLENGTH(x);
    return;
  }
  const int *d = INTEGER(dim);
  *inner = *outer = 1;
  for (int i = 0; i < k - 1; i++) *inner *= d[i];
  *len = d[k - 1];
  for (int i = k; i < rank; i++) *outer *= d[i];
}

SEXP selu_softmax_forward(SEXP x, SEXP axis) {
  if (!is_numeric_data(x)) check_in_r("check_forward_input", x, R_NilValue);
  R_xlen_t inner, len, outer;
  layout_of(x, axis, &inner, &len, &outer);
  SEXP xd = PROTECT(as_double(x));
  SEXP out = PROTECT(result_for(x, 0));
  softmax_into(REAL(xd), NULL, 0, REAL(out), inner, len, outer);
  UNPROTECT(2);
  return out;
}

/* dx = y (g - sum_j g_j y_j) along the axis, y = softmax(x) recomputed. */
SEXP selu_softmax_backward(SEXP x, SEXP grad_output, SEXP axis) {
  check_backward_args(x, grad_output);
  R_xlen_t inner, len, outer;
  layout_of(x, axis, &inner, &len, &outer);
  R_xlen_t n = XLENGTH(x);
  SEXP xd = PROTECT(as_double(x));
  SEXP gd = PROTECT(as_double(grad_output));
  SEXP out = PROTECT(result_for(x, 0));
  softmax_into(REAL(xd), REAL(gd), XLENGTH(gd) == 1 && n != 1 ? 0 : 1, REAL(out), inner, len,
               outer);
  UNPROTECT(3);
  return out;
}

/* Parametric ReLU: x for x >= 0, alpha x otherwise, where x is a batch of
 * `features` values per sample (batch axis first, so a feature's values are
 * contiguous) and alpha holds one value per feature. */

/* Whether alpha has the shape of one sample of x: x's dim without its
 * first, or 1 for a vector or a 1-d array. alpha's shape is its dim, or
 * its length. */
static int has_sample_shape(SEXP alpha, SEXP x) {
  SEXP xdim = Rf_getAttrib(x, R_DimSymbol), adim = Rf_getAttrib(alpha, R_DimSymbol);
  int rank = xdim == R_NilValue ? 1 : (int) XLENGTH(xdim);
  if (rank == 1) return adim == R_NilValue ? XLENGTH(alpha) == 1
                                           : XLENGTH(adim) == 1 && INTEGER(adim)[0] == 1;
  if (adim == R_NilValue) return rank == 2 && XLENGTH(alpha) == INTEGER(xdim)[1];
  return XLENGTH(adim) == rank - 1 &&
         memcmp(INTEGER(adim), INTEGER(xdim) + 1, (rank - 1) * sizeof(int)) == 0;
}

/* alpha's value for each feature of x: alpha itself when it has the shape
 * of one sample (*as_is set); otherwise prelu_alpha_for() in R broadcasts
 * it along its shared axes (size 1), or signals the user's error. */
static SEXP alpha_per_feature(SEXP alpha, SEXP x, int *as_is) {
  *as_is = is_numeric_data(alpha) && has_sample_shape(alpha, x);
  if (*as_is) return as_double(alpha);
  SEXP a = PROTECT(call_in_r("prelu_alpha_for", alpha, x, NULL));
  R_xlen_t n = XLENGTH(x), features = XLENGTH(a);
  if (TYPEOF(a) != REALSXP || (features ? n % features : n))
    Rf_error("internal error: prelu_alpha_for() gave no value per feature");
  UNPROTECT(1);
  return a;
}

SEXP selu_prelu_forward(SEXP x, SEXP alpha) {
  if (!is_numeric_data(x)) check_in_r("check_forward_input", x, R_NilValue);
  int as_is;
  SEXP a = PROTECT(alpha_per_feature(alpha, x, &as_is));
  R_xlen_t n = XLENGTH(x), features = XLENGTH(a);
  R_xlen_t batch = features ? n / features : 0;
  SEXP xd = PROTECT(as_double(x));
  SEXP out = PROTECT(result_for(x, 0));
  const double *xs = REAL(xd), *as = REAL(a);
  double *y = REAL(out);
  for (R_xlen_t f = 0; f < features; f++)
    run_leaky_relu(xs + f * batch, y + f * batch, batch, as[f]);
  UNPROTECT(3);
  return out;
}

/* One feature's stretch of the batch: writes the gradient for x and returns
 * the one for its alpha. It goes in pieces that stay in L1 cache between the
 * two loops over them (of 64 to 2048 elements, 128 measured fastest from
 * memory). The sum runs in 8 lanes (the same order on every
 * instruction set) so that it vectorizes without reassociating
 * floating-point sums. */
#define PRELU_PIECE 128
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

typedef struct {
  const double *x, *g;
  R_xlen_t g_step;
  const double *alpha;
  double *dx, *dalpha;
  R_xlen_t batch;
} prelu_grad_job;

/* Features from to `to`: their gradients for x and for alpha. */
static void prelu_grad_features(const void *context, R_xlen_t from, R_xlen_t to) {
  const prelu_grad_job *j = context;
  prelu_grad_block block = prelu_grad_blocks[selu_isa_in_use];
  const R_xlen_t batch = j->batch;
  for (R_xlen_t f = from; f < to; f++)
    j->dalpha[f] = block(j->x + f * batch, j->g + f * batch * j->g_step, j->g_step,
                         j->alpha[f], j->dx + f * batch, batch);
}

/* list(x = the gradient for x, alpha = the gradient for alpha, of alpha's
 * shape: a 1-d array for a vector). */
SEXP selu_prelu_backward(SEXP x, SEXP alpha, SEXP grad_output) {
  check_backward_args(x, grad_output);
  int as_is;
  SEXP a = PROTECT(alpha_per_feature(alpha, x, &as_is));
  R_xlen_t n = XLENGTH(x), features = XLENGTH(a);
  R_xlen_t batch = features ? n / features : 0, g_step = XLENGTH(grad_output) == 1 && n != 1 ? 0 : 1;
  SEXP xd = PROTECT(as_double(x));
  SEXP gd = PROTECT(as_double(grad_output));
  SEXP dx = PROTECT(result_for(x, 0));
  SEXP dalpha = PROTECT(alloc_result(REALSXP, features));
  prelu_grad_job j = {REAL(xd), REAL(gd), g_step, REAL(a), REAL(dx), REAL(dalpha), batch};
  run_units(prelu_grad_features, &j, features, batch);
  if (as_is) {
    SEXP adim = Rf_getAttrib(alpha, R_DimSymbol);
    Rf_setAttrib(dalpha, R_DimSymbol,
                 adim == R_NilValue ? Rf_ScalarInteger((int) features) : adim);
  } else { /* summed over the shared axes */
    dalpha = call_in_r("prelu_alpha_gradient", dalpha, alpha, x);
  }
  PROTECT(dalpha);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 2)), names = PROTECT(Rf_allocVector(STRSXP, 2));
  SET_VECTOR_ELT(out, 0, dx);
  SET_VECTOR_ELT(out, 1, dalpha);
  SET_STRING_ELT(names, 0, Rf_mkChar("x"));
  SET_STRING_ELT(names, 1, Rf_mkChar("alpha"));
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(8);
  return out;
}
