/* The engine: a program of ops (engine.h, R/program.R) made into buffers
 * once, then run on batches:
 *
 *   forward(e, m, training);     the ops in order, each from its input slots
 *   losses(e, m, ...);           each output's loss and its gradient
 *   backward(e, m);              the ops in reverse, gradients into slots and params
 *   update(e, lr);               clipping, the optimizer, constraints; all or nothing
 *
 * An update is written to a second copy of the weights and slots and
 * committed by swapping the two only when every new weight is finite, so
 * that a step happens whole or not at all (an interrupt inside a kernel
 * leaves the weights as they were).
 *
 * A program whose layers are all float32 makes a float32 engine: its slots
 * and params are floats (fvalue, fw, ...), R's doubles are rounded on the
 * way in and widened on the way out, and ops without float32 kernels run on
 * double copies (run_on_doubles()). */
#include "engine.h"
#include "memory.h"
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* --- reading the program ------------------------------------------------- */

static SEXP elt(SEXP list, const char *name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) != VECSXP || TYPEOF(names) != STRSXP) return R_NilValue;
  for (R_xlen_t i = 0; i < XLENGTH(list); i++)
    if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  return R_NilValue;
}

static double num(SEXP list, const char *name, double otherwise) {
  SEXP v = elt(list, name);
  if (TYPEOF(v) == REALSXP && XLENGTH(v) >= 1) return REAL(v)[0];
  if ((TYPEOF(v) == INTSXP || TYPEOF(v) == LGLSXP) && XLENGTH(v) >= 1)
    return INTEGER(v)[0] == NA_INTEGER ? NA_REAL : INTEGER(v)[0];
  return otherwise;
}

static int whole(SEXP list, const char *name, int otherwise) {
  double v = num(list, name, otherwise);
  return ISNAN(v) ? otherwise : (int) v;
}

/* An integer vector of the program (its memory lives as long as the
 * program, which the engine keeps), or NULL. */
static const int *ints(SEXP list, const char *name, R_xlen_t *n) {
  SEXP v = elt(list, name);
  if (TYPEOF(v) != INTSXP) {
    if (n) *n = 0;
    return NULL;
  }
  if (n) *n = XLENGTH(v);
  return INTEGER(v);
}

static void bad(const char *what) {
  Rf_error("internal error: the program's %s", what);
}

/* --- helpers of the ops -------------------------------------------------- */

param *op_param(engine *e, const op *o, int k) {
  return k < o->n_params && o->param[k] >= 0 ? &e->params[o->param[k]] : NULL;
}

/* Where an op writes the gradient for its k-th input, or NULL when none is
 * wanted: the slot's grad, overwritten by the first term of this step
 * (*add 0) and added to by later ones (*add 1). */
double *input_grad(engine *e, const op *o, int k, int *add) {
  slot *s = &e->slots[o->in[k]];
  if (!s->upstream || !s->grad) return NULL;
  *add = s->written;
  s->written = 1;
  return s->grad;
}

double *param_grad(engine *e, const op *o, int k, int *add) {
  param *p = op_param(e, o, k);
  if (!p || !p->trainable || !p->grad) return NULL;
  *add = p->written;
  p->written = 1;
  return p->grad;
}

void add_into(double *restrict to, const double *restrict from, R_xlen_t n) {
  for (R_xlen_t i = 0; i < n; i++) to[i] += from[i];
}

float *input_grad_f32(engine *e, const op *o, int k, int *add) {
  slot *s = &e->slots[o->in[k]];
  if (!s->upstream || !s->fgrad) return NULL;
  *add = s->written;
  s->written = 1;
  return s->fgrad;
}

float *param_grad_f32(engine *e, const op *o, int k, int *add) {
  param *p = op_param(e, o, k);
  if (!p || !p->trainable || !p->fgrad) return NULL;
  *add = p->written;
  p->written = 1;
  return p->fgrad;
}

/* R's NA is a NaN whose low word is 1954, which narrowing to float would
 * drop: a float32 engine marks it with the same payload in a float NaN, and
 * widening gives R's NA back. Other NaNs stay NaNs. */
#define FLOAT_NA_PAYLOAD 1954u

static float float_na(void) {
  uint32_t bits = 0x7FC00000u | FLOAT_NA_PAYLOAD;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static double widen_nan(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  return (bits & 0x3FFFFFu) == FLOAT_NA_PAYLOAD ? NA_REAL : (double) f;
}

/* The conversions run as plain vector loops that note whether they met a
 * NaN, and only then go over the elements again for R's NA: a NaN is rare,
 * and a test and branch in the loop would keep it scalar. Each loop is
 * built for the instruction sets the kernels are (dispatch.h); every one
 * converts exactly, so which runs changes only the speed. */
#define CONVERSION_LOOPS(SUFFIX, TARGET)                                                   \
  TARGET static int widen_##SUFFIX(const float *restrict from, double *restrict to,       \
                                   R_xlen_t n) {                                           \
    int nan = 0;                                                                           \
    SIMD_ANY(nan) for (R_xlen_t i = 0; i < n; i++) {                                       \
      to[i] = (double) from[i];                                                            \
      nan |= from[i] != from[i];                                                           \
    }                                                                                      \
    return nan;                                                                            \
  }                                                                                        \
  TARGET static int narrow_##SUFFIX(const double *restrict from, float *restrict to,      \
                                    R_xlen_t n) {                                          \
    int nan = 0;                                                                           \
    SIMD_ANY(nan) for (R_xlen_t i = 0; i < n; i++) {                                       \
      to[i] = (float) from[i];                                                             \
      nan |= from[i] != from[i];                                                           \
    }                                                                                      \
    return nan;                                                                            \
  }
CONVERSION_LOOPS(portable, )
#if defined(SELU_X86_DISPATCH)
CONVERSION_LOOPS(avx2, SELU_TARGET_AVX2)
CONVERSION_LOOPS(avx512, SELU_TARGET_AVX512)
#endif

void to_double(const float *restrict from, double *restrict to, R_xlen_t n) {
#if defined(SELU_X86_DISPATCH)
  int nan = selu_isa_in_use == ISA_AVX512 ? widen_avx512(from, to, n)
            : selu_isa_in_use == ISA_AVX2 ? widen_avx2(from, to, n)
                                          : widen_portable(from, to, n);
#else
  int nan = widen_portable(from, to, n);
#endif
  if (nan)
    for (R_xlen_t i = 0; i < n; i++)
      if (from[i] != from[i]) to[i] = widen_nan(from[i]);
}

float narrow(double x) {
  return x == x || !ISNA(x) ? (float) x : float_na();
}

void to_float(const double *restrict from, float *restrict to, R_xlen_t n) {
#if defined(SELU_X86_DISPATCH)
  int nan = selu_isa_in_use == ISA_AVX512 ? narrow_avx512(from, to, n)
            : selu_isa_in_use == ISA_AVX2 ? narrow_avx2(from, to, n)
                                          : narrow_portable(from, to, n);
#else
  int nan = narrow_portable(from, to, n);
#endif
  if (nan)
    for (R_xlen_t i = 0; i < n; i++)
      if (from[i] != from[i]) to[i] = narrow(from[i]);
}

/* Whether every element of a double vector is finite: one vector loop
 * over a block at a time (x - x is 0 exactly when x is finite), where R's
 * sum() would add in long double. */
#define FINITE_BLOCK 4096

SEXP selu_all_finite(SEXP x) {
  if (TYPEOF(x) != REALSXP) Rf_error("internal error: selu_all_finite() takes doubles");
  const double *v = REAL(x);
  R_xlen_t n = XLENGTH(x);
  int bad = 0;
  for (R_xlen_t s = 0; s < n && !bad; s += FINITE_BLOCK) {
    R_xlen_t end = n - s < FINITE_BLOCK ? n : s + FINITE_BLOCK;
    SIMD_ANY(bad) for (R_xlen_t i = s; i < end; i++) bad |= !(v[i] - v[i] == 0);
  }
  return Rf_ScalarLogical(!bad);
}

void round_to_float(double *x, R_xlen_t n) {
  for (R_xlen_t i = 0; i < n; i++) x[i] = (double) (float) x[i];
}

/* --- making an engine ---------------------------------------------------- */

static engine *engine_of(SEXP ptr) {
  engine *e = TYPEOF(ptr) == EXTPTRSXP ? R_ExternalPtrAddr(ptr) : NULL;
  if (!e) Rf_error("internal error: not an engine (a saved session's engines do not survive)");
  return e;
}

/* An engine's buffers go when its call returns (selu_engine_free), not at
 * R's next garbage collection: left to the collector, the memory of many
 * calls piles up and every new engine starts on fresh pages. */
static void free_memory(SEXP ptr) {
  engine *e = R_ExternalPtrAddr(ptr);
  if (!e) return;
  free(e->memory);
  e->memory = NULL;
  R_ClearExternalPtr(ptr);
}

SEXP selu_engine_free(SEXP ptr) {
  if (TYPEOF(ptr) != EXTPTRSXP) Rf_error("internal error: selu_engine_free's argument");
  free_memory(ptr);
  return R_NilValue;
}

