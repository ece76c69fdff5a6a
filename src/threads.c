#include "dispatch.h"
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Thread control in the manner of data.table: a package-wide maximum that
 * every parallel region asks for with num_threads(), never
 * omp_set_num_threads(), which would change other packages' threads. */
static int max_threads = 1;

/* Below this many elements per thread, starting threads costs more than it saves. */
#define MIN_PER_THREAD 32768

/* Elements per block: between blocks the main thread checks for an interrupt. */
#define BLOCK (ALIGN * 2048)

int selu_isa_in_use = ISA_PORTABLE;

static int thread_limit(void) {
#ifdef _OPENMP
  int procs = omp_get_num_procs(), limit = omp_get_thread_limit();
  return procs < limit ? procs : limit;
#else
  return 1;
#endif
}

int threads_for(R_xlen_t n) {
  R_xlen_t wanted = n / MIN_PER_THREAD;
  if (wanted < 1) return 1;
  return wanted < max_threads ? (int) wanted : max_threads;
}

/* Sets the maximum (n >= 1, capped by the cores and OMP_THREAD_LIMIT; NA for
 * that cap) and returns the previous one. */
SEXP selu_set_threads(SEXP n) {
  int old = max_threads;
  if (TYPEOF(n) != INTSXP || XLENGTH(n) != 1) Rf_error("internal error: `n` must be one integer");
  int wanted = INTEGER(n)[0], limit = thread_limit();
  max_threads = (wanted == NA_INTEGER || wanted > limit) ? limit : (wanted < 1 ? 1 : wanted);
  return Rf_ScalarInteger(old);
}

SEXP selu_get_threads(void) {
  return Rf_ScalarInteger(max_threads);
}

/* The stretch of [0, n) that thread t of nth handles, in whole ALIGN pieces. */
static void stretch(R_xlen_t n, int t, int nth, R_xlen_t *from, R_xlen_t *to) {
  R_xlen_t pieces = (n + ALIGN - 1) / ALIGN;
  R_xlen_t a = pieces * t / nth * ALIGN, b = pieces * (t + 1) / nth * ALIGN;
  *from = a < n ? a : n;
  *to = b < n ? b : n;
}

/* A loop over x (and g) into y, split into stretches. */
typedef struct {
  unary_loop unary;
  binary_loop binary;
  const double *x, *g;
  int g_step;
  double *y;
  kernel_params p;
} job;

static void run_stretch(const job *j, R_xlen_t from, R_xlen_t len) {
  if (j->unary) {
    j->unary(j->x + from, j->y + from, len, j->p);
  } else {
    j->binary(j->x + from, j->g + from * j->g_step, j->y + from, len, j->p);
  }
}

static void run_job(const job *j, R_xlen_t n) {
  for (R_xlen_t start = 0; start < n; start += BLOCK) {
    R_xlen_t len = n - start < BLOCK ? n - start : BLOCK;
    int nth = threads_for(len);
    if (nth == 1) {
      run_stretch(j, start, len);
    } else {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(static)
#endif
      for (int t = 0; t < nth; t++) {
        R_xlen_t from, to;
        stretch(len, t, nth, &from, &to);
        run_stretch(j, start + from, to - from);
      }
    }
    if (start + BLOCK < n) R_CheckUserInterrupt();
  }
}

void run_unary(unary_loop loop, const double *x, double *y, R_xlen_t n,
               kernel_params p) {
  job j = {loop, NULL, x, NULL, 0, y, p};
  run_job(&j, n);
}

void run_binary(binary_loop loop, const double *x, const double *g, int g_step, double *y,
                R_xlen_t n, kernel_params p) {
  job j = {NULL, loop, x, g, g_step, y, p};
  run_job(&j, n);
}

/* Runs work(context, from, to) over independent units [0, n) of about
 * `size` elements each: in parts of about BLOCK elements, with an interrupt
 * check between them, each part's units split over the threads. A unit is
 * always done whole by one thread, so results do not depend on the thread
 * count. */
void run_units(unit_work work, const void *context, R_xlen_t n, R_xlen_t size) {
  R_xlen_t per_part = size <= 0 ? n : (size < BLOCK ? BLOCK / size : 1);
  if (per_part < max_threads) per_part = max_threads;
  for (R_xlen_t start = 0; start < n; start += per_part) {
    R_xlen_t count = n - start < per_part ? n - start : per_part;
    int nth = threads_for(count * size);
    if (nth > count) nth = (int) count;
    if (nth <= 1) {
      work(context, start, start + count);
    } else {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(static)
#endif
      for (int t = 0; t < nth; t++)
        work(context, start + count * t / nth, start + count * (t + 1) / nth);
    }
    if (start + per_part < n) R_CheckUserInterrupt();
  }
}

/* The best instruction set this CPU has, for the kernels' loops. */
static int best_isa(void) {
#if defined(SELU_X86_DISPATCH)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) return ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
#endif
  return ISA_PORTABLE;
}

void selu_init_kernels(void) {
  selu_isa_in_use = best_isa();
  max_threads = thread_limit();
}

/* Reports the instruction set in use, or, given one the CPU has, switches to
 * it (for tests of every path). */
SEXP selu_kernel_isa(SEXP isa) {
  static const char *names[ISA_COUNT] = {"portable", "avx2", "avx512"};
  if (TYPEOF(isa) == STRSXP && XLENGTH(isa) == 1) {
    int available = best_isa();
    for (int i = 0; i < ISA_COUNT; i++) {
      if (strcmp(CHAR(STRING_ELT(isa, 0)), names[i]) == 0) {
        if (i > available) Rf_error("internal error: this CPU has no %s", names[i]);
        selu_isa_in_use = i;
      }
    }
  }
  return Rf_mkString(names[selu_isa_in_use]);
}
