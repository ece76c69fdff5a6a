#' The default dtype of new layers
#'
#' `k_floatx()` gives the dtype layers take when their `dtype` is `NULL`, and
#' `k_set_floatx()` sets it for the session, as keras's backend functions
#' do. selu's default is `"float64"`, R's doubles (keras's is `"float32"`).
#' keras's JSON (see [model_from_json()]) reads its `"float32"` layers as
#' `k_floatx()`.
#'
#' @section Float32 models:
#' A model whose layers (input layers aside) are all `"float32"` trains,
#' evaluates and predicts in single precision, as keras does: [fit()][fit.selu_model],
#' [evaluate()], [predict()][predict.selu_model] and
#' calls of layers and models on arrays. Its engine holds the weights,
#' activations, gradients and the optimizer's slots as float32 (half the memory
#' of float64), rounds the input to float32, and gives everything back to R as
#' doubles: after training, the weights and slots are float32 values.
#' Dense layers multiply with `sgemm` from the BLAS R uses when it has one
#' (OpenBLAS, MKL, BLIS, Accelerate and Debian's reference BLAS do; R's own
#' reference BLAS does not), else with portable loops in C; set
#' `options(selu.portable_sgemm = TRUE)` to use those anyway (on an
#' unoptimized reference BLAS they can be the faster, see the README). Dense layers, elementwise
#' activations and the SGD and Adam (AdamW) updates compute in float32; the
#' losses, softmax, normalization, dropout, noise, merge and embedding layers,
#' the other optimizers, clipping, regularizers and constraints compute in
#' double precision on float32 inputs and round their results to float32.
#' As in float64, the results do not depend on [selu_threads()].
#'
#' A model that mixes dtypes computes in double precision, the outputs of its
#' float32 layers rounded to float32 values.
#'
#' @param floatx `"float64"` or `"float32"`.
#' @return `k_floatx()`: the dtype. `k_set_floatx()`: the previous one,
#'   invisibly.
#' @family models
#' @export
#' @examples
#' k_floatx()
#' old <- k_set_floatx("float32")
#' layer_dense(units = 2)$dtype
#'
#' # a float32 model: trained in single precision, its weights float32 values
#' x <- matrix(rnorm(200), 50, 4)
#' y <- x %*% c(1, -2, 0.5, 0) + rnorm(50, sd = 0.1)
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(8, activation = "selu") |>
#'   layer_dense(1)
#' compile(model, optimizer = "adam", loss = "mse")
#' fit(model, x, y, epochs = 2, verbose = 0)
#' w <- as.vector(get_weights(model)[[1]])
#' # each weight survives a round trip through 4 bytes
#' identical(w, readBin(writeBin(w, raw(), size = 4), "double", n = length(w), size = 4))
#' k_set_floatx(old)
k_floatx <- function() session$floatx

#' @rdname k_floatx
#' @export
k_set_floatx <- function(floatx) {
  if (missing(floatx)) abort_missing("floatx", "\"float64\" or \"float32\"")
  if (is.null(floatx)) {
    selu_abort("`floatx` must be one of \"float64\" or \"float32\", not NULL.")
  }
  floatx <- check_dtype(floatx, "floatx")
  old <- session$floatx
  session$floatx <- floatx
  invisible(old)
}
