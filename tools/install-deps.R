# Installs the packages the tests, vignettes and checks use, where missing,
# from the configured CRAN mirror. selu itself imports only jsonlite and
# generics.
wanted <- c("testthat", "knitr", "rmarkdown", "roxygen2", "Rmpfr", "bench", "jsonlite", "generics",
            "pkgbuild", "withr", "mlbench")
missing <- wanted[!vapply(wanted, requireNamespace, logical(1), quietly = TRUE)]
if (length(missing)) install.packages(missing)
