# keras' normalization layers: BatchNormalization and LayerNormalization.
# Their ops (R/program.R, src/ops.c) map each position of a sample to its
# feature along `axis`: batch normalization's statistics are per feature,
# layer normalization's per row and group of positions normalized together;
# gamma and beta are one number per feature.

#' Batch normalization layer
#'
#' keras' `BatchNormalization` (Ioffe and Szegedy, 2015): each feature along
#' `axis` is normalized with a mean and a variance taken over all the other
#' axes (the batch axis included), then scaled and shifted by the learned
#' \eqn{\gamma} (`gamma`) and \eqn{\beta} (`beta`):
#' \deqn{y = \gamma \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta.}{
#' y = gamma * (x - mean) / sqrt(var + epsilon) + beta.}
#'
#' * In training (in [fit()], or a layer called as `layer(x, training =
#'   TRUE)`), \eqn{\mu} and \eqn{\sigma^2} are the batch's mean and biased
#'   variance (divided by the number of values, not one less), and each such
#'   call updates the moving statistics, as keras does:
#'   \deqn{m \leftarrow m \cdot \mathrm{momentum} + \mu (1 - \mathrm{momentum}),}{moving_mean <-
#'   moving_mean * momentum + mean * (1 - momentum),}
#'   and the same for the moving variance with \eqn{\sigma^2}. keras 2.13
#'   uses the biased variance there too (its fused kernel for rank 4 and 5
#'   adds Bessel's correction and takes it out again); PyTorch's running
#'   variance is the unbiased one. An empty batch leaves them unchanged.
#' * In inference (the default of a layer call, [predict()], [evaluate()]),
#'   \eqn{\mu} and \eqn{\sigma^2} are the moving mean and variance.
#'
#' The gradient of the training mode goes through the batch mean and
#' variance; that of inference treats the moving statistics as constants.
#'
#' The weights are those of keras, in keras' order: `gamma` (when `scale`),
#' `beta` (when `center`), `moving_mean` and `moving_variance`. The moving
#' statistics are not trainable: [fit()]'s optimizer never changes them (they
#' change only by the momentum rule above), and [summary()][summary.selu_model]
#' counts them as non-trainable parameters. A frozen layer (`trainable =
#' FALSE`, or [freeze_weights()]) runs in inference mode even in training, as
#' in keras 2 (TensorFlow 2): its moving statistics stay as they are.
#'
#' Axes count R's dimensions from 1, the batch axis being 1, and negative
#' axes count from the end. keras' default `axis = -1` (the last axis, the
#' features or channels) is the same here; keras' `axis = 1` for
#' channels-first data (batch, channels, height, width) is `axis = 2` here.
#' Several axes normalize each combination of them separately (gamma and
#' beta then have keras' shape: 1 along the other axes). [get_config()]
#' keeps `axis` as it was given (keras turns it into a list of positive
#' Python axes when the layer is built).
#'
#' keras' TensorFlow-only arguments `renorm`, `renorm_clipping`,
#' `renorm_momentum`, `virtual_batch_size`, `adjustment` and `synchronized`
#' are accepted at their defaults only, and `fused` (an implementation
#' choice of TensorFlow) as `NULL`, `TRUE` or `FALSE`.
#'
#' @inheritParams layer_activation_selu
#' @param axis The feature axis (or axes) to normalize separately: whole
#'   numbers, not 0 and not the batch axis, 1; negative from the end.
#' @param momentum The momentum of the moving mean and variance, from 0 to 1.
#' @param epsilon A number above 0 added to the variance.
#' @param center `TRUE` to add the learned offset `beta`.
#' @param scale `TRUE` to multiply by the learned scale `gamma`.
#' @param beta_initializer,gamma_initializer,moving_mean_initializer,moving_variance_initializer
#'   Initializers (see [initializer_ones()]) or their names; by default
#'   `"zeros"` for `beta` and the moving mean, `"ones"` for `gamma` and the
#'   moving variance.
#' @param beta_regularizer,gamma_regularizer `NULL` or a regularizer
#'   ([regularizer_l2()], ...) whose penalty [fit()] adds to the loss.
#' @param beta_constraint,gamma_constraint `NULL` or a constraint
#'   ([constraint_nonneg()], ...) applied after each optimizer step.
#' @param weights `NULL`, or the weights in keras' order (`gamma`, `beta`,
#'   `moving_mean`, `moving_variance`, without those `scale` and `center`
#'   leave out) to set when the layer is built.
#' @param ... keras' TensorFlow-only arguments at their defaults (see
#'   Details); anything else is an error.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object` (see [layer_activation_selu()]).
#' @section Shape:
#' Any input of rank 2 or more, with known dimensions along `axis`; the
#' output has the same shape.
#' @references Ioffe, S. and Szegedy, C. (2015). Batch normalization:
#'   accelerating deep network training by reducing internal covariate
#'   shift. \doi{10.48550/arXiv.1502.03167}
#' @family layers
#' @export
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(40, mean = 5, sd = 3), 10, 4)
#' bn <- layer_batch_normalization(momentum = 0.9)
#' y <- bn(x, training = TRUE)   # normalized with the batch's statistics
#' round(colMeans(y), 6)
#' get_weights(bn)[[3]]          # the moving mean, 10% of the way to the batch's
#' bn(x)                         # inference: the moving statistics
#'
#' model <- keras_model_sequential(input_shape = 4) |>
#'   layer_dense(8) |>
#'   layer_batch_normalization() |>
#'   layer_activation("relu") |>
#'   layer_dense(1)
#' summary(model)
layer_batch_normalization <- function(object, axis = -1L, momentum = 0.99, epsilon = 0.001,
                                      center = TRUE, scale = TRUE,
                                      beta_initializer = "zeros", gamma_initializer = "ones",
                                      moving_mean_initializer = "zeros",
                                      moving_variance_initializer = "ones",
                                      beta_regularizer = NULL, gamma_regularizer = NULL,
                                      beta_constraint = NULL, gamma_constraint = NULL,
                                      input_shape = NULL, batch_input_shape = NULL,
                                      batch_size = NULL, dtype = NULL, name = NULL,
                                      trainable = NULL, weights = NULL, ...) {
  call <- sys.call()
  if (!missing(object)) force(object) # earlier layers of a pipe are named first
  check_keras_only_args(list(...), call)
  axis <- check_normalization_axis(axis, call)
  momentum <- check_finite_number(momentum, "momentum", min = 0, max = 1, call = call)
  epsilon <- check_finite_number(epsilon, "epsilon", min = 0, above = TRUE, call = call)
  parts <- normalization_parts(center, scale, beta_initializer, gamma_initializer,
                               beta_regularizer, gamma_regularizer, beta_constraint,
                               gamma_constraint, call)
  moving_mean_init <- as_initializer(moving_mean_initializer, "moving_mean_initializer", call)
  moving_variance_init <- as_initializer(moving_variance_initializer,
                                         "moving_variance_initializer", call)

  layer <- do.call(create_layer, c(list("BatchNormalization", "batch_normalization"),
                                    common_args(), list(
    build = function(self, shape, call, what) {
      axes <- resolve_normalization_axes(axis, shape, "BatchNormalization", call, what)
      features <- shape[axes]
      # keras' shape: the features for one axis, else 1 along the others
      param_shape <- if (length(axes) == 1) features else replace(rep(1L, length(shape)), axes, features)
      check_weight_size(param_shape, sprintf("The gamma of a BatchNormalization layer for %s", what),
                        call = call)
      self$axes <- axes
      self$weights <- c(affine_weights(parts, param_shape),
                        list(moving_mean = moving_mean_init(param_shape),
                             moving_variance = moving_variance_init(param_shape)))
      self$input_spec <- replace(rep(NA_integer_, length(shape)), axes, features)
    },
    config = list(axis = axis, momentum = momentum, epsilon = epsilon, center = parts$center,
                  scale = parts$scale,
                  beta_initializer = get_config(parts$beta_init),
                  gamma_initializer = get_config(parts$gamma_init),
                  moving_mean_initializer = get_config(moving_mean_init),
                  moving_variance_initializer = get_config(moving_variance_init),
                  beta_regularizer = config_or_null(parts$regularizers$beta),
                  gamma_regularizer = config_or_null(parts$regularizers$gamma),
                  beta_constraint = config_or_null(parts$constraints$beta),
                  gamma_constraint = config_or_null(parts$constraints$gamma)),
    n_weights = parts$scale + parts$center + 2L, call = call
  )), quote = TRUE)
  self <- layer_state(layer)
  self$non_trainable <- c("moving_mean", "moving_variance")
  attach_affine_parts(self, parts)
  finish_layer(missing(object), object, layer, call)
}

