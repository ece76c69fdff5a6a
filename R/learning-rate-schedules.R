# Learning-rate schedules: keras 2.13's `tf.keras.optimizers.schedules.*`,
# the learning rate as a function of the optimizer's step count. A schedule
# is a function of `step` (callable, as in keras) carrying its keras class
# name and configuration; an optimizer given one as `learning_rate` evaluates
# it at its `iterations` before each update.

# The keras module a schedule's class lives in, which keras 2.13 writes into
# the configuration of an optimizer holding one.
SCHEDULE_MODULE <- "keras.optimizers.schedules"

new_schedule <- function(class_name, config, rate) {
  schedule <- function(step) {
    if (missing(step)) abort_missing("step", "the optimizer's step count, a whole number")
    rate(check_steps(step, call = sys.call()))
  }
  structure(schedule, class = c(paste0("selu_schedule_", tolower(class_name)),
                                "selu_learning_rate_schedule"),
            class_name = class_name, config = config)
}

is_schedule <- function(x) {
  inherits(x, "selu_learning_rate_schedule") && is.function(x) &&
    isTRUE(attr(x, "class_name") %in% names(schedule_constructors)) &&
    is.list(attr(x, "config"))
}

# Steps: whole numbers of at least 0, any number of them.
check_steps <- function(step, call) {
  if (!(is.numeric(step) && !is.object(step) && is_whole(step) && all(step >= 0))) {
    selu_abort(sprintf("`step` must be whole numbers of at least 0 (the optimizer's step count), not %s.",
                       describe(step)), call = call)
  }
  as.double(step)
}

check_positive <- function(x, arg, call) {
  check_finite_number(x, arg, min = 0, above = TRUE, call = call)
}

check_schedule_name <- function(name, call) {
  if (is.null(name)) return(NULL)
  check_string(name, "name", call = call)
}

# A vector (or, from a configuration, a list) of single finite numbers.
check_number_list <- function(x, arg, min = -Inf, call) {
  if (is.list(x) && !is.object(x) &&
      all(vapply(x, function(v) is.numeric(v) && length(v) == 1, TRUE))) {
    x <- unlist(x)
  }
  if (!(is.numeric(x) && !is.object(x) && length(x) >= 1 && all(is.finite(x)) &&
        all(x >= min))) {
    bound <- if (is.finite(min)) sprintf(" of at least %g", min) else ""
    selu_abort(sprintf("`%s` must be a vector of one or more finite numbers%s, not %s.",
                       arg, bound, describe(x)), call = call)
  }
  as.double(x)
}

