# The claims of Klambauer, Unterthiner, Mayr and Hochreiter (2017),
# "Self-normalizing neural networks" (NeurIPS; arXiv:1706.02515), reproduced
# in small with selu's own layers, initializers and fit():
#   1. forward only: the mean and variance of each layer's activations in deep
#      dense networks (SELU + LeCun normal, ReLU + He normal, tanh + Glorot
#      normal);
#   2. the same in a SELU network with alpha dropout or plain dropout, in
#      training mode;
#   3. training: 16-layer networks (SNN, ReLU, ReLU + batch normalization) on
#      mlbench's Satellite data, loss per epoch;
#   4. the paper's protocol on 121 UCI tasks, in small: eleven mlbench data
#      sets, three random splits of each, the same hyperparameter grid for
#      each design, selected on the validation part, accuracy on the held-out
#      test part, average ranks.
# It writes vignettes/paper-results.rds (plain data frames and lists), which
# vignettes/self-normalizing.Rmd reads.
#
# Run from the package's root, with selu and mlbench installed:
#   Rscript bench/paper.R
# It is seeded (the same results on every run) and runs on one thread;
# about 13 minutes on one core of a 2-core virtual machine (parts 1 and 2,
# the forward passes, take about 20 seconds of it).
library(selu)
library(mlbench)
selu_threads(1)
started <- proc.time()[["elapsed"]]
elapsed <- function() round(proc.time()[["elapsed"]] - started)
say <- function(...) cat(sprintf("[%4ds] ", elapsed()), sprintf(...), "\n", sep = "")

# The mean and the variance (over every sample and unit) of what each layer
# of a `depth`-layer dense network gives for `x`. `dropout` is NULL or a
# layer function (layer_alpha_dropout, layer_dropout) put after each
# activation and run in training mode.
activation_moments <- function(x, depth, activation, initializer, dropout = NULL, rate = 0.1) {
  moments <- data.frame(layer = seq_len(depth), mean = NA_real_, variance = NA_real_)
  for (layer in seq_len(depth)) {
    dense <- layer_dense(units = ncol(x), activation = activation,
                         kernel_initializer = initializer)
    x <- dense(x)
    if (!is.null(dropout)) x <- dropout(rate = rate)(x, training = TRUE)
    moments$mean[layer] <- mean(x)
    moments$variance[layer] <- mean((x - mean(x))^2)
  }
  moments
}

## 1. Forward only ------------------------------------------------------------
designs_forward <- list(
  "SELU + lecun_normal" = list(activation = "selu", initializer = "lecun_normal"),
  "ReLU + he_normal" = list(activation = "relu", initializer = "he_normal"),
  "tanh + glorot_normal" = list(activation = "tanh", initializer = "glorot_normal")
)
set.seed(2017)
x_forward <- matrix(rnorm(1000 * 256), 1000, 256)
forward <- list()
for (depth in c(8, 32, 64)) {
  for (design in names(designs_forward)) {
    set.seed(depth)
    spec <- designs_forward[[design]]
    moments <- activation_moments(x_forward, depth, spec$activation, spec$initializer)
    forward[[length(forward) + 1]] <- cbind(depth = depth, design = design, moments)
  }
}
forward <- do.call(rbind, forward)
say("1. forward pass: done")

## 2. Alpha dropout against dropout, in training mode ------------------------
dropout_moments <- list()
for (kind in c("alpha dropout", "dropout")) {
  set.seed(64)
  dropout <- if (kind == "alpha dropout") layer_alpha_dropout else layer_dropout
  moments <- activation_moments(x_forward, 64, "selu", "lecun_normal", dropout, rate = 0.1)
  dropout_moments[[kind]] <- cbind(design = paste("SELU +", kind, "0.1"), moments)
}
dropout_moments <- do.call(rbind, unname(dropout_moments))
say("2. dropout: done")

## The data sets ---------------------------------------------------------------
# A numeric matrix of features and classes from 0, from an mlbench data frame:
# rows with a missing value dropped; factor features whose levels are numbers
# (scores, ordered levels) as those numbers, two-level factors as 0/1, the
# others (and those named in `dummies`) as indicator columns.
prepare <- function(name, target, drop = NULL, dummies = NULL, max_rows = Inf) {
  data <- get(name)
  data <- stats::na.omit(data[setdiff(names(data), drop)])
  if (nrow(data) > max_rows) {
    set.seed(1)
    data <- data[sort(sample(nrow(data), max_rows)), ]
  }
  features <- lapply(setdiff(names(data), target), function(column) {
    value <- data[[column]]
    if (is.numeric(value)) return(matrix(value, dimnames = list(NULL, column)))
    levels_as_numbers <- suppressWarnings(as.numeric(levels(value)))
    if (!column %in% dummies && !anyNA(levels_as_numbers)) {
      return(matrix(levels_as_numbers[value], dimnames = list(NULL, column)))
    }
    if (nlevels(value) == 2) {
      return(matrix(as.numeric(value == levels(value)[2]), dimnames = list(NULL, column)))
    }
    indicators <- stats::model.matrix(~ value - 1)
    colnames(indicators) <- paste0(column, "_", levels(value))
    indicators
  })
  list(name = name, x = do.call(cbind, features),
       y = as.integer(droplevels(data[[target]])) - 1L)
}