#' Layer normalization layer
#'
#' keras' `LayerNormalization` (Ba, Kiros and Hinton, 2016): each sample is
#' normalized with the mean and the (biased) variance of its values along
#' `axis`, then scaled and shifted by the learned \eqn{\gamma} (`gamma`) and
#' \eqn{\beta} (`beta`), which have the shape of those axes:
#' \deqn{y = \gamma \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta,}{
#' y = gamma * (x - mean) / sqrt(var + epsilon) + beta,}
#' with \eqn{\mu = \frac{1}{n} \sum_i x_i}{mean = mean(x)} and
#' \eqn{\sigma^2 = \frac{1}{n} \sum_i (x_i - \mu)^2}{var = mean((x - mean)^2)} over
#' the \eqn{n} values of a sample along `axis`,
#' the same in training and inference (there are no moving statistics). The
#' gradient goes through the mean and the variance. The weights are
#' `gamma` (when `scale`) then `beta` (when `center`), both trainable.
#'
#' Axes count R's dimensions from 1, the batch axis being 1, and negative
#' axes count from the end: keras' default `axis = -1` (the last axis) is
#' the same here, and keras' `axis = c(1, 2, 3)` over (batch, height, width,
#' channels) is `axis = c(2, 3, 4)` (or `-3:-1`). The batch axis cannot be
#' normalized over: each sample stays on its own.
#'
#' @inheritParams layer_batch_normalization
#' @param axis The axis or axes to normalize over: whole numbers, not 0 and
#'   not the batch axis, 1; negative from the end.
#' @param beta_initializer,gamma_initializer Initializers (see
#'   [initializer_ones()]) or their names; by default `"zeros"` for `beta`,
#'   `"ones"` for `gamma`.
#' @param weights `NULL`, or `list(gamma, beta)` (without those `scale` and
#'   `center` leave out) to set when the layer is built.
#' @param ... Not used; an error if given.
#' @return A layer, a model (invisibly), a symbolic tensor or an array, by
#'   `object` (see [layer_activation_selu()]).
#' @section Shape:
#' Any input of rank 2 or more, with known dimensions along `axis`; the
#' output has the same shape.
#' @references Ba, J. L., Kiros, J. R. and Hinton, G. E. (2016). Layer
#'   normalization. \doi{10.48550/arXiv.1607.06450}
#' @family layers
#' @export
#' @examples
#' x <- rbind(c(1, 2, 3, 4), c(10, 0, 10, 0))
#' ln <- layer_layer_normalization()
#' ln(x)              # each row: mean 0, variance 1 / (1 + epsilon / var)
#'
#' x3 <- array(1:24, c(2, 3, 4))
#' ln2 <- layer_layer_normalization(axis = c(2, 3))
#' length(get_weights(ln2))     # not built yet: no weights
#' y <- ln2(x3)
#' dim(get_weights(ln2)[[1]])   # gamma: 3 x 4
layer_layer_normalization <- function(object, axis = -1L, epsilon = 0.001, center = TRUE,
                                      scale = TRUE, beta_initializer = "zeros",
                                      gamma_initializer = "ones", beta_regularizer = NULL,
                                      gamma_regularizer = NULL, beta_constraint = NULL,
                                      gamma_constraint = NULL, input_shape = NULL,
                                      batch_input_shape = NULL, batch_size = NULL, dtype = NULL,
                                      name = NULL, trainable = NULL, weights = NULL, ...) {
  call <- sys.call()
  if (!missing(object)) force(object)
  check_empty_dots(list(...), call = call)
  axis <- check_normalization_axis(axis, call)
  epsilon <- check_finite_number(epsilon, "epsilon", min = 0, above = TRUE, call = call)
  parts <- normalization_parts(center, scale, beta_initializer, gamma_initializer,
                               beta_regularizer, gamma_regularizer, beta_constraint,
                               gamma_constraint, call)

  layer <- do.call(create_layer, c(list("LayerNormalization", "layer_normalization"),
                                    common_args(), list(
    build = function(self, shape, call, what) {
      axes <- resolve_normalization_axes(axis, shape, "LayerNormalization", call, what)
      check_weight_size(shape[axes], sprintf("The gamma of a LayerNormalization layer for %s", what),
                        call = call)
      self$axes <- axes
      self$weights <- affine_weights(parts, shape[axes])
      self$input_spec <- replace(rep(NA_integer_, length(shape)), axes, shape[axes])
    },
    config = list(axis = axis, epsilon = epsilon, center = parts$center, scale = parts$scale,
                  beta_initializer = get_config(parts$beta_init),
                  gamma_initializer = get_config(parts$gamma_init),
                  beta_regularizer = config_or_null(parts$regularizers$beta),
                  gamma_regularizer = config_or_null(parts$regularizers$gamma),
                  beta_constraint = config_or_null(parts$constraints$beta),
                  gamma_constraint = config_or_null(parts$constraints$gamma)),
    n_weights = parts$scale + parts$center, call = call
  )), quote = TRUE)
  attach_affine_parts(layer_state(layer), parts)
  finish_layer(missing(object), object, layer, call)
}

