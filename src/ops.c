/* The ops of the engine (engine.h): each a forward and a backward pass over
 * a batch of m rows, with its shapes in a comment. x is the input slot's
 * value, y the output's, dy the output's gradient, dx the input's; a
 * sample's element p of row i is at i + p * m. */
#define USE_FC_LEN_T
#include "engine.h"
#include <R_ext/BLAS.h>
#include <math.h>
#include <string.h>
#ifndef FCONE
#define FCONE
#endif

#define IN(o, k) (&e->slots[(o)->in[k]])
#define OUT(o) (&e->slots[(o)->out])

static R_xlen_t no_scratch(const engine *e, const op *o, int max_rows) {
  (void) e;
  (void) o;
  (void) max_rows;
  return 0;
}

/* The gradient for input k: written straight into the slot, or into tmp
 * and added when others have written to it already. finish_grad() adds. */
static double *grad_target(engine *e, const op *o, int k, double **slot_grad, int *add) {
  *slot_grad = input_grad(e, o, k, add);
  if (!*slot_grad) return NULL;
  return *add ? e->tmp : *slot_grad;
}

static void finish_grad(engine *e, double *slot_grad, int add, R_xlen_t n) {
  if (slot_grad && add) add_into(slot_grad, e->tmp, n);
}

/* --- Dense --------------------------------------------------------------- */

/* z = x W + b: x (r x inputs), W (inputs x units), b (units), z (r x units),
 * r = m * the positions before the last axis */
static void dense_forward(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  slot *z = OUT(o);
  const param *W = op_param(e, o, 0), *b = op_param(e, o, 1);
  int inputs = o->inputs, units = o->units;
  int r = (int) (m * (x->width / inputs)), ldx = x->ld ? (int) x->ld : r;
  double one = 1.0, beta = 0.0;
  if (b) {
    for (int j = 0; j < units; j++)
      for (int i = 0; i < r; i++) z->value[i + (R_xlen_t) j * r] = b->w[j];
    beta = 1.0;
  }
  if (r > 0)
    F77_CALL(dgemm)("N", "N", &r, &units, &inputs, &one, x->value, &ldx, W->w, &inputs, &beta,
                    z->value, &r FCONE FCONE);
  if (o->single) round_to_float(z->value, (R_xlen_t) r * units);
}

/* dW = x^T dz (inputs x units), db = column sums of dz, dx = dz W^T (r x inputs) */
static void dense_backward(engine *e, op *o, int m) {
  const slot *x = IN(o, 0), *z = OUT(o);
  const param *W = op_param(e, o, 0);
  int inputs = o->inputs, units = o->units;
  int r = (int) (m * (x->width / inputs));
  double one = 1.0;
  int add;
  double *dW = param_grad(e, o, 0, &add);
  if (dW) {
    double beta = add ? 1.0 : 0.0;
    F77_CALL(dgemm)("T", "N", &inputs, &units, &r, &one, x->value, &r, z->grad, &r, &beta, dW,
                    &inputs FCONE FCONE);
  }
  double *db = param_grad(e, o, 1, &add);
  if (db) {
    for (int j = 0; j < units; j++) {
      const double *col = z->grad + (R_xlen_t) j * r;
      double s = 0;
      SIMD_SUM(s) for (int i = 0; i < r; i++) s += col[i];
      db[j] = (add ? db[j] : 0) + s;
    }
  }
  double *dx = input_grad(e, o, 0, &add);
  if (dx) {
    double beta = add ? 1.0 : 0.0;
    F77_CALL(dgemm)("N", "T", &r, &inputs, &units, &one, z->grad, &r, W->w, &inputs, &beta, dx,
                    &r FCONE FCONE);
  }
}

/* The same on a float32 engine's buffers, through sgemm. The bias is added
 * before the product, as above, in float. */
static void dense_forward_f32(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  slot *z = OUT(o);
  const param *W = op_param(e, o, 0), *b = op_param(e, o, 1);
  int inputs = o->inputs, units = o->units;
  int r = (int) (m * (x->width / inputs));
  float beta = 0;
  if (b) {
    for (int j = 0; j < units; j++)
      for (int i = 0; i < r; i++) z->fvalue[i + (R_xlen_t) j * r] = b->fw[j];
    beta = 1;
  }
  if (r > 0) e->sgemm("N", "N", r, units, inputs, 1, x->fvalue, r, W->fw, inputs, beta, z->fvalue, r);
}

