#!/usr/bin/python3
# Reference values for one (and two) training steps of small networks, for
# selu's tests: tests/testthat/fixtures/step-<case>.json, with <case> one of
# mlp-scce, regression, binary and categorical.
#
# Run from the package root with Debian's Python, which has torch 1.13 (the
# `python3` first on the PATH may not):
#
#     /usr/bin/python3 tests/testthat/scripts/make-references.py          # writes the files
#     /usr/bin/python3 tests/testthat/scripts/make-references.py --check  # checks, writes nothing
#
# Everything is float64: the forward pass and the gradients by PyTorch
# autograd, the optimizer updates in numpy. The formulas are keras 2.13's
# (where keras and PyTorch differ, keras's), with exact double
# hyperparameters (0.01, not keras's float32 0.009999999776482582). The data
# and initial weights come from numpy Generators with fixed seeds, so a second
# run writes the same bytes (a numpy release that changes the Generator's
# streams, or a different BLAS, may change the last digits).
#
# --check compares the autograd gradients with central finite differences of
# the loss; the outputs, losses and moving statistics with those of
# torch.nn.functional's layers and losses; the optimizer rules with
# torch.optim's where they agree (epsilon 0); and the files on disk with what
# this script would write. It exits with status 1 if a check fails.
#
# JSON layout: every matrix is written as a list of its rows (row-major
# nested lists, x[i][j] being row i and column j), every vector as a flat
# list, scalars as numbers, all in keras's layout: inputs x are (n, features),
# a Dense kernel is (inputs, units). Floats are written with repr(), which
# reads back as the same double. The keys, in order:
#   case, description, generator, conventions: text.
#   input_shape: [features].
#   x: the inputs (n, features). y: the targets: class indices from 0 (a
#     vector) for sparse categorical cross-entropy, else a matrix (n, outputs).
#   layers: the layers in order, each {name, class_name, config, weights,
#     trainable_weights}: weights lists the weight names in keras's order,
#     trainable_weights those the optimizer updates.
#   weights: the initial weights, {"<layer>/<weight>": array}, every layer's
#     weights in layer order, BatchNormalization's moving statistics included.
#   trainable: the names of the trainable weights, in that order.
#   entries: one per loss, each
#     name, loss ({class_name, config} as keras writes it), sample_weight
#     (null or a vector of n),
#     output_training: the network's output on x in training mode (batch
#       statistics), with the initial weights;
#     output_inference: the same in inference mode (moving statistics);
#     loss_value: the loss of that training-mode output, regularization
#       included; loss_terms: {data, regularization}, its two parts;
#     gradients: {"<layer>/<weight>": array}, those of loss_value, trainable
#       weights only;
#     moving_statistics: BatchNormalization's moving_mean and moving_variance
#       after one training step, keyed as in `weights` ({} without
#       BatchNormalization);
#     optimizers: one per optimizer, each {label, class_name, config, step_1,
#       step_2}: config is keras's get_config(); step_k is {loss_value,
#       weights}: the loss at the weights before step k (what keras's fit()
#       reports for that epoch) and all the weights after it (moving
#       statistics included, keyed as in `weights`). Step 2 starts from the
#       weights and optimizer slots after step 1, on the same batch.

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GENERATOR = "tests/testthat/scripts/make-references.py"
CONVENTIONS = (
    "keras 2.13 formulas in float64 (PyTorch autograd for the gradients). Every matrix is "
    "a list of its rows; Dense kernels are (inputs, units). Weights are keyed "
    "'<layer name>/<weight name>'. Losses are sum(sample_weight * per-sample loss) / n "
    "plus the regularization penalties. Cross-entropies on sigmoid or softmax outputs are "
    "computed from the logits, as keras does.")

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# ---------------------------------------------------------------------------
# Activations (keras.activations), elementwise unless said otherwise.

def linear(z):
    # keras linear: z
    return z


def relu(z):
    # keras relu: max(z, 0)
    return torch.relu(z)


def tanh(z):
    # keras tanh: tanh(z)
    return torch.tanh(z)


def sigmoid(z):
    # keras sigmoid: 1 / (1 + exp(-z))
    return torch.sigmoid(z)


def softmax(z):
    # keras softmax (last axis): exp(z - max(z)) / sum(exp(z - max(z)))
    return torch.softmax(z, dim=-1)


def elu(z):
    # keras elu, alpha 1: z if z > 0 else alpha * (exp(z) - 1), with expm1()
    # (the min() keeps the unused branch finite, and its gradient 0)
    return torch.where(z > 0, z, torch.expm1(torch.clamp(z, max=0)))


def selu(z):
    # keras selu: scale * (z if z > 0 else alpha * (exp(z) - 1))
    return SELU_SCALE * torch.where(z > 0, z, SELU_ALPHA * torch.expm1(torch.clamp(z, max=0)))


ACTIVATIONS = {"linear": linear, "relu": relu, "tanh": tanh, "sigmoid": sigmoid,
               "softmax": softmax, "elu": elu, "selu": selu}


# ---------------------------------------------------------------------------
# Layers. Each takes its input (n, features) and its weights (tensors).

def dense(x, kernel, bias):
    # keras Dense: z = x @ kernel + bias, kernel (inputs, units); the
    # activation is applied by forward(), which keeps z as the logits.
    return x @ kernel + bias


def moments(x, dim):
    # tf.nn.moments: mean, and the biased variance mean((x - mean)^2)
    mean = x.mean(dim=dim, keepdim=True)
    return mean, ((x - mean) ** 2).mean(dim=dim, keepdim=True)