# The checked arguments of gamma and beta both layers share.
normalization_parts <- function(center, scale, beta_initializer, gamma_initializer,
                                beta_regularizer, gamma_regularizer, beta_constraint,
                                gamma_constraint, call) {
  center <- check_flag(center, "center", call = call)
  scale <- check_flag(scale, "scale", call = call)
  list(center = center, scale = scale,
       beta_init = as_initializer(beta_initializer, "beta_initializer", call),
       gamma_init = as_initializer(gamma_initializer, "gamma_initializer", call),
       regularizers = list(gamma = as_regularizer(gamma_regularizer, "gamma_regularizer", call),
                           beta = as_regularizer(beta_regularizer, "beta_regularizer", call)),
       constraints = list(gamma = as_constraint(gamma_constraint, "gamma_constraint", call),
                          beta = as_constraint(beta_constraint, "beta_constraint", call)))
}

affine_names <- function(parts) c(if (parts$scale) "gamma", if (parts$center) "beta")

affine_weights <- function(parts, param_shape) {
  weights <- list()
  if (parts$scale) weights$gamma <- parts$gamma_init(param_shape)
  if (parts$center) weights$beta <- parts$beta_init(param_shape)
  weights
}

attach_affine_parts <- function(self, parts) {
  self$regularizers <- parts$regularizers[affine_names(parts)]
  self$constraints <- parts$constraints[affine_names(parts)]
}

