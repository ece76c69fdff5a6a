/* The training step of a stack of dense layers in C: for one batch, the
 * forward pass, the loss and its gradient, the backward pass and the
 * optimizer's update of every weight, in one .Call (R/stack.R says which
 * models take it). A trainer keeps the weights, the optimizer's slots and
 * every buffer a batch needs, allocated once per fit(): a step allocates
 * nothing but the output it returns.
 *
 * The arithmetic is the R path's, term by term (R/training.R, R/losses.R,
 * R/optimizers.R), with sums in long double as R's sum(), rowSums() and
 * colSums() take them. An update is written into a second copy of the
 * weights and slots and committed by swapping the two only when every new
 * weight is finite, so that a step either happens whole or not at all (an
 * interrupt inside a kernel leaves the weights as they were). */
#define USE_FC_LEN_T
#include "dispatch.h"
#include "memory.h"
#include <R_ext/BLAS.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#ifndef FCONE
#define FCONE
#endif

enum { LOSS_MSE = 0, LOSS_BCE = 1, LOSS_CCE = 2, LOSS_SCCE = 3 };
enum { OPT_NONE = -1, OPT_SGD = 0, OPT_ADAM = 1, OPT_RMSPROP = 2, OPT_ADAGRAD = 3 };
enum { CLIP_NONE = 0, CLIP_NORM = 1, CLIP_GLOBAL = 2, CLIP_VALUE = 3 };
#define MAX_SLOTS 3

enum { DROP_NONE = 0, DROP_PLAIN = 1, DROP_ALPHA = 2 };

typedef struct {
  int inputs, units, bias, trainable;
  int dropout;         /* DROP_*: the dropout after the layer, in training */
  int linear, softmax; /* no activation (a is z); a softmax output */
  unary_loop forward;
  binary_loop backward;
  kernel_params params;
} layer_spec;

typedef struct {
  R_xlen_t size;
  int trainable;
  double *w, *next, *grad, *slot[MAX_SLOTS], *slot_next[MAX_SLOTS];
} param;

typedef struct {
  layer_spec spec;
  param *kernel, *bias;
  double *z, *a, *dz, *dx; /* rows x units, and dx rows x inputs */
  double *dropped;         /* the output after dropout, rows x units */
  double drop_a, drop_b;   /* alpha dropout's affine map */
  const double *mask;      /* this step's mask, or NULL (the layer's output is a) */
} layer;

typedef struct {
  int n_layers, n_params, max_rows, loss, optimizer, n_slots, clip, first_trainable;
  double hyper[4], weight_decay, clip_value, initial_slot, iterations;
  layer *layers;
  param *params;
  double *xb, *yb, *ga, *row_weight, *row_max; /* ga: MSE's gradient for a */
  int *classes;
} trainer;

/* --- the layers -------------------------------------------------------- */

/* layers: an integer matrix, a row per layer (inputs, units, use_bias,
 * trainable, dropout after it); activations: their names. Checked in R;
 * guarded here. */
static void read_layers(SEXP layers, SEXP activations, layer_spec *out, int n) {
  const int *m = INTEGER(layers);
  for (int l = 0; l < n; l++) {
    layer_spec *s = &out[l];
    memset(s, 0, sizeof *s);
    s->inputs = m[l];
    s->units = m[l + n];
    s->bias = m[l + 2 * n];
    s->trainable = m[l + 3 * n];
    s->dropout = m[l + 4 * n];
    const char *name = CHAR(STRING_ELT(activations, l));
    s->linear = strcmp(name, "linear") == 0;
    s->softmax = strcmp(name, "softmax") == 0;
    if (s->inputs <= 0 || s->units <= 0 || (l > 0 && s->inputs != out[l - 1].units) ||
        s->dropout < DROP_NONE || s->dropout > DROP_ALPHA || (s->dropout && l == n - 1) ||
        (s->softmax && l != n - 1) ||
        (!s->softmax && !activation_loops(name, &s->forward, &s->backward, &s->params)))
      Rf_error("internal error: a stack the C training step cannot take");
  }
}

static void check_layers(SEXP layers, SEXP activations) {
  SEXP dim = Rf_getAttrib(layers, R_DimSymbol);
  if (TYPEOF(layers) != INTSXP || XLENGTH(dim) != 2 || INTEGER(dim)[1] != 5 ||
      INTEGER(dim)[0] < 1 || TYPEOF(activations) != STRSXP ||
      XLENGTH(activations) != INTEGER(dim)[0])
    Rf_error("internal error: the C training step takes a layer matrix and activations");
}

/* z = x K + b (the bias written first, dgemm adding the product onto it),
 * then a = activation(z); x is rows x inputs with leading dimension ldx. */
static void dense_forward(const layer_spec *s, const double *kernel, const double *bias,
                          const double *x, int ldx, int rows, double *z, double *a) {
  double one = 1.0, beta = 0.0;
  int inputs = s->inputs, units = s->units;
  if (bias) {
    for (int j = 0; j < units; j++)
      for (int i = 0; i < rows; i++) z[i + (R_xlen_t) j * rows] = bias[j];
    beta = 1.0;
  }
  F77_CALL(dgemm)("N", "N", &rows, &units, &inputs, &one, x, &ldx, kernel, &inputs, &beta, z,
                  &rows FCONE FCONE);
  R_xlen_t n = (R_xlen_t) rows * units;
  if (s->softmax) softmax_rows(z, a, rows, units);
  else if (!s->linear) run_unary(s->forward, z, a, n, s->params);
}

