# Installs the packages the tests, vignettes and checks use, where missing,
# from the configured CRAN mirror. selu itself imports only jsonlite and
# generics; hdf5r (a Suggests) reads and writes keras's weight files.
wanted <- c("testthat", "knitr", "rmarkdown", "roxygen2", "Rmpfr", "bench", "jsonlite", "generics",
            "pkgbuild", "withr", "mlbench", "hdf5r")
missing <- wanted[!vapply(wanted, requireNamespace, logical(1), quietly = TRUE)]
if (length(missing)) install.packages(missing)

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
