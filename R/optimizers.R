# Optimizers: the update rules of keras >= 2.11 (`tf.keras.optimizers.*`,
# the "new" optimizers), with its names, defaults and configurations.
#
# An optimizer is a classed list around an environment, so that every name
# and model bound to it sees its steps, as with a keras optimizer. Its slot
# variables (moments, accumulators) are kept by weight name, made the first
# time a name is stepped. It is not a function: nothing calls it.

# The slot variables each rule keeps per weight, by keras class name (with
# keras's names for them), in the order the engine keeps them
# (src/optim.c, where the update rules are).
optimizer_slot_names <- list(
  SGD = function(state) if (state$momentum > 0) "m" else character(),
  Adam = function(state) c("m", "v", if (state$amsgrad) "vhat"),
  RMSprop = function(state) {
    c("velocity", if (state$momentum > 0) "momentum", if (state$centered) "average_gradient")
  },
  Adagrad = function(state) "accumulator",
  Nadam = function(state) c("m", "v"),
  Adamax = function(state) c("m", "u"),
  AdamW = function(state) c("m", "v", if (state$amsgrad) "vhat"),
  Adadelta = function(state) c("accumulated_grad", "accumulated_delta_var"),
  Ftrl = function(state) c("accumulator", "linear")
)

# The keys of keras's configuration before the learning rate, and the values
# keras gives those selu has no use for (no moving average of the weights, no
# XLA compilation: keras also turns it off without a GPU).
common_config_keys <- c("name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue")
keras_only_config <- list(use_ema = FALSE, ema_momentum = 0.99, ema_overwrite_frequency = NULL,
                          jit_compile = FALSE, is_legacy_optimizer = FALSE)

# `own`: the optimizer's hyperparameters after the learning rate, checked.
new_optimizer <- function(class_name, learning_rate, own, name, weight_decay, clipnorm,
                          clipvalue, global_clipnorm, call) {
  state <- new.env(parent = emptyenv())
  state$class_name <- class_name
  state$name <- as.character(check_string(name, "name", call = call))
  state$weight_decay <- check_optional_number(weight_decay, "weight_decay", min = 0, call = call)
  state$clipnorm <- check_clip(clipnorm, "clipnorm", call)
  state$global_clipnorm <- check_clip(global_clipnorm, "global_clipnorm", call)
  state$clipvalue <- check_clip(clipvalue, "clipvalue", call)
  if (!is.null(state$clipnorm) && !is.null(state$global_clipnorm)) {
    selu_abort(sprintf(
      "At most one of `clipnorm` and `global_clipnorm` can be set, not both (%s and %s).",
      format(state$clipnorm), format(state$global_clipnorm)), call = call)
  }
  state$learning_rate <- check_learning_rate(learning_rate, call = call)
  for (key in names(own)) assign(key, own[[key]], envir = state)
  state$own_keys <- names(own)
  state$slot_names <- optimizer_slot_names[[class_name]](state)
  reset_optimizer_slots(state)
  structure(list(state = state),
            class = c(paste0("selu_optimizer_", tolower(class_name)), "selu_optimizer"))
}

reset_optimizer_slots <- function(state) {
  state$iterations <- 0
  state$slots <- stats::setNames(rep(list(list()), length(state$slot_names)), state$slot_names)
}

optimizer_state_env <- function(opt) .subset2(opt, "state")

is_optimizer <- function(x) {
  inherits(x, "selu_optimizer") && is.list(x) && is.environment(.subset2(x, "state")) &&
    is.character(.subset2(x, "state")$class_name) &&
    isTRUE(.subset2(x, "state")$class_name %in% names(optimizer_slot_names))
}

# A single number in an interval: `min` and `max` included unless named in
# `open` ("min", "max").
check_bounded <- function(x, arg, min = -Inf, max = Inf, open = character(), expected, call) {
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1 && is.finite(x) &&
    (if ("min" %in% open) x > min else x >= min) &&
    (if ("max" %in% open) x < max else x <= max)
  if (!ok) {
    selu_abort(sprintf("`%s` must be %s, not %s.", arg, expected, describe(x)), call = call)
  }
  as.double(x)
}

check_learning_rate <- function(x, call, arg = "learning_rate") {
  if (is_schedule(x)) return(x)
  check_bounded(x, arg, min = 0, open = "min",
                expected = "a single positive finite number or a learning-rate schedule",
                call = call)
}

# keras 2's argument names among `...`: `lr`, taken for `learning_rate` with
# a warning, as keras 2.11 and later warn (they then ignore its value); and
# `decay`, which they refuse: a schedule does what it did. Gives the
# learning rate; `given`: whether `learning_rate` was given too.
legacy_learning_rate <- function(dots, learning_rate, given, call) {
  if ("decay" %in% names(dots)) {
    selu_abort(paste(
      "`decay` is an argument of keras 2's legacy optimizers, which keras 2.11 and later",
      "refuse: give `learning_rate` a learning-rate schedule instead. keras 2's `decay = d`",
      "is `learning_rate = learning_rate_schedule_inverse_time_decay(<rate>, decay_steps = 1,",
      "decay_rate = d)`."), call = call)
  }
  legacy <- if (is.null(names(dots))) rep(FALSE, length(dots)) else names(dots) == "lr"
  if (any(legacy)) {
    if (given || sum(legacy) > 1) {
      selu_abort("Give the learning rate once, as `learning_rate`: `lr` is its deprecated name.",
                 call = call)
    }
    learning_rate <- check_learning_rate(dots[[which(legacy)]], call = call, arg = "lr")
    selu_warn("`lr` is deprecated, as in keras 2.11 and later: use `learning_rate`.",
              kind = "deprecated", call = call)
  }
  check_empty_dots(dots[!legacy], call = call)
  learning_rate
}

