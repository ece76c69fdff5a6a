#ifndef SELU_MEMORY_H
#define SELU_MEMORY_H

#include "selu.h"
#include <stddef.h>
#include <stdint.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

/* A large result is new memory that nothing has touched yet: on Linux, ask
 * for transparent huge pages over it, so that writing it takes one page
 * fault per 2 MB instead of one per 4 KB. Only whole 2 MB stretches inside
 * the buffer are advised; elsewhere, and where the kernel declines, nothing
 * changes. */
static inline void advise_huge_pages(void *buffer, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t) 2 << 20;
  if (bytes < 2 * huge) return;
  uintptr_t start = ((uintptr_t) buffer + huge - 1) & ~(huge - 1);
  uintptr_t end = ((uintptr_t) buffer + bytes) & ~(huge - 1);
  if (end > start) madvise((void *) start, end - start, MADV_HUGEPAGE);
#else
  (void) buffer;
  (void) bytes;
#endif
}

/* A new vector for a kernel's result (REALSXP, INTSXP or LGLSXP; other
 * types as Rf_allocVector() makes them), unprotected, its contents not
 * set. Results from 64 KB to 16 MB reuse the memory of recently collected
 * ones (src/alloc.c), which spares them the page faults of fresh memory.
 * For the kernels' results and the training step's per-batch buffers; on
 * the main thread only, as every R allocation. It may run a collection. */
SEXP alloc_result(SEXPTYPE type, R_xlen_t n);

/* At load of the library (src/init.c), and as the namespace unloads
 * (selu_unload()). */
void selu_init_allocator(void);
void selu_release_allocator(void);

#endif
