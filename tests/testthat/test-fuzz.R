# Fuzz test: every exported function, every argument, the same list of
# malformed and unusual inputs, the other arguments valid. Each call must
# succeed without a warning, or signal a `selu_error` whose message names the
# argument; never a crash, a hang, an unclassed error or a warning other
# than a `selu_warning` naming the argument (such as a deprecation). The
# exports are walked from the namespace, so new ones are covered: one that
# cannot be called validly from the baselines below fails the test.
#
# 300 inputs for each argument of the 132 exports (and of predict() and
# summary() for models), of the layers, models and initializers they return,
# and of `...`: 242,345 calls in all, about 8 minutes on one core.

methods::setClass("selu_fuzz_s4", representation(x = "numeric"))

# The malformed and unusual inputs, each with a label for the report.
fuzz_inputs <- function() {
  inputs <- list()
  add <- function(label, value) {
    inputs[[length(inputs) + 1]] <<- list(label = label, value = value)
  }
  long_name <- strrep("n", 10000)
  non_ascii <- c("\u540d\u524d", "\u00f1")

  # Scalars of every type, then each as a pair, a list, a 1x1 matrix and
  # with a non-ASCII name.
  atoms <- list(
    "NA" = NA, "NA_integer_" = NA_integer_, "NA_real_" = NA_real_,
    "NA_character_" = NA_character_, "NA_complex_" = NA_complex_,
    "TRUE" = TRUE, "FALSE" = FALSE, "0L" = 0L, "1L" = 1L, "-1L" = -1L,
    "0" = 0, "1" = 1, "-1" = -1, "0.5" = 0.5, "-0.5" = -0.5, "2.5" = 2.5,
    "Inf" = Inf, "-Inf" = -Inf, "NaN" = NaN, "-0" = -0,
    "integer.max" = .Machine$integer.max, "-integer.max" = -.Machine$integer.max,
    "2^31" = 2^31, "2^53" = 2^53, "1e308" = 1e308, "-1e308" = -1e308,
    "5e-324" = 5e-324, "1e6" = 1e6, "\"\"" = "", "\"a\"" = "a",
    "\"non-ASCII\"" = non_ascii[1], "\"long string\"" = long_name,
    "\"float32\"" = "float32", "\"zeros\"" = "zeros", "\"selu\"" = "selu",
    "\"NA\"" = "NA", "\"2\"" = "2", "1i" = 1i, "raw 01" = as.raw(1),
    "latin1 string" = iconv("\u00f1", "UTF-8", "latin1")
  )
  for (label in names(atoms)) {
    a <- atoms[[label]]
    add(label, a)
    add(sprintf("c(%s, %s)", label, label), c(a, a))
    add(sprintf("list(%s)", label), list(a))
    add(sprintf("matrix(%s, 1, 1)", label), matrix(a, 1, 1))
    add(sprintf("%s named non-ASCII", label), stats::setNames(a, non_ascii[2]))
  }

  # zero-length of every type
  add("NULL", NULL)
  add("logical(0)", logical(0))
  add("integer(0)", integer(0))
  add("numeric(0)", numeric(0))
  add("character(0)", character(0))
  add("complex(0)", complex(0))
  add("raw(0)", raw(0))
  add("list()", list())
  add("matrix(0, 0, 3)", matrix(0, 0, 3))
  add("array(0, c(2, 0, 3))", array(0, c(2, 0, 3)))

  # shapes: negative, huge, fractional, unknown, long
  add("c(10, -3)", c(10, -3))
  add("c(1e6, 1e6, 1e6)", c(1e6, 1e6, 1e6))
  add("c(1e5, 1e5)", c(1e5, 1e5))
  add("c(2, 0.5)", c(2, 0.5))
  add("c(2, 0)", c(2, 0))
  add("c(NA, 2)", c(NA, 2))
  add("c(2, 2)", c(2, 2))
  add("c(3, 4, 5)", c(3, 4, 5))
  add("rep(2, 100)", rep(2, 100))
  add("list(NULL, 2)", list(NULL, 2))
  add("list(NULL, NULL)", list(NULL, NULL))
  add("list(2, \"a\")", list(2, "a"))
  add("list(c(1, 2))", list(c(1, 2)))
  add("1:1e6 (ALTREP)", 1:1e6)
  add("1e6:1 (ALTREP)", 1e6:1)
  add("seq_len(1e5) + 0.5", seq_len(1e5) + 0.5)
  add("as.character(1:1e5) (ALTREP)", as.character(1:1e5))

  # arrays and matrices of unusual types
  add("matrix of character", matrix(letters[1:4], 2, 2))
  add("matrix of complex", matrix(1i, 2, 2))
  add("matrix of list", matrix(list(1, 2, 3, 4), 2, 2))
  add("matrix of raw", matrix(as.raw(1:4), 2, 2))
  add("matrix of NA", matrix(NA, 2, 2))
  add("matrix 2x2", matrix(c(-2, -0.5, 0.5, 2), 2, 2))
  add("matrix 3x3", matrix(1:9 - 5, 3, 3))
  add("array 2x3x4", array(seq(-2, 2, length.out = 24), c(2, 3, 4)))
  add("1-d array", array(c(-1, 1), 2))
  add("matrix with dimnames", matrix(1:4, 2, 2, dimnames = list(NULL, non_ascii)))

  # names: very long, non-ASCII, on vectors and lists
  add("number with a 10,000-character name", stats::setNames(1, long_name))
  add("list with a 10,000-character name", stats::setNames(list(1), long_name))
  add("vector with non-ASCII names", stats::setNames(c(1, 2), non_ascii))
  add("list with non-ASCII names", stats::setNames(list(1, 2), non_ascii))
  add("list(a = 1)", list(a = 1))

  # lists: of NULL, nested, mixed
  add("list(NULL)", list(NULL))
  add("list(1, \"a\", NULL)", list(1, "a", NULL))
  add("list(list(1))", list(list(1)))
  add("deeply nested list", Reduce(function(acc, i) list(acc), 1:50, 1))
  add("list of a function", list(function(x) x))
  add("list of an environment", list(globalenv()))
  add("pairlist", pairlist(a = 1))

  # classed objects
  add("structure(1, class = \"foo\")", structure(1, class = "foo"))
  add("structure(list(), class = \"foo\")", structure(list(), class = "foo"))
  add("factor", factor(c("a", "b")))
  add("factor(character(0))", factor(character(0)))
  add("ordered factor", factor("a", ordered = TRUE))
  add("data.frame", data.frame(a = 1:2, b = c("x", "y")))
  add("data.frame()", data.frame())
  add("numeric data.frame", data.frame(a = c(-1, 1), b = c(0.5, 2)))
  add("Date", Sys.Date())
  add("POSIXct", as.POSIXct("2020-01-01", tz = "UTC"))
  add("difftime", as.difftime(1, units = "secs"))
  add("table", table(c(1, 1, 2)))
  add("AsIs number", I(2))
  add("S4 object", methods::new("selu_fuzz_s4", x = 1))
  add("S4 class representation", methods::getClass("numeric"))

  # language, environments, functions
  add("formula", y ~ x)
  add("one-sided formula", ~x)
  add("expression", expression(1 + 2))
  add("quote(x)", quote(x))
  add("quote(stop(\"boom\"))", quote(stop("boom")))
  add("symbol with a non-ASCII name", as.name(non_ascii[1]))
  add("globalenv()", globalenv())
  add("emptyenv()", emptyenv())
  add("new.env()", new.env())
  add("function(x) x", function(x) x)
  add("function() stop(\"boom\")", function() stop("boom"))
  add("function(...) warning(\"boom\")", function(...) warning("boom"))
  add("function(x) \"a\"", function(x) "a")
  add("builtin sum", sum)
  add("special `if`", `if`)
  add("external pointer", getNamespace("selu")$C_selu_get_threads$address)

  # the package's own objects where something else is expected
  add("a layer", layer_activation_selu())
  add("a layer with input shape", layer_activation_elu(input_shape = 3))
  add("a PReLU layer", layer_activation_parametric_relu())
  add("an initializer", initializer_ones())
  add("a symbolic tensor", layer_input(shape = 2))
  add("a sequential model", keras_model_sequential(input_shape = 2))
  add("an empty sequential model", keras_model_sequential())
  add("a functional model", local({
    i <- layer_input(shape = 2)
    keras_model(i, layer_activation_selu(i))
  }))
  add("a layer's config", get_config(layer_activation_selu()))
  add("a model's config", get_config(keras_model_sequential(input_shape = 2)))
  add("a list of layers", list(layer_activation_selu(), layer_activation_relu()))

  # malformed configurations, and objects with the package's classes but not
  # its structure
  add("config with a bad value", structure(list(alpha = "a"), class_name = "ELU"))
  add("config with two class names", structure(list(), class_name = c("ELU", "ReLU")))
  add("config of a model with bad layers",
      structure(list(name = "m", layers = list(1, NULL)), class_name = "Sequential"))
  add("config of a functional model without layers",
      structure(list(name = "m", layers = list()), class_name = "Functional"))
  add("fake layer", structure(function(inputs) inputs, class = c("selu_elu", "selu_layer")))
  add("fake layer list", structure(list(), class = "selu_layer"))
  add("fake model", structure(function(inputs) inputs, class = c("selu_sequential", "selu_model")))
  add("fake tensor", structure(list(shape = c(NA, 2)), class = "selu_tensor"))
  add("fake initializer", structure(function(shape) 1, class = "selu_initializer"))

  labels <- vapply(inputs, `[[`, "", "label")
  stopifnot(!anyDuplicated(labels))
  inputs
}


