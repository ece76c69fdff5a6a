#' Threads used by selu, and by the BLAS under it
#'
#' `selu_threads()` reads the most threads `selu` computes on, and
#' `selu_threads(n)` sets it. It bounds every compute thread `selu` starts:
#' its kernels' own threads and, during [fit()], [evaluate()], [predict()]
#' and a Dense layer's call, the threads of R's BLAS where the BLAS can be
#' told (see below).
#'
#' The kernels split long inputs over threads; inputs shorter than about
#' 32,000 elements per thread run on one. `selu`'s own results are identical
#' bit for bit whatever the number of threads; a threaded BLAS's products
#' may differ in their last bits with its thread count (OpenBLAS's do), so
#' `set.seed()` reproduces training exactly on any number of threads with
#' R's reference BLAS, and for a given `selu_threads()` with others. The
#' setting is the package's own, as data.table's
#' `setDTthreads()` is: `selu` never changes other packages' threads, and
#' its threads sleep, instead of spinning, soon after each piece of work, so
#' that they never hold the cores a threaded BLAS needs next.
#'
#' @section The default:
#' Every core this R process may run on, then at most:
#' * `OMP_THREAD_LIMIT` and `OMP_NUM_THREADS`, the environment variables that
#'   bound OpenMP programs (read when `selu` is loaded; `OMP_THREAD_LIMIT` also
#'   caps what `selu_threads(n)` can set);
#' * 2 when `_R_CHECK_LIMIT_CORES_` is set, as `R CMD check --as-cran` does;
#' * the R option `selu.threads`, when it is set before `selu` is loaded.
#'
#' @section The BLAS:
#' Dense layers multiply through R's BLAS. With OpenBLAS or FlexiBLAS as R's
#' BLAS (found at run time by their thread setters,
#' `openblas_set_num_threads()` and `flexiblas_set_num_threads()`), `selu`
#' lowers the BLAS's thread count to `selu_threads()` for the duration of
#' each `fit()`, `evaluate()`, `predict()` or layer call, and restores it
#' after, so `selu_threads(1)` makes training run on one core whatever the
#' BLAS. Other BLASes keep their own setting: R's reference BLAS has one
#' thread; set `MKL_NUM_THREADS` for Intel MKL and `VECLIB_MAXIMUM_THREADS`
#' for Apple's Accelerate. On Windows the BLAS's threads are left as they are.
#' `selu_threads()` never raises the BLAS's count above its own setting.
#' While the BLAS computes on more than one thread, `selu`'s own work in
#' those calls (activations, the optimizer's update) runs on the calling
#' thread: OpenBLAS's threads wait for the next product by spinning, holding
#' their cores, and `selu`'s threads would fight them for the cores.
#' [predict()] and [evaluate()] on more than one batch instead run their
#' batches side by side on `selu`'s threads, each batch's products on one
#' thread of the BLAS (rows are independent in inference), so their results
#' do not depend on the thread count; a model with a layer whose activation
#' is an R function runs them on the main thread, its products on the
#' BLAS's threads.
#'
#' @section Parallel R:
#' *Forked workers* (`parallel::mclapply()`, future's `multicore` plan,
#' doMC, tidymodels' tuning on forked workers) are safe: a process forked
#' after `selu` has run threads starts on one thread (each worker is one of
#' several sharing the cores), computes the same numbers as its parent, and
#' leaves the parent's threads alone. In a forked worker, `selu_threads(n)`
#' starts a team of threads of its own.
#'
#' *Socket workers* (`parallel::makeCluster()`, future's `multisession`
#' plan) are new R sessions, each with the default above: with as many
#' workers as cores, give each one thread (`clusterEvalQ(cl,
#' selu::selu_threads(1))`) or set `selu.threads` in their options. Models
#' and training histories are plain R objects: they travel to workers
#' (`serialize()`, `saveRDS()`) and predict there exactly as at home.
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
#'
#' # forked workers compute as the parent does
#' if (.Platform$OS.type == "unix") {
#'   x <- rnorm(1e6)
#'   y <- parallel::mclapply(1:2, function(i) sum(activation_selu(x)), mc.cores = 2)
#'   identical(y[[1]], sum(activation_selu(x)))
#' }
selu_threads <- function(n = NULL) {
  if (is.null(n)) return(.Call(C_selu_get_threads)[[1]])
  n <- check_count(n, "n")
  invisible(.Call(C_selu_set_threads, n))
}

# The default thread count: NA (every core, up to OMP_THREAD_LIMIT, which C
# applies) or less, by the rules selu_threads()'s help gives.
default_threads <- function() {
  n <- NA_integer_
  lower <- function(limit) if (is.na(n) || limit < n) limit else n
  omp <- suppressWarnings(as.integer(sub(",.*", "", Sys.getenv("OMP_NUM_THREADS"))))
  if (!is.na(omp) && omp >= 1) n <- lower(omp)
  check_limit <- tolower(Sys.getenv("_R_CHECK_LIMIT_CORES_"))
  if (nzchar(check_limit) && check_limit != "false") n <- lower(2L)
  option <- getOption("selu.threads")
  if (!is.null(option)) {
    option <- tryCatch(check_count(option, "options(selu.threads)"), error = function(e) {
      warning("Ignoring options(selu.threads): ", conditionMessage(e), call. = FALSE)
      NULL
    })
    if (!is.null(option)) n <- lower(option)
  }
  n
}

# Lowers the BLAS's threads to `blas_limit` (selu_threads(), or 1 where
# selu's threads run the products side by side) until the function that
# calls this returns, when the BLAS's count can be set and is higher; and
# with `yield_to_blas`, selu's own threads to one while the BLAS has several.
bound_blas_threads <- function(frame = parent.frame(), yield_to_blas = TRUE,
                               blas_limit = selu_threads()) {
  blas <- .Call(C_selu_blas_threads, NULL)[[2]]
  if (is.na(blas)) return(invisible())
  if (blas > blas_limit) {
    .Call(C_selu_blas_threads, blas_limit)
    restore <- substitute(.Call(C_selu_blas_threads, n), list(n = blas))
    do.call(on.exit, list(restore, add = TRUE), envir = frame)
  }
  # OpenBLAS's threads wait for the next product by spinning, holding their
  # cores for a while after each one; selu's own threads would fight them
  # (fit() at batch 32 took 2.5 times as long on two threads as on one). So
  # while the BLAS computes on threads, selu's own work runs on this one
  # (`yield_to_blas`; a layer's call, one pass, keeps selu's threads).
  if (yield_to_blas && min(blas, blas_limit) > 1) {
    old <- .Call(C_selu_set_threads, 1L)
    restore <- substitute(.Call(C_selu_set_threads, n), list(n = old))
    do.call(on.exit, list(restore, add = TRUE), envir = frame)
  }
  invisible()
}

# The BLAS's thread setter in use ("OpenBLAS", "FlexiBLAS" or "" for none)
# and its thread count (NA when it cannot be read): for tests and benchmarks.
blas_threads <- function() {
  out <- .Call(C_selu_blas_threads, NULL)
  list(library = out[[1]], threads = out[[2]])
}

# The instruction set the kernels use ("portable", "avx2" or "avx512"), or,
# given one the CPU has, a switch to it: for tests of every code path.
kernel_isa <- function(isa = NULL) .Call(C_selu_kernel_isa, isa)