static void dense_backward_f32(engine *e, op *o, int m) {
  const slot *x = IN(o, 0), *z = OUT(o);
  const param *W = op_param(e, o, 0);
  int inputs = o->inputs, units = o->units;
  int r = (int) (m * (x->width / inputs));
  int add;
  float *dW = param_grad_f32(e, o, 0, &add);
  if (dW) e->sgemm("T", "N", inputs, units, r, 1, x->fvalue, r, z->fgrad, r, add ? 1 : 0, dW, inputs);
  float *db = param_grad_f32(e, o, 1, &add);
  if (db) {
    for (int j = 0; j < units; j++) {
      const float *col = z->fgrad + (R_xlen_t) j * r;
      float s = 0;
      SIMD_SUM(s) for (int i = 0; i < r; i++) s += col[i];
      db[j] = (add ? db[j] : 0) + s;
    }
  }
  float *dx = input_grad_f32(e, o, 0, &add);
  if (dx) e->sgemm("N", "T", r, inputs, units, 1, z->fgrad, r, W->fw, inputs, add ? 1 : 0, dx, r);
}

/* --- elementwise activations ------------------------------------------------ */

/* y = f(x), dx = f'(x) dy, elementwise (x, y: m x width) */
static void activation_forward(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  run_unary(o->fwd, x->value, OUT(o)->value, (R_xlen_t) m * x->width, o->kp);
}

static void activation_backward(engine *e, op *o, int m) {
  const slot *x = IN(o, 0);
  double *slot_grad;
  int add;
  double *dx = grad_target(e, o, 0, &slot_grad, &add);
  if (!dx) return;
  R_xlen_t n = (R_xlen_t) m * x->width;
  run_binary(o->bwd, x->value, OUT(o)->grad, 1, dx, n, o->kp);
  finish_grad(e, slot_grad, add, n);
}

/* The same on a float32 engine's buffers: the double loops of the layer's
 * float32 kernel (their results float32 values, as the layer computes them
 * in R) run on pieces widened to double on the stack, on this thread. */
#define PIECE 256

static void activation_forward_f32(engine *e, op *o, int m, int training) {
  (void) training;
  const float *x = IN(o, 0)->fvalue;
  float *y = OUT(o)->fvalue;
  R_xlen_t n = (R_xlen_t) m * IN(o, 0)->width;
  double xd[PIECE], yd[PIECE];
  for (R_xlen_t s = 0; s < n; s += PIECE) {
    R_xlen_t len = n - s < PIECE ? n - s : PIECE;
    to_double(x + s, xd, len);
    o->fwd(xd, yd, len, o->kp);
    to_float(yd, y + s, len);
  }
}

static void activation_backward_f32(engine *e, op *o, int m) {
  int add;
  float *dx = input_grad_f32(e, o, 0, &add);
  if (!dx) return;
  const float *x = IN(o, 0)->fvalue, *dy = OUT(o)->fgrad;
  R_xlen_t n = (R_xlen_t) m * IN(o, 0)->width;
  double xd[PIECE], gd[PIECE], yd[PIECE];
  for (R_xlen_t s = 0; s < n; s += PIECE) {
    R_xlen_t len = n - s < PIECE ? n - s : PIECE;
    to_double(x + s, xd, len);
    to_double(dy + s, gd, len);
    o->bwd(xd, gd, yd, len, o->kp);
    if (add) {
      for (R_xlen_t i = 0; i < len; i++) dx[s + i] += (float) yd[i];
    } else {
      to_float(yd, dx + s, len);
    }
  }
}

/* --- softmax along an axis ---------------------------------------------------- */

/* The array (m, ...) seen as outer blocks of len slices of inner elements. */
static void softmax_layout(const op *o, int m, R_xlen_t width, R_xlen_t *inner, R_xlen_t *len,
                           R_xlen_t *outer) {
  if (o->batch_axis) {
    *inner = 1;
    *len = m;
    *outer = width;
  } else {
    *inner = (R_xlen_t) m * o->pre;
    *len = o->len;
    *outer = o->post;
  }
}

/* y = exp(x - max) / sum(exp(x - max)) along the axis; dx = y (dy - <dy, y>) */
static void softmax_forward(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  R_xlen_t inner, len, outer;
  softmax_layout(o, m, x->width, &inner, &len, &outer);
  softmax_into(x->value, NULL, 0, OUT(o)->value, inner, len, outer);
  if (o->single) round_to_float(OUT(o)->value, (R_xlen_t) m * x->width);
}

/* A float32 engine's softmax runs the double kernel on copies in the op's
 * scratch (the forward pass only: the backward one widens its buffers). */
static R_xlen_t softmax_scratch(const engine *e, const op *o, int max_rows) {
  return e->f32 ? 2 * (R_xlen_t) max_rows * e->slots[o->in[0]].width : 0;
}