# Valid values of required arguments, by name, made afresh for every call
# since layers and models have state. A required argument not listed is left
# missing, as the `object` of a layer function is (the layer is returned).
required_args <- list(
  x = function() matrix(c(-2, -0.5, 0.5, 2), 2, 2),
  inputs = function() matrix(c(-2, -0.5, 0.5, 2), 2, 2),
  grad_output = function() 1,
  alpha = function() c(0.1, 0.5),
  object = function() layer_activation_parametric_relu(),
  input_shape = function() c(NA, 2),
  config = function() get_config(layer_activation_selu(input_shape = 2)),
  weights = function() list(),
  activation = function() "selu",
  rate = function() 0.1,
  shape = function() 2,
  units = function() 2,
  w = function() matrix(c(-2, -0.5, 0.5, 2), 2, 2),
  input_dim = function() 3,
  output_dim = function() 2,
  stddev = function() 0.1,
  # learning-rate schedules, the steps they are called with, the scheduler callback
  initial_learning_rate = function() 0.1,
  decay_steps = function() 10,
  decay_rate = function() 0.5,
  boundaries = function() 10,
  values = function() c(0.1, 0.01),
  step = function() 3,
  schedule = function() function(epoch, lr) lr
)

# A small compiled model, and training data for it.
compiled_model <- function() {
  model <- keras_model_sequential(input_shape = 2) |>
    layer_dense(1, kernel_initializer = initializer_constant(0.5))
  compile(model, optimizer = "sgd", loss = "mse")
}
training_args <- function() {
  list(object = compiled_model(), x = required_args$x(), y = c(0.5, -0.5))
}

