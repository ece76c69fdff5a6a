#' A self-normalizing network in one call
#'
#' `snn()` fits a self-normalizing neural network (Klambauer et al. 2017) to
#' tabular data: SELU activations, LeCun-normal weights and, when `dropout`
#' is above 0, alpha dropout, in every hidden layer. It takes the interfaces
#' R's modelling functions share (those of the hardhat package, as brulee
#' has them): a formula and a data frame, predictors `x` (a data frame or a
#' matrix) and an outcome `y`, or a recipe and its data.
#'
#' The outcome picks the output layer and the loss: a numeric outcome is a
#' regression, fitted on the outcome standardized to mean 0 and standard
#' deviation 1 (mean squared error) and predicted on its original scale;
#' several numeric outcomes (a data frame or matrix `y`, or `cbind()` in the
#' formula) give one output per outcome; a factor of two levels gives one
#' sigmoid output (binary cross-entropy, the second level the event), of more
#' levels a softmax (cross-entropy).
#'
#' The preprocessing is part of the fit and is reused by [predict()]: numeric
#' (and logical) predictors are standardized with the training means and
#' standard deviations, the inputs SELU's fixed point of mean 0 and variance
#' 1 assumes; a factor of at most 10 levels is one-hot encoded, a factor of
#' more levels is embedded ([layer_embedding()]) in \eqn{\min(50,
#' \lceil 1.6 n^{0.56} \rceil)}{min(50, ceiling(1.6 * n^0.56))} dimensions
#' for its \eqn{n} levels. An `NA` in the data, a character column and a
#' constant-free problem such as a factor outcome of one level are errors
#' that name the column (and the rows); nothing is dropped.
#'
#' When `validation` is above 0, that fraction of the rows, drawn at random,
#' is held out: training stops once the validation loss has not improved for
#' `stop_iter` epochs, and the weights of the best epoch are kept. Results
#' are reproducible with [set.seed()], on any number of threads.
#'
#' The keras-style model inside (`fit$model`) can be saved, exported or
#' inspected like any other; `fit$history` is its training history.
#'
#' @param x A data frame or numeric matrix of predictors, a formula
#'   (`outcome ~ predictors`) or a recipe (from the recipes package).
#' @param y With a data frame or matrix `x`: the outcome, a numeric vector, a
#'   factor, or a data frame or matrix of numeric outcomes.
#' @param data With a formula or a recipe: the data frame of the predictors
#'   and the outcome.
#' @param formula With `data`: a formula such as `y ~ .`.
#' @param hidden_units The width of each hidden layer, e.g. `c(64, 64)` for
#'   two layers of 64 units.
#' @param hidden_layers `NULL`, or the number of hidden layers, each
#'   `hidden_units` wide (`hidden_units` then a single number): the depth as
#'   parsnip's `mlp()` tunes it.
#' @param dropout The rate of alpha dropout after each hidden layer, in
#'   \[0, 1).
#' @param penalty The strength of the L2 penalty on the hidden and output
#'   layers' kernels.
#' @param epochs The largest number of epochs.
#' @param batch_size The number of rows per batch.
#' @param learn_rate The optimizer's learning rate.
#' @param optimizer The optimizer's name: one of `"adam"` (the default),
#'   `"adamw"`, `"nadam"`, `"adamax"`, `"rmsprop"`, `"sgd"`, `"adagrad"`.
#' @param validation The fraction of rows held out to stop early, in \[0, 1).
#' @param stop_iter The number of epochs without improvement of the
#'   validation loss before training stops (when `validation > 0`).
#' @param class_weights For a factor outcome: `NULL`, one weight per level
#'   (named by level, or in the levels' order), or a single number, the
#'   weight of the least frequent level (the others weigh 1).
#' @param verbose `TRUE` to print the loss after each epoch.
#' @param ... Not used; an error if given.
#' @return A fitted network of class `selu_snn`: a list with the `model`,
#'   its training `history`, the `preprocessing` of the predictors and the
#'   `outcome`'s description, with methods for [predict()][predict.selu_snn],
#'   `print()`, `summary()` and `plot()`.
#' @references Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S.
#'   (2017). Self-normalizing neural networks. *Advances in Neural
#'   Information Processing Systems 30*.
#' @seealso [predict.selu_snn()]; the vignette `vignette("tabular", package =
#'   "selu")`, which tunes `snn()` through parsnip's `mlp()` with the engine
#'   `"selu"`.
#' @export
#' @examples
#' set.seed(1)
#' fit <- snn(Species ~ ., data = iris, hidden_units = c(16, 16), epochs = 30,
#'            learn_rate = 0.01)
#' fit
#' predict(fit, iris[c(1, 51, 101), ], type = "prob")
#'
#' cars <- snn(mtcars[, -1], mtcars$mpg, hidden_units = 8, epochs = 20)
#' predict(cars, head(mtcars))
snn <- function(x, ...) {
  if (missing(x)) {
    abort_missing("x", "a data frame or matrix of predictors, a formula or a recipe",
                  call = sys.call())
  }
  UseMethod("snn")
}