static void softmax_forward_f32(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  R_xlen_t inner, len, outer, n = (R_xlen_t) m * x->width;
  double *xd = o->scratch, *yd = xd + n;
  to_double(x->fvalue, xd, n);
  softmax_layout(o, m, x->width, &inner, &len, &outer);
  softmax_into(xd, NULL, 0, yd, inner, len, outer);
  to_float(yd, OUT(o)->fvalue, n);
}

static void softmax_backward(engine *e, op *o, int m) {
  const slot *x = IN(o, 0);
  double *slot_grad;
  int add;
  double *dx = grad_target(e, o, 0, &slot_grad, &add);
  if (!dx) return;
  R_xlen_t inner, len, outer, n = (R_xlen_t) m * x->width;
  softmax_layout(o, m, x->width, &inner, &len, &outer);
  softmax_into(x->value, OUT(o)->grad, 1, dx, inner, len, outer);
  if (o->single) round_to_float(dx, n);
  finish_grad(e, slot_grad, add, n);
}

/* --- parametric ReLU ----------------------------------------------------------- */

/* y = x for x >= 0, alpha[f] x otherwise, f the feature of the element's
 * position (alpha: n_features) */
static void prelu_forward(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  double *y = OUT(o)->value;
  const double *alpha = op_param(e, o, 0)->w;
  for (R_xlen_t p = 0; p < x->width; p++) {
    double a = alpha[o->feature[p]];
    const double *xp = x->value + p * m;
    double *yp = y + p * m;
    for (int i = 0; i < m; i++) yp[i] = xp[i] >= 0 ? xp[i] : a * xp[i];
  }
  if (o->single) round_to_float(y, (R_xlen_t) m * x->width);
}

/* dx = dy where x >= 0, alpha dy otherwise; dalpha[f] = sum of x dy where x < 0 */
static void prelu_backward(engine *e, op *o, int m) {
  const slot *x = IN(o, 0);
  const double *dy = OUT(o)->grad, *alpha = op_param(e, o, 0)->w;
  int add_a, add_x;
  double *dalpha = param_grad(e, o, 0, &add_a);
  double *slot_grad;
  double *dx = grad_target(e, o, 0, &slot_grad, &add_x);
  if (dalpha && !add_a) memset(dalpha, 0, (size_t) o->n_features * sizeof(double));
  for (R_xlen_t p = 0; p < x->width; p++) {
    int f = o->feature[p];
    double a = alpha[f], s = 0;
    const double *xp = x->value + p * m, *gp = dy + p * m;
    if (dx) {
      double *dp = dx + p * m;
      for (int i = 0; i < m; i++) dp[i] = xp[i] >= 0 ? gp[i] : a * gp[i];
    }
    SIMD_SUM(s) for (int i = 0; i < m; i++) s += xp[i] >= 0 ? 0 : xp[i] * gp[i];
    if (dalpha) dalpha[f] += s;
  }
  if (dx && o->single) round_to_float(dx, (R_xlen_t) m * x->width);
  finish_grad(e, slot_grad, add_x, (R_xlen_t) m * x->width);
}

/* --- dropout -------------------------------------------------------------------- */

/* In training with a mask: y = x k (the keep mask k scaled by 1 / (1 - rate));
 * otherwise y = x */
static void dropout_forward(engine *e, op *o, int m, int training) {
  const slot *x = IN(o, 0);
  double *y = OUT(o)->value;
  R_xlen_t n = (R_xlen_t) m * x->width;
  if (training && o->mask) {
    for (R_xlen_t i = 0; i < n; i++) y[i] = x->value[i] * o->mask[i];
    if (o->single) round_to_float(y, n);
  } else {
    memcpy(y, x->value, n * sizeof(double));
  }
}

static void dropout_backward(engine *e, op *o, int m) {
  double *slot_grad;
  int add;
  double *dx = grad_target(e, o, 0, &slot_grad, &add);
  if (!dx) return;
  R_xlen_t n = (R_xlen_t) m * IN(o, 0)->width;
  const double *dy = OUT(o)->grad;
  if (o->mask) {
    for (R_xlen_t i = 0; i < n; i++) dx[i] = dy[i] * o->mask[i];
  } else {
    memcpy(dx, dy, n * sizeof(double));
  }
  finish_grad(e, slot_grad, add, n);
}

/* Alpha dropout, in training with a keep mask k (0 or 1):
 * y = a (k x + (1 - k) alpha') + b, alpha' = -scale * alpha of SELU;
 * dx = a k dy */
#define SELU_ALPHA_PRIME -1.7580993408473768599402175208123

