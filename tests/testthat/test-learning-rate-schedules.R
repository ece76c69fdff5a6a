# The references are the schedules' values at steps where keras 2.13's
# formulas (optimizers/schedules/learning_rate_schedule.py) give round
# numbers by hand: whole periods, half periods, the boundaries themselves
# and the steps just past them.

test_that("exponential decay: rate^(step / decay_steps), floored with staircase", {
  smooth <- learning_rate_schedule_exponential_decay(0.1, decay_steps = 10, decay_rate = 0.5)
  expect_equal(smooth(c(0, 10, 20, 30)), c(0.1, 0.05, 0.025, 0.0125))
  expect_equal(smooth(5), 0.1 / sqrt(2))
  expect_equal(smooth(15), 0.05 / sqrt(2))
  stairs <- learning_rate_schedule_exponential_decay(0.1, 10, 0.5, staircase = TRUE)
  expect_equal(stairs(c(0, 9, 10, 19, 20, 25)), c(0.1, 0.1, 0.05, 0.05, 0.025, 0.025))
  # a rate above 1 grows, as keras allows
  expect_equal(learning_rate_schedule_exponential_decay(1, 1, 2)(3), 8)
})

test_that("inverse time decay: lr0 / (1 + rate * step / decay_steps)", {
  smooth <- learning_rate_schedule_inverse_time_decay(1, decay_steps = 2, decay_rate = 0.5)
  expect_equal(smooth(c(0, 2, 3, 4, 8)), c(1, 1 / 1.5, 1 / 1.75, 0.5, 1 / 3))
  stairs <- learning_rate_schedule_inverse_time_decay(1, 2, 0.5, staircase = TRUE)
  expect_equal(stairs(c(0, 1, 2, 3, 4, 5)), c(1, 1, 1 / 1.5, 1 / 1.5, 0.5, 0.5))
  expect_equal(learning_rate_schedule_inverse_time_decay(0.3, 1, 0)(100), 0.3)
})

test_that("cosine decay: half a cosine from lr0 down to alpha * lr0, then flat", {
  cosine <- learning_rate_schedule_cosine_decay(2, decay_steps = 100)
  expect_equal(cosine(c(0, 25, 50, 75, 100, 150)),
               c(2, 1 + sqrt(2) / 2, 1, 1 - sqrt(2) / 2, 0, 0))
  floor <- learning_rate_schedule_cosine_decay(2, 100, alpha = 0.1)
  expect_equal(floor(c(0, 50, 100, 1000)), c(2, 2 * (0.9 * 0.5 + 0.1), 0.2, 0.2))
  # with a warmup: linear from lr0 to the target over 10 steps, then the
  # cosine from the target over the next 100
  warm <- learning_rate_schedule_cosine_decay(0, 100, warmup_target = 1, warmup_steps = 10)
  expect_equal(warm(c(0, 5, 9, 10, 60, 110, 500)), c(0, 0.5, 0.9, 1, 0.5, 0, 0))
  warm_from <- learning_rate_schedule_cosine_decay(0.2, 100, alpha = 0.5, warmup_target = 1,
                                                    warmup_steps = 4)
  expect_equal(warm_from(c(0, 2, 4, 104)), c(0.2, 0.6, 1, 0.5))
  # a target without warmup steps: the decay starts from the target
  expect_equal(learning_rate_schedule_cosine_decay(0.2, 100, warmup_target = 1)(c(0, 50)),
               c(1, 0.5))
})

test_that("piecewise constant decay: values[i] up to and including boundaries[i]", {
  pieces <- learning_rate_schedule_piecewise_constant_decay(c(10, 20), c(1, 0.5, 0.1))
  expect_identical(pieces(c(0, 9, 10, 11, 20, 21, 1e6)), c(1, 1, 1, 0.5, 0.5, 0.1, 0.1))
  # as keras writes them: lists
  from_lists <- learning_rate_schedule_piecewise_constant_decay(list(100000, 110000),
                                                               list(1, 0.5, 0.1))
  expect_identical(from_lists(c(100000, 100001, 110001)), c(1, 0.5, 0.1))
  expect_identical(learning_rate_schedule_piecewise_constant_decay(0, c(0.2, 0.1))(0:1), c(0.2, 0.1))
})

