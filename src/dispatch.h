#ifndef SELU_DISPATCH_H
#define SELU_DISPATCH_H

/* The machinery every elementwise kernel runs on: one loop body compiled for
 * several instruction sets and picked at run time, and a driver that splits
 * long vectors into blocks (checking for a user interrupt between them, on
 * the main thread) and each block over the threads. */

#include "selu.h"
#include "vecmath.h"

/* The instruction sets a kernel is compiled for, best last. */
enum selu_isa { ISA_PORTABLE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_COUNT = 3 };

/* The parameters of a kernel (alpha, a threshold, ...), passed by value so
 * that they stay in registers. */
typedef struct {
  double a, b, c;
} kernel_params;

/* Threads split work, and some loops work, in pieces of this many elements. */
#define ALIGN 512

/* y = f(x), or y = f(x, g) with g of length n (g_step 1) or 1 (g_step 0). */
typedef void (*unary_loop)(const double *x, double *y, R_xlen_t n, kernel_params p);
typedef void (*binary_loop)(const double *x, const double *g, double *y, R_xlen_t n,
                            kernel_params p);

extern int selu_isa_in_use;

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define SELU_X86_DISPATCH 1
#define SELU_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define SELU_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma,prefer-vector-width=512")))
#else
#define SELU_TARGET_AVX2
#define SELU_TARGET_AVX512
#endif

/* The portable build uses fma() only where the compiler makes it one
 * instruction; elsewhere it would be a slow library call. */
#if defined(FP_FAST_FMA)
#define PORTABLE_FMA 1
#else
#define PORTABLE_FMA 0
#endif

#if defined(_OPENMP)
#define SIMD_LOOP _Pragma("omp simd")
#else
#define SIMD_LOOP
#endif

/* Defines NAME_loops[], one loop per instruction set, applying the inlined
 * element function EXPR(xi, params, fma_ok) over x. */
#define UNARY_LOOP(NAME, SUFFIX, TARGET, EXPR, FMA)                                      \
  TARGET static void NAME##_##SUFFIX(const double *x, double *y, R_xlen_t n,             \
                                     kernel_params p) {                                  \
    SIMD_LOOP for (R_xlen_t i = 0; i < n; i++) y[i] = EXPR(x[i], p, FMA);               \
  }
#define UNARY_LOOPS(NAME, EXPR)                                                          \
  UNARY_LOOP(NAME, portable, , EXPR, PORTABLE_FMA)                                       \
  UNARY_LOOP(NAME, avx2, SELU_TARGET_AVX2, EXPR, 1)                                      \
  UNARY_LOOP(NAME, avx512, SELU_TARGET_AVX512, EXPR, 1)
#define DEFINE_UNARY_LOOPS(NAME, EXPR)                                                   \
  UNARY_LOOPS(NAME, EXPR)                                                                \
  static const unary_loop NAME##_loops[ISA_COUNT] = {NAME##_portable, NAME##_avx2,      \
                                                     NAME##_avx512};

/* Asks for n elements from p ahead of use. The AVX-512 loops may read g
 * only through masked instructions, which some processors (AMD Zen 4) do
 * not stream from memory ahead of time: without this, a loop over g out of
 * cache runs at half speed. */
SELU_INLINE void prefetch(const double *p, R_xlen_t n) {
#if defined(__GNUC__)
  for (R_xlen_t i = 0; i < n; i += 8) __builtin_prefetch(p + i);
#else
  (void) p;
  (void) n;
#endif
}

/* The same for elements about to be written. */
SELU_INLINE void prefetch_to_write(double *p, R_xlen_t n) {
#if defined(__GNUC__)
  for (R_xlen_t i = 0; i < n; i += 8) __builtin_prefetch(p + i, 1);
#else
  (void) p;
  (void) n;
#endif
}

/* The same for EXPR(xi, gi, params, fma_ok), in ALIGN pieces with the next
 * piece of g asked for ahead; `_scalar` loops take one g for all. */
