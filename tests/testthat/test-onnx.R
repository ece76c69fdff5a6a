# ONNX: selu's exported graphs run in ONNX Runtime 1.20.1 (npm
# onnxruntime-node, in tests/testthat/node: see .ci/run) and give what
# predict() gives; ONNX graphs, selu's and written op by op here, load into
# models that give what ONNX Runtime gives.

skip_without_onnxruntime <- function() {
  skip_if(!nzchar(Sys.which("node")), "node is not installed")
  skip_if_not(dir.exists(file.path(test_path("node"), "node_modules", "onnxruntime-node")),
              "onnxruntime-node is not installed in tests/testthat/node (npm ci there)")
}

row_major <- function(x) {
  d <- dim(x)
  if (length(d) <= 1) return(as.vector(x))
  as.vector(aperm(x, rev(seq_along(d))))
}

# ONNX Runtime's outputs for `inputs` (a list named by input), as R arrays.
run_onnxruntime <- function(path, inputs, dtype = "float32") {
  dir <- tempfile("onnx-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  feeds <- lapply(inputs, function(x) {
    x <- as.array(x)
    list(dtype = dtype, shape = as.list(dim(x)), values = row_major(x))
  })
  writeLines(jsonlite::toJSON(feeds, auto_unbox = TRUE, digits = NA), file.path(dir, "in.json"))
  out <- suppressWarnings(system2("node", c(shQuote(file.path(normalizePath(test_path("node")),
                                                              "onnx-run.js")),
                                            shQuote(path), shQuote(file.path(dir, "in.json")),
                                            shQuote(file.path(dir, "out.json"))),
                                  stdout = TRUE, stderr = TRUE))
  if (!is.null(attr(out, "status"))) stop("ONNX Runtime failed:\n", paste(out, collapse = "\n"))
  outputs <- jsonlite::read_json(file.path(dir, "out.json"), simplifyVector = TRUE)
  lapply(outputs, function(o) {
    shape <- o$shape
    if (length(shape) == 1) return(o$values)
    aperm(array(o$values, rev(shape)), rev(seq_along(shape)))
  })
}

expect_onnxruntime_predicts <- function(model, inputs, dtype, tolerance) {
  path <- withr::local_tempfile(fileext = ".onnx", .local_envir = parent.frame())
  save_model_onnx(model, path, dtype = dtype)
  names(inputs) <- if (length(inputs) == 1) "input" else paste0("input_", seq_along(inputs))
  theirs <- run_onnxruntime(path, inputs, dtype)
  ours <- predict(model, if (length(inputs) == 1) inputs[[1]] else unname(inputs))
  if (length(theirs) == 1) ours <- list(output = ours)
  expect_identical(names(theirs), if (length(theirs) == 1) "output" else paste0("output_", seq_along(theirs)))
  for (i in seq_along(theirs)) {
    expect_equal(theirs[[i]], unname(ours[[i]]), tolerance = tolerance)
  }
  path
}