/* x^T y and x y^T as R's crossprod() and tcrossprod() compute them (for
 * the R path's backward pass, R/layer-dense.R): dgemv where one side is a
 * single row or column, as R chooses, so that both paths run the same BLAS
 * routine on the same numbers. x is nrx x ncx, y has nry rows. */
static void crossprod(const double *x, int nrx, int ncx, const double *y, int ncy, double *z) {
  double one = 1.0, zero = 0.0;
  int ione = 1;
  if (ncy == 1)
    F77_CALL(dgemv)("T", &nrx, &ncx, &one, x, &nrx, y, &ione, &zero, z, &ione FCONE);
  else if (ncx == 1)
    F77_CALL(dgemv)("T", &nrx, &ncy, &one, y, &nrx, x, &ione, &zero, z, &ione FCONE);
  else
    F77_CALL(dgemm)("T", "N", &ncx, &ncy, &nrx, &one, x, &nrx, y, &nrx, &zero, z, &ncx FCONE
                    FCONE);
}

static void tcrossprod(const double *x, int nrx, int ncx, const double *y, int nry, double *z) {
  double one = 1.0, zero = 0.0;
  int ione = 1;
  if (nry == 1)
    F77_CALL(dgemv)("N", &nrx, &ncx, &one, x, &nrx, y, &ione, &zero, z, &ione FCONE);
  else if (nrx == 1)
    F77_CALL(dgemv)("N", &nry, &ncx, &one, y, &nry, x, &ione, &zero, z, &ione FCONE);
  else
    F77_CALL(dgemm)("N", "T", &nrx, &nry, &ncx, &one, x, &nrx, y, &nry, &zero, z, &nrx FCONE
                    FCONE);
}

/* --- the trainer ------------------------------------------------------- */

static trainer *trainer_of(SEXP ptr) {
  trainer *t = TYPEOF(ptr) == EXTPTRSXP ? R_ExternalPtrAddr(ptr) : NULL;
  if (!t) Rf_error("internal error: not a trainer (a saved session's trainers do not survive)");
  return t;
}

static int slot_count(int optimizer, const double *hyper) {
  switch (optimizer) {
  case OPT_SGD: return hyper[0] > 0;
  case OPT_ADAM: return 2 + (hyper[3] != 0);
  case OPT_RMSPROP: return 1 + (hyper[1] > 0) + (hyper[3] != 0);
  case OPT_ADAGRAD: return 1;
  default: return 0;
  }
}

/* A trainer for the stack, for batches of at most max_rows rows, with the
 * loss (LOSS_*) and optimizer (OPT_*) codes, the optimizer's numbers
 * (settings: its four own numbers as R/stack.R orders them, weight decay or
 * NA, the clipping rule and its bound) and alpha dropout's a and b for each
 * layer (a layers x 2 matrix). Its weights and slots are loaded with
 * selu_trainer_load(). */
SEXP selu_trainer_new(SEXP layers, SEXP activations, SEXP codes, SEXP settings, SEXP dropout) {
  check_layers(layers, activations);
  int n = INTEGER(Rf_getAttrib(layers, R_DimSymbol))[0];
  if (TYPEOF(codes) != INTSXP || XLENGTH(codes) != 4 || TYPEOF(settings) != REALSXP ||
      XLENGTH(settings) != 8 || TYPEOF(dropout) != REALSXP || XLENGTH(dropout) != 2 * n)
    Rf_error("internal error: selu_trainer_new's codes and settings");
  const int *c = INTEGER(codes);
  int max_rows = c[0], loss = c[1], optimizer = c[2], clip = c[3];
  const double *set = REAL(settings);
  if (max_rows < 1 || loss < LOSS_MSE || loss > LOSS_SCCE || optimizer < OPT_SGD ||
      optimizer > OPT_ADAGRAD || clip < CLIP_NONE || clip > CLIP_VALUE)
    Rf_error("internal error: selu_trainer_new's codes");

  /* the structures, in a raw vector; the doubles, in one arena */
  size_t head = sizeof(trainer) + n * sizeof(layer) + 2 * n * sizeof(param) +
                max_rows * sizeof(int);
  SEXP raw = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t) head));
  memset(RAW(raw), 0, head);
  trainer *t = (trainer *) RAW(raw);
  t->layers = (layer *) (t + 1);
  t->params = (param *) (t->layers + n);
  t->classes = (int *) (t->params + 2 * n);
  t->n_layers = n;
  t->max_rows = max_rows;
  t->loss = loss;
  t->optimizer = optimizer;
  t->clip = clip;
  memcpy(t->hyper, set, 4 * sizeof(double));
  t->weight_decay = set[4];
  t->clip_value = set[5];
  t->initial_slot = set[6];
  t->n_slots = slot_count(optimizer, t->hyper);
  t->first_trainable = n;

  layer_spec *specs = (layer_spec *) R_alloc(n, sizeof(layer_spec));
  read_layers(layers, activations, specs, n);
  const layer_spec *last = &specs[n - 1];
  if ((loss == LOSS_CCE || loss == LOSS_SCCE) != last->softmax ||
      (loss == LOSS_BCE && strcmp(CHAR(STRING_ELT(activations, n - 1)), "sigmoid") != 0))
    Rf_error("internal error: a loss that does not fit the output");

  double arena_size = 0;
  int np = 0;
  for (int l = 0; l < n; l++) {
    const layer_spec *s = &specs[l];
    double per = 3.0 + 2.0 * t->n_slots;
    arena_size += per * ((double) s->inputs * s->units + (s->bias ? s->units : 0));
    arena_size += (3.0 + (s->dropout != 0)) * max_rows * s->units +
                  (l > 0 ? (double) max_rows * s->inputs : 0);
    np += 1 + s->bias;
    if (s->trainable && l < t->first_trainable) t->first_trainable = l;
  }
  arena_size += (double) max_rows * (specs[0].inputs + 2.0 * last->units + 2);
  if (arena_size > (double) R_XLEN_T_MAX) Rf_error("internal error: a trainer too large");
  SEXP arena = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t) arena_size));
  double *next = REAL(arena);
