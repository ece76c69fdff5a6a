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
 * accumulator; Nadam m, v; Adamax m, u; Adadelta accumulated_grad,
 * accumulated_delta_var; Ftrl accumulator, linear. */
int optimizer_slot_count(const optimizer_spec *o) {
  switch (o->kind) {
  case OPT_SGD: return o->momentum > 0;
  case OPT_ADAM: return 2 + (o->amsgrad != 0);
  case OPT_RMSPROP: return 1 + (o->momentum > 0) + (o->centered != 0);
  case OPT_ADAGRAD: return 1;
  default: return 2;
  }
}

/* Accumulators start at initial_accumulator_value, every other slot at 0. */
double optimizer_initial_slot(const optimizer_spec *o, int slot) {
  return (o->kind == OPT_ADAGRAD || o->kind == OPT_FTRL) && slot == 0 ? o->initial : 0;
}

/* Nadam's momentum schedule (Dozat 2016), at step t. */
static double nadam_u(const optimizer_spec *o, double t) {
  return o->beta_1 * (1 - 0.5 * pow(0.96, t));
}

/* What the weights of a step share: Nadam's product u_1 ... u_t, by one
 * factor from the last step's, or from the start after a jump (a new engine,
 * a step count loaded); the same product either way. */
void optimizer_begin_step(optimizer_spec *o, double step) {
  if (o->kind != OPT_NADAM || o->product_step == step) return;
  if (o->product_step == step - 1) {
    o->u_product *= nadam_u(o, step);
  } else {
    o->u_product = 1;
    /* once the product underflows to 0 it stays there */
    for (double t = 1; t <= step && o->u_product != 0; t++) o->u_product *= nadam_u(o, t);
  }
  o->product_step = step;
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

#if defined(SELU_X86_DISPATCH)
/* The same in float32, eight weights at a time. */
SELU_TARGET_AVX2 static R_xlen_t adam_avx2_f32(param *p, float lr, float alpha, float b1_,
                                               float b2_, float eps_, float wd, int has_decay,
                                               int *finite) {
  const __m256 b1 = _mm256_set1_ps(b1_), b2 = _mm256_set1_ps(b2_), eps = _mm256_set1_ps(eps_);
  const __m256 a = _mm256_set1_ps(alpha), decay = _mm256_set1_ps(wd), rate = _mm256_set1_ps(lr);
  __m256 bad = _mm256_setzero_ps();
  R_xlen_t i = 0;
  for (; i + 8 <= p->size; i += 8) {
    __m256 w = _mm256_loadu_ps(p->fw + i), g = _mm256_loadu_ps(p->fgrad + i);
    __m256 m = _mm256_loadu_ps(p->fopt[0] + i), v = _mm256_loadu_ps(p->fopt[1] + i);
    if (has_decay) w = _mm256_sub_ps(w, _mm256_mul_ps(_mm256_mul_ps(w, decay), rate));
    m = _mm256_add_ps(m, _mm256_mul_ps(_mm256_sub_ps(g, m), b1));
    v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(g, g), v), b2));
    __m256 step = _mm256_div_ps(_mm256_mul_ps(m, a), _mm256_add_ps(_mm256_sqrt_ps(v), eps));
    _mm256_storeu_ps(p->fopt_next[0] + i, m);
    _mm256_storeu_ps(p->fopt_next[1] + i, v);
    __m256 out = _mm256_sub_ps(w, step);
    _mm256_storeu_ps(p->fnext + i, out);
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_sub_ps(out, out), _mm256_setzero_ps(),
                                          _CMP_NEQ_UQ));
  }
  *finite = _mm256_movemask_ps(bad) == 0;
  return i;
}
#endif

/* A float32 engine's update for the rules that train most networks, in
 * float32 arithmetic as keras's float32 variables have it: SGD (with
 * momentum and Nesterov's) and Adam (AdamW) without amsgrad. The step's
 * scalars (Adam's bias-corrected rate) are worked out in double and rounded
 * once. */
