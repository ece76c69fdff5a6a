#include "selu.h"
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

static const R_CallMethodDef call_methods[] = {
  {"selu_forward", (DL_FUNC) &selu_forward, 3},
  {"selu_backward", (DL_FUNC) &selu_backward, 3},
  {"selu_set_threads", (DL_FUNC) &selu_set_threads, 1},
  {"selu_get_threads", (DL_FUNC) &selu_get_threads, 0},
  {"selu_kernel_isa", (DL_FUNC) &selu_kernel_isa, 1},
  {"selu_activation_forward", (DL_FUNC) &selu_activation_forward, 4},
  {"selu_activation_backward", (DL_FUNC) &selu_activation_backward, 5},
  {"selu_softmax_forward", (DL_FUNC) &selu_softmax_forward, 2},
  {"selu_softmax_backward", (DL_FUNC) &selu_softmax_backward, 3},
  {"selu_prelu_forward", (DL_FUNC) &selu_prelu_forward, 2},
  {"selu_prelu_backward", (DL_FUNC) &selu_prelu_backward, 3},
  {NULL, NULL, 0}
};

void attribute_visible R_init_selu(DllInfo *dll) {
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
  selu_init_kernels();
}