#define TAKE(count) (next += (count), next - (count))
  t->n_params = np;
  param *p = t->params;
  for (int l = 0; l < n; l++) {
    layer *ly = &t->layers[l];
    ly->spec = specs[l];
    const layer_spec *s = &ly->spec;
    for (int k = 0; k < 1 + s->bias; k++, p++) {
      p->size = k == 0 ? (R_xlen_t) s->inputs * s->units : s->units;
      p->trainable = s->trainable;
      p->w = TAKE(p->size);
      p->next = TAKE(p->size);
      p->grad = TAKE(p->size);
      for (int j = 0; j < t->n_slots; j++) {
        p->slot[j] = TAKE(p->size);
        p->slot_next[j] = TAKE(p->size);
      }
      if (k == 0) ly->kernel = p;
      else ly->bias = p;
    }
    R_xlen_t out = (R_xlen_t) max_rows * s->units;
    ly->z = TAKE(out);
    ly->a = s->linear ? ly->z : TAKE(out);
    ly->dz = TAKE(out);
    ly->dx = l > 0 ? TAKE((R_xlen_t) max_rows * s->inputs) : NULL;
    ly->dropped = s->dropout ? TAKE(out) : NULL;
    ly->drop_a = REAL(dropout)[l];
    ly->drop_b = REAL(dropout)[l + n];
  }
  t->xb = TAKE((R_xlen_t) max_rows * specs[0].inputs);
  t->yb = TAKE((R_xlen_t) max_rows * last->units);
  t->row_weight = TAKE(max_rows);
  t->ga = TAKE((R_xlen_t) max_rows * last->units);
  t->row_max = TAKE(max_rows);
#undef TAKE
  SEXP keep = PROTECT(Rf_list2(raw, arena));
  SEXP ptr = R_MakeExternalPtr(t, R_NilValue, keep);
  UNPROTECT(3);
  return ptr;
}

/* Loads the weights (a list in the order of the stack, kernel then bias of
 * each layer) and, unless NULL, the slots (a list per slot of lists per
 * weight, NULL entries for slots not made yet) and the iteration count. */
SEXP selu_trainer_load(SEXP ptr, SEXP weights, SEXP slots, SEXP iterations) {
  trainer *t = trainer_of(ptr);
  int with_slots = slots != R_NilValue;
  if (TYPEOF(weights) != VECSXP || XLENGTH(weights) != t->n_params ||
      (with_slots && (TYPEOF(slots) != VECSXP || XLENGTH(slots) != t->n_slots ||
                      TYPEOF(iterations) != REALSXP || XLENGTH(iterations) != 1)))
    Rf_error("internal error: selu_trainer_load's arguments");
  for (int k = 0; k < t->n_params; k++) {
    param *p = &t->params[k];
    SEXP w = VECTOR_ELT(weights, k);
    if (TYPEOF(w) != REALSXP || XLENGTH(w) != p->size)
      Rf_error("internal error: a weight of the wrong size for the trainer");
    memcpy(p->w, REAL(w), p->size * sizeof(double));
    for (int j = 0; with_slots && j < t->n_slots; j++) {
      SEXP s = VECTOR_ELT(slots, j);
      SEXP v = TYPEOF(s) == VECSXP && XLENGTH(s) == t->n_params ? VECTOR_ELT(s, k) : R_NilValue;
      if (v == R_NilValue) {
        for (R_xlen_t i = 0; i < p->size; i++) p->slot[j][i] = t->initial_slot;
      } else if (TYPEOF(v) == REALSXP && XLENGTH(v) == p->size) {
        memcpy(p->slot[j], REAL(v), p->size * sizeof(double));
      } else {
        Rf_error("internal error: a slot of the wrong size for the trainer");
      }
    }
  }
  if (with_slots) t->iterations = REAL(iterations)[0];
  return R_NilValue;
}

/* The weights and, with `with_slots`, the slots and the iteration count,
 * as new vectors: list(weights, slots, iterations). */
