#' @keywords internal
#' @references Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S.
#'   (2017). Self-Normalizing Neural Networks. *Advances in Neural Information
#'   Processing Systems 30*. \doi{10.48550/arXiv.1706.02515}
"_PACKAGE"

# The threads stop before the library may be unloaded; the results the
# kernels allocate need the library's code when they are collected
# (src/alloc.c): it stays loaded while any is alive.
.onLoad <- function(libname, pkgname) {
  .Call(C_selu_set_threads, default_threads())
  registerS3method("evaluate", "selu_model", evaluate_selu_model,
                   envir = asNamespace("generics"))
  register_parsnip_engine()
}

.onUnload <- function(libpath) .Call(C_selu_unload)

#' @useDynLib selu, .registration = TRUE, .fixes = "C_"
#' @importFrom stats predict
#' @importFrom utils .DollarNames
NULL