test_that("polynomial decay: to end_learning_rate in decay_steps, or in cycles", {
  linear <- learning_rate_schedule_polynomial_decay(1, decay_steps = 10, end_learning_rate = 0)
  expect_equal(linear(c(0, 5, 10, 20)), c(1, 0.5, 0, 0))
  squared <- learning_rate_schedule_polynomial_decay(1, 10, end_learning_rate = 0.1, power = 2)
  expect_equal(squared(c(0, 5, 10, 15)), c(1, 0.9 * 0.25 + 0.1, 0.1, 0.1))
  # the default end, 1e-4
  expect_equal(learning_rate_schedule_polynomial_decay(0.1, 10)(c(5, 10)), c(0.05005, 1e-4))
  # cycle: the period is the first multiple of decay_steps at or above the
  # step (decay_steps at step 0)
  cycling <- learning_rate_schedule_polynomial_decay(1, 10, end_learning_rate = 0, cycle = TRUE)
  expect_equal(cycling(c(0, 5, 10, 15, 20, 21, 30)), c(1, 0.5, 0, 0.25, 0, 0.3, 0))
})

test_that("a schedule takes any number of whole steps, and checks them", {
  schedule <- learning_rate_schedule_exponential_decay(0.1, 10, 0.5)
  expect_identical(schedule(numeric(0)), numeric(0))
  expect_identical(schedule(0L), 0.1)
  expect_length(schedule(0:1000), 1001)
  expect_error(schedule(), class = "selu_error", "`step` is missing")
  expect_error(schedule(-1), class = "selu_error", "`step` must be whole numbers of at least 0")
  expect_error(schedule(0.5), class = "selu_error", "`step`")
  expect_error(schedule(NA), class = "selu_error", "`step`")
  expect_error(schedule("1"), class = "selu_error", "`step`")
  expect_error(schedule(Inf), class = "selu_error", "`step`")
})

test_that("configurations have keras's class names and keys, and rebuild the schedule", {
  schedules <- list(
    learning_rate_schedule_exponential_decay(0.1, 1000, 0.96, staircase = TRUE, name = "e"),
    learning_rate_schedule_inverse_time_decay(0.1, 1, 0.5),
    learning_rate_schedule_cosine_decay(0.1, 1000, alpha = 0.2, warmup_target = 0.5,
                                        warmup_steps = 20),
    learning_rate_schedule_piecewise_constant_decay(c(10, 20), c(1, 0.5, 0.1)),
    learning_rate_schedule_polynomial_decay(0.1, 100, end_learning_rate = 0.01, power = 0.5,
                                            cycle = TRUE)
  )
  keys <- list(
    ExponentialDecay = c("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name"),
    InverseTimeDecay = c("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name"),
    CosineDecay = c("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target",
                    "warmup_steps"),
    PiecewiseConstantDecay = c("boundaries", "values", "name"),
    PolynomialDecay = c("initial_learning_rate", "decay_steps", "end_learning_rate", "power",
                        "cycle", "name"))
  expect_identical(vapply(schedules, function(s) attr(get_config(s), "class_name"), ""),
                   names(keys))
  for (schedule in schedules) {
    config <- get_config(schedule)
    class_name <- attr(config, "class_name")
    expect_named(config, keys[[class_name]])
    expect_s3_class(schedule, c(paste0("selu_schedule_", tolower(class_name)),
                                "selu_learning_rate_schedule"))
    rebuilt <- do.call(schedule_constructors[[class_name]], unclass(config))
    expect_identical(get_config(rebuilt), config)
    expect_identical(rebuilt(0:50), schedule(0:50))
  }
  expect_identical(get_config(schedules[[1]])$name, "e")
  expect_null(get_config(schedules[[2]])$name)
  expect_identical(get_config(schedules[[4]])$boundaries, list(10, 20))
  expect_identical(get_config(learning_rate_schedule_cosine_decay(0.1, 10))[c("warmup_target",
                                                                              "warmup_steps")],
                   list(warmup_target = NULL, warmup_steps = 0))
  expect_error(get_config(schedules[[1]], 1), class = "selu_error", "Unknown argument")
})