SEXP selu_trainer_store(SEXP ptr, SEXP with_slots) {
  trainer *t = trainer_of(ptr);
  if (!is_flag(with_slots)) Rf_error("internal error: selu_trainer_store's arguments");
  int n_slots = LOGICAL(with_slots)[0] ? t->n_slots : 0;
  SEXP weights = PROTECT(Rf_allocVector(VECSXP, t->n_params));
  SEXP slots = PROTECT(Rf_allocVector(VECSXP, n_slots));
  for (int j = 0; j < n_slots; j++) SET_VECTOR_ELT(slots, j, Rf_allocVector(VECSXP, t->n_params));
  for (int k = 0; k < t->n_params; k++) {
    param *p = &t->params[k];
    SEXP w = Rf_allocVector(REALSXP, p->size);
    SET_VECTOR_ELT(weights, k, w);
    memcpy(REAL(w), p->w, p->size * sizeof(double));
    for (int j = 0; j < n_slots; j++) {
      SEXP v = Rf_allocVector(REALSXP, p->size);
      SET_VECTOR_ELT(VECTOR_ELT(slots, j), k, v);
      memcpy(REAL(v), p->slot[j], p->size * sizeof(double));
    }
  }
  SEXP iterations = PROTECT(Rf_ScalarReal(t->iterations));
  SEXP out = Rf_list3(weights, slots, iterations);
  UNPROTECT(3);
  return out;
}

/* --- one step ---------------------------------------------------------- */

/* Columns ahead whose elements gather_rows() asks for while it copies. */
#define GATHER_AHEAD 4

/* x[rows, ] into out (rows.length x cols), column by column. The rows are
 * scattered, each element a cache line of its own, so those of the columns
 * a few ahead are asked for while this one is copied. */
static void gather_rows(const double *x, R_xlen_t n, int cols, const int *rows, int m,
                        double *out) {
  for (int j = 0; j < cols; j++) {
    const double *col = x + (R_xlen_t) j * n;
    double *o = out + (R_xlen_t) j * m;
#if defined(__GNUC__)
    if (j + GATHER_AHEAD < cols) {
      const double *ahead = col + GATHER_AHEAD * n - 1;
      for (int i = 0; i < m; i++) __builtin_prefetch(ahead + rows[i]);
    }
#endif
    for (int i = 0; i < m; i++) o[i] = col[rows[i] - 1];
  }
}

/* The loss of the batch (its mean over rows, weighted) and its gradient
 * with respect to the last layer's z, written to its dz; the last layer's
 * output, a, too. As loss_terms() in R/losses.R. */
static double loss_and_gradient(trainer *t, int rows) {
  layer *L = &t->layers[t->n_layers - 1];
  int units = L->spec.units;
  const double *z = L->z, *y = t->yb, *w = t->row_weight;
  double *g = L->dz, *a = L->a;
  long double total = 0;
  if (t->loss == LOSS_CCE || t->loss == LOSS_SCCE) {
    softmax_rows(z, a, rows, units);
    double *mx = t->row_max;
    for (int i = 0; i < rows; i++) mx[i] = z[i];
    for (int j = 1; j < units; j++)
      for (int i = 0; i < rows; i++)
        if (z[i + (R_xlen_t) j * rows] > mx[i]) mx[i] = z[i + (R_xlen_t) j * rows];
    for (int i = 0; i < rows; i++) {
      long double s = exp(z[i] - mx[i]), ysum = 0, loss = 0;
      for (int j = 1; j < units; j++) s += exp(z[i + (R_xlen_t) j * rows] - mx[i]);
      double lse = log((double) s), scale = w[i] / rows;
      if (t->loss == LOSS_CCE)
        for (int j = 0; j < units; j++) ysum += y[i + (R_xlen_t) j * rows];
      for (int j = 0; j < units; j++) {
        R_xlen_t e = i + (R_xlen_t) j * rows;
        double log_p = (z[e] - mx[i]) - lse, p = exp(log_p);
        if (t->loss == LOSS_SCCE) {
          int target = j == t->classes[i];
          if (target) loss = -log_p;
          g[e] = (target ? p - 1 : p) * scale;
        } else {
          loss += y[e] * log_p;
          g[e] = (p * (double) ysum - y[e]) * scale;
        }
      }
      double per_sample = t->loss == LOSS_SCCE ? (double) loss : (double) -loss;
      total += w[i] * per_sample;
    }
    return (double) total / rows;
  }
  /* elementwise: the loss of each output, their mean per row */
  const layer_spec *s = &L->spec;
  R_xlen_t n = (R_xlen_t) rows * units;
  if (t->loss == LOSS_BCE) {
    run_unary(s->forward, z, a, n, s->params);
  }
  double count = (double) rows * units;
  double *ga = t->loss == LOSS_MSE && !s->linear ? t->ga : g;
  for (int i = 0; i < rows; i++) {
    long double acc = 0;
    double scale = w[i] / count;
    for (int j = 0; j < units; j++) {
      R_xlen_t e = i + (R_xlen_t) j * rows;
      if (t->loss == LOSS_BCE) {
        double v = z[e];
        acc += ((v > 0 ? v : 0) - v * y[e]) + log1p(exp(-fabs(v)));
        g[e] = (1 / (1 + exp(-v)) - y[e]) * scale;
      } else {
        double d = a[e] - y[e];
        acc += d * d;
        ga[e] = 2 * d * scale;
      }
    }
    total += w[i] * (double) (acc / units);
  }
  return (double) total / rows;
}

