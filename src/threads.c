/* The threads of the kernels and of the training step, and the BLAS's.
 *
 * selu runs its own small pool of threads instead of OpenMP's teams, for two
 * reasons. After a parallel region, OpenMP's threads keep spinning for
 * milliseconds, taking the cores a threaded BLAS needs for the next product;
 * the pool's threads spin for microseconds, then sleep. And OpenMP's runtime
 * does not survive fork(): a child forked after a parallel region (by
 * parallel::mclapply(), future's multicore plan, ...) hangs in its first
 * one. The pool knows when it has been forked: the child starts with one
 * thread and, if asked for more with selu_threads(), a team of its own,
 * while the parent keeps its threads.
 *
 * The thread count is the package's own, as data.table's is: a maximum
 * that every parallel run asks for, capped by the cores and
 * OMP_THREAD_LIMIT (R/threads.R sets the default), never a global setting
 * of other packages' threads. One thread below MIN_PER_THREAD elements per
 * thread. R's API is never called from a pool thread. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_DEFAULT and sched_getaffinity() */
#endif
#include "dispatch.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifndef _WIN32
#include <dlfcn.h>
#endif
#ifdef __linux__
#include <sched.h>
#endif

static int max_threads = 1;

/* The most threads selu starts: the cores it may run on, at most MAX_TEAM. */
#define MAX_TEAM 1024
static int thread_cap = 1;

/* Below this many elements per thread, starting threads costs more than it saves. */
#define MIN_PER_THREAD 32768

/* Elements per block: between blocks the main thread checks for an interrupt. */
#define BLOCK (ALIGN * 2048)

int selu_isa_in_use = ISA_PORTABLE;

/* Set on a thread while it runs a part of a team's work (every pool
 * thread, and the main thread during its own part): work started from
 * inside a part runs there, on that thread alone, and never checks for an
 * interrupt (R's API belongs to the main thread, outside teams). */
static _Thread_local int in_team;

/* --- the pool ---------------------------------------------------------- */

/* How long a thread that has finished its part waits for the next one by
 * spinning (about 10 to 50 microseconds), before it sleeps. */
#define SPINS 4096

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define CPU_RELAX() __builtin_ia32_pause()
#else
#define CPU_RELAX() ((void) 0)
#endif

/* A run: the main thread publishes work and context, then advances `round`,
 * whose low bits carry the run's thread count nth; workers 1 .. nth - 1 each
 * run their part and count `pending` down, the main thread running part 0.
 * Only a worker taking part reads work and context, and no new run starts
 * before every part is done, so neither changes while one reads them. The
 * counters are read without the lock while spinning (__atomic) and under it
 * before sleeping, so no wake-up is lost. */
#define NTH_BITS 16
static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  pthread_t threads[MAX_TEAM];
  uint64_t start_round[MAX_TEAM];
  int started; /* workers 1 .. started are running */
  int sleepers, quit;
  uint64_t round; /* a count of runs << NTH_BITS | the run's nth */
  int pending;
  team_work work;
  const void *context;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
            .done = PTHREAD_COND_INITIALIZER};

static void *worker_main(void *arg) {
  int id = (int) (intptr_t) arg;
  in_team = 1;
  uint64_t seen = pool.start_round[id];
  for (;;) {
    uint64_t now = __atomic_load_n(&pool.round, __ATOMIC_ACQUIRE);
    for (int spin = 0; now == seen && spin < SPINS; spin++) {
      CPU_RELAX();
      now = __atomic_load_n(&pool.round, __ATOMIC_ACQUIRE);
    }
    if (now == seen) {
      pthread_mutex_lock(&pool.lock);
      pool.sleepers++;
      while ((now = pool.round) == seen && !pool.quit) pthread_cond_wait(&pool.wake, &pool.lock);
      pool.sleepers--;
      int quit = pool.quit;
      pthread_mutex_unlock(&pool.lock);
      if (quit) return NULL;
    }
    seen = now;
    int nth = (int) (now & ((1u << NTH_BITS) - 1));
    if (id < nth) {
      pool.work(pool.context, id, nth);
      if (__atomic_sub_fetch(&pool.pending, 1, __ATOMIC_ACQ_REL) == 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.lock);
      }
    }
  }
}