void read_optimizer(SEXP spec, optimizer_spec *o) {
  memset(o, 0, sizeof *o);
  o->kind = whole(spec, "kind", -1);
  if (o->kind < OPT_SGD || o->kind > OPT_FTRL) bad("optimizer");
  o->beta_1 = num(spec, "beta_1", 0.9);
  o->beta_2 = num(spec, "beta_2", 0.999);
  o->epsilon = num(spec, "epsilon", 1e-7);
  o->momentum = num(spec, "momentum", 0);
  o->rho = num(spec, "rho", 0.9);
  o->initial = num(spec, "initial_accumulator_value", 0);
  o->amsgrad = whole(spec, "amsgrad", 0);
  o->nesterov = whole(spec, "nesterov", 0);
  o->centered = whole(spec, "centered", 0);
  o->lr_power = num(spec, "learning_rate_power", -0.5);
  o->l1 = num(spec, "l1_regularization_strength", 0);
  o->l2 = num(spec, "l2_regularization_strength", 0);
  o->l2_shrinkage = num(spec, "l2_shrinkage_regularization_strength", 0);
  o->beta = num(spec, "beta", 0);
  o->weight_decay = num(spec, "weight_decay", NA_REAL);
  o->clip = whole(spec, "clip", CLIP_NONE);
  o->clip_value = num(spec, "clip_value", 0);
  if (o->clip < CLIP_NONE || o->clip > CLIP_VALUE) bad("clipping");
  o->n_slots = optimizer_slot_count(o);
  o->u_product = 1; /* the empty product, at step 0 */
}

static void read_loss(SEXP spec, loss_spec *l, int n_slots) {
  l->kind = whole(spec, "kind", -1);
  l->from_logits = whole(spec, "from_logits", 0);
  l->fused = whole(spec, "fused", 0);
  l->label_smoothing = num(spec, "label_smoothing", 0);
  l->delta = num(spec, "delta", 1);
  l->weight = num(spec, "weight", 1);
  l->slot = whole(spec, "slot", -1);
  l->input = whole(spec, "input", l->slot);
  l->classes = whole(spec, "classes", 1);
  if (l->kind < LOSS_MSE || l->kind > LOSS_SCCE || l->slot < 0 || l->slot >= n_slots ||
      l->input < 0 || l->input >= n_slots || l->classes < 1)
    bad("loss");
}

/* An engine's memory, or an R error. */
static void *buffers(size_t bytes) {
  void *memory = malloc(bytes);
  if (!memory)
    Rf_error("cannot allocate %.0f MB for the model's buffers: use a smaller `batch_size`",
             (double) bytes / 1048576);
  return memory;
}

/* An engine for the program, for batches of at most max_rows rows. With
 * `io_bound` the input and output slots get no buffers of their own: the
 * caller binds them to its arrays (eager calls on whole arrays). */
SEXP selu_engine_new(SEXP program, SEXP max_rows_, SEXP io_bound_) {
  if (TYPEOF(program) != VECSXP || TYPEOF(max_rows_) != INTSXP || XLENGTH(max_rows_) != 1 ||
      INTEGER(max_rows_)[0] < 1 || !is_flag(io_bound_))
    Rf_error("internal error: selu_engine_new's arguments");
  int max_rows = INTEGER(max_rows_)[0], io_bound = LOGICAL(io_bound_)[0];
  SEXP widths = elt(program, "slots"), ops = elt(program, "ops"), params = elt(program, "params");
  SEXP training = elt(program, "training");
  R_xlen_t n_inputs, n_outputs;
  const int *inputs = ints(program, "inputs", &n_inputs), *outputs = ints(program, "outputs", &n_outputs);
  if (TYPEOF(widths) != REALSXP || TYPEOF(ops) != VECSXP || TYPEOF(params) != VECSXP ||
      !inputs || !outputs || n_outputs < 1)
    bad("layout");
  int n_slots = (int) XLENGTH(widths), n_ops = (int) XLENGTH(ops), n_params = (int) XLENGTH(params);

  /* the structures, in a raw vector; the doubles, in one arena */
  size_t head = sizeof(engine) + n_ops * sizeof(op) + n_slots * sizeof(slot) +
                n_params * sizeof(param) + (n_outputs + 1) * sizeof(loss_spec);
  SEXP raw = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t) head));
  memset(RAW(raw), 0, head);
  engine *e = (engine *) RAW(raw);
  e->ops = (op *) (e + 1);
  e->slots = (slot *) (e->ops + n_ops);
  e->params = (param *) (e->slots + n_slots);
  e->losses = (loss_spec *) (e->params + n_params);
  e->n_ops = n_ops;
  e->n_slots = n_slots;
  e->n_params = n_params;
  e->n_inputs = (int) n_inputs;
  e->n_outputs = (int) n_outputs;
  e->inputs = (int *) inputs;
  e->outputs = (int *) outputs;
  e->max_rows = max_rows;
  e->f32 = whole(program, "f32", 0);
  /* a float32 engine keeps its own input and output buffers: R's arrays
   * hold doubles */
  if (e->f32) {
    io_bound = 0;
    e->sgemm = find_sgemm(whole(program, "portable_gemm", 0));
  }
  e->has_training = training != R_NilValue;
  if (e->has_training) {
    read_optimizer(elt(training, "optimizer"), &e->opt);
    SEXP losses = elt(training, "losses");
    if (TYPEOF(losses) != VECSXP || XLENGTH(losses) != n_outputs) bad("losses");
    for (int k = 0; k < n_outputs; k++) read_loss(VECTOR_ELT(losses, k), &e->losses[k], n_slots);
  }
  for (int k = 0; k < n_inputs; k++)
    if (inputs[k] < 0 || inputs[k] >= n_slots) bad("inputs");
  for (int k = 0; k < n_outputs; k++)
    if (outputs[k] < 0 || outputs[k] >= n_slots) bad("outputs");

  R_xlen_t widest = 1;
  for (int s = 0; s < n_slots; s++) {
    double w = REAL(widths)[s];
    if (!(w >= 1) || w > R_XLEN_T_MAX / max_rows) bad("slot widths");
    e->slots[s].width = (R_xlen_t) w;
    if (e->slots[s].width > widest) widest = e->slots[s].width;
  }
  /* the params */
  SEXP want_input_grad = elt(program, "input_gradients");
  for (int k = 0; k < n_params; k++) {
    SEXP spec = VECTOR_ELT(params, k);
    param *p = &e->params[k];
    double size = num(spec, "size", -1);
    if (!(size >= 1) || size > R_XLEN_T_MAX / 8) bad("param sizes");
    p->size = (R_xlen_t) size;
    p->trainable = whole(spec, "trainable", 0);
    p->state = whole(spec, "state", 0);
    p->l1 = num(spec, "l1", 0);
    p->l2 = num(spec, "l2", 0);
    p->constraint = whole(spec, "constraint", CONSTRAINT_NONE);
    p->c_max = num(spec, "max_value", 0);
    p->c_min = num(spec, "min_value", 0);
    p->c_rate = num(spec, "rate", 1);
    R_xlen_t n_group;
    p->c_group = ints(spec, "groups", &n_group);
    p->c_groups = whole(spec, "n_groups", 1);
    if (p->constraint < CONSTRAINT_NONE || p->constraint > CONSTRAINT_MIN_MAX_NORM ||
        (p->c_group && n_group != p->size))
      bad("constraints");
    for (R_xlen_t i = 0; p->c_group && i < n_group; i++)
      if (p->c_group[i] < 0 || p->c_group[i] >= p->c_groups) bad("constraint groups");
  }
  /* the ops, and which slots a gradient flows back into */
  for (int k = 0; k < n_inputs; k++)
    e->slots[inputs[k]].upstream = Rf_asLogical(want_input_grad) == TRUE;
  double arena_size = 0;
  for (int k = 0; k < n_ops; k++) {
    SEXP spec = VECTOR_ELT(ops, k);
    op *o = &e->ops[k];
    SEXP kind = elt(spec, "kind");
    if (TYPEOF(kind) != STRSXP || XLENGTH(kind) != 1) bad("op kinds");
    o->kind = find_op_kind(CHAR(STRING_ELT(kind, 0)));
    if (!o->kind) bad("op kinds");
    R_xlen_t n_in, n_par;
    o->in = ints(spec, "inputs", &n_in);
    o->n_in = (int) n_in;
    o->out = whole(spec, "output", -1);
    const int *par = ints(spec, "params", &n_par);
    if (o->n_in < 1 || o->out < 0 || o->out >= n_slots || n_par > MAX_OP_PARAMS) bad("ops");
    for (int j = 0; j < o->n_in; j++)
      if (o->in[j] < 0 || o->in[j] >= n_slots) bad("op inputs");
    o->n_params = (int) n_par;
    for (int j = 0; j < o->n_params; j++) {
      if (par[j] < -1 || par[j] >= n_params) bad("op params");
      o->param[j] = par[j];
    }
    o->single = whole(spec, "single", 0);
    o->act_l1 = num(spec, "activity_l1", 0);
    o->act_l2 = num(spec, "activity_l2", 0);
    o->inputs = whole(spec, "inputs_width", 0);
    o->units = whole(spec, "units", 0);
    o->pre = (R_xlen_t) num(spec, "pre", 1);
    o->len = (R_xlen_t) num(spec, "len", 1);
    o->post = (R_xlen_t) num(spec, "post", 1);
    o->batch_axis = whole(spec, "batch_axis", 0);
    o->rate = num(spec, "rate", 0);
    o->a = num(spec, "a", 0);
    o->b = num(spec, "b", 0);
    o->epsilon = num(spec, "epsilon", 1e-3);
    o->momentum = num(spec, "momentum", 0.99);
    o->batch_statistics = whole(spec, "batch_statistics", 0);
    R_xlen_t n_feature, n_group;
    o->feature = ints(spec, "feature", &n_feature);
    o->group = ints(spec, "group", &n_group);
    o->n_features = whole(spec, "n_features", 1);
    o->n_groups = whole(spec, "n_groups", 1);
    R_xlen_t width = e->slots[o->in[0]].width;
    if ((o->feature && n_feature != width) || (o->group && n_group != width)) bad("op maps");
    for (R_xlen_t i = 0; o->feature && i < n_feature; i++)
      if (o->feature[i] < 0 || o->feature[i] >= o->n_features) bad("op maps");
    for (R_xlen_t i = 0; o->group && i < n_group; i++)
      if (o->group[i] < 0 || o->group[i] >= o->n_groups) bad("op maps");
    SEXP loops = elt(spec, "kernel");
    if (loops != R_NilValue) {
      SEXP kp = elt(spec, "kernel_params");
      if (TYPEOF(loops) != STRSXP || XLENGTH(loops) != 1 || TYPEOF(kp) != REALSXP ||
          XLENGTH(kp) != 3 || !kernel_loops(CHAR(STRING_ELT(loops, 0)), o->single, &o->fwd, &o->bwd))
        bad("kernels");
      o->kp.a = REAL(kp)[0];
      o->kp.b = REAL(kp)[1];
      o->kp.c = REAL(kp)[2];
    }
    R_xlen_t n_source, n_position;
    o->source = ints(spec, "source", &n_source);
    o->position = ints(spec, "position", &n_position);
    o->merge = whole(spec, "merge", MERGE_ADD);
    o->input_dim = whole(spec, "input_dim", 0);
    R_xlen_t out_width = e->slots[o->out].width;
    if ((o->source && n_source != out_width) ||
        (o->position && n_position != out_width * (o->source ? 1 : o->n_in)))
      bad("op maps");
    for (R_xlen_t i = 0; o->source && i < n_source; i++)
      if (o->source[i] < 0 || o->source[i] >= o->n_in) bad("op maps");
    for (R_xlen_t i = 0; o->position && i < n_position; i++) {
      int from = o->source ? o->source[i] : (int) (i / out_width);
      if (o->position[i] < 0 || o->position[i] >= e->slots[o->in[from]].width) bad("op maps");
    }
    o->fun = elt(spec, "fun");
    /* a gradient flows back into this op's output when one flows into an
     * input, or when it has trainable weights */
    int up = 0;
    for (int j = 0; j < o->n_in; j++) up |= e->slots[o->in[j]].upstream;
    for (int j = 0; j < o->n_params; j++) up |= o->param[j] >= 0 && e->params[o->param[j]].trainable;
    e->slots[o->out].upstream |= up;
    arena_size += (double) o->kind->scratch(e, o, max_rows);
  }
  /* the arenas: scratch and the batch's targets in doubles; slots and params
   * in doubles, or in floats on a float32 engine */
  int n_opt = e->has_training ? e->opt.n_slots : 0;
  double floats = 0;
  double *real_size = e->f32 ? &floats : &arena_size;
  for (int s = 0; s < n_slots; s++) {
    int bound = 0;
    for (int k = 0; io_bound && k < n_inputs; k++) bound |= inputs[k] == s;
    for (int k = 0; io_bound && k < n_outputs; k++) bound |= outputs[k] == s;
    *real_size += (double) max_rows * e->slots[s].width * ((bound ? 0 : 1) + e->slots[s].upstream);
  }
  for (int k = 0; k < n_params; k++) {
    param *p = &e->params[k];
    double copies = 1 + (p->trainable ? 2 + 2 * n_opt : 0) + (p->state ? 1 : 0);
    *real_size += copies * p->size;
    arena_size += p->constraint ? p->c_groups : 0;
  }
  arena_size += (double) max_rows * widest * (e->f32 ? 2 : 1) + max_rows;
  if (floats > (double) R_XLEN_T_MAX) Rf_error("internal error: an engine too large");
  if (e->has_training)
    for (int k = 0; k < n_outputs; k++) arena_size += (double) max_rows * e->slots[outputs[k]].width;
  if (arena_size > (double) R_XLEN_T_MAX) Rf_error("internal error: an engine too large");
  /* the pointer and its finalizer first, so that the memory is freed
   * whatever happens next */
  SEXP keep = PROTECT(Rf_list2(raw, program));
  SEXP ptr = PROTECT(R_MakeExternalPtr(e, R_NilValue, keep));
  R_RegisterCFinalizerEx(ptr, free_memory, TRUE);
  /* the floats after the doubles, at a multiple of 8 bytes */
  size_t double_bytes = ((size_t) arena_size + 1) * sizeof(double);
  size_t bytes = double_bytes + ((size_t) (floats / 2) + 1) * sizeof(double);
  char *memory = e->memory = buffers(bytes);
  double *next = e->memory;
  float *next_float = (void *) (memory + double_bytes);
