/* Sets OpenBLAS's thread count, when the BLAS R loaded is OpenBLAS: the
 * training benchmark gives both sides the same number of BLAS threads.
 * Returns FALSE when there is no OpenBLAS to set. */
#define _GNU_SOURCE
#include <R.h>
#include <Rinternals.h>
#include <dlfcn.h>

SEXP set_blas_threads(SEXP n) {
  void (*set)(int) = NULL;
  *(void **) (&set) = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  if (set) set(Rf_asInteger(n));
  return Rf_ScalarLogical(set != NULL);
}
