#ifndef SELU_H
#define SELU_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

/* .Call entry points, registered in init.c */
SEXP selu_forward(SEXP x, SEXP single, SEXP inplace);
SEXP selu_backward(SEXP x, SEXP grad_output, SEXP single);
SEXP selu_set_threads(SEXP n);
SEXP selu_get_threads(void);
SEXP selu_blas_threads(SEXP n);
SEXP selu_kernel_isa(SEXP isa);
SEXP selu_activation_forward(SEXP name, SEXP x, SEXP params, SEXP single);
SEXP selu_activation_backward(SEXP name, SEXP x, SEXP grad_output, SEXP params, SEXP single);
SEXP selu_kernel_params(SEXP name, SEXP params);
SEXP selu_softmax_forward(SEXP x, SEXP axis);
SEXP selu_softmax_backward(SEXP x, SEXP grad_output, SEXP axis);
SEXP selu_prelu_forward(SEXP x, SEXP alpha);
SEXP selu_prelu_backward(SEXP x, SEXP alpha, SEXP grad_output);
SEXP selu_dense_forward(SEXP x, SEXP kernel, SEXP bias);
SEXP selu_trainer_new(SEXP layers, SEXP activations, SEXP codes, SEXP settings,
                      SEXP dropout);
SEXP selu_trainer_load(SEXP ptr, SEXP weights, SEXP slots, SEXP iterations);
SEXP selu_trainer_store(SEXP ptr, SEXP with_slots);
SEXP selu_trainer_step(SEXP ptr, SEXP x, SEXP y, SEXP sample_weight, SEXP rows, SEXP lr,
                       SEXP masks, SEXP output);
SEXP selu_stack_forward(SEXP layers, SEXP activations, SEXP weights, SEXP x, SEXP batch_size,
                        SEXP logits);
SEXP selu_allocator_stats(void);
SEXP selu_unload(void);

/* Picks the instruction set and the default thread count, at load; stops
 * the threads, at unload. */
void selu_init_kernels(void);
void selu_stop_threads(void);

#endif