def batch_normalization(x, gamma, beta, moving_mean, moving_variance, training, epsilon):
    # keras BatchNormalization, axis -1:
    #   y = gamma * (x - mean) / sqrt(var + epsilon) + beta
    # training: the batch's mean and biased variance (divided by n), through
    # which the gradient goes; inference: the moving statistics.
    if training:
        mean, var = moments(x, 0)
    else:
        mean, var = moving_mean, moving_variance
    y = gamma * (x - mean) / torch.sqrt(var + epsilon) + beta
    return y, (mean.reshape(-1), var.reshape(-1))


def update_moving_statistic(moving, batch_value, momentum):
    # keras BatchNormalization._assign_moving_average, in training:
    #   moving <- moving - (moving - batch_value) * (1 - momentum)
    # for the mean and the (biased) variance alike.
    return moving - (moving - batch_value) * (1 - momentum)


def p_re_lu(x, alpha):
    # keras PReLU: relu(x) - alpha * relu(-x): x for x >= 0, alpha * x
    # otherwise; alpha (features,)
    return torch.relu(x) - alpha * torch.relu(-x)


def layer_normalization(x, gamma, beta, epsilon):
    # keras LayerNormalization, axis -1: per row, with the row's mean and
    # biased variance over the features,
    #   y = gamma * (x - mean) / sqrt(var + epsilon) + beta
    mean, var = moments(x, -1)
    return gamma * (x - mean) / torch.sqrt(var + epsilon) + beta


WEIGHT_NAMES = {"Dense": ["kernel", "bias"],
                "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"],
                "PReLU": ["alpha"],
                "LayerNormalization": ["gamma", "beta"]}
NON_TRAINABLE = {"moving_mean", "moving_variance"}


def forward(layers, w, x, training):
    # The network on x. Returns its output, the logits (the last Dense
    # layer's z) and each BatchNormalization's batch (mean, variance).
    h, logits, batch_stats = x, None, {}
    for layer in layers:
        name, cls, cfg = layer["name"], layer["class_name"], layer["config"]
        weight = lambda key: w[name + "/" + key]  # noqa: E731
        logits = None
        if cls == "Dense":
            logits = dense(h, weight("kernel"), weight("bias"))
            h = ACTIVATIONS[cfg["activation"]](logits)
        elif cls == "BatchNormalization":
            h, stats = batch_normalization(h, weight("gamma"), weight("beta"),
                                           weight("moving_mean"), weight("moving_variance"),
                                           training, cfg["epsilon"])
            if training:
                batch_stats[name] = stats
        elif cls == "PReLU":
            h = p_re_lu(h, weight("alpha"))
        elif cls == "LayerNormalization":
            h = layer_normalization(h, weight("gamma"), weight("beta"), cfg["epsilon"])
        else:
            raise ValueError(cls)
    return h, logits, batch_stats


# ---------------------------------------------------------------------------
# Regularizers: penalties added to the loss as they are (their gradients,
# 2 * l2 * w and l1 * sign(w), come from autograd).

def l1_penalty(w, l1):
    # keras L1: l1 * sum(|w|)
    return l1 * torch.sum(torch.abs(w))


def l2_penalty(w, l2):
    # keras L2: l2 * sum(w^2)
    return l2 * torch.sum(w ** 2)


def regularization(layers, w):
    total = torch.zeros(())
    for layer in layers:
        for key in ("kernel", "bias"):
            reg = layer["config"].get(key + "_regularizer")
            if reg is None:
                continue
            value = w[layer["name"] + "/" + key]
            if "l1" in reg["config"]:
                total = total + l1_penalty(value, reg["config"]["l1"])
            if "l2" in reg["config"]:
                total = total + l2_penalty(value, reg["config"]["l2"])
    return total


def regularizer(class_name, **config):
    # A regularizer as keras 2.13 serializes it.
    return {"module": "keras.regularizers", "class_name": class_name, "config": config,
            "registered_name": None}


# ---------------------------------------------------------------------------
# Losses: each gives the per-sample losses (n,), reduce_loss() the batch's.

def mean_squared_error(y, p):
    # keras: mean((y - p)^2) over the sample's outputs
    return ((y - p) ** 2).mean(dim=-1)


def mean_absolute_error(y, p):
    # keras: mean(|y - p|) over the sample's outputs
    return torch.abs(y - p).mean(dim=-1)


def huber(y, p, delta):
    # keras: e = p - y; mean of 0.5 e^2 if |e| <= delta else delta |e| - 0.5 delta^2
    e = p - y
    a = torch.abs(e)
    return torch.where(a <= delta, 0.5 * e ** 2, delta * a - 0.5 * delta ** 2).mean(dim=-1)


def binary_crossentropy_logits(y, z, label_smoothing):
    # keras, sigmoid output, from its logits z (tf.nn.sigmoid_cross_entropy_with_logits):
    #   y' = y (1 - ls) + 0.5 ls; mean of max(z, 0) - z y' + log1p(exp(-|z|))
    y = y * (1 - label_smoothing) + 0.5 * label_smoothing
    return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-torch.abs(z)))).mean(dim=-1)


def categorical_crossentropy_logits(y, z, label_smoothing):
    # keras, softmax output, from its logits z (tf.nn.softmax_cross_entropy_with_logits):
    #   y' = y (1 - ls) + ls / classes; -sum(y' log_softmax(z))
    y = y * (1 - label_smoothing) + label_smoothing / y.shape[-1]
    return -(y * torch.log_softmax(z, dim=-1)).sum(dim=-1)


def sparse_categorical_crossentropy_logits(y, z):
    # keras, softmax output, from its logits z: -log_softmax(z)[class], classes from 0
    return -torch.log_softmax(z, dim=-1).gather(1, y.reshape(-1, 1)).reshape(-1)


def reduce_loss(per_sample, sample_weight):
    # keras SUM_OVER_BATCH_SIZE: sum(sample_weight * loss) / n, whatever the weights
    if sample_weight is not None:
        per_sample = per_sample * sample_weight
    return per_sample.sum() / per_sample.shape[0]