# Exports whose valid call the names above do not give.
baseline_exceptions <- list(
  predict.selu_model = function() {
    list(object = keras_model_sequential(input_shape = 2), x = required_args$x())
  },
  summary.selu_model = function() list(object = keras_model_sequential(input_shape = 2)),
  keras_model = function() {
    inputs <- layer_input(shape = 2)
    list(inputs = inputs, outputs = layer_activation_selu(inputs))
  },
  # with an input shape, so that the model it returns can be called
  keras_model_sequential = function() list(input_shape = 2),
  compile.selu_model = function() {
    list(object = keras_model_sequential(input_shape = 2) |> layer_dense(1), loss = "mse")
  },
  # early stopping ends a run of many epochs after the second
  fit.selu_model = function() {
    c(training_args(), list(verbose = 0, callbacks = callback_early_stopping(
      monitor = "loss", patience = 0, min_delta = 1e300)))
  },
  evaluate = training_args,
  train_on_batch = training_args,
  test_on_batch = training_args,
  predict_on_batch = function() list(object = compiled_model(), x = required_args$x()),
  get_layer = function() list(object = compiled_model(), index = 1),
  pop_layer = function() list(object = compiled_model()),
  # a layer of the embedding takes ids below its input_dim
  "layer_embedding() result" = function() list(inputs = matrix(c(0, 2, 1, 0), 2)),
  # an identity initializer makes matrices
  "initializer_identity() result" = function() list(shape = c(2, 2)),
  set_weights = function() {
    list(object = layer_activation_parametric_relu(input_shape = 2), weights = list(c(0.1, 0.2)))
  }
)

