#!/usr/bin/python3
# Multilayer perceptrons exported to ONNX by PyTorch, for selu's tests of
# load_model_onnx(): tests/testthat/fixtures/torch-*.onnx, with
# torch-onnx.json holding each model's input and PyTorch's output for it.
#
# Run from the package root with a Python 3 that has torch (Debian:
# python3-torch; written with torch 1.13):
#
#     python3 tests/testthat/scripts/make-torch-onnx.py
import json

import torch
import torch.nn as nn

FIXTURES = "tests/testthat/fixtures/"
torch.manual_seed(20261207)

models = {
    # a self-normalizing network: SELU, LeCun-style weights, alpha dropout
    "snn": (nn.Sequential(nn.Linear(4, 8), nn.SELU(), nn.AlphaDropout(0.1), nn.Linear(8, 8),
                          nn.SELU(), nn.Linear(8, 3), nn.Softmax(dim=1)), 13),
    # ReLU, batch normalization (its moving statistics), dropout, LeakyReLU
    "relu_bn": (nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.BatchNorm1d(6), nn.Dropout(0.2),
                              nn.Linear(6, 4), nn.LeakyReLU(0.1), nn.Linear(4, 2)), 13),
    # tanh, sigmoid, ELU, PReLU of one slope per unit, a bias-free layer
    "family": (nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 5, bias=False), nn.ELU(0.5),
                             nn.Linear(5, 4), nn.PReLU(4), nn.Linear(4, 2), nn.Sigmoid()), 15),
    # layer normalization (opset 17 has the operator)
    "layer_norm": (nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.ReLU(),
                                 nn.Linear(6, 2)), 17),
}

references = {}
for name, (model, opset) in models.items():
    first = model[0]
    width = first.in_features
    # give batch normalization moving statistics other than 0 and 1
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model(torch.randn(16, width) * 2 + 0.5)
    model.eval()
    x = torch.randn(6, width)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, FIXTURES + f"torch-{name}.onnx", input_names=["input"],
                      output_names=["output"], opset_version=opset,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    references[name] = {"x": x.double().tolist(), "y": y.double().tolist(), "opset": opset}

with open(FIXTURES + "torch-onnx.json", "w") as out:
    json.dump(references, out)
