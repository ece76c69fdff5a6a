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

/* fun(a, b), or fun(a, b, c) given c, evaluated in the package's
 * namespace, each argument quoted so that a symbol or a call given as data
 * is not evaluated; its value, unprotected. */
SEXP call_in_r(const char *fun, SEXP a, SEXP b, SEXP c) {
  SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("selu")));
  SEXP quote = Rf_install("quote"), f = Rf_install(fun);
  SEXP qa = PROTECT(Rf_lang2(quote, a)), qb = PROTECT(Rf_lang2(quote, b));
  SEXP qc = PROTECT(c ? Rf_lang2(quote, c) : R_NilValue);
  SEXP call = PROTECT(c ? Rf_lang4(f, qa, qb, qc) : Rf_lang3(f, qa, qb));
  SEXP value = Rf_eval(call, ns);
  UNPROTECT(5);
  return value;
}

/* Arguments the kernels cannot take go to an R function, the checker,
 * which signals the user's error: the checks stay in R, and valid calls,
 * the common case, pay for no R-level check. */
void check_in_r(const char *checker, SEXP a, SEXP b) {
  call_in_r(checker, a, b, NULL);
  Rf_error("internal error: %s() passed what the kernels cannot take", checker);
}

/* A parameter a kernel cannot take: check_number() signals the user's
 * error, naming the argument `arg` and its smallest value `min`. */
void check_number_in_r(SEXP value, const char *arg, double min) {
  SEXP name = PROTECT(Rf_mkString(arg)), smallest = PROTECT(Rf_ScalarReal(min));
  call_in_r("check_number", value, name, smallest);
  Rf_error("internal error: check_number() passed what the kernels cannot take");
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
  call_in_r("check_backward_args", x, grad_output, NULL);
  R_xlen_t n = XLENGTH(x), ng = XLENGTH(grad_output);
  if (!is_numeric_data(x) || !is_numeric_data(grad_output) || (ng != n && ng != 1))
    Rf_error("internal error: check_backward_args() passed what the kernels cannot take");
}

/* Where the result goes: x itself when asked to and no other R object can
 * see it, otherwise a new vector of x's shape. */
SEXP result_for(SEXP x, int inplace) {
  if (inplace && TYPEOF(x) == REALSXP && !MAYBE_SHARED(x)) return x;
  SEXP out = PROTECT(alloc_result(REALSXP, XLENGTH(x)));
  copy_shape(x, out);
  UNPROTECT(1);
  return out;
}
