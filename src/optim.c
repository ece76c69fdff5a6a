/* The optimizers' update rules, as keras >= 2.11 computes them (the "new"
 * optimizers of tf.keras.optimizers), gradient clipping, the regularizers'
 * penalties and the constraints. */
#include "engine.h"
#include <math.h>
#include <string.h>

/* keras' backend epsilon, which keeps a zero norm from dividing by 0. */
#define NORM_EPSILON 1e-7

/* The slot variables each rule keeps per weight, in the order R/optimizers.R
 * names them: SGD m (with momentum); Adam m, v, vhat (amsgrad); RMSprop
 * velocity, momentum (with momentum), average_gradient (centered); Adagrad
 * accumulator. */
int optimizer_slot_count(const optimizer_spec *o) {
  switch (o->kind) {
  case OPT_SGD: return o->momentum > 0;
  case OPT_ADAM: return 2 + (o->amsgrad != 0);
  case OPT_RMSPROP: return 1 + (o->momentum > 0) + (o->centered != 0);
  default: return 1;
  }
}

double optimizer_initial_slot(const optimizer_spec *o) {
  return o->kind == OPT_ADAGRAD ? o->initial : 0;
}

static double sum_of_squares(const double *g, R_xlen_t n) {
  double s = 0;
  SIMD_SUM(s) for (R_xlen_t i = 0; i < n; i++) s += g[i] * g[i];
  return s;
}

/* keras' _clip_gradients(): clipnorm per weight, global_clipnorm over all,
 * or clipvalue per element. */
void clip_gradients(const optimizer_spec *o, param *params, int n) {
  double c = o->clip_value;
  if (o->clip == CLIP_NORM) {
    for (int k = 0; k < n; k++) {
      param *p = &params[k];
      if (!p->trainable) continue;
      double norm = sqrt(sum_of_squares(p->grad, p->size)), scale = c / (norm > c ? norm : c);
      for (R_xlen_t i = 0; i < p->size; i++) p->grad[i] *= scale;
    }
  } else if (o->clip == CLIP_GLOBAL) {
    double total = 0;
    for (int k = 0; k < n; k++)
      if (params[k].trainable) total += sum_of_squares(params[k].grad, params[k].size);
    /* c / max(norm, c) is exactly 1 within the bound; a norm that is not
     * finite gives NaN, as in tf */
    double norm = sqrt(total), scale = c / (norm > c ? norm : c) + (norm - norm);
    for (int k = 0; k < n; k++) {
      param *p = &params[k];
      if (!p->trainable) continue;
      for (R_xlen_t i = 0; i < p->size; i++) p->grad[i] *= scale;
    }
  } else if (o->clip == CLIP_VALUE) {
    for (int k = 0; k < n; k++) {
      param *p = &params[k];
      if (!p->trainable) continue;
      for (R_xlen_t i = 0; i < p->size; i++) {
        double v = p->grad[i];
        v = v < -c ? -c : v;
        p->grad[i] = v > c ? c : v;
      }
    }
  }
}

#if defined(SELU_X86_DISPATCH)
#include <immintrin.h>
/* Adam without amsgrad, four weights at a time: R's build cannot vectorize
 * the square root (errno), so it is spelled out. Returns the count done,
 * the rest left to update_param(); *finite 0 if a new weight is not. */