static void alpha_dropout_forward(engine *e, op *o, int m, int training) {
  const slot *x = IN(o, 0);
  double *y = OUT(o)->value;
  R_xlen_t n = (R_xlen_t) m * x->width;
  if (training && o->mask) {
    const double *k = o->mask, a = o->a, b = o->b;
    for (R_xlen_t i = 0; i < n; i++)
      y[i] = a * (k[i] * x->value[i] + (1 - k[i]) * SELU_ALPHA_PRIME) + b;
    if (o->single) round_to_float(y, n);
  } else {
    memcpy(y, x->value, n * sizeof(double));
  }
}

static void alpha_dropout_backward(engine *e, op *o, int m) {
  double *slot_grad;
  int add;
  double *dx = grad_target(e, o, 0, &slot_grad, &add);
  if (!dx) return;
  R_xlen_t n = (R_xlen_t) m * IN(o, 0)->width;
  const double *dy = OUT(o)->grad;
  if (o->mask) {
    for (R_xlen_t i = 0; i < n; i++) dx[i] = dy[i] * o->a * o->mask[i];
  } else {
    memcpy(dx, dy, n * sizeof(double));
  }
  finish_grad(e, slot_grad, add, n);
}

/* --- normalization ---------------------------------------------------------------- */

/* Both normalizations keep x_hat (m x width) for the backward pass. Batch
 * normalization keeps mean and inv_sd per feature (and sums for its
 * backward pass); layer normalization keeps mean and inv_sd per row and
 * group. gamma and beta are one number per feature. */

static void scale_and_shift(const op *o, const double *gamma, const double *beta,
                            const double *x_hat, double *y, int m, R_xlen_t width) {
  for (R_xlen_t p = 0; p < width; p++) {
    int f = o->feature[p];
    double g = gamma ? gamma[f] : 1, b = beta ? beta[f] : 0;
    const double *xp = x_hat + p * m;
    double *yp = y + p * m;
    if (gamma && beta) {
      for (int i = 0; i < m; i++) yp[i] = xp[i] * g + b;
    } else if (gamma) {
      for (int i = 0; i < m; i++) yp[i] = xp[i] * g;
    } else if (beta) {
      for (int i = 0; i < m; i++) yp[i] = xp[i] + b;
    } else {
      memcpy(yp, xp, (size_t) m * sizeof(double));
    }
  }
}

/* dgamma[f] = sum of dy x_hat, dbeta[f] = sum of dy, over the feature's
 * elements */
static void affine_gradients(engine *e, op *o, const double *dy, const double *x_hat, int m,
                             R_xlen_t width) {
  int add_g, add_b;
  double *dgamma = param_grad(e, o, 0, &add_g), *dbeta = param_grad(e, o, 1, &add_b);
  if (dgamma && !add_g) memset(dgamma, 0, (size_t) o->n_features * sizeof(double));
  if (dbeta && !add_b) memset(dbeta, 0, (size_t) o->n_features * sizeof(double));
  for (R_xlen_t p = 0; p < width; p++) {
    int f = o->feature[p];
    const double *gp = dy + p * m, *hp = x_hat + p * m;
    double sg = 0, sb = 0;
    SIMD_SUM(sg, sb) for (int i = 0; i < m; i++) {
      sg += gp[i] * hp[i];
      sb += gp[i];
    }
    if (dgamma) dgamma[f] += sg;
    if (dbeta) dbeta[f] += sb;
  }
}

static R_xlen_t batch_norm_scratch(const engine *e, const op *o, int max_rows) {
  return (R_xlen_t) max_rows * e->slots[o->in[0]].width + 4 * (R_xlen_t) o->n_features;
}

/* params: gamma, beta (either may be absent), moving_mean, moving_variance.
 * In training (a trainable layer): the batch's mean and (biased) variance
 * per feature, and the moving statistics' next values,
 * moving - (moving - batch) (1 - momentum); otherwise the moving ones.
 * y = gamma (x - mean) / sqrt(variance + epsilon) + beta */