#define BINARY_LOOP(NAME, SUFFIX, TARGET, EXPR, FMA)                                     \
  TARGET static void NAME##_##SUFFIX(const double *x, const double *g, double *y,        \
                                     R_xlen_t n, kernel_params p) {                      \
    for (R_xlen_t s = 0; s < n; s += ALIGN) {                                            \
      R_xlen_t end = n - s < ALIGN ? n : s + ALIGN;                                      \
      prefetch(g + end, n - end < ALIGN ? n - end : ALIGN);                              \
      SIMD_LOOP for (R_xlen_t i = s; i < end; i++) y[i] = EXPR(x[i], g[i], p, FMA);     \
    }                                                                                    \
  }                                                                                      \
  TARGET static void NAME##_scalar_##SUFFIX(const double *x, const double *g, double *y, \
                                            R_xlen_t n, kernel_params p) {               \
    const double g0 = g[0];                                                              \
    SIMD_LOOP for (R_xlen_t i = 0; i < n; i++) y[i] = EXPR(x[i], g0, p, FMA);           \
  }
#define BINARY_LOOPS(NAME, EXPR)                                                         \
  BINARY_LOOP(NAME, portable, , EXPR, PORTABLE_FMA)                                      \
  BINARY_LOOP(NAME, avx2, SELU_TARGET_AVX2, EXPR, 1)                                     \
  BINARY_LOOP(NAME, avx512, SELU_TARGET_AVX512, EXPR, 1)
#define DEFINE_BINARY_LOOPS(NAME, EXPR)                                                  \
  BINARY_LOOPS(NAME, EXPR)                                                               \
  static const binary_loop NAME##_loops[ISA_COUNT] = {NAME##_portable, NAME##_avx2,     \
                                                      NAME##_avx512};                    \
  static const binary_loop NAME##_scalar_loops[ISA_COUNT] = {                           \
      NAME##_scalar_portable, NAME##_scalar_avx2, NAME##_scalar_avx512};

/* Kernels on e^x are written in three stages. Sigmoid and tanh run them as
 * three loops over each block of STAGE_BLOCK elements, handing results on
 * through buffers in L1 cache: in one loop, the chain of dependent steps of
 * each element (over a hundred cycles of latency) fills the processor's
 * scheduler before its units are busy, and three shorter chains keep them
 * busy. The arithmetic is the same, so are the results, bit for bit. SELU
 * and ELU, with shorter chains, run as fast in one loop, and faster where
 * the result is not in cache yet (their stores then spread over the loop).
 *
 * A kernel STAGES gives STAGES_reduce(x, p), the first stage (the argument
 * of e^x, reduced: see reduced()); MIDDLE(s, fma_ok), the second,
 * expm1_stage or exp_dd_stage; and STAGES_finish(x, s, p, fma_ok) or
 * STAGES_finish(x, g, s, p, fma_ok). */
#define STAGE_BLOCK 128

/* The element function NAME(x, p, fma_ok) (or NAME(x, g, p, fma_ok)), all
 * three stages in one, for loops that take one element at a time. */
#define STAGED_UNARY(NAME, STAGES, MIDDLE)                                               \
  SELU_INLINE double NAME(double x, kernel_params p, int fma_ok) {                      \
    return STAGES##_finish(x, MIDDLE(STAGES##_reduce(x, p), fma_ok), p, fma_ok);         \
  }
#define STAGED_BINARY(NAME, STAGES, MIDDLE)                                              \
  SELU_INLINE double NAME(double x, double g, kernel_params p, int fma_ok) {            \
    return STAGES##_finish(x, g, MIDDLE(STAGES##_reduce(x, p), fma_ok), p, fma_ok);      \
  }

/* The three buffers of a block's stages, in scratch (SCRATCH_DOUBLES long),
 * placed 1 KB after the block's x modulo 4 KB. A load whose address shares
 * its low 12 bits with that of a store in flight waits for the store (4K
 * aliasing); buffers at a fixed place would meet x's stretches so in one
 * block out of four, and user data lies anywhere. */
#define SCRATCH_DOUBLES (512 + 3 * STAGE_BLOCK)
SELU_INLINE double *stage_buffers(double *scratch, const double *xs) {
  uintptr_t base = (uintptr_t) scratch, wanted = ((uintptr_t) xs + 1024) & 4095;
  return (double *) (base + ((wanted - base) & 4095));
}

