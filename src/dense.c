/* The dense layer's affine map, y = x %*% kernel + bias, through the BLAS's
 * dgemm: the bias is written first and dgemm adds the product to it, so the
 * result is allocated and written once. */
#define USE_FC_LEN_T
#include "memory.h"
#include "selu.h"
#include <R_ext/BLAS.h>
#include <limits.h>
#ifndef FCONE
#define FCONE
#endif

/* x: doubles, read as a matrix of rows of length nrow(kernel) (an array's
 * last axis); kernel: a double matrix (inputs x units); bias: NULL or
 * doubles of length units. Checked in R; guarded here. */
SEXP selu_dense_forward(SEXP x, SEXP kernel, SEXP bias) {
  SEXP kdim = Rf_getAttrib(kernel, R_DimSymbol);
  if (TYPEOF(x) != REALSXP || TYPEOF(kernel) != REALSXP || XLENGTH(kdim) != 2 ||
      (bias != R_NilValue && TYPEOF(bias) != REALSXP)) {
    Rf_error("internal error: selu_dense_forward takes doubles and a kernel matrix");
  }
  int inputs = INTEGER(kdim)[0], units = INTEGER(kdim)[1];
  R_xlen_t n = XLENGTH(x), whole_rows = inputs > 0 ? n / inputs : 0;
  if (inputs <= 0 || whole_rows * inputs != n || whole_rows > INT_MAX ||
      (bias != R_NilValue && XLENGTH(bias) != units)) {
    Rf_error("internal error: selu_dense_forward's shapes do not fit");
  }
  int rows = (int) whole_rows;
  SEXP y = PROTECT(alloc_result(REALSXP, (R_xlen_t) rows * units));
  double *restrict out = REAL(y);
  double beta = 0.0, one = 1.0;
  if (bias != R_NilValue) {
    const double *restrict b = REAL(bias);
    for (int j = 0; j < units; j++) {
      double bj = b[j];
      double *restrict col = out + (R_xlen_t) j * rows;
      for (int i = 0; i < rows; i++) col[i] = bj;
    }
    beta = 1.0;
  }
  if (rows > 0 && units > 0) {
    F77_CALL(dgemm)("N", "N", &rows, &units, &inputs, &one, REAL(x), &rows, REAL(kernel),
                    &inputs, &beta, out, &rows FCONE FCONE);
  }
  UNPROTECT(1);
  return y;
}