#' @rdname snn
#' @export
snn.default <- function(x, ...) {
  selu_abort(sprintf(paste(
    "`x` must be a data frame or numeric matrix of predictors (with `y`), a formula (with",
    "`data`) or a recipe (with `data`), not %s."), describe(x)), call = sys.call(-1))
}

#' @rdname snn
#' @export
snn.data.frame <- function(x, y, hidden_units = c(64L, 64L), hidden_layers = NULL,
                           dropout = 0, penalty = 0, epochs = 100L, batch_size = 32L,
                           learn_rate = 0.001, optimizer = "adam", validation = 0.1,
                           stop_iter = 5L, class_weights = NULL, verbose = FALSE, ...) {
  call <- sys.call(-1)
  if (missing(x)) abort_missing("x", "a data frame of predictors", call = call)
  if (missing(y)) abort_missing("y", "the outcome, one value per row of `x`", call = call)
  settings <- snn_settings(hidden_units, hidden_layers, dropout, penalty, epochs, batch_size,
                           learn_rate, optimizer, validation, stop_iter, verbose, list(...), call)
  check_predictor_columns(x, "x", call)
  y <- check_snn_outcome_arg(y, nrow(x), call)
  if (is.data.frame(y)) check_predictor_columns(y, "y", call)
  processed <- hardhat::mold(x, y)
  snn_bridge(processed, settings, class_weights, c(predictors = "x", outcomes = "y"), call)
}

#' @rdname snn
#' @export
snn.matrix <- function(x, y, hidden_units = c(64L, 64L), hidden_layers = NULL,
                       dropout = 0, penalty = 0, epochs = 100L, batch_size = 32L,
                       learn_rate = 0.001, optimizer = "adam", validation = 0.1,
                       stop_iter = 5L, class_weights = NULL, verbose = FALSE, ...) {
  call <- sys.call(-1)
  if (missing(x)) abort_missing("x", "a numeric matrix of predictors", call = call)
  if (!(is.matrix(x) && (is.numeric(x) || is.logical(x)) && length(dim(x)) == 2)) {
    selu_abort(sprintf("`x` must be a numeric matrix (or a data frame), not %s.",
                       describe(x)), call = call)
  }
  if (is.null(colnames(x))) colnames(x) <- paste0("x", seq_len(ncol(x)))
  snn.data.frame(as.data.frame(x), y, hidden_units, hidden_layers, dropout, penalty, epochs,
                 batch_size, learn_rate, optimizer, validation, stop_iter, class_weights,
                 verbose, ...)
}

#' @rdname snn
#' @export
snn.formula <- function(formula, data, hidden_units = c(64L, 64L), hidden_layers = NULL,
                        dropout = 0, penalty = 0, epochs = 100L, batch_size = 32L,
                        learn_rate = 0.001, optimizer = "adam", validation = 0.1,
                        stop_iter = 5L, class_weights = NULL, verbose = FALSE, ...) {
  call <- sys.call(-1)
  if (missing(formula)) {
    abort_missing("formula", paste(
      "a formula such as `y ~ .`, as the first argument: unnamed or named `formula`",
      "(not `x`)"), call = call)
  }
  if (missing(data)) {
    abort_missing("data", "the data frame the variables of the formula `x` are in", call = call)
  }
  if (!is.data.frame(data)) {
    selu_abort(sprintf("`data` must be a data frame, not %s.", describe(data)), call = call)
  }
  settings <- snn_settings(hidden_units, hidden_layers, dropout, penalty, epochs, batch_size,
                           learn_rate, optimizer, validation, stop_iter, verbose, list(...), call)
  if (!(inherits(formula, "formula") && length(formula) == 3)) {
    selu_abort(sprintf("`formula` must be a formula with an outcome, such as `y ~ .`, not %s.",
                       describe(formula)), call = call)
  }
  missing_vars <- setdiff(all.vars(formula), c(names(data), "."))
  if (length(missing_vars)) {
    selu_abort(sprintf("`formula` uses %s, which `data` has no column%s for.",
                       format_names(missing_vars), if (length(missing_vars) == 1) "" else "s"),
               kind = "column", call = call)
  }
  check_predictor_columns(data, "data", call)
  blueprint <- hardhat::default_formula_blueprint(indicators = "none")
  processed <- mold_or_abort(formula, data, blueprint, "formula", call)
  snn_bridge(processed, settings, class_weights, c(predictors = "data", outcomes = "data"), call)
}