# Every layer with an ONNX form, trained a little.
onnx_models <- function() {
  set.seed(21)
  x <- matrix(rnorm(60), 15, 4)
  dense <- keras_model_sequential(input_shape = 4) |>
    layer_dense(8, activation = "selu", kernel_initializer = "lecun_normal") |>
    layer_alpha_dropout(0.1) |>
    layer_batch_normalization() |>
    layer_activation_elu(0.7) |>
    layer_dense(8, activation = "elu") |>
    layer_activation_leaky_relu(0.2) |>
    layer_dense(8, activation = "leaky_relu") |>
    layer_activation_parametric_relu(alpha_initializer = initializer_random_uniform(seed = 2)) |>
    layer_activation_thresholded_relu(0.2) |>
    layer_dense(6, activation = "tanh", use_bias = FALSE) |>
    layer_activation_relu(max_value = 0.5, negative_slope = 0.1, threshold = 0.05) |>
    layer_activation_relu() |>
    layer_layer_normalization() |>
    layer_gaussian_noise(0.1) |>
    layer_gaussian_dropout(0.1) |>
    layer_dropout(0.2) |>
    layer_dense(5, activation = "sigmoid") |>
    layer_dense(3, activation = "softmax")
  compile(dense, optimizer = optimizer_adam(0.01), loss = "categorical_crossentropy")
  fit(dense, x, diag(3)[rep(1:3, 5), ], epochs = 2, batch_size = 5, verbose = 0)

  x3 <- array(rnorm(5 * 3 * 4), c(5, 3, 4))
  rank3 <- keras_model_sequential(input_shape = c(3, 4)) |>
    layer_dense(5, activation = "selu") |>
    layer_batch_normalization(axis = 2) |>
    layer_activation_parametric_relu(shared_axes = 2,
                                     alpha_initializer = initializer_random_uniform(seed = 3)) |>
    layer_layer_normalization(axis = c(2, 3)) |>
    layer_activation_softmax(axis = 2) |>
    layer_flatten() |>
    layer_dense(2)
  compile(rank3, optimizer = optimizer_adam(0.01), loss = "mse")
  fit(rank3, x3, matrix(rnorm(10), 5, 2), epochs = 2, verbose = 0)

  ids <- matrix(c(0, 3, 1, 2, 4, 4, 0, 1, 2), 3, 3)
  embedding <- keras_model_sequential(input_shape = 3) |>
    layer_embedding(5, 2) |>
    layer_flatten() |>
    layer_dense(2, activation = "relu")

  left <- layer_input(3)
  right <- layer_input(3)
  a <- layer_dense(left, 4, activation = "selu")
  b <- layer_dense(right, 4)
  merged <- layer_concatenate(list(layer_add(list(a, b)), layer_multiply(list(a, b)),
                                   layer_average(list(a, b))))
  functional <- keras_model(list(left, right),
                            list(layer_dense(merged, 2), layer_dense(merged, 3, activation = "softmax")))
  list(
    dense = list(model = dense, inputs = list(x)),
    rank3 = list(model = rank3, inputs = list(x3)),
    embedding = list(model = embedding, inputs = list(ids)),
    functional = list(model = functional, inputs = list(matrix(rnorm(9), 3, 3), matrix(rnorm(9), 3, 3)))
  )
}

test_that("exported models run in ONNX Runtime and predict the same, in float32 and float64", {
  skip_without_onnxruntime()
  for (case in onnx_models()) {
    expect_onnxruntime_predicts(case$model, case$inputs, "float32", 1e-5)
    expect_onnxruntime_predicts(case$model, case$inputs, "float64", 1e-12)
  }
})

# A Python 3 with the onnx package (Debian's python3-onnx is for
# /usr/bin/python3), or "".
python_with_onnx <- function() {
  for (python in unique(c(Sys.getenv("SELU_TEST_PYTHON"), "/usr/bin/python3",
                          Sys.which("python3")))) {
    if (!nzchar(python) || !file.exists(python)) next
    status <- suppressWarnings(system2(python, c("-c", shQuote("import onnx")),
                                       stdout = FALSE, stderr = FALSE))
    if (identical(status, 0L)) return(python)
  }
  ""
}

test_that("exported models pass ONNX's own checker, shapes inferred", {
  python <- python_with_onnx()
  skip_if(!nzchar(python), "no python3 with onnx (Debian: python3-onnx)")
  dir <- withr::local_tempdir()
  paths <- character()
  for (name in names(cases <- onnx_models())) {
    for (dtype in c("float32", "float64")) {
      path <- file.path(dir, paste0(name, "-", dtype, ".onnx"))
      save_model_onnx(cases[[name]]$model, path, dtype = dtype)
      paths <- c(paths, path)
    }
  }
  script <- file.path(dir, "check.py")
  writeLines(c("import onnx, sys",
               "for path in sys.argv[1:]:",
               "    onnx.checker.check_model(onnx.load(path), full_check=True)",
               "    print('ok', path)"), script)
  out <- suppressWarnings(system2(python, shQuote(c(script, paths)), stdout = TRUE,
                                  stderr = TRUE))
  expect_null(attr(out, "status"), label = paste(out, collapse = "\n"))
  expect_identical(out, paste("ok", paths))
})