#define TAKE(count) (next += (count), next - (count))
#define TAKE_FLOAT(count) (next_float += (count), next_float - (count))
  for (int s = 0; s < n_slots; s++) {
    slot *sl = &e->slots[s];
    int bound = 0;
    for (int k = 0; io_bound && k < n_inputs; k++) bound |= inputs[k] == s;
    for (int k = 0; io_bound && k < n_outputs; k++) bound |= outputs[k] == s;
    R_xlen_t size = (R_xlen_t) max_rows * sl->width;
    if (e->f32) {
      sl->fvalue = TAKE_FLOAT(size);
      sl->fgrad = sl->upstream ? TAKE_FLOAT(size) : NULL;
    } else {
      sl->value = bound ? NULL : TAKE(size);
      sl->grad = sl->upstream ? TAKE(size) : NULL;
    }
  }
  for (int k = 0; k < n_params; k++) {
    param *p = &e->params[k];
    if (e->f32) {
      p->fw = TAKE_FLOAT(p->size);
      if (p->trainable) {
        p->fnext = TAKE_FLOAT(p->size);
        p->fgrad = TAKE_FLOAT(p->size);
        for (int j = 0; j < n_opt; j++) {
          p->fopt[j] = TAKE_FLOAT(p->size);
          p->fopt_next[j] = TAKE_FLOAT(p->size);
        }
      } else if (p->state) {
        p->fnext = TAKE_FLOAT(p->size);
      }
    } else {
      p->w = TAKE(p->size);
      if (p->trainable) {
        p->next = TAKE(p->size);
        p->grad = TAKE(p->size);
        for (int j = 0; j < n_opt; j++) {
          p->opt[j] = TAKE(p->size);
          p->opt_next[j] = TAKE(p->size);
        }
      } else if (p->state) {
        p->next = TAKE(p->size);
      }
    }
    if (p->constraint) p->c_norm = TAKE(p->c_groups);
  }
  for (int k = 0; k < n_ops; k++) {
    op *o = &e->ops[k];
    R_xlen_t size = o->kind->scratch(e, o, max_rows);
    o->scratch = size ? TAKE(size) : NULL;
  }
  e->tmp = TAKE((R_xlen_t) max_rows * widest);
  if (e->f32) e->tmp2 = TAKE((R_xlen_t) max_rows * widest);
  e->row_weight = TAKE(max_rows);
  /* the targets of each output, gathered per batch: doubles, or the
   * classes of a sparse loss as ints in the same space */
  if (e->has_training)
    for (int k = 0; k < n_outputs; k++)
      e->losses[k].y = TAKE((R_xlen_t) max_rows * e->slots[outputs[k]].width);
#undef TAKE
#undef TAKE_FLOAT
  UNPROTECT(3);
  return ptr;
}

/* --- weights in and out -------------------------------------------------- */

/* Loads the weights (a list, one per param) and, unless `slots` is NULL,
 * the optimizer's slots (a list per slot of lists per param, NULL entries
 * for slots not made yet) and the iteration count. */
SEXP selu_engine_load(SEXP ptr, SEXP weights, SEXP slots, SEXP iterations) {
  engine *e = engine_of(ptr);
  int with_slots = slots != R_NilValue, n_opt = e->has_training ? e->opt.n_slots : 0;
  if (TYPEOF(weights) != VECSXP || XLENGTH(weights) != e->n_params ||
      (with_slots && (TYPEOF(slots) != VECSXP || XLENGTH(slots) != n_opt ||
                      TYPEOF(iterations) != REALSXP || XLENGTH(iterations) != 1)))
    Rf_error("internal error: selu_engine_load's arguments");
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    SEXP w = VECTOR_ELT(weights, k);
    if (TYPEOF(w) != REALSXP || XLENGTH(w) != p->size)
      Rf_error("internal error: a weight of the wrong size for the engine");
    if (e->f32) {
      to_float(REAL(w), p->fw, p->size);
    } else {
      memcpy(p->w, REAL(w), p->size * sizeof(double));
    }
    p->pending = 0;
    for (int j = 0; with_slots && p->trainable && j < n_opt; j++) {
      SEXP s = VECTOR_ELT(slots, j);
      SEXP v = TYPEOF(s) == VECSXP && XLENGTH(s) == e->n_params ? VECTOR_ELT(s, k) : R_NilValue;
      if (v == R_NilValue) {
        double initial = optimizer_initial_slot(&e->opt, j);
        for (R_xlen_t i = 0; i < p->size; i++) {
          if (e->f32) {
            p->fopt[j][i] = (float) initial;
          } else {
            p->opt[j][i] = initial;
          }
        }
      } else if (TYPEOF(v) == REALSXP && XLENGTH(v) == p->size) {
        if (e->f32) {
          to_float(REAL(v), p->fopt[j], p->size);
        } else {
          memcpy(p->opt[j], REAL(v), p->size * sizeof(double));
        }
      } else {
        Rf_error("internal error: a slot of the wrong size for the engine");
      }
    }
  }
  if (with_slots) e->iterations = REAL(iterations)[0];
  return R_NilValue;
}

