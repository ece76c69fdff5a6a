/* The losses, as keras 2.x computes them. A sample's loss is the mean of its
 * elements' (or, for the categorical losses, of its class rows') losses; the
 * batch's loss is sum(w * per-sample loss) / rows. The gradient is for the
 * predictions, or for the logits when the loss takes them (from_logits, or
 * fused with a softmax or sigmoid output). */
#include "engine.h"
#include <math.h>

/* keras' backend epsilon: cross-entropies clip probabilities to [eps, 1 - eps]. */
#define LOSS_EPSILON 1e-7

static double clip_probability(double p) {
  return p < LOSS_EPSILON ? LOSS_EPSILON : (p > 1 - LOSS_EPSILON ? 1 - LOSS_EPSILON : p);
}

/* Where clipping lets the gradient through (tf.clip_by_value, bounds included). */
static double inside_clip(double p) {
  return p >= LOSS_EPSILON && p <= 1 - LOSS_EPSILON;
}

static double sign(double x) {
  return (x > 0) - (x < 0);
}

/* One element's loss and its gradient: squared, absolute, Huber, binary
 * cross-entropy (y already smoothed). */
static double element_loss(const loss_spec *s, int logits, double y, double p, double *g) {
  switch (s->kind) {
  case LOSS_MSE:
    *g = 2 * (p - y);
    return (p - y) * (p - y);
  case LOSS_MAE:
    *g = sign(p - y);
    return fabs(p - y);
  case LOSS_HUBER: {
    double x = p - y;
    if (fabs(x) <= s->delta) {
      *g = x;
      return 0.5 * x * x;
    }
    *g = s->delta * sign(x);
    return s->delta * fabs(x) - 0.5 * s->delta * s->delta;
  }
  default: /* binary cross-entropy */
    if (logits) {
      /* log(1 + exp(-|z|)) never overflows */
      *g = 1 / (1 + exp(-p)) - y;
      return (p > 0 ? p : 0) - p * y + log1p(exp(-fabs(p)));
    } else {
      double c = clip_probability(p);
      *g = (-y / c + (1 - y) / (1 - c)) * inside_clip(p);
      return -(y * log(c) + (1 - y) * log1p(-c));
    }
  }
}

/* One class row (`classes` elements `step` apart) of a categorical loss:
 * its loss, and the gradient into g (the same layout, scaled) unless NULL.
 * y is the row's one-hot targets, smoothed here (y (1 - smooth) +
 * smooth / classes), or NULL with `target` the class. */
static double class_row_loss(int logits, const double *p, const double *y, double smooth,
                             int target, R_xlen_t step, int classes, double scale, double *g) {
#define Y(c) (y[(c) * step] * (1 - smooth) + smooth / classes)
  double loss = 0;
  if (logits) {
    double mx = p[0];
    for (int c = 1; c < classes; c++)
      if (p[c * step] > mx) mx = p[c * step];
    double total = 0, ysum = 0;
    for (int c = 0; c < classes; c++) total += exp(p[c * step] - mx);
    double lse = log(total > 0 ? total : 1); /* total >= 1: the largest term is exp(0) */
    for (int c = 0; c < classes; c++) {
      double log_p = (p[c * step] - mx) - lse;
      if (y) {
        loss -= Y(c) * log_p;
        ysum += Y(c);
      } else if (c == target) {
        loss = -log_p;
      }
    }
    if (g) {
      for (int c = 0; c < classes; c++) {
        double prob = exp((p[c * step] - mx) - lse);
        g[c * step] = (y ? prob * ysum - Y(c) : prob - (c == target)) * scale;
      }
    }
    return loss;
  }
  if (!y) {
    /* keras clips, then normalizes the clipped row to sum 1 */
    double total = 0;
    for (int c = 0; c < classes; c++) total += clip_probability(p[c * step]);
    double pt = clip_probability(p[target * step]);
    if (g) {
      for (int c = 0; c < classes; c++) {
        double v = 1 / total - (c == target ? 1 / pt : 0);
        g[c * step] = v * inside_clip(p[c * step]) * scale;
      }
    }
    return -log(pt) + log(total);
  }
  /* keras normalizes each row to sum 1, then clips */
  double total = 0, dot = 0;
  for (int c = 0; c < classes; c++) total += p[c * step];
  for (int c = 0; c < classes; c++) {
    double q = p[c * step] / total, cq = clip_probability(q);
    loss -= Y(c) * log(cq);
    dot += -Y(c) / cq * inside_clip(q) * q;
  }
  if (g) {
    for (int c = 0; c < classes; c++) {
      double q = p[c * step] / total, cq = clip_probability(q);
      g[c * step] = (-Y(c) / cq * inside_clip(q) - dot) / total * scale;
    }
  }
  return loss;
#undef Y
}

