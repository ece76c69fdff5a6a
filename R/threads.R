#' Threads used by the kernels
#'
#' The C kernels split long inputs over threads (OpenMP); inputs shorter
#' than about 65,000 elements per thread run on one. `selu_threads()` reads
#' the maximum number of threads, and `selu_threads(n)` sets it.
#'
#' The default is every core, capped by the environment variable
#' `OMP_THREAD_LIMIT` and by the R option `selu.threads` when it is set
#' before the package is loaded. The setting is the package's own: `selu`
#' never calls `omp_set_num_threads()`, which would change the threads of
#' other packages. Results are identical bit for bit whatever the number of
#' threads.
#'
#' @param n `NULL` to read the setting, or a whole number of threads, at
#'   least 1; more than the cores (or `OMP_THREAD_LIMIT`) gives that many.
#' @return `selu_threads()`: the number of threads. `selu_threads(n)`: the
#'   previous number, invisibly.
#' @export
#' @examples
#' selu_threads()
#' old <- selu_threads(1)
#' activation_selu(rnorm(5))
#' selu_threads(old)
selu_threads <- function(n = NULL) {
  if (is.null(n)) return(.Call(C_selu_get_threads))
  n <- check_count(n, "n")
  invisible(.Call(C_selu_set_threads, n))
}

.onLoad <- function(libname, pkgname) {
  n <- getOption("selu.threads")
  if (!is.null(n)) {
    n <- tryCatch(check_count(n, "options(selu.threads)"), error = function(e) {
      warning("Ignoring options(selu.threads): ", conditionMessage(e), call. = FALSE)
      NULL
    })
    if (!is.null(n)) .Call(C_selu_set_threads, n)
  }
}

# The instruction set the kernels use ("portable", "avx2" or "avx512"), or,
# given one the CPU has, a switch to it: for tests of every code path.
kernel_isa <- function(isa = NULL) .Call(C_selu_kernel_isa, isa)
