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

/* x = k log 2 + r + c with k an integer (as a double), r = x - k LN2_HI
 * exactly (Sterbenz) and c = -k LN2_LO a correction of a few 1e-8 at most;
 * |r| <= log(2)/2. For x in [-1075, 0]. */
SELU_INLINE double reduce(double x, double *k, double *c) {
  double kd = (x * INV_LN2 + ROUND_MAGIC) - ROUND_MAGIC;
  *k = kd;
  *c = -kd * LN2_LO;
  return x - kd * LN2_HI;
}

/* The kernels on e^x are written in three stages (see dispatch.h): the
 * argument reduced, the exponential's polynomial, then the kernel's own
 * arithmetic. A stage hands the next one three doubles, whose meaning each
 * stage function gives. */
typedef struct {
  double a, b, c;
} stage;

/* The first stage: {r, k, c} of reduce(x). */
SELU_INLINE stage reduced(double x) {
  stage s;
  s.a = reduce(x, &s.b, &s.c);
  return s;
}

/* (expm1(r) - r - r^2/2) / r^3 on |r| <= log(2)/2: Taylor coefficients up
 * to 1/13! for double results (relative error below 2^-50, which the r^3
 * factor makes negligible), to 1/9! for float32 results. The double one is
 * summed in pairs by powers of r^2 (Estrin's scheme), not by Horner's rule:
 * a chain of 4 multiply-adds instead of 10, and these kernels are bound by
 * the length of that chain. */
SELU_INLINE double expm1_cubic_tail(double r, int digits) {
  if (digits > 24) {
    double r2 = r * r, r4 = r2 * r2;
    double a0 = 1.0 / 6.0 + r * (1.0 / 24.0);               /* 1/3!, 1/4! */
    double a1 = 1.0 / 120.0 + r * (1.0 / 720.0);            /* 1/5!, 1/6! */
    double a2 = 1.0 / 5040.0 + r * (1.0 / 40320.0);         /* 1/7!, 1/8! */
    double a3 = 1.0 / 362880.0 + r * (1.0 / 3628800.0);     /* 1/9!, 1/10! */
    double a4 = 1.0 / 39916800.0 + r * (1.0 / 479001600.0); /* 1/11!, 1/12! */
    double b2 = a4 + r2 * (1.0 / 6227020800.0);             /* 1/13! */
    return (a0 + r2 * a1) + r4 * ((a2 + r2 * a3) + r4 * b2);
  }
  double c = 1.0 / 362880.0;
  c = c * r + 1.0 / 40320.0; /* 1/8! */
  c = c * r + 1.0 / 5040.0;  /* 1/7! */
  c = c * r + 1.0 / 720.0;   /* 1/6! */
  c = c * r + 1.0 / 120.0;   /* 1/5! */
  c = c * r + 1.0 / 24.0;    /* 1/4! */
  return c * r + 1.0 / 6.0;  /* 1/3! */
}

/* expm1(r) = r + r^2/2 + r^3 tail(r) on |r| <= log(2)/2, as a double. */
SELU_INLINE double expm1_reduced(double r, int digits) {
  return r + (r * r) * (0.5 + r * expm1_cubic_tail(r, digits));
}

/* e^x = 2^k q for x in [-1075, 0], with q = e^(r + c) in [0.7, 1.42], from
 * x reduced: exp_reduced_dd() gives q as a double-double whose sum is within
 * 0.52 x 2^-53 relative, exp_reduced() as a double within 1.1 ulp. */
SELU_INLINE dd exp_reduced_dd(stage s) {
  double r = s.a, c = s.c;
  double p = expm1_reduced(r, 53);
  double cc = c + 0.5 * c * c;
  dd q = fast_two_sum(1.0, p);
  q.lo += cc * (1.0 + p);
  return q;
}

SELU_INLINE double exp_reduced(stage s, int digits) {
  double r = s.a, c = s.c;
  double p = expm1_reduced(r, digits);
  /* e^(r + c) = e^r (1 + c + c^2/2): c reaches 2e-7 near x = -746 */
  double cc = c + 0.5 * c * c;
  return 1.0 + (p + cc * (1.0 + p));
}

/* expm1(x) for x in [-40, 0] as a double-double good to about 2^-60
 * relative: 2^k - 1 + 2^k expm1(r + c), with expm1(r + c) = r + r^2/2 +
 * r^3 tail(r) + c e^r and the leading parts summed exactly. Below -40,
 * expm1(x) is -1 to far more than double precision. For float32 results,
 * plain double arithmetic is precise enough.
 *
 * The pieces first, as the second stage from x reduced: {2^k, p hi, p lo}
 * with p = expm1(r + c) a double-double (for tanh, which needs 2 + expm1(x)
 * as well); then their sum. */
SELU_INLINE stage expm1_stage(stage s, int fma_ok) {
  double r = s.a, c = s.c;
  double tail = expm1_cubic_tail(r, 53);
  dd r2 = two_prod(r, r, fma_ok);
  dd p = fast_two_sum(r, 0.5 * r2.hi);
  double lo = 0.5 * r2.lo + r2.hi * (r * tail);
  p.lo += lo + c * (1.0 + (p.hi + lo)); /* e^(r + c) - 1 = expm1(r) + c e^r */
  stage e = {pow2i(s.b), p.hi, p.lo};
  return e;
}