/* list(weights, slots, iterations): the weights and, with `with_slots`,
 * the optimizer's slots (NULL for params that do not train) and count. */
SEXP selu_engine_store(SEXP ptr, SEXP with_slots) {
  engine *e = engine_of(ptr);
  if (!is_flag(with_slots)) Rf_error("internal error: selu_engine_store's arguments");
  int n_opt = LOGICAL(with_slots)[0] && e->has_training ? e->opt.n_slots : 0;
  SEXP weights = PROTECT(Rf_allocVector(VECSXP, e->n_params));
  SEXP slots = PROTECT(Rf_allocVector(VECSXP, n_opt));
  for (int j = 0; j < n_opt; j++) SET_VECTOR_ELT(slots, j, Rf_allocVector(VECSXP, e->n_params));
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    SEXP w = Rf_allocVector(REALSXP, p->size);
    SET_VECTOR_ELT(weights, k, w);
    if (e->f32) {
      to_double(p->fw, REAL(w), p->size);
    } else {
      memcpy(REAL(w), p->w, p->size * sizeof(double));
    }
    for (int j = 0; p->trainable && j < n_opt; j++) {
      SEXP v = Rf_allocVector(REALSXP, p->size);
      SET_VECTOR_ELT(VECTOR_ELT(slots, j), k, v);
      if (e->f32) {
        to_double(p->fopt[j], REAL(v), p->size);
      } else {
        memcpy(REAL(v), p->opt[j], p->size * sizeof(double));
      }
    }
  }
  SEXP iterations = PROTECT(Rf_ScalarReal(e->iterations));
  SEXP out = Rf_list3(weights, slots, iterations);
  UNPROTECT(3);
  return out;
}

/* The engine's step count: the optimizer's iterations while it trains. */
SEXP selu_engine_iterations(SEXP ptr) {
  return Rf_ScalarReal(engine_of(ptr)->iterations);
}

/* --- batches --------------------------------------------------------------- */

/* Columns gather_rows() copies together. Rows in a shuffled batch are
 * scattered, each element a cache line of its own: going down a block of
 * columns row by row keeps that many loads of one row in flight at once
 * (their lines n elements apart), where column by column the loads of a
 * row wait for each other's turn; and the row's lines in the next block are
 * asked for meanwhile, into the outer caches (asked into the first, they
 * crowd out what is being copied). On 10,000 rows of 784 columns, batches
 * of 128 gather in about a third of the time they took column by column. */
#define GATHER_COLS 16

#if defined(__GNUC__)
#define PREFETCH_OUTER(p) __builtin_prefetch((p), 0, 2)
#else
#define PREFETCH_OUTER(p) ((void) (p))
#endif

/* x[rows, ] into out (m x cols), rows from 1; CONVERT(v) makes each element. */
#define GATHER_ROWS(x, n, cols, rows, m, out, CONVERT)                            \
  do {                                                                          \
    R_xlen_t j0 = 0;                                                            \
    for (; j0 + GATHER_COLS <= (cols); j0 += GATHER_COLS) {                     \
      int ahead = j0 + 2 * GATHER_COLS <= (cols);                               \
      for (int i = 0; i < (m); i++) {                                           \
        const double *from = (x) + j0 * (n) + (rows)[i] - 1;                    \
        for (int k = 0; ahead && k < GATHER_COLS; k++)                          \
          PREFETCH_OUTER(from + (GATHER_COLS + k) * (n));                       \
        for (int k = 0; k < GATHER_COLS; k++)                                   \
          (out)[i + (j0 + k) * (m)] = CONVERT(from[k * (n)]);                   \
      }                                                                         \
    }                                                                           \
    for (; j0 < (cols); j0++)                                                   \
      for (int i = 0; i < (m); i++)                                             \
        (out)[i + j0 * (m)] = CONVERT((x)[j0 * (n) + (rows)[i] - 1]);           \
  } while (0)

#define AS_IS(v) (v)

static void gather_rows(const double *x, R_xlen_t n, R_xlen_t cols, const int *rows, int m,
                        double *out) {
  GATHER_ROWS(x, n, cols, rows, m, out, AS_IS);
}

/* The same into a float32 engine's slot. */
static void gather_rows_f32(const double *x, R_xlen_t n, R_xlen_t cols, const int *rows, int m,
                            float *out) {
  GATHER_ROWS(x, n, cols, rows, m, out, narrow);
}

static void gather_classes(const int *y, R_xlen_t n, R_xlen_t cols, const int *rows, int m,
                           int *out) {
  for (R_xlen_t j = 0; j < cols; j++)
    for (int i = 0; i < m; i++) out[i + j * m] = y[j * n + rows[i] - 1];
}

/* The rows of an array with n rows: x of n * width doubles. */
static R_xlen_t rows_of(SEXP x, R_xlen_t width) {
  return width > 0 ? XLENGTH(x) / width : 0;
}

/* Checks the inputs (a list of double arrays, one per model input, n rows
 * each) and returns n. */
static R_xlen_t check_inputs(const engine *e, SEXP xs) {
  if (TYPEOF(xs) != VECSXP || XLENGTH(xs) != e->n_inputs) Rf_error("internal error: the inputs");
  R_xlen_t n = -1;
  for (int k = 0; k < e->n_inputs; k++) {
    SEXP x = VECTOR_ELT(xs, k);
    R_xlen_t width = e->slots[e->inputs[k]].width;
    if (TYPEOF(x) != REALSXP || XLENGTH(x) % width != 0 || (n >= 0 && rows_of(x, width) != n))
      Rf_error("internal error: the inputs");
    n = rows_of(x, width);
  }
  return n;
}

static void check_rows(SEXP rows, R_xlen_t n, int max_rows) {
  if (TYPEOF(rows) != INTSXP || XLENGTH(rows) < 1 || XLENGTH(rows) > max_rows)
    Rf_error("internal error: the rows of a batch");
  for (R_xlen_t i = 0; i < XLENGTH(rows); i++)
    if (INTEGER(rows)[i] < 1 || INTEGER(rows)[i] > n) Rf_error("internal error: a row outside x");
}

/* A batch's sources as plain pointers, read from R's objects on the main
 * thread (R's API is never called from a pool thread): the inputs (n rows
 * each), the targets (a list per output: doubles of the output's width per
 * row, or the classes of a sparse loss as ints) and the row weights (NULL
 * when every row weighs 1). */
typedef struct {
  R_xlen_t n;
  const double **x;
  const void **y;
  const double *weights;
} batch_source;

static batch_source source_of(const engine *e, SEXP xs, SEXP ys, SEXP sample_weight) {
  batch_source d = {check_inputs(e, xs), NULL, NULL, NULL};
  R_xlen_t n = d.n;
  d.x = (const double **) R_alloc(e->n_inputs + 1, sizeof(double *));
  for (int k = 0; k < e->n_inputs; k++) d.x[k] = REAL(VECTOR_ELT(xs, k));
  if (TYPEOF(ys) != VECSXP || XLENGTH(ys) != e->n_outputs) Rf_error("internal error: the targets");
  d.y = (const void **) R_alloc(e->n_outputs + 1, sizeof(void *));
  for (int k = 0; k < e->n_outputs; k++) {
    const loss_spec *l = &e->losses[k];
    SEXP y = VECTOR_ELT(ys, k);
    R_xlen_t width = e->slots[l->slot].width;
    if (l->kind == LOSS_SCCE) {
      if (TYPEOF(y) != INTSXP || XLENGTH(y) != n * (width / l->classes))
        Rf_error("internal error: the targets");
      d.y[k] = INTEGER(y);
    } else {
      if (TYPEOF(y) != REALSXP || XLENGTH(y) != n * width) Rf_error("internal error: the targets");
      d.y[k] = REAL(y);
    }
  }
  if (sample_weight != R_NilValue) {
    if (TYPEOF(sample_weight) != REALSXP || XLENGTH(sample_weight) != n)
      Rf_error("internal error: the sample weights");
    d.weights = REAL(sample_weight);
  }
  return d;
}

/* The batch's rows (from 1) of the inputs and targets into the engine. */
static void gather_batch(engine *e, const batch_source *d, const int *rows, int m) {
  R_xlen_t n = d->n;
  for (int k = 0; k < e->n_inputs; k++) {
    slot *s = &e->slots[e->inputs[k]];
    if (e->f32) {
      gather_rows_f32(d->x[k], n, s->width, rows, m, s->fvalue);
    } else {
      gather_rows(d->x[k], n, s->width, rows, m, s->value);
    }
  }
  for (int k = 0; k < e->n_outputs; k++) {
    loss_spec *l = &e->losses[k];
    R_xlen_t width = e->slots[l->slot].width;
    if (l->kind == LOSS_SCCE) {
      void *classes = l->y; /* as ints, in the targets' space */
      gather_classes(d->y[k], n, width / l->classes, rows, m, classes);
    } else {
      gather_rows(d->y[k], n, width, rows, m, l->y);
    }
  }
  for (int i = 0; i < m; i++) e->row_weight[i] = d->weights ? d->weights[rows[i] - 1] : 1;
}