SELU_INLINE void put_stage(stage s, double *a, double *b, double *c, R_xlen_t i) {
  a[i] = s.a;
  b[i] = s.b;
  c[i] = s.c;
}

SELU_INLINE stage get_stage(const double *a, const double *b, const double *c, R_xlen_t i) {
  stage s = {a[i], b[i], c[i]};
  return s;
}

/* The first two stages over xs[0, len) into a, b, c. */
#define FIRST_STAGES(STAGES, MIDDLE, FMA)                                                \
  SIMD_LOOP for (R_xlen_t i = 0; i < len; i++)                                           \
    put_stage(STAGES##_reduce(xs[i], p), a, b, c, i);                                    \
  SIMD_LOOP for (R_xlen_t i = 0; i < len; i++)                                           \
    put_stage(MIDDLE(get_stage(a, b, c, i), FMA), a, b, c, i);

#define STAGED_UNARY_LOOP(NAME, SUFFIX, TARGET, STAGES, MIDDLE, FMA)                     \
  TARGET static void NAME##_##SUFFIX(const double *x, double *y, R_xlen_t n,             \
                                     kernel_params p) {                                  \
    double scratch[SCRATCH_DOUBLES];                                                     \
    for (R_xlen_t s = 0; s < n; s += STAGE_BLOCK) {                                      \
      R_xlen_t len = n - s < STAGE_BLOCK ? n - s : STAGE_BLOCK;                          \
      R_xlen_t ahead = n - s - len < STAGE_BLOCK ? n - s - len : STAGE_BLOCK;            \
      const double *xs = x + s;                                                          \
      double *ys = y + s;                                                                \
      double *a = stage_buffers(scratch, xs), *b = a + STAGE_BLOCK, *c = b + STAGE_BLOCK; \
      prefetch_to_write(ys + len, ahead);                                                \
      FIRST_STAGES(STAGES, MIDDLE, FMA)                                                  \
      SIMD_LOOP for (R_xlen_t i = 0; i < len; i++)                                       \
        ys[i] = STAGES##_finish(xs[i], get_stage(a, b, c, i), p, FMA);                   \
    }                                                                                    \
  }
/* g has n elements (G_STEP 1), its next block asked for ahead (see
 * prefetch), or one (G_STEP 0, the _scalar loops). */
#define STAGED_BINARY_LOOP(NAME, SUFFIX, TARGET, STAGES, MIDDLE, FMA, G_STEP)            \
  TARGET static void NAME##_##SUFFIX(const double *x, const double *g, double *y,        \
                                     R_xlen_t n, kernel_params p) {                      \
    double scratch[SCRATCH_DOUBLES];                                                     \
    for (R_xlen_t s = 0; s < n; s += STAGE_BLOCK) {                                      \
      R_xlen_t len = n - s < STAGE_BLOCK ? n - s : STAGE_BLOCK;                          \
      R_xlen_t ahead = n - s - len < STAGE_BLOCK ? n - s - len : STAGE_BLOCK;            \
      const double *xs = x + s, *gs = g + s * G_STEP;                                    \
      double *ys = y + s;                                                                \
      double *a = stage_buffers(scratch, xs), *b = a + STAGE_BLOCK, *c = b + STAGE_BLOCK; \
      if (G_STEP) prefetch(gs + len, ahead);                                             \
      prefetch_to_write(ys + len, ahead);                                                \
      FIRST_STAGES(STAGES, MIDDLE, FMA)                                                  \
      SIMD_LOOP for (R_xlen_t i = 0; i < len; i++)                                       \
        ys[i] = STAGES##_finish(xs[i], gs[i * G_STEP], get_stage(a, b, c, i), p, FMA);   \
    }                                                                                    \
  }

#define DEFINE_STAGED_UNARY_LOOPS(NAME, STAGES, MIDDLE)                                  \
  STAGED_UNARY_LOOP(NAME, portable, , STAGES, MIDDLE, PORTABLE_FMA)                      \
  STAGED_UNARY_LOOP(NAME, avx2, SELU_TARGET_AVX2, STAGES, MIDDLE, 1)                     \
  STAGED_UNARY_LOOP(NAME, avx512, SELU_TARGET_AVX512, STAGES, MIDDLE, 1)                 \
  static const unary_loop NAME##_loops[ISA_COUNT] = {NAME##_portable, NAME##_avx2,      \
                                                     NAME##_avx512};
