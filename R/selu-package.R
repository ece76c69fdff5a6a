#' @keywords internal
#' @references Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S.
#'   (2017). Self-Normalizing Neural Networks. *Advances in Neural Information
#'   Processing Systems 30*. \doi{10.48550/arXiv.1706.02515}
"_PACKAGE"

#' @useDynLib selu, .registration = TRUE, .fixes = "C_"
#' @importFrom stats predict
#' @importFrom utils .DollarNames
NULL