SELU_TARGET_AVX2 static R_xlen_t adam_avx2(const optimizer_spec *o, param *p, double lr,
                                           double alpha, int *finite) {
  const __m256d b1 = _mm256_set1_pd(1 - o->beta_1), b2 = _mm256_set1_pd(1 - o->beta_2);
  const __m256d eps = _mm256_set1_pd(o->epsilon), a = _mm256_set1_pd(alpha);
  const __m256d decay = _mm256_set1_pd(o->weight_decay), rate = _mm256_set1_pd(lr);
  const int has_decay = !ISNAN(o->weight_decay);
  __m256d bad = _mm256_setzero_pd();
  R_xlen_t i = 0;
  for (; i + 4 <= p->size; i += 4) {
    __m256d w = _mm256_loadu_pd(p->w + i), g = _mm256_loadu_pd(p->grad + i);
    __m256d m = _mm256_loadu_pd(p->opt[0] + i), v = _mm256_loadu_pd(p->opt[1] + i);
    if (has_decay) w = _mm256_sub_pd(w, _mm256_mul_pd(_mm256_mul_pd(w, decay), rate));
    m = _mm256_add_pd(m, _mm256_mul_pd(_mm256_sub_pd(g, m), b1));
    v = _mm256_add_pd(v, _mm256_mul_pd(_mm256_sub_pd(_mm256_mul_pd(g, g), v), b2));
    __m256d step = _mm256_div_pd(_mm256_mul_pd(m, a), _mm256_add_pd(_mm256_sqrt_pd(v), eps));
    _mm256_storeu_pd(p->opt_next[0] + i, m);
    _mm256_storeu_pd(p->opt_next[1] + i, v);
    __m256d out = _mm256_sub_pd(w, step);
    _mm256_storeu_pd(p->next + i, out);
    /* out - out is 0 unless out is infinite or NaN */
    bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(out, out), _mm256_setzero_pd(),
                                          _CMP_NEQ_UQ));
  }
  *finite = _mm256_movemask_pd(bad) == 0;
  return i;
}
#endif

/* One weight's update from its gradient into p->next and p->opt_next, at
 * step `step` (iterations + 1); 0 if a new weight is not finite. A loop per
 * rule. */
int update_param(const optimizer_spec *o, param *p, double lr, double step) {
  const R_xlen_t n = p->size;
  R_xlen_t checked = 0; /* the weights already found finite */
  const double *restrict w0 = p->w, *restrict g = p->grad;
  double *restrict out = p->next;
  /* weight decay first: w - w * decay * lr */
  double wd = o->weight_decay;
  int decay = !ISNAN(wd);
#define W(i) (decay ? w0[i] - w0[i] * wd * lr : w0[i])
  switch (o->kind) {
  case OPT_SGD:
    if (o->momentum <= 0) {
      for (R_xlen_t i = 0; i < n; i++) out[i] = W(i) - g[i] * lr;
    } else {
      const double *restrict m0 = p->opt[0];
      double *restrict m1 = p->opt_next[0];
      double mu = o->momentum;
      for (R_xlen_t i = 0; i < n; i++) {
        double m = -g[i] * lr + m0[i] * mu;
        m1[i] = m;
        out[i] = o->nesterov ? W(i) + (-g[i] * lr + m * mu) : W(i) + m;
      }
    }
    break;
  case OPT_ADAM: {
    double alpha = lr * sqrt(1 - pow(o->beta_2, step)) / (1 - pow(o->beta_1, step));
    double b1 = 1 - o->beta_1, b2 = 1 - o->beta_2, eps = o->epsilon;
    const double *restrict m0 = p->opt[0], *restrict v0 = p->opt[1];
    double *restrict m1 = p->opt_next[0], *restrict v1 = p->opt_next[1];
    if (!o->amsgrad) {
      R_xlen_t i = 0;
#if defined(SELU_X86_DISPATCH)
      if (selu_isa_in_use >= ISA_AVX2) {
        int finite;
        i = adam_avx2(o, p, lr, alpha, &finite);
        checked = i;
        if (!finite) return 0;
      }
#endif
      for (; i < n; i++) {
        double m = m0[i] + (g[i] - m0[i]) * b1, v = v0[i] + (g[i] * g[i] - v0[i]) * b2;
        m1[i] = m;
        v1[i] = v;
        out[i] = W(i) - (m * alpha) / (sqrt(v) + eps);
      }
    } else {
      const double *restrict h0 = p->opt[2];
      double *restrict h1 = p->opt_next[2];
      for (R_xlen_t i = 0; i < n; i++) {
        double m = m0[i] + (g[i] - m0[i]) * b1, v = v0[i] + (g[i] * g[i] - v0[i]) * b2;
        double vhat = (ISNAN(h0[i]) || ISNAN(v)) ? NAN : (h0[i] > v ? h0[i] : v);
        m1[i] = m;
        v1[i] = v;
        h1[i] = vhat;
        out[i] = W(i) - (m * alpha) / (sqrt(vhat) + eps);
      }
    }
    break;
  }
  case OPT_RMSPROP: {
    double rho = o->rho, eps = o->epsilon, mu = o->momentum;
    int mom = mu > 0, at = mom ? 2 : 1;
    for (R_xlen_t i = 0; i < n; i++) {
      double velocity = rho * p->opt[0][i] + (1 - rho) * (g[i] * g[i]), denominator;
      p->opt_next[0][i] = velocity;
      if (o->centered) {
        double average = rho * p->opt[at][i] + (1 - rho) * g[i];
        p->opt_next[at][i] = average;
        denominator = velocity - average * average + eps;
      } else {
        denominator = velocity + eps;
      }
      double increment = lr * g[i] / sqrt(denominator);
      if (mom) {
        increment = mu * p->opt[1][i] + increment;
        p->opt_next[1][i] = increment;
      }
      out[i] = W(i) - increment;
    }
    break;
  }
  default: { /* Adagrad */
    const double *restrict a0 = p->opt[0];
    double *restrict a1 = p->opt_next[0];
    double eps = o->epsilon;
    for (R_xlen_t i = 0; i < n; i++) {
      double accumulator = a0[i] + g[i] * g[i];
      a1[i] = accumulator;
      out[i] = W(i) - lr * g[i] / sqrt(accumulator + eps);
    }
  }
  }
#undef W
  /* out - out is 0 unless out is infinite or NaN */
  double bad = 0;
  SIMD_SUM(bad) for (R_xlen_t i = checked; i < n; i++) bad += out[i] - out[i];
  return bad == 0;
}