#' Learning-rate schedules
#'
#' The learning-rate schedules of keras 2.13
#' (`tf.keras.optimizers.schedules.*`): each gives the learning rate as a
#' function of the optimizer's step count, and any optimizer takes one as
#' its `learning_rate` (see [optimizer_adam()]). Before each update the
#' optimizer evaluates the schedule at its `iterations`, the number of
#' updates made so far (0 for the first), so the rate changes from batch to
#' batch, not from epoch to epoch. `fit()` then records the rate of the next
#' step at the end of each epoch in its history, as `lr`.
#'
#' A schedule is a function: `schedule(step)` gives the rates at the steps
#' `step` (whole numbers of at least 0). With \eqn{\eta_0} the
#' `initial_learning_rate`, \eqn{s} the step and \eqn{d} `decay_steps`:
#' * `learning_rate_schedule_exponential_decay()`: \eqn{\eta_0 r^{s/d}}{eta_0 * r^(s / d)},
#'   \eqn{r} the `decay_rate`; with `staircase`, \eqn{s/d} is rounded down,
#'   so the rate falls every \eqn{d} steps.
#' * `learning_rate_schedule_inverse_time_decay()`:
#'   \eqn{\eta_0 / (1 + r s / d)}; with `staircase`, \eqn{s/d} is rounded
#'   down.
#' * `learning_rate_schedule_cosine_decay()` (Loshchilov and Hutter 2017,
#'   without restarts): \eqn{\eta_0 ((1 - \alpha) (1 + \cos(\pi \min(s,
#'   d) / d)) / 2 + \alpha)}{eta_0 * ((1 - alpha) * (1 + cos(pi * min(s, d)
#'   / d)) / 2 + alpha)}, from \eqn{\eta_0} down to \eqn{\alpha \eta_0}
#'   at step \eqn{d}, then constant. With a `warmup_target` \eqn{\eta_w}
#'   and `warmup_steps` \eqn{w}, the rate first rises linearly,
#'   \eqn{\eta_0 + (\eta_w - \eta_0) s / w} for \eqn{s < w}, then decays
#'   from \eqn{\eta_w} as above over the steps \eqn{s - w}.
#' * `learning_rate_schedule_piecewise_constant_decay()`: `values[1]` while
#'   \eqn{s \le} `boundaries[1]`, `values[i + 1]` while `boundaries[i]`
#'   \eqn{< s \le} `boundaries[i + 1]`, and the last value after the last
#'   boundary.
#' * `learning_rate_schedule_polynomial_decay()`: \eqn{(\eta_0 - \eta_e)(1 -
#'   \min(s, d) / d)^p + \eta_e}{(eta_0 - eta_e) * (1 - min(s, d) / d)^p +
#'   eta_e}, from \eqn{\eta_0} to the
#'   `end_learning_rate` \eqn{\eta_e} at step \eqn{d}, then constant; with
#'   `cycle`, \eqn{d} is replaced by the first multiple of \eqn{d} at or
#'   above \eqn{s} (\eqn{d} itself at step 0) and \eqn{s} is not capped, so
#'   the decay starts again from a lower rate each cycle.
#'
#' `get_config()` gives keras's configuration, with keras's class name
#' (`ExponentialDecay`, `InverseTimeDecay`, `CosineDecay`,
#' `PiecewiseConstantDecay`, `PolynomialDecay`) in the attribute
#' `"class_name"`; an optimizer's configuration holds it as keras 2.13 writes
#' it, `list(module = "keras.optimizers.schedules", class_name = ..., config
#' = ..., registered_name = NULL)`, so that [save_model()] and
#' [load_model()] keep the schedule and training resumes where it stopped.
#' The rates are computed in double precision (keras: in the type of
#' `initial_learning_rate`, float32 for a number).
#'
#' @param initial_learning_rate The rate at step 0, \eqn{\eta_0}: a positive
#'   number (for cosine decay, at least 0: a warmup may start from 0).
#' @param decay_steps The steps \eqn{d} of one decay period: a positive
#'   number.
#' @param decay_rate The decay rate \eqn{r}: a positive number for
#'   exponential decay (below 1 to decay), a number of at least 0 for
#'   inverse time decay.
#' @param staircase `TRUE` to decay at whole multiples of `decay_steps`
#'   only, `FALSE` for a smooth decay.
#' @param alpha The fraction of `initial_learning_rate` (or of
#'   `warmup_target`) that cosine decay ends at: a number from 0 to 1.
#' @param warmup_target `NULL` (no warmup) or the positive rate the warmup
#'   rises to, before the cosine decay.
#' @param warmup_steps The number of warmup steps \eqn{w}: a whole number of
#'   at least 0.
#' @param boundaries The steps at which the rate changes: finite numbers in
#'   increasing order (a vector, or a list as in keras).
#' @param values The rates before the first boundary, between the
#'   boundaries and after the last: one more than `boundaries`, each at
#'   least 0.
#' @param end_learning_rate The rate polynomial decay ends at,
#'   \eqn{\eta_e}: a number of at least 0.
#' @param power The power \eqn{p} of polynomial decay: a number of at least
#'   0 (1: linear).
#' @param cycle `TRUE` to start polynomial decay again after `decay_steps`.
#' @param name `NULL` or a string: the schedule's name (keras's name of its
#'   operations).
#' @param ... Not used: an argument not listed above is an error.
#' @return A learning-rate schedule: a function of `step`, of class
#'   `selu_learning_rate_schedule`.
#' @references
#' Loshchilov, I. and Hutter, F. (2017). SGDR: stochastic gradient descent
#' with warm restarts. \doi{10.48550/arXiv.1608.03983}.
#' @family optimizers
#' @name learning_rate_schedules
#' @examples
#' # 0.1, times 0.96 every 1000 steps
#' schedule <- learning_rate_schedule_exponential_decay(0.1, decay_steps = 1000,
#'                                                      decay_rate = 0.96, staircase = TRUE)
#' schedule
#' schedule(c(0, 999, 1000, 5000))
#' str(get_config(schedule))
#' opt <- optimizer_sgd(learning_rate = schedule)
#' opt$learning_rate
#'
#' # 0.01 for 100 steps, then 0.005 for 100, then 0.001
#' step_down <- learning_rate_schedule_piecewise_constant_decay(
#'   boundaries = c(100, 200), values = c(0.01, 0.005, 0.001))
#' step_down(c(0, 100, 101, 200, 201))
#'
#' cosine <- learning_rate_schedule_cosine_decay(0.001, decay_steps = 1000)
#' plot(0:1200, cosine(0:1200), type = "l", xlab = "step", ylab = "learning rate")
#' learning_rate_schedule_inverse_time_decay(0.1, decay_steps = 1, decay_rate = 0.5)(0:3)
#' learning_rate_schedule_polynomial_decay(0.1, decay_steps = 10, cycle = TRUE)(c(0, 5, 10, 15))
NULL