# Losses and metrics give their object when called without data; the object
# is then called with these.
loss_metric_data <- function(y_true) {
  function() list(y_true = y_true, y_pred = matrix(c(0.8, 0.3, 0.2, 0.7), 2))
}
for (export in c("loss_mean_squared_error", "loss_mean_absolute_error", "loss_huber",
                 "loss_binary_crossentropy", "loss_categorical_crossentropy",
                 "metric_binary_accuracy", "metric_categorical_accuracy",
                 "metric_mean_squared_error", "metric_mean_absolute_error", "metric_auc")) {
  baseline_exceptions[[paste0(export, "() result")]] <- loss_metric_data(diag(2))
}
for (export in c("loss_sparse_categorical_crossentropy", "metric_sparse_categorical_accuracy")) {
  baseline_exceptions[[paste0(export, "() result")]] <- loss_metric_data(c(0, 1))
}
# merging layers take a list of inputs
for (export in c("layer_concatenate", "layer_add", "layer_multiply", "layer_average")) {
  baseline_exceptions[[paste0(export, "() result")]] <- function() {
    list(inputs = list(required_args$x(), required_args$x()))
  }
}

# Saving and loading: a small model, a file for it, its JSON.
required_args$model <- function() keras_model_sequential(input_shape = 2) |> layer_dense(1)
required_args$filepath <- function() tempfile(fileext = ".rds")
required_args$json <- function() model_to_json(required_args$model())
baseline_exceptions$load_model <- function() {
  path <- tempfile(fileext = ".rds")
  save_model(required_args$model(), path)
  list(filepath = path)
}
baseline_exceptions$load_model_weights <- function() {
  model <- required_args$model()
  path <- tempfile(fileext = ".rds")
  save_model_weights(model, path)
  list(model = model, filepath = path)
}

# The session's dtype (which run_call() puts back after each call).
baseline_exceptions$k_set_floatx <- function() list(floatx = "float64")

# keras's HDF5 files (through hdf5r, a Suggests: without it, these functions
# are left out below).
# The files are written once: reading them changes nothing.
written_once <- function(write) {
  path <- NULL
  function() {
    if (is.null(path) || !file.exists(path)) {
      path <<- tempfile(fileext = ".h5")
      write(required_args$model(), path)
    }
    path
  }
}
hdf5_model_file <- written_once(function(model, path) save_model_hdf5(model, path))
hdf5_weights_file <- written_once(function(model, path) save_model_weights_hdf5(model, path))
baseline_exceptions$load_model_hdf5 <- function() list(filepath = hdf5_model_file())
baseline_exceptions$load_model_weights_hdf5 <- function() {
  list(model = required_args$model(), filepath = hdf5_weights_file())
}
needs_hdf5r <- c("save_model_hdf5", "load_model_hdf5", "save_model_weights_hdf5",
                 "load_model_weights_hdf5")

# ONNX
baseline_exceptions$load_model_onnx <- function() {
  path <- tempfile(fileext = ".onnx")
  save_model_onnx(required_args$model(), path)
  list(filepath = path)
}

# Classes for to_categorical(), a file for the CSV logger.
baseline_exceptions$to_categorical <- function() list(y = c(0, 2, 1))
required_args$filename <- function() tempfile(fileext = ".csv")

# snn() on a small data frame: a learning rate too small to change the loss
# stops training at the second epoch, whatever `epochs` says.
snn_data <- function() {
  data.frame(a = c(0.1, 0.5, -0.3, 0.9, 1.2, -1, 0, 0.4),
             f = factor(c("u", "v", "u", "v", "w", "u", "v", "w")),
             y = c(1, 2, 3, 4, 3, 2, 1, 0))
}
snn_settings <- function() {
  list(hidden_units = 2, epochs = 2, validation = 0.25, stop_iter = 1, learn_rate = 1e-300)
}
snn_fit <- function() do.call(snn, c(list(y ~ ., snn_data()), snn_settings()))
baseline_exceptions$snn <- function() c(list(x = snn_data()[1:2], y = snn_data()$y), snn_settings())
baseline_exceptions$snn.data.frame <- baseline_exceptions$snn
baseline_exceptions$snn.matrix <- function() {
  c(list(x = as.matrix(snn_data()[1]), y = snn_data()$y), snn_settings())
}
baseline_exceptions$snn.formula <- function() c(list(formula = y ~ ., data = snn_data()), snn_settings())
baseline_exceptions$snn.recipe <- function() {
  c(list(x = recipes::recipe(y ~ ., snn_data()), data = snn_data()), snn_settings())
}
baseline_exceptions$snn_engine_fit <- baseline_exceptions$snn
baseline_exceptions$predict.selu_snn <- function() list(object = snn_fit(), new_data = snn_data())
baseline_exceptions$summary.selu_snn <- function() list(object = snn_fit())