check_decay_rate <- function(x, arg, call) {
  check_bounded(x, arg, min = 0, max = 1, open = "max",
                expected = "a single number in [0, 1)", call = call)
}

check_optional_number <- function(x, arg, min, call) {
  if (is.null(x)) return(NULL)
  check_bounded(x, arg, min = min,
                expected = sprintf("NULL or a single finite number of at least %g", min),
                call = call)
}

check_clip <- function(x, arg, call) {
  if (is.null(x)) return(NULL)
  check_bounded(x, arg, min = 0, open = "min",
                expected = "NULL or a single positive finite number", call = call)
}

check_non_negative <- function(x, arg, call) {
  check_bounded(x, arg, min = 0, expected = "a single finite number of at least 0",
                call = call)
}

#' Optimizers
#'
#' The optimizers of keras 2.x (the optimizers of keras 2.11 and later,
#' `tf.keras.optimizers.*`), with its argument names, defaults and update
#' rules; `compile()` takes them, or their names `"sgd"`, `"adam"`,
#' `"rmsprop"`, `"adagrad"`, `"nadam"`, `"adamax"`, `"adadelta"` and
#' `"ftrl"` (in any case, as keras). An optimizer keeps its state (the step
#' count `iterations` and each weight's slot variables) across calls to
#' `fit()`; like a keras optimizer it is one object however many names refer
#' to it. `opt$learning_rate` reads the learning rate and
#' `opt$learning_rate <- 0.01` sets it; `opt$iterations` is the number of
#' steps taken; the other arguments read back by name too.
#'
#' `learning_rate` may be a learning-rate schedule
#' ([learning_rate_schedules]): the rate of each step is then the
#' schedule's value at `iterations`, the number of steps before it.
#' `opt$learning_rate` gives the schedule (keras 2.13 gives its current
#' value), and setting a number replaces it (keras refuses).
#'
#' Each step, for every weight \eqn{w} and its gradient \eqn{g}:
#' 1. Gradients are clipped, by one rule (the first given, as in keras):
#'    `clipnorm` scales each gradient to a Euclidean norm of at most
#'    `clipnorm`, \eqn{g c / \max(\|g\|, c)}{g * c / max(||g||, c)}
#'    (`tf.clip_by_norm`); `global_clipnorm` scales all gradients by one
#'    factor, so that the norm of all of them together is at most
#'    `global_clipnorm` (`tf.clip_by_global_norm`; a non-finite norm makes
#'    every gradient `NaN`, as there); `clipvalue` clips each element to
#'    \eqn{[-c, c]}.
#' 2. With `weight_decay` \eqn{\lambda}: \eqn{w \leftarrow w - \lambda \eta
#'    w}{w <- w - lambda * eta * w}, \eqn{\eta} the learning rate (decoupled
#'    weight decay).
#' 3. The update, at step \eqn{t} (1 for the first), with slot variables
#'    starting at 0 unless said otherwise:
#'    * SGD: \eqn{w \leftarrow w - \eta g}{w <- w - eta * g}; with momentum
#'      \eqn{\mu > 0}, \eqn{v \leftarrow \mu v - \eta g}{v <- mu * v - eta *
#'      g}, then \eqn{w \leftarrow w + v}{w <- w + v}, or with `nesterov`
#'      \eqn{w \leftarrow w + \mu v - \eta g}{w <- w + mu * v - eta * g}.
#'    * Adam (Kingma and Ba 2015):
#'      \eqn{m \leftarrow m + (1 - \beta_1)(g - m)}{m <- m + (1 - beta_1) *
#'      (g - m)}, \eqn{v \leftarrow v + (1 - \beta_2)(g^2 - v)}{v <- v + (1 -
#'      beta_2) * (g^2 - v)}, \eqn{w \leftarrow w - \eta_t m / (\sqrt{v} +
#'      \epsilon)}{w <- w - eta_t * m / (sqrt(v) + epsilon)} with
#'      \eqn{\eta_t = \eta \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)}{eta_t =
#'      eta * sqrt(1 - beta_2^t) / (1 - beta_1^t)}; with `amsgrad` (Reddi,
#'      Kale and Kumar 2018) \eqn{\hat v \leftarrow \max(\hat v, v)}{v_hat <-
#'      max(v_hat, v)} takes the place of \eqn{v}. \eqn{\epsilon} is the
#'      "epsilon hat" of the paper.
#'    * AdamW (Loshchilov and Hutter 2019): Adam with the weight decay of
#'      step 2, which it requires (`weight_decay = 0.004` by default).
#'      keras 2.13 has it in Python only (`tf.keras.optimizers.AdamW`, no
#'      R function and no name for `compile()`): `optimizer_adamw()` is
#'      selu's, named like the others.
#'    * Nadam (Dozat 2016), Adam with Nesterov momentum: with the momentum
#'      schedule \eqn{u_t = \beta_1 (1 - 0.96^t / 2)}{u_t = beta_1 * (1 -
#'      0.96^t / 2)} and its product \eqn{P_t = u_1 \cdots u_t}{P_t = u_1 *
#'      ... * u_t}, \eqn{m} and \eqn{v} as in Adam, \eqn{\hat m = u_{t+1} m /
#'      (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t)}{m_hat = u_(t+1) * m / (1
#'      - P_t * u_(t+1)) + (1 - u_t) * g / (1 - P_t)} and \eqn{w \leftarrow w
#'      - \eta \hat m / (\sqrt{v / (1 - \beta_2^t)} + \epsilon)}{w <- w - eta
#'      * m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)}.
#'    * Adamax (Kingma and Ba 2015), Adam with the infinity norm: \eqn{m} as
#'      in Adam, \eqn{u \leftarrow \max(\beta_2 u, |g|)}{u <- max(beta_2 * u,
#'      |g|)}, \eqn{w \leftarrow w - \eta m / ((1 - \beta_1^t)(u +
#'      \epsilon))}{w <- w - eta * m / ((1 - beta_1^t) * (u + epsilon))}.
#'    * RMSprop (Hinton 2012): \eqn{a \leftarrow \rho a + (1 - \rho) g^2}{a
#'      <- rho * a + (1 - rho) * g^2}; \eqn{d = a + \epsilon}, or when
#'      `centered`, with \eqn{b \leftarrow \rho b + (1 - \rho) g}{b <- rho *
#'      b + (1 - rho) * g}, \eqn{d = a - b^2 + \epsilon}; \eqn{w \leftarrow w
#'      - \eta g / \sqrt{d}}{w <- w - eta * g / sqrt(d)}, or with momentum
#'      \eqn{\mu > 0}, \eqn{u \leftarrow \mu u + \eta g / \sqrt{d}}{u <- mu *
#'      u + eta * g / sqrt(d)} and \eqn{w \leftarrow w - u}{w <- w - u}.
#'    * Adagrad (Duchi, Hazan and Singer 2011): the accumulator starts at
#'      `initial_accumulator_value`; \eqn{s \leftarrow s + g^2}{s <- s +
#'      g^2}, \eqn{w \leftarrow w - \eta g / \sqrt{s + \epsilon}}{w <- w - eta
#'      * g / sqrt(s + epsilon)}.
#'    * Adadelta (Zeiler 2012): \eqn{a \leftarrow \rho a + (1 - \rho)
#'      g^2}{a <- rho * a + (1 - rho) * g^2}, \eqn{\delta = -g \sqrt{D +
#'      \epsilon} / \sqrt{a + \epsilon}}{delta = -g * sqrt(D + epsilon) /
#'      sqrt(a + epsilon)}, \eqn{D \leftarrow \rho D + (1 - \rho)
#'      \delta^2}{D <- rho * D + (1 - rho) * delta^2}, \eqn{w \leftarrow w +
#'      \eta \delta}{w <- w + eta * delta}. keras's default \eqn{\eta} is
#'      0.001; the paper's rule is \eqn{\eta = 1}.
#'    * FTRL-Proximal (McMahan et al. 2013): the accumulator \eqn{n} starts at
#'      `initial_accumulator_value`, the linear term \eqn{z} at 0; with
#'      \eqn{p} = `-learning_rate_power`, \eqn{\lambda_1}, \eqn{\lambda_2},
#'      \eqn{\lambda_s} and \eqn{\beta} the strengths and \eqn{n' = n + g^2}:
#'      \eqn{z \leftarrow z + g + 2 \lambda_s w - (n'^p - n^p) w / \eta}{z <-
#'      z + g + 2 * lambda_s * w - (n'^p - n^p) * w / eta}, \eqn{w \leftarrow
#'      (\mathrm{clip}(z, -\lambda_1, \lambda_1) - z) / (n'^p / \eta + 2
#'      \lambda_2 + \beta / \eta)}{w <- (clip(z, -lambda_1, lambda_1) - z) /
#'      (n'^p / eta + 2 * lambda_2 + beta / eta)}, \eqn{n \leftarrow n'}{n <-
#'      n'}.
#'
#' Computation is in double precision (keras uses float32). keras's
#' arguments for a moving average of the weights (`use_ema`,
#' `ema_momentum`, `ema_overwrite_frequency`) and `jit_compile` are not
#' taken: an unknown argument is an error. keras 2's `lr` is taken for
#' `learning_rate`, with a warning of class `selu_warning_deprecated`
#' (keras 2.11 and later warn, and then ignore its value). keras 2's
#' `decay` is an error, as in keras 2.11 and later: a schedule does what it
#' did, `learning_rate_schedule_inverse_time_decay(learning_rate, decay_steps
#' = 1, decay_rate = decay)`.
#'
#' @param learning_rate The learning rate \eqn{\eta}: a positive number, or
#'   a learning-rate schedule ([learning_rate_schedules]).
#' @param momentum The momentum \eqn{\mu}, in \[0, 1); 0 for none.
#' @param nesterov Whether SGD uses Nesterov momentum: `TRUE` or `FALSE`.
#' @param beta_1,beta_2 The decay rates of the first moment and of the
#'   second moment (Adamax: of the infinity norm), in \[0, 1).
#' @param epsilon The constant \eqn{\epsilon} added for numerical stability,
#'   at least 0.
#' @param amsgrad Whether Adam or AdamW uses the AMSGrad variant: `TRUE` or
#'   `FALSE`.
#' @param rho The decay rate \eqn{\rho} of the mean square of the gradients
#'   (RMSprop, Adadelta), in \[0, 1).
#' @param centered Whether RMSprop divides by the estimated variance of the
#'   gradients rather than their mean square: `TRUE` or `FALSE`.
#' @param initial_accumulator_value The starting value of the accumulator of
#'   squared gradients (Adagrad, Ftrl), at least 0.
#' @param learning_rate_power Ftrl's power of the accumulator that scales
#'   the learning rate, at most 0 (-0.5: the square root).
#' @param l1_regularization_strength,l2_regularization_strength Ftrl's L1
#'   strength \eqn{\lambda_1} and L2 (stabilization) strength
#'   \eqn{\lambda_2}, at least 0.
#' @param l2_shrinkage_regularization_strength Ftrl's L2 shrinkage strength
#'   \eqn{\lambda_s}, a penalty on the size of the weights, at least 0.
#' @param beta Ftrl's \eqn{\beta} of the paper, at least 0.
#' @param weight_decay `NULL` (none) or the weight decay \eqn{\lambda}, at
#'   least 0. AdamW requires a number.
#' @param clipnorm `NULL` or a positive number: the largest norm of each
#'   gradient.
#' @param clipvalue `NULL` or a positive number: the largest absolute value
#'   of each gradient element. Ignored when `clipnorm` or `global_clipnorm`
#'   is given, as in keras.
#' @param global_clipnorm `NULL` or a positive number: the largest norm of
#'   all gradients together. Not with `clipnorm`.
#' @param name The optimizer's name: a string.
#' @param ... keras 2's `lr`, deprecated (see Details); any other argument
#'   not listed above is an error.
#' @return An optimizer, of class `selu_optimizer`.
#' @references
#' Kingma, D. P. and Ba, J. (2015). Adam: a method for stochastic
#' optimization. \doi{10.48550/arXiv.1412.6980}.
#'
#' Reddi, S. J., Kale, S. and Kumar, S. (2018). On the convergence of Adam
#' and beyond. \doi{10.48550/arXiv.1904.09237}.
#'
#' Loshchilov, I. and Hutter, F. (2019). Decoupled weight decay
#' regularization. \doi{10.48550/arXiv.1711.05101}.
#'
#' Dozat, T. (2016). Incorporating Nesterov momentum into Adam. ICLR 2016
#' workshop.
#'
#' Duchi, J., Hazan, E. and Singer, Y. (2011). Adaptive subgradient methods
#' for online learning and stochastic optimization. Journal of Machine
#' Learning Research 12, 2121-2159.
#'
#' Hinton, G. (2012). Neural networks for machine learning, lecture 6e.
#'
#' Zeiler, M. D. (2012). ADADELTA: an adaptive learning rate method.
#' \doi{10.48550/arXiv.1212.5701}.
#'
#' McMahan, H. B. et al. (2013). Ad click prediction: a view from the
#' trenches. KDD 2013, 1222-1230. \doi{10.1145/2487575.2488200}.
#' @family optimizers
#' @name optimizers
#' @examples
#' opt <- optimizer_adam(learning_rate = 0.01, clipnorm = 1)
#' opt
#' opt$learning_rate
#' opt$learning_rate <- 0.001
#' opt$iterations
#' str(get_config(opt))
#' optimizer_sgd(momentum = 0.9, nesterov = TRUE)
#' optimizer_rmsprop(centered = TRUE)
#' optimizer_adagrad(weight_decay = 0.004)
#' optimizer_nadam()
#' optimizer_adamax(beta_2 = 0.99)
#' optimizer_adamw(weight_decay = 0.01)
#' optimizer_adadelta(learning_rate = 1)
#' optimizer_ftrl(l1_regularization_strength = 0.01)
#'
#' # the learning rate decaying by 4% every 100 steps
#' schedule <- learning_rate_schedule_exponential_decay(0.01, decay_steps = 100,
#'                                                      decay_rate = 0.96)
#' opt <- optimizer_adam(learning_rate = schedule)
#' opt$learning_rate
#' str(get_config(opt)$learning_rate)
#'
#' # keras 2's `lr` is still taken, with a warning
#' optimizer_sgd(lr = 0.1)$learning_rate
NULL