#' @rdname learning_rate_schedules
#' @export
learning_rate_schedule_exponential_decay <- function(initial_learning_rate, decay_steps,
                                                     decay_rate, staircase = FALSE,
                                                     name = NULL, ...) {
  call <- sys.call()
  if (missing(initial_learning_rate)) abort_missing("initial_learning_rate", "a positive number")
  if (missing(decay_steps)) abort_missing("decay_steps", "a positive number")
  if (missing(decay_rate)) abort_missing("decay_rate", "a positive number")
  check_empty_dots(list(...), call = call)
  lr0 <- check_positive(initial_learning_rate, "initial_learning_rate", call)
  steps <- check_positive(decay_steps, "decay_steps", call)
  rate <- check_positive(decay_rate, "decay_rate", call)
  staircase <- check_flag(staircase, "staircase", call = call)
  config <- list(initial_learning_rate = lr0, decay_steps = steps, decay_rate = rate,
                 staircase = staircase, name = check_schedule_name(name, call))
  new_schedule("ExponentialDecay", config, function(step) {
    p <- step / steps
    if (staircase) p <- floor(p)
    lr0 * rate^p
  })
}

#' @rdname learning_rate_schedules
#' @export
learning_rate_schedule_inverse_time_decay <- function(initial_learning_rate, decay_steps,
                                                      decay_rate, staircase = FALSE,
                                                      name = NULL, ...) {
  call <- sys.call()
  if (missing(initial_learning_rate)) abort_missing("initial_learning_rate", "a positive number")
  if (missing(decay_steps)) abort_missing("decay_steps", "a positive number")
  if (missing(decay_rate)) abort_missing("decay_rate", "a number of at least 0")
  check_empty_dots(list(...), call = call)
  lr0 <- check_positive(initial_learning_rate, "initial_learning_rate", call)
  steps <- check_positive(decay_steps, "decay_steps", call)
  rate <- check_finite_number(decay_rate, "decay_rate", min = 0, call = call)
  staircase <- check_flag(staircase, "staircase", call = call)
  config <- list(initial_learning_rate = lr0, decay_steps = steps, decay_rate = rate,
                 staircase = staircase, name = check_schedule_name(name, call))
  new_schedule("InverseTimeDecay", config, function(step) {
    p <- step / steps
    if (staircase) p <- floor(p)
    lr0 / (1 + rate * p)
  })
}

#' @rdname learning_rate_schedules
#' @export
learning_rate_schedule_cosine_decay <- function(initial_learning_rate, decay_steps, alpha = 0,
                                                name = NULL, warmup_target = NULL,
                                                warmup_steps = 0, ...) {
  call <- sys.call()
  if (missing(initial_learning_rate)) abort_missing("initial_learning_rate", "a positive number")
  if (missing(decay_steps)) abort_missing("decay_steps", "a positive number")
  check_empty_dots(list(...), call = call)
  # 0 too: where a warmup starts from
  lr0 <- check_finite_number(initial_learning_rate, "initial_learning_rate", min = 0, call = call)
  steps <- check_positive(decay_steps, "decay_steps", call)
  alpha <- check_finite_number(alpha, "alpha", min = 0, max = 1, call = call)
  target <- if (!is.null(warmup_target)) check_positive(warmup_target, "warmup_target", call)
  warmup <- check_whole_number(warmup_steps, "warmup_steps", call)
  config <- list(initial_learning_rate = lr0, decay_steps = steps, alpha = alpha,
                 name = check_schedule_name(name, call), warmup_target = target,
                 warmup_steps = as.double(warmup))
  decayed <- function(step, from) {
    cosine <- 0.5 * (1 + cos(pi * (step / steps)))
    from * ((1 - alpha) * cosine + alpha)
  }
  new_schedule("CosineDecay", config, function(step) {
    if (is.null(target)) return(decayed(pmin(step, steps), lr0))
    step <- pmin(step, steps + warmup)
    ifelse(step < warmup, (target - lr0) * (step / warmup) + lr0, decayed(step - warmup, target))
  })
}