static void batch_norm_forward(engine *e, op *o, int m, int training) {
  const slot *x = IN(o, 0);
  R_xlen_t width = x->width;
  int F = o->n_features;
  double *x_hat = o->scratch, *mean = x_hat + (R_xlen_t) e->max_rows * width, *inv_sd = mean + F;
  param *gamma = op_param(e, o, 0), *beta = op_param(e, o, 1);
  param *moving_mean = op_param(e, o, 2), *moving_variance = op_param(e, o, 3);
  int batch = training && o->batch_statistics;
  if (batch) {
    double count = (double) m * (width / F);
    double *variance = inv_sd;
    memset(mean, 0, (size_t) F * sizeof(double));
    memset(variance, 0, (size_t) F * sizeof(double));
    for (R_xlen_t p = 0; p < width; p++) {
      const double *xp = x->value + p * m;
      double s = 0;
      SIMD_SUM(s) for (int i = 0; i < m; i++) s += xp[i];
      mean[o->feature[p]] += s;
    }
    for (int f = 0; f < F; f++) mean[f] /= count;
    for (R_xlen_t p = 0; p < width; p++) {
      const double *xp = x->value + p * m;
      double c = mean[o->feature[p]], s = 0;
      SIMD_SUM(s) for (int i = 0; i < m; i++) s += (xp[i] - c) * (xp[i] - c);
      variance[o->feature[p]] += s;
    }
    for (int f = 0; f < F; f++) variance[f] /= count;
    if (m > 0) {
      double keep = 1 - o->momentum;
      for (int f = 0; f < F; f++) {
        moving_mean->next[f] = moving_mean->w[f] - (moving_mean->w[f] - mean[f]) * keep;
        moving_variance->next[f] =
            moving_variance->w[f] - (moving_variance->w[f] - variance[f]) * keep;
      }
      moving_mean->pending = moving_variance->pending = 1;
    }
    for (int f = 0; f < F; f++) inv_sd[f] = 1 / sqrt(variance[f] + o->epsilon);
  } else {
    for (int f = 0; f < F; f++) {
      mean[f] = moving_mean->w[f];
      inv_sd[f] = 1 / sqrt(moving_variance->w[f] + o->epsilon);
    }
  }
  for (R_xlen_t p = 0; p < width; p++) {
    int f = o->feature[p];
    double c = mean[f], s = inv_sd[f];
    const double *xp = x->value + p * m;
    double *hp = x_hat + p * m;
    for (int i = 0; i < m; i++) hp[i] = (xp[i] - c) * s;
  }
  scale_and_shift(o, gamma ? gamma->w : NULL, beta ? beta->w : NULL, x_hat, OUT(o)->value, m,
                  width);
  if (o->single) round_to_float(OUT(o)->value, (R_xlen_t) m * width);
  o->normalized_by_batch = batch;
}

/* d_hat = gamma dy; through batch statistics
 * dx = (d_hat - mean(d_hat) - x_hat mean(d_hat x_hat)) inv_sd, the means per
 * feature; through moving ones dx = d_hat inv_sd */
static void batch_norm_backward(engine *e, op *o, int m) {
  const slot *x = IN(o, 0);
  R_xlen_t width = x->width;
  int F = o->n_features;
  double *x_hat = o->scratch, *mean = x_hat + (R_xlen_t) e->max_rows * width, *inv_sd = mean + F;
  double *s1 = inv_sd + F, *s2 = s1 + F;
  const double *dy = OUT(o)->grad;
  const param *gamma = op_param(e, o, 0);
  affine_gradients(e, o, dy, x_hat, m, width);
  double *slot_grad;
  int add;
  double *dx = grad_target(e, o, 0, &slot_grad, &add);
  if (!dx) return;
  double count = (double) m * (width / F);
  if (o->normalized_by_batch) {
    memset(s1, 0, (size_t) F * sizeof(double));
    memset(s2, 0, (size_t) F * sizeof(double));
    for (R_xlen_t p = 0; p < width; p++) {
      int f = o->feature[p];
      double g = gamma ? gamma->w[f] : 1, a = 0, b = 0;
      const double *gp = dy + p * m, *hp = x_hat + p * m;
      SIMD_SUM(a, b) for (int i = 0; i < m; i++) {
        a += gp[i] * g;
        b += gp[i] * g * hp[i];
      }
      s1[f] += a;
      s2[f] += b;
    }
  }
  for (R_xlen_t p = 0; p < width; p++) {
    int f = o->feature[p];
    double g = gamma ? gamma->w[f] : 1, s = inv_sd[f];
    const double *gp = dy + p * m, *hp = x_hat + p * m;
    double *dp = dx + p * m;
    if (o->normalized_by_batch) {
      double c1 = s1[f] / count, c2 = s2[f] / count;
      for (int i = 0; i < m; i++) dp[i] = (gp[i] * g - c1 - hp[i] * c2) * s;
    } else {
      for (int i = 0; i < m; i++) dp[i] = gp[i] * g * s;
    }
  }
  finish_grad(e, slot_grad, add, (R_xlen_t) m * width);
}

static R_xlen_t layer_norm_scratch(const engine *e, const op *o, int max_rows) {
  return (R_xlen_t) max_rows * e->slots[o->in[0]].width + 4 * (R_xlen_t) max_rows * o->n_groups;
}

/* Per row and group (the positions normalized together): the mean and
 * (biased) variance over the group's elements;
 * y = gamma x_hat + beta, x_hat = (x - mean) / sqrt(variance + epsilon) */
