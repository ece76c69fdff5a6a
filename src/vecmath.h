#ifndef SELU_VECMATH_H
#define SELU_VECMATH_H

/* Branch-free, vectorizable pieces of exp() and expm1() on x <= 0, kept in
 * double-double precision to the last step so that the activations built on
 * them stay within 1 ulp. Every function is inlined into the loops of the
 * kernels, which are compiled once per instruction set (see dispatch.h): the
 * `fma` argument is a compile-time constant there, 1 where the instruction
 * set has fused multiply-add, 0 where it would be a slow library call. */

#include <stdint.h>
#include <string.h>
#include <math.h>

#if defined(__GNUC__)
#define SELU_INLINE static inline __attribute__((always_inline))
#else
#define SELU_INLINE static inline
#endif

/* Cody-Waite split of log(2) (fdlibm): k * LN2_HI is exact for |k| < 2^11. */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e+00
/* Adding and subtracting 1.5 * 2^52 rounds to the nearest integer. */
#define ROUND_MAGIC 6755399441055744.0
/* 2^27 + 1, Veltkamp's constant for splitting a double into two halves. */
#define SPLITTER 134217729.0

typedef struct {
  double hi, lo;
} dd;

SELU_INLINE double as_double_bits(uint64_t bits) {
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

SELU_INLINE uint64_t bits_of(double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  return bits;
}

/* cond ? a : b, by bit masks: both sides are computed before the choice,
 * so the compiler needs no branch (it will not speculate floating-point
 * arithmetic into a select on its own, in case it traps). */
SELU_INLINE double choose(int cond, double a, double b) {
  uint64_t mask = (uint64_t) 0 - (uint64_t) (cond != 0);
  return as_double_bits((bits_of(a) & mask) | (bits_of(b) & ~mask));
}

/* 2^k for an integer-valued double k in [-1022, 1023]. */
SELU_INLINE double pow2i(double k) {
  return as_double_bits(bits_of(k + (ROUND_MAGIC + 1023.0)) << 52);
}

/* a * b exactly, as hi + lo. */
SELU_INLINE dd two_prod(double a, double b, int fma_ok) {
  dd r;
  r.hi = a * b;
  if (fma_ok) {
    r.lo = fma(a, b, -r.hi);
  } else {
    double ca = SPLITTER * a, cb = SPLITTER * b;
    double a1 = ca - (ca - a), a2 = a - a1;
    double b1 = cb - (cb - b), b2 = b - b1;
    r.lo = ((a1 * b1 - r.hi) + a1 * b2 + a2 * b1) + a2 * b2;
  }
  return r;
}

/* a + b exactly, as hi + lo, when exponent(a) >= exponent(b). */
SELU_INLINE dd fast_two_sum(double a, double b) {
  dd r;
  r.hi = a + b;
  r.lo = b - (r.hi - a);
  return r;
}

/* e^x / 2^k = 1 + expm1(r), x = k log 2 + r, as a double-double q with
 * q.hi in [0.7, 1.42]; x in [-1075, 0]. `digits` is 53 for double results
 * and 24 for float32 results, which need a shorter polynomial. */
SELU_INLINE dd exp_reduced(double x, double *k, int digits, int fma_ok) {
  double kd = (x * INV_LN2 + ROUND_MAGIC) - ROUND_MAGIC;
  double r_hi = x - kd * LN2_HI; /* exact */
  double r = r_hi - kd * LN2_LO;
  double r_lo = (r_hi - r) - kd * LN2_LO;
  *k = kd;
  /* expm1(r) = r + r^2/2 + r^3 c(r), |r| <= log(2)/2, Taylor coefficients:
   * the term after the last is below 2^-60 of the result. */
  double c;
  if (digits > 24) {
    c = 1.0 / 87178291200.0;            /* 1/14! */
    c = c * r + 1.0 / 6227020800.0;     /* 1/13! */
    c = c * r + 1.0 / 479001600.0;      /* 1/12! */
    c = c * r + 1.0 / 39916800.0;       /* 1/11! */
    c = c * r + 1.0 / 3628800.0;        /* 1/10! */
    c = c * r + 1.0 / 362880.0;         /* 1/9! */
    c = c * r + 1.0 / 40320.0;          /* 1/8! */
    c = c * r + 1.0 / 5040.0;           /* 1/7! */
    c = c * r + 1.0 / 720.0;            /* 1/6! */
    c = c * r + 1.0 / 120.0;            /* 1/5! */
    c = c * r + 1.0 / 24.0;             /* 1/4! */
    c = c * r + 1.0 / 6.0;              /* 1/3! */
  } else {
    c = 1.0 / 362880.0;
    c = c * r + 1.0 / 40320.0;
    c = c * r + 1.0 / 5040.0;
    c = c * r + 1.0 / 720.0;
    c = c * r + 1.0 / 120.0;
    c = c * r + 1.0 / 24.0;
    c = c * r + 1.0 / 6.0;
  }
  dd r2 = two_prod(r, r, fma_ok);
  dd p = fast_two_sum(r, 0.5 * r2.hi);
  /* the tail: the rounding of r^2, the cubic and higher terms, and the part
   * of r lost in the reduction times the derivative e^r */
  p.lo += 0.5 * r2.lo + r2.hi * r * c + r_lo * (1.0 + p.hi);
  dd q = fast_two_sum(1.0, p.hi);
  q.lo += p.lo;
  return q;
}

/* expm1(x) for x in [-40, 0] as a double-double: below -40 it is -1 to far
 * more than double precision. */
SELU_INLINE dd expm1_neg(double x, int digits, int fma_ok) {
  double k;
  dd q = exp_reduced(x, &k, digits, fma_ok);
  double two_k = pow2i(k);
  dd e = fast_two_sum(-1.0, q.hi * two_k); /* q.hi * 2^k <= 1.42: same exponent as -1 at most */
  e.lo += q.lo * two_k;
  return e;
}

/* c * (e.hi + e.lo) rounded once, up to the tiny terms, for a constant c. */
SELU_INLINE double mul_dd(double c, dd e, int fma_ok) {
  if (fma_ok) return fma(c, e.hi, c * e.lo);
  dd p = two_prod(c, e.hi, 0);
  return p.hi + (p.lo + c * e.lo);
}

#endif
