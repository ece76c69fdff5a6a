# The help pages as text help shows them (?optimizer_adam in a terminal).

# The help pages: the sources' man/ when the tests run from the sources,
# else the installed package's.
help_pages <- function() {
  man <- test_path("..", "..", "man")
  if (!dir.exists(man)) return(tools::Rd_db("selu"))
  files <- list.files(man, pattern = "\\.Rd$", full.names = TRUE)
  stats::setNames(lapply(files, tools::parse_Rd), basename(files))
}

# The LaTeX of each \eqn{} and \deqn{} without a second, plain-text argument
# that text help cannot show. Text help spells out Greek letters, \sum,
# \prod, \sqrt, \dots, \infty, \le and \ge (by replacing "\le" anywhere,
# so that `\leftarrow` shows as "<=ftarrow"), and shows braces as they are.
latex_for_text <- function(rd) {
  greek <- c("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
             "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau",
             "upsilon", "phi", "chi", "psi", "omega")
  spelled <- c(greek, tools::toTitleCase(greek), "sum", "prod", "sqrt", "dots", "ldots",
               "infty", "le", "ge")
  found <- character(0)
  walk <- function(x) {
    tag <- attr(x, "Rd_tag")
    if (!is.null(tag) && tag %in% c("\\eqn", "\\deqn")) {
      latex <- paste(unlist(x[[1]]), collapse = "")
      bare <- gsub(sprintf("\\\\(%s)(?![A-Za-z])", paste(spelled, collapse = "|")), "", latex,
                   perl = TRUE)
      if (length(x) == 1 && grepl("\\\\[A-Za-z]|[{}]", bare)) found <<- c(found, latex)
    } else if (is.list(x)) {
      for (part in x) walk(part)
    }
  }
  walk(rd)
  found
}

test_that("every formula has a plain-text form where text help cannot show its LaTeX", {
  pages <- help_pages()
  expect_true("optimizers.Rd" %in% names(pages))
  for (page in names(pages)) {
    expect_identical(latex_for_text(pages[[page]]), character(0), label = page)
  }
})

test_that("text help shows the optimizers' update rules as plain formulas", {
  pages <- help_pages()
  text <- capture.output(tools::Rd2txt(pages[["optimizers.Rd"]], out = stdout(),
                                       options = list(underline_titles = FALSE)))
  text <- gsub("\\s+", " ", paste(text, collapse = " "))
  expect_false(grepl("ftarrow", text, fixed = TRUE))
  expect_true(grepl("w <- w - eta * g;", text, fixed = TRUE))
  expect_true(grepl("w <- w - eta_t * m / (sqrt(v) + epsilon)", text, fixed = TRUE))
})