#' @rdname snn
#' @export
snn.recipe <- function(x, data, hidden_units = c(64L, 64L), hidden_layers = NULL,
                       dropout = 0, penalty = 0, epochs = 100L, batch_size = 32L,
                       learn_rate = 0.001, optimizer = "adam", validation = 0.1,
                       stop_iter = 5L, class_weights = NULL, verbose = FALSE, ...) {
  call <- sys.call(-1)
  if (missing(x)) abort_missing("x", "a recipe", call = call)
  if (!inherits(x, "recipe")) {
    selu_abort(sprintf("`x` must be a recipe from recipes::recipe(), not %s.", describe(x)),
               call = call)
  }
  if (missing(data)) abort_missing("data", "the data frame to prepare the recipe `x` on", call = call)
  if (!is.data.frame(data)) {
    selu_abort(sprintf("`data` must be a data frame, not %s.", describe(data)), call = call)
  }
  settings <- snn_settings(hidden_units, hidden_layers, dropout, penalty, epochs, batch_size,
                           learn_rate, optimizer, validation, stop_iter, verbose, list(...), call)
  check_predictor_columns(data, "data", call)
  processed <- mold_or_abort(x, data, NULL, "x", call)
  snn_bridge(processed, settings, class_weights, c(predictors = "data", outcomes = "data"), call)
}

# hardhat's mold(), its errors as selu's naming `arg`.
mold_or_abort <- function(x, data, blueprint, arg, call) {
  tryCatch(
    if (is.null(blueprint)) hardhat::mold(x, data) else hardhat::mold(x, data, blueprint = blueprint),
    error = function(e) {
      selu_abort(sprintf("`%s` cannot prepare `data`: %s", arg,
                         paste(conditionMessage(e), collapse = " ")), call = call)
    })
}

# ---------------------------------------------------------------------------
# Settings

SNN_OPTIMIZERS <- c("adam", "adamw", "nadam", "adamax", "rmsprop", "sgd", "adagrad")

snn_settings <- function(hidden_units, hidden_layers, dropout, penalty, epochs, batch_size,
                         learn_rate, optimizer, validation, stop_iter, verbose, dots, call) {
  check_empty_dots(dots, call = call)
  ok_units <- is.numeric(hidden_units) && length(hidden_units) >= 1 &&
    length(hidden_units) <= 100 && is.null(dim(hidden_units)) && is_whole(hidden_units) &&
    all(hidden_units >= 1 & hidden_units <= 65536)
  if (!ok_units) {
    selu_abort(sprintf(paste(
      "`hidden_units` must be whole numbers from 1 to 65536, a width per hidden layer",
      "(e.g. c(64, 64)) for at most 100 layers, not %s."), describe(hidden_units)), call = call)
  }
  if (!is.null(hidden_layers)) {
    hidden_layers <- check_count(hidden_layers, "hidden_layers", call = call)
    if (hidden_layers > 100) {
      selu_abort(sprintf("`hidden_layers` must be at most 100, not %d.", hidden_layers),
                 call = call)
    }
    if (length(hidden_units) != 1) {
      selu_abort(sprintf(paste(
        "`hidden_units` must be a single width when `hidden_layers` is given, not %s;",
        "give the widths alone for layers of different widths."), describe(hidden_units)),
        call = call)
    }
    hidden_units <- rep(hidden_units, hidden_layers)
  }
  weights <- utils::head(hidden_units, -1) * utils::tail(hidden_units, -1)
  if (any(weights > 2^28)) {
    selu_abort(sprintf(paste(
      "`hidden_units` gives consecutive layers of %s units: %s weights between them, more",
      "than the %s a network of selu holds between two layers."),
      paste(format(hidden_units[which(weights > 2^28)[1] + 0:1], big.mark = ","), collapse = " and "),
      format(max(weights), big.mark = ","), format(2^28, big.mark = ",")), call = call)
  }
  if (!(is.character(optimizer) && length(optimizer) == 1 && !is.na(optimizer) &&
        tolower(optimizer) %in% SNN_OPTIMIZERS)) {
    selu_abort(sprintf("`optimizer` must be one of %s, not %s.",
                       paste0("\"", SNN_OPTIMIZERS, "\"", collapse = ", "), describe(optimizer)),
               call = call)
  }
  list(
    hidden_units = as.integer(hidden_units),
    dropout = check_finite_number(dropout, "dropout", min = 0, max = 0.99, call = call),
    penalty = check_finite_number(penalty, "penalty", min = 0, call = call),
    epochs = check_count(epochs, "epochs", call = call),
    batch_size = check_count(batch_size, "batch_size", call = call),
    learn_rate = check_finite_number(learn_rate, "learn_rate", min = 0, above = TRUE,
                                     call = call),
    optimizer = tolower(optimizer),
    validation = check_finite_number(validation, "validation", min = 0, max = 0.9, call = call),
    stop_iter = check_count(stop_iter, "stop_iter", call = call),
    verbose = check_flag(verbose, "verbose", call = call)
  )
}

format_names <- function(x, max = 5) {
  shown <- paste0("`", utils::head(x, max), "`", collapse = ", ")
  if (length(x) > max) shown <- paste0(shown, sprintf(" and %d more", length(x) - max))
  shown
}

format_rows <- function(rows, max = 5) {
  shown <- paste(utils::head(rows, max), collapse = ", ")
  if (length(rows) > max) shown <- paste0(shown, sprintf(" and %d more", length(rows) - max))
  sprintf("row%s %s", if (length(rows) == 1) "" else "s", shown)
}

# ---------------------------------------------------------------------------
# Checks of the data: every column a predictor can be, no NA.