def per_sample_loss(loss, y, output, logits, last_activation):
    cls, cfg = loss["class_name"], loss["config"]
    if cls == "MeanSquaredError":
        return mean_squared_error(y, output)
    if cls == "MeanAbsoluteError":
        return mean_absolute_error(y, output)
    if cls == "Huber":
        return huber(y, output, cfg["delta"])
    if cls == "BinaryCrossentropy":
        assert last_activation == "sigmoid" and not cfg["from_logits"]
        return binary_crossentropy_logits(y, logits, cfg["label_smoothing"])
    if cls == "CategoricalCrossentropy":
        assert last_activation == "softmax" and not cfg["from_logits"]
        return categorical_crossentropy_logits(y, logits, cfg["label_smoothing"])
    if cls == "SparseCategoricalCrossentropy":
        assert last_activation == "softmax" and not cfg["from_logits"]
        return sparse_categorical_crossentropy_logits(y, logits)
    raise ValueError(cls)


def keras_loss(class_name, name, **config):
    # A loss as keras 2.13's get_config() describes it.
    return {"class_name": class_name, "config": {"reduction": "auto", "name": name, **config}}


# ---------------------------------------------------------------------------
# The loss and its gradients at given weights (numpy arrays), training mode.

def tensors(case, weights, grad):
    return {k: torch.tensor(v, requires_grad=grad and k in case["trainable"])
            for k, v in weights.items()}


def targets(case):
    y = case["y"]
    return torch.tensor(y) if y.dtype.kind == "i" else torch.tensor(y, dtype=torch.float64)


def loss_terms(case, entry, w):
    x = torch.tensor(case["x"])
    output, logits, batch_stats = forward(case["layers"], w, x, training=True)
    sw = entry["sample_weight"]
    sw = None if sw is None else torch.tensor(sw)
    last = case["layers"][-1]["config"].get("activation")
    data = reduce_loss(per_sample_loss(entry["loss"], targets(case), output, logits, last), sw)
    reg = regularization(case["layers"], w)
    return data + reg, data, reg, output, batch_stats


def loss_and_gradients(case, entry, weights):
    w = tensors(case, weights, grad=True)
    total, data, reg, output, batch_stats = loss_terms(case, entry, w)
    grads = torch.autograd.grad(total, [w[k] for k in case["trainable"]])
    return {"loss": total.item(), "data": data.item(), "regularization": reg.item(),
            "output": output.detach().numpy(),
            "gradients": {k: g.numpy() for k, g in zip(case["trainable"], grads)},
            "batch_stats": {k: (m.detach().numpy(), v.detach().numpy())
                            for k, (m, v) in batch_stats.items()}}


def loss_only(case, entry, weights):
    with torch.no_grad():
        return loss_terms(case, entry, tensors(case, weights, grad=False))[0].item()


def inference_output(case, weights):
    with torch.no_grad():
        w = tensors(case, weights, grad=False)
        return forward(case["layers"], w, torch.tensor(case["x"]), training=False)[0].numpy()


def moving_statistics_after(case, weights, batch_stats):
    # The weights with each BatchNormalization's moving statistics updated
    # from the batch statistics of a training-mode forward pass.
    new = dict(weights)
    for layer in case["layers"]:
        if layer["class_name"] != "BatchNormalization":
            continue
        name, momentum = layer["name"], layer["config"]["momentum"]
        mean, var = batch_stats[name]
        new[name + "/moving_mean"] = update_moving_statistic(weights[name + "/moving_mean"],
                                                             mean, momentum)
        new[name + "/moving_variance"] = update_moving_statistic(
            weights[name + "/moving_variance"], var, momentum)
    return new


# ---------------------------------------------------------------------------
# Optimizers: keras >= 2.11's update_step() rules, on numpy arrays. Each rule
# takes a weight w, its (clipped) gradient g, its slots s (a dict, updated in
# place), the configuration c and the step t = iterations + 1; returns the
# new weight.

def sgd_update(w, g, s, c, t):
    # keras SGD: momentum 0: w <- w - lr g.
    #   Else m <- momentum m - lr g (m from 0); w <- w + m, or with nesterov
    #   w <- w + momentum m - lr g (the new m).
    lr, momentum = c["learning_rate"], c["momentum"]
    if momentum == 0:
        return w + -g * lr
    s["m"] = -g * lr + s["m"] * momentum
    if c["nesterov"]:
        return w + (-g * lr + s["m"] * momentum)
    return w + s["m"]


def adam_update(w, g, s, c, t):
    # keras Adam: m <- m + (g - m)(1 - beta_1); v <- v + (g^2 - v)(1 - beta_2);
    #   amsgrad: vhat <- max(vhat, v), used in place of v;
    #   alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t);
    #   w <- w - m alpha / (sqrt(v) + epsilon)
    b1, b2 = c["beta_1"], c["beta_2"]
    alpha = c["learning_rate"] * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    s["m"] = s["m"] + (g - s["m"]) * (1 - b1)
    s["v"] = s["v"] + (g ** 2 - s["v"]) * (1 - b2)
    v = s["v"]
    if c["amsgrad"]:
        s["vhat"] = np.maximum(s["vhat"], s["v"])
        v = s["vhat"]
    return w - (s["m"] * alpha) / (np.sqrt(v) + c["epsilon"])


