# Reads the logs of make check-memory or make check-sanitizers and fails on
# any finding. `valgrind LOG`: the summary must say 0 errors and 0 bytes
# definitely lost (R itself keeps memory "possibly lost" or "still reachable"
# at exit by design). `sanitizers DIR`: ASan writes a report file to
# DIR/reports only when it finds something, in any process; UBSan reports
# into the test output, DIR/tests.log.
args <- commandArgs(trailingOnly = TRUE)
fail <- function(...) {
  cat(..., "\n", sep = "")
  quit(status = 1)
}
if (args[1] == "valgrind") {
  log <- readLines(args[2])
  summary <- grep("ERROR SUMMARY:|definitely lost:|indirectly lost:|possibly lost:",
                  log, value = TRUE)
  cat(sub("^==[0-9]+== *", "", summary), sep = "\n")
  errors <- grep("ERROR SUMMARY:", log, value = TRUE)
  if (!length(errors)) fail("no valgrind summary in ", args[2], ": did R finish?")
  if (!all(grepl("ERROR SUMMARY: 0 errors", errors))) fail("valgrind found errors: see ", args[2])
  lost <- grep("definitely lost:", log, value = TRUE)
  if (!all(grepl("definitely lost: 0 bytes", lost))) fail("valgrind found leaks: see ", args[2])
} else if (args[1] == "sanitizers") {
  reports <- list.files(file.path(args[2], "reports"), full.names = TRUE)
  for (report in reports) cat(readLines(report), sep = "\n")
  found <- grep("runtime error:|Sanitizer", readLines(file.path(args[2], "tests.log")),
                value = TRUE)
  if (length(found)) cat(found, sep = "\n")
  if (length(reports) || length(found)) fail("the sanitizers reported problems: see ", args[2])
  cat("no sanitizer report\n")
} else {
  fail("usage: Rscript tools/memory-status.R valgrind LOG | sanitizers DIR")
}