/* l1 sum(|w|) + l2 sum(w^2); as keras, a term of factor 0 is left out (so
 * that infinite weights do not give 0 * Inf). */
double penalty_value(const param *p, const double *w) {
  double l1 = 0, l2 = 0;
  SIMD_SUM(l1, l2) for (R_xlen_t i = 0; i < p->size; i++) {
    l1 += fabs(w[i]);
    l2 += w[i] * w[i];
  }
  return (p->l1 != 0 ? p->l1 * l1 : 0) + (p->l2 != 0 ? p->l2 * l2 : 0);
}

/* Adds the penalty's gradient, l1 sign(w) + 2 l2 w, to the weight's. */
void penalty_gradient(const param *p) {
  SIMD_LOOP for (R_xlen_t i = 0; i < p->size; i++) {
    double w = p->w[i];
    p->grad[i] += (p->l1 != 0 ? p->l1 * ((w > 0) - (w < 0)) : 0) + (p->l2 != 0 ? 2 * p->l2 * w : 0);
  }
}

/* The constraint's projection of w, in place: the norms are over the
 * elements of each group (the constraint's axes; one group without). */
void apply_constraint(param *p, double *w) {
  if (p->constraint == CONSTRAINT_NON_NEG) {
    for (R_xlen_t i = 0; i < p->size; i++)
      if (w[i] < 0) w[i] = 0;
    return;
  }
  double *norm = p->c_norm;
  memset(norm, 0, (size_t) p->c_groups * sizeof(double));
  for (R_xlen_t i = 0; i < p->size; i++) norm[p->c_group ? p->c_group[i] : 0] += w[i] * w[i];
  for (int g = 0; g < p->c_groups; g++) {
    double n = sqrt(norm[g]), desired;
    switch (p->constraint) {
    case CONSTRAINT_MAX_NORM:
      desired = n < p->c_max ? n : p->c_max;
      break;
    case CONSTRAINT_UNIT_NORM:
      desired = 1;
      break;
    default: { /* min-max norm */
      double clamped = n < p->c_min ? p->c_min : (n > p->c_max ? p->c_max : n);
      desired = p->c_rate * clamped + (1 - p->c_rate) * n;
    }
    }
    norm[g] = desired / (NORM_EPSILON + n);
  }
  for (R_xlen_t i = 0; i < p->size; i++) w[i] *= norm[p->c_group ? p->c_group[i] : 0];
}

