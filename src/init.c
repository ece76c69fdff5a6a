#include "memory.h"
#include "selu.h"
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

/* Through void (*)(void), the one function type every other converts to
 * without a -Wcast-function-type warning. */
#define CALL_ENTRY(name, n) {#name, (DL_FUNC) (void (*)(void)) &name, n}

static const R_CallMethodDef call_methods[] = {
  CALL_ENTRY(selu_forward, 3),
  CALL_ENTRY(selu_backward, 3),
  CALL_ENTRY(selu_set_threads, 1),
  CALL_ENTRY(selu_get_threads, 0),
  CALL_ENTRY(selu_blas_threads, 1),
  CALL_ENTRY(selu_kernel_isa, 1),
  CALL_ENTRY(selu_activation_forward, 4),
  CALL_ENTRY(selu_activation_backward, 5),
  CALL_ENTRY(selu_kernel_params, 2),
  CALL_ENTRY(selu_softmax_forward, 2),
  CALL_ENTRY(selu_softmax_backward, 3),
  CALL_ENTRY(selu_prelu_forward, 2),
  CALL_ENTRY(selu_prelu_backward, 3),
  CALL_ENTRY(selu_engine_new, 3),
  CALL_ENTRY(selu_engine_free, 1),
  CALL_ENTRY(selu_engine_load, 4),
  CALL_ENTRY(selu_engine_store, 2),
  CALL_ENTRY(selu_engine_iterations, 1),
  CALL_ENTRY(selu_engine_steps, 9),
  CALL_ENTRY(selu_engine_test, 5),
  CALL_ENTRY(selu_engine_predict, 3),
  CALL_ENTRY(selu_engine_threadable, 1),
  CALL_ENTRY(selu_engine_call, 5),
  CALL_ENTRY(selu_engine_gradients, 6),
  CALL_ENTRY(selu_has_sgemm, 0),
  CALL_ENTRY(selu_all_finite, 1),
  CALL_ENTRY(selu_loss, 6),
  CALL_ENTRY(selu_optimizer_step, 6),
  CALL_ENTRY(selu_penalty, 3),
  CALL_ENTRY(selu_constrain, 5),
  CALL_ENTRY(selu_shortest_decimal, 1),
  CALL_ENTRY(selu_crc32, 1),
  CALL_ENTRY(selu_allocator_stats, 0),
  CALL_ENTRY(selu_unload, 0),
  {NULL, NULL, 0}
};

void attribute_visible R_init_selu(DllInfo *dll) {
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
  selu_init_kernels();
  selu_init_allocator();
}

/* Called by .onUnload(), before R may unload the library: R_unload_selu()
 * would not do, as R looks it up only in libraries that allow dynamic
 * symbols. The threads stop (their code is the library's) and the
 * allocator's blocks are released. */
SEXP selu_unload(void) {
  selu_stop_threads();
  selu_release_allocator();
  return R_NilValue;
}