/* This step's dropout masks: a list by op, NULL or rows x width doubles. */
static void set_masks(engine *e, SEXP masks, int m) {
  if (masks != R_NilValue && (TYPEOF(masks) != VECSXP || XLENGTH(masks) != e->n_ops))
    Rf_error("internal error: the dropout masks");
  for (int k = 0; k < e->n_ops; k++) {
    op *o = &e->ops[k];
    SEXP mask = masks == R_NilValue ? R_NilValue : VECTOR_ELT(masks, k);
    if (mask != R_NilValue &&
        (TYPEOF(mask) != REALSXP || XLENGTH(mask) != (R_xlen_t) m * e->slots[o->out].width))
      Rf_error("internal error: a dropout mask");
    o->mask = mask == R_NilValue ? NULL : REAL(mask);
  }
}

/* --- the passes ------------------------------------------------------------ */

/* A float32 engine runs an op without float32 kernels (op_kind) on double
 * copies of its input and output slots (their values and, backward, their
 * gradients so far) and of its params (weights, the next values a forward
 * pass gives state params, gradients so far); what the op writes is rounded
 * back into the engine's floats. The copies live until the op returns
 * (vmaxset()), so their memory is one op's batch, not the run's; every
 * pointer to them is set before the op and cleared after it, so that one
 * left by an op that raised an error is never read. */
static double *widened(const float *x, R_xlen_t n) {
  void *memory = R_alloc(n > 0 ? (size_t) n : 1, sizeof(double));
  double *d = memory;
  if (x) to_double(x, d, n);
  return d;
}

static int input_seen_before(const op *o, int j) {
  for (int i = 0; i < j; i++)
    if (o->in[i] == o->in[j]) return 1;
  return 0;
}

static void run_on_doubles(engine *e, op *o, int m, int training, int backward_pass) {
  const void *vmax = vmaxget();
  slot *out = &e->slots[o->out];
  R_xlen_t n_out = (R_xlen_t) m * out->width;
  for (int j = 0; j < o->n_in; j++) {
    if (input_seen_before(o, j)) continue;
    slot *s = &e->slots[o->in[j]];
    R_xlen_t n = (R_xlen_t) m * s->width;
    s->value = widened(s->fvalue, n);
    s->grad = backward_pass && s->fgrad ? widened(s->written ? s->fgrad : NULL, n) : NULL;
  }
  out->value = widened(backward_pass ? out->fvalue : NULL, n_out);
  out->grad = backward_pass && out->fgrad ? widened(out->fgrad, n_out) : NULL;
  for (int j = 0; j < o->n_params; j++) {
    param *p = op_param(e, o, j);
    if (!p) continue;
    p->w = widened(p->fw, p->size);
    /* the next values of state params, which the forward pass writes */
    p->next = !backward_pass && p->fnext ? widened(NULL, p->size) : NULL;
    p->grad = backward_pass && p->trainable && p->fgrad
                  ? widened(p->written ? p->fgrad : NULL, p->size)
                  : NULL;
  }
  if (backward_pass) {
    o->kind->backward(e, o, m);
  } else {
    o->kind->forward(e, o, m, training);
    to_float(out->value, out->fvalue, n_out);
  }
  for (int j = 0; j < o->n_in; j++) {
    slot *s = &e->slots[o->in[j]];
    if (s->grad && s->written) to_float(s->grad, s->fgrad, (R_xlen_t) m * s->width);
  }
  for (int j = 0; j < o->n_params; j++) {
    param *p = op_param(e, o, j);
    if (!p) continue;
    if (p->next && p->pending) to_float(p->next, p->fnext, p->size);
    if (p->grad && p->written) to_float(p->grad, p->fgrad, p->size);
    p->w = p->next = p->grad = NULL;
  }
  for (int j = 0; j < o->n_in; j++) e->slots[o->in[j]].value = e->slots[o->in[j]].grad = NULL;
  out->value = out->grad = NULL;
  vmaxset(vmax);
}

static void run_forward(engine *e, op *o, int m, int training) {
  if (!e->f32) {
    o->kind->forward(e, o, m, training);
  } else if (o->kind->forward_f32) {
    o->kind->forward_f32(e, o, m, training);
  } else {
    run_on_doubles(e, o, m, training, 0);
  }
}

static void run_backward(engine *e, op *o, int m) {
  if (!e->f32) {
    o->kind->backward(e, o, m);
  } else if (o->kind->backward_f32) {
    o->kind->backward_f32(e, o, m);
  } else {
    run_on_doubles(e, o, m, 0, 1);
  }
}

static double activity_penalty(const op *o, const double *y, R_xlen_t n) {
  double l1 = 0, l2 = 0;
  SIMD_SUM(l1, l2) for (R_xlen_t i = 0; i < n; i++) {
    l1 += fabs(y[i]);
    l2 += y[i] * y[i];
  }
  return (o->act_l1 != 0 ? o->act_l1 * l1 : 0) + (o->act_l2 != 0 ? o->act_l2 * l2 : 0);
}

/* The same of a float32 engine's slot, summed in double. */
static double activity_penalty_f32(const op *o, const float *y, R_xlen_t n) {
  double l1 = 0, l2 = 0;
  SIMD_SUM(l1, l2) for (R_xlen_t i = 0; i < n; i++) {
    double v = y[i];
    l1 += fabs(v);
    l2 += v * v;
  }
  return (o->act_l1 != 0 ? o->act_l1 * l1 : 0) + (o->act_l2 != 0 ? o->act_l2 * l2 : 0);
}

static void forward(engine *e, int m, int training) {
  e->penalty = 0;
  for (int k = 0; k < e->n_ops; k++) {
    op *o = &e->ops[k];
    run_forward(e, o, m, training);
    if (o->act_l1 != 0 || o->act_l2 != 0) {
      /* keras divides an activity penalty by the batch size */
      slot *s = &e->slots[o->out];
      R_xlen_t n = (R_xlen_t) m * s->width;
      e->penalty += (e->f32 ? activity_penalty_f32(o, s->fvalue, n)
                            : activity_penalty(o, s->value, n)) / m;
    }
  }
}

static void clear_gradients(engine *e) {
  for (int s = 0; s < e->n_slots; s++) e->slots[s].written = 0;
  for (int k = 0; k < e->n_params; k++) e->params[k].written = 0;
}

static void backward(engine *e, int m) {
  for (int k = e->n_ops - 1; k >= 0; k--) {
    op *o = &e->ops[k];
    slot *out = &e->slots[o->out];
    if (!out->upstream) continue;
    if (o->act_l1 != 0 || o->act_l2 != 0) {
      R_xlen_t n = (R_xlen_t) m * out->width;
      for (R_xlen_t i = 0; i < n; i++) {
        double y = e->f32 ? out->fvalue[i] : out->value[i];
        double d = (o->act_l1 != 0 ? o->act_l1 * ((y > 0) - (y < 0)) : 0) +
                   (o->act_l2 != 0 ? 2 * o->act_l2 * y : 0);
        if (e->f32) {
          out->fgrad[i] = (float) ((out->written ? out->fgrad[i] : 0) + d / m);
        } else {
          out->grad[i] = (out->written ? out->grad[i] : 0) + d / m;
        }
      }
      out->written = 1;
    }
    if (!out->written) continue; /* nothing after it reaches a loss */
    run_backward(e, o, m);
  }
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    if (!p->trainable || p->written) continue;
    if (e->f32) {
      memset(p->fgrad, 0, p->size * sizeof(float));
    } else {
      memset(p->grad, 0, p->size * sizeof(double));
    }
  }
}

/* A regularizer's penalty of a param's weights. */
static double param_penalty(const engine *e, const param *p) {
  if (!e->f32) return penalty_value(p, p->w);
  const void *vmax = vmaxget();
  double value = penalty_value(p, widened(p->fw, p->size));
  vmaxset(vmax);
  return value;
}

/* Every output's loss: the total (weighted by the loss weights, with the
 * regularizers' penalties) and each output's own into per_output; with
 * `with_grad`, the gradient for each loss's input slot. A float32 engine's
 * losses take its predictions widened to double, and round their
 * gradients to float. */
static double losses(engine *e, int m, int with_grad, double *per_output) {
  double total = 0;
  for (int k = 0; k < e->n_outputs; k++) {
    loss_spec *l = &e->losses[k];
    slot *in = &e->slots[l->input];
    R_xlen_t n = (R_xlen_t) m * in->width;
    double *g = NULL;
    const void *classes = l->y; /* the targets of a sparse loss, as ints */
    if (e->f32) {
      if (with_grad && in->upstream) g = e->tmp2;
      to_double(in->fvalue, e->tmp, n);
      per_output[k] = loss_rows(l, l->y, classes, e->tmp, m, in->width, e->row_weight,
                                l->weight, g, NULL);
      if (g && in->written) {
        for (R_xlen_t i = 0; i < n; i++) in->fgrad[i] += (float) g[i];
      } else if (g) {
        to_float(g, in->fgrad, n);
      }
    } else {
      if (with_grad && in->upstream) g = in->written ? e->tmp : in->grad;
      per_output[k] = loss_rows(l, l->y, classes, in->value, m, in->width, e->row_weight,
                                l->weight, g, NULL);
      if (g == e->tmp) add_into(in->grad, e->tmp, n);
    }
    if (g) in->written = 1;
    total += l->weight * per_output[k];
  }
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    if (p->l1 != 0 || p->l2 != 0) total += param_penalty(e, p);
  }
  return total + e->penalty;
}

static void swap_doubles(double **a, double **b) {
  double *swap = *a;
  *a = *b;
  *b = swap;
}

static void swap_floats(float **a, float **b) {
  float *swap = *a;
  *a = *b;
  *b = swap;
}

static void commit_state(engine *e) {
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    if (!p->pending) continue;
    swap_doubles(&p->w, &p->next);
    swap_floats(&p->fw, &p->fnext);
    p->pending = 0;
  }
}