int update_param_f32(const optimizer_spec *o, param *p, double lr_, double step) {
  if (!(o->kind == OPT_SGD || (o->kind == OPT_ADAM && !o->amsgrad))) return -1;
  const R_xlen_t n = p->size;
  const float *restrict w0 = p->fw, *restrict g = p->fgrad;
  float *restrict out = p->fnext;
  const float lr = (float) lr_, wd = (float) o->weight_decay;
  const int decay = !ISNAN(o->weight_decay);
  R_xlen_t i = 0; /* the weights Adam's vector loop made, checked there */
#define WF(i) (decay ? w0[i] - w0[i] * wd * lr : w0[i])
  if (o->kind == OPT_SGD) {
    if (o->momentum <= 0) {
      for (R_xlen_t j = 0; j < n; j++) out[j] = WF(j) - g[j] * lr;
    } else {
      const float *restrict m0 = p->fopt[0];
      float *restrict m1 = p->fopt_next[0];
      const float mu = (float) o->momentum;
      for (R_xlen_t j = 0; j < n; j++) {
        float m = -g[j] * lr + m0[j] * mu;
        m1[j] = m;
        out[j] = o->nesterov ? WF(j) + (-g[j] * lr + m * mu) : WF(j) + m;
      }
    }
  } else {
    const float alpha =
        (float) (lr_ * sqrt(1 - pow(o->beta_2, step)) / (1 - pow(o->beta_1, step)));
    const float b1 = (float) (1 - o->beta_1), b2 = (float) (1 - o->beta_2);
    const float eps = (float) o->epsilon;
    const float *restrict m0 = p->fopt[0], *restrict v0 = p->fopt[1];
    float *restrict m1 = p->fopt_next[0], *restrict v1 = p->fopt_next[1];
#if defined(SELU_X86_DISPATCH)
    if (selu_isa_in_use >= ISA_AVX2) {
      int finite;
      i = adam_avx2_f32(p, lr, alpha, b1, b2, eps, wd, decay, &finite);
      if (!finite) return 0;
    }
#endif
    for (R_xlen_t j = i; j < n; j++) {
      float m = m0[j] + (g[j] - m0[j]) * b1, v = v0[j] + (g[j] * g[j] - v0[j]) * b2;
      m1[j] = m;
      v1[j] = v;
      out[j] = WF(j) - (m * alpha) / (sqrtf(v) + eps);
    }
  }
#undef WF
  int finite = 1;
  for (R_xlen_t j = i; j < n; j++) finite &= out[j] - out[j] == 0;
  return finite;
}

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
  case OPT_ADAGRAD: {
    const double *restrict a0 = p->opt[0];
    double *restrict a1 = p->opt_next[0];
    double eps = o->epsilon;
    for (R_xlen_t i = 0; i < n; i++) {
      double accumulator = a0[i] + g[i] * g[i];
      a1[i] = accumulator;
      out[i] = W(i) - lr * g[i] / sqrt(accumulator + eps);
    }
    break;
  }
  case OPT_NADAM: {
    /* m_hat = u_{t+1} m / (1 - P_{t+1}) + (1 - u_t) g / (1 - P_t), with P_t
     * the product u_1 ... u_t (optimizer_begin_step()) */
    double u = nadam_u(o, step), u_next = nadam_u(o, step + 1);
    double product = o->u_product, product_next = product * u_next;
    double b1 = 1 - o->beta_1, b2 = 1 - o->beta_2, correction = 1 - pow(o->beta_2, step);
    double eps = o->epsilon;
    const double *restrict m0 = p->opt[0], *restrict v0 = p->opt[1];
    double *restrict m1 = p->opt_next[0], *restrict v1 = p->opt_next[1];
    for (R_xlen_t i = 0; i < n; i++) {
      double m = m0[i] + (g[i] - m0[i]) * b1, v = v0[i] + (g[i] * g[i] - v0[i]) * b2;
      m1[i] = m;
      v1[i] = v;
      double m_hat = u_next * m / (1 - product_next) + (1 - u) * g[i] / (1 - product);
      out[i] = W(i) - (m_hat * lr) / (sqrt(v / correction) + eps);
    }
    break;
  }
  case OPT_ADAMAX: {
    /* u, the decayed infinity norm: max(beta_2 u, |g|), NaN kept */
    double b1 = 1 - o->beta_1, b2 = o->beta_2, correction = 1 - pow(o->beta_1, step);
    double eps = o->epsilon;
    const double *restrict m0 = p->opt[0], *restrict u0 = p->opt[1];
    double *restrict m1 = p->opt_next[0], *restrict u1 = p->opt_next[1];
    for (R_xlen_t i = 0; i < n; i++) {
      double m = m0[i] + (g[i] - m0[i]) * b1, decayed = b2 * u0[i], size = fabs(g[i]);
      double u = (ISNAN(decayed) || ISNAN(size)) ? NAN : (decayed > size ? decayed : size);
      m1[i] = m;
      u1[i] = u;
      out[i] = W(i) - (lr * m) / (correction * (u + eps));
    }
    break;
  }
  case OPT_ADADELTA: {
    double rho = o->rho, eps = o->epsilon;
    const double *restrict a0 = p->opt[0], *restrict d0 = p->opt[1];
    double *restrict a1 = p->opt_next[0], *restrict d1 = p->opt_next[1];
    for (R_xlen_t i = 0; i < n; i++) {
      double accumulated = rho * a0[i] + (1 - rho) * g[i] * g[i];
      double delta = -sqrt(d0[i] + eps) * g[i] / sqrt(accumulated + eps);
      a1[i] = accumulated;
      d1[i] = rho * d0[i] + (1 - rho) * delta * delta;
      out[i] = W(i) + lr * delta;
    }
    break;
  }
  default: { /* Ftrl (McMahan et al. 2013): the weight is solved from the linear term */
    double power = -o->lr_power, l1 = o->l1, shrinkage = o->l2_shrinkage;
    double l2 = o->l2 + o->beta / (2 * lr);
    const double *restrict n0 = p->opt[0], *restrict z0 = p->opt[1];
    double *restrict n1 = p->opt_next[0], *restrict z1 = p->opt_next[1];
    for (R_xlen_t i = 0; i < n; i++) {
      double w = W(i), accumulator = n0[i] + g[i] * g[i], scaled = pow(accumulator, power);
      double z = z0[i] + ((g[i] + 2 * shrinkage * w) - (scaled - pow(n0[i], power)) / lr * w);
      double clipped = z < -l1 ? -l1 : (z > l1 ? l1 : z);
      n1[i] = accumulator;
      z1[i] = z;
      out[i] = (clipped - z) / (scaled / lr + 2 * l2);
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

/* n doubles of R_alloc()'s memory, at least one. */
static double *doubles(R_xlen_t n) {
  void *memory = R_alloc(n > 0 ? (size_t) n : 1, sizeof(double));
  return memory;
}

/* One optimizer step on weights given as lists (R/optimizers.R's
 * optimizer_apply()): spec as R/program.R gives an optimizer, the weights,
 * their gradients, the slots (a list per slot of lists per weight, NULL for
 * one not made yet), the step count before this step and the learning
 * rate. list(new weights, new slots), the slots as given. */
SEXP selu_optimizer_step(SEXP spec, SEXP weights, SEXP grads, SEXP slots, SEXP iterations,
                         SEXP lr) {
  if (TYPEOF(spec) != VECSXP || TYPEOF(weights) != VECSXP || TYPEOF(grads) != VECSXP ||
      XLENGTH(grads) != XLENGTH(weights) || TYPEOF(slots) != VECSXP ||
      TYPEOF(iterations) != REALSXP || XLENGTH(iterations) != 1 || TYPEOF(lr) != REALSXP ||
      XLENGTH(lr) != 1)
    Rf_error("internal error: selu_optimizer_step's arguments");
  optimizer_spec o;
  read_optimizer(spec, &o);
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
    p->grad = doubles(p->size);
    memcpy(p->grad, REAL(g), p->size * sizeof(double));
    SEXP next = Rf_allocVector(REALSXP, p->size);
    SET_VECTOR_ELT(new_weights, k, next);
    p->next = REAL(next);
    for (int j = 0; j < o.n_slots; j++) {
      SEXP given = VECTOR_ELT(slots, j);
      SEXP kept = TYPEOF(given) == VECSXP && XLENGTH(given) == n ? VECTOR_ELT(given, k) : R_NilValue;
      p->opt[j] = doubles(p->size);
      if (kept == R_NilValue) {
        double initial = optimizer_initial_slot(&o, j);
        for (R_xlen_t i = 0; i < p->size; i++) p->opt[j][i] = initial;
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
  double step = REAL(iterations)[0] + 1;
  optimizer_begin_step(&o, step);
  for (int k = 0; k < n; k++) update_param(&o, &params[k], REAL(lr)[0], step);
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
  p.c_norm = doubles(p.c_groups);
  SEXP out = PROTECT(Rf_duplicate(w));
  apply_constraint(&p, REAL(out));
  UNPROTECT(1);
  return out;
}