static void layer_norm_forward(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  R_xlen_t width = x->width, G = o->n_groups;
  double *x_hat = o->scratch, *mean = x_hat + (R_xlen_t) e->max_rows * width;
  double *inv_sd = mean + (R_xlen_t) e->max_rows * G;
  const param *gamma = op_param(e, o, 0), *beta = op_param(e, o, 1);
  double count = (double) (width / G);
  memset(mean, 0, (size_t) m * G * sizeof(double));
  memset(inv_sd, 0, (size_t) m * G * sizeof(double));
  for (R_xlen_t p = 0; p < width; p++) {
    const double *xp = x->value + p * m;
    double *mg = mean + (R_xlen_t) o->group[p] * m;
    for (int i = 0; i < m; i++) mg[i] += xp[i];
  }
  for (R_xlen_t i = 0; i < (R_xlen_t) m * G; i++) mean[i] /= count;
  for (R_xlen_t p = 0; p < width; p++) {
    const double *xp = x->value + p * m, *mg = mean + (R_xlen_t) o->group[p] * m;
    double *vg = inv_sd + (R_xlen_t) o->group[p] * m;
    for (int i = 0; i < m; i++) vg[i] += (xp[i] - mg[i]) * (xp[i] - mg[i]);
  }
  for (R_xlen_t i = 0; i < (R_xlen_t) m * G; i++) inv_sd[i] = 1 / sqrt(inv_sd[i] / count + o->epsilon);
  for (R_xlen_t p = 0; p < width; p++) {
    const double *xp = x->value + p * m, *mg = mean + (R_xlen_t) o->group[p] * m;
    const double *sg = inv_sd + (R_xlen_t) o->group[p] * m;
    double *hp = x_hat + p * m;
    for (int i = 0; i < m; i++) hp[i] = (xp[i] - mg[i]) * sg[i];
  }
  scale_and_shift(o, gamma ? gamma->w : NULL, beta ? beta->w : NULL, x_hat, OUT(o)->value, m,
                  width);
  if (o->single) round_to_float(OUT(o)->value, (R_xlen_t) m * width);
}

/* d_hat = gamma dy; dx = (d_hat - mean(d_hat) - x_hat mean(d_hat x_hat)) inv_sd,
 * the means per row and group */
static void layer_norm_backward(engine *e, op *o, int m) {
  const slot *x = IN(o, 0);
  R_xlen_t width = x->width, G = o->n_groups;
  double *x_hat = o->scratch, *mean = x_hat + (R_xlen_t) e->max_rows * width;
  double *inv_sd = mean + (R_xlen_t) e->max_rows * G, *s1 = inv_sd + (R_xlen_t) e->max_rows * G;
  double *s2 = s1 + (R_xlen_t) e->max_rows * G;
  const double *dy = OUT(o)->grad;
  const param *gamma = op_param(e, o, 0);
  affine_gradients(e, o, dy, x_hat, m, width);
  double *slot_grad;
  int add;
  double *dx = grad_target(e, o, 0, &slot_grad, &add);
  if (!dx) return;
  double count = (double) (width / G);
  memset(s1, 0, (size_t) m * G * sizeof(double));
  memset(s2, 0, (size_t) m * G * sizeof(double));
  for (R_xlen_t p = 0; p < width; p++) {
    double g = gamma ? gamma->w[o->feature[p]] : 1;
    const double *gp = dy + p * m, *hp = x_hat + p * m;
    double *a = s1 + (R_xlen_t) o->group[p] * m, *b = s2 + (R_xlen_t) o->group[p] * m;
    for (int i = 0; i < m; i++) {
      a[i] += gp[i] * g;
      b[i] += gp[i] * g * hp[i];
    }
  }
  for (R_xlen_t p = 0; p < width; p++) {
    double g = gamma ? gamma->w[o->feature[p]] : 1;
    const double *gp = dy + p * m, *hp = x_hat + p * m;
    const double *a = s1 + (R_xlen_t) o->group[p] * m, *b = s2 + (R_xlen_t) o->group[p] * m;
    const double *sg = inv_sd + (R_xlen_t) o->group[p] * m;
    double *dp = dx + p * m;
    for (int i = 0; i < m; i++) dp[i] = (gp[i] * g - a[i] / count - hp[i] * b[i] / count) * sg[i];
  }
  finish_grad(e, slot_grad, add, (R_xlen_t) m * width);
}

/* --- embedding ------------------------------------------------------------------- */

/* y[i, q, d] = E[id(i, q), d]: ids x (m x W, whole numbers from 0 below
 * input_dim, checked in R), E (input_dim x D), y (m x W x D); dE scatters dy
 * back to the ids' rows. The ids have no gradient. */