#' @rdname learning_rate_schedules
#' @export
learning_rate_schedule_piecewise_constant_decay <- function(boundaries, values, name = NULL,
                                                            ...) {
  call <- sys.call()
  if (missing(boundaries)) abort_missing("boundaries", "the steps at which the rate changes")
  if (missing(values)) abort_missing("values", "the rates, one more than `boundaries`")
  check_empty_dots(list(...), call = call)
  boundaries <- check_number_list(boundaries, "boundaries", call = call)
  if (is.unsorted(boundaries, strictly = TRUE)) {
    selu_abort(sprintf("`boundaries` must be in increasing order, not %s.",
                       paste(format(boundaries), collapse = ", ")), call = call)
  }
  values <- check_number_list(values, "values", min = 0, call = call)
  if (length(values) != length(boundaries) + 1) {
    selu_abort(sprintf(paste(
      "`values` must have one more element than `boundaries` (a rate before, between",
      "and after them): %d boundar%s take %d values, not %d."),
      length(boundaries), if (length(boundaries) == 1) "y" else "ies",
      length(boundaries) + 1, length(values)), call = call)
  }
  config <- list(boundaries = as.list(boundaries), values = as.list(values),
                 name = check_schedule_name(name, call))
  new_schedule("PiecewiseConstantDecay", config, function(step) {
    values[findInterval(step, boundaries, left.open = TRUE) + 1]
  })
}

#' @rdname learning_rate_schedules
#' @export
learning_rate_schedule_polynomial_decay <- function(initial_learning_rate, decay_steps,
                                                    end_learning_rate = 1e-04, power = 1,
                                                    cycle = FALSE, name = NULL, ...) {
  call <- sys.call()
  if (missing(initial_learning_rate)) abort_missing("initial_learning_rate", "a positive number")
  if (missing(decay_steps)) abort_missing("decay_steps", "a positive number")
  check_empty_dots(list(...), call = call)
  lr0 <- check_positive(initial_learning_rate, "initial_learning_rate", call)
  steps <- check_positive(decay_steps, "decay_steps", call)
  end <- check_finite_number(end_learning_rate, "end_learning_rate", min = 0, call = call)
  power <- check_finite_number(power, "power", min = 0, call = call)
  cycle <- check_flag(cycle, "cycle", call = call)
  config <- list(initial_learning_rate = lr0, decay_steps = steps, end_learning_rate = end,
                 power = power, cycle = cycle, name = check_schedule_name(name, call))
  new_schedule("PolynomialDecay", config, function(step) {
    if (cycle) {
      period <- steps * ifelse(step == 0, 1, ceiling(step / steps))
    } else {
      period <- steps
      step <- pmin(step, steps)
    }
    (lr0 - end) * (1 - step / period)^power + end
  })
}

schedule_constructors <- list(
  ExponentialDecay = learning_rate_schedule_exponential_decay,
  InverseTimeDecay = learning_rate_schedule_inverse_time_decay,
  CosineDecay = learning_rate_schedule_cosine_decay,
  PiecewiseConstantDecay = learning_rate_schedule_piecewise_constant_decay,
  PolynomialDecay = learning_rate_schedule_polynomial_decay
)

#' @export
print.selu_learning_rate_schedule <- function(x, ...) {
  print_configured(x, "learning_rate_schedule")
}

#' @export
get_config.selu_learning_rate_schedule <- function(object, ...) {
  if (!is_schedule(object)) check_layer_or_model(object, call = sys.call())
  check_empty_dots(list(...))
  structure(attr(object, "config"), class_name = attr(object, "class_name"))
}

# A schedule as keras 2.13 writes one inside an optimizer's configuration.
schedule_keras_config <- function(schedule) {
  list(module = SCHEDULE_MODULE, class_name = attr(schedule, "class_name"),
       config = attr(schedule, "config"), registered_name = NULL)
}

# A schedule from its configuration inside an optimizer's, as keras 2.13
# writes it or as keras 2.12 and older did (without `module` and
# `registered_name`).
schedule_from_keras_config <- function(x, call) {
  keys <- names(x)
  class_name <- x$class_name
  ok <- is.list(x) && !is.object(x) && !is.null(keys) && !anyNA(keys) && !anyDuplicated(keys) &&
    all(c("class_name", "config") %in% keys) &&
    all(keys %in% c("module", "class_name", "config", "registered_name")) &&
    is.character(class_name) && length(class_name) == 1 &&
    isTRUE(class_name %in% names(schedule_constructors)) &&
    is.list(x$config) && !is.object(x$config) &&
    (length(x$config) == 0 || (!is.null(names(x$config)) && !anyNA(names(x$config)))) &&
    (is.null(x$module) || identical(x$module, SCHEDULE_MODULE)) && is.null(x$registered_name)
  if (!ok) {
    selu_abort(sprintf(paste(
      "`learning_rate` must be a number or a learning-rate schedule's configuration,",
      "list(class_name = , config = ), its class one of %s; got %s."),
      paste0("\"", names(schedule_constructors), "\"", collapse = ", "), describe(x)),
      call = call)
  }
  do.call(schedule_constructors[[class_name]], x$config, quote = TRUE)
}
