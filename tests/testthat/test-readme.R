# The README's R code, as a user runs it: a fresh R session with selu
# attached and nothing else (testthat, attached here, exports magrittr's
# `%>%`, so the blocks run in a session of their own).

readme_path <- function() test_path("..", "..", "README.md")

readme_blocks <- function(lines) {
  starts <- grep("^```r\\s*$", lines)
  ends <- grep("^```\\s*$", lines)
  lapply(starts, function(start) {
    end <- ends[ends > start][1]
    lines[seq.int(start + 1, end - 1)]
  })
}

test_that("the README mentions `%>%` only with magrittr, which selu does not attach", {
  skip_if_not(file.exists(readme_path()), "README.md is in the sources only")
  lines <- readLines(readme_path(), encoding = "UTF-8")
  pipes <- lines[grepl("%>%", lines, fixed = TRUE)]
  expect_true(all(grepl("magrittr", pipes, fixed = TRUE)), label = paste(pipes, collapse = "\n"))
})

test_that("every R block of the README runs, in order, with only library(selu)", {
  skip_if_not(file.exists(readme_path()), "README.md is in the sources only")
  skip_on_cran()
  blocks <- readme_blocks(readLines(readme_path(), encoding = "UTF-8"))
  expect_gte(length(blocks), 3)
  dir <- withr::local_tempdir("readme")
  script <- file.path(dir, "readme.R")
  # library(selu) attaches this build of selu (its exports only) and nothing else
  writeLines(c(
    sprintf("pkgload::load_all(%s, export_all = FALSE, helpers = FALSE, attach_testthat = FALSE,",
            deparse(normalizePath(test_path("..", "..")))),
    "                  quiet = TRUE)",
    "library <- function(package, ...) stopifnot(identical(substitute(package), quote(selu)))",
    unlist(blocks),
    "stopifnot(!exists(\"%>%\"))",
    "cat(\"search:\", search(), \"\\n\")"
  ), script)
  output <- withr::with_dir(dir, system2(file.path(R.home("bin"), "Rscript"),
                                         c("--vanilla", shQuote(script)), stdout = TRUE,
                                         stderr = TRUE))
  status <- attr(output, "status")
  expect_true(is.null(status) || status == 0,
              label = paste(utils::tail(output, 20), collapse = "\n"))
  attached <- strsplit(sub("^search: ", "", utils::tail(output, 1)), " ")[[1]]
  # (devtools_shims: pkgload's help for the build it loaded)
  expected <- c(".GlobalEnv", "package:selu", "devtools_shims", "package:stats", "package:graphics",
                "package:grDevices", "package:utils", "package:datasets", "package:methods",
                "Autoloads", "package:base")
  expect_identical(setdiff(attached, expected), character(0))
})