static void embedding_forward(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  double *y = OUT(o)->value;
  const double *E = op_param(e, o, 0)->w;
  R_xlen_t W = x->width, D = e->slots[o->out].width / W, n = (R_xlen_t) m * W;
  for (R_xlen_t k = 0; k < n; k++) {
    double id = x->value[k];
    if (!(id >= 0 && id < o->input_dim)) Rf_error("internal error: an embedding id outside its table");
  }
  for (R_xlen_t d = 0; d < D; d++) {
    const double *column = E + d * o->input_dim;
    double *yd = y + d * n;
    for (R_xlen_t k = 0; k < n; k++) yd[k] = column[(R_xlen_t) x->value[k]];
  }
  if (o->single) round_to_float(y, n * D);
}

static void embedding_backward(engine *e, op *o, int m) {
  const slot *x = IN(o, 0);
  int add;
  double *dE = param_grad(e, o, 0, &add);
  if (!dE) return;
  R_xlen_t W = x->width, D = e->slots[o->out].width / W, n = (R_xlen_t) m * W;
  if (!add) memset(dE, 0, (size_t) o->input_dim * D * sizeof(double));
  const double *dy = OUT(o)->grad;
  for (R_xlen_t d = 0; d < D; d++) {
    double *column = dE + d * o->input_dim;
    const double *gd = dy + d * n;
    for (R_xlen_t k = 0; k < n; k++) column[(R_xlen_t) x->value[k]] += gd[k];
  }
}

/* --- gather: flatten, concatenate ------------------------------------------------- */

/* y[i, p] = x_s[i, q], s = source[p], q = position[p]: every position of
 * every input taken once (a permutation of their elements) */
static void gather_forward(engine *e, op *o, int m, int training) {
  (void) training;
  double *y = OUT(o)->value;
  R_xlen_t width = OUT(o)->width;
  for (R_xlen_t p = 0; p < width; p++) {
    const double *xq = IN(o, o->source[p])->value + (R_xlen_t) o->position[p] * m;
    memcpy(y + p * m, xq, (size_t) m * sizeof(double));
  }
}

/* dx_s[i, q] = dy[i, p] */
static void gather_backward(engine *e, op *o, int m) {
  const double *dy = OUT(o)->grad;
  R_xlen_t width = OUT(o)->width;
  for (int k = 0; k < o->n_in; k++) {
    double *slot_grad;
    int add;
    double *dx = grad_target(e, o, k, &slot_grad, &add);
    if (!dx) continue;
    for (R_xlen_t p = 0; p < width; p++)
      if (o->source[p] == k)
        memcpy(dx + (R_xlen_t) o->position[p] * m, dy + p * m, (size_t) m * sizeof(double));
    finish_grad(e, slot_grad, add, (R_xlen_t) m * IN(o, k)->width);
  }
}

/* --- merges: add, multiply, average ------------------------------------------------ */

/* y[i, p] = sum (product, mean) over inputs k of x_k[i, position_k[p]],
 * an input of size 1 along an axis repeated along it */
static void merge_forward(engine *e, op *o, int m, int training) {
  (void) training;
  double *y = OUT(o)->value;
  R_xlen_t width = OUT(o)->width;
  for (R_xlen_t p = 0; p < width; p++) {
    double *yp = y + p * m;
    const double *x0 = IN(o, 0)->value + (R_xlen_t) o->position[p] * m;
    memcpy(yp, x0, (size_t) m * sizeof(double));
    for (int k = 1; k < o->n_in; k++) {
      const double *xk = IN(o, k)->value + (R_xlen_t) o->position[k * width + p] * m;
      if (o->merge == MERGE_MULTIPLY) {
        for (int i = 0; i < m; i++) yp[i] *= xk[i];
      } else {
        for (int i = 0; i < m; i++) yp[i] += xk[i];
      }
    }
    if (o->merge == MERGE_AVERAGE)
      for (int i = 0; i < m; i++) yp[i] /= o->n_in;
  }
  if (o->single) round_to_float(y, (R_xlen_t) m * width);
}

/* dx_k[i, position_k[p]] += dy[i, p] times the other inputs' product
 * (multiply) or 1 / n (average) */
static void merge_backward(engine *e, op *o, int m) {
  const double *dy = OUT(o)->grad;
  R_xlen_t width = OUT(o)->width;
  for (int k = 0; k < o->n_in; k++) {
    double *slot_grad;
    int add;
    double *dx = grad_target(e, o, k, &slot_grad, &add);
    if (!dx) continue;
    R_xlen_t n = (R_xlen_t) m * IN(o, k)->width;
    /* an input repeated along an axis gathers several terms: from zero */
    memset(dx, 0, n * sizeof(double));
    for (R_xlen_t p = 0; p < width; p++) {
      double *dq = dx + (R_xlen_t) o->position[k * width + p] * m;
      const double *gp = dy + p * m;
      if (o->merge == MERGE_MULTIPLY) {
        for (int i = 0; i < m; i++) {
          double others = gp[i];
          for (int j = 0; j < o->n_in; j++)
            if (j != k) others *= IN(o, j)->value[(R_xlen_t) o->position[j * width + p] * m + i];
          dq[i] += others;
        }
      } else {
        double scale = o->merge == MERGE_AVERAGE ? 1.0 / o->n_in : 1.0;
        for (int i = 0; i < m; i++) dq[i] += gp[i] * scale;
      }
    }
    finish_grad(e, slot_grad, add, n);
  }
}