/* Whether a float32 engine's update runs in float32 (update_param_f32()):
 * SGD or Adam without amsgrad, with no clipping, regularizer or
 * constraint; otherwise it runs on double copies of the trainable params
 * (widen_params(), narrow_params()). */
static int update_in_float(const engine *e) {
  if (!((e->opt.kind == OPT_SGD || (e->opt.kind == OPT_ADAM && !e->opt.amsgrad)) &&
        e->opt.clip == CLIP_NONE))
    return 0;
  for (int k = 0; k < e->n_params; k++) {
    const param *p = &e->params[k];
    if (p->trainable && (p->l1 != 0 || p->l2 != 0 || p->constraint)) return 0;
  }
  return 1;
}

static void widen_params(engine *e) {
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    if (!p->trainable) continue;
    p->w = widened(p->fw, p->size);
    p->grad = widened(p->fgrad, p->size);
    p->next = widened(NULL, p->size);
    for (int j = 0; j < e->opt.n_slots; j++) {
      p->opt[j] = widened(p->fopt[j], p->size);
      p->opt_next[j] = widened(NULL, p->size);
    }
  }
}

/* The update's results back into floats, and the copies' pointers cleared;
 * 0 if a new weight is not finite in float32. */
static int narrow_params(engine *e) {
  int finite = 1;
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    if (!p->trainable) continue;
    to_float(p->next, p->fnext, p->size);
    to_float(p->grad, p->fgrad, p->size);
    for (R_xlen_t i = 0; i < p->size; i++) finite &= p->fnext[i] - p->fnext[i] == 0;
    for (int j = 0; j < e->opt.n_slots; j++) {
      to_float(p->opt_next[j], p->fopt_next[j], p->size);
      p->opt[j] = p->opt_next[j] = NULL;
    }
    p->w = p->grad = p->next = NULL;
  }
  return finite;
}

/* Clipping, the optimizer's update, constraints: committed only when every
 * new weight is finite. Returns 0, or 2 when nothing was committed. */
static int update(engine *e, double lr) {
  int any = 0;
  for (int k = 0; k < e->n_params; k++) any |= e->params[k].trainable;
  if (!any) return 0;
  double step = e->iterations + 1;
  int finite = 1;
  if (e->f32 && update_in_float(e)) {
    for (int k = 0; k < e->n_params && finite; k++) {
      param *p = &e->params[k];
      if (p->trainable) finite &= update_param_f32(&e->opt, p, lr, step) == 1;
    }
  } else {
    const void *vmax = vmaxget();
    if (e->f32) widen_params(e);
    for (int k = 0; k < e->n_params; k++) {
      param *p = &e->params[k];
      if (p->trainable && (p->l1 != 0 || p->l2 != 0)) penalty_gradient(p);
    }
    clip_gradients(&e->opt, e->params, e->n_params);
    optimizer_begin_step(&e->opt, step);
    for (int k = 0; k < e->n_params && finite; k++) {
      param *p = &e->params[k];
      if (!p->trainable) continue;
      finite &= update_param(&e->opt, p, lr, step);
      if (p->constraint) {
        apply_constraint(p, p->next);
        for (R_xlen_t i = 0; i < p->size; i++) finite &= p->next[i] - p->next[i] == 0;
      }
    }
    if (e->f32) finite &= narrow_params(e);
    vmaxset(vmax);
  }
  if (!finite) return 2;
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    if (!p->trainable) continue;
    swap_doubles(&p->w, &p->next);
    swap_floats(&p->fw, &p->fnext);
    for (int j = 0; j < e->opt.n_slots; j++) {
      swap_doubles(&p->opt[j], &p->opt_next[j]);
      swap_floats(&p->fopt[j], &p->fopt_next[j]);
    }
  }
  e->iterations = step;
  return 0;
}

/* --- the entry points ------------------------------------------------------ */

/* One training step on the m rows `rows` (from 1): the loss, each output's
 * loss into per_output, and the status: 0 (done), 1 (the loss is not
 * finite) or 2 (the update makes weights that are not finite); nothing
 * changed for either failure. */
static int train_step(engine *e, const batch_source *d, const int *rows, int m, double lr,
                      SEXP masks, double *loss, double *per_output) {
  gather_batch(e, d, rows, m);
  set_masks(e, masks, m);
  forward(e, m, 1);
  clear_gradients(e);
  *loss = losses(e, m, 1, per_output);
  int status = R_FINITE(*loss) ? 0 : 1;
  if (status == 0) {
    backward(e, m);
    status = update(e, lr);
    if (status == 0) commit_state(e);
  }
  for (int k = 0; k < e->n_params; k++) e->params[k].pending = 0;
  set_masks(e, R_NilValue, m);
  return status;
}

/* Training steps on `rows` (from 1) of the inputs xs, the targets ys and
 * the row weights (or NULL), in batches of batch_size rows in order, one
 * learning rate per step in lr, and per step its dropout masks (or NULL
 * without dropout). Stops after a step that fails. Interrupts are honoured
 * between steps, where the engine's weights are those of the last step.
 * Gives list(loss per step, each output's loss per step (outputs x steps),
 * the status of the last step run (as train_step), the steps run, and with
 * `want_outputs` each output's values on the rows run, a rows x width
 * matrix). */
SEXP selu_engine_steps(SEXP ptr, SEXP xs, SEXP ys, SEXP sample_weight, SEXP rows,
                       SEXP batch_size, SEXP lr, SEXP masks, SEXP want_outputs) {
  engine *e = engine_of(ptr);
  if (!e->has_training || TYPEOF(rows) != INTSXP || XLENGTH(rows) < 1 ||
      XLENGTH(rows) > INT_MAX || TYPEOF(batch_size) != INTSXP || XLENGTH(batch_size) != 1 ||
      INTEGER(batch_size)[0] < 1 || TYPEOF(lr) != REALSXP || !is_flag(want_outputs))
    Rf_error("internal error: selu_engine_steps's arguments");
  batch_source d = source_of(e, xs, ys, sample_weight);
  R_xlen_t n = d.n;
  int total = (int) XLENGTH(rows), batch = INTEGER(batch_size)[0];
  int n_steps = (total - 1) / batch + 1;
  if ((total < batch ? total : batch) > e->max_rows || XLENGTH(lr) != n_steps ||
      (masks != R_NilValue && (TYPEOF(masks) != VECSXP || XLENGTH(masks) != n_steps)))
    Rf_error("internal error: selu_engine_steps's arguments");
  for (int i = 0; i < total; i++)
    if (INTEGER(rows)[i] < 1 || INTEGER(rows)[i] > n) Rf_error("internal error: a row outside x");
  SEXP loss = PROTECT(Rf_allocVector(REALSXP, n_steps));
  SEXP per_output = PROTECT(Rf_allocMatrix(REALSXP, e->n_outputs, n_steps));
  SEXP outputs = R_NilValue;
  if (LOGICAL(want_outputs)[0]) {
    outputs = PROTECT(Rf_allocVector(VECSXP, e->n_outputs));
    for (int k = 0; k < e->n_outputs; k++)
      SET_VECTOR_ELT(outputs, k, Rf_allocMatrix(REALSXP, total, (int) e->slots[e->outputs[k]].width));
  } else {
    PROTECT(outputs);
  }
  int status = 0, done = 0;
  for (int step = 0; step < n_steps && status == 0; step++) {
    if (step > 0) R_CheckUserInterrupt();
    int first = step * batch, m = total - first < batch ? total - first : batch;
    status = train_step(e, &d, INTEGER(rows) + first, m, REAL(lr)[step],
                        masks == R_NilValue ? R_NilValue : VECTOR_ELT(masks, step),
                        &REAL(loss)[step], &REAL(per_output)[(R_xlen_t) step * e->n_outputs]);
    done++;
    for (int k = 0; outputs != R_NilValue && k < e->n_outputs; k++) {
      const slot *s = &e->slots[e->outputs[k]];
      double *to = REAL(VECTOR_ELT(outputs, k)) + first;
      for (R_xlen_t j = 0; j < s->width; j++) {
        if (e->f32) {
          to_double(s->fvalue + j * m, to + j * total, m);
        } else {
          memcpy(to + j * total, s->value + j * m, (size_t) m * sizeof(double));
        }
      }
    }
  }
  SEXP result = PROTECT(Rf_allocVector(VECSXP, 5));
  SET_VECTOR_ELT(result, 0, loss);
  SET_VECTOR_ELT(result, 1, per_output);
  SET_VECTOR_ELT(result, 2, Rf_ScalarInteger(status));
  SET_VECTOR_ELT(result, 3, Rf_ScalarInteger(done));
  SET_VECTOR_ELT(result, 4, outputs);
  UNPROTECT(4);
  return result;
}

/* Whether the engine's forward pass can run on a pool thread: no op calls
 * R (an R function's op does, and so does a float32 engine's op without
 * float32 kernels, which widens its buffers in R's memory). */
static int forward_off_main_thread(const engine *e) {
  for (int k = 0; k < e->n_ops; k++) {
    const op *o = &e->ops[k];
    if (o->kind == find_op_kind("r_function") || (e->f32 && !o->kind->forward_f32)) return 0;
  }
  return 1;
}

SEXP selu_engine_threadable(SEXP ptr) {
  return Rf_ScalarLogical(forward_off_main_thread(engine_of(ptr)));
}

/* A team of engines (a list of them, of one program): each runs batches on
 * a thread of its own, and all read the first's weights, lent to the
 * others for the run (inference writes none). *size is the number of
 * threads the run may use: 1 when the forward pass must stay on the main
 * thread. */