def rmsprop_update(w, g, s, c, t):
    # keras RMSprop: velocity <- rho velocity + (1 - rho) g^2;
    #   centered: average_gradient <- rho average_gradient + (1 - rho) g,
    #     denominator = velocity - average_gradient^2 + epsilon;
    #   else denominator = velocity + epsilon;
    #   increment = lr g / sqrt(denominator);
    #   momentum > 0: mom <- momentum mom + increment, w <- w - mom;
    #   else w <- w - increment
    rho = c["rho"]
    s["velocity"] = rho * s["velocity"] + (1 - rho) * g ** 2
    if c["centered"]:
        s["average_gradient"] = rho * s["average_gradient"] + (1 - rho) * g
        denominator = s["velocity"] - s["average_gradient"] ** 2 + c["epsilon"]
    else:
        denominator = s["velocity"] + c["epsilon"]
    increment = c["learning_rate"] * g / np.sqrt(denominator)
    if c["momentum"] > 0:
        s["momentum"] = c["momentum"] * s["momentum"] + increment
        return w - s["momentum"]
    return w - increment


def adagrad_update(w, g, s, c, t):
    # keras Adagrad: accumulator (from initial_accumulator_value) <- accumulator + g^2;
    #   w <- w - lr g / sqrt(accumulator + epsilon)
    s["accumulator"] = s["accumulator"] + g * g
    return w - c["learning_rate"] * g / np.sqrt(s["accumulator"] + c["epsilon"])


def initial_slots(class_name, c, shape):
    zeros = lambda: np.zeros(shape)  # noqa: E731
    if class_name == "SGD":
        return {"m": zeros()} if c["momentum"] > 0 else {}
    if class_name == "Adam":
        return {"m": zeros(), "v": zeros(), **({"vhat": zeros()} if c["amsgrad"] else {})}
    if class_name == "RMSprop":
        return {"velocity": zeros(), **({"momentum": zeros()} if c["momentum"] > 0 else {}),
                **({"average_gradient": zeros()} if c["centered"] else {})}
    if class_name == "Adagrad":
        return {"accumulator": np.full(shape, c["initial_accumulator_value"])}
    raise ValueError(class_name)


UPDATES = {"SGD": sgd_update, "Adam": adam_update, "RMSprop": rmsprop_update,
           "Adagrad": adagrad_update}


def clip_gradients(grads, c):
    # keras Optimizer._clip_gradients, on the gradients of the loss with the
    # regularization penalties, before the update:
    #   clipnorm c: each g * c / max(||g||, c) (tf.clip_by_norm);
    #   global_clipnorm c: all g * c / max(global norm, c), the global norm
    #     being sqrt(sum of every ||g||^2) (tf.clip_by_global_norm);
    #   clipvalue c: each element clamped to [-c, c].
    if c["clipnorm"]:
        cn = c["clipnorm"]
        return {k: g * cn / max(math.sqrt(np.sum(g * g)), cn) for k, g in grads.items()}
    if c["global_clipnorm"]:
        cn = c["global_clipnorm"]
        norm = math.sqrt(sum(np.sum(g * g) for g in grads.values()))
        return {k: g * cn / max(norm, cn) for k, g in grads.items()}
    if c["clipvalue"]:
        cv = c["clipvalue"]
        return {k: np.clip(g, -cv, cv) for k, g in grads.items()}
    return grads


def apply_weight_decay(w, c):
    # keras Optimizer._apply_weight_decay, before the update:
    #   w <- w - w * weight_decay * lr
    if c["weight_decay"]:
        return w - w * c["weight_decay"] * c["learning_rate"]
    return w


def keras_optimizer(class_name, **args):
    # The configuration keras 2.13's get_config() gives, in its order, with
    # keras's defaults for what is not given.
    defaults = {"SGD": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
                "Adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                         "epsilon": 1e-07, "amsgrad": False},
                "RMSprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0,
                            "epsilon": 1e-07, "centered": False},
                "Adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1,
                            "epsilon": 1e-07}}[class_name]
    config = {"name": class_name, "weight_decay": None, "clipnorm": None,
              "global_clipnorm": None, "clipvalue": None, "use_ema": False,
              "ema_momentum": 0.99,
              "ema_overwrite_frequency": 100 if class_name == "RMSprop" else None,
              "jit_compile": False, "is_legacy_optimizer": False, **defaults}
    unknown = set(args) - set(config)
    assert not unknown, unknown
    config.update(args)
    return {"class_name": class_name, "config": config}


OPTIMIZERS = [
    ("sgd", keras_optimizer("SGD", learning_rate=0.1)),
    ("sgd-momentum", keras_optimizer("SGD", learning_rate=0.1, momentum=0.9)),
    ("sgd-nesterov", keras_optimizer("SGD", learning_rate=0.1, momentum=0.9, nesterov=True)),
    ("adam", keras_optimizer("Adam", learning_rate=0.01)),
    ("adam-amsgrad", keras_optimizer("Adam", learning_rate=0.01, amsgrad=True)),
    ("adam-weight-decay", keras_optimizer("Adam", learning_rate=0.01, weight_decay=0.1)),
    ("rmsprop", keras_optimizer("RMSprop", learning_rate=0.01)),
    ("rmsprop-momentum-centered",
     keras_optimizer("RMSprop", learning_rate=0.01, momentum=0.5, centered=True)),
    ("adagrad", keras_optimizer("Adagrad", learning_rate=0.1)),
    ("adam-clipnorm", keras_optimizer("Adam", learning_rate=0.01, clipnorm=0.5)),
    ("sgd-global-clipnorm", keras_optimizer("SGD", learning_rate=0.1, global_clipnorm=0.3)),
    ("sgd-clipvalue", keras_optimizer("SGD", learning_rate=0.1, clipvalue=0.05)),
]


