#' The default dtype of new layers
#'
#' `k_floatx()` gives the dtype layers take when their `dtype` is `NULL`, and
#' `k_set_floatx()` sets it for the session, as keras's backend functions
#' do. selu's default is `"float64"`, R's doubles (keras's is `"float32"`).
#' A model whose layers are all `"float32"` trains and predicts in single
#' precision (see [fit()][fit.selu_model]); results still come back to R as
#' doubles.
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