test_that("print shows the class and configuration", {
  schedule <- learning_rate_schedule_piecewise_constant_decay(c(10, 20), c(1, 0.5, 0.1))
  expect_output(expect_invisible(print(schedule)), paste0(
    "<learning_rate_schedule PiecewiseConstantDecay>\\(boundaries = list\\(10, 20\\), ",
    "values = list\\(1, 0.5, 0.1\\), name = NULL\\)"), fixed = FALSE)
  expect_output(print(learning_rate_schedule_exponential_decay(0.1, 10, 0.5)),
                "ExponentialDecay>\\(initial_learning_rate = 0.1, decay_steps = 10")
})

test_that("the schedules' arguments are checked", {
  expect_error(learning_rate_schedule_exponential_decay(), class = "selu_error",
               "`initial_learning_rate` is missing")
  expect_error(learning_rate_schedule_exponential_decay(0.1), class = "selu_error",
               "`decay_steps` is missing")
  expect_error(learning_rate_schedule_exponential_decay(0.1, 10), class = "selu_error",
               "`decay_rate` is missing")
  expect_error(learning_rate_schedule_exponential_decay(0, 10, 0.5), class = "selu_error",
               "`initial_learning_rate` must be a single finite number above 0")
  expect_error(learning_rate_schedule_exponential_decay(0.1, 0, 0.5), class = "selu_error",
               "`decay_steps`")
  expect_error(learning_rate_schedule_exponential_decay(0.1, 10, 0), class = "selu_error",
               "`decay_rate`")
  expect_error(learning_rate_schedule_exponential_decay(0.1, 10, 0.5, staircase = NA),
               class = "selu_error", "`staircase`")
  expect_error(learning_rate_schedule_exponential_decay(0.1, 10, 0.5, name = ""),
               class = "selu_error", "`name`")
  expect_error(learning_rate_schedule_exponential_decay(0.1, 10, 0.5, rate = 1),
               class = "selu_error", "Unknown argument: `rate`")
  expect_error(learning_rate_schedule_inverse_time_decay(0.1, 10, -1), class = "selu_error",
               "`decay_rate` must be a single finite number of at least 0")
  expect_error(learning_rate_schedule_cosine_decay(-1, 10), class = "selu_error",
               "`initial_learning_rate`")
  expect_error(learning_rate_schedule_cosine_decay(0.1, 10, alpha = 2), class = "selu_error",
               "`alpha` must be a single finite number from 0 to 1")
  expect_error(learning_rate_schedule_cosine_decay(0.1, 10, warmup_target = 0),
               class = "selu_error", "`warmup_target`")
  expect_error(learning_rate_schedule_cosine_decay(0.1, 10, warmup_steps = 2.5),
               class = "selu_error", "`warmup_steps` must be a whole number")
  expect_error(learning_rate_schedule_piecewise_constant_decay(), class = "selu_error",
               "`boundaries` is missing")
  expect_error(learning_rate_schedule_piecewise_constant_decay(10), class = "selu_error",
               "`values` is missing")
  expect_error(learning_rate_schedule_piecewise_constant_decay(c(20, 10), c(1, 2, 3)),
               class = "selu_error", "`boundaries` must be in increasing order")
  expect_error(learning_rate_schedule_piecewise_constant_decay(c(10, 10), c(1, 2, 3)),
               class = "selu_error", "`boundaries` must be in increasing order")
  expect_error(learning_rate_schedule_piecewise_constant_decay(numeric(0), 1),
               class = "selu_error", "`boundaries` must be a vector of one or more finite numbers")
  expect_error(learning_rate_schedule_piecewise_constant_decay(10, c(1, -1)),
               class = "selu_error", "`values` must be a vector of one or more finite numbers of at least 0")
  expect_error(learning_rate_schedule_piecewise_constant_decay(c(10, 20), c(1, 0.5)),
               class = "selu_error",
               "`values` must have one more element than `boundaries`.*2 boundaries take 3 values, not 2")
  expect_error(learning_rate_schedule_polynomial_decay(0.1, 10, end_learning_rate = -1),
               class = "selu_error", "`end_learning_rate`")
  expect_error(learning_rate_schedule_polynomial_decay(0.1, 10, power = -1),
               class = "selu_error", "`power`")
  expect_error(learning_rate_schedule_polynomial_decay(0.1, 10, cycle = "yes"),
               class = "selu_error", "`cycle`")
})