# Arguments that `...` takes, besides which it is fuzzed with `unknown_arg`.
dots_args <- list(keras_model_sequential = c("batch_input_shape", "batch_size"),
                  callback_model_checkpoint = "initial_value_threshold",
                  layer_batch_normalization = c("renorm", "renorm_clipping", "renorm_momentum",
                                                "fused", "virtual_batch_size", "adjustment",
                                                "synchronized"))
# keras 2's deprecated `lr` and refused `decay`, for every optimizer
for (export in grep("^optimizer_", getNamespaceExports("selu"), value = TRUE)) {
  dots_args[[export]] <- c("lr", "decay")
}

is_missing_default <- function(value) identical(value, quote(expr = ))

baseline_args <- function(export, fun) {
  if (!is.null(baseline_exceptions[[export]])) return(baseline_exceptions[[export]]())
  formals <- formals(fun)
  required <- names(formals)[vapply(formals, is_missing_default, TRUE)]
  required <- intersect(setdiff(required, "..."), names(required_args))
  if (startsWith(export, "layer_")) required <- setdiff(required, "object")
  lapply(stats::setNames(required, required), function(arg) required_args[[arg]]())
}

# What each fuzzed argument is called with in the call, and the name an error
# must give: `...` is fuzzed through an argument it does not take.
fuzz_targets <- function(export, fun) {
  args <- names(formals(fun))
  c(setdiff(args, "..."), dots_args[[export]], if ("..." %in% args) "unknown_arg")
}

# Calls fun(args) under a time limit; gives the error (or NULL) and the
# warnings, their messages named by their first class.
run_call <- function(fun, args) {
  warnings <- list()
  threads <- selu_threads()
  floatx <- k_floatx()
  setTimeLimit(elapsed = 10, transient = TRUE)
  on.exit({
    setTimeLimit()
    selu_threads(threads)
    k_set_floatx(floatx)
  })
  error <- withCallingHandlers(
    tryCatch({
      do.call(fun, args, quote = TRUE)
      NULL
    }, error = identity),
    warning = function(w) {
      warnings[[length(warnings) + 1]] <<- w
      invokeRestart("muffleWarning")
    }
  )
  list(error = error, warnings = warnings)
}

names_argument <- function(condition, arg) {
  message <- paste(conditionMessage(condition), collapse = "\n")
  any(vapply(paste0("`", arg, c("`", "[", "$")), grepl, TRUE, x = message,
             fixed = TRUE, useBytes = TRUE))
}

# NULL if the outcome is acceptable for argument `arg`, else what went wrong.
judge <- function(outcome, arg) {
  for (w in outcome$warnings) {
    if (!(inherits(w, "selu_warning") && names_argument(w, arg))) {
      return(paste("warning:", conditionMessage(w)))
    }
  }
  error <- outcome$error
  if (is.null(error)) return(NULL)
  message <- paste(conditionMessage(error), collapse = "\n")
  if (!inherits(error, "selu_error")) {
    return(sprintf("unclassed error <%s>: %s", class(error)[1], message))
  }
  if (!names_argument(error, arg)) return(paste("error not naming the argument:", message))
  NULL
}

short <- function(text, n = 160) {
  text <- gsub("\\s+", " ", text, useBytes = TRUE)
  if (nchar(text, type = "bytes") > n) paste0(substr(text, 1, n), "...") else text
}

