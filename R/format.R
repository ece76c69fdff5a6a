# Numbers and names as Python writes them: keras's CSV logs hold Python's
# repr() of each float, and keras's checkpoint file names are Python format
# strings ("weights.{epoch:02d}-{val_loss:.2f}.rds").

# Python's repr() of doubles: the shortest digits that read back as the same
# double, in fixed notation from 1e-4 to below 1e16 ("0.1", "2.0",
# "0.0001"), else in scientific notation with at least two exponent digits
# ("1e-05", "1.5e+16"); "nan", "inf" and "-inf" for the others (R's NA too).
python_repr <- function(x) {
  x <- as.double(x)
  out <- rep("nan", length(x))
  out[which(x == Inf)] <- "inf"
  out[which(x == -Inf)] <- "-inf"
  shortest <- .Call(C_selu_shortest_decimal, x)
  finite <- !is.na(shortest)
  if (!any(finite)) return(out)
  parts <- regmatches(shortest[finite], regexec("^(-?)([0-9])\\.?([0-9]*)e([-+][0-9]+)$",
                                                shortest[finite]))
  sign <- vapply(parts, `[`, "", 2)
  digits <- paste0(vapply(parts, `[`, "", 3), vapply(parts, `[`, "", 4))
  exponent <- as.integer(vapply(parts, `[`, "", 5))
  # Python's rule: the decimal point `point` digits into the digits
  point <- exponent + 1L
  n <- nchar(digits)
  scientific <- point <= -4L | point > 16L
  mantissa <- ifelse(n > 1, paste0(substr(digits, 1, 1), ".", substring(digits, 2)), digits)
  fixed <- ifelse(point <= 0L, paste0("0.", strrep("0", pmax(-point, 0L)), digits),
           ifelse(point < n, paste0(substr(digits, 1, pmax(point, 0L)), ".",
                                    substring(digits, pmax(point, 0L) + 1L)),
                  paste0(digits, strrep("0", pmax(point - n, 0L)), ".0")))
  out[finite] <- paste0(sign, ifelse(scientific, sprintf("%se%+03d", mantissa, exponent), fixed))
  out
}

# A Python format string as a list of pieces: strings, and fields
# list(name, spec) for "{name}" and "{name:spec}". Only what file names
# need is taken: a field names a value (no positions, attributes, indexes
# or conversions) and its spec is [0][width][.precision][type], the type
# one of d, f, F, e, E, g, G or none. `bad(what)` signals an error.
parse_python_format <- function(template, bad) {
  pieces <- list()
  literal <- ""
  rest <- template
  while (nzchar(rest)) {
    at <- regexpr("[{}]", rest)
    if (at < 0) {
      literal <- paste0(literal, rest)
      break
    }
    literal <- paste0(literal, substr(rest, 1, at - 1))
    brace <- substr(rest, at, at)
    if (substr(rest, at + 1, at + 1) == brace) {
      literal <- paste0(literal, brace)
      rest <- substring(rest, at + 2)
      next
    }
    if (brace == "}") bad("has a single \"}\": write \"}}\" for a brace")
    end <- regexpr("}", substring(rest, at + 1), fixed = TRUE)
    if (end < 0) bad("has a \"{\" without its \"}\": write \"{{\" for a brace")
    field <- substr(rest, at + 1, at + end - 1)
    rest <- substring(rest, at + end + 1)
    if (nzchar(literal)) pieces[[length(pieces) + 1]] <- literal
    literal <- ""
    pieces[[length(pieces) + 1]] <- parse_python_field(field, bad)
  }
  if (nzchar(literal) || !length(pieces)) pieces[[length(pieces) + 1]] <- literal
  pieces
}

PYTHON_SPEC <- "^(0?)([0-9]*)(\\.[0-9]+)?([dfFeEgG]?)$"

parse_python_field <- function(field, bad) {
  colon <- regexpr(":", field, fixed = TRUE)
  name <- if (colon > 0) substr(field, 1, colon - 1) else field
  spec <- if (colon > 0) substring(field, colon + 1) else ""
  if (!nzchar(name) || grepl("^[0-9]+$", name) || grepl("[][.!{]", name, perl = TRUE)) {
    bad(sprintf(paste(
      "has the field {%s}: a field names a value, such as {epoch} or {val_loss:.4f}",
      "(no positions, attributes, indexes or conversions)"), field))
  }
  if (!grepl(PYTHON_SPEC, spec) || (grepl("\\.", spec) && !grepl("[fFeEgG]$", spec))) {
    bad(sprintf(paste(
      "has the field {%s}, whose format \"%s\" is not one of those taken:",
      "[0][width][.precision][type], the type d, f, e, g (or F, E, G) or none,",
      "with a precision only for f, e and g"), field, spec))
  }
  list(name = name, spec = spec)
}

# A value in a field's spec, as Python's format() writes an int (`integer`)
# or a float.
format_python_value <- function(value, spec, integer) {
  parts <- regmatches(spec, regexec(PYTHON_SPEC, spec))[[1]]
  zero <- parts[2] == "0"
  width <- if (nzchar(parts[3])) as.integer(parts[3]) else 0L
  precision <- if (nzchar(parts[4])) as.integer(substring(parts[4], 2)) else 6L
  type <- parts[5]
  text <- if (type == "") {
    if (integer) format(value, scientific = FALSE) else python_repr(value)
  } else if (type == "d") {
    sprintf("%d", as.integer(value))
  } else if (!is.finite(value)) {
    # R's sprintf() writes NaN and Inf its own way
    special <- python_repr(value)
    if (type %in% c("F", "E", "G")) toupper(special) else special
  } else {
    sprintf(paste0("%.", precision, type), as.double(value))
  }
  pad <- width - nchar(text)
  if (pad <= 0) return(text)
  # Python right-aligns numbers; with "0", zeros go after the sign
  if (zero) sub("^(-?)", paste0("\\1", strrep("0", pad)), text) else paste0(strrep(" ", pad), text)
}
