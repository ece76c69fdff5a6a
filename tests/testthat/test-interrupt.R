# A user interrupt (SIGINT, as Ctrl-C sends) during long kernel calls: R must
# stay usable and the objects unchanged. The kernels check for an interrupt
# between blocks (src/threads.c), so this runs in a separate R process,
# scripts/interrupted-session.R, which the test interrupts and which then
# reports what it finds.
test_that("an interrupt during a long kernel call leaves R usable and the model unchanged", {
  skip_on_cran()
  skip_on_os("windows")
  installed <- find.package("selu", lib.loc = .libPaths(), quiet = TRUE)
  skip_if(length(installed) == 0, "selu is not installed")
  script <- test_path("scripts", "interrupted-session.R")
  ready <- tempfile()
  result <- tempfile()
  log <- tempfile()
  on.exit(unlink(c(ready, result, log)))
  system2(file.path(R.home("bin"), "Rscript"),
          shQuote(c("--vanilla", script, dirname(installed[1]), ready, result)),
          stdout = log, stderr = log, wait = FALSE)
  wait_for <- function(file, seconds) {
    deadline <- Sys.time() + seconds
    while (!file.exists(file) && Sys.time() < deadline) Sys.sleep(0.05)
    file.exists(file)
  }
  expect_true(wait_for(ready, 60), info = "the R process never started its loop")
  pid <- as.integer(readLines(ready))
  Sys.sleep(0.3) # well into a kernel call
  tools::pskill(pid, tools::SIGINT)
  if (!wait_for(result, 60)) {
    tools::pskill(pid, tools::SIGKILL)
    fail(paste(c("no report from the interrupted process:", readLines(log)), collapse = "\n"))
  }
  checks <- read.table(result, sep = "=", col.names = c("check", "passed"))
  expect_identical(nrow(checks), 7L)
  for (i in seq_len(nrow(checks))) expect_true(checks$passed[i], info = checks$check[i])
})
