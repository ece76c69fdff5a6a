# Argument checks. Each one names the argument, what was expected and what was
# given, and signals a condition of class `selu_error_<kind>` and `selu_error`.
# `call` is the user's call: the caller of the check, unless passed on.

selu_abort <- function(message, kind = "argument", call = NULL) {
  cond <- structure(
    class = c(paste0("selu_error_", kind), "selu_error", "error", "condition"),
    list(message = message, call = call)
  )
  stop(cond)
}

# A warning likewise: class `selu_warning_<kind>` and `selu_warning`.
selu_warn <- function(message, kind = "argument", call = NULL) {
  cond <- structure(
    class = c(paste0("selu_warning_", kind), "selu_warning", "warning", "condition"),
    list(message = message, call = call)
  )
  warning(cond)
}

# A short description of any R object, for error messages.
describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.data.frame(x)) return("a data frame")
  if (is.factor(x)) return("a factor")
  if (is_tensor(x)) return("a symbolic tensor")
  if (is_model(x)) return(sprintf("the model \"%s\"", x$name))
  if (is_layer(x)) return(sprintf("the layer \"%s\"", x$name))
  if (is.function(x)) return("a function")
  if (is.environment(x)) return("an environment")
  if (is.character(x) && length(x) == 1 && !is.na(x) && is.null(dim(x))) {
    return(sprintf("the string %s", format_value(x)))
  }
  if (isS4(x)) return(sprintf("an S4 object of class <%s>", class(x)[1]))
  if (is.object(x)) return(sprintf("an object of class <%s>", class(x)[1]))
  type <- switch(typeof(x),
    double = "a double", integer = "an integer", logical = "a logical",
    character = "a character", complex = "a complex", raw = "a raw",
    list = "a list", sprintf("an object of type %s", typeof(x))
  )
  if (!is.atomic(x) && !is.list(x)) return(type)
  shape <- if (is.array(x)) {
    sprintf(" array of shape %s", format_dims(dim(x)))
  } else if (is.list(x)) {
    sprintf(" of length %d", length(x))
  } else if (length(x) == 1) {
    sprintf(" (%s)", format_value(x))
  } else {
    sprintf(" vector of length %d", length(x))
  }
  paste0(type, shape)
}

# The package's objects, known by their structure as well as their class: an
# object given a class of the package by hand is not taken for one of them.
is_layer <- function(x) inherits(x, "selu_layer") && is_stateful(x)
is_model <- function(x) inherits(x, "selu_model") && is_stateful(x)
is_stateful <- function(x) {
  is.function(x) && is.environment(environment(x)$self) &&
    is.character(environment(x)$self$name)
}
is_tensor <- function(x) {
  inherits(x, "selu_tensor") && is.list(x) && is.environment(x$layer) &&
    is.numeric(x$shape) && is.numeric(x$id) && length(x$id) == 1
}
is_initializer <- function(x) {
  inherits(x, "selu_initializer") && is.function(x) &&
    is.character(attr(x, "class_name")) && is.list(attr(x, "config"))
}

format_value <- function(x) {
  if (is.character(x) && !is.na(x)) {
    return(encodeString(substr(x, 1, 40), quote = "\""))
  }
  format(x, digits = 7)
}

format_dims <- function(d) paste0("(", paste(d, collapse = ", "), ")")

is_whole <- function(x) {
  is.numeric(x) && !is.object(x) && all(is.finite(x)) && all(x == trunc(x))
}

check_flag <- function(x, arg, call = sys.call(-1)) {
  if (!(is.logical(x) && length(x) == 1 && !is.na(x))) {
    selu_abort(sprintf("`%s` must be TRUE or FALSE, not %s.", arg, describe(x)),
               call = call)
  }
  x
}

check_string <- function(x, arg, call = sys.call(-1)) {
  if (!(is.character(x) && length(x) == 1 && !is.na(x) && nzchar(x))) {
    selu_abort(sprintf("`%s` must be a single non-empty string, not %s.",
                       arg, describe(x)), call = call)
  }
  x
}

check_count <- function(x, arg, call = sys.call(-1)) {
  if (!(length(x) == 1 && is_whole(x) && x >= 1 && x <= .Machine$integer.max)) {
    selu_abort(sprintf("`%s` must be a whole number between 1 and %d, not %s.",
                       arg, .Machine$integer.max, describe(x)), call = call)
  }
  as.integer(x)
}

# A shape: whole positive numbers, `NA` (or `NULL` in a list) for an unknown
# dimension, as a vector or a list. Returned as an integer vector with NA.
check_shape <- function(x, arg, min_rank = 1L, call = sys.call(-1)) {
  expected <- sprintf(
    "`%s` must be a vector or list of whole positive numbers (NA or NULL for an unknown dimension)",
    arg
  )
  if (is.list(x) && !is.object(x)) {
    ok <- vapply(x, function(d) is.null(d) || (length(d) == 1 && is.atomic(d) && !is.object(d) &&
      (is.na(d) || is.numeric(d))), logical(1))
    if (!all(ok)) {
      selu_abort(sprintf("%s; element %d is %s.", expected, which(!ok)[1],
                         describe(x[[which(!ok)[1]]])), call = call)
    }
    x <- vapply(x, function(d) if (is.null(d) || is.na(d)) NA_real_ else as.double(d), 0)
  }
  if (!(is.atomic(x) && !is.object(x) && (is.numeric(x) || all(is.na(x))))) {
    selu_abort(sprintf("%s, not %s.", expected, describe(x)), call = call)
  }
  known <- x[!is.na(x)]
  if (length(known) && (!is_whole(known) || any(known < 1) || any(known > .Machine$integer.max))) {
    bad <- known[!is.finite(known) | known != trunc(known) | known < 1 |
                 known > .Machine$integer.max][1]
    selu_abort(sprintf("%s; %s is not a whole number between 1 and %d.",
                       expected, format(bad), .Machine$integer.max), call = call)
  }
  if (length(x) < min_rank) {
    selu_abort(sprintf("`%s` must have at least %d dimension%s, not %d.", arg,
                       min_rank, if (min_rank == 1) "" else "s", length(x)), call = call)
  }
  as.integer(x)
}