test_that("the exported graph: opset 17, input and output names, symbolic batch, no dropout", {
  model <- onnx_models()$dense$model
  path <- withr::local_tempfile(fileext = ".onnx")
  save_model_onnx(model, path)
  parsed <- onnx_parse_model(readBin(path, "raw", file.size(path)))
  expect_identical(parsed$ir_version, 8)
  expect_identical(parsed$opset, 17)
  ops <- vapply(pb_get(parsed$graph, 1), function(f) pb_text(pb_parse(f$value), 4), "")
  expect_false(any(ops %in% c("Dropout", "RandomNormalLike")))
  expect_true(all(c("Gemm", "Selu", "BatchNormalization", "Elu", "LeakyRelu", "PRelu",
                    "ThresholdedRelu", "LayerNormalization", "Sigmoid", "Softmax") %in% ops))
  input <- onnx_value_info_of(pb_parse(pb_first(parsed$graph, 11)))
  output <- onnx_value_info_of(pb_parse(pb_first(parsed$graph, 12)))
  expect_identical(input$name, "input")
  expect_identical(output$name, "output")
  expect_identical(input$shape, c(NA, 4))
  expect_identical(output$shape, c(NA, 3))
  # float64: no operator ONNX Runtime lacks double kernels for
  save_model_onnx(model, path, dtype = "float64")
  parsed <- onnx_parse_model(readBin(path, "raw", file.size(path)))
  ops <- vapply(pb_get(parsed$graph, 1), function(f) pb_text(pb_parse(f$value), 4), "")
  expect_false(any(ops %in% c("Selu", "Elu", "LeakyRelu", "PRelu", "ThresholdedRelu")))
})

test_that("protocol buffer varints: int64's edge values", {
  for (value in c(0, 1, 127, 128, 300, 2^31 - 1, 2^31, 2^32, 2^53, -1, -2, -128, -2^31, -2^32)) {
    bytes <- c(as.raw(0x08), pb_varint(value))
    expect_identical(pb_parse(bytes)[[1]]$value, value)
  }
  # the encodings protocol buffers' documentation gives
  expect_identical(pb_varint(150), as.raw(c(0x96, 0x01)))
  expect_identical(pb_varint(-1), as.raw(c(rep(0xff, 9), 0x01)))
})

test_that("exported models load back and predict the same", {
  cases <- onnx_models()
  set.seed(4)
  chain <- keras_model_sequential(input_shape = 4) |>
    layer_dense(6, activation = "selu") |>
    layer_dropout(0.5) |>
    layer_batch_normalization(epsilon = 0.01) |>
    layer_activation_elu(0.5) |>
    layer_activation_leaky_relu(0.1) |>
    layer_activation_parametric_relu(alpha_initializer = initializer_random_uniform(seed = 1)) |>
    layer_activation_thresholded_relu(0.1) |>
    layer_dense(5, activation = "tanh", use_bias = FALSE) |>
    layer_layer_normalization() |>
    layer_dense(3, activation = "softmax")
  set_weights(chain, lapply(get_weights(chain), function(w) w + runif(length(w), 0.1, 0.5)))
  cases$chain <- list(model = chain, inputs = list(matrix(rnorm(20), 5, 4)))
  for (name in c("chain", "rank3")) {
    path <- withr::local_tempfile(fileext = ".onnx")
    save_model_onnx(cases[[name]]$model, path)
    imported <- load_model_onnx(path)
    expect_equal(predict(imported, cases[[name]]$inputs[[1]]),
                 predict(cases[[name]]$model, cases[[name]]$inputs[[1]]), tolerance = 1e-6)
  }
})