double loss_rows(const loss_spec *s, const double *y, const int *classes, const double *p,
                 int rows, R_xlen_t width, const double *w, double scale, double *grad,
                 double *per_row) {
  int logits = s->from_logits || s->fused;
  double total = 0;
  if (s->kind == LOSS_CCE || s->kind == LOSS_SCCE) {
    /* per row, `positions` class rows of C classes: class c of position q
     * of row i at i + rows (q + positions c) */
    int C = s->classes, sparse = s->kind == LOSS_SCCE;
    R_xlen_t positions = width / C, step = (R_xlen_t) rows * positions;
    double smooth = sparse ? 0 : s->label_smoothing;
    for (int i = 0; i < rows; i++) {
      double sample = 0, row_scale = w[i] / ((double) rows * positions) * scale;
      for (R_xlen_t q = 0; q < positions; q++) {
        R_xlen_t at = i + (R_xlen_t) rows * q;
        sample += class_row_loss(logits, p + at, sparse ? NULL : y + at, smooth,
                                 sparse ? classes[at] : 0, step, C, row_scale,
                                 grad ? grad + at : NULL);
      }
      sample /= positions;
      if (per_row) per_row[i] = sample;
      total += w[i] * sample;
    }
    return total / rows;
  }
  double smooth = s->kind == LOSS_BCE ? s->label_smoothing : 0;
  for (int i = 0; i < rows; i++) {
    double sample = 0, row_scale = w[i] / ((double) rows * width) * scale;
    for (R_xlen_t q = 0; q < width; q++) {
      R_xlen_t at = i + (R_xlen_t) rows * q;
      double yv = smooth != 0 ? y[at] * (1 - smooth) + 0.5 * smooth : y[at], g;
      sample += element_loss(s, logits, yv, p[at], &g);
      if (grad) grad[at] = g * row_scale;
    }
    sample /= width;
    if (per_row) per_row[i] = sample;
    total += w[i] * sample;
  }
  return total / rows;
}

/* A loss (spec as R/program.R gives a loss) of predictions y_pred (n rows,
 * of `width` each) against y_true (doubles of the same size, or the
 * classes of a sparse loss), with row weights or NULL: list(value, each
 * row's loss, and with `want_grad` the gradient for y_pred). */
SEXP selu_loss(SEXP spec, SEXP y_true, SEXP y_pred, SEXP rows_, SEXP sample_weight,
               SEXP want_grad) {
  loss_spec s = {0};
  s.kind = Rf_asInteger(VECTOR_ELT(spec, 0));
  s.from_logits = Rf_asLogical(VECTOR_ELT(spec, 1)) == TRUE;
  s.fused = Rf_asLogical(VECTOR_ELT(spec, 2)) == TRUE;
  s.label_smoothing = Rf_asReal(VECTOR_ELT(spec, 3));
  s.delta = Rf_asReal(VECTOR_ELT(spec, 4));
  s.classes = Rf_asInteger(VECTOR_ELT(spec, 5));
  s.weight = 1;
  int rows = Rf_asInteger(rows_);
  if (TYPEOF(spec) != VECSXP || XLENGTH(spec) != 6 || s.kind < LOSS_MSE || s.kind > LOSS_SCCE ||
      s.classes < 1 || rows < 1 || TYPEOF(y_pred) != REALSXP || XLENGTH(y_pred) % rows != 0 ||
      !is_flag(want_grad))
    Rf_error("internal error: selu_loss's arguments");
  R_xlen_t width = XLENGTH(y_pred) / rows;
  int sparse = s.kind == LOSS_SCCE;
  if ((sparse && (TYPEOF(y_true) != INTSXP || width % s.classes != 0 ||
                  XLENGTH(y_true) != (R_xlen_t) rows * (width / s.classes))) ||
      (!sparse && (TYPEOF(y_true) != REALSXP || XLENGTH(y_true) != XLENGTH(y_pred))) ||
      (sample_weight != R_NilValue &&
       (TYPEOF(sample_weight) != REALSXP || XLENGTH(sample_weight) != rows)))
    Rf_error("internal error: selu_loss's arguments");
  if (sparse)
    for (R_xlen_t i = 0; i < XLENGTH(y_true); i++)
      if (INTEGER(y_true)[i] < 0 || INTEGER(y_true)[i] >= s.classes)
        Rf_error("internal error: a class outside the predictions");
  const double *w;
  if (sample_weight == R_NilValue) {
    double *ones = (void *) R_alloc(rows, sizeof(double));
    for (int i = 0; i < rows; i++) ones[i] = 1;
    w = ones;
  } else {
    w = REAL(sample_weight);
  }
  SEXP per_row = PROTECT(Rf_allocVector(REALSXP, rows));
  SEXP grad = PROTECT(LOGICAL(want_grad)[0] ? Rf_allocVector(REALSXP, XLENGTH(y_pred)) : R_NilValue);
  double value = loss_rows(&s, sparse ? NULL : REAL(y_true), sparse ? INTEGER(y_true) : NULL,
                           REAL(y_pred), rows, width, w, 1, grad == R_NilValue ? NULL : REAL(grad),
                           REAL(per_row));
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(value));
  SET_VECTOR_ELT(out, 1, per_row);
  SET_VECTOR_ELT(out, 2, grad);
  UNPROTECT(3);
  return out;
}