static void clip_gradients(trainer *t) {
  double c = t->clip_value;
  if (t->clip == CLIP_NORM) {
    for (int k = 0; k < t->n_params; k++) {
      param *p = &t->params[k];
      if (!p->trainable) continue;
      long double s = 0;
      for (R_xlen_t i = 0; i < p->size; i++) s += p->grad[i] * p->grad[i];
      double norm = sqrt((double) s), m = norm > c ? norm : c;
      for (R_xlen_t i = 0; i < p->size; i++) p->grad[i] = p->grad[i] * c / m;
    }
  } else if (t->clip == CLIP_GLOBAL) {
    long double total = 0;
    for (int k = 0; k < t->n_params; k++) {
      param *p = &t->params[k];
      if (!p->trainable) continue;
      long double s = 0;
      for (R_xlen_t i = 0; i < p->size; i++) s += p->grad[i] * p->grad[i];
      total += (double) s;
    }
    double norm = sqrt((double) total), scale = c / (norm > c ? norm : c) + (norm - norm);
    for (int k = 0; k < t->n_params; k++) {
      param *p = &t->params[k];
      if (!p->trainable) continue;
      for (R_xlen_t i = 0; i < p->size; i++) p->grad[i] *= scale;
    }
  } else if (t->clip == CLIP_VALUE) {
    for (int k = 0; k < t->n_params; k++) {
      param *p = &t->params[k];
      if (!p->trainable) continue;
      for (R_xlen_t i = 0; i < p->size; i++) {
        double v = p->grad[i];
        v = v < -c ? -c : v;
        p->grad[i] = v > c ? c : v;
      }
    }
  }
}

/* x^y as R's `^` takes it. */
static double r_pow(double x, double y) {
  if (y == 2) return x * x;
  if (x == 1 || y == 0) return 1;
  return pow(x, y);
}

#if defined(SELU_X86_DISPATCH)
#include <immintrin.h>
/* Adam without amsgrad, four weights at a time, as update() computes each
 * (the same additions, multiplications, divisions and square roots: AVX2
 * without FMA, so that nothing is fused and every result is the same to
 * the bit); the count done, the rest left to update(). */
__attribute__((target("avx2"))) static R_xlen_t adam_avx2(const trainer *t, param *p, double lr,
                                                          double alpha, int *finite) {
  const double *h = t->hyper;
  const __m256d b1 = _mm256_set1_pd(1 - h[0]), b2 = _mm256_set1_pd(1 - h[1]);
  const __m256d eps = _mm256_set1_pd(h[2]), a = _mm256_set1_pd(alpha);
  const __m256d decay = _mm256_set1_pd(t->weight_decay), rate = _mm256_set1_pd(lr);
  const int has_decay = !ISNAN(t->weight_decay);
  __m256d bad = _mm256_setzero_pd();
  R_xlen_t i = 0;
  for (; i + 4 <= p->size; i += 4) {
    __m256d w = _mm256_loadu_pd(p->w + i), g = _mm256_loadu_pd(p->grad + i);
    __m256d m = _mm256_loadu_pd(p->slot[0] + i), v = _mm256_loadu_pd(p->slot[1] + i);
    if (has_decay) w = _mm256_sub_pd(w, _mm256_mul_pd(_mm256_mul_pd(w, decay), rate));
    m = _mm256_add_pd(m, _mm256_mul_pd(_mm256_sub_pd(g, m), b1));
    v = _mm256_add_pd(v, _mm256_mul_pd(_mm256_sub_pd(_mm256_mul_pd(g, g), v), b2));
    __m256d step = _mm256_div_pd(_mm256_mul_pd(m, a), _mm256_add_pd(_mm256_sqrt_pd(v), eps));
    __m256d out = _mm256_sub_pd(w, step);
    _mm256_storeu_pd(p->slot_next[0] + i, m);
    _mm256_storeu_pd(p->slot_next[1] + i, v);
    _mm256_storeu_pd(p->next + i, out);
    /* out - out is 0 unless out is infinite or NaN */
    bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(out, out), _mm256_setzero_pd(),
                                          _CMP_NEQ_UQ));
  }
  *finite = _mm256_movemask_pd(bad) == 0;
  return i;
}
#endif

/* One weight's update into its `next` copies, as optimizer_rules in
 * R/optimizers.R; 0 if a new weight is not finite (R's path checks the
 * sum, which differs only where a sum of finite weights overflows). */