# A hand-written ONNX graph: nodes as list(op, inputs, attrs), constants as
# named arrays; one input "x" of `width` columns, output "y".
onnx_file <- function(nodes, constants, width, ir_version = 8, opset = 17, elem = ONNX_FLOAT) {
  g <- onnx_graph(if (elem == ONNX_DOUBLE) "float64" else "float32")
  initializers <- unlist(lapply(names(constants), function(n) {
    value <- constants[[n]]
    pb_bytes(5, onnx_tensor(n, value, if (is.null(dim(value))) length(value) else dim(value), elem))
  }))
  previous <- "x"
  node_bytes <- list()
  for (k in seq_along(nodes)) {
    node <- nodes[[k]]
    output <- if (k == length(nodes)) "y" else paste0("t", k)
    inputs <- c(previous, node$inputs)
    node_bytes[[k]] <- pb_bytes(1, c(unlist(lapply(inputs, function(i) pb_string(1, i))),
                                     pb_string(2, output), pb_string(4, node$op),
                                     unlist(lapply(node$attrs, function(a) pb_bytes(5, a)))))
    previous <- output
  }
  graph <- c(unlist(node_bytes), pb_string(2, "handmade"), initializers,
             pb_bytes(11, onnx_value_info("x", c(NA, width), elem)),
             pb_bytes(12, onnx_value_info("y", c(NA, NA), elem)))
  path <- tempfile(fileext = ".onnx")
  writeBin(c(pb_int(1, ir_version), pb_bytes(7, graph),
             pb_bytes(8, c(pb_string(1, ""), pb_int(2, opset)))), path)
  path
}

test_that("ONNX graphs as PyTorch writes them load and predict what ONNX Runtime predicts", {
  skip_without_onnxruntime()
  set.seed(5)
  # nn.Linear: Gemm with its weight (out, in) and transB = 1; Dropout left in
  w1 <- matrix(rnorm(12), 3, 4)
  w2 <- matrix(rnorm(6), 2, 3)
  path <- onnx_file(
    list(list(op = "Gemm", inputs = c("w1", "b1"), attrs = list(onnx_attr("transB", 1, "int"),
                                                                 onnx_attr("alpha", 1, "float"))),
         list(op = "Selu", attrs = list(onnx_attr("alpha", SELU_ALPHA, "float"),
                                        onnx_attr("gamma", SELU_SCALE, "float"))),
         list(op = "Dropout"),
         list(op = "MatMul", inputs = "w2t"),
         list(op = "Add", inputs = "b2"),
         list(op = "LeakyRelu", attrs = list(onnx_attr("alpha", 0.1, "float"))),
         list(op = "Identity"),
         list(op = "Softmax", attrs = list(onnx_attr("axis", 1, "int")))),
    list(w1 = w1, b1 = rnorm(3), w2t = t(w2), b2 = rnorm(2)), 4)
  on.exit(unlink(path))
  model <- load_model_onnx(path)
  expect_identical(model$name, "handmade")
  x <- matrix(rnorm(20), 5, 4)
  expect_equal(predict(model, x), run_onnxruntime(path, list(x = x))$y, tolerance = 1e-5)

  # normalizations and the activation family, with their attributes
  path2 <- onnx_file(
    list(list(op = "BatchNormalization", inputs = c("g", "b", "m", "v"),
              attrs = list(onnx_attr("epsilon", 0.01, "float"))),
         list(op = "Elu", attrs = list(onnx_attr("alpha", 0.5, "float"))),
         list(op = "PRelu", inputs = "slope"),
         list(op = "ThresholdedRelu", attrs = list(onnx_attr("alpha", 0.1, "float"))),
         list(op = "LayerNormalization", inputs = c("lg", "lb"),
              attrs = list(onnx_attr("epsilon", 0.001, "float"))),
         list(op = "Sigmoid"), list(op = "Tanh"), list(op = "Relu"), list(op = "Flatten")),
    list(g = runif(4, 0.5, 2), b = rnorm(4), m = rnorm(4), v = runif(4, 0.5, 2),
         slope = runif(4), lg = runif(4), lb = rnorm(4)), 4)
  on.exit(unlink(path2), add = TRUE)
  model <- load_model_onnx(path2)
  expect_equal(predict(model, x), run_onnxruntime(path2, list(x = x))$y, tolerance = 1e-5)
})

