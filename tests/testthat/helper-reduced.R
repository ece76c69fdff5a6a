# `make check-memory` runs the suite under valgrind, where every instruction
# costs 20 to 50 times more. There SELU_TEST_REDUCED=true shrinks the random
# samples of the accuracy tests tenfold, gives the fuzz test every tenth of
# its inputs and spaces gctorture's collections out; every test still runs,
# over the same kinds of input (the fixed special values and powers of two
# are kept whole).
reduced_tests <- function() isTRUE(as.logical(Sys.getenv("SELU_TEST_REDUCED", "false")))

# A random sample's size: n, or a tenth of it in a reduced run.
sample_size <- function(n) if (reduced_tests()) max(ceiling(n / 10), 10) else n