/* One optimizer step on weights given as lists (R/optimizers.R's
 * optimizer_apply()): spec as R/program.R gives an optimizer, the weights,
 * their gradients, the slots (a list per slot of lists per weight, NULL for
 * one not made yet), the step count before this step and the learning
 * rate. list(new weights, new slots), the slots as given. */
SEXP selu_optimizer_step(SEXP spec, SEXP weights, SEXP grads, SEXP slots, SEXP iterations,
                         SEXP lr) {
  optimizer_spec o;
  memset(&o, 0, sizeof o);
  SEXP names = Rf_getAttrib(spec, R_NamesSymbol);
  if (TYPEOF(spec) != VECSXP || TYPEOF(names) != STRSXP || TYPEOF(weights) != VECSXP ||
      TYPEOF(grads) != VECSXP || XLENGTH(grads) != XLENGTH(weights) || TYPEOF(slots) != VECSXP ||
      TYPEOF(iterations) != REALSXP || XLENGTH(iterations) != 1 || TYPEOF(lr) != REALSXP ||
      XLENGTH(lr) != 1)
    Rf_error("internal error: selu_optimizer_step's arguments");
  o.beta_1 = 0.9, o.beta_2 = 0.999, o.epsilon = 1e-7, o.rho = 0.9, o.weight_decay = NA_REAL;
  for (R_xlen_t i = 0; i < XLENGTH(spec); i++) {
    const char *key = CHAR(STRING_ELT(names, i));
    double v = Rf_asReal(VECTOR_ELT(spec, i));
    if (!strcmp(key, "kind")) o.kind = (int) v;
    else if (!strcmp(key, "clip")) o.clip = (int) v;
    else if (!strcmp(key, "clip_value")) o.clip_value = v;
    else if (!strcmp(key, "weight_decay")) o.weight_decay = v;
    else if (!strcmp(key, "beta_1")) o.beta_1 = v;
    else if (!strcmp(key, "beta_2")) o.beta_2 = v;
    else if (!strcmp(key, "epsilon")) o.epsilon = v;
    else if (!strcmp(key, "amsgrad")) o.amsgrad = v != 0;
    else if (!strcmp(key, "momentum")) o.momentum = v;
    else if (!strcmp(key, "nesterov")) o.nesterov = v != 0;
    else if (!strcmp(key, "rho")) o.rho = v;
    else if (!strcmp(key, "centered")) o.centered = v != 0;
    else if (!strcmp(key, "initial_accumulator_value")) o.initial = v;
  }
  if (o.kind < OPT_SGD || o.kind > OPT_ADAGRAD || o.clip < CLIP_NONE || o.clip > CLIP_VALUE)
    Rf_error("internal error: selu_optimizer_step's spec");
  o.n_slots = optimizer_slot_count(&o);
  int n = (int) XLENGTH(weights);
  if (XLENGTH(slots) != o.n_slots) Rf_error("internal error: selu_optimizer_step's slots");
  param *params = (param *) R_alloc(n > 0 ? n : 1, sizeof(param));
  SEXP new_weights = PROTECT(Rf_allocVector(VECSXP, n));
  SEXP new_slots = PROTECT(Rf_allocVector(VECSXP, o.n_slots));
  for (int j = 0; j < o.n_slots; j++) SET_VECTOR_ELT(new_slots, j, Rf_allocVector(VECSXP, n));
  for (int k = 0; k < n; k++) {
    param *p = &params[k];
    memset(p, 0, sizeof *p);
    SEXP w = VECTOR_ELT(weights, k), g = VECTOR_ELT(grads, k);
    if (TYPEOF(w) != REALSXP || TYPEOF(g) != REALSXP || XLENGTH(g) != XLENGTH(w))
      Rf_error("internal error: selu_optimizer_step's weights");
    p->size = XLENGTH(w);
    p->trainable = 1;
    p->w = REAL(w);
    p->grad = (double *) R_alloc(p->size > 0 ? p->size : 1, sizeof(double));
    memcpy(p->grad, REAL(g), p->size * sizeof(double));
    SEXP next = Rf_allocVector(REALSXP, p->size);
    SET_VECTOR_ELT(new_weights, k, next);
    p->next = REAL(next);
    for (int j = 0; j < o.n_slots; j++) {
      SEXP given = VECTOR_ELT(slots, j);
      SEXP kept = TYPEOF(given) == VECSXP && XLENGTH(given) == n ? VECTOR_ELT(given, k) : R_NilValue;
      p->opt[j] = (double *) R_alloc(p->size > 0 ? p->size : 1, sizeof(double));
      if (kept == R_NilValue) {
        for (R_xlen_t i = 0; i < p->size; i++) p->opt[j][i] = optimizer_initial_slot(&o);
      } else if (TYPEOF(kept) == REALSXP && XLENGTH(kept) == p->size) {
        memcpy(p->opt[j], REAL(kept), p->size * sizeof(double));
      } else {
        Rf_error("internal error: selu_optimizer_step's slots");
      }
      SEXP out = Rf_allocVector(REALSXP, p->size);
      SET_VECTOR_ELT(VECTOR_ELT(new_slots, j), k, out);
      p->opt_next[j] = REAL(out);
    }
  }
  clip_gradients(&o, params, n);
  for (int k = 0; k < n; k++) update_param(&o, &params[k], REAL(lr)[0], REAL(iterations)[0] + 1);
  SEXP result = Rf_list2(new_weights, new_slots);
  UNPROTECT(2);
  return result;
}