test_that("an optimizer takes a schedule as its learning rate, evaluated at its step count", {
  schedule <- learning_rate_schedule_piecewise_constant_decay(c(0, 1), c(0.1, 0.05, 0.01))
  opt <- optimizer_sgd(learning_rate = schedule)
  expect_identical(opt$learning_rate, schedule)
  expect_true(learning_rate_changes(opt))
  expect_false(learning_rate_changes(optimizer_sgd()))
  expect_identical(current_learning_rate(opt), 0.1)
  expect_identical(current_learning_rate(opt, iterations = 5), 0.01)
  # w = 1, g = 1: steps of 0.1, 0.05 and 0.01
  w <- list(w = 1)
  for (i in 1:3) w <- optimizer_apply(opt, w, list(w = 1))
  expect_equal(w$w, 1 - 0.1 - 0.05 - 0.01)
  expect_identical(current_learning_rate(opt), 0.01)
  expect_output(print(opt), "learning_rate = <PiecewiseConstantDecay>, momentum = 0")
  # a number replaces the schedule (keras refuses); a schedule replaces a number
  opt$learning_rate <- 0.5
  expect_identical(opt$learning_rate, 0.5)
  expect_false(learning_rate_changes(opt))
  opt$learning_rate <- schedule
  expect_identical(current_learning_rate(opt), 0.01)
  expect_error(opt$learning_rate <- get_config(schedule), class = "selu_error",
               "`learning_rate` must be a single positive finite number or a learning-rate schedule")
})

test_that("an optimizer's configuration holds the schedule as keras writes it", {
  schedule <- learning_rate_schedule_exponential_decay(0.1, 100, 0.9, staircase = TRUE)
  for (make in list(optimizer_sgd, optimizer_adam, optimizer_rmsprop, optimizer_adagrad,
                    optimizer_nadam, optimizer_adamax, optimizer_adamw, optimizer_adadelta,
                    optimizer_ftrl)) {
    opt <- make(learning_rate = schedule)
    config <- get_config(opt)
    expect_identical(config$learning_rate, list(
      module = "keras.optimizers.schedules", class_name = "ExponentialDecay",
      config = list(initial_learning_rate = 0.1, decay_steps = 100, decay_rate = 0.9,
                    staircase = TRUE, name = NULL),
      registered_name = NULL))
    rebuilt <- optimizer_from_config(config)
    expect_identical(get_config(rebuilt), config)
    expect_identical(rebuilt$learning_rate(0:300), schedule(0:300))
  }
  # keras 2.12 and older wrote class_name and config alone, numbers as JSON gives them
  keras_config <- structure(list(name = "SGD", learning_rate = list(
    class_name = "PiecewiseConstantDecay",
    config = list(boundaries = list(100000L, 110000L), values = list(1, 0.5, 0.1), name = NULL)),
    momentum = 0, nesterov = FALSE), class_name = "SGD")
  opt <- optimizer_from_config(keras_config)
  expect_identical(opt$learning_rate(c(100000, 100001, 110001)), c(1, 0.5, 0.1))
  bad <- function(rate) {
    optimizer_from_config(structure(list(learning_rate = rate), class_name = "Adam"))
  }
  expect_error(bad(list(class_name = "CosineDecayRestarts", config = list())), class = "selu_error",
               "In `config`: `learning_rate` must be a number or a learning-rate schedule's configuration")
  expect_error(bad(list(class_name = "CosineDecay", config = list(decay_steps = 10))),
               class = "selu_error", "In `config`: `initial_learning_rate` is missing")
  expect_error(bad(list(class_name = "CosineDecay", config = list(initial_learning_rate = 1,
                                                                  decay_steps = 10, foo = 1))),
               class = "selu_error", "In `config`: Unknown argument: `foo`")
  expect_error(bad(list(module = "my.module", class_name = "CosineDecay",
                        config = list(initial_learning_rate = 1, decay_steps = 10))),
               class = "selu_error", "`learning_rate`")
  expect_error(bad(list(class_name = "CosineDecay")), class = "selu_error", "`learning_rate`")
})

