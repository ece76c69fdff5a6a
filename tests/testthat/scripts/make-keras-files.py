#!/usr/bin/python3
# keras's model and weight files, for selu's tests: tests/testthat/fixtures/keras2-*.h5,
# keras3-*.keras and keras3-*.weights.h5, with keras-files.json (inputs and
# the predictions the models make). Written with h5py and numpy in the layouts
# keras writes (../../../../shared/KERAS.md): keras 2.13's HDF5 (saving/legacy/
# hdf5_format.py) and keras 3.3's zip and weights file (saving/saving_lib.py),
# float32 weights, byte-string name lists and str attributes as h5py stores
# them. The predictions are computed here with numpy, from the layers'
# formulas, not by selu.
#
# Run from the package root with Python 3, numpy and h5py (Debian:
# python3-h5py):
#
#     python3 tests/testthat/scripts/make-keras-files.py
import io
import json
import zipfile

import h5py
import numpy as np

FIXTURES = "tests/testthat/fixtures/"
rng = np.random.default_rng(20261207)


def f32(*shape):
    return rng.normal(0, 0.5, size=shape).astype(np.float32)


def init(name, config=None, module=True):
    out = {"class_name": name, "config": config if config is not None else {}}
    if module:
        out = {"module": "keras.initializers", **out, "registered_name": None}
    return out


def dense_config(name, units, activation, module=True):
    return {"name": name, "trainable": True, "dtype": "float32", "units": units,
            "activation": activation, "use_bias": True,
            "kernel_initializer": init("VarianceScaling", {"scale": 1.0, "mode": "fan_in",
                                                           "distribution": "truncated_normal",
                                                           "seed": None}, module),
            "bias_initializer": init("Zeros", {}, module), "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}


def selu(x):
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- keras 2: a Sequential model, Dense(selu) -> BatchNormalization -> Dense(softmax)
w = {"dense": [f32(4, 5), f32(5)],
     "batch_normalization": [1 + f32(5) / 4, f32(5), f32(5), (1 + np.abs(f32(5))).astype(np.float32)],
     "dense_1": [f32(5, 3), f32(3)]}
x2 = rng.normal(size=(6, 4))


def keras2_predict(x):
    h = selu(x @ w["dense"][0].astype(np.float64) + w["dense"][1])
    gamma, beta, mean, var = (a.astype(np.float64) for a in w["batch_normalization"])
    h = gamma * (h - mean) / np.sqrt(var + 0.001) + beta
    return softmax(h @ w["dense_1"][0].astype(np.float64) + w["dense_1"][1])


keras2_config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                            "sparse": False, "ragged": False,
                                            "name": "dense_input"}},
    {"class_name": "Dense", "config": dense_config("dense", 5, "selu")},
    {"class_name": "BatchNormalization", "config": {
        "name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [1],
        "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
        "beta_initializer": init("Zeros"), "gamma_initializer": init("Ones"),
        "moving_mean_initializer": init("Zeros"), "moving_variance_initializer": init("Ones"),
        "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
        "gamma_constraint": None}},
    {"class_name": "Dense", "config": dense_config("dense_1", 3, "softmax")}]},
    "keras_version": "2.13.1", "backend": "tensorflow"}