/* A regularizer's penalty of w (its l1 and l2 factors), for the regularizer
 * objects users call; with `gradient`, the penalty's gradient instead. */
SEXP selu_penalty(SEXP factors, SEXP w, SEXP gradient) {
  if (TYPEOF(factors) != REALSXP || XLENGTH(factors) != 2 || TYPEOF(w) != REALSXP ||
      !is_flag(gradient))
    Rf_error("internal error: selu_penalty's arguments");
  param p;
  memset(&p, 0, sizeof p);
  p.size = XLENGTH(w);
  p.l1 = REAL(factors)[0];
  p.l2 = REAL(factors)[1];
  p.w = REAL(w);
  if (!LOGICAL(gradient)[0]) return Rf_ScalarReal(penalty_value(&p, p.w));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, p.size));
  memset(REAL(out), 0, p.size * sizeof(double));
  p.grad = REAL(out);
  penalty_gradient(&p);
  UNPROTECT(1);
  return out;
}

/* A constraint's projection of a copy of w (spec as R/program.R's
 * constraint_spec() gives it), for the constraint objects users call. */
SEXP selu_constrain(SEXP code, SEXP bounds, SEXP groups, SEXP n_groups, SEXP w) {
  if (TYPEOF(code) != INTSXP || XLENGTH(code) != 1 || TYPEOF(bounds) != REALSXP ||
      XLENGTH(bounds) != 3 || TYPEOF(w) != REALSXP ||
      (groups != R_NilValue && (TYPEOF(groups) != INTSXP || XLENGTH(groups) != XLENGTH(w))))
    Rf_error("internal error: selu_constrain's arguments");
  param p;
  memset(&p, 0, sizeof p);
  p.size = XLENGTH(w);
  p.constraint = INTEGER(code)[0];
  p.c_max = REAL(bounds)[0];
  p.c_min = REAL(bounds)[1];
  p.c_rate = REAL(bounds)[2];
  p.c_groups = Rf_asInteger(n_groups);
  if (p.c_groups < 1) Rf_error("internal error: selu_constrain's groups");
  p.c_group = groups == R_NilValue ? NULL : INTEGER(groups);
  for (R_xlen_t i = 0; p.c_group && i < p.size; i++)
    if (p.c_group[i] < 0 || p.c_group[i] >= p.c_groups) Rf_error("internal error: selu_constrain's groups");
  p.c_norm = (double *) R_alloc(p.c_groups, sizeof(double));
  SEXP out = PROTECT(Rf_duplicate(w));
  apply_constraint(&p, REAL(out));
  UNPROTECT(1);
  return out;
}
