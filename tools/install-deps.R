# Installs, where missing or older than a package needs, the packages selu
# needs from the configured CRAN mirror. `Rscript tools/install-deps.R
# install`: what installing selu with its vignettes needs; without the
# argument, also what the tests, benchmarks and checks use (tidymodels among
# them, for the parsnip engine's tests).
imports <- c("jsonlite", "generics", "hardhat", "tibble")
vignettes <- c("knitr", "rmarkdown", "mlbench", "nnet", "MASS")
tests <- c("testthat", "roxygen2", "Rmpfr", "bench", "pkgbuild", "withr", "magrittr",
           "parsnip", "workflows", "recipes", "rsample", "tune", "yardstick", "dials",
           "future", "probably", "DALEX")
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
