# Held-out quality of snn() against lm()/glm() and nnet on standard data sets
# available offline (mlbench), over random splits: a quarter of the rows held
# out, the same split for every method. Writes bench/results/tabular.md.
#
#   Rscript bench/tabular.R [splits]
library(selu)
splits <- as.integer(commandArgs(trailingOnly = TRUE)[1])
if (is.na(splits)) splits <- 10L
data(BostonHousing, package = "mlbench")
data(PimaIndiansDiabetes, package = "mlbench")
data(Sonar, package = "mlbench")

# nnet's inputs: the predictors standardized with the training statistics
standardized <- function(formula, train, data) {
  x <- model.matrix(formula, data)[, -1, drop = FALSE]
  reference <- model.matrix(formula, train)[, -1, drop = FALSE]
  scale(x, center = colMeans(reference), scale = pmax(apply(reference, 2, sd), 1e-12))
}

rmse <- function(predicted, observed) sqrt(mean((predicted - observed)^2))

tasks <- list(
  BostonHousing = list(
    data = BostonHousing, formula = medv ~ ., measure = "RMSE",
    snn = list(hidden_units = c(64, 64), epochs = 200, stop_iter = 10),
    run = function(fit, train, test, f) {
      linear <- lm(f, train)
      net <- nnet::nnet(standardized(f, train, train), train$medv / 50, size = 10,
                        decay = 0.01, maxit = 500, linout = TRUE, trace = FALSE)
      c(snn = rmse(predict(fit, test)$.pred, test$medv),
        linear = rmse(predict(linear, test), test$medv),
        nnet = rmse(50 * predict(net, standardized(f, train, test)), test$medv))
    }),
  PimaIndiansDiabetes = list(
    data = PimaIndiansDiabetes, formula = diabetes ~ ., measure = "accuracy",
    snn = list(hidden_units = 8, hidden_layers = 2, epochs = 200, learn_rate = 0.003,
               validation = 0.2, stop_iter = 20),
    run = function(fit, train, test, f) {
      event <- test$diabetes == "pos"
      linear <- glm(f, binomial, train)
      net <- nnet::nnet(standardized(f, train, train), (train$diabetes == "pos") + 0,
                        size = 10, decay = 0.01, maxit = 500, trace = FALSE)
      c(snn = mean(predict(fit, test)$.pred_class == test$diabetes),
        linear = mean((predict(linear, test, type = "response") > 0.5) == event),
        nnet = mean((predict(net, standardized(f, train, test)) > 0.5) == event))
    }),
  Sonar = list(
    data = Sonar, formula = Class ~ ., measure = "accuracy",
    snn = list(hidden_units = c(32, 32, 32), epochs = 50, learn_rate = 0.002, validation = 0),
    run = function(fit, train, test, f) {
      event <- test$Class == "R"
      linear <- suppressWarnings(glm(f, binomial, train))
      net <- nnet::nnet(standardized(f, train, train), (train$Class == "R") + 0, size = 10,
                        decay = 0.01, maxit = 500, trace = FALSE)
      c(snn = mean(predict(fit, test)$.pred_class == test$Class),
        linear = mean((suppressWarnings(predict(linear, test, type = "response")) > 0.5) == event),
        nnet = mean((predict(net, standardized(f, train, test)) > 0.5) == event))
    })
)

rows <- list()
for (name in names(tasks)) {
  task <- tasks[[name]]
  scores <- t(vapply(seq_len(splits), function(split) {
    set.seed(split)
    held_out <- sample(nrow(task$data), round(nrow(task$data) / 4))
    train <- task$data[-held_out, ]
    test <- task$data[held_out, ]
    fit <- do.call(snn, c(list(task$formula, train), task$snn))
    task$run(fit, train, test, task$formula)
  }, numeric(3)))
  cat(name, "\n")
  print(colMeans(scores))
  rows[[name]] <- sprintf("| %s | %s | %.3f (%.3f) | %.3f (%.3f) | %.3f (%.3f) |", name,
                          task$measure,
                          mean(scores[, 1]), sd(scores[, 1]) / sqrt(splits),
                          mean(scores[, 2]), sd(scores[, 2]) / sqrt(splits),
                          mean(scores[, 3]), sd(scores[, 3]) / sqrt(splits))
}
table <- c(sprintf("Held-out scores, mean (standard error) over %d random splits:", splits), "",
           "| data | measure | snn() | lm() / glm() | nnet |", "|---|---|---|---|---|",
           unlist(rows))
dir.create("bench/results", showWarnings = FALSE)
writeLines(table, "bench/results/tabular.md")
cat(table, sep = "\n")
