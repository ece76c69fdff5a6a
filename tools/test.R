# Runs the test suite and ends with one line of counts; exits 1 on a failure.
results <- as.data.frame(testthat::test_local(".", reporter = "summary",
                                              stop_on_failure = FALSE))
failed <- sum(results$failed) + sum(results$error)
skipped <- sum(results$skipped)
passed <- sum(results$nb) - sum(results$failed) - sum(results$skipped)
cat(sprintf("%d passed, %d failed, %d skipped\n", passed, failed, skipped))
quit(status = as.integer(failed > 0))