def train(case, entry, optimizer, steps=2):
    # keras's train_step, `steps` times on the same batch: the training-mode
    # forward pass (which updates the moving statistics), the gradients,
    # clipping, weight decay, then the update of every trainable weight.
    cls, c = optimizer["class_name"], optimizer["config"]
    weights = dict(case["weights"])
    slots = {k: initial_slots(cls, c, weights[k].shape) for k in case["trainable"]}
    out = []
    for t in range(1, steps + 1):
        step = loss_and_gradients(case, entry, weights)
        weights = moving_statistics_after(case, weights, step["batch_stats"])
        grads = clip_gradients(step["gradients"], c)
        for k in case["trainable"]:
            weights[k] = UPDATES[cls](apply_weight_decay(weights[k], c), grads[k], slots[k], c, t)
        out.append({"loss_value": step["loss"], "weights": dict(weights)})
    return out


# ---------------------------------------------------------------------------
# The cases: data, layers and initial weights.

def dense_layer(name, units, activation, kernel_regularizer=None, bias_regularizer=None):
    return {"name": name, "class_name": "Dense",
            "config": {"name": name, "units": units, "activation": activation,
                       "use_bias": True, "kernel_regularizer": kernel_regularizer,
                       "bias_regularizer": bias_regularizer}}


def dense_weights(rng, fan_in, units):
    # kernel random normal / sqrt(fan_in), bias small random
    return rng.normal(size=(fan_in, units)) / math.sqrt(fan_in), 0.1 * rng.normal(size=units)


def make_case(name, description, x, y, layers, init, entries):
    weights, trainable = {}, []
    for layer in layers:
        names = WEIGHT_NAMES[layer["class_name"]]
        layer["weights"] = names
        layer["trainable_weights"] = [k for k in names if k not in NON_TRAINABLE]
        for k in names:
            weights[layer["name"] + "/" + k] = np.asarray(init[layer["name"]][k], dtype=float)
        trainable += [layer["name"] + "/" + k for k in layer["trainable_weights"]]
    return {"case": name, "description": description, "x": x, "y": y, "layers": layers,
            "weights": weights, "trainable": trainable, "entries": entries}


def case_mlp_scce():
    rng = np.random.default_rng(2017)
    x = rng.normal(size=(16, 5))
    y = rng.integers(0, 3, size=16)
    layers = [dense_layer("dense", 8, "selu", kernel_regularizer=regularizer("L2", l2=0.01)),
              {"name": "batch_normalization", "class_name": "BatchNormalization",
               "config": {"name": "batch_normalization", "axis": -1, "momentum": 0.99,
                          "epsilon": 0.001, "center": True, "scale": True}},
              {"name": "p_re_lu", "class_name": "PReLU",
               "config": {"name": "p_re_lu", "shared_axes": None}},
              dense_layer("dense_1", 6, "linear"),
              {"name": "layer_normalization", "class_name": "LayerNormalization",
               "config": {"name": "layer_normalization", "axis": -1, "epsilon": 0.001,
                          "center": True, "scale": True}},
              dense_layer("dense_2", 3, "softmax")]
    init = {}
    k, b = dense_weights(rng, 5, 8)
    init["dense"] = {"kernel": k, "bias": b}
    init["batch_normalization"] = {"gamma": 1 + 0.1 * rng.normal(size=8),
                                   "beta": 0.1 * rng.normal(size=8),
                                   "moving_mean": 0.1 * rng.normal(size=8),
                                   "moving_variance": rng.uniform(0.5, 1.5, size=8)}
    init["p_re_lu"] = {"alpha": rng.uniform(0, 0.3, size=8)}
    k, b = dense_weights(rng, 8, 6)
    init["dense_1"] = {"kernel": k, "bias": b}
    init["layer_normalization"] = {"gamma": 1 + 0.1 * rng.normal(size=6),
                                   "beta": 0.1 * rng.normal(size=6)}
    k, b = dense_weights(rng, 6, 3)
    init["dense_2"] = {"kernel": k, "bias": b}
    entries = [{"name": "sparse_categorical_crossentropy",
                "loss": keras_loss("SparseCategoricalCrossentropy",
                                   "sparse_categorical_crossentropy", from_logits=False,
                                   ignore_class=None),
                "sample_weight": None}]
    return make_case("mlp-scce", "Dense(8, selu, L2 0.01 kernel) -> BatchNormalization -> "
                     "PReLU -> Dense(6) -> LayerNormalization -> Dense(3, softmax); "
                     "sparse categorical cross-entropy, classes 0 to 2.",
                     x, y, layers, init, entries)


def case_regression():
    rng = np.random.default_rng(2018)
    x = rng.normal(size=(12, 4))
    y = rng.normal(size=(12, 2))
    layers = [dense_layer("dense", 6, "tanh"), dense_layer("dense_1", 2, "linear")]
    init = {}
    k, b = dense_weights(rng, 4, 6)
    init["dense"] = {"kernel": k, "bias": b}
    k, b = dense_weights(rng, 6, 2)
    init["dense_1"] = {"kernel": k, "bias": b}
    sample_weight = rng.uniform(0, 2, size=12)
    entries = [{"name": "mean_squared_error",
                "loss": keras_loss("MeanSquaredError", "mean_squared_error"),
                "sample_weight": None},
               {"name": "mean_absolute_error",
                "loss": keras_loss("MeanAbsoluteError", "mean_absolute_error"),
                "sample_weight": None},
               {"name": "huber",
                "loss": keras_loss("Huber", "huber_loss", delta=0.7),
                "sample_weight": sample_weight}]
    return make_case("regression", "Dense(6, tanh) -> Dense(2); mean squared error, mean "
                     "absolute error, and Huber (delta 0.7) with sample weights.",
                     x, y, layers, init, entries)


