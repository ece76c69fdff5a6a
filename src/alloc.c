/* Results that reuse memory: a cache of recently freed blocks, as PyTorch's
 * caching allocator keeps one. A result of 1e5 doubles from malloc() is
 * mostly fresh pages (glibc maps it, or trims the heap under it once R's
 * collector frees it), and writing it costs a page fault per 4 KB, more
 * than the kernel itself costs. Blocks from this cache were written before.
 *
 * R gives blocks made through an R_allocator_t back to mem_free() when it
 * collects them. Both functions run on R's main thread only: mem_alloc()
 * inside Rf_allocVector3(), which R's API allows on the main thread alone,
 * and mem_free() inside the garbage collector, which runs there too (the
 * kernels' worker threads never allocate). So the cache needs no lock. */
#define _GNU_SOURCE /* dladdr() */
#include "memory.h"
#include "selu.h"
#include <R_ext/Rallocators.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <dlfcn.h>
#endif
/* The cache needs the library pinned in memory while blocks it made are
 * alive (see selu_release_allocator()); where that is not possible, every
 * result comes from Rf_allocVector(). */
#if defined(RTLD_NODELETE) && defined(RTLD_NOLOAD)
#define CACHE_AVAILABLE 1
#else
#define CACHE_AVAILABLE 0
#endif

/* Smaller results come from glibc's heap, already written memory, at no
 * page fault; larger ones are rare enough (and costly enough to keep) that
 * fresh memory with huge pages serves them best. */
#define MIN_RESULT_BYTES ((size_t) 64 << 10)
#define MAX_RESULT_BYTES ((size_t) 16 << 20)
/* At most this much kept for reuse, in at most CACHE_SLOTS blocks. */
#define CACHE_CAP_BYTES ((size_t) 64 << 20)
#define CACHE_SLOTS 256
/* R does not count memory from a custom allocator towards the size that
 * triggers its collector: without a collection of our own, the garbage of
 * a loop over results would grow until something else triggers one. So at
 * most this much is allocated here between collections. */
#define GC_BUDGET_BYTES CACHE_CAP_BYTES

/* Our header, ahead of the R_allocator_t R copies to the start of what
 * mem_alloc() returns: mem_free() is not told the size. Two words keep
 * malloc's alignment for what follows. */
typedef struct {
  size_t bytes, unused;
} block_header;

static struct {
  block_header *block[CACHE_SLOTS]; /* oldest first */
  int count;
  size_t cached_bytes;
  size_t live_blocks, live_bytes; /* handed to R and not yet freed */
  size_t low_water;               /* the least live_bytes since the last collection */
  int enabled;  /* the library can be pinned (selu_release_allocator()) */
  int released; /* unloading: blocks collected from now on are freed */
} cache;

/* The smallest cached block that fits `bytes` and is not more than an
 * eighth larger; the newest of equal size, whose memory is likeliest still
 * in the CPU's caches. */
static block_header *cache_take(size_t bytes) {
  int best = -1;
  for (int i = cache.count - 1; i >= 0; i--) {
    size_t size = cache.block[i]->bytes;
    if (size >= bytes && size - bytes <= bytes / 8 &&
        (best < 0 || size < cache.block[best]->bytes)) {
      best = i;
      if (size == bytes) break;
    }
  }
  if (best < 0) return NULL;
  block_header *block = cache.block[best];
  cache.count--;
  memmove(cache.block + best, cache.block + best + 1,
          (size_t) (cache.count - best) * sizeof(block_header *));
  cache.cached_bytes -= block->bytes;
  return block;
}

static void cache_evict_oldest(void) {
  block_header *oldest = cache.block[0];
  cache.count--;
  memmove(cache.block, cache.block + 1, (size_t) cache.count * sizeof(block_header *));
  cache.cached_bytes -= oldest->bytes;
  free(oldest);
}

static void cache_put(block_header *block) {
  if (cache.released) {
    free(block);
    return;
  }
  while (cache.count == CACHE_SLOTS || cache.cached_bytes + block->bytes > CACHE_CAP_BYTES)
    cache_evict_oldest();
  cache.block[cache.count++] = block;
  cache.cached_bytes += block->bytes;
}