check_normalization_axis <- function(axis, call) {
  if (!(is_whole(axis) && length(axis) >= 1 && all(axis != 0) &&
        all(abs(axis) <= .Machine$integer.max) && !anyDuplicated(axis))) {
    selu_abort(sprintf(
      "`axis` must be one or more different whole numbers other than 0, not %s.",
      describe(axis)), call = call)
  }
  if (any(axis == 1)) {
    selu_abort(paste(
      "`axis` cannot hold the batch axis, 1: axes count from 1 for the batch axis, so",
      "keras' axis = -1 is -1 here and keras' axis = 1 is 2."), call = call)
  }
  as.integer(axis)
}

# `axis` as sorted positive axes of an input shape. `what` names what has
# the shape, e.g. "`inputs`".
resolve_normalization_axes <- function(axis, shape, class_name, call, what) {
  rank <- length(shape)
  given <- paste(axis, collapse = ", ")
  if (any(abs(axis) > rank)) {
    selu_abort(sprintf(
      "`axis` = %s is out of range for %s of shape %s, of rank %d: a %s layer takes axes from 2 to %d (or from %d to -1).",
      given, what, format_shape(shape), rank, class_name, rank, 1 - rank), kind = "shape", call = call)
  }
  axes <- ifelse(axis < 0, rank + axis + 1L, axis)
  if (any(axes == 1L)) {
    selu_abort(sprintf(
      "`axis` = %s is the batch axis of %s of shape %s: a %s layer cannot normalize over the batch axis.",
      given, what, format_shape(shape), class_name), kind = "shape", call = call)
  }
  if (anyDuplicated(axes)) {
    selu_abort(sprintf("`axis` = %s names axis %d twice for %s of shape %s.", given,
                       axes[anyDuplicated(axes)], what, format_shape(shape)),
               kind = "shape", call = call)
  }
  if (anyNA(shape[axes]) || any(shape[axes] == 0)) {
    selu_abort(sprintf(
      "A %s layer needs known, non-empty dimensions along `axis` = %s, but %s has shape %s.",
      class_name, given, what, format_shape(shape)), kind = "shape", call = call)
  }
  sort(as.integer(axes))
}