/* Starts workers up to `wanted` (fewer if the system refuses), with every
 * signal blocked, so that R's handlers (Ctrl-C) run on the main thread only.
 * Returns how many are running. */
static int start_workers(int wanted) {
  if (wanted > MAX_TEAM - 1) wanted = MAX_TEAM - 1;
  if (pool.started >= wanted) return pool.started;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  while (pool.started < wanted) {
    int id = pool.started + 1;
    pool.start_round[id] = pool.round;
    if (pthread_create(&pool.threads[id], NULL, worker_main, (void *) (intptr_t) id) != 0) break;
    pool.started = id;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return pool.started;
}

void run_team(team_work work, const void *context, int nth) {
  if (in_team) nth = 1;
  if (nth > 1) {
    int running = start_workers(nth - 1);
    if (running + 1 < nth) nth = running + 1;
  }
  if (nth <= 1) {
    work(context, 0, 1);
    return;
  }
  pool.work = work;
  pool.context = context;
  __atomic_store_n(&pool.pending, nth - 1, __ATOMIC_RELAXED);
  pthread_mutex_lock(&pool.lock);
  uint64_t next = ((pool.round >> NTH_BITS) + 1) << NTH_BITS | (uint64_t) nth;
  __atomic_store_n(&pool.round, next, __ATOMIC_RELEASE);
  if (pool.sleepers) pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);
  in_team = 1;
  work(context, 0, nth);
  in_team = 0;
  for (int spin = 0; __atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE) && spin < SPINS; spin++)
    CPU_RELAX();
  if (__atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE)) {
    pthread_mutex_lock(&pool.lock);
    while (__atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE))
      pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
  }
}

/* fork(): the lock is taken before, so that the child gets it in a known
 * state. The child has none of the parent's workers: it forgets them, and
 * runs on one thread (data.table's rule: a forked worker is one of many) until
 * selu_threads() asks for more, which starts a team of its own. */
static void before_fork(void) {
  pthread_mutex_lock(&pool.lock);
}

static void after_fork_parent(void) {
  pthread_mutex_unlock(&pool.lock);
}

static void after_fork_child(void) {
  pthread_mutex_unlock(&pool.lock);
  pthread_cond_init(&pool.wake, NULL);
  pthread_cond_init(&pool.done, NULL);
  pool.started = pool.sleepers = 0;
  max_threads = 1;
}

/* Stops the workers, before the library is unloaded. */
void selu_stop_threads(void) {
  pthread_mutex_lock(&pool.lock);
  pool.quit = 1;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);
  for (int id = 1; id <= pool.started; id++) pthread_join(pool.threads[id], NULL);
  pool.started = 0;
  pool.quit = 0;
}

/* --- the thread count -------------------------------------------------- */

/* The cores this process may run on. */
static int available_cores(void) {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
#ifdef _SC_NPROCESSORS_ONLN
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n > 0) return n > MAX_TEAM ? MAX_TEAM : (int) n;
#endif
  return 1;
}

int threads_for(R_xlen_t n) {
  R_xlen_t wanted = n / MIN_PER_THREAD;
  if (wanted < 1) return 1;
  return wanted < max_threads ? (int) wanted : max_threads;
}

/* Sets the maximum (n >= 1, capped by thread_cap; NA for the cap) and
 * returns the previous one. */
SEXP selu_set_threads(SEXP n) {
  int old = max_threads;
  if (TYPEOF(n) != INTSXP || XLENGTH(n) != 1) Rf_error("internal error: `n` must be one integer");
  int wanted = INTEGER(n)[0];
  max_threads = (wanted == NA_INTEGER || wanted > thread_cap) ? thread_cap : (wanted < 1 ? 1 : wanted);
  return Rf_ScalarInteger(old);
}