/* 2^k - 1 + 2^k p from the pieces; most of p's r^3 term stays in the low part. */
SELU_INLINE dd expm1_from_pieces(stage q) {
  double two_k = q.a;
  /* 2^k - 1 is exact down to k = -53; below, its rounding goes to t_lo */
  double t_hi = two_k - 1.0;
  double t_lo = two_k - (t_hi + 1.0);
  dd e = fast_two_sum(t_hi, two_k * q.b); /* |2^k p| < |2^k - 1| unless k = 0 */
  e.lo += t_lo + two_k * q.c;
  return e;
}

/* expm1(x) for float32 results, in plain double arithmetic. */
SELU_INLINE double expm1_neg_f32(double x) {
  stage s = reduced(x);
  double two_k = pow2i(s.b);
  double p = expm1_reduced(s.a, 24);
  p += s.c * (1.0 + p);
  return two_k * p + (two_k - 1.0);
}

/* x, but not below floor; NaN goes to floor. Lanes with x >= 0 compute
 * garbage (never trapping: floating-point exceptions are masked) that the
 * final choice discards. */
SELU_INLINE double clamp_below(double x, double floor) {
  return choose(x > floor, x, floor);
}

/* Below -746, e^x is 0 in double; from -708 up, it is a normal number. */
#define EXP_FLOOR -746.0
#define EXP_NORMAL_FLOOR -708.0

/* q 2^k for |q| < 2, rounded once. Below k = -1021, where the result
 * may be subnormal, the power of two is applied in two exact steps; `normal`
 * (a compile-time constant) promises k >= -1021. The two forms agree where
 * both apply, so a value's result never depends on which one ran. */
SELU_INLINE double times_pow2(double q, double k, int normal) {
  if (normal) return q * pow2i(k);
  double k_low = choose(k < -1021, -600.0, 0.0);
  return (q * pow2i(k - k_low)) * pow2i(k_low);
}

/* g * c * e^x for x <= 0 (x >= EXP_NORMAL_FLOOR if `normal`), with c * e^r
 * rounded once and the powers of two applied as in times_pow2, the product
 * with g in between. NaN lanes compute garbage for the caller to discard. */
SELU_INLINE double g_c_exp(double x, double g, double c, int digits, int normal) {
  stage s = reduced(normal ? x : clamp_below(x, EXP_FLOOR));
  double d = c * exp_reduced(s, digits), k = s.b;
  if (normal) return g * (d * pow2i(k));
  double k_low = choose(k < -1021, -600.0, 0.0);
  return (g * (d * pow2i(k - k_low))) * pow2i(k_low);
}

/* e^x for x <= 0 (x >= EXP_NORMAL_FLOOR if `normal`), within 1 ulp, for
 * softmax, whose sum and division round after it anyway: r + c is rounded
 * once, which spares g_c_exp's correction term. */
SELU_INLINE double exp_neg(double x, int normal) {
  if (!normal) x = clamp_below(x, EXP_FLOOR);
  double k, c;
  double r = reduce(x, &k, &c) + c;
  return times_pow2(1.0 + expm1_reduced(r, 53), k, normal);
}

/* 2^k e^(r + c) as a double-double (its low part meaningless where the
 * value is subnormal), the second stage from x reduced: {t hi, t lo, -}. */
SELU_INLINE stage exp_dd_stage(stage s, int fma_ok) {
  (void) fma_ok;
  dd q = exp_reduced_dd(s);
  stage t = {times_pow2(q.hi, s.b, 0), times_pow2(q.lo, s.b, 0), 0.0};
  return t;
}

/* n / d for double-doubles, within about 0.5 ulp: a first quotient from the
 * reciprocal, then one correction step (one division in all). With fma, the
 * remainder n.hi - y d.hi comes exact from one instruction, which also
 * shortens the chain of dependent steps. */
SELU_INLINE double div_dd(dd n, dd d, int fma_ok) {
  double r = 1.0 / d.hi;
  double y = n.hi * r;
  if (fma_ok) {
    double rem = fma(-y, d.hi, n.hi) + fma(-y, d.lo, n.lo);
    return fma(rem, r, y);
  }
  dd yd = two_prod(y, d.hi, fma_ok);
  return y + (((n.hi - yd.hi) - yd.lo) + n.lo - y * d.lo) * r;
}

/* c t / (1 + t)^2 for t in [0, 1], given ct = c t as a double-double and
 * c a power of two. */
SELU_INLINE double t_over_one_plus_t_squared(dd ct, double c, int fma_ok) {
  dd t = {ct.hi / c, ct.lo / c}; /* exact, or so small that 1 + t is 1 */
  dd s = fast_two_sum(1.0, t.hi);
  s.lo += t.lo;
  dd s2 = two_prod(s.hi, s.hi, fma_ok);
  s2.lo += 2.0 * s.hi * s.lo;
  return div_dd(ct, s2, fma_ok);
}

/* c * (e.hi + e.lo) rounded once, up to the tiny terms, for a constant c.
 * Without fma, Dekker's product is exact only away from the subnormals; there
 * the plain product is correctly rounded anyway. */
SELU_INLINE double mul_dd(double c, dd e, int fma_ok) {
  if (fma_ok) return fma(c, e.hi, c * e.lo);
  dd p = two_prod(c, e.hi, 0);
  return choose(fabs(e.hi) > 0x1p-960, p.hi + (p.lo + c * e.lo), c * e.hi);
}

#endif