test_that("every export takes malformed input with a classed error naming the argument", {
  # the generics re-exported from the generics package dispatch to methods:
  # their methods are fuzzed instead
  exports <- setdiff(sort(getNamespaceExports("selu")), c("fit", "compile"))
  if (!requireNamespace("hdf5r", quietly = TRUE)) exports <- setdiff(exports, needs_hdf5r)
  # and the methods users reach through generics of other packages
  methods <- c("predict.selu_model", "summary.selu_model", "fit.selu_model",
               "compile.selu_model", "snn.data.frame", "snn.matrix", "snn.formula",
               if (requireNamespace("recipes", quietly = TRUE)) "snn.recipe",
               "predict.selu_snn", "summary.selu_snn")
  # SELU_FUZZ_ONLY=<regex> fuzzes only the functions it matches
  only <- Sys.getenv("SELU_FUZZ_ONLY")
  if (nzchar(only)) {
    exports <- grep(only, exports, value = TRUE)
    methods <- grep(only, methods, value = TRUE)
  }
  # under valgrind (a reduced run), every tenth input: the C code sees them all
  # the same, and the whole set would take an hour there
  per_export <- 200
  # made afresh for each export: an export such as compile() changes the
  # models among them in place
  make_inputs <- function() {
    inputs <- fuzz_inputs()
    if (reduced_tests()) inputs <- inputs[seq(1, length(inputs), by = 10)]
    inputs
  }
  expect_gte(length(fuzz_inputs()), 200)
  if (reduced_tests()) per_export <- 20
  # functions that write files write them in a folder of their own
  folder <- withr::local_tempdir("fuzz")
  withr::local_dir(folder)
  failures <- list()
  fail <- function(where, arg, label, problem) {
    failures[[length(failures) + 1]] <<- c(where = where, arg = arg, input = label,
                                           problem = short(problem))
  }
  calls <- stats::setNames(integer(length(exports) + length(methods)), c(exports, methods))

  # Each fuzzed argument of `fun` in turn, the others from `baseline()`.
  fuzz <- function(where, export, fun_of, baseline, targets) {
    for (arg in targets) {
      for (input in inputs) {
        args <- baseline()
        target <- fun_of(args)
        args <- args$call_args
        args[arg] <- list(input$value)
        problem <- judge(run_call(target, args), arg)
        calls[[export]] <<- calls[[export]] + 1L
        if (!is.null(problem)) fail(where, arg, input$label, problem)
      }
      # and left out, when it has no default
      args <- baseline()
      target <- fun_of(args)
      args <- args$call_args
      if (arg %in% names(formals(target)) &&
          is_missing_default(formals(target)[[arg]])) {
        args[[arg]] <- NULL
        problem <- judge(run_call(target, args), arg)
        calls[[export]] <<- calls[[export]] + 1L
        if (!is.null(problem)) fail(where, arg, "(missing)", problem)
      }
    }
  }

  for (export in c(exports, methods)) {
    inputs <- make_inputs()
    fun <- get(export, envir = asNamespace("selu"))
    expect_true(is.function(fun), label = export)
    baseline <- function() list(call_args = baseline_args(export, fun))
    valid <- run_call(fun, baseline()$call_args)
    if (!is.null(valid$error) || length(valid$warnings)) {
      fail(export, "(baseline)", "(valid arguments)", paste(
        "cannot be called validly from the fuzz baselines; give its required arguments",
        "in `required_args` or `baseline_exceptions`:",
        conditionMessage(if (length(valid$warnings)) valid$warnings[[1]] else valid$error)))
      next
    }
    fuzz(export, export, function(args) fun, baseline, fuzz_targets(export, fun))

    # A layer, model or initializer it returns is called with the inputs too.
    result <- do.call(fun, baseline()$call_args, quote = TRUE)
    if (is.function(result)) {
      where <- sprintf("%s() result", export)
      returned <- function() {
        made <- do.call(fun, baseline_args(export, fun), quote = TRUE)
        list(made = made, call_args = baseline_args(where, made))
      }
      valid <- run_call(result, baseline_args(where, result))
      if (!is.null(valid$error) || length(valid$warnings)) {
        fail(where, "(baseline)", "(valid arguments)", paste(
          "cannot be called validly from `required_args`:",
          conditionMessage(if (length(valid$warnings)) valid$warnings[[1]] else valid$error)))
        next
      }
      fuzz(where, export, function(args) args$made, returned, fuzz_targets(where, result))
    }
  }

  report <- vapply(failures, function(f) {
    sprintf("%s(%s = %s): %s", f[["where"]], f[["arg"]], f[["input"]], f[["problem"]])
  }, "")
  # SELU_FUZZ_LOG=<file> keeps the whole report, beyond the 400 lines shown
  cat(sprintf("%d fuzz calls over %d exports", sum(calls), length(exports)), report,
      sep = "\n", file = Sys.getenv("SELU_FUZZ_LOG", nullfile()))
  expect(length(failures) == 0, sprintf(
    "%d of %d fuzz calls failed:\n%s", length(failures), sum(calls),
    paste(utils::head(report, 400), collapse = "\n")))
  # every export that takes arguments (`...` too) gets >= 200 inputs; one that
  # takes none (k_floatx()) has only its valid call
  takes_none <- vapply(names(calls), function(export) {
    export %in% exports && length(formals(get(export, envir = asNamespace("selu")))) == 0
  }, TRUE)
  expect_true(all(calls >= per_export | takes_none),
              label = paste(names(calls)[calls < per_export & !takes_none], collapse = ", "))
  expect_gte(sum(calls), per_export * sum(!takes_none[exports]))
})