check_predictor_columns <- function(data, arg, call) {
  if (!is.data.frame(data)) {
    selu_abort(sprintf("`%s` must be a data frame or numeric matrix, not %s.", arg,
                       describe(data)), call = call)
  }
  if (nrow(data) < 2) {
    selu_abort(sprintf("`%s` must have at least 2 rows, not %d.", arg, nrow(data)), call = call)
  }
  if (anyDuplicated(names(data)) || any(!nzchar(names(data))) || anyNA(names(data))) {
    selu_abort(sprintf("`%s` must have unique, non-empty column names.", arg), call = call)
  }
}

# A predictor or outcome column: numeric, logical or factor; no NA.
check_column <- function(column, name, what, arg, call) {
  name <- sprintf("%s` of `%s", name, arg)
  if (is.character(column)) {
    selu_abort(sprintf(paste(
      "Column `%s` is character: a %s must be numeric, logical or a factor. Make it a",
      "factor, e.g. with factor()."), name, what),
      kind = "column", call = call)
  }
  if (!(is.factor(column) || ((is.numeric(column) || is.logical(column)) && !is.object(column) &&
                                is.null(dim(column))))) {
    selu_abort(sprintf("Column `%s` must be numeric, logical or a factor, not %s.", name,
                       describe(column)), kind = "column", call = call)
  }
  bad <- which(is.na(column))
  if (length(bad)) {
    selu_abort(sprintf(paste(
      "Column `%s` has missing values (NA) in %s: impute or remove them before fitting",
      "(e.g. with recipes' step_impute_*() or tidyr::drop_na())."), name, format_rows(bad)),
      kind = "column", call = call)
  }
  if (is.numeric(column) && any(!is.finite(column))) {
    selu_abort(sprintf("Column `%s` has infinite values in %s.", name,
                       format_rows(which(!is.finite(column)))), kind = "column", call = call)
  }
  invisible(column)
}

check_snn_outcome_arg <- function(y, n, call) {
  rows <- if (is.data.frame(y) || is.matrix(y)) nrow(y) else length(y)
  if (!(is.numeric(y) || is.factor(y) || is.logical(y) || is.character(y) ||
        is.data.frame(y))) {
    selu_abort(sprintf(paste(
      "`y` must be a numeric vector, a factor, or a data frame or matrix of numeric",
      "outcomes, not %s."), describe(y)), call = call)
  }
  if (rows != n) {
    selu_abort(sprintf("`y` must have one value per row of `x` (%d), not %d.", n, rows),
               call = call)
  }
  if (is.matrix(y) && is.null(colnames(y))) colnames(y) <- paste0("y", seq_len(ncol(y)))
  y
}

# ---------------------------------------------------------------------------
# Preprocessing

# The encoding of each predictor column, learned on the training data: for a
# numeric column its mean and standard deviation; for a factor its levels
# and one-hot or embedding (with the embedding's width).
learn_preprocessing <- function(predictors, arg, call) {
  specs <- lapply(names(predictors), function(name) {
    column <- predictors[[name]]
    check_column(column, name, "predictor", arg, call)
    if (is.factor(column)) {
      levels <- levels(column)
      if (length(levels) > 10) {
        list(name = name, type = "factor", levels = levels, encoding = "embedding",
             width = min(50L, as.integer(ceiling(1.6 * length(levels)^0.56))))
      } else {
        list(name = name, type = "factor", levels = levels, encoding = "one-hot",
             width = length(levels))
      }
    } else {
      values <- as.double(column)
      sd <- stats::sd(values)
      # a constant column stays 0 after centering
      list(name = name, type = "numeric", mean = mean(values),
           sd = if (is.finite(sd) && sd > 0) sd else 1, encoding = "standardized", width = 1L)
    }
  })
  stats::setNames(specs, names(predictors))
}

# The network's inputs from predictors: the dense inputs (standardized
# numbers and one-hot factors) as one matrix, then each embedded factor's
# ids from 0.
apply_preprocessing <- function(preprocessing, predictors) {
  dense <- list()
  embedded <- list()
  for (spec in preprocessing) {
    column <- predictors[[spec$name]]
    if (spec$type == "numeric") {
      dense[[spec$name]] <- (as.double(column) - spec$mean) / spec$sd
    } else {
      ids <- match(as.character(column), spec$levels)
      if (spec$encoding == "one-hot") {
        onehot <- matrix(0, length(ids), length(spec$levels))
        onehot[cbind(seq_along(ids), ids)] <- 1
        dense[[spec$name]] <- onehot
      } else {
        embedded[[spec$name]] <- matrix(as.double(ids - 1L), ncol = 1)
      }
    }
  }
  n <- NROW(predictors[[1]])
  inputs <- list()
  if (length(dense)) inputs$dense <- matrix(unlist(dense, use.names = FALSE), n)
  # in the order of the network's inputs
  unname(c(inputs, embedded))
}

# ---------------------------------------------------------------------------
# The outcome