static int update(const trainer *t, param *p, double lr, double step) {
  const double *h = t->hyper;
  double decay = t->weight_decay;
  int has_decay = !ISNAN(decay);
  int finite = 1;
  double *m = p->slot[0], *m_next = p->slot_next[0];
  double alpha = 0;
  if (t->optimizer == OPT_ADAM)
    alpha = lr * sqrt(1 - r_pow(h[1], step)) / (1 - r_pow(h[0], step));
  R_xlen_t start = 0;
#if defined(SELU_X86_DISPATCH)
  if (t->optimizer == OPT_ADAM && h[3] == 0 && selu_isa_in_use >= ISA_AVX2)
    start = adam_avx2(t, p, lr, alpha, &finite);
#endif
  for (R_xlen_t i = start; i < p->size; i++) {
    double w = p->w[i], g = p->grad[i], out;
    if (has_decay) w = w - w * decay * lr;
    switch (t->optimizer) {
    case OPT_SGD:
      if (h[0] == 0) {
        out = w + -g * lr;
      } else {
        double mv = -g * lr + m[i] * h[0];
        m_next[i] = mv;
        out = h[1] != 0 ? w + (-g * lr + mv * h[0]) : w + mv;
      }
      break;
    case OPT_ADAM: {
      double mv = m[i] + (g - m[i]) * (1 - h[0]);
      double v = p->slot[1][i] + (g * g - p->slot[1][i]) * (1 - h[1]);
      m_next[i] = mv;
      p->slot_next[1][i] = v;
      if (h[3] != 0) {
        double vhat = p->slot[2][i];
        v = (ISNAN(vhat) || ISNAN(v)) ? NAN : (vhat > v ? vhat : v);
        p->slot_next[2][i] = v;
      }
      out = w - (mv * alpha) / (sqrt(v) + h[2]);
      break;
    }
    case OPT_RMSPROP: {
      double rho = h[0], vel = rho * p->slot[0][i] + (1 - rho) * (g * g), den;
      int j = 1;
      p->slot_next[0][i] = vel;
      int centered = h[3] != 0, mom = h[1] > 0;
      if (centered) {
        int at = mom ? 2 : 1;
        double avg = rho * p->slot[at][i] + (1 - rho) * g;
        p->slot_next[at][i] = avg;
        den = vel - avg * avg + h[2];
      } else {
        den = vel + h[2];
      }
      double inc = lr * g / sqrt(den);
      if (mom) {
        inc = h[1] * p->slot[j][i] + inc;
        p->slot_next[j][i] = inc;
      }
      out = w - inc;
      break;
    }
    default: { /* Adagrad */
      double acc = m[i] + g * g;
      m_next[i] = acc;
      out = w - lr * g / sqrt(acc + h[2]);
    }
    }
    p->next[i] = out;
    finite &= out - out == 0; /* NaN for infinities and NaN */
  }
  return finite;
}

/* One step on the batch rows (1-based, of x and y and the row weights
 * `sample_weight`, or NULL) at learning rate lr, with the dropout masks
 * (a list by layer: NULL, or the keep mask of rows x units, divided by 1 -
 * rate for plain dropout, as R/layer-dropout.R draws it): a list of the loss, the
 * status (0: done; 1: the loss is not finite; 2: the update makes weights
 * that are not finite: nothing changed for either) and, with `output`
 * TRUE, the last layer's output for the batch. */