test_that("operators and attributes selu has no layer for are errors naming them", {
  w <- matrix(1, 2, 2)
  cases <- list(
    list(list(op = "Conv", inputs = "w")), "operator Conv, which selu does not read",
    list(list(op = "Selu", attrs = list(onnx_attr("alpha", 2, "float")))),
    "operator Selu with alpha = 2",
    list(list(op = "Gemm", inputs = "w", attrs = list(onnx_attr("alpha", 2, "float")))),
    "operator Gemm with alpha = 2",
    list(list(op = "Gemm", inputs = "w", attrs = list(onnx_attr("transA", 1, "int")))),
    "operator Gemm with transA = 1",
    list(list(op = "Flatten", attrs = list(onnx_attr("axis", 2, "int")))),
    "operator Flatten with axis = 2",
    list(list(op = "Relu", attrs = list(onnx_attr("beta", 2, "float")))),
    "operator Relu with the attribute \"beta\"",
    list(list(op = "Gemm", inputs = "nowhere")),
    "node \"y\" \\(Gemm\\) reading \"nowhere\" as a weight, which is no constant"
  )
  # before opset 13, Softmax ran over the flattened axes from `axis` on
  old_softmax <- onnx_file(list(list(op = "Softmax", attrs = list(onnx_attr("axis", 0, "int")))),
                           list(), 2, opset = 11)
  expect_error(load_model_onnx(old_softmax), class = "selu_error_file",
               regexp = "operator Softmax with axis = 0 on input of rank 2 in opset 11")
  for (k in seq(1, length(cases), by = 2)) {
    path <- onnx_file(cases[[k]], list(w = w), 2)
    expect_error(load_model_onnx(path), class = "selu_error_file",
                 regexp = paste0("`filepath` \"[^\"]*\\.onnx\" has the ", cases[[k + 1]]))
    unlink(path)
  }
})

test_that("bad ONNX files are errors naming the file", {
  dir <- withr::local_tempdir()
  model <- onnx_models()$dense$model
  path <- file.path(dir, "model.onnx")
  save_model_onnx(model, path)
  bytes <- readBin(path, "raw", file.size(path))
  for (n in c(1, 5, 50, length(bytes) %/% 2, length(bytes) - 1)) {
    cut <- file.path(dir, "cut.onnx")
    writeBin(bytes[seq_len(n)], cut)
    expect_error(load_model_onnx(cut), class = "selu_error_file",
                 regexp = "`filepath` \"[^\"]*cut.onnx\" (is not an ONNX model, or a damaged one|is damaged|has)")
  }
  foreign <- file.path(dir, "foreign.onnx")
  writeLines("just text, not a protocol buffer", foreign)
  expect_error(load_model_onnx(foreign), class = "selu_error_file",
               regexp = "foreign.onnx\" is not an ONNX model, or a damaged one")
  newer <- onnx_file(list(list(op = "Relu")), list(), 2, ir_version = 11)
  expect_error(load_model_onnx(newer), class = "selu_error_file",
               regexp = "is an ONNX model of IR version 11, newer than those selu reads")
  newer <- onnx_file(list(list(op = "Relu")), list(), 2, opset = 22)
  expect_error(load_model_onnx(newer), class = "selu_error_file",
               regexp = "uses ONNX opset 22, newer than those selu reads")
  wrong <- onnx_file(list(list(op = "BatchNormalization", inputs = c("g", "b", "m", "v"))),
                     list(g = 1:3, b = 1:3, m = 1:3, v = 1:3), 2)
  expect_error(load_model_onnx(wrong), class = "selu_error_file",
               regexp = "has a weight of shape \\(3\\) for its BatchNormalization, where selu's layer needs \\(2\\)")
  expect_error(load_model_onnx(file.path(dir, "none.onnx")), class = "selu_error_file",
               regexp = "does not exist")
  expect_error(load_model_onnx(), class = "selu_error", regexp = "`filepath`")
})

test_that("save_model_onnx() checks its arguments and writes atomically", {
  dir <- withr::local_tempdir()
  model <- keras_model_sequential(input_shape = 2) |> layer_dense(1)
  path <- file.path(dir, "m.onnx")
  expect_error(save_model_onnx(model, path, dtype = "float16"), class = "selu_error",
               regexp = "`dtype` must be one of")
  expect_error(save_model_onnx("m", path), class = "selu_error", regexp = "`model` must be a model")
  expect_error(save_model_onnx(model), class = "selu_error", regexp = "`filepath`")
  odd <- keras_model_sequential(input_shape = 2) |> layer_activation(function(x) x^2)
  expect_error(save_model_onnx(odd, path), class = "selu_error",
               regexp = "`model` holds the layer .* whose activation is an R function")
  expect_error(save_model_onnx(keras_model_sequential(), path), class = "selu_error",
               regexp = "`model` has no input shape")
  writeLines("old", path)
  expect_error(save_model_onnx(model, path, overwrite = FALSE), class = "selu_error_file",
               regexp = "exists already")
  expect_identical(readLines(path), "old")
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "m.onnx")
})

