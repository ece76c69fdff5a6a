# to_categorical(), against keras 2.13's utils/np_utils.py: its docstring's
# example and its test (np_utils_test.py, test_to_categorical).

test_that("classes from 0 become rows of the identity, as keras's example", {
  # keras: to_categorical([0, 1, 2, 3], num_classes=4) is the identity
  expect_identical(to_categorical(c(0, 1, 2, 3), num_classes = 4), diag(4))
  expect_identical(to_categorical(0:3), diag(4))
  expect_identical(to_categorical(c(0, 2, 1, 2)),
                   rbind(c(1, 0, 0), c(0, 0, 1), c(0, 1, 0), c(0, 0, 1)))
  # more classes than the values use
  expect_identical(to_categorical(c(1, 0), num_classes = 4), rbind(c(0, 1, 0, 0), c(1, 0, 0, 0)))
  # and its categorical cross-entropy of them: [0.10536 0.82807 0.1011 1.77196]
  b <- matrix(c(.9, .04, .03, .03, .3, .45, .15, .13, .04, .01, .94, .05, .12, .21, .5, .17),
              4, byrow = TRUE)
  expect_equal(round(loss_categorical_crossentropy(to_categorical(0:3, 4), b), 5),
               c(0.10536, 0.82807, 0.1011, 1.77196))
})

test_that("the classes are a new last axis; a last axis of 1 is dropped, as keras", {
  # keras's test: shapes (1,), (3,), (4, 3), (5, 4, 3), (3, 1), (3, 2, 1) with
  # 5 classes give (1, 5), (3, 5), (4, 3, 5), (5, 4, 3, 5), (3, 5), (3, 2, 5)
  shapes <- list(1, 3, c(4, 3), c(5, 4, 3), c(3, 1), c(3, 2, 1))
  expected <- list(c(1, 5), c(3, 5), c(4, 3, 5), c(5, 4, 3, 5), c(3, 5), c(3, 2, 5))
  set.seed(1)
  for (i in seq_along(shapes)) {
    labels <- sample(0:4, prod(shapes[[i]]), replace = TRUE)
    if (length(shapes[[i]]) > 1) dim(labels) <- shapes[[i]]
    one_hot <- to_categorical(labels, 5)
    expect_identical(dim(one_hot), as.integer(expected[[i]]))
    rank <- length(dim(one_hot))
    # one 1 in each row of classes, in the place of the label
    expect_true(all(apply(one_hot, seq_len(rank - 1), sum) == 1))
    expect_identical(as.vector(apply(one_hot, seq_len(rank - 1), which.max)) - 1L,
                     as.integer(labels))
  }
  # element [i, j, k] is 1 where y[i, j] is class k - 1
  y <- matrix(c(0, 1, 2, 1, 0, 2), 2)
  one_hot <- to_categorical(y)
  for (i in 1:2) for (j in 1:3) expect_identical(one_hot[i, j, ], as.double(0:2 == y[i, j]))
})

test_that("values are truncated to whole numbers, towards 0, as numpy's int", {
  expect_identical(to_categorical(c(2.7, 0.2, 1.999, -0.5)),
                   rbind(c(0, 0, 1), c(1, 0, 0), c(0, 1, 0), c(1, 0, 0)))
  expect_identical(to_categorical(c(TRUE, FALSE)), rbind(c(0, 1), c(1, 0)))
  expect_identical(to_categorical(c(1L, 0L)), rbind(c(0, 1), c(1, 0)))
})

test_that("a factor gives its levels' positions minus 1, one class per level", {
  f <- factor(c("b", "a", "b"), levels = c("a", "b", "c"))
  expect_identical(to_categorical(f), rbind(c(0, 1, 0), c(1, 0, 0), c(0, 1, 0)))
  expect_identical(to_categorical(f, num_classes = 5)[1, ], c(0, 1, 0, 0, 0))
  expect_identical(dim(to_categorical(factor(character(0), levels = c("a", "b")))), c(0L, 2L))
  expect_error(to_categorical(f, num_classes = 1), class = "selu_error",
               regexp = "`y` holds the class 1 (element 1), but `num_classes` is 1", fixed = TRUE)
})

test_that("dtype float32 and float64 both give doubles", {
  for (dtype in list("float32", "float64", NULL)) {
    expect_identical(to_categorical(c(0, 1), dtype = dtype), diag(2))
  }
  expect_identical(dim(to_categorical(numeric(0), num_classes = 3)), c(0L, 3L))
})

test_that("classes out of range and other mistakes are errors naming the argument", {
  expect_error(to_categorical(c(0, 3, 1), num_classes = 3), class = "selu_error_argument",
               regexp = "`y` holds the class 3 (element 2), but `num_classes` is 3: classes run from 0 to 2.",
               fixed = TRUE)
  expect_error(to_categorical(c(0, -1)), class = "selu_error_argument",
               regexp = "`y` holds the class -1 (element 2): classes count from 0.", fixed = TRUE)
  expect_error(to_categorical(c(0, -1.5), num_classes = 3), class = "selu_error",
               regexp = "class -1 \\(element 2\\)")
  for (bad in list(c(0, NA), c(0, NaN), c(Inf, 0), factor(c("a", NA)))) {
    expect_error(to_categorical(bad), class = "selu_error",
                 regexp = "`y` must hold classes, whole numbers from 0, not")
  }
  for (bad in list("a", list(1), data.frame(a = 1), 1i, Sys.Date())) {
    expect_error(to_categorical(bad), class = "selu_error", regexp = "^`y` must be a numeric")
  }
  expect_error(to_categorical(), class = "selu_error", regexp = "`y` is missing")
  expect_error(to_categorical(numeric(0)), class = "selu_error",
               regexp = "`y` holds no classes: give `num_classes`")
  for (bad in list(0, -1, 2.5, NA, "3", c(2, 3), Inf)) {
    expect_error(to_categorical(1, num_classes = bad), class = "selu_error",
                 regexp = "`num_classes` must be a whole number")
  }
  expect_error(to_categorical(1, dtype = "int32"), class = "selu_error", regexp = "`dtype` must be")
  # too large a one-hot array is refused before it is allocated
  expect_error(to_categorical(c(0, 1e9)), class = "selu_error",
               regexp = "`y` asks for 1000000001 classes (its largest plus 1), a one-hot array of 2e+09 elements for 2 values",
               fixed = TRUE)
  expect_error(to_categorical(1:1e6), class = "selu_error", regexp = "are these classes from 0")
  expect_error(to_categorical(1, num_classes = 1e9), class = "selu_error",
               regexp = "`num_classes` of 1000000000 makes a one-hot array of 1e+09 elements for 1 value,",
               fixed = TRUE)
})