SEXP selu_trainer_step(SEXP ptr, SEXP x, SEXP y, SEXP sample_weight, SEXP rows_, SEXP lr_,
                       SEXP masks, SEXP output) {
  trainer *t = trainer_of(ptr);
  layer *first = &t->layers[0], *last = &t->layers[t->n_layers - 1];
  SEXP xdim = Rf_getAttrib(x, R_DimSymbol);
  if (TYPEOF(x) != REALSXP || XLENGTH(xdim) != 2 || INTEGER(xdim)[1] != first->spec.inputs ||
      TYPEOF(rows_) != INTSXP || XLENGTH(rows_) < 1 || XLENGTH(rows_) > t->max_rows ||
      TYPEOF(lr_) != REALSXP || XLENGTH(lr_) != 1 || !is_flag(output) ||
      TYPEOF(masks) != VECSXP || XLENGTH(masks) != t->n_layers)
    Rf_error("internal error: selu_trainer_step's arguments");
  R_xlen_t n = INTEGER(xdim)[0];
  int m = (int) XLENGTH(rows_), units = last->spec.units;
  for (int l = 0; l < t->n_layers; l++) {
    layer *ly = &t->layers[l];
    SEXP mask = VECTOR_ELT(masks, l);
    if (mask != R_NilValue && (!ly->spec.dropout || TYPEOF(mask) != REALSXP ||
                               XLENGTH(mask) != (R_xlen_t) m * ly->spec.units))
      Rf_error("internal error: a dropout mask");
    ly->mask = mask == R_NilValue ? NULL : REAL(mask);
  }
  const int *rows = INTEGER(rows_);
  for (int i = 0; i < m; i++)
    if (rows[i] < 1 || rows[i] > n) Rf_error("internal error: a row outside x");
  if (t->loss == LOSS_SCCE) {
    if (TYPEOF(y) != INTSXP || XLENGTH(y) != n) Rf_error("internal error: the targets");
    for (int i = 0; i < m; i++) t->classes[i] = INTEGER(y)[rows[i] - 1];
  } else {
    if (TYPEOF(y) != REALSXP || XLENGTH(y) != n * units) Rf_error("internal error: the targets");
    gather_rows(REAL(y), n, units, rows, m, t->yb);
  }
  if (sample_weight == R_NilValue) {
    for (int i = 0; i < m; i++) t->row_weight[i] = 1;
  } else {
    if (TYPEOF(sample_weight) != REALSXP || XLENGTH(sample_weight) != n)
      Rf_error("internal error: the sample weights");
    for (int i = 0; i < m; i++) t->row_weight[i] = REAL(sample_weight)[rows[i] - 1];
  }
  gather_rows(REAL(x), n, first->spec.inputs, rows, m, t->xb);

  /* forward, keeping every layer's z and a */
  const double *in = t->xb;
  for (int l = 0; l < t->n_layers; l++) {
    layer *ly = &t->layers[l];
    int fused_out = l == t->n_layers - 1 && t->loss != LOSS_MSE;
    layer_spec s = ly->spec;
    if (fused_out) s.linear = 1, s.softmax = 0; /* the loss takes z */
    dense_forward(&s, ly->kernel->w, ly->bias ? ly->bias->w : NULL, in, m, m, ly->z, ly->a);
    in = ly->a;
    if (ly->mask) {
      /* as R/layer-alpha-dropout.R and R/layer-dropout.R compute it */
      const double *k = ly->mask, *a = ly->a, alpha_p = -1.7580993408473768599402175208123;
      double *d = ly->dropped, ca = ly->drop_a, cb = ly->drop_b;
      R_xlen_t size = (R_xlen_t) m * s.units;
      if (s.dropout == DROP_ALPHA)
        for (R_xlen_t i = 0; i < size; i++) d[i] = ca * (k[i] * a[i] + (1 - k[i]) * alpha_p) + cb;
      else
        for (R_xlen_t i = 0; i < size; i++) d[i] = a[i] * k[i];
      in = d;
    }
  }
  double loss = loss_and_gradient(t, m);
  int status = R_FINITE(loss) ? 0 : 1;

  if (status == 0 && t->first_trainable < t->n_layers) {
    /* backward: dz of the last layer is the loss's gradient (for z, or for
     * a when MSE follows an activation) */
    if (t->loss == LOSS_MSE && !last->spec.linear) {
      run_binary(last->spec.backward, last->z, t->ga, 1, last->dz, (R_xlen_t) m * units,
                 last->spec.params);
    }
    for (int l = t->n_layers - 1; l >= t->first_trainable; l--) {
      layer *ly = &t->layers[l];
      int inputs = ly->spec.inputs, out = ly->spec.units;
      const layer *prev = l == 0 ? NULL : &t->layers[l - 1];
      const double *x_l = !prev ? t->xb : prev->mask ? prev->dropped : prev->a;
      if (ly->spec.trainable) {
        crossprod(x_l, m, inputs, ly->dz, out, ly->kernel->grad);
        if (ly->bias) {
          for (int j = 0; j < out; j++) {
            long double s = 0;
            const double *col = ly->dz + (R_xlen_t) j * m;
            for (int i = 0; i < m; i++) s += col[i];
            ly->bias->grad[j] = (double) s;
          }
        }
      }
      if (l == t->first_trainable) break;
      layer *below = &t->layers[l - 1];
      /* the gradient for the output of the layer below, into its dz
       * directly when it is linear and has no dropout */
      int direct = below->spec.linear && !below->mask;
      double *dx = direct ? below->dz : ly->dx;
      tcrossprod(ly->dz, m, out, ly->kernel->w, inputs, dx);
      if (below->mask) {
        /* through the dropout: the gradient for a, in place (into dz when linear) */
        const double *k = below->mask;
        double *ga = below->spec.linear ? below->dz : dx, ca = below->drop_a;
        R_xlen_t size = (R_xlen_t) m * inputs;
        if (below->spec.dropout == DROP_ALPHA)
          for (R_xlen_t i = 0; i < size; i++) ga[i] = dx[i] * ca * k[i];
        else
          for (R_xlen_t i = 0; i < size; i++) ga[i] = dx[i] * k[i];
      }
      if (!below->spec.linear)
        run_binary(below->spec.backward, below->z, dx, 1, below->dz, (R_xlen_t) m * inputs,
                   below->spec.params);
    }
    clip_gradients(t);
    double lr = REAL(lr_)[0], step = t->iterations + 1;
    for (int k = 0; k < t->n_params && status == 0; k++) {
      param *p = &t->params[k];
      if (p->trainable && !update(t, p, lr, step)) status = 2;
    }
    if (status == 0) {
      /* commit: every trainable weight and slot at once */
      for (int k = 0; k < t->n_params; k++) {
        param *p = &t->params[k];
        if (!p->trainable) continue;
        double *swap = p->w;
        p->w = p->next;
        p->next = swap;
        for (int j = 0; j < t->n_slots; j++) {
          swap = p->slot[j];
          p->slot[j] = p->slot_next[j];
          p->slot_next[j] = swap;
        }
      }
      t->iterations = step;
    }
  }
  SEXP result = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(result, 0, Rf_ScalarReal(loss));
  SET_VECTOR_ELT(result, 1, Rf_ScalarInteger(status));
  if (LOGICAL(output)[0]) {
    SEXP out = Rf_allocMatrix(REALSXP, m, units);
    SET_VECTOR_ELT(result, 2, out);
    memcpy(REAL(out), last->a, (size_t) m * units * sizeof(double));
  }
  UNPROTECT(1);
  return result;
}