static void cache_flush(void) {
  while (cache.count > 0) cache_evict_oldest();
}

static void *mem_alloc(R_allocator_t *allocator, size_t size) {
  (void) allocator;
  size_t bytes = sizeof(block_header) + size;
  block_header *block = cache_take(bytes);
  if (block == NULL) {
    block = malloc(bytes);
    if (block == NULL) { /* the cache's memory may be what is missing */
      cache_flush();
      block = malloc(bytes);
      if (block == NULL) return NULL; /* R collects and asks again, then errors */
    }
    advise_huge_pages(block, bytes);
    block->bytes = bytes;
  }
  cache.live_blocks++;
  cache.live_bytes += block->bytes;
  return block + 1;
}

static void mem_free(R_allocator_t *allocator, void *pointer) {
  (void) allocator;
  block_header *block = (block_header *) pointer - 1;
  cache.live_blocks--;
  cache.live_bytes -= block->bytes;
  if (cache.live_bytes < cache.low_water) cache.low_water = cache.live_bytes;
  cache_put(block);
}

static R_allocator_t allocator = {mem_alloc, mem_free, NULL, NULL};

/* A young-generation collection, as R runs when its own heap fills; a full
 * one (R_gc()) would cost tens of milliseconds in a session with packages
 * loaded. */
static void collect_garbage(void) {
  SEXP no = PROTECT(Rf_ScalarLogical(FALSE));
  SEXP call = PROTECT(Rf_lang3(Rf_install("gc"), no, no));
  SET_TAG(CDR(call), Rf_install("verbose"));
  SET_TAG(CDDR(call), Rf_install("full"));
  Rf_eval(call, R_BaseEnv);
  UNPROTECT(2);
  cache.low_water = cache.live_bytes;
}

SEXP alloc_result(SEXPTYPE type, R_xlen_t n) {
  size_t element = type == REALSXP ? sizeof(double)
                   : type == INTSXP || type == LGLSXP ? sizeof(int) : 0;
  size_t bytes = (size_t) n * element;
  if (!cache.enabled || bytes < MIN_RESULT_BYTES || bytes > MAX_RESULT_BYTES) {
    SEXP out = Rf_allocVector(type, n);
    if (type == REALSXP) advise_huge_pages(REAL(out), bytes);
    return out;
  }
  cache.released = 0;
  if (cache.live_bytes - cache.low_water > GC_BUDGET_BYTES) collect_garbage();
  return Rf_allocVector3(type, n, &allocator);
}

void selu_init_allocator(void) {
#if CACHE_AVAILABLE
  Dl_info info;
  cache.enabled = dladdr(&cache, &info) != 0 && info.dli_fname != NULL;
#endif
}

/* Called as the namespace unloads (selu_unload()), before R may unload
 * the library (pkgload does, and library.dynam.unload()). Vectors made here
 * call mem_free() when they are collected, so while any is alive the
 * library's code must stay: then it is marked never to be unmapped (a
 * later load of the same file gets this copy again). Otherwise it unloads
 * as any other. R_unload_selu() would not do: R looks it up only in
 * libraries that allow dynamic symbols. */
void selu_release_allocator(void) {
  cache_flush();
  cache.released = 1;
#if CACHE_AVAILABLE
  Dl_info info;
  if (cache.live_blocks > 0 &&
      (dladdr(&cache, &info) == 0 || info.dli_fname == NULL ||
       dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE) == NULL))
    Rf_warning("selu could not keep its library loaded: R may crash at the next collection");
#endif
}

/* What the cache holds and what R holds of it, for the tests. */
SEXP selu_allocator_stats(void) {
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 4)), names = PROTECT(Rf_allocVector(STRSXP, 4));
  const char *labels[4] = {"cached_bytes", "cached_blocks", "live_bytes", "live_blocks"};
  double values[4] = {(double) cache.cached_bytes, (double) cache.count,
                      (double) cache.live_bytes, (double) cache.live_blocks};
  for (int i = 0; i < 4; i++) {
    REAL(out)[i] = values[i];
    SET_STRING_ELT(names, i, Rf_mkChar(labels[i]));
  }
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(2);
  return out;
}