def case_binary():
    rng = np.random.default_rng(2019)
    x = rng.normal(size=(10, 3))
    y = rng.integers(0, 2, size=(10, 1)).astype(float)
    layers = [dense_layer("dense", 4, "elu", bias_regularizer=regularizer("L1", l1=0.02)),
              dense_layer("dense_1", 1, "sigmoid")]
    init = {}
    k, b = dense_weights(rng, 3, 4)
    init["dense"] = {"kernel": k, "bias": b}
    k, b = dense_weights(rng, 4, 1)
    init["dense_1"] = {"kernel": k, "bias": b}
    entries = [{"name": "binary_crossentropy",
                "loss": keras_loss("BinaryCrossentropy", "binary_crossentropy",
                                   from_logits=False, label_smoothing=0.1, axis=-1),
                "sample_weight": None}]
    return make_case("binary", "Dense(4, elu, L1 0.02 bias) -> Dense(1, sigmoid); binary "
                     "cross-entropy with label smoothing 0.1.", x, y, layers, init, entries)


def case_categorical():
    rng = np.random.default_rng(2020)
    x = rng.normal(size=(9, 4))
    y = np.eye(4)[rng.integers(0, 4, size=9)]
    layers = [dense_layer("dense", 5, "relu"), dense_layer("dense_1", 4, "softmax")]
    init = {}
    k, b = dense_weights(rng, 4, 5)
    init["dense"] = {"kernel": k, "bias": b}
    k, b = dense_weights(rng, 5, 4)
    init["dense_1"] = {"kernel": k, "bias": b}
    sample_weight = rng.uniform(0, 2, size=9)
    entries = [{"name": "categorical_crossentropy",
                "loss": keras_loss("CategoricalCrossentropy", "categorical_crossentropy",
                                   from_logits=False, label_smoothing=0.2, axis=-1),
                "sample_weight": sample_weight}]
    return make_case("categorical", "Dense(5, relu) -> Dense(4, softmax); categorical "
                     "cross-entropy with label smoothing 0.2 and sample weights.",
                     x, y, layers, init, entries)


CASES = [case_mlp_scce, case_regression, case_binary, case_categorical]


# ---------------------------------------------------------------------------
# The fixtures.

def moving_only(case, weights):
    return {k: v for k, v in weights.items() if k not in case["trainable"]}


def reference(case):
    entries = []
    for entry in case["entries"]:
        step = loss_and_gradients(case, entry, case["weights"])
        after = moving_statistics_after(case, case["weights"], step["batch_stats"])
        optimizers = []
        for label, optimizer in OPTIMIZERS:
            steps = train(case, entry, optimizer)
            optimizers.append({"label": label, **optimizer,
                               "step_1": steps[0], "step_2": steps[1]})
        entries.append({"name": entry["name"], "loss": entry["loss"],
                        "sample_weight": entry["sample_weight"],
                        "output_training": step["output"],
                        "output_inference": inference_output(case, case["weights"]),
                        "loss_value": step["loss"],
                        "loss_terms": {"data": step["data"],
                                       "regularization": step["regularization"]},
                        "gradients": step["gradients"],
                        "moving_statistics": moving_only(case, after),
                        "optimizers": optimizers})
    return {"case": case["case"], "description": case["description"],
            "generator": GENERATOR, "conventions": CONVENTIONS,
            "input_shape": [case["x"].shape[1]], "x": case["x"], "y": case["y"],
            "layers": case["layers"], "weights": case["weights"],
            "trainable": case["trainable"], "entries": entries}


def plain(value):
    # numpy arrays and scalars as (nested) lists of Python numbers
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def scalar_json(v):
    if isinstance(v, float):
        assert math.isfinite(v), v
        text = json.dumps(v)  # repr(): the shortest text that reads back as v
        assert float(text) == v and math.copysign(1, float(text)) == math.copysign(1, v)
        return text
    assert v is None or isinstance(v, (bool, int, str)), type(v)
    return json.dumps(v)


def is_scalar(v):
    return not isinstance(v, (dict, list))