/* --- inference ----------------------------------------------------------- */

#define MAX_FORWARD_ROWS 256

/* A rows x cols double matrix, its memory reused where it can be (alloc.c). */
static SEXP result_matrix(int rows, int cols) {
  SEXP m = PROTECT(alloc_result(REALSXP, (R_xlen_t) rows * cols));
  SEXP dim = PROTECT(Rf_allocVector(INTSXP, 2));
  INTEGER(dim)[0] = rows;
  INTEGER(dim)[1] = cols;
  Rf_setAttrib(m, R_DimSymbol, dim);
  UNPROTECT(2);
  return m;
}

/* The stack's output on every row of x (a double matrix), in batches of
 * batch_size rows, with the weights a list as selu_trainer_load() takes
 * them; with `logits` TRUE, list(output, the last layer's z). */
SEXP selu_stack_forward(SEXP layers, SEXP activations, SEXP weights, SEXP x, SEXP batch_size,
                        SEXP logits) {
  check_layers(layers, activations);
  int n_layers = INTEGER(Rf_getAttrib(layers, R_DimSymbol))[0];
  layer_spec *specs = (layer_spec *) R_alloc(n_layers, sizeof(layer_spec));
  read_layers(layers, activations, specs, n_layers);
  SEXP xdim = Rf_getAttrib(x, R_DimSymbol);
  if (TYPEOF(x) != REALSXP || XLENGTH(xdim) != 2 || INTEGER(xdim)[1] != specs[0].inputs ||
      TYPEOF(batch_size) != INTSXP || XLENGTH(batch_size) != 1 || INTEGER(batch_size)[0] < 1 ||
      TYPEOF(weights) != VECSXP || !is_flag(logits))
    Rf_error("internal error: selu_stack_forward's arguments");
  const double **kernel = (const double **) R_alloc(n_layers, sizeof(double *));
  const double **bias = (const double **) R_alloc(n_layers, sizeof(double *));
  int k = 0, widest = 0;
  for (int l = 0; l < n_layers; l++) {
    const layer_spec *s = &specs[l];
    for (int b = 0; b < 1 + s->bias; b++, k++) {
      SEXP w = k < XLENGTH(weights) ? VECTOR_ELT(weights, k) : R_NilValue;
      R_xlen_t size = b == 0 ? (R_xlen_t) s->inputs * s->units : s->units;
      if (TYPEOF(w) != REALSXP || XLENGTH(w) != size)
        Rf_error("internal error: selu_stack_forward's weights");
      (b == 0 ? kernel : bias)[l] = REAL(w);
    }
    if (!s->bias) bias[l] = NULL;
    if (s->units > widest) widest = s->units;
  }
  if (k != XLENGTH(weights)) Rf_error("internal error: selu_stack_forward's weights");
  int n = INTEGER(xdim)[0], batch = INTEGER(batch_size)[0], units = specs[n_layers - 1].units;
  /* Rows do not depend on each other, so the batches can be smaller than
   * asked: beyond a few hundred rows a product streams its input from
   * memory once per unit instead of from the CPU's caches (on the reference
   * BLAS, 10,000 rows at a time took 1.6 times as long as 256). */
  if (batch > MAX_FORWARD_ROWS) batch = MAX_FORWARD_ROWS;
  if (batch > n) batch = n;
  int want_logits = LOGICAL(logits)[0];
  SEXP out = PROTECT(result_matrix(n, units));
  SEXP z_out = PROTECT(want_logits ? result_matrix(n, units) : R_NilValue);
  /* two buffers of z and two of a, taken in turn by the layers */
  R_xlen_t cells = (R_xlen_t) (batch > 0 ? batch : 1) * widest;
  double *z[2], *a[2];
  for (int b = 0; b < 2; b++) {
    void *zb = R_alloc(cells, sizeof(double)), *ab = R_alloc(cells, sizeof(double));
    z[b] = zb;
    a[b] = ab;
  }
  for (int start = 0; start < n; start += batch) {
    int m = n - start < batch ? n - start : batch;
    const double *in = REAL(x) + start;
    int ld = n;
    for (int l = 0; l < n_layers; l++) {
      const layer_spec *s = &specs[l];
      double *zl = z[l % 2], *al = s->linear ? zl : a[l % 2];
      dense_forward(s, kernel[l], bias[l], in, ld, m, zl, al);
      in = al;
      ld = m;
    }
    const double *zl = z[(n_layers - 1) % 2];
    for (int j = 0; j < units; j++) {
      memcpy(REAL(out) + (R_xlen_t) j * n + start, in + (R_xlen_t) j * m, m * sizeof(double));
      if (want_logits)
        memcpy(REAL(z_out) + (R_xlen_t) j * n + start, zl + (R_xlen_t) j * m, m * sizeof(double));
    }
  }
  SEXP result = want_logits ? Rf_list2(out, z_out) : out;
  UNPROTECT(2);
  return result;
}
