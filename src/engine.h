#ifndef SELU_ENGINE_H
#define SELU_ENGINE_H

/* The training engine: a model compiled to a program of ops (R/program.R),
 * run forward, through its losses, backward and through the optimizer's
 * update, on buffers made once per program and batch size.
 *
 * Every value flowing between ops lives in a slot: a batch of rows, each of
 * `width` elements, stored as R stores an array whose first axis is the
 * batch (row i, element p of the sample at i + p * rows). A Dense op reads
 * its input as the matrix (rows * width / inputs) x inputs, so that input of
 * any rank is transformed along its last axis. Weights live in one registry
 * of params, each op naming those it uses; gradients flow back through the
 * slots' `grad` buffers. */

#include "dispatch.h"

/* A loop whose sums may be taken in vector lanes: their order is fixed by
 * the build and the instruction set, never by the thread count. */
#define SIMD_PRAGMA(x) _Pragma(#x)
#if defined(_OPENMP)
#define SIMD_SUM(...) SIMD_PRAGMA(omp simd reduction(+ : __VA_ARGS__))
#define SIMD_ANY(...) SIMD_PRAGMA(omp simd reduction(| : __VA_ARGS__))
#else
#define SIMD_SUM(...)
#define SIMD_ANY(...)
#endif

#define MAX_OP_PARAMS 4
#define MAX_OPT_SLOTS 3

typedef struct engine engine;
typedef struct op op;

typedef struct {
  R_xlen_t width;
  double *value; /* rows x width */
  double *grad;  /* rows x width, where a gradient flows back (upstream) */
  /* the same in a float32 engine, whose value and grad are NULL except
   * while an op without float32 kernels runs on double copies (engine.c) */
  float *fvalue, *fgrad;
  int upstream;  /* a trainable weight or a wanted input gradient lies before it */
  int written;   /* this step's gradient has its first term */
  R_xlen_t ld;   /* rows apart of a sample's elements when value is bound to
                  * the caller's array; 0 for a buffer of the batch's own */
} slot;

/* Constraints, applied to a weight after each update. */
enum { CONSTRAINT_NONE = 0, CONSTRAINT_MAX_NORM, CONSTRAINT_NON_NEG, CONSTRAINT_UNIT_NORM,
       CONSTRAINT_MIN_MAX_NORM };

typedef struct {
  R_xlen_t size;
  int trainable;
  int state; /* updated by the forward pass in training (batch normalization's moving
              * statistics), committed with the step */
  double *w, *next, *grad;
  double *opt[MAX_OPT_SLOTS], *opt_next[MAX_OPT_SLOTS];
  /* the same in a float32 engine (as for slots) */
  float *fw, *fnext, *fgrad;
  float *fopt[MAX_OPT_SLOTS], *fopt_next[MAX_OPT_SLOTS];
  double l1, l2; /* the regularizer's factors */
  int constraint;
  double c_max, c_min, c_rate;
  const int *c_group; /* each element's norm group (constraint axes), or NULL */
  int c_groups;
  double *c_norm;
  int written; /* this step's gradient has its first term */
  int pending; /* a state param whose `next` the forward pass wrote */
} param;

typedef struct {
  const char *name;
  /* doubles of scratch the op needs for batches of max_rows rows */
  R_xlen_t (*scratch)(const engine *e, const op *o, int max_rows);
  void (*forward)(engine *e, op *o, int m, int training);
  /* the gradients of the op's inputs (those upstream) and of its params,
   * from its output slot's grad */
  void (*backward)(engine *e, op *o, int m);
  /* the same on a float32 engine's buffers; NULL for an op that runs there
   * on double copies of its inputs, params and output (engine.c) */
  void (*forward_f32)(engine *e, op *o, int m, int training);
  void (*backward_f32)(engine *e, op *o, int m);
} op_kind;

struct op {
  const op_kind *kind;
  int n_in, out;
  const int *in; /* the input slots */
  int n_params, param[MAX_OP_PARAMS]; /* -1: absent */
  int single;                         /* round to float32 values, as a float32 layer */
  double act_l1, act_l2;              /* an activity regularizer on the output */
  /* Dense */
  int inputs, units;
  /* elementwise activations */
  unary_loop fwd;
  binary_loop bwd;
  kernel_params kp;
  /* softmax along an axis: `pre` elements before the axis in a sample, `len`
   * along it, `post` after; along the batch axis when batch_axis */
  R_xlen_t pre, len, post;
  int batch_axis;
  /* dropout: the rate, alpha dropout's a and b; this step's mask */
  double rate, a, b;
  const double *mask;
  /* normalization: each sample position's feature (gamma, beta, alpha of
   * PReLU) and, for layer normalization, its group */
  const int *feature, *group;
  int n_features, n_groups;
  double epsilon, momentum;
  int batch_statistics;    /* batch normalization: a trainable layer */
  int normalized_by_batch; /* how the last forward pass normalized */
  /* gather (flatten, concatenate): each output position's input and position
   * there; merges (add, multiply, average): each input's position for each
   * output position (n_in x width), broadcasting inputs of size 1 */
  const int *source, *position;
  int merge; /* MERGE_* */
  int input_dim; /* embedding: the number of ids */
  SEXP fun;             /* an R function's op: list(forward, backward) */
  double *scratch;
};

enum { MERGE_ADD = 0, MERGE_MULTIPLY, MERGE_AVERAGE };