keras2_training = {"loss": "categorical_crossentropy", "metrics": [["accuracy"]],
                   "weighted_metrics": None, "loss_weights": None,
                   "optimizer_config": {"class_name": "Adam", "config": {
                       "name": "Adam", "weight_decay": None, "clipnorm": None,
                       "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                       "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                       "jit_compile": False, "is_legacy_optimizer": False,
                       "learning_rate": 0.0010000000474974513, "beta_1": 0.9,
                       "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}
weight_names = {"dense": ["kernel:0", "bias:0"],
                "batch_normalization": ["gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"],
                "dense_1": ["kernel:0", "bias:0"]}


def write_keras2_weights(group):
    group.attrs["layer_names"] = np.array([n.encode() for n in w], dtype="S")
    group.attrs["backend"] = "tensorflow"
    group.attrs["keras_version"] = "2.13.1"
    for layer, arrays in w.items():
        g = group.create_group(layer)
        names = [f"{layer}/{n}" for n in weight_names[layer]]
        g.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
        for name, array in zip(names, arrays):
            g.create_dataset(name, data=array)


with h5py.File(FIXTURES + "keras2-model.h5", "w") as f:
    f.attrs["backend"] = "tensorflow"
    f.attrs["keras_version"] = "2.13.1"
    f.attrs["model_config"] = json.dumps(keras2_config)
    f.attrs["training_config"] = json.dumps(keras2_training)
    write_keras2_weights(f.create_group("model_weights"))
    opt = f.create_group("optimizer_weights")
    opt.attrs["weight_names"] = np.array([b"Adam/iter:0"], dtype="S")
    opt.create_dataset("Adam/iter:0", data=np.int64(0))

with h5py.File(FIXTURES + "keras2-weights.h5", "w") as f:
    write_keras2_weights(f)

# --- keras 3: a functional model of two inputs, Dense(selu) on each, their
# sum and their concatenation, Dense(linear) out
v = {"dense": [f32(3, 4), f32(4)], "dense_1": [f32(2, 4), f32(4)], "dense_2": [f32(8, 2), f32(2)]}
x3 = [rng.normal(size=(5, 3)), rng.normal(size=(5, 2))]


def keras3_predict(left, right):
    a = selu(left @ v["dense"][0].astype(np.float64) + v["dense"][1])
    b = selu(right @ v["dense_1"][0].astype(np.float64) + v["dense_1"][1])
    h = np.concatenate([a + b, a], axis=-1)
    return h @ v["dense_2"][0].astype(np.float64) + v["dense_2"][1]


def tensor(name, shape):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [name, 0, 0]}}


def layer3(class_name, config, name, args, input_shape=None):
    out = {"module": "keras.layers", "class_name": class_name, "config": config,
           "registered_name": None}
    if input_shape is not None:
        out["build_config"] = {"input_shape": input_shape}
    out["name"] = name
    out["inbound_nodes"] = [{"args": args, "kwargs": {}}] if args is not None else []
    return out


def dense3(name, units, activation):
    config = dense_config(name, units, activation)
    del config["activity_regularizer"]
    return config


keras3_layers = [
    layer3("InputLayer", {"batch_shape": [None, 3], "dtype": "float32", "sparse": False,
                          "name": "left"}, "left", None),
    layer3("InputLayer", {"batch_shape": [None, 2], "dtype": "float32", "sparse": False,
                          "name": "right"}, "right", None),
    layer3("Dense", dense3("dense", 4, "selu"), "dense", [tensor("left", [None, 3])], [None, 3]),
    layer3("Dense", dense3("dense_1", 4, "selu"), "dense_1", [tensor("right", [None, 2])],
           [None, 2]),
    layer3("Add", {"name": "add", "trainable": True, "dtype": "float32"}, "add",
           [[tensor("dense", [None, 4]), tensor("dense_1", [None, 4])]], [[None, 4], [None, 4]]),
    layer3("Concatenate", {"name": "concatenate", "trainable": True, "dtype": "float32",
                           "axis": -1}, "concatenate",
           [[tensor("add", [None, 4]), tensor("dense", [None, 4])]], [[None, 4], [None, 4]]),
    layer3("Dense", dense3("dense_2", 2, "linear"), "dense_2",
           [tensor("concatenate", [None, 8])], [None, 8]),
]
keras3_config = {"module": "keras.src.models.functional", "class_name": "Functional",
                 "config": {"name": "functional", "trainable": True, "layers": keras3_layers,
                            "input_layers": [["left", 0, 0], ["right", 0, 0]],
                            "output_layers": [["dense_2", 0, 0]]},
                 "registered_name": "Functional", "build_config": {"input_shape": None},
                 "compile_config": {
                     "optimizer": {"module": "keras.optimizers", "class_name": "SGD", "config": {
                         "name": "SGD", "learning_rate": 0.009999999776482582,
                         "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                         "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                         "ema_overwrite_frequency": None, "momentum": 0.0, "nesterov": False},
                         "registered_name": None},
                     "loss": "mean_squared_error", "loss_weights": None, "metrics": None,
                     "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
                     "jit_compile": False}}


def keras3_weights_bytes():
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        layers = f.create_group("layers")
        for name in ["input_layer", "input_layer_1"]:
            layers.create_group(name).create_group("vars")
        for name, arrays in v.items():
            vars_ = layers.create_group(name).create_group("vars")
            for i, array in enumerate(arrays):
                vars_.create_dataset(str(i), data=array)
        for name in ["add", "concatenate"]:
            layers.create_group(name).create_group("vars")
        f.create_group("optimizer").create_group("vars").create_dataset("0", data=np.int64(0))
        f.create_group("vars")
    return buffer.getvalue()


weights3 = keras3_weights_bytes()
with open(FIXTURES + "keras3-model.weights.h5", "wb") as out:
    out.write(weights3)
with zipfile.ZipFile(FIXTURES + "keras3-model.keras", "w") as z:
    z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3",
                                            "date_saved": "2026-12-07@06:00:00"}))
    z.writestr("config.json", json.dumps(keras3_config))
    z.writestr("model.weights.h5", weights3)

with open(FIXTURES + "keras-files.json", "w") as out:
    json.dump({"keras2": {"x": x2.tolist(), "y": keras2_predict(x2).tolist()},
               "keras3": {"left": x3[0].tolist(), "right": x3[1].tolist(),
                          "y": keras3_predict(*x3).tolist()}}, out)
