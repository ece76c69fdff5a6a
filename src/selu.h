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
SEXP selu_engine_new(SEXP program, SEXP max_rows, SEXP io_bound);
SEXP selu_engine_free(SEXP ptr);
SEXP selu_engine_load(SEXP ptr, SEXP weights, SEXP slots, SEXP iterations);
SEXP selu_engine_store(SEXP ptr, SEXP with_slots);
SEXP selu_engine_iterations(SEXP ptr);
SEXP selu_engine_steps(SEXP ptr, SEXP xs, SEXP ys, SEXP sample_weight, SEXP rows,
                       SEXP batch_size, SEXP lr, SEXP masks, SEXP want_outputs);
SEXP selu_engine_test(SEXP engines, SEXP xs, SEXP ys, SEXP sample_weight, SEXP batches);
SEXP selu_engine_predict(SEXP engines, SEXP xs, SEXP batch_size);
SEXP selu_engine_threadable(SEXP ptr);
SEXP selu_engine_call(SEXP ptr, SEXP xs, SEXP training, SEXP masks, SEXP grads);
SEXP selu_engine_gradients(SEXP ptr, SEXP xs, SEXP ys, SEXP sample_weight, SEXP rows,
                           SEXP masks);
SEXP selu_loss(SEXP spec, SEXP y_true, SEXP y_pred, SEXP rows, SEXP sample_weight,
               SEXP want_grad);
SEXP selu_optimizer_step(SEXP spec, SEXP weights, SEXP grads, SEXP slots, SEXP iterations,
                         SEXP lr);
SEXP selu_penalty(SEXP factors, SEXP w, SEXP gradient);
SEXP selu_constrain(SEXP code, SEXP bounds, SEXP groups, SEXP n_groups, SEXP w);
SEXP selu_shortest_decimal(SEXP x);
SEXP selu_has_sgemm(void);
SEXP selu_all_finite(SEXP x);
SEXP selu_crc32(SEXP bytes);
SEXP selu_allocator_stats(void);
SEXP selu_unload(void);

/* Picks the instruction set and the default thread count, at load; stops
 * the threads, at unload. */
void selu_init_kernels(void);
void selu_stop_threads(void);

#endif
