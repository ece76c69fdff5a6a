# A deep self-normalizing stack: 16 blocks of a linear map with LeCun-normal
# weights (standard deviation 1 / sqrt(fan_in)) and a SELU layer, on 2000
# generated samples of 256 standard normal features. The activations keep
# mean 0 and variance 1 from layer to layer.
library(selu)
set.seed(2017)
n_samples <- 2000
units <- 256
depth <- 16
x <- matrix(rnorm(n_samples * units), n_samples, units)

selu_layer <- layer_activation_selu(input_shape = units, name = "selu")
lecun <- initializer_lecun_normal()
stats <- data.frame(block = 0, mean = mean(x), variance = var(as.vector(x)))
for (block in seq_len(depth)) {
  weights <- lecun(c(units, units))
  x <- selu_layer(x %*% weights)
  stats[block + 1, ] <- c(block, mean(x), var(as.vector(x)))
}
print(stats, digits = 3, row.names = FALSE)
cat(sprintf("\nAfter %d SELU blocks: mean %.3f, variance %.3f\n", depth,
            mean(x), var(as.vector(x))))
