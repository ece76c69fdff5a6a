# Installs, where missing or older than a package needs, the packages selu
# needs from the configured CRAN mirror. `Rscript tools/install-deps.R
# install`: what installing selu with its vignettes needs; without the
# argument, also what the tests, benchmarks and checks use: tidymodels for
# the parsnip engine's tests, hdf5r (a Suggests) for keras's weight files,
# and from npm the runtimes the exchange formats are tested against.
imports <- c("jsonlite", "generics", "hardhat", "tibble")
vignettes <- c("knitr", "rmarkdown", "mlbench", "nnet", "MASS")
tests <- c("testthat", "roxygen2", "Rmpfr", "bench", "pkgbuild", "withr", "magrittr",
           "parsnip", "workflows", "recipes", "rsample", "tune", "yardstick", "dials",
           "future", "probably", "DALEX", "hdf5r")
wanted <- c(imports, vignettes)
if (!"install" %in% commandArgs(trailingOnly = TRUE)) wanted <- c(wanted, tests)

installed_version <- function(p) {
  tryCatch(utils::packageVersion(p), error = function(e) NULL)
}
base <- rownames(utils::installed.packages(priority = "base"))
missing <- wanted[vapply(wanted, function(p) is.null(installed_version(p)), TRUE)]
if (length(missing)) {
  # install.packages() installs missing dependencies but does not update old
  # ones: those below a version a package to install requires are added
  available <- utils::available.packages()
  todo <- missing
  repeat {
    needs <- tools::package_dependencies(todo, db = available,
                                         which = c("Depends", "Imports", "LinkingTo"),
                                         recursive = TRUE)
    closure <- setdiff(unique(c(todo, unlist(needs))), c(base, "R"))
    fields <- available[intersect(closure, rownames(available)),
                        c("Depends", "Imports", "LinkingTo"), drop = FALSE]
    specs <- unlist(strsplit(fields[!is.na(fields)], ",\\s*"))
    specs <- trimws(gsub("\\s+", " ", specs))
    versioned <- regmatches(specs, regexec("^([A-Za-z0-9.]+) ?\\(>= ?([0-9.-]+)\\)$", specs))
    outdated <- character(0)
    for (m in versioned) {
      if (length(m) != 3 || m[2] %in% c(base, "R")) next
      have <- installed_version(m[2])
      if (!is.null(have) && have < package_version(m[3])) outdated <- c(outdated, m[2])
    }
    more <- setdiff(unique(outdated), todo)
    if (!length(more)) break
    todo <- c(todo, more)
  }
  message("Installing ", paste(todo, collapse = ", "))
  utils::install.packages(todo, Ncpus = max(1L, parallel::detectCores()))
}
still <- wanted[!vapply(wanted, requireNamespace, logical(1), quietly = TRUE)]
if (length(still)) stop("Could not install ", paste(still, collapse = ", "), call. = FALSE)
if ("install" %in% commandArgs(trailingOnly = TRUE)) quit(save = "no")

# The runtimes the exchange formats are tested against (tests/testthat/node):
# TensorFlow.js and ONNX Runtime, from npm, as package-lock.json pins them.
# --ignore-scripts: onnxruntime-node's install script would download GPU
# builds; its CPU library ships in the package.
node_dir <- file.path("tests", "testthat", "node")
if (nzchar(Sys.which("npm"))) {
  status <- system2("npm", c("ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix",
                             shQuote(node_dir)))
  if (status != 0) stop("npm ci in ", node_dir, " failed")
} else {
  message("npm is not installed: the tests against TensorFlow.js and ONNX Runtime will skip.")
}

# The keras fixtures' generator and the tests that read selu's HDF5 files back
# use Python's h5py (Debian: python3-h5py).
h5py <- suppressWarnings(system2("python3", c("-c", shQuote("import h5py")),
                                 stdout = FALSE, stderr = FALSE))
if (!identical(h5py, 0L)) {
  message("python3 with h5py is not installed (Debian: apt-get install python3-h5py): ",
          "the tests that read selu's HDF5 files with h5py will skip.")
}