learn_outcome <- function(outcomes, arg, call) {
  for (name in names(outcomes)) check_column(outcomes[[name]], name, "outcome", arg, call)
  if (ncol(outcomes) == 1 && is.factor(outcomes[[1]])) {
    levels <- levels(outcomes[[1]])
    observed <- levels[table(outcomes[[1]]) > 0]
    if (length(observed) < 2) {
      selu_abort(sprintf(paste(
        "The outcome `%s` of `%s` must have at least two levels present, not %s."),
        names(outcomes), arg, format_names(observed)), kind = "column", call = call)
    }
    return(list(type = "classification", name = names(outcomes), levels = levels))
  }
  factors <- vapply(outcomes, is.factor, TRUE)
  if (any(factors)) {
    selu_abort(sprintf(paste(
      "The outcomes in `%s` must be one factor, or numeric columns; %s is a factor beside",
      "other outcomes."), arg, format_names(names(outcomes)[factors])), kind = "column",
      call = call)
  }
  values <- vapply(outcomes, function(v) as.double(v), numeric(nrow(outcomes)))
  values <- matrix(values, nrow(outcomes))
  sds <- apply(values, 2, stats::sd)
  constant <- !(is.finite(sds) & sds > 0)
  if (any(constant)) {
    selu_abort(sprintf("The outcome %s of `%s` is constant: there is nothing to learn.",
                       format_names(names(outcomes)[constant]), arg), kind = "column", call = call)
  }
  list(type = "regression", name = names(outcomes), mean = colMeans(values), sd = sds)
}

# The targets the network trains on: standardized numbers, or classes from 0.
outcome_targets <- function(outcome, outcomes) {
  if (outcome$type == "classification") {
    return(as.double(as.integer(outcomes[[1]]) - 1L))
  }
  values <- matrix(vapply(outcomes, as.double, numeric(nrow(outcomes))), nrow(outcomes))
  sweep(sweep(values, 2, outcome$mean), 2, outcome$sd, "/")
}

snn_class_weights <- function(class_weights, outcome, y, call) {
  if (is.null(class_weights)) return(NULL)
  if (outcome$type != "classification") {
    selu_abort("`class_weights` is for a factor outcome; this outcome is numeric.", call = call)
  }
  levels <- outcome$levels
  ok <- is.numeric(class_weights) && !is.object(class_weights) && all(is.finite(class_weights)) &&
    all(class_weights >= 0) && length(class_weights) %in% c(1L, length(levels))
  if (ok && !is.null(names(class_weights)) && length(class_weights) > 1) {
    ok <- setequal(names(class_weights), levels)
  }
  if (!ok) {
    selu_abort(sprintf(paste(
      "`class_weights` must be one non-negative weight per level of the outcome (%s),",
      "named by level or in their order, or a single weight for the least frequent level,",
      "not %s."), paste0("\"", levels, "\"", collapse = ", "), describe(class_weights)),
      call = call)
  }
  weights <- if (length(class_weights) == 1) {
    counts <- tabulate(as.integer(y), length(levels))
    counts[counts == 0] <- NA
    w <- rep(1, length(levels))
    w[which.min(counts)] <- class_weights
    w
  } else if (!is.null(names(class_weights))) {
    as.double(class_weights[levels])
  } else {
    as.double(class_weights)
  }
  stats::setNames(weights, seq_along(levels) - 1L)
}

# ---------------------------------------------------------------------------
# The network and its training

snn_network <- function(preprocessing, outcome, settings) {
  dense_width <- sum(vapply(preprocessing, function(s) {
    if (s$encoding == "embedding") 0L else as.integer(s$width)
  }, 1L))
  inputs <- list()
  pieces <- list()
  if (dense_width > 0) {
    inputs$dense <- layer_input(dense_width, name = "predictors")
    pieces$dense <- inputs$dense
  }
  for (spec in preprocessing) {
    if (spec$encoding != "embedding") next
    input <- layer_input(1, name = snn_layer_name(spec$name, "ids"))
    inputs[[spec$name]] <- input
    pieces[[spec$name]] <- input |>
      layer_embedding(length(spec$levels), spec$width, name = snn_layer_name(spec$name, "embedding")) |>
      layer_flatten(name = snn_layer_name(spec$name, "flatten"))
  }
  x <- if (length(pieces) == 1) pieces[[1]] else layer_concatenate(unname(pieces), name = "features")
  regularizer <- function() if (settings$penalty > 0) regularizer_l2(settings$penalty)
  hidden <- list()
  for (i in seq_along(settings$hidden_units)) {
    x <- layer_dense(x, settings$hidden_units[i], activation = "selu",
                     kernel_initializer = "lecun_normal", kernel_regularizer = regularizer(),
                     name = sprintf("hidden_%d", i))
    hidden[[i]] <- x
    if (settings$dropout > 0) {
      x <- layer_alpha_dropout(x, settings$dropout, name = sprintf("alpha_dropout_%d", i))
    }
  }
  head <- if (outcome$type == "regression") {
    list(units = length(outcome$name), activation = "linear", loss = "mean_squared_error")
  } else if (length(outcome$levels) == 2) {
    list(units = 1L, activation = "sigmoid", loss = "binary_crossentropy")
  } else {
    list(units = length(outcome$levels), activation = "softmax",
         loss = "sparse_categorical_crossentropy")
  }
  output <- layer_dense(x, head$units, activation = head$activation,
                        kernel_initializer = "lecun_normal", kernel_regularizer = regularizer(),
                        name = "output")
  model <- keras_model(unname(inputs), output, name = "snn")
  optimizer <- switch(settings$optimizer,
    adam = optimizer_adam(settings$learn_rate),
    adamw = optimizer_adamw(settings$learn_rate),
    nadam = optimizer_nadam(settings$learn_rate),
    adamax = optimizer_adamax(settings$learn_rate),
    rmsprop = optimizer_rmsprop(settings$learn_rate),
    sgd = optimizer_sgd(settings$learn_rate),
    adagrad = optimizer_adagrad(settings$learn_rate)
  )
  compile(model, optimizer = optimizer, loss = head$loss)
  list(model = model, hidden = hidden, inputs = unname(inputs))
}