data(list = c("Sonar", "Ionosphere", "Glass", "Vehicle", "Vowel", "BreastCancer",
              "PimaIndiansDiabetes", "Satellite", "LetterRecognition", "HouseVotes84",
              "Soybean"))
datasets <- list(
  prepare("Sonar", "Class"),
  prepare("Ionosphere", "Class"),
  prepare("Glass", "Type"),
  prepare("Vehicle", "Class"),
  prepare("Vowel", "Class", dummies = "V1"),
  prepare("BreastCancer", "Class", drop = "Id"),
  prepare("PimaIndiansDiabetes", "diabetes"),
  prepare("HouseVotes84", "Class"),
  prepare("Soybean", "Class"),
  prepare("Satellite", "classes", max_rows = 2000),
  prepare("LetterRecognition", "lettr", max_rows = 2000)
)
names(datasets) <- vapply(datasets, `[[`, "", "name")
# (mlbench's DNA, 180 features, is left out: nnet's BFGS, whose cost grows
# with the square of the number of weights, takes minutes per fit on it.)

# A seeded split into 60% training, 20% validation and 20% test rows, the
# features standardized with the training rows' means and standard
# deviations (a constant feature is only centred).
split_data <- function(data, seed) {
  set.seed(seed)
  n <- nrow(data$x)
  part <- sample(rep(c("train", "validation", "test"), length.out = n))
  train <- data$x[part == "train", , drop = FALSE]
  centre <- colMeans(train)
  spread <- apply(train, 2, stats::sd)
  spread[spread == 0] <- 1
  standardize <- function(x) sweep(sweep(x, 2, centre), 2, spread, "/")
  parts <- lapply(c(train = "train", validation = "validation", test = "test"), function(p) {
    list(x = standardize(data$x[part == p, , drop = FALSE]), y = data$y[part == p])
  })
  parts$classes <- max(data$y) + 1L
  parts
}

# A compiled dense network of one of the three designs compared.
build_network <- function(design, features, classes, depth, units, learning_rate,
                          optimizer = optimizer_adam, alpha_dropout = 0.05) {
  model <- keras_model_sequential(input_shape = features)
  for (layer in seq_len(depth)) {
    model <- switch(design,
      "SNN" = {
        model <- layer_dense(model, units, activation = "selu",
                             kernel_initializer = "lecun_normal")
        if (alpha_dropout > 0) layer_alpha_dropout(model, alpha_dropout) else model
      },
      "ReLU" = layer_dense(model, units, activation = "relu", kernel_initializer = "he_normal"),
      "ReLU + BN" = layer_dense(model, units, kernel_initializer = "he_normal") |>
        layer_batch_normalization() |>
        layer_activation("relu")
    )
  }
  model <- layer_dense(model, classes, activation = "softmax")
  compile(model, optimizer = optimizer(learning_rate = learning_rate),
          loss = "sparse_categorical_crossentropy", metrics = "accuracy")
  model
}

## 3. Training 16-layer networks -------------------------------------------------
satellite <- prepare("Satellite", "classes")
set.seed(3)
rows <- sample(nrow(satellite$x), 4000)
satellite_split <- split_data(list(x = satellite$x[rows, ], y = satellite$y[rows]), 3)
curves <- list()
for (design in c("SNN", "ReLU", "ReLU + BN")) {
  set.seed(16)
  model <- build_network(design, ncol(satellite$x), satellite_split$classes, depth = 16,
                         units = 64, learning_rate = 0.01, optimizer = optimizer_sgd,
                         alpha_dropout = 0)
  history <- fit(model, satellite_split$train$x, satellite_split$train$y, epochs = 40,
                 batch_size = 32, verbose = 0,
                 validation_data = list(satellite_split$validation$x,
                                        satellite_split$validation$y))
  curves[[design]] <- data.frame(design = design, epoch = seq_along(history$metrics$loss),
                                 loss = history$metrics$loss,
                                 val_loss = history$metrics$val_loss,
                                 accuracy = history$metrics$accuracy,
                                 val_accuracy = history$metrics$val_accuracy)
  say("3. %s: final training loss %.3f", design, tail(history$metrics$loss, 1))
}
curves <- do.call(rbind, unname(curves))

