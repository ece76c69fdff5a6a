/* A float32 engine's matrix products. BLAS's sgemm is found by name at run
 * time, as threads.c finds the BLAS's thread setters: R's API declares only
 * the double routines, and R's own reference BLAS (libRblas) has no single
 * precision ones, while the BLASes users swap in (OpenBLAS, MKL, BLIS,
 * Accelerate, Debian's reference libblas) all do. Without one, portable
 * loops in float32 take over: slower, but each element of C is summed over
 * k in one fixed order, so their results, like sgemm's, do not depend on
 * the thread count. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "engine.h"
#include <stddef.h>
#include <string.h>
#ifndef _WIN32
#include <dlfcn.h>
#endif

/* Fortran's sgemm, with the hidden lengths of its two character arguments */
typedef void (*fortran_sgemm)(const char *transa, const char *transb, const int *m,
                              const int *n, const int *k, const float *alpha, const float *a,
                              const int *lda, const float *b, const int *ldb, const float *beta,
                              float *c, const int *ldc, size_t la, size_t lb);

static fortran_sgemm blas_sgemm;
static int looked_up;

static void blas_product(const char *transa, const char *transb, int m, int n, int k,
                         float alpha, const float *a, int lda, const float *b, int ldb,
                         float beta, float *c, int ldc) {
  blas_sgemm(transa, transb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc, 1, 1);
}

/* C (m x n) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n. The
 * engine asks for A B, A^T B and A B^T; each is a loop order whose inner loop
 * runs down columns. The loop over C's column runs in vector lanes, each
 * element's arithmetic as in one lane: without that, it ran scalar, at a
 * speed that moved by half with where the code happened to lie. */
static void portable_product(const char *transa, const char *transb, int m, int n, int k,
                             float alpha, const float *a, int lda, const float *b, int ldb,
                             float beta, float *c, int ldc) {
  int ta = transa[0] == 'T', tb = transb[0] == 'T';
  for (int j = 0; j < n; j++) {
    float *cj = c + (R_xlen_t) j * ldc;
    if (beta == 0) {
      memset(cj, 0, (size_t) m * sizeof(float));
    } else if (beta != 1) {
      for (int i = 0; i < m; i++) cj[i] *= beta;
    }
  }
  if (!ta) {
    /* C[, j] += A[, l] * op(B)[l, j], l in order */
    for (int j = 0; j < n; j++) {
      float *restrict cj = c + (R_xlen_t) j * ldc;
      for (int l = 0; l < k; l++) {
        float blj = alpha * (tb ? b[j + (R_xlen_t) l * ldb] : b[l + (R_xlen_t) j * ldb]);
        const float *restrict al = a + (R_xlen_t) l * lda;
        SIMD_LOOP for (int i = 0; i < m; i++) cj[i] += al[i] * blj;
      }
    }
  } else {
    /* C[i, j] += <A[, i], op(B)[, j]>, the sum in lanes fixed by the build */
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < m; i++) {
        const float *ai = a + (R_xlen_t) i * lda;
        float s = 0;
        if (tb) {
          for (int l = 0; l < k; l++) s += ai[l] * b[j + (R_xlen_t) l * ldb];
        } else {
          const float *bj = b + (R_xlen_t) j * ldb;
          SIMD_SUM(s) for (int l = 0; l < k; l++) s += ai[l] * bj[l];
        }
        c[i + (R_xlen_t) j * ldc] += alpha * s;
      }
    }
  }
}

sgemm_fn find_sgemm(int portable) {
  if (!looked_up) {
    looked_up = 1;
#ifndef _WIN32
    void *found = dlsym(RTLD_DEFAULT, "sgemm_");
    if (found) memcpy(&blas_sgemm, &found, sizeof found);
#endif
  }
  return blas_sgemm && !portable ? blas_product : portable_product;
}

/* Whether the BLAS R loaded has sgemm (the engine's float32 products use it). */
SEXP selu_has_sgemm(void) {
  find_sgemm(0);
  return Rf_ScalarLogical(blas_sgemm != NULL);
}