/* c(the maximum, the cap, the cores) */
SEXP selu_get_threads(void) {
  SEXP out = PROTECT(Rf_allocVector(INTSXP, 3));
  INTEGER(out)[0] = max_threads;
  INTEGER(out)[1] = thread_cap;
  INTEGER(out)[2] = available_cores();
  UNPROTECT(1);
  return out;
}

/* --- the BLAS's threads ------------------------------------------------ */

/* The BLAS's thread setter and getter, when the BLAS R loaded has them
 * (found by name at load: FlexiBLAS's, else OpenBLAS's). Other BLASes keep
 * their own settings (MKL: MKL_NUM_THREADS; Accelerate: VECLIB_MAXIMUM_THREADS). */
static void (*blas_set_threads)(int);
static int (*blas_get_threads)(void);
static const char *blas_threads_by = "";

static void find_blas_threads(void) {
#ifndef _WIN32
  static const char *names[][3] = {
    {"FlexiBLAS", "flexiblas_set_num_threads", "flexiblas_get_num_threads"},
    {"OpenBLAS", "openblas_set_num_threads", "openblas_get_num_threads"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    void *set = dlsym(RTLD_DEFAULT, names[i][1]), *get = dlsym(RTLD_DEFAULT, names[i][2]);
    if (set && get) {
      memcpy(&blas_set_threads, &set, sizeof set);
      memcpy(&blas_get_threads, &get, sizeof get);
      blas_threads_by = names[i][0];
      return;
    }
  }
#endif
}

/* The BLAS's thread count, after setting it to n when n is a number:
 * list(which library's setter, its count), the count NA when it cannot be
 * read or set. */
SEXP selu_blas_threads(SEXP n) {
  if (blas_set_threads && TYPEOF(n) == INTSXP && XLENGTH(n) == 1 && INTEGER(n)[0] >= 1)
    blas_set_threads(INTEGER(n)[0]);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(out, 0, Rf_mkString(blas_threads_by));
  SET_VECTOR_ELT(out, 1, Rf_ScalarInteger(blas_get_threads ? blas_get_threads() : NA_INTEGER));
  UNPROTECT(1);
  return out;
}

/* --- the kernels' loops ------------------------------------------------ */

/* R_CheckUserInterrupt() between pieces of work, from outside a team. */
static void check_interrupt(void) {
  if (!in_team) R_CheckUserInterrupt();
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

/* A block of a job, split over a team: member t of nth runs its stretch. */
typedef struct {
  const job *j;
  R_xlen_t start, len;
} job_block;

static void job_member(const void *context, int t, int nth) {
  const job_block *b = context;
  R_xlen_t from, to;
  stretch(b->len, t, nth, &from, &to);
  run_stretch(b->j, b->start + from, to - from);
}

static void run_job(const job *j, R_xlen_t n) {
  for (R_xlen_t start = 0; start < n; start += BLOCK) {
    R_xlen_t len = n - start < BLOCK ? n - start : BLOCK;
    job_block b = {j, start, len};
    run_team(job_member, &b, threads_for(len));
    if (start + BLOCK < n) check_interrupt();
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

/* A part of run_units()'s units, split over a team. */
typedef struct {
  unit_work work;
  const void *context;
  R_xlen_t start, count;
} units_part;

static void units_member(const void *context, int t, int nth) {
  const units_part *p = context;
  p->work(p->context, p->start + p->count * t / nth, p->start + p->count * (t + 1) / nth);
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
    units_part p = {work, context, start, count};
    run_team(units_member, &p, nth);
    if (start + per_part < n) check_interrupt();
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
  thread_cap = available_cores();
  const char *limit = getenv("OMP_THREAD_LIMIT");
  int n = limit ? atoi(limit) : 0;
  if (n >= 1 && n < thread_cap) thread_cap = n;
  max_threads = thread_cap;
  find_blas_threads();
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
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