# keras' TensorFlow-only arguments, taken at their defaults.
keras_only_defaults <- list(renorm = FALSE, renorm_clipping = NULL, renorm_momentum = 0.99,
                            virtual_batch_size = NULL, adjustment = NULL, synchronized = FALSE)

check_keras_only_args <- function(dots, call) {
  given <- names(dots)
  if (is.null(given)) given <- rep("", length(dots))
  known <- nzchar(given) & given %in% c(names(keras_only_defaults), "fused")
  for (i in which(known)) {
    arg <- given[i]
    value <- dots[[i]]
    ok <- if (arg == "fused") {
      is.null(value) || (is.logical(value) && length(value) == 1 && !is.na(value))
    } else {
      identical(value, keras_only_defaults[[arg]]) ||
        (is.numeric(value) && identical(as.double(value), keras_only_defaults[[arg]]))
    }
    if (!ok) {
      expected <- if (arg == "fused") "NULL, TRUE or FALSE" else {
        sprintf("its default, %s", format_config_value(keras_only_defaults[[arg]]))
      }
      selu_abort(sprintf(
        "`%s` is a TensorFlow-only argument of keras that selu takes only as %s, not %s.",
        arg, expected, describe(value)), call = call)
    }
  }
  check_empty_dots(dots[!known], call = call)
}

batch_normalization_from_config <- function(config, call) {
  normalization_from_config(layer_batch_normalization, c(
    "axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
    "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer",
    "gamma_regularizer", "beta_constraint", "gamma_constraint"), config, call)
}

layer_normalization_from_config <- function(config, call) {
  normalization_from_config(layer_layer_normalization, c(
    "axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
    "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"),
    config, call)
}

normalization_from_config <- function(layer_function, own, config, call) {
  args <- config_args(config, c("name", "trainable", "dtype", "batch_input_shape", own),
                      call = call)
  for (key in grep("_initializer$", names(args), value = TRUE)) {
    args[key] <- list(initializer_from_config(args[[key]], call))
  }
  for (key in grep("_regularizer$", names(args), value = TRUE)) {
    args[key] <- list(regularizer_from_config(args[[key]], call))
  }
  for (key in grep("_constraint$", names(args), value = TRUE)) {
    args[key] <- list(constraint_from_config(args[[key]], call))
  }
  do.call(layer_function, args, quote = TRUE)
}
