# fit() and compile() are the generics package's, as keras's are, so that
# selu and the packages built on generics (parsnip, tidymodels) load in
# either order and each keeps its methods.

#' @importFrom generics fit
#' @export
generics::fit

#' @importFrom generics compile
#' @export
generics::compile

# evaluate() is selu's own, as keras's is (generics' evaluate() takes `x`
# first); with generics attached after selu, its evaluate() masks selu's,
# and this method takes evaluate(model, x, y) on to selu's. It is registered
# in .onLoad rather than NAMESPACE: R CMD check would look for it in the
# table of selu's own evaluate(), the generic of the same name.
evaluate_selu_model <- function(x, ...) evaluate(x, ...)