#define STAGED_BINARY_LOOPS(NAME, STAGES, MIDDLE, G_STEP)                                \
  STAGED_BINARY_LOOP(NAME, portable, , STAGES, MIDDLE, PORTABLE_FMA, G_STEP)             \
  STAGED_BINARY_LOOP(NAME, avx2, SELU_TARGET_AVX2, STAGES, MIDDLE, 1, G_STEP)            \
  STAGED_BINARY_LOOP(NAME, avx512, SELU_TARGET_AVX512, STAGES, MIDDLE, 1, G_STEP)
#define DEFINE_STAGED_BINARY_LOOPS(NAME, STAGES, MIDDLE)                                 \
  STAGED_BINARY_LOOPS(NAME, STAGES, MIDDLE, 1)                                           \
  STAGED_BINARY_LOOPS(NAME##_scalar, STAGES, MIDDLE, 0)                                  \
  static const binary_loop NAME##_loops[ISA_COUNT] = {NAME##_portable, NAME##_avx2,     \
                                                      NAME##_avx512};                    \
  static const binary_loop NAME##_scalar_loops[ISA_COUNT] = {                           \
      NAME##_scalar_portable, NAME##_scalar_avx2, NAME##_scalar_avx512};

/* The gradients of SELU and ELU have a cheaper form where every e^x is a
 * normal number (see times_pow2). An element function FN(x, g, p, fma_ok,
 * normal) gives the pair NAME, for any x, and NAME_normal. */
#define RANGED_BINARY(NAME, FN)                                                          \
  SELU_INLINE double NAME(double x, double g, kernel_params p, int fma_ok) {            \
    return FN(x, g, p, fma_ok, 0);                                                       \
  }                                                                                      \
  SELU_INLINE double NAME##_normal(double x, double g, kernel_params p, int fma_ok) {   \
    return FN(x, g, p, fma_ok, 1);                                                       \
  }

/* Whether every |x| <= bound (NaN is not). */
#if defined(_OPENMP)
#define SIMD_OR_LOOP _Pragma("omp simd reduction(| : outside)")
#else
#define SIMD_OR_LOOP
#endif
SELU_INLINE int all_within(const double *x, R_xlen_t n, double bound) {
  int outside = 0;
  SIMD_OR_LOOP for (R_xlen_t i = 0; i < n; i++) outside |= !(fabs(x[i]) <= bound);
  return !outside;
}

/* Loops over ALIGN-sized stretches (so that every element takes the same
 * path whatever the thread count) that run the EXPR_normal loop where every
 * |x| <= BOUND and the EXPR loop elsewhere, asking for the next stretch of
 * g ahead. */
#define RANGED_BINARY_LOOP(NAME, SUFFIX, TARGET, BOUND, SCALAR, G_STEP)                  \
  TARGET static void NAME##SCALAR##_##SUFFIX(const double *x, const double *g, double *y, \
                                             R_xlen_t n, kernel_params p) {              \
    for (R_xlen_t s = 0; s < n; s += ALIGN) {                                            \
      R_xlen_t len = n - s < ALIGN ? n - s : ALIGN;                                      \
      R_xlen_t ahead = n - s - len < ALIGN ? n - s - len : ALIGN;                        \
      if (G_STEP) prefetch(g + s + len, ahead);                                          \
      if (all_within(x + s, len, BOUND)) {                                               \
        NAME##_normal##SCALAR##_##SUFFIX(x + s, g + s * G_STEP, y + s, len, p);          \
      } else {                                                                           \
        NAME##_any##SCALAR##_##SUFFIX(x + s, g + s * G_STEP, y + s, len, p);             \
      }                                                                                  \
    }                                                                                    \
  }