# Layer names keras takes: letters, digits, `_`, `-` and `.`.
snn_layer_name <- function(column, what) {
  paste0(gsub("[^A-Za-z0-9_.-]", "_", column), "_", what)
}

rows_of <- function(inputs, rows) {
  lapply(inputs, function(m) m[rows, , drop = FALSE])
}

snn_bridge <- function(processed, settings, class_weights, args, call) {
  predictors <- processed$predictors
  if (ncol(predictors) == 0) {
    selu_abort(sprintf(paste(
      "`%s` gives no predictors: the model needs at least one column to learn from."),
      args[["predictors"]]), kind = "column", call = call)
  }
  preprocessing <- learn_preprocessing(predictors, args[["predictors"]], call)
  # hardhat names the columns of cbind(a, b) ~ . "cbind(a, b).a"
  names(processed$outcomes) <- sub("^cbind\\(.*\\)\\.", "", names(processed$outcomes))
  outcome <- learn_outcome(processed$outcomes, args[["outcomes"]], call)
  weights <- snn_class_weights(class_weights, outcome, processed$outcomes[[1]], call)
  inputs <- apply_preprocessing(preprocessing, predictors)
  targets <- outcome_targets(outcome, processed$outcomes)
  n <- nrow(predictors)
  network <- snn_network(preprocessing, outcome, settings)

  validation_data <- NULL
  callbacks <- list()
  train <- seq_len(n)
  held_out <- if (settings$validation > 0) round(settings$validation * n) else 0
  if (held_out >= 1 && n - held_out >= 1) {
    valid <- sort(sample.int(n, held_out))
    train <- setdiff(train, valid)
    validation_data <- list(rows_of(inputs, valid), rows_of(list(as.matrix(targets)), valid)[[1]])
    callbacks <- list(callback_early_stopping(patience = settings$stop_iter,
                                              restore_best_weights = TRUE))
  }
  history <- fit(network$model, rows_of(inputs, train),
                 rows_of(list(as.matrix(targets)), train)[[1]],
                 batch_size = settings$batch_size, epochs = settings$epochs,
                 verbose = if (settings$verbose) 2 else 0, callbacks = callbacks,
                 validation_data = validation_data, class_weight = weights)

  hardhat::new_model(
    model = network$model,
    history = history,
    preprocessing = preprocessing,
    outcome = outcome,
    settings = settings,
    class_weights = weights,
    self_normalization = self_normalization(network, inputs),
    n_train = length(train),
    n_validation = n - length(train),
    blueprint = processed$blueprint,
    class = "selu_snn"
  )
}

# The mean and variance of each hidden layer's activations on the data: near
# 0 and 1 when the network self-normalizes.
self_normalization <- function(network, inputs) {
  probe <- keras_model(network$inputs, network$hidden)
  activations <- predict(probe, inputs, verbose = 0)
  if (!is.list(activations)) activations <- list(activations)
  data.frame(
    layer = sprintf("hidden_%d", seq_along(activations)),
    units = vapply(activations, ncol, 1L),
    mean = vapply(activations, mean, 1),
    variance = vapply(activations, function(a) mean((a - mean(a))^2), 1)
  )
}

# ---------------------------------------------------------------------------
# Prediction

