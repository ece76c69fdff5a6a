library(testthat)
library(selu)

test_check("selu")