/* --- additive noise ---------------------------------------------------------------- */

/* In training with this step's noise (drawn in R): y = x + noise; dx = dy */
static void add_noise_forward(engine *e, op *o, int m, int training) {
  const slot *x = IN(o, 0);
  double *y = OUT(o)->value;
  R_xlen_t n = (R_xlen_t) m * x->width;
  if (training && o->mask) {
    for (R_xlen_t i = 0; i < n; i++) y[i] = x->value[i] + o->mask[i];
    if (o->single) round_to_float(y, n);
  } else {
    memcpy(y, x->value, n * sizeof(double));
  }
}

static void add_noise_backward(engine *e, op *o, int m) {
  double *slot_grad;
  int add;
  double *dx = grad_target(e, o, 0, &slot_grad, &add);
  if (!dx) return;
  R_xlen_t n = (R_xlen_t) m * IN(o, 0)->width;
  memcpy(dx, OUT(o)->grad, n * sizeof(double));
  finish_grad(e, slot_grad, add, n);
}

/* --- an R function ------------------------------------------------------------------ */

/* y = f(x), f an R function (an Activation layer given one): fun is
 * list(forward, backward); forward(x, m) checks and shapes what f gives
 * and returns m * width doubles; backward() signals that f has no gradient. */
static void r_function_forward(engine *e, op *o, int m, int training) {
  (void) training;
  const slot *x = IN(o, 0);
  R_xlen_t n = (R_xlen_t) m * x->width;
  SEXP v = PROTECT(Rf_allocVector(REALSXP, n));
  memcpy(REAL(v), x->value, n * sizeof(double));
  SEXP rows = PROTECT(Rf_ScalarInteger(m));
  SEXP call = PROTECT(Rf_lang3(VECTOR_ELT(o->fun, 0), v, rows));
  SEXP y = PROTECT(Rf_eval(call, R_GlobalEnv));
  if (TYPEOF(y) != REALSXP || XLENGTH(y) != n) Rf_error("internal error: an R function's op");
  memcpy(OUT(o)->value, REAL(y), n * sizeof(double));
  UNPROTECT(4);
}

static void r_function_backward(engine *e, op *o, int m) {
  (void) e;
  (void) m;
  SEXP call = PROTECT(Rf_lang1(VECTOR_ELT(o->fun, 1)));
  Rf_eval(call, R_GlobalEnv);
  UNPROTECT(1);
}

/* --- the table ---------------------------------------------------------------------- */

/* The ops with float32 kernels name them; the others run on a float32
 * engine through double copies (engine.c): they are rare in the networks
 * float32 is for, or (softmax, normalization) sum in double anyway. */
static const op_kind kinds[] = {
  {"dense", no_scratch, dense_forward, dense_backward, dense_forward_f32, dense_backward_f32},
  {"activation", no_scratch, activation_forward, activation_backward, activation_forward_f32,
   activation_backward_f32},
  {"softmax", softmax_scratch, softmax_forward, softmax_backward, softmax_forward_f32, NULL},
  {"prelu", no_scratch, prelu_forward, prelu_backward, NULL, NULL},
  {"dropout", no_scratch, dropout_forward, dropout_backward, NULL, NULL},
  {"alpha_dropout", no_scratch, alpha_dropout_forward, alpha_dropout_backward, NULL, NULL},
  {"batch_norm", batch_norm_scratch, batch_norm_forward, batch_norm_backward, NULL, NULL},
  {"layer_norm", layer_norm_scratch, layer_norm_forward, layer_norm_backward, NULL, NULL},
  {"r_function", no_scratch, r_function_forward, r_function_backward, NULL, NULL},
  {"embedding", no_scratch, embedding_forward, embedding_backward, NULL, NULL},
  {"gather", no_scratch, gather_forward, gather_backward, NULL, NULL},
  {"merge", no_scratch, merge_forward, merge_backward, NULL, NULL},
  {"add_noise", no_scratch, add_noise_forward, add_noise_backward, NULL, NULL},
};

const op_kind *find_op_kind(const char *name) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kinds[i].name, name) == 0) return &kinds[i];
  return NULL;
}
