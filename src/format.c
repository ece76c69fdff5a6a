#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "selu.h"

/* `text`, a decimal of `digits` significant digits in C's scientific
 * notation ("-d.ddde+XX"), moved one unit of its last digit away from 0,
 * written to `out` in the same notation (9.99e+00 becomes 1.00e+01). */
static void step_away_from_zero(const char *text, int digits, char *out, size_t size) {
  char mantissa[20] = {0};
  int k = 0;
  const int negative = text[0] == '-';
  const char *p = text + negative;
  for (; *p != 'e' && k < 19; p++)
    if (*p != '.') mantissa[k++] = *p;
  int exponent = atoi(p + 1);
  int i = digits - 1;
  while (i >= 0 && mantissa[i] == '9') mantissa[i--] = '0';
  if (i >= 0) {
    mantissa[i]++;
  } else {
    mantissa[0] = '1';
    exponent++;
  }
  mantissa[digits] = '\0';
  snprintf(out, size, "%s%c%s%se%+03d", negative ? "-" : "", mantissa[0], digits > 1 ? "." : "",
           mantissa + 1, exponent);
}

/* The shortest decimal, in C's scientific notation ("d.ddde+XX"), that
 * reads back as the same double, the nearest of them if several, for each
 * element of x (NA where not finite): the digits of Python's repr() of a
 * float. Candidates are read back with C's strtod(), which rounds
 * correctly; R's own reader (as.numeric()) does not always, at 16 and 17
 * digits. The nearest decimal of some length may not read back while the
 * next one away from 0 does: at a power of two, whose neighbour towards 0
 * is half as far as the one away from it. */
SEXP selu_shortest_decimal(SEXP x) {
  if (TYPEOF(x) != REALSXP) Rf_error("internal error: selu_shortest_decimal() takes doubles");
  const R_xlen_t n = XLENGTH(x);
  const double *const v = REAL(x);
  SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
  char text[32], away[32];
  for (R_xlen_t i = 0; i < n; i++) {
    if (!R_FINITE(v[i])) {
      SET_STRING_ELT(out, i, NA_STRING);
      continue;
    }
    /* 17 significant digits always read back */
    for (int digits = 1; digits <= 17; digits++) {
      snprintf(text, sizeof text, "%.*e", digits - 1, v[i]);
      if (strtod(text, NULL) == v[i]) break;
      step_away_from_zero(text, digits, away, sizeof away);
      if (strtod(away, NULL) == v[i]) {
        memcpy(text, away, sizeof text);
        break;
      }
    }
    SET_STRING_ELT(out, i, Rf_mkChar(text));
  }
  UNPROTECT(1);
  return out;
}
