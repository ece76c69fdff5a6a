/* The memory floor under softmax's gradient along the last axis of a matrix.
 *
 * `make memory-order` builds and runs this program; it needs no R. It times
 * two ways of moving the same data, reading x and g and writing y, 1e7
 * doubles each:
 *
 * - in one streaming pass, as SELU's gradient moves it;
 * - in the order that softmax's gradient along the last axis of a 1e6 x 10
 *   matrix needs, as src/softmax.c moves it: blocks of 128 slices, each with
 *   three passes down its ten rows (8 MB apart), for the maxima of x, for x
 *   and g into y with per-slice sums, and for y and g into y again, the
 *   next block asked for during the second pass.
 *
 * The arithmetic of both is a multiply-add or two per element, so what is
 * timed is the memory order. Each way writes into memory written before,
 * and into a fresh result as the package's calls do. Times are the best of
 * 9 runs, the ways alternated. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "../src/memory.h"

#define INNER 1000000L /* slices: 7812 blocks of 128 and one of 64 */
#define LEN 10L        /* elements per slice, 8 MB apart */
#define N (INNER * LEN)
#define BLOCK 128      /* slices per block, as src/softmax.c */
#define LINE 8         /* doubles per 64-byte cache line */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

__attribute__((noinline)) static void streaming(const double *x, const double *g, double *y) {
  for (long i = 0; i < N; i++) y[i] = g[i] * (x[i] > 0 ? 1.05 : 0.7 * x[i] + 1);
}

/* As the kernel does: rows in groups of 4, one loop over the block per
 * group, with each slice's running maximum or sum in a register across a
 * group (LEN 10: groups of 4, 4 and 2), and the next block's stretches of a
 * group's rows asked for after the group's loop in the second pass. */
#define GROUP_LOOP(ROWS, BODY)                                                             \
  for (long i = 0; i < width; i++) {                                                       \
    BODY(0) if (ROWS > 1) BODY(1) if (ROWS > 2) BODY(2) if (ROWS > 3) BODY(3)              \
  }
#define MAX_ROW(r) m[i] = xk[i + (r) * INNER] > m[i] ? xk[i + (r) * INNER] : m[i];
#define SUM_ROW(r)                                                                         \
  {                                                                                        \
    double e = 0.5 * (xk[i + (r) * INNER] - m[i]) + 1;                                     \
    yk[i + (r) * INNER] = e;                                                               \
    s[i] += e * gk[i + (r) * INNER];                                                       \
  }
#define SCALE_ROW(r) yk[i + (r) * INNER] = yk[i + (r) * INNER] * (gk[i + (r) * INNER] - s[i]);

/* One block of `width` slices from slice b; `ahead` asks for the next one. */
static inline __attribute__((always_inline)) void order_block(const double *x, const double *g,
                                                              double *y, long b, long width,
                                                              int ahead) {
  double m[BLOCK], s[BLOCK];
  for (long i = 0; i < width; i++) m[i] = -1e300, s[i] = 0;
  for (long k = 0; k < LEN; k += 4) {
    const double *xk = x + b + k * INNER;
    if (LEN - k >= 4) GROUP_LOOP(4, MAX_ROW) else GROUP_LOOP(2, MAX_ROW)
  }
  for (long k = 0; k < LEN; k += 4) {
    const double *xk = x + b + k * INNER, *gk = g + b + k * INNER;
    double *yk = y + b + k * INNER;
    if (LEN - k >= 4) GROUP_LOOP(4, SUM_ROW) else GROUP_LOOP(2, SUM_ROW)
    for (long r = k; ahead && r < k + 4 && r < LEN; r++)
      for (long c = 0; c < width; c += LINE) {
        __builtin_prefetch(x + b + width + r * INNER + c);
        __builtin_prefetch(g + b + width + r * INNER + c);
        __builtin_prefetch(y + b + width + r * INNER + c, 1);
      }
  }
  for (long k = 0; k < LEN; k += 4) {
    const double *gk = g + b + k * INNER;
    double *yk = y + b + k * INNER;
    if (LEN - k >= 4) GROUP_LOOP(4, SCALE_ROW) else GROUP_LOOP(2, SCALE_ROW)
  }
}

/* Whole blocks with their width known when compiled, as the kernel's loops
 * are vectorized; the last 64 slices as one block of 64. */
__attribute__((noinline)) static void softmax_order(const double *x, const double *g,
                                                    double *y) {
  long b = 0;
  for (; b + BLOCK <= INNER; b += BLOCK) order_block(x, g, y, b, BLOCK, b + 2 * BLOCK <= INNER);
  if (b < INNER) order_block(x, g, y, b, INNER - b, 0);
}

typedef void (*pass)(const double *, const double *, double *);

/* The time of one call of f writing into y, or, with y NULL, into a fresh
 * result: new pages, 64 bytes in as R places a long vector's data, with
 * transparent huge pages asked for as the package does (src/memory.h). */
static double timed(pass f, const double *x, const double *g, double *y) {
  size_t bytes = N * sizeof(double) + 4096;
  double *fresh = NULL;
  double t = now();
  if (!y) {
    fresh = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED) exit(1);
    advise_huge_pages(fresh, bytes);
    y = fresh + LINE;
  }
  f(x, g, y);
  t = now() - t;
  if (fresh) munmap(fresh, bytes);
  return t;
}

int main(void) {
  /* placed as R places a long vector's data: 64 bytes into a page */
  double *buffers[3], *x, *g, *y;
  for (int i = 0; i < 3; i++) {
    buffers[i] = aligned_alloc(4096, N * sizeof(double) + 4096);
    if (!buffers[i]) return 1;
  }
  x = buffers[0] + LINE, g = buffers[1] + LINE, y = buffers[2] + LINE;
  for (long i = 0; i < N; i++) x[i] = i % 7 - 3.0, g[i] = i % 5 * 0.1, y[i] = 0;
  pass ways[2] = {streaming, softmax_order};
  double best[2][2] = {{1e9, 1e9}, {1e9, 1e9}}; /* [way][fresh result] */
  for (int run = 0; run < 9; run++)
    for (int fresh = 0; fresh < 2; fresh++)
      for (int w = 0; w < 2; w++) {
        double t = timed(ways[w], x, g, fresh ? NULL : y);
        if (t < best[w][fresh]) best[w][fresh] = t;
      }
  printf("ns per element          into written memory   into a fresh result\n");
  printf("streaming pass          %8.2f              %8.2f\n", best[0][0] / N * 1e9,
         best[0][1] / N * 1e9);
  printf("softmax gradient order  %8.2f              %8.2f\n", best[1][0] / N * 1e9,
         best[1][1] / N * 1e9);
  printf("order / streaming       %8.2f              %8.2f\n", best[1][0] / best[0][0],
         best[1][1] / best[0][1]);
  for (int i = 0; i < 3; i++) free(buffers[i]);
  return 0;
}