static engine **team_of(SEXP engines, int *size) {
  if (TYPEOF(engines) != VECSXP || XLENGTH(engines) < 1 || XLENGTH(engines) > 1024)
    Rf_error("internal error: the engines");
  int count = (int) XLENGTH(engines);
  engine **team = (engine **) R_alloc(count, sizeof(engine *));
  for (int t = 0; t < count; t++) {
    engine *et = team[t] = engine_of(VECTOR_ELT(engines, t));
    if (et->n_params != team[0]->n_params || et->n_inputs != team[0]->n_inputs ||
        et->n_outputs != team[0]->n_outputs || et->f32 != team[0]->f32 ||
        et->has_training != team[0]->has_training || et->max_rows < team[0]->max_rows)
      Rf_error("internal error: the engines differ");
  }
  *size = forward_off_main_thread(team[0]) ? count : 1;
  return team;
}

/* Lends the first engine's weights to the others (their dropout masks
 * cleared), giving back what they held, for return_weights(). */
static void **lend_weights(engine **team, int size) {
  int n_params = team[0]->n_params;
  void **own = (void **) R_alloc(2 * (size_t) size * n_params + 1, sizeof(void *));
  for (int t = 0; t < size; t++) {
    engine *et = team[t];
    set_masks(et, R_NilValue, et->max_rows);
    for (int k = 0; k < n_params; k++) {
      own[2 * (t * n_params + k)] = et->params[k].w;
      own[2 * (t * n_params + k) + 1] = et->params[k].fw;
      et->params[k].w = team[0]->params[k].w;
      et->params[k].fw = team[0]->params[k].fw;
    }
  }
  return own;
}

static void return_weights(engine **team, int size, void **own) {
  int n_params = team[0]->n_params;
  for (int t = 0; t < size; t++) {
    engine *et = team[t];
    for (int k = 0; k < n_params; k++) {
      et->params[k].w = own[2 * (t * n_params + k)];
      et->params[k].fw = own[2 * (t * n_params + k) + 1];
      et->params[k].pending = 0;
    }
  }
}

/* evaluate()'s batches, one per engine of the team at most: batch b of
 * m[b] rows rows[b] into its loss, each output's loss and its outputs. */
typedef struct {
  engine **team;
  const batch_source *d;
  const int **rows;
  int *m;
  double *loss, *per_output; /* per batch; n_outputs per batch */
  double **outputs;          /* per batch and output, m x width */
  int count;
} test_run;

static void test_batch(engine *e, const test_run *r, int b) {
  int m = r->m[b];
  gather_batch(e, r->d, r->rows[b], m);
  forward(e, m, 0);
  for (int k = 0; k < e->n_params; k++) e->params[k].pending = 0;
  r->loss[b] = losses(e, m, 0, r->per_output + (R_xlen_t) b * e->n_outputs);
  for (int k = 0; k < e->n_outputs; k++) {
    const slot *s = &e->slots[e->outputs[k]];
    double *to = r->outputs[(R_xlen_t) b * e->n_outputs + k];
    if (e->f32) {
      to_double(s->fvalue, to, (R_xlen_t) m * s->width);
    } else {
      memcpy(to, s->value, (size_t) m * s->width * sizeof(double));
    }
  }
}

static void test_member(const void *context, int t, int nth) {
  const test_run *r = context;
  for (int b = t; b < r->count; b += nth) test_batch(r->team[t], r, b);
}

/* The loss (with the penalties), each output's loss and the outputs, in
 * inference mode, of each batch of `batches` (a list of rows from 1, at
 * most one per engine of `engines`, which run them side by side):
 * list(list(loss, each output's loss, outputs), ...) by batch. */
SEXP selu_engine_test(SEXP engines, SEXP xs, SEXP ys, SEXP sample_weight, SEXP batches) {
  int size;
  engine **team = team_of(engines, &size);
  engine *e = team[0];
  if (!e->has_training || TYPEOF(batches) != VECSXP || XLENGTH(batches) < 1 ||
      XLENGTH(batches) > XLENGTH(engines))
    Rf_error("internal error: selu_engine_test's arguments");
  batch_source d = source_of(e, xs, ys, sample_weight);
  int count = (int) XLENGTH(batches);
  test_run run = {team,
                  &d,
                  (const int **) R_alloc(count, sizeof(int *)),
                  (int *) R_alloc(count, sizeof(int)),
                  widened(NULL, count),
                  widened(NULL, (R_xlen_t) count * e->n_outputs),
                  (double **) R_alloc((size_t) count * e->n_outputs + 1, sizeof(double *)),
                  count};
  SEXP result = PROTECT(Rf_allocVector(VECSXP, count));
  for (int b = 0; b < count; b++) {
    SEXP rows = VECTOR_ELT(batches, b);
    check_rows(rows, d.n, e->max_rows);
    run.rows[b] = INTEGER(rows);
    run.m[b] = (int) XLENGTH(rows);
    SEXP one = Rf_allocVector(VECSXP, 3);
    SET_VECTOR_ELT(result, b, one);
    SEXP outputs = Rf_allocVector(VECSXP, e->n_outputs);
    SET_VECTOR_ELT(one, 2, outputs);
    for (int k = 0; k < e->n_outputs; k++) {
      SEXP v = Rf_allocMatrix(REALSXP, run.m[b], (int) e->slots[e->outputs[k]].width);
      SET_VECTOR_ELT(outputs, k, v);
      run.outputs[(R_xlen_t) b * e->n_outputs + k] = REAL(v);
    }
  }
  void **own = lend_weights(team, size);
  run_team(test_member, &run, size < count ? size : count);
  return_weights(team, size, own);
  for (int b = 0; b < count; b++) {
    SEXP one = VECTOR_ELT(result, b);
    SET_VECTOR_ELT(one, 0, Rf_ScalarReal(run.loss[b]));
    SEXP losses_b = Rf_allocVector(REALSXP, e->n_outputs);
    SET_VECTOR_ELT(one, 1, losses_b);
    memcpy(REAL(losses_b), run.per_output + (R_xlen_t) b * e->n_outputs,
           e->n_outputs * sizeof(double));
  }
  UNPROTECT(1);
  return result;
}

/* predict()'s batches: batch b is rows [b * batch, (b + 1) * batch) of the
 * inputs x (n rows each) into the outputs y, on an engine of its own. */
typedef struct {
  engine **team;
  const double **x;
  double **y;
  const int *direct;
  R_xlen_t n, first, count; /* the batches first .. first + count - 1 */
  int batch;
} predict_run;

static void predict_batch(engine *e, const predict_run *r, R_xlen_t b) {
  R_xlen_t n = r->n, start = b * r->batch;
  int m = n - start < r->batch ? (int) (n - start) : r->batch;
  for (int k = 0; k < e->n_inputs; k++) {
    slot *s = &e->slots[e->inputs[k]];
    const double *x = r->x[k] + start;
    if (r->direct[k]) {
      s->value = (double *) x; /* read only: no op writes its inputs */
      s->ld = n;
    } else if (e->f32) {
      /* each column's stretch is a few KB, too short for the processor
       * to stream it ahead by itself: the next column's is asked for */
      for (R_xlen_t j = 0; j < s->width; j++) {
#if defined(__GNUC__)
        if (j + 1 < s->width)
          for (int i = 0; i < m; i += 8) __builtin_prefetch(x + (j + 1) * n + i);
#endif
        to_float(x + j * n, s->fvalue + j * m, m);
      }
    } else {
      for (R_xlen_t j = 0; j < s->width; j++)
        memcpy(s->value + j * m, x + j * n, (size_t) m * sizeof(double));
    }
  }
  forward(e, m, 0);
  for (int k = 0; k < e->n_outputs; k++) {
    const slot *s = &e->slots[e->outputs[k]];
    double *y = r->y[k] + start;
    for (R_xlen_t j = 0; j < s->width; j++) {
      if (e->f32) {
        to_double(s->fvalue + j * m, y + j * n, m);
      } else {
        memcpy(y + j * n, s->value + j * m, (size_t) m * sizeof(double));
      }
    }
  }
}

/* Member t of nth takes every nth batch of the run's, on engine t. */
static void predict_member(const void *context, int t, int nth) {
  const predict_run *r = context;
  for (R_xlen_t b = r->first + t; b < r->first + r->count; b += nth)
    predict_batch(r->team[t], r, b);
}

/* The outputs on every row of the inputs, in inference mode, in batches of
 * at most batch_size rows (and of the engines' max_rows): a list of n x
 * width matrices, their memory reused where it can be (alloc.c).
 * `engines` is a list of engines of one program, the weights loaded in the
 * first: with more than one (and a forward pass that can run off the main
 * thread), each takes every so many batches on a thread of its own, reading
 * the first's weights. A row's outputs are the same on any number of them. */
