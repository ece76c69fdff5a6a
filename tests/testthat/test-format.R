# Numbers as Python writes them, against Python 3 itself
# (fixtures/python-format.tsv, from scripts/make-python-format.py).

python_fixture <- function() {
  rows <- utils::read.delim(test_path("fixtures", "python-format.tsv"), header = FALSE,
                            col.names = c("type", "value", "spec", "text"), quote = "",
                            colClasses = "character", na.strings = character(0))
  rows$number <- ifelse(rows$value == "nan", NaN, ifelse(rows$value == "inf", Inf,
                 ifelse(rows$value == "-inf", -Inf, suppressWarnings(as.numeric(rows$value)))))
  rows
}

test_that("python_repr() writes what Python's repr() writes, digit for digit", {
  rows <- python_fixture()
  floats <- rows[rows$type == "float" & rows$spec == "", ]
  expect_gt(nrow(floats), 3000)
  # (R reads float.hex() exactly, so the values are Python's)
  expect_identical(python_repr(floats$number), floats$text)
  # -0 keeps its sign; R's NA is a NaN
  expect_identical(python_repr(c(-0, 0, NA, 1L)), c("-0.0", "0.0", "nan", "1.0"))
  expect_identical(python_repr(numeric(0)), character(0))
})

test_that("format_python_value() writes what Python's format() writes", {
  rows <- python_fixture()
  rows <- rows[rows$spec != "" | rows$type == "int", ]
  expect_gt(nrow(rows), 1000)
  written <- mapply(format_python_value, rows$number, rows$spec, rows$type == "int")
  mismatch <- which(written != rows$text)
  expect_identical(sprintf("%s {:%s}: %s", rows$value, rows$spec, written)[mismatch],
                   sprintf("%s {:%s}: %s", rows$value, rows$spec, rows$text)[mismatch])
})

test_that("parse_python_format() splits a template into text and fields", {
  bad <- function(what) stop(what, call. = FALSE)
  expect_identical(parse_python_format("weights.{epoch:02d}-{val_loss:.2f}.rds", bad),
                   list("weights.", list(name = "epoch", spec = "02d"), "-",
                        list(name = "val_loss", spec = ".2f"), ".rds"))
  expect_identical(parse_python_format("model.rds", bad), list("model.rds"))
  expect_identical(parse_python_format("{loss}", bad), list(list(name = "loss", spec = "")))
  # doubled braces are braces; names are keys of the logs, whatever they hold
  expect_identical(parse_python_format("{{a}}-{out-1_loss}}}", bad),
                   list("{a}-", list(name = "out-1_loss", spec = ""), "}"))
  expect_error(parse_python_format("a}b", bad), "single \"}\"")
  expect_error(parse_python_format("a{b", bad), "without its \"}\"")
  for (field in c("{}", "{0}", "{12}", "{a.b}", "{a[0]}", "{a!r}", "{:2f}")) {
    expect_error(parse_python_format(field, bad), "a field names a value", label = field)
  }
  for (field in c("{a:x}", "{a:<5}", "{a:+.2f}", "{a:.2}", "{a:.2d}", "{a:,}", "{a:2.f}")) {
    expect_error(parse_python_format(field, bad), "whose format .* is not one of those taken",
                 label = field)
  }
})