enum { LOSS_MSE = 0, LOSS_MAE, LOSS_HUBER, LOSS_BCE, LOSS_CCE, LOSS_SCCE };

typedef struct {
  int kind, from_logits, fused;
  double label_smoothing, delta, weight;
  int slot;  /* the output's slot */
  int input; /* the slot the loss reads: the output, or the logits when fused */
  int classes;
  void *y; /* this batch's targets: doubles, or the classes of a sparse loss as ints */
} loss_spec;

/* The update rules, by R/program.R's optimizer_codes (AdamW is Adam's rule:
 * its weight decay is the one every optimizer has). */
enum { OPT_SGD = 0, OPT_ADAM, OPT_RMSPROP, OPT_ADAGRAD, OPT_NADAM, OPT_ADAMAX, OPT_ADADELTA,
       OPT_FTRL };
enum { CLIP_NONE = 0, CLIP_NORM, CLIP_GLOBAL, CLIP_VALUE };

typedef struct {
  int kind, n_slots, clip;
  double beta_1, beta_2, epsilon, momentum, rho, initial;
  int amsgrad, nesterov, centered;
  /* Ftrl: learning_rate_power and the l1, l2, l2 shrinkage and beta strengths */
  double lr_power, l1, l2, l2_shrinkage, beta;
  double weight_decay; /* NA: none */
  double clip_value;
  /* Nadam: the product of its momentum schedule u_1 ... u_t at step
   * product_step, kept from step to step as keras keeps it */
  double u_product, product_step;
} optimizer_spec;

/* C = alpha op(A) op(B) + beta C in float32, column-major, as BLAS's sgemm
 * takes it (gemm.c). */
typedef void (*sgemm_fn)(const char *transa, const char *transb, int m, int n, int k,
                         float alpha, const float *a, int lda, const float *b, int ldb,
                         float beta, float *c, int ldc);

struct engine {
  int n_ops, n_slots, n_params, n_inputs, n_outputs, max_rows;
  int f32;      /* every layer float32: the buffers are float (fvalue, fw, ...) */
  sgemm_fn sgemm; /* a float32 engine's matrix product */
  op *ops;
  slot *slots;
  param *params;
  int *inputs, *outputs; /* slots */
  int has_training;
  loss_spec *losses;
  optimizer_spec opt;
  double iterations;
  double *tmp; /* max_rows x the widest slot, for gradients that add up */
  double *tmp2; /* the same again, a float32 engine's loss gradient in double */
  double *row_weight;
  double penalty; /* the activity regularizers' penalty of the last forward pass */
  void *memory; /* every buffer, in one block the engine frees itself */
};

/* The op kinds (ops.c), by the names R/program.R gives them. */
const op_kind *find_op_kind(const char *name);

/* Helpers of the ops (engine.c). */
double *input_grad(engine *e, const op *o, int k, int *add);
double *param_grad(engine *e, const op *o, int k, int *add);
float *input_grad_f32(engine *e, const op *o, int k, int *add);
float *param_grad_f32(engine *e, const op *o, int k, int *add);
void add_into(double *restrict to, const double *restrict from, R_xlen_t n);
void round_to_float(double *x, R_xlen_t n);
void to_double(const float *restrict from, double *restrict to, R_xlen_t n);
void to_float(const double *restrict from, float *restrict to, R_xlen_t n);
float narrow(double x); /* to float, R's NA kept (engine.c) */

/* A float32 engine's matrix products (gemm.c): BLAS's sgemm when the BLAS R
 * loaded has one, else portable loops; `portable` asks for the loops. */
sgemm_fn find_sgemm(int portable);
param *op_param(engine *e, const op *o, int k);

/* The loss of rows with targets y (or classes) and predictions (or logits)
 * p of `width` each, per row weighted by w: its value, and its gradient
 * with respect to p into grad (scaled by `scale`) unless NULL; per_row the
 * unweighted loss of each row, unless NULL (loss.c). */
double loss_rows(const loss_spec *s, const double *y, const int *classes, const double *p,
                 int rows, R_xlen_t width, const double *w, double scale, double *grad,
                 double *per_row);

/* The optimizer's spec from R/program.R's list (engine.c). */
void read_optimizer(SEXP spec, optimizer_spec *o);

/* The optimizer (optim.c): slots per weight and their starting values, what
 * a step shares among the weights, one weight's update into its `next`,
 * clipping, the regularizers' penalty and gradient, constraints. */
int optimizer_slot_count(const optimizer_spec *o);
double optimizer_initial_slot(const optimizer_spec *o, int slot);
void optimizer_begin_step(optimizer_spec *o, double step);
void clip_gradients(const optimizer_spec *o, param *params, int n);
int update_param(const optimizer_spec *o, param *p, double lr, double step);
/* The same on a float32 engine's buffers, for SGD and Adam without amsgrad;
 * -1 for the other rules, which a float32 engine runs on double copies. */
int update_param_f32(const optimizer_spec *o, param *p, double lr, double step);
double penalty_value(const param *p, const double *w);
void penalty_gradient(const param *p);
void apply_constraint(param *p, double *w);

/* Softmax over a strided array (softmax.c). */
void softmax_into(const double *x, const double *g, R_xlen_t g_step, double *y, R_xlen_t inner,
                  R_xlen_t len, R_xlen_t outer);

/* The loops of an elementwise activation by kernel name, for doubles or
 * float32 values; 0 if there is no such kernel (activations.c). */
int kernel_loops(const char *name, int single, unary_loop *forward, binary_loop *backward);

#endif