#define DEFINE_RANGED_BINARY_LOOPS(NAME, EXPR, BOUND)                                    \
  BINARY_LOOPS(NAME##_any, EXPR)                                                         \
  BINARY_LOOPS(NAME##_normal, EXPR##_normal)                                             \
  RANGED_BINARY_LOOP(NAME, portable, , BOUND, , 1)                                       \
  RANGED_BINARY_LOOP(NAME, avx2, SELU_TARGET_AVX2, BOUND, , 1)                           \
  RANGED_BINARY_LOOP(NAME, avx512, SELU_TARGET_AVX512, BOUND, , 1)                       \
  RANGED_BINARY_LOOP(NAME, portable, , BOUND, _scalar, 0)                                \
  RANGED_BINARY_LOOP(NAME, avx2, SELU_TARGET_AVX2, BOUND, _scalar, 0)                    \
  RANGED_BINARY_LOOP(NAME, avx512, SELU_TARGET_AVX512, BOUND, _scalar, 0)                \
  static const binary_loop NAME##_loops[ISA_COUNT] = {NAME##_portable, NAME##_avx2,     \
                                                      NAME##_avx512};                    \
  static const binary_loop NAME##_scalar_loops[ISA_COUNT] = {                           \
      NAME##_scalar_portable, NAME##_scalar_avx2, NAME##_scalar_avx512};

/* The float32 twin of an element function: input and result rounded to
 * float, NaN (NA) passed through with its payload. */
#define F32_UNARY(NAME, EXPR)                                                            \
  SELU_INLINE double NAME(double x, kernel_params p, int fma_ok) {                      \
    double y = (double) (float) EXPR((double) (float) x, p, fma_ok);                    \
    return choose(x != x, x, y);                                                         \
  }
#define F32_BINARY(NAME, EXPR)                                                           \
  SELU_INLINE double NAME(double x, double g, kernel_params p, int fma_ok) {            \
    double y = (double) (float) EXPR((double) (float) x, (double) (float) g, p, fma_ok); \
    return choose(x != x, x, choose(g != g, g, y));                                      \
  }

/* Runs a loop over n elements: in blocks with an interrupt check between
 * them, each block split over the threads in stretches of whole ALIGN-sized
 * pieces, so every element sees the same code whatever the thread count.
 * For a binary loop, g has n elements (g_step 1) or one (g_step 0). */
void run_unary(unary_loop loop, const double *x, double *y, R_xlen_t n,
               kernel_params p);
void run_binary(binary_loop loop, const double *x, const double *g, int g_step, double *y,
                R_xlen_t n, kernel_params p);

/* Runs work(context, from, to) over units [0, n) of about `size` elements,
 * each unit whole on one thread, with interrupt checks between parts. */
typedef void (*unit_work)(const void *context, R_xlen_t from, R_xlen_t to);
void run_units(unit_work work, const void *context, R_xlen_t n, R_xlen_t size);

/* Leaky ReLU over x into y (activations.c), for parametric ReLU. */
void run_leaky_relu(const double *x, double *y, R_xlen_t n, double alpha);

/* SELU's loops for doubles or float32 values (selu.c), for the engine. */
void selu_loops(int single, unary_loop *forward, binary_loop *backward);


/* Runs work(context, t, nth) for t in 0 .. nth - 1, on nth threads (fewer
 * if the system will not start them: nth is what each call is told), the
 * calling thread running t = 0. Called from inside a part of a team's work,
 * it runs the work there, with nth 1. */
typedef void (*team_work)(const void *context, int t, int nth);
void run_team(team_work work, const void *context, int nth);

/* The number of threads for n elements: 1 below the size where threads pay. */
int threads_for(R_xlen_t n);

/* Helpers of the .Call entry points (vectors.c). */
SEXP as_double(SEXP x);
void copy_shape(SEXP from, SEXP to);
SEXP result_for(SEXP x, int inplace);
int is_flag(SEXP flag);
int as_flag(SEXP flag, const char *what);
int is_numeric_data(SEXP x);
SEXP call_in_r(const char *fun, SEXP a, SEXP b, SEXP c);
void check_in_r(const char *checker, SEXP a, SEXP b);
void check_backward_args(SEXP x, SEXP grad_output);
void check_number_in_r(SEXP value, const char *arg, double min);

#endif
