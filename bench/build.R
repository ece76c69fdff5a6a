# Builds bench/NAME.c into a shared library in a temporary folder and loads
# it; returns that folder (for other files of the run). Used by bench.R and
# accuracy.R.
build_and_load <- function(name) {
  build_dir <- tempfile(paste0("selu-", name))
  dir.create(build_dir)
  invisible(file.copy(file.path("bench", paste0(name, ".c")), build_dir))
  status <- system2(file.path(R.home("bin"), "R"),
                    c("CMD", "SHLIB", "-o", shQuote(file.path(build_dir, paste0(name, ".so"))),
                      shQuote(file.path(build_dir, paste0(name, ".c")))), stdout = FALSE)
  stopifnot(status == 0)
  dyn.load(file.path(build_dir, paste0(name, ".so")))
  build_dir
}