#' @rdname optimizers
#' @export
optimizer_sgd <- function(learning_rate = 0.01, momentum = 0, nesterov = FALSE,
                          weight_decay = NULL, clipnorm = NULL, clipvalue = NULL,
                          global_clipnorm = NULL, name = "SGD", ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  own <- list(momentum = check_decay_rate(momentum, "momentum", call),
              nesterov = isTRUE(check_flag(nesterov, "nesterov", call = call)))
  new_optimizer("SGD", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

#' @rdname optimizers
#' @export
optimizer_adam <- function(learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999,
                           epsilon = 1e-07, amsgrad = FALSE, weight_decay = NULL,
                           clipnorm = NULL, clipvalue = NULL, global_clipnorm = NULL,
                           name = "Adam", ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  own <- list(beta_1 = check_decay_rate(beta_1, "beta_1", call),
              beta_2 = check_decay_rate(beta_2, "beta_2", call),
              epsilon = check_non_negative(epsilon, "epsilon", call),
              amsgrad = isTRUE(check_flag(amsgrad, "amsgrad", call = call)))
  new_optimizer("Adam", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

#' @rdname optimizers
#' @export
optimizer_rmsprop <- function(learning_rate = 0.001, rho = 0.9, momentum = 0,
                              epsilon = 1e-07, centered = FALSE, weight_decay = NULL,
                              clipnorm = NULL, clipvalue = NULL, global_clipnorm = NULL,
                              name = "RMSprop", ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  own <- list(rho = check_decay_rate(rho, "rho", call),
              momentum = check_decay_rate(momentum, "momentum", call),
              epsilon = check_non_negative(epsilon, "epsilon", call),
              centered = isTRUE(check_flag(centered, "centered", call = call)))
  new_optimizer("RMSprop", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

#' @rdname optimizers
#' @export
optimizer_adagrad <- function(learning_rate = 0.001, initial_accumulator_value = 0.1,
                              epsilon = 1e-07, weight_decay = NULL, clipnorm = NULL,
                              clipvalue = NULL, global_clipnorm = NULL, name = "Adagrad",
                              ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  own <- list(initial_accumulator_value = check_non_negative(
                initial_accumulator_value, "initial_accumulator_value", call),
              epsilon = check_non_negative(epsilon, "epsilon", call))
  new_optimizer("Adagrad", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

#' @rdname optimizers
#' @export
optimizer_nadam <- function(learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999,
                            epsilon = 1e-07, weight_decay = NULL, clipnorm = NULL,
                            clipvalue = NULL, global_clipnorm = NULL, name = "Nadam", ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  own <- list(beta_1 = check_decay_rate(beta_1, "beta_1", call),
              beta_2 = check_decay_rate(beta_2, "beta_2", call),
              epsilon = check_non_negative(epsilon, "epsilon", call))
  new_optimizer("Nadam", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

#' @rdname optimizers
#' @export
optimizer_adamax <- function(learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999,
                             epsilon = 1e-07, weight_decay = NULL, clipnorm = NULL,
                             clipvalue = NULL, global_clipnorm = NULL, name = "Adamax", ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  own <- list(beta_1 = check_decay_rate(beta_1, "beta_1", call),
              beta_2 = check_decay_rate(beta_2, "beta_2", call),
              epsilon = check_non_negative(epsilon, "epsilon", call))
  new_optimizer("Adamax", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

#' @rdname optimizers
#' @export
optimizer_adamw <- function(learning_rate = 0.001, weight_decay = 0.004, beta_1 = 0.9,
                            beta_2 = 0.999, epsilon = 1e-07, amsgrad = FALSE, clipnorm = NULL,
                            clipvalue = NULL, global_clipnorm = NULL, name = "AdamW", ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  # keras's AdamW refuses to run without its weight decay
  if (is.null(weight_decay)) {
    selu_abort("`weight_decay` must be a single finite number of at least 0 for AdamW, not NULL.",
               call = call)
  }
  own <- list(beta_1 = check_decay_rate(beta_1, "beta_1", call),
              beta_2 = check_decay_rate(beta_2, "beta_2", call),
              epsilon = check_non_negative(epsilon, "epsilon", call),
              amsgrad = isTRUE(check_flag(amsgrad, "amsgrad", call = call)))
  new_optimizer("AdamW", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

#' @rdname optimizers
#' @export
optimizer_adadelta <- function(learning_rate = 0.001, rho = 0.95, epsilon = 1e-07,
                               weight_decay = NULL, clipnorm = NULL, clipvalue = NULL,
                               global_clipnorm = NULL, name = "Adadelta", ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  own <- list(rho = check_decay_rate(rho, "rho", call),
              epsilon = check_non_negative(epsilon, "epsilon", call))
  new_optimizer("Adadelta", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

#' @rdname optimizers
#' @export
optimizer_ftrl <- function(learning_rate = 0.001, learning_rate_power = -0.5,
                           initial_accumulator_value = 0.1, l1_regularization_strength = 0,
                           l2_regularization_strength = 0,
                           l2_shrinkage_regularization_strength = 0, beta = 0,
                           weight_decay = NULL, clipnorm = NULL, clipvalue = NULL,
                           global_clipnorm = NULL, name = "Ftrl", ...) {
  call <- sys.call()
  learning_rate <- legacy_learning_rate(list(...), learning_rate, !missing(learning_rate), call)
  own <- list(learning_rate_power = check_bounded(
                learning_rate_power, "learning_rate_power", max = 0,
                expected = "a single finite number of at most 0", call = call),
              initial_accumulator_value = check_non_negative(
                initial_accumulator_value, "initial_accumulator_value", call),
              l1_regularization_strength = check_non_negative(
                l1_regularization_strength, "l1_regularization_strength", call),
              l2_regularization_strength = check_non_negative(
                l2_regularization_strength, "l2_regularization_strength", call),
              l2_shrinkage_regularization_strength = check_non_negative(
                l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength", call),
              beta = check_non_negative(beta, "beta", call))
  new_optimizer("Ftrl", learning_rate, own, name, weight_decay, clipnorm, clipvalue,
                global_clipnorm, call)
}

optimizer_constructors <- list(SGD = optimizer_sgd, Adam = optimizer_adam,
                               RMSprop = optimizer_rmsprop, Adagrad = optimizer_adagrad,
                               Nadam = optimizer_nadam, Adamax = optimizer_adamax,
                               AdamW = optimizer_adamw, Adadelta = optimizer_adadelta,
                               Ftrl = optimizer_ftrl)

# The names compile() takes, as keras 2.13's (which has none for AdamW).
optimizer_by_name <- c(sgd = "SGD", adam = "Adam", rmsprop = "RMSprop", adagrad = "Adagrad",
                       nadam = "Nadam", adamax = "Adamax", adadelta = "Adadelta", ftrl = "Ftrl")

optimizer_fields <- function(state) {
  c("name", "learning_rate", "iterations", setdiff(common_config_keys, "name"), state$own_keys)
}

#' @export
`$.selu_optimizer` <- function(x, name) {
  state <- optimizer_state_env(x)
  if (!name %in% optimizer_fields(state)) {
    selu_abort(sprintf("An optimizer has no field `%s`; its fields are %s.", name,
                       paste0("`", optimizer_fields(state), "`", collapse = ", ")),
               call = sys.call())
  }
  get(name, envir = state, inherits = FALSE)
}

#' @export
`$<-.selu_optimizer` <- function(x, name, value) {
  if (!identical(name, "learning_rate")) {
    selu_abort(sprintf("Only `learning_rate` can be set on an optimizer, not `%s`.", name),
               call = sys.call())
  }
  state <- optimizer_state_env(x)
  # a number in place of a schedule too (keras refuses that)
  state$learning_rate <- check_learning_rate(value, call = sys.call())
  x
}

#' @export
`[[<-.selu_optimizer` <- function(x, i, value) `$<-.selu_optimizer`(x, i, value)

#' @export
.DollarNames.selu_optimizer <- function(x, pattern = "") {
  grep(pattern, optimizer_fields(optimizer_state_env(x)), value = TRUE)
}

#' @export
print.selu_optimizer <- function(x, ...) {
  state <- optimizer_state_env(x)
  cat(sprintf("<optimizer %s> \"%s\"\n", state$class_name, state$name))
  show <- function(keys) {
    keys <- keys[!vapply(keys, function(k) is.null(state[[k]]), TRUE)]
    if (length(keys)) {
      cat(sprintf("  %s\n", paste(keys, vapply(keys, function(k) {
        value <- state[[k]]
        if (is_schedule(value)) sprintf("<%s>", attr(value, "class_name"))
        else format_config_value(value)
      }, ""), sep = " = ", collapse = ", ")))
    }
  }
  show(c("learning_rate", state$own_keys))
  show(setdiff(common_config_keys, "name"))
  cat(sprintf("  iterations: %s\n", format(state$iterations, scientific = FALSE)))
  invisible(x)
}

#' @export
get_config.selu_optimizer <- function(object, ...) {
  check_optimizer_object(object, "object", call = sys.call())
  check_empty_dots(list(...))
  state <- optimizer_state_env(object)
  keras_only <- keras_only_config
  # keras's RMSprop alone has a different default here
  if (state$class_name == "RMSprop") keras_only["ema_overwrite_frequency"] <- list(100)
  keys <- c(common_config_keys, "learning_rate", state$own_keys)
  config <- mget(keys, envir = state)
  if (is_schedule(config$learning_rate)) {
    config$learning_rate <- schedule_keras_config(config$learning_rate)
  }
  config <- c(config[common_config_keys], keras_only, config[c("learning_rate", state$own_keys)])
  structure(config, class_name = state$class_name)
}

check_optimizer_object <- function(x, arg, call) {
  if (!is_optimizer(x)) {
    selu_abort(sprintf("`%s` must be an optimizer, such as optimizer_adam(), not %s.",
                       arg, describe(x)), call = call)
  }
  invisible(x)
}

# An optimizer from get_config(), or from the configuration keras writes (the
# keys it has that selu does not use must have the values that mean none).
optimizer_from_config <- function(config) {
  call <- sys.call()
  class_name <- attr(config, "class_name")
  if (!is.list(config) || is.object(config) || !is.character(class_name) ||
      length(class_name) != 1 || !class_name %in% names(optimizer_constructors)) {
    selu_abort(sprintf(paste(
      "`config` must be an optimizer's configuration from get_config(): a named list",
      "with the attribute \"class_name\" one of %s; got %s."),
      paste0("\"", names(optimizer_constructors), "\"", collapse = ", "), describe(config)),
      call = call)
  }
  constructor <- optimizer_constructors[[class_name]]
  own <- setdiff(names(formals(constructor)), c(common_config_keys, "..."))
  keys <- c(common_config_keys, names(keras_only_config), own)
  names <- names(config)
  if (length(config) && (is.null(names) || anyNA(names) || any(!nzchar(names)) ||
                         anyDuplicated(names) || !all(names %in% keys))) {
    selu_abort(sprintf("`config` of an %s optimizer may only have the keys %s, once each; it has %s.",
                       class_name, paste0("`", keys, "`", collapse = ", "),
                       paste0("`", names, "`", collapse = ", ")), call = call)
  }
  check_unused_keras_config(config, call)
  args <- as.list(config)[intersect(c(common_config_keys, own), names(config))]
  withCallingHandlers({
    if (is.list(args$learning_rate)) {
      args$learning_rate <- schedule_from_keras_config(args$learning_rate, call)
    }
    do.call(constructor, args, quote = TRUE)
  },
    selu_error = function(e) {
      selu_abort(paste("In `config`:", conditionMessage(e)), kind = error_kind(e), call = call)
    }
  )
}

check_unused_keras_config <- function(config, call) {
  bad <- function(key, expected) {
    selu_abort(sprintf("`config$%s` must be %s, not %s.", key, expected, describe(config[[key]])),
               call = call)
  }
  if ("use_ema" %in% names(config) && !identical(config$use_ema, FALSE)) {
    bad("use_ema", "FALSE (selu keeps no moving average of the weights)")
  }
  if ("is_legacy_optimizer" %in% names(config) && !identical(config$is_legacy_optimizer, FALSE)) {
    bad("is_legacy_optimizer", "FALSE (selu has the update rules of keras >= 2.11 only)")
  }
  if ("jit_compile" %in% names(config)) {
    jit <- config$jit_compile
    if (!(is.logical(jit) && length(jit) == 1 && !is.na(jit))) bad("jit_compile", "TRUE or FALSE")
  }
  if ("ema_momentum" %in% names(config)) {
    m <- config$ema_momentum
    if (!(is.numeric(m) && !is.object(m) && length(m) == 1 && !is.na(m) && m >= 0 && m <= 1)) {
      bad("ema_momentum", "a number in [0, 1]")
    }
  }
  if ("ema_overwrite_frequency" %in% names(config)) {
    f <- config$ema_overwrite_frequency
    if (!is.null(f) && !(length(f) == 1 && is_whole(f) && f >= 1)) {
      bad("ema_overwrite_frequency", "NULL or a whole number of at least 1")
    }
  }
}

# An optimizer, or a new one with keras's defaults from its name.
as_optimizer <- function(x, arg = "optimizer", call = sys.call(-1)) {
  if (is_optimizer(x)) return(x)
  if (is.character(x) && length(x) == 1 && !is.na(x) && tolower(x) %in% names(optimizer_by_name)) {
    return(optimizer_constructors[[optimizer_by_name[[tolower(x)]]]]())
  }
  selu_abort(sprintf(
    "`%s` must be an optimizer, such as optimizer_adam(), or one of %s, not %s.", arg,
    paste0("\"", names(optimizer_by_name), "\"", collapse = ", "), describe(x)), call = call)
}

# One step on all weights: clipping, weight decay, the update, then
# iterations + 1. `weights` and `grads` are named lists of numeric arrays,
# the same names and shapes; the new weights come back with the names and
# attributes of `weights`. With no weights nothing happens and the count
# stays, as in keras.
optimizer_apply <- function(opt, weights, grads) {
  call <- sys.call()
  check_optimizer_object(opt, "opt", call)
  check_step_arrays(weights, "weights", call)
  check_step_arrays(grads, "grads", call)
  if (!setequal(names(weights), names(grads)) || length(weights) != length(grads)) {
    selu_abort(sprintf("`grads` must have the names of `weights` (%s), not %s.",
                       paste0("\"", names(weights), "\"", collapse = ", "),
                       paste0("\"", names(grads), "\"", collapse = ", ")), call = call)
  }
  state <- optimizer_state_env(opt)
  keys <- names(weights)
  for (key in keys) {
    shape <- data_shape(weights[[key]])
    if (!identical(data_shape(grads[[key]]), shape)) {
      selu_abort(sprintf("`grads[[\"%s\"]]` must have the shape of its weight, %s, not %s.",
                         key, format_dims(shape), format_dims(data_shape(grads[[key]]))),
                 call = call)
    }
    for (slot in state$slot_names) {
      kept <- state$slots[[slot]][[key]]
      if (!is.null(kept) && !identical(data_shape(kept), shape)) {
        selu_abort(sprintf(paste(
          "`weights[[\"%s\"]]` has shape %s, but the optimizer's `%s` for that name has",
          "shape %s: reset the optimizer (or give the weight another name)."),
          key, format_dims(shape), slot, format_dims(data_shape(kept))), call = call)
      }
    }
  }
  if (!length(keys)) return(weights)

  as_doubles <- function(x) {
    x <- as.vector(x)
    if (!is.double(x)) storage.mode(x) <- "double"
    x
  }
  slots <- lapply(state$slot_names, function(slot) {
    lapply(keys, function(key) {
      kept <- state$slots[[slot]][[key]]
      if (!is.null(kept)) as_doubles(kept)
    })
  })
  stepped <- .Call(C_selu_optimizer_step, optimizer_program_spec(opt),
                   lapply(weights[keys], as_doubles), lapply(grads[keys], as_doubles), slots,
                   as.double(state$iterations), as.double(current_learning_rate(opt)))
  new_slots <- state$slots
  for (j in seq_along(state$slot_names)) {
    for (k in seq_along(keys)) {
      new_slots[[state$slot_names[j]]][[keys[k]]] <- keep_attributes(stepped[[2]][[j]][[k]],
                                                                      weights[[keys[k]]])
    }
  }
  for (k in seq_along(keys)) weights[[keys[k]]] <- keep_attributes(stepped[[1]][[k]], weights[[keys[k]]])
  # committed together, so that an interrupted step leaves the state as it was
  state$slots <- new_slots
  state$iterations <- state$iterations + 1
  weights
}

# `values` as a double array with the attributes (dim, names, ...) of `like`.
keep_attributes <- function(values, like) {
  storage.mode(like) <- "double"
  like[] <- as.vector(values)
  like
}

check_step_arrays <- function(x, arg, call) {
  names <- names(x)
  if (!is.list(x) || is.object(x) ||
      (length(x) && (is.null(names) || anyNA(names) || any(!nzchar(names)) || anyDuplicated(names)))) {
    selu_abort(sprintf("`%s` must be a list of numeric arrays with unique names, not %s.",
                       arg, describe(x)), call = call)
  }
  for (key in names) {
    if (!is_numeric_data(x[[key]])) {
      selu_abort(sprintf("`%s[[\"%s\"]]` must be a numeric array, not %s.", arg, key,
                         describe(x[[key]])), call = call)
    }
  }
}

# The learning rate of the optimizer's next step: a schedule's at the step
# count `iterations`, the optimizer's own unless given (the engine's, which
# runs ahead of the optimizer's during an epoch).
current_learning_rate <- function(optimizer, iterations = NULL) {
  state <- optimizer_state_env(optimizer)
  rate <- state$learning_rate
  if (!is_schedule(rate)) return(rate)
  rate(if (is.null(iterations)) state$iterations else iterations)
}

# Whether the learning rate changes with the steps by itself (a schedule).
learning_rate_changes <- function(optimizer) {
  is_schedule(optimizer_state_env(optimizer)$learning_rate)
}

# The state that saving a model keeps: `iterations` and each slot variable
# by weight name, e.g. list(iterations = 3, m = list(`dense/kernel` = ...),
# v = list(...)).
optimizer_state <- function(opt) {
  check_optimizer_object(opt, "opt", call = sys.call())
  state <- optimizer_state_env(opt)
  c(list(iterations = state$iterations), state$slots)
}

optimizer_set_state <- function(opt, state) {
  call <- sys.call()
  check_optimizer_object(opt, "opt", call)
  env <- optimizer_state_env(opt)
  keys <- c("iterations", env$slot_names)
  if (!is.list(state) || is.object(state) || is.null(names(state)) ||
      anyDuplicated(names(state)) || !setequal(names(state), keys)) {
    selu_abort(sprintf("`state` of this %s optimizer must be a list with the entries %s, not %s.",
                       env$class_name, paste0("`", keys, "`", collapse = ", "), describe(state)),
               call = call)
  }
  iterations <- state$iterations
  if (!(length(iterations) == 1 && is_whole(iterations) && iterations >= 0 &&
        iterations <= 2^53)) {
    selu_abort(sprintf("`state$iterations` must be a whole number of at least 0, not %s.",
                       describe(iterations)), call = call)
  }
  slots <- lapply(stats::setNames(env$slot_names, env$slot_names), function(slot) {
    kept <- state[[slot]]
    check_step_arrays(kept, sprintf("state$%s", slot), call)
    lapply(kept, function(a) {
      storage.mode(a) <- "double"
      a
    })
  })
  if (length(slots)) {
    first <- slots[[1]]
    for (slot in names(slots)) {
      same <- setequal(names(slots[[slot]]), names(first)) && length(slots[[slot]]) == length(first) &&
        all(vapply(names(first), function(key) {
          identical(data_shape(slots[[slot]][[key]]), data_shape(first[[key]]))
        }, TRUE))
      if (!same) {
        selu_abort(sprintf(
          "`state$%s` must have the names and shapes of `state$%s`.", slot, names(slots)[1]),
          call = call)
      }
    }
  }
  env$iterations <- as.double(iterations)
  env$slots <- slots
  invisible(opt)
}

# Forgets the steps taken: iterations and every slot variable.
optimizer_reset <- function(opt) {
  check_optimizer_object(opt, "opt", call = sys.call())
  reset_optimizer_slots(optimizer_state_env(opt))
  invisible(opt)
}