## 4. Ten data sets, one grid, validation-selected, test accuracy ---------------
grid <- expand.grid(depth = c(2, 8), learning_rate = c(1e-3, 1e-2))
nnet_grid <- expand.grid(size = c(8, 32), decay = c(1e-3, 1e-1))
runs <- list()
for (data in datasets) for (split_seed in 1:3) {
  parts <- split_data(data, split_seed)
  for (design in c("SNN", "ReLU", "ReLU + BN")) {
    for (g in seq_len(nrow(grid))) {
      set.seed(g)
      model <- build_network(design, ncol(parts$train$x), parts$classes, grid$depth[g],
                             units = 64, learning_rate = grid$learning_rate[g])
      history <- fit(model, parts$train$x, parts$train$y, epochs = 40, batch_size = 32,
                     verbose = 0,
                     validation_data = list(parts$validation$x, parts$validation$y),
                     callbacks = callback_early_stopping(patience = 6,
                                                         restore_best_weights = TRUE))
      validation <- evaluate(model, parts$validation$x, parts$validation$y)
      runs[[length(runs) + 1]] <- data.frame(
        dataset = data$name, split = split_seed, design = design,
        setting = sprintf("depth %d, lr %g", grid$depth[g], grid$learning_rate[g]),
        epochs = length(history$metrics$loss),
        validation_loss = validation[["loss"]], validation_accuracy = validation[["accuracy"]],
        test_accuracy = evaluate(model, parts$test$x, parts$test$y)[["accuracy"]])
    }
  }
  for (g in seq_len(nrow(nnet_grid))) {
    set.seed(g)
    targets <- nnet::class.ind(factor(parts$train$y, levels = seq_len(parts$classes) - 1))
    net <- nnet::nnet(parts$train$x, targets, size = nnet_grid$size[g],
                      decay = nnet_grid$decay[g], softmax = TRUE, maxit = 500,
                      MaxNWts = 1e5, trace = FALSE)
    accuracy <- function(part) mean(max.col(predict(net, part$x), "first") - 1 == part$y)
    probability <- predict(net, parts$validation$x)
    picked <- probability[cbind(seq_along(parts$validation$y), parts$validation$y + 1)]
    runs[[length(runs) + 1]] <- data.frame(
      dataset = data$name, split = split_seed, design = "nnet",
      setting = sprintf("size %d, decay %g", nnet_grid$size[g], nnet_grid$decay[g]),
      epochs = NA_integer_, validation_loss = -mean(log(pmax(picked, 1e-15))),
      validation_accuracy = accuracy(parts$validation), test_accuracy = accuracy(parts$test))
  }
  say("4. %s (%d rows, %d features, %d classes), split %d: done", data$name,
      nrow(data$x), ncol(data$x), parts$classes, split_seed)
}
runs <- do.call(rbind, runs)

# The setting of each design on each split of each data set with the best
# validation accuracy (ties to the lower validation loss), its test accuracy,
# and their mean over the three splits.
best <- do.call(rbind, lapply(split(runs, list(runs$dataset, runs$split, runs$design),
                                    drop = TRUE),
  function(r) r[order(-r$validation_accuracy, r$validation_loss)[1], ]))
designs <- c("SNN", "ReLU", "ReLU + BN", "nnet")
test_accuracy <- sapply(designs, function(d) {
  b <- best[best$design == d, ]
  vapply(names(datasets), function(name) mean(b$test_accuracy[b$dataset == name]), 0)
})
rownames(test_accuracy) <- names(datasets)
# Rank 1 is the best test accuracy on a data set; ties share their mean rank.
ranks <- t(apply(-test_accuracy, 1, rank))
average_rank <- colMeans(ranks)

sizes <- data.frame(dataset = names(datasets),
                    rows = vapply(datasets, function(d) nrow(d$x), 0),
                    features = vapply(datasets, function(d) ncol(d$x), 0),
                    classes = vapply(datasets, function(d) max(d$y) + 1, 0),
                    row.names = NULL)
runtime <- elapsed()
results <- list(forward = forward, dropout = dropout_moments, curves = curves,
                runs = runs, best = best, test_accuracy = test_accuracy, ranks = ranks,
                average_rank = average_rank, sizes = sizes,
                grid = grid, nnet_grid = nnet_grid, runtime_seconds = runtime,
                session = list(r = R.version.string, selu = as.character(packageVersion("selu")),
                               date = format(Sys.Date())))
saveRDS(results, file.path("vignettes", "paper-results.rds"))
print(round(test_accuracy, 3))
print(round(average_rank, 2))
say("finished in %.1f minutes", runtime / 60)
