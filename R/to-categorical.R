# keras's to_categorical(): classes to one-hot arrays.

# The most elements of a one-hot array (2 GiB of doubles): more comes from
# values that are not classes, such as c(0, 1e9), rather than from a wish
# for gigabytes, and is refused before anything is allocated.
MAX_ONE_HOT_ELEMENTS <- 2^28

#' Convert classes to one-hot arrays
#'
#' keras's `to_categorical()`, for targets of
#' `loss = "categorical_crossentropy"`: each class, a whole number from 0 as
#' keras counts classes, becomes a row of `num_classes` zeros with a one in
#' the class's place (class 0 in the first column). A new last axis holds the
#' classes: a vector gives a matrix (one row per value), a matrix an array of
#' three dimensions, and so on; as in keras, a last axis of length 1 is
#' dropped first, so a one-column matrix gives a matrix too.
#'
#' As in keras, values are truncated to whole numbers (towards 0: 2.7 is
#' class 2, and -0.5 class 0), and `num_classes` defaults to the largest
#' class plus 1. Unlike keras, a negative class is an error (numpy's indexing
#' takes it from the end, silently), as is a class of `num_classes` or more.
#'
#' A factor gives the positions of its levels minus 1 (the first level is
#' class 0), and by default one class per level, used or not.
#'
#' `dtype` is `"float32"` (keras's default) or `"float64"`: both give doubles,
#' R having no single-precision numbers.
#'
#' A one-hot array of more than \eqn{2^{28}}{2^28} elements (2 GiB) is an
#' error, before anything is allocated: such a size comes from values that
#' are not classes (`c(0, 1e9)` would make a billion columns).
#'
#' @param y The classes: a numeric vector, matrix or array of whole numbers
#'   from 0, or a factor.
#' @param num_classes `NULL` or the number of classes, a whole number of at
#'   least 1: the length of the new last axis.
#' @param dtype `"float32"` or `"float64"` (or `NULL`, keras's float64): R's
#'   doubles either way.
#' @return A numeric array of zeros and ones: of dimensions `c(dim(y),
#'   num_classes)`, or `c(length(y), num_classes)` for a vector.
#' @family training
#' @export
#' @examples
#' to_categorical(c(0, 2, 1, 2))
#' to_categorical(c(0, 1), num_classes = 4)
#' to_categorical(factor(c("setosa", "virginica"), levels = levels(iris$Species)))
#' dim(to_categorical(matrix(c(0, 1, 2, 1), 2)))
#' # targets for categorical_crossentropy
#' y <- to_categorical(as.integer(iris$Species) - 1)
#' head(y, 3)
to_categorical <- function(y, num_classes = NULL, dtype = "float32") {
  call <- sys.call()
  if (missing(y)) abort_missing("y", "the classes, whole numbers from 0 or a factor", call = call)
  if (!is.null(num_classes)) num_classes <- check_count(num_classes, "num_classes", call)
  check_dtype(dtype, call = call)
  shape <- data_shape(y)
  levels <- NULL
  if (is.factor(y)) {
    levels <- nlevels(y)
    y <- as.integer(y) - 1L
  } else if (!is_numeric_data(y)) {
    selu_abort(sprintf(
      "`y` must be a numeric vector, matrix or array of classes from 0, or a factor, not %s.",
      describe(y)), call = call)
  }
  classes <- trunc(as.double(y))
  bad <- which(!is.finite(classes))[1]
  if (!is.na(bad)) {
    selu_abort(sprintf("`y` must hold classes, whole numbers from 0, not %s (element %d).",
                       format(y[bad]), bad), call = call)
  }
  negative <- which(classes < 0)[1]
  if (!is.na(negative)) {
    selu_abort(sprintf("`y` holds the class %s (element %d): classes count from 0.",
                       format(classes[negative]), negative), call = call)
  }
  if (is.null(num_classes)) {
    if (!length(classes) && !isTRUE(levels > 0)) {
      selu_abort("`y` holds no classes: give `num_classes` for an empty one-hot array.",
                 call = call)
    }
    num_classes <- if (!is.null(levels)) levels else max(classes) + 1
    sized_by <- "y"
  } else {
    beyond <- which(classes >= num_classes)[1]
    if (!is.na(beyond)) {
      selu_abort(sprintf(
        "`y` holds the class %s (element %d), but `num_classes` is %d: classes run from 0 to %d.",
        format(classes[beyond]), beyond, num_classes, num_classes - 1L), call = call)
    }
    sized_by <- "num_classes"
  }
  n <- length(classes)
  elements <- as.double(n) * num_classes
  if (elements > MAX_ONE_HOT_ELEMENTS) {
    size <- sprintf("a one-hot array of %s elements for %d value%s, more than the %s allowed",
                    format(elements, digits = 3), n, if (n == 1) "" else "s",
                    format(MAX_ONE_HOT_ELEMENTS, big.mark = ",", scientific = FALSE))
    selu_abort(if (sized_by == "y") {
      sprintf("`y` asks for %s classes (its largest plus 1), %s: are these classes from 0?",
              format(num_classes, digits = 15), size)
    } else {
      sprintf("`num_classes` of %d makes %s.", num_classes, size)
    }, call = call)
  }
  one_hot <- matrix(0, n, num_classes)
  one_hot[cbind(seq_len(n), classes + 1)] <- 1
  # keras drops a last axis of length 1 (a column of classes)
  if (length(shape) > 1 && shape[length(shape)] == 1) shape <- shape[-length(shape)]
  dim(one_hot) <- c(shape, num_classes)
  one_hot
}