#' Predictions of a self-normalizing network
#'
#' @param object A fit from [snn()].
#' @param new_data A data frame (or matrix) with the predictors' columns,
#'   prepared as the training data were: the same columns, the factors'
#'   levels among the training levels, no `NA`.
#' @param type `"numeric"` for a regression (the default there), `"class"`
#'   or `"prob"` for a classification (`"class"` the default).
#' @param ... Not used; an error if given.
#' @return A tibble with one row per row of `new_data` and tidymodels'
#'   column names: `.pred` (or `.pred_<outcome>` for several outcomes),
#'   `.pred_class`, or `.pred_<level>` for each level.
#' @export
#' @examples
#' set.seed(1)
#' fit <- snn(Species ~ ., data = iris, hidden_units = 16, epochs = 20)
#' predict(fit, head(iris))
#' predict(fit, head(iris), type = "prob")
predict.selu_snn <- function(object, new_data, type = NULL, ...) {
  call <- sys.call()
  if (missing(object)) abort_missing("object", "a fit from snn()", call = call)
  check_snn_fit(object, call)
  check_empty_dots(list(...), call = call)
  if (missing(new_data)) abort_missing("new_data", "a data frame of predictors", call = call)
  outcome <- object$outcome
  types <- if (outcome$type == "regression") "numeric" else c("class", "prob")
  if (is.null(type)) type <- types[1]
  if (!(is.character(type) && length(type) == 1 && !is.na(type) && type %in% types)) {
    selu_abort(sprintf("`type` must be %s for a %s, not %s.",
                       paste0("\"", types, "\"", collapse = " or "), outcome$type,
                       describe(type)), call = call)
  }
  if (is.matrix(new_data)) new_data <- as.data.frame(new_data)
  check_new_data(new_data, object$blueprint$ptypes$predictors, call)
  predictors <- hardhat::forge(new_data, object$blueprint)$predictors
  for (name in names(object$preprocessing)) {
    check_column(predictors[[name]], name, "predictor", "new_data", call)
  }
  if (nrow(new_data) == 0) return(empty_prediction(outcome, type))
  scores <- predict(object$model, apply_preprocessing(object$preprocessing, predictors),
                    verbose = 0)
  snn_format_prediction(outcome, scores, type)
}

snn_format_prediction <- function(outcome, scores, type) {
  scores <- as.matrix(scores)
  if (outcome$type == "regression") {
    values <- sweep(sweep(scores, 2, outcome$sd, "*"), 2, outcome$mean, "+")
    if (ncol(values) == 1) return(hardhat::spruce_numeric(as.vector(values)))
    columns <- stats::setNames(lapply(seq_len(ncol(values)), function(j) values[, j]),
                               paste0(".pred_", outcome$name))
    return(tibble::as_tibble(columns))
  }
  probs <- if (ncol(scores) == 1) cbind(1 - scores[, 1], scores[, 1]) else scores
  colnames(probs) <- outcome$levels
  if (type == "prob") {
    return(hardhat::spruce_prob(outcome$levels, probs))
  }
  classes <- factor(outcome$levels[max.col(probs, ties.method = "first")], levels = outcome$levels)
  hardhat::spruce_class(classes)
}

empty_prediction <- function(outcome, type) {
  scores <- matrix(0, 0, if (outcome$type == "regression") length(outcome$name)
                   else if (length(outcome$levels) == 2) 1 else length(outcome$levels))
  snn_format_prediction(outcome, scores, type)
}

check_snn_fit <- function(object, call) {
  ok <- inherits(object, "selu_snn") && is.list(object) && is_model(object$model) &&
    is.list(object$preprocessing) && is.list(object$outcome)
  if (!ok) {
    selu_abort(sprintf("`object` must be a fit from snn(), not %s.", describe(object)), call = call)
  }
}

# new_data has every predictor column of the training data, of a type that
# can be read as it (a factor's levels among the training levels).
check_new_data <- function(new_data, ptype, call) {
  if (!is.data.frame(new_data)) {
    selu_abort(sprintf("`new_data` must be a data frame of predictors, not %s.",
                       describe(new_data)), call = call)
  }
  absent <- setdiff(names(ptype), names(new_data))
  if (length(absent)) {
    selu_abort(sprintf("`new_data` has no column%s %s, which the model was trained on.",
                       if (length(absent) == 1) "" else "s", format_names(absent)),
               kind = "column", call = call)
  }
  for (name in names(ptype)) {
    expected <- ptype[[name]]
    column <- new_data[[name]]
    if (is.factor(expected)) {
      if (!(is.factor(column) || is.character(column))) {
        selu_abort(sprintf("Column `%s` of `new_data` must be a factor (levels %s), not %s.", name,
                           format_names(levels(expected)), describe(column)),
                   kind = "column", call = call)
      }
      values <- as.character(column)
      novel <- !is.na(values) & !values %in% levels(expected)
      if (any(novel)) {
        selu_abort(sprintf(paste(
          "Column `%s` of `new_data` has level%s %s in %s, not seen in training (levels %s). Map them to",
          "a training level, or refit on data that has them."), name,
          if (length(unique(values[novel])) == 1) "" else "s",
          format_names(unique(values[novel])), format_rows(which(novel)),
          format_names(levels(expected))), kind = "column", call = call)
      }
    } else if (is.numeric(expected) || is.logical(expected)) {
      if (!((is.numeric(column) || is.logical(column)) && !is.object(column))) {
        selu_abort(sprintf("Column `%s` of `new_data` must be numeric, not %s.", name, describe(column)),
                   kind = "column", call = call)
      }
    }
    bad <- which(is.na(column))
    if (length(bad)) {
      selu_abort(sprintf("Column `%s` of `new_data` has missing values (NA) in %s.", name,
                         format_rows(bad)), kind = "column", call = call)
    }
  }
}

# ---------------------------------------------------------------------------
# print(), summary(), plot()