supported_dtypes <- c("float64", "float32")

check_dtype <- function(x, arg = "dtype", call = sys.call(-1)) {
  if (is.null(x)) return(session$floatx)
  if (!(is.character(x) && length(x) == 1 && !is.na(x) && x %in% supported_dtypes)) {
    selu_abort(sprintf("`%s` must be one of %s, not %s.", arg,
                       paste0("\"", supported_dtypes, "\"", collapse = " or "),
                       describe(x)), call = call)
  }
  x
}

# Numeric data the kernels take: double, integer or logical vectors, matrices
# and arrays without a class (a factor or a Date is not a number to activate).
is_numeric_data <- function(x) {
  (is.double(x) || is.integer(x) || is.logical(x)) && !is.object(x)
}

numeric_data_expected <- "a numeric vector, matrix or array"

check_numeric_data <- function(x, arg, call = sys.call(-1)) {
  if (missing(x)) abort_missing(arg, numeric_data_expected, call = call)
  if (!is_numeric_data(x)) {
    selu_abort(sprintf("`%s` must be a numeric vector, matrix or array, not %s.",
                       arg, describe(x)), call = call)
  }
  x
}

# The shape of an R array as keras sees it: its dim, or its length for a vector.
data_shape <- function(x) {
  d <- dim(x)
  if (is.null(d)) length(x) else d
}

# Whether a shape with unknown (NA) dimensions admits another.
shapes_compatible <- function(expected, actual) {
  length(expected) == length(actual) &&
    all(is.na(expected) | is.na(actual) | expected == actual)
}

format_shape <- function(shape) {
  parts <- ifelse(is.na(shape), "None", as.character(shape))
  # a shape of absurd rank is shortened, not printed in full in a message
  if (length(parts) > 12) parts <- c(parts[1:10], sprintf("... %d more", length(parts) - 10))
  if (length(parts) == 1) return(sprintf("(%s,)", parts))
  paste0("(", paste(parts, collapse = ", "), ")")
}

check_empty_dots <- function(dots, call = sys.call(-1)) {
  if (length(dots) > 0) {
    nms <- names(dots)
    nms <- if (is.null(nms)) rep("", length(dots)) else nms
    shown <- ifelse(nzchar(nms), paste0("`", nms, "`"), "an unnamed argument")
    selu_abort(sprintf("Unknown argument%s: %s.", if (length(dots) > 1) "s" else "",
                       paste(shown, collapse = ", ")), call = call)
  }
  invisible()
}

# R's own error for a missing argument is not classed: exports check their
# required arguments with `if (missing(x)) abort_missing("x", ...)`.
abort_missing <- function(arg, expected, call = sys.call(-1)) {
  selu_abort(sprintf("`%s` is missing: give %s.", arg, expected), call = call)
}

# Weights are made from a shape alone, so a mistaken shape such as c(1e6, 1e6)
# would ask for terabytes: refused before anything is allocated. `what` is
# what has the shape, e.g. "`shape`".
check_weight_size <- function(shape, what, call = sys.call(-1)) {
  limit <- getOption("selu.max_weight_elements", 2^30)
  if (!(is.numeric(limit) && length(limit) == 1 && !is.na(limit) && limit >= 1)) {
    selu_abort(sprintf("`options(selu.max_weight_elements)` must be a number of at least 1, not %s.",
                       describe(limit)), call = call)
  }
  n <- prod(as.double(shape))
  if (n > limit) {
    selu_abort(sprintf(paste(
      "%s has shape %s: %s weights, more than the %s allowed",
      "(`options(selu.max_weight_elements)`)."), what, format_shape(shape),
      format(n, digits = 3), format(limit, big.mark = ",", scientific = FALSE)),
      kind = "shape", call = call)
  }
  invisible(shape)
}

# One finite number, at least (or above) `min` and at most `max`.
check_finite_number <- function(x, arg, min = -Inf, max = Inf, above = FALSE,
                                call = sys.call(-1)) {
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1 && is.finite(x) &&
    (if (above) x > min else x >= min) && x <= max
  if (!ok) {
    range <- if (is.finite(min) && is.finite(max)) {
      sprintf(" from %g to %g", min, max)
    } else if (above) {
      sprintf(" above %g", min)
    } else if (is.finite(min)) {
      sprintf(" of at least %g", min)
    } else ""
    selu_abort(sprintf("`%s` must be a single finite number%s, not %s.", arg, range,
                       describe(x)), call = call)
  }
  as.double(x)
}