def to_json(value, indent=0):
    # JSON with objects indented, vectors on one line and matrices one row a line.
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [pad + "  " + json.dumps(k) + ": " + to_json(v, indent + 1)
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if all(is_scalar(v) for v in value):
            return "[" + ", ".join(scalar_json(v) for v in value) + "]"
        items = [pad + "  " + to_json(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return scalar_json(value)


def fixture_text(case):
    data = plain(reference(case))
    text = to_json(data) + "\n"
    assert json.loads(text) == data  # every number reads back as the same double
    return text


# ---------------------------------------------------------------------------
# --check

def finite_difference_check(case, entry, h=1e-4):
    # Central differences of the loss in every trainable weight element, with
    # Richardson extrapolation from steps h and h/2 (error O(h^4)):
    #   D(h) = (L(w + h) - L(w - h)) / 2h,  (4 D(h/2) - D(h)) / 3.
    # Returns, per weight, the largest |fd - autograd| / max(|autograd|, 1e-3).
    grads = loss_and_gradients(case, entry, case["weights"])["gradients"]
    worst = {}
    for key in case["trainable"]:
        w0 = case["weights"][key]
        errors = []
        for index in np.ndindex(w0.shape):
            def central(step):
                values = []
                for sign in (1, -1):
                    weights = dict(case["weights"])
                    w = w0.copy()
                    w[index] += sign * step
                    weights[key] = w
                    values.append(loss_only(case, entry, weights))
                return (values[0] - values[1]) / (2 * step)
            fd = (4 * central(h / 2) - central(h)) / 3
            ad = grads[key][index]
            errors.append(abs(fd - ad) / max(abs(ad), 1e-3))
        worst[key] = max(errors)
    return worst


def torch_optimizer(optimizer, params):
    # torch.optim's equivalent of a keras configuration whose epsilon is 0
    # (PyTorch adds epsilon elsewhere: outside the square root, or scaled).
    c = optimizer["config"]
    if optimizer["class_name"] == "SGD":
        return torch.optim.SGD(params, lr=c["learning_rate"], momentum=c["momentum"],
                               nesterov=c["nesterov"])
    if optimizer["class_name"] == "Adam":
        kind = torch.optim.AdamW if c["weight_decay"] else torch.optim.Adam
        return kind(params, lr=c["learning_rate"], betas=(c["beta_1"], c["beta_2"]), eps=0,
                    amsgrad=c["amsgrad"], weight_decay=c["weight_decay"] or 0)
    if optimizer["class_name"] == "RMSprop":
        return torch.optim.RMSprop(params, lr=c["learning_rate"], alpha=c["rho"], eps=0,
                                   momentum=c["momentum"], centered=c["centered"])
    if optimizer["class_name"] == "Adagrad":
        return torch.optim.Adagrad(params, lr=c["learning_rate"], eps=0,
                                   initial_accumulator_value=c["initial_accumulator_value"])
    raise ValueError(optimizer["class_name"])


def torch_optimizer_check(case, entry, optimizer, steps=2):
    # Two steps of our rules and of torch.optim (epsilon 0 in both), from the
    # same gradients; the largest difference of the trainable weights, relative
    # to their change.
    # torch's clip_grad_norm_ divides by norm + 1e-6: clipnorm differs there.
    optimizer = {"class_name": optimizer["class_name"], "config": dict(optimizer["config"])}
    if "epsilon" in optimizer["config"]:
        optimizer["config"]["epsilon"] = 0.0
    ours = train(case, entry, optimizer, steps)[-1]["weights"]
    c = optimizer["config"]
    params = {k: torch.nn.Parameter(torch.tensor(case["weights"][k])) for k in case["trainable"]}
    opt = torch_optimizer(optimizer, list(params.values()))
    weights = dict(case["weights"])
    for _ in range(steps):
        step = loss_and_gradients(case, entry, weights)
        weights = moving_statistics_after(case, weights, step["batch_stats"])
        for k, p in params.items():
            p.grad = torch.tensor(step["gradients"][k])
        if c["clipnorm"]:
            for p in params.values():
                torch.nn.utils.clip_grad_norm_([p], c["clipnorm"])
        if c["global_clipnorm"]:
            torch.nn.utils.clip_grad_norm_(list(params.values()), c["global_clipnorm"])
        if c["clipvalue"]:
            torch.nn.utils.clip_grad_value_(list(params.values()), c["clipvalue"])
        opt.step()
        for k, p in params.items():
            weights[k] = p.detach().numpy().copy()
    # relative to the change of the weight over the two steps
    return max(float(np.max(np.abs(ours[k] - weights[k]))
                     / np.max(np.abs(weights[k] - case["weights"][k])))
               for k in case["trainable"])


def functional_forward(case, w, training):
    # The network and its batch statistics by torch.nn.functional's own layers,
    # an implementation independent of forward(). F.batch_norm's momentum is
    # keras's 1 - momentum, and it updates the running variance with the
    # unbiased variance, unlike keras.
    F = torch.nn.functional
    acts = {"linear": lambda z: z, "relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "softmax": lambda z: F.softmax(z, dim=-1), "elu": F.elu, "selu": F.selu}
    h, logits, moving = torch.tensor(case["x"]), None, {}
    for layer in case["layers"]:
        name, cls, cfg = layer["name"], layer["class_name"], layer["config"]
        logits = None
        if cls == "Dense":
            logits = F.linear(h, w[name + "/kernel"].T, w[name + "/bias"])
            h = acts[cfg["activation"]](logits)
        elif cls == "BatchNormalization":
            mean = w[name + "/moving_mean"].clone()
            var = w[name + "/moving_variance"].clone()
            h = F.batch_norm(h, mean, var, w[name + "/gamma"], w[name + "/beta"],
                             training=training, momentum=1 - cfg["momentum"], eps=cfg["epsilon"])
            moving[name] = (mean, var)
        elif cls == "PReLU":
            h = F.prelu(h, w[name + "/alpha"])
        elif cls == "LayerNormalization":
            h = F.layer_norm(h, h.shape[-1:], w[name + "/gamma"], w[name + "/beta"],
                             eps=cfg["epsilon"])
    return h, logits, moving


def functional_check(case, entry):
    # The largest relative difference between the fixture's outputs, loss and
    # moving statistics and those of torch.nn.functional.
    F = torch.nn.functional
    ref = loss_and_gradients(case, entry, case["weights"])
    after = moving_statistics_after(case, case["weights"], ref["batch_stats"])
    with torch.no_grad():
        w = tensors(case, case["weights"], grad=False)
        out, z, moving = functional_forward(case, w, training=True)
        out_inf = functional_forward(case, w, training=False)[0]
        y, cls, cfg = targets(case), entry["loss"]["class_name"], entry["loss"]["config"]
        if cls == "MeanSquaredError":
            per = F.mse_loss(out, y, reduction="none").mean(-1)
        elif cls == "MeanAbsoluteError":
            per = F.l1_loss(out, y, reduction="none").mean(-1)
        elif cls == "Huber":
            per = F.huber_loss(out, y, reduction="none", delta=cfg["delta"]).mean(-1)
        elif cls == "BinaryCrossentropy":
            ls = cfg["label_smoothing"]
            per = F.binary_cross_entropy_with_logits(z, y * (1 - ls) + 0.5 * ls,
                                                     reduction="none").mean(-1)
        elif cls == "CategoricalCrossentropy":
            per = F.cross_entropy(z, y, reduction="none", label_smoothing=cfg["label_smoothing"])
        else:
            per = F.cross_entropy(z, y, reduction="none")
        sw = entry["sample_weight"]
        data = (per * (1 if sw is None else torch.tensor(sw))).mean().item()
        reg = 0.0
        for layer in case["layers"]:
            for key in ("kernel", "bias"):
                r = layer["config"].get(key + "_regularizer")
                if r is not None:
                    v = w[layer["name"] + "/" + key]
                    reg += (r["config"].get("l1", 0) * v.abs().sum()
                            + r["config"].get("l2", 0) * (v * v).sum()).item()
    rel = lambda a, b: float(np.max(np.abs(a - b)) / np.max(np.abs(b)))  # noqa: E731
    diffs = {"output_training": rel(ref["output"], out.numpy()),
             "output_inference": rel(inference_output(case, case["weights"]), out_inf.numpy()),
             "loss_value": rel(np.array(ref["loss"]), np.array(data + reg))}
    n = case["x"].shape[0]
    for name, (mean, var) in moving.items():
        # torch's running variance, with the unbiased variance taken out and
        # the biased one put in: (1 - momentum) * (biased - unbiased)
        momentum = 1 - next(layer["config"]["momentum"] for layer in case["layers"]
                            if layer["name"] == name)
        biased = ref["batch_stats"][name][1]
        var = var.numpy() - momentum * biased / (n - 1)
        diffs[name + "/moving_mean"] = rel(after[name + "/moving_mean"], mean.numpy())
        diffs[name + "/moving_variance"] = rel(after[name + "/moving_variance"], var)
    return diffs


def check(cases):
    ok = True
    print("Finite differences (Richardson, h = 1e-4) against autograd, every trainable element;")
    print("  largest |fd - autograd| / max(|autograd|, 1e-3) per weight:")
    for case in cases:
        for entry in case["entries"]:
            worst = finite_difference_check(case, entry)
            bad = max(worst.values()) > 1e-7
            ok = ok and not bad
            print(f"  {case['case']:12s} {entry['name']:32s} max {max(worst.values()):.2e}"
                  + ("  FAIL" if bad else ""))
            for key, err in worst.items():
                print(f"      {key:36s} {err:.2e}")
    print("Outputs, loss and moving statistics against torch.nn.functional's layers and")
    print("  losses, largest difference over the largest value:")
    for case in cases:
        for entry in case["entries"]:
            diffs = functional_check(case, entry)
            bad = max(diffs.values()) > 1e-13
            ok = ok and not bad
            print(f"  {case['case']:12s} {entry['name']:32s} "
                  + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()) + ("  FAIL" if bad else ""))
    print("Our optimizer rules against torch.optim (epsilon 0), two steps: largest difference")
    print("  of a weight over its largest change (clipnorm: torch divides by norm + 1e-6):")
    for case in cases:
        for entry in case["entries"]:
            for label, optimizer in OPTIMIZERS:
                diff = torch_optimizer_check(case, entry, optimizer)
                c = optimizer["config"]
                tol = 1e-5 if (c["clipnorm"] or c["global_clipnorm"]) else 1e-11
                bad = diff > tol
                ok = ok and not bad
                print(f"  {case['case']:12s} {entry['name']:32s} {label:26s} {diff:.1e}"
                      + ("  FAIL" if bad else ""))
    print("Branches and clipping exercised:")
    for case in cases:
        x = torch.tensor(case["x"])
        w = tensors(case, case["weights"], grad=False)
        h = x
        with torch.no_grad():
            for layer in case["layers"]:
                if layer["class_name"] == "Dense":
                    z = dense(h, w[layer["name"] + "/kernel"], w[layer["name"] + "/bias"])
                    if layer["config"]["activation"] in ("relu", "elu", "selu"):
                        print(f"  {case['case']}: {layer['name']} pre-activations: "
                              f"{int((z > 0).sum())} positive, {int((z < 0).sum())} negative, "
                              f"{int((z == 0).sum())} zero, min |z| {float(z.abs().min()):.1e}")
                h = forward([layer], w, h, training=True)[0]
            for entry in case["entries"]:
                if entry["loss"]["class_name"] == "Huber":
                    e = (h - targets(case)).abs()
                    d = entry["loss"]["config"]["delta"]
                    print(f"  {case['case']}: huber |error| <= delta: {int((e <= d).sum())}, "
                          f"> delta: {int((e > d).sum())}, closest to delta "
                          f"{float((e - d).abs().min()):.1e}")
        for entry in case["entries"]:
            g = loss_and_gradients(case, entry, case["weights"])["gradients"]
            norms = {k: math.sqrt(np.sum(v * v)) for k, v in g.items()}
            total = math.sqrt(sum(n * n for n in norms.values()))
            values = np.concatenate([v.ravel() for v in g.values()])
            print(f"  {case['case']} {entry['name']}: gradient norms > 0.5 (clipnorm): "
                  f"{sum(n > 0.5 for n in norms.values())} of {len(norms)}; global norm "
                  f"{total:.3f} (global_clipnorm 0.3); |elements| > 0.05 (clipvalue): "
                  f"{int(np.sum(np.abs(values) > 0.05))} of {values.size}")
    print("Files on disk against this script's output:")
    for case in cases:
        path = FIXTURES / f"step-{case['case']}.json"
        text = fixture_text(case)
        same = path.exists() and path.read_text() == text
        ok = ok and same
        print(f"  {path.name}: " + ("identical" if same else "DIFFERENT OR MISSING"))
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return ok


def main():
    parser = argparse.ArgumentParser(
        description="Writes tests/testthat/fixtures/step-<case>.json (see the header comment).")
    parser.add_argument("--check", action="store_true",
                        help="check gradients, layers, losses, optimizers and files; write nothing")
    args = parser.parse_args()
    cases = [make() for make in CASES]
    if args.check:
        sys.exit(0 if check(cases) else 1)
    FIXTURES.mkdir(exist_ok=True)
    for case in cases:
        text = fixture_text(case)
        path = FIXTURES / f"step-{case['case']}.json"
        path.write_text(text)
        print(f"{path}: {len(text)} bytes, sha256 {hashlib.sha256(text.encode()).hexdigest()}")


if __name__ == "__main__":
    main()
