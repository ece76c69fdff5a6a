# Runs the test suite and ends with one line of counts; exits 1 on a failure.
# It tests a build of the source tree; with the argument `installed`, the
# package installed in the library path (as make test, make check-memory and
# make check-sanitizers install it).
load <- if ("installed" %in% commandArgs(trailingOnly = TRUE)) "installed" else "source"
results <- as.data.frame(testthat::test_local(".", reporter = "summary",
                                              stop_on_failure = FALSE,
                                              load_package = load))
failed <- sum(results$failed) + sum(results$error)
skipped <- sum(results$skipped)
passed <- sum(results$nb) - sum(results$failed) - sum(results$skipped)
cat(sprintf("%d passed, %d failed, %d skipped\n", passed, failed, skipped))
quit(status = as.integer(failed > 0))
