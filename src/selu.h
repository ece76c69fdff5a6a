#ifndef SELU_H
#define SELU_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

/* .Call entry points, registered in init.c */
SEXP selu_forward(SEXP x, SEXP single);
SEXP selu_backward(SEXP x, SEXP grad_output, SEXP single);

#endif