test_that("multilayer perceptrons PyTorch exported load and predict PyTorch's values", {
  # written by scripts/make-torch-onnx.py with torch.onnx.export()
  ref <- jsonlite::read_json(test_path("fixtures", "torch-onnx.json"), simplifyVector = TRUE)
  expect_setequal(names(ref), c("snn", "relu_bn", "family", "layer_norm"))
  for (name in names(ref)) {
    model <- load_model_onnx(test_path("fixtures", sprintf("torch-%s.onnx", name)))
    # PyTorch computed in float32
    expect_equal(predict(model, ref[[name]]$x), ref[[name]]$y, tolerance = 1e-5, label = name)
  }
  classes <- vapply(load_model_onnx(test_path("fixtures", "torch-relu_bn.onnx"))$layers,
                    function(l) attr(get_config(l), "class_name"), "")
  expect_identical(classes, c("Dense", "Activation", "BatchNormalization", "Dense", "LeakyReLU",
                              "Dense"))
})

# ONNX's own node tests (Debian's libonnx-testdata): a model of one operator,
# an input and the output ONNX computes for it, as TensorProto files.
onnx_testdata <- function() {
  dirs <- c(Sys.getenv("SELU_ONNX_TESTDATA"), "/usr/share/libonnx-testdata/data/node")
  dirs <- dirs[nzchar(dirs) & dir.exists(dirs)]
  if (length(dirs)) dirs[1] else ""
}

read_onnx_tensor_file <- function(path) {
  tensor <- onnx_read_tensor(pb_parse(readBin(path, "raw", file.size(path))),
                             function(what) stop(what))
  tensor$values
}

test_that("ONNX's node tests of the operators selu reads give ONNX's outputs", {
  root <- onnx_testdata()
  skip_if(!nzchar(root), "ONNX's node tests are not installed (Debian: libonnx-testdata)")
  readable <- c("test_elu", "test_elu_default", "test_elu_example", "test_relu",
                "test_leakyrelu", "test_leakyrelu_default", "test_leakyrelu_example",
                "test_selu_default", "test_sigmoid", "test_sigmoid_example", "test_tanh",
                "test_tanh_example", "test_softmax_axis_0", "test_softmax_axis_1",
                "test_softmax_axis_2", "test_softmax_default_axis", "test_softmax_example",
                "test_softmax_large_number", "test_softmax_negative_axis",
                "test_thresholdedrelu", "test_thresholdedrelu_default",
                "test_thresholdedrelu_example", "test_flatten_axis1",
                "test_flatten_default_axis", "test_identity", "test_dropout_default")
  for (name in readable) {
    dir <- file.path(root, name)
    if (!dir.exists(dir)) next
    x <- read_onnx_tensor_file(file.path(dir, "test_data_set_0", "input_0.pb"))
    if (is.null(dim(x))) {
      # a vector: no batch axis
      expect_error(load_model_onnx(file.path(dir, "model.onnx")), class = "selu_error_file",
                   regexp = "selu needs a batch axis first")
      next
    }
    model <- load_model_onnx(file.path(dir, "model.onnx"))
    expected <- read_onnx_tensor_file(file.path(dir, "test_data_set_0", "output_0.pb"))
    expect_equal(predict(model, x), expected, tolerance = 1e-6, label = name)
  }
  # what selu's layers cannot do is an error naming it
  refused <- c(test_selu = "Selu with alpha = 2",
               test_flatten_axis2 = "Flatten with axis = 2",
               test_flatten_axis0 = "Flatten with axis = 0",
               test_prelu_example = "has 2 inputs and 1 outputs",
               test_gemm_default_no_bias = "2 inputs and 1 outputs")
  for (name in names(refused)) {
    path <- file.path(root, name, "model.onnx")
    if (!file.exists(path)) next
    expect_error(load_model_onnx(path), class = "selu_error_file", regexp = refused[[name]],
                 fixed = TRUE, label = name)
  }
})