SEXP selu_engine_predict(SEXP engines, SEXP xs, SEXP batch_size) {
  int size;
  engine **team = team_of(engines, &size);
  engine *e = team[0];
  if (TYPEOF(batch_size) != INTSXP || XLENGTH(batch_size) != 1 || INTEGER(batch_size)[0] < 1)
    Rf_error("internal error: selu_engine_predict's arguments");
  R_xlen_t n = check_inputs(e, xs);
  int batch = INTEGER(batch_size)[0] < e->max_rows ? INTEGER(batch_size)[0] : e->max_rows;
  SEXP out = PROTECT(Rf_allocVector(VECSXP, e->n_outputs));
  double **y = (double **) R_alloc(e->n_outputs, sizeof(double *));
  for (int k = 0; k < e->n_outputs; k++) {
    R_xlen_t width = e->slots[e->outputs[k]].width;
    SEXP v = PROTECT(alloc_result(REALSXP, n * width));
    SEXP dim = PROTECT(Rf_allocVector(INTSXP, 2));
    INTEGER(dim)[0] = (int) n;
    INTEGER(dim)[1] = (int) width;
    Rf_setAttrib(v, R_DimSymbol, dim);
    SET_VECTOR_ELT(out, k, v);
    y[k] = REAL(v);
    UNPROTECT(2);
  }
  /* an input that only Dense ops read (on its whole width) is read where it
   * lies, its rows n apart, instead of copied batch by batch */
  int *direct = (int *) R_alloc(e->n_inputs, sizeof(int));
  const double **x = (const double **) R_alloc(e->n_inputs, sizeof(double *));
  for (int k = 0; k < e->n_inputs; k++) {
    slot *s = &e->slots[e->inputs[k]];
    direct[k] = n <= INT_MAX && !e->f32;
    for (int j = 0; j < e->n_outputs; j++) direct[k] &= e->outputs[j] != e->inputs[k];
    for (int j = 0; j < e->n_ops; j++)
      for (int i = 0; i < e->ops[j].n_in; i++)
        if (e->ops[j].in[i] == e->inputs[k])
          direct[k] &= e->ops[j].kind == find_op_kind("dense") && e->ops[j].inputs == s->width;
    x[k] = REAL(VECTOR_ELT(xs, k));
  }
  double **own_input = (double **) R_alloc((size_t) size * e->n_inputs + 1, sizeof(double *));
  for (int t = 0; t < size; t++)
    for (int k = 0; k < e->n_inputs; k++)
      own_input[t * e->n_inputs + k] = team[t]->slots[team[t]->inputs[k]].value;
  void **own = lend_weights(team, size);
  predict_run run = {team, x, y, direct, n, 0, 0, batch};
  R_xlen_t batches = (n + batch - 1) / batch;
  for (run.first = 0; run.first < batches; run.first += size) {
    run.count = batches - run.first < size ? batches - run.first : size;
    run_team(predict_member, &run, (int) run.count);
    if (run.first + size < batches) R_CheckUserInterrupt();
  }
  return_weights(team, size, own);
  for (int t = 0; t < size; t++) {
    for (int k = 0; k < e->n_inputs; k++) {
      slot *s = &team[t]->slots[team[t]->inputs[k]];
      s->value = own_input[t * e->n_inputs + k];
      s->ld = 0;
    }
  }
  UNPROTECT(1);
  return out;
}

/* An eager call on whole arrays (one batch of every row; the engine made
 * with io_bound for at least that many): the outputs, in training mode with
 * the masks when `training` (a forward pass's state updates, batch
 * normalization's moving statistics, are kept); and, given the gradients
 * of the outputs (a list, each of the output's size or one number for
 * all), the gradients of the inputs and of the trainable params.
 * list(outputs, input gradients, param gradients). */
SEXP selu_engine_call(SEXP ptr, SEXP xs, SEXP training, SEXP masks, SEXP grads) {
  engine *e = engine_of(ptr);
  if (!is_flag(training)) Rf_error("internal error: selu_engine_call's arguments");
  R_xlen_t n = check_inputs(e, xs);
  if (n < 1 || n > e->max_rows) Rf_error("internal error: selu_engine_call's rows");
  int m = (int) n;
  /* a float32 engine's inputs and outputs are its own buffers, copied */
  for (int k = 0; k < e->n_inputs; k++) {
    slot *s = &e->slots[e->inputs[k]];
    if (e->f32) {
      to_float(REAL(VECTOR_ELT(xs, k)), s->fvalue, n * s->width);
    } else {
      s->value = REAL(VECTOR_ELT(xs, k));
    }
  }
  SEXP outputs = PROTECT(Rf_allocVector(VECSXP, e->n_outputs));
  for (int k = 0; k < e->n_outputs; k++) {
    slot *s = &e->slots[e->outputs[k]];
    SEXP v = alloc_result(REALSXP, n * s->width);
    SET_VECTOR_ELT(outputs, k, v);
    int is_input = 0;
    for (int j = 0; j < e->n_inputs; j++) is_input |= e->inputs[j] == e->outputs[k];
    if (is_input && !e->f32) {
      memcpy(REAL(v), s->value, (size_t) n * s->width * sizeof(double));
    } else if (!e->f32) {
      s->value = REAL(v);
    }
  }
  set_masks(e, masks, m);
  forward(e, m, LOGICAL(training)[0]);
  commit_state(e);
  if (e->f32) {
    for (int k = 0; k < e->n_outputs; k++) {
      const slot *s = &e->slots[e->outputs[k]];
      to_double(s->fvalue, REAL(VECTOR_ELT(outputs, k)), n * s->width);
    }
  }
  SEXP result = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(result, 0, outputs);
  if (grads != R_NilValue) {
    if (TYPEOF(grads) != VECSXP || XLENGTH(grads) != e->n_outputs)
      Rf_error("internal error: the output gradients");
    clear_gradients(e);
    for (int k = 0; k < e->n_outputs; k++) {
      slot *s = &e->slots[e->outputs[k]];
      SEXP g = VECTOR_ELT(grads, k);
      R_xlen_t size = n * s->width;
      if (TYPEOF(g) != REALSXP || (XLENGTH(g) != size && XLENGTH(g) != 1))
        Rf_error("internal error: the output gradients");
      if (!s->upstream) continue;
      const double *gv = REAL(g);
      int one = XLENGTH(g) == 1;
      for (R_xlen_t i = 0; i < size; i++) {
        double gi = gv[one ? 0 : i];
        if (e->f32) {
          s->fgrad[i] = narrow((s->written ? s->fgrad[i] : 0) + gi);
        } else {
          s->grad[i] = (s->written ? s->grad[i] : 0) + gi;
        }
      }
      s->written = 1;
    }
    backward(e, m);
    SEXP dx = PROTECT(Rf_allocVector(VECSXP, e->n_inputs));
    for (int k = 0; k < e->n_inputs; k++) {
      slot *s = &e->slots[e->inputs[k]];
      SEXP v = Rf_allocVector(REALSXP, n * s->width);
      SET_VECTOR_ELT(dx, k, v);
      if (e->f32 && s->fgrad && s->written) {
        to_double(s->fgrad, REAL(v), n * s->width);
      } else if (!e->f32 && s->grad && s->written) {
        memcpy(REAL(v), s->grad, (size_t) n * s->width * sizeof(double));
      } else {
        memset(REAL(v), 0, (size_t) n * s->width * sizeof(double));
      }
    }
    SEXP dw = PROTECT(Rf_allocVector(VECSXP, e->n_params));
    for (int k = 0; k < e->n_params; k++) {
      param *p = &e->params[k];
      if (!p->trainable) continue;
      SEXP v = Rf_allocVector(REALSXP, p->size);
      SET_VECTOR_ELT(dw, k, v);
      if (e->f32) {
        to_double(p->fgrad, REAL(v), p->size);
      } else {
        memcpy(REAL(v), p->grad, p->size * sizeof(double));
      }
    }
    SET_VECTOR_ELT(result, 1, dx);
    SET_VECTOR_ELT(result, 2, dw);
    UNPROTECT(2);
  }
  set_masks(e, R_NilValue, m);
  UNPROTECT(2);
  return result;
}

/* The loss of the batch `rows` in training mode (with the masks) and the
 * gradients of the trainable params (the penalties' included), without an
 * update: list(loss, gradients by param, NULL for those that do not train). */
SEXP selu_engine_gradients(SEXP ptr, SEXP xs, SEXP ys, SEXP sample_weight, SEXP rows,
                           SEXP masks) {
  engine *e = engine_of(ptr);
  if (!e->has_training) Rf_error("internal error: selu_engine_gradients's arguments");
  batch_source d = source_of(e, xs, ys, sample_weight);
  check_rows(rows, d.n, e->max_rows);
  int m = (int) XLENGTH(rows);
  gather_batch(e, &d, INTEGER(rows), m);
  set_masks(e, masks, m);
  forward(e, m, 1);
  for (int k = 0; k < e->n_params; k++) e->params[k].pending = 0;
  clear_gradients(e);
  void *memory = R_alloc(e->n_outputs, sizeof(double));
  double *per_output = memory;
  double loss = losses(e, m, 1, per_output);
  backward(e, m);
  set_masks(e, R_NilValue, m);
  SEXP grads = PROTECT(Rf_allocVector(VECSXP, e->n_params));
  for (int k = 0; k < e->n_params; k++) {
    param *p = &e->params[k];
    if (!p->trainable) continue;
    SEXP v = Rf_allocVector(REALSXP, p->size);
    SET_VECTOR_ELT(grads, k, v);
    if (e->f32) {
      /* the penalty's gradient in double, on the gradient widened */
      to_double(p->fgrad, REAL(v), p->size);
      p->w = widened(p->fw, p->size);
      p->grad = REAL(v);
      if (p->l1 != 0 || p->l2 != 0) penalty_gradient(p);
      p->w = p->grad = NULL;
    } else {
      if (p->l1 != 0 || p->l2 != 0) penalty_gradient(p);
      memcpy(REAL(v), p->grad, p->size * sizeof(double));
    }
  }
  SEXP result = Rf_list2(Rf_ScalarReal(loss), grads);
  UNPROTECT(1);
  return result;
}