# y = w x, w from 0, no bias, batches of one row in order: each step's
# gradient is 2 (w x - y) x.
line_model <- function(learning_rate) {
  model <- keras_model_sequential(input_shape = 1) |>
    layer_dense(1, use_bias = FALSE, kernel_initializer = "zeros", name = "line")
  compile(model, optimizer = optimizer_sgd(learning_rate = learning_rate), loss = "mse")
}

test_that("fit() steps at the scheduled rate of each step, and records it per epoch", {
  schedule <- learning_rate_schedule_piecewise_constant_decay(c(0, 1), c(0.1, 0.05, 0.01))
  model <- line_model(schedule)
  x <- matrix(c(1, 2, 1))
  y <- c(2, 2, 1)
  history <- fit(model, x, y, batch_size = 1, epochs = 1, shuffle = FALSE, verbose = 0)
  # w = 0 + 0.1 * 4 = 0.4; 0.4 + 0.05 * 2 (2 - 0.8) 2 = 0.64;
  # 0.64 + 0.01 * 2 (1 - 0.64) = 0.6472
  expect_equal(get_weights(model)[[1]], matrix(0.6472))
  expect_identical(history$metrics$lr, 0.01)
  # epoch-end rates: after 2, 4 and 6 steps of an exponential decay
  halving <- learning_rate_schedule_exponential_decay(0.1, decay_steps = 2, decay_rate = 0.5)
  model <- line_model(halving)
  history <- fit(model, x[1:2, , drop = FALSE], y[1:2], batch_size = 1, epochs = 3,
                 shuffle = FALSE, verbose = 0)
  expect_equal(history$metrics$lr, c(0.05, 0.025, 0.0125))
  expect_identical(selu:::model_state(model)$compiled$optimizer$iterations, 6)
})

test_that("save_model() and load_model() keep the schedule and resume exactly", {
  set.seed(8)
  x <- matrix(rnorm(60), 20, 3)
  y <- x %*% c(1, 2, -1)
  make <- function() {
    set.seed(9)
    model <- keras_model_sequential(input_shape = 3) |>
      layer_dense(4, activation = "selu", name = "hidden") |>
      layer_dense(1, name = "out")
    schedule <- learning_rate_schedule_cosine_decay(0.05, decay_steps = 12, alpha = 0.1,
                                                    warmup_target = 0.1, warmup_steps = 3)
    compile(model, optimizer = optimizer_adam(learning_rate = schedule), loss = "mse")
  }
  straight <- make()
  straight_history <- fit(straight, x, y, epochs = 6, batch_size = 5, shuffle = FALSE, verbose = 0)
  first <- make()
  fit(first, x, y, epochs = 3, batch_size = 5, shuffle = FALSE, verbose = 0)
  path <- withr::local_tempfile(fileext = ".rds")
  save_model(first, path)
  resumed <- load_model(path)
  opt <- selu:::model_state(resumed)$compiled$optimizer
  expect_s3_class(opt$learning_rate, "selu_schedule_cosinedecay")
  expect_identical(opt$iterations, 12)
  history <- fit(resumed, x, y, epochs = 3, batch_size = 5, shuffle = FALSE, verbose = 0)
  expect_identical(get_weights(resumed), get_weights(straight))
  expect_identical(history$metrics$lr, straight_history$metrics$lr[4:6])
  # past decay_steps + warmup_steps the rate stays at alpha * warmup_target
  expect_equal(history$metrics$lr, rep(0.01, 3))
})

test_that("reduce_lr_on_plateau refuses a schedule, as keras does", {
  schedule <- learning_rate_schedule_exponential_decay(0.1, 10, 0.5)
  model <- line_model(schedule)
  expect_error(fit(model, matrix(1:4), 1:4, epochs = 2, verbose = 0,
                   callbacks = callback_reduce_lr_on_plateau(monitor = "loss")),
               class = "selu_error_callback",
               "callback_reduce_lr_on_plateau\\(\\) sets the optimizer's learning rate.*ExponentialDecay")
  expect_identical(get_weights(model)[[1]], matrix(0))
})
