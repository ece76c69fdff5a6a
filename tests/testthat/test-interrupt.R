# A user interrupt (SIGINT, as Ctrl-C sends) must leave R usable. Each script
# in scripts/ runs in an R process of its own, which the test interrupts once
# the script says it is under way, and which then reports what it finds.
run_interrupted <- function(script, checks) {
  installed <- find.package("selu", lib.loc = .libPaths(), quiet = TRUE)
  skip_if(length(installed) == 0, "selu is not installed")
  ready <- tempfile()
  result <- tempfile()
  log <- tempfile()
  on.exit(unlink(c(ready, result, log)))
  system2(file.path(R.home("bin"), "Rscript"),
          shQuote(c("--vanilla", test_path("scripts", script), dirname(installed[1]), ready,
                    result)),
          stdout = log, stderr = log, wait = FALSE)
  wait_for <- function(file, seconds) {
    deadline <- Sys.time() + seconds
    while (!file.exists(file) && Sys.time() < deadline) Sys.sleep(0.05)
    file.exists(file)
  }
  expect_true(wait_for(ready, 60), info = "the R process never started its loop")
  pid <- as.integer(readLines(ready))
  Sys.sleep(0.3) # well into the work
  tools::pskill(pid, tools::SIGINT)
  if (!wait_for(result, 60)) {
    tools::pskill(pid, tools::SIGKILL)
    fail(paste(c("no report from the interrupted process:", readLines(log)), collapse = "\n"))
  }
  found <- read.table(result, sep = "=", col.names = c("check", "passed"))
  expect_identical(nrow(found), checks)
  for (i in seq_len(nrow(found))) expect_true(found$passed[i], info = found$check[i])
}

test_that("an interrupt during a long kernel call leaves R usable and the model unchanged", {
  skip_on_cran()
  skip_on_os("windows")
  # the kernels check for an interrupt between blocks (src/threads.c)
  run_interrupted("interrupted-session.R", 7L)
})

test_that("an interrupt during fit() returns the history and a usable model", {
  skip_on_cran()
  skip_on_os("windows")
  run_interrupted("interrupted-fit.R", 5L)
})
