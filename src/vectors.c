#include "dispatch.h"
#include "memory.h"
#include <string.h>

/* Integer and logical input becomes double (NA_INTEGER -> NA_REAL). */
SEXP as_double(SEXP x) {
  if (TYPEOF(x) == REALSXP) return x;
  if (TYPEOF(x) == INTSXP || TYPEOF(x) == LGLSXP) return Rf_coerceVector(x, REALSXP);
  Rf_error("internal error: selu kernels take double, integer or logical vectors, not %s",
           Rf_type2char(TYPEOF(x)));
}

/* The result keeps the input's shape and labels and nothing else. */
void copy_shape(SEXP from, SEXP to) {
  SEXP dim = Rf_getAttrib(from, R_DimSymbol);
  if (dim != R_NilValue) {
    Rf_setAttrib(to, R_DimSymbol, dim);
    Rf_setAttrib(to, R_DimNamesSymbol, Rf_getAttrib(from, R_DimNamesSymbol));
  }
  /* for a 1-d array, names are its dimnames, already copied */
  if (dim == R_NilValue || XLENGTH(dim) != 1)
    Rf_setAttrib(to, R_NamesSymbol, Rf_getAttrib(from, R_NamesSymbol));
}

int is_flag(SEXP flag) {
  return TYPEOF(flag) == LGLSXP && XLENGTH(flag) == 1 && LOGICAL(flag)[0] != NA_LOGICAL;
}

int as_flag(SEXP flag, const char *what) {
  if (!is_flag(flag)) Rf_error("internal error: `%s` must be TRUE or FALSE", what);
  return LOGICAL(flag)[0];
}

int is_numeric_data(SEXP x) {
  int type = TYPEOF(x);
  return (type == REALSXP || type == INTSXP || type == LGLSXP) && !OBJECT(x);
}

/* Arguments the kernels cannot take go to the R function `checker`, which
 * signals the user's error: the checks stay in R, and valid calls, the
 * common case, pay for no R-level check. call_checker() returns when the
 * checker accepts; check_in_r() is for arguments known to be wrong. */
static void call_checker(const char *checker, SEXP x, SEXP flag) {
  SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("selu")));
  /* quoted, so that a symbol or a call given as data is not evaluated */
  SEXP quoted_x = PROTECT(Rf_lang2(Rf_install("quote"), x));
  SEXP quoted_flag = PROTECT(Rf_lang2(Rf_install("quote"), flag));
  SEXP call = PROTECT(Rf_lang3(Rf_install(checker), quoted_x, quoted_flag));
  Rf_eval(call, ns);
  UNPROTECT(4);
}

void check_in_r(const char *checker, SEXP x, SEXP flag) {
  call_checker(checker, x, flag);
  Rf_error("internal error: %s() passed what the kernels cannot take", checker);
}

/* Whether two arrays have one shape: the same dim, or no dim and one length. */
static int same_shape(SEXP x, SEXP y) {
  SEXP dx = Rf_getAttrib(x, R_DimSymbol), dy = Rf_getAttrib(y, R_DimSymbol);
  if (dx == R_NilValue || dy == R_NilValue)
    return dx == dy && XLENGTH(x) == XLENGTH(y);
  return XLENGTH(dx) == XLENGTH(dy) &&
         memcmp(INTEGER(dx), INTEGER(dy), XLENGTH(dx) * sizeof(int)) == 0;
}

/* x and the gradient with respect to the output: numeric data, the gradient
 * of x's shape or a single number. Anything else goes to the R checks, which
 * signal the user's error or accept it (a 1-d array against a vector); what
 * they accept has x's length or 1, as the kernels need. */
void check_backward_args(SEXP x, SEXP grad_output) {
  if (is_numeric_data(x) && is_numeric_data(grad_output) &&
      (XLENGTH(grad_output) == 1 || same_shape(x, grad_output)))
    return;
  call_checker("check_backward_args", x, grad_output);
  R_xlen_t n = XLENGTH(x), ng = XLENGTH(grad_output);
  if (!is_numeric_data(x) || !is_numeric_data(grad_output) || (ng != n && ng != 1))
    Rf_error("internal error: check_backward_args() passed what the kernels cannot take");
}

/* Where the result goes: x itself when asked to and no other R object can
 * see it, otherwise a new vector of x's shape. */
SEXP result_for(SEXP x, int inplace) {
  if (inplace && TYPEOF(x) == REALSXP && !MAYBE_SHARED(x)) return x;
  SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(x)));
  advise_huge_pages(REAL(out), XLENGTH(out) * sizeof(double));
  copy_shape(x, out);
  UNPROTECT(1);
  return out;
}

/* A kernel's parameters from a double vector of up to three, or NULL for none. */
kernel_params as_params(SEXP params) {
  kernel_params p = {0, 0, 0};
  if (params == R_NilValue) return p;
  if (TYPEOF(params) != REALSXP || XLENGTH(params) > 3)
    Rf_error("internal error: kernel parameters must be at most 3 doubles");
  const double *v = REAL(params);
  R_xlen_t n = XLENGTH(params);
  if (n > 0) p.a = v[0];
  if (n > 1) p.b = v[1];
  if (n > 2) p.c = v[2];
  return p;
}