#' @export
print.selu_snn <- function(x, ...) {
  outcome <- x$outcome
  what <- if (outcome$type == "regression") {
    if (length(outcome$name) == 1) "regression" else sprintf("regression of %d outcomes", length(outcome$name))
  } else {
    sprintf("classification into %d classes", length(outcome$levels))
  }
  cat(sprintf("A self-normalizing network for %s\n", what))
  cat(sprintf("  hidden layers: %s (SELU, LeCun-normal weights%s)\n",
              paste(x$settings$hidden_units, collapse = ", "),
              if (x$settings$dropout > 0) sprintf(", alpha dropout %g", x$settings$dropout) else ""))
  cat(sprintf("  predictors: %s\n", describe_preprocessing(x$preprocessing)))
  cat(sprintf("  %s\n", describe_training(x)))
  invisible(x)
}

describe_preprocessing <- function(preprocessing) {
  encodings <- vapply(preprocessing, `[[`, "", "encoding")
  kinds <- list(standardized = c("numeric", "numeric"), `one-hot` = c("factor", "one-hot"),
                embedding = c("factor", "embedded"))
  parts <- vapply(names(kinds), function(e) {
    k <- sum(encodings == e)
    what <- kinds[[e]]
    if (k == 0) "" else sprintf("%d %s%s%s", k, what[1], if (k > 1 && what[1] == "factor") "s" else "",
                                if (e == "standardized") "" else paste0(" ", what[2]))
  }, "")
  paste(parts[nzchar(parts)], collapse = ", ")
}

describe_training <- function(x) {
  metrics <- x$history$metrics
  epochs <- length(metrics$loss)
  text <- sprintf("trained %d epoch%s on %d rows: loss %.4g", epochs, if (epochs == 1) "" else "s",
                  x$n_train, metrics$loss[epochs])
  if (!is.null(metrics$val_loss)) {
    best <- which.min(metrics$val_loss)
    text <- sprintf("%s; the weights of epoch %d kept: validation loss %.4g (%d rows held out)", text,
                    best, metrics$val_loss[best], x$n_validation)
  }
  text
}

#' Summaries of a self-normalizing network
#'
#' `summary()` of an [snn()] fit gives its architecture, the preprocessing of
#' each predictor, the training history and a diagnostic of
#' self-normalization: the mean and variance of each hidden layer's
#' activations on the training data, near 0 and 1 when the network keeps its
#' activations normalized as SELU's fixed point promises.
#'
#' @param object A fit from [snn()].
#' @param ... Not used.
#' @return An object of class `summary.selu_snn`, a list with `architecture`
#'   (a data frame of layers), `preprocessing` (a data frame of predictors),
#'   `history` (a data frame per epoch) and `self_normalization` (a data
#'   frame per hidden layer), printed readably.
#' @export
#' @examples
#' set.seed(1)
#' fit <- snn(mpg ~ ., data = mtcars, hidden_units = c(16, 16), epochs = 20)
#' summary(fit)
summary.selu_snn <- function(object, ...) {
  if (missing(object)) abort_missing("object", "a fit from snn()", call = sys.call())
  check_snn_fit(object, sys.call())
  self <- model_state(object$model)
  shapes <- step_output_shapes(self)
  architecture <- data.frame(
    layer = vapply(self$steps, function(step) step$name, ""),
    class = vapply(self$steps, function(step) step$class_name, ""),
    output_shape = vapply(shapes, format_shape, ""),
    parameters = vapply(self$steps, function(step) sum(lengths(step$weights)), 1)
  )
  preprocessing <- data.frame(
    column = names(object$preprocessing),
    type = vapply(object$preprocessing, `[[`, "", "type"),
    encoding = vapply(object$preprocessing, `[[`, "", "encoding"),
    inputs = vapply(object$preprocessing, function(s) as.integer(s$width), 1L),
    detail = vapply(object$preprocessing, function(s) {
      if (s$type == "numeric") sprintf("mean %.4g, sd %.4g", s$mean, s$sd)
      else sprintf("%d levels", length(s$levels))
    }, ""),
    row.names = NULL
  )
  structure(list(
    architecture = architecture,
    preprocessing = preprocessing,
    history = data.frame(epoch = seq_along(object$history$metrics$loss),
                         object$history$metrics),
    self_normalization = object$self_normalization,
    description = utils::capture.output(print(object))
  ), class = "summary.selu_snn")
}

#' @export
print.summary.selu_snn <- function(x, ...) {
  cat(x$description, sep = "\n")
  cat("\nArchitecture:\n")
  print(x$architecture, row.names = FALSE)
  cat("\nPreprocessing:\n")
  print(x$preprocessing, row.names = FALSE)
  cat("\nSelf-normalization (hidden activations on the training data; near 0 and 1):\n")
  print(x$self_normalization, row.names = FALSE, digits = 3)
  cat("\nTraining history (last epochs):\n")
  print(utils::tail(x$history, 5), row.names = FALSE, digits = 4)
  invisible(x)
}

#' @export
plot.selu_snn <- function(x, ...) {
  plot(x$history, ...)
}
