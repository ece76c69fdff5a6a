# Reads an R CMD check log and fails unless it is clean: no ERROR, no WARNING
# and no NOTE but the "New submission" one of the CRAN incoming check.
log_file <- commandArgs(trailingOnly = TRUE)[1]
log <- readLines(log_file)
problems <- grep("\\.\\.\\. *(NOTE|WARNING|ERROR)$", log)
incoming_only <- function(i) {
  if (!grepl("CRAN incoming feasibility", log[i])) return(FALSE)
  end <- c(grep("^\\* ", log), length(log) + 1)
  block <- log[(i + 1):(min(end[end > i]) - 1)]
  block <- trimws(block[nzchar(trimws(block))])
  all(grepl("^(Maintainer: |New submission$)", block))
}
bad <- problems[!vapply(problems, incoming_only, logical(1))]
status <- grep("^Status:", log, value = TRUE)
cat(status, "\n")
if (length(bad) || !length(status) || any(grepl("ERROR", status))) {
  cat("R CMD check is not clean:\n", paste(log[bad], collapse = "\n"), "\n")
  quit(status = 1)
}
