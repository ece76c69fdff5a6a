"""The PyTorch side of bench/float32.R: epochs of the same 784-256-256-10 SELU
network (Adam, epsilon 1e-7, cross-entropy on logits) in float64 and
float32, the two alternating, and no_grad forward passes.

Usage: python3 float32_torch.py ROWS REPS THREADS BATCH [BATCH ...]
Prints JSON: the median seconds per epoch by dtype and batch, and of a
forward pass on the ROWS rows by dtype. torch's BLAS is the system's
libblas.so.3, so LD_LIBRARY_PATH picks OpenBLAS as R_LD_LIBRARY_PATH does
for R.
"""
import json
import statistics
import sys
import time

import torch
from torch import nn

from torch_blas import set_blas_threads


def network(dtype):
    torch.manual_seed(2017)
    layers = [nn.Linear(784, 256), nn.SELU(), nn.Linear(256, 256), nn.SELU(), nn.Linear(256, 10)]
    return nn.Sequential(*layers).to(dtype)


def epoch(model, x, y, batch):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    order = torch.randperm(x.shape[0])
    for first in range(0, x.shape[0], batch):
        rows = order[first:first + batch]
        optimizer.zero_grad()
        loss_fn(model(x[rows]), y[rows]).backward()
        optimizer.step()
    return time.perf_counter() - start


def forward(model, x):
    start = time.perf_counter()
    with torch.no_grad():
        model(x)
    return time.perf_counter() - start


def main():
    rows, reps, threads = (int(a) for a in sys.argv[1:4])
    batches = [int(a) for a in sys.argv[4:]]
    torch.set_num_threads(threads)
    set_blas_threads(threads)
    torch.manual_seed(1)
    x64 = torch.randn(rows, 784, dtype=torch.float64)
    y = torch.randint(0, 10, (rows,))
    data = {"float64": x64, "float32": x64.float()}
    models = {name: network(x.dtype) for name, x in data.items()}
    out = {"epoch": {}, "predict": {}}
    for batch in batches:
        times = {name: [] for name in data}
        for name in data:  # warm-up
            epoch(models[name], data[name][:1024], y[:1024], batch)
        for _ in range(reps):
            for name in data:
                times[name].append(epoch(models[name], data[name], y, batch))
        out["epoch"][str(batch)] = {name: statistics.median(t) for name, t in times.items()}
    for name in data:
        forward(models[name], data[name][:1024])
        out["predict"][name] = statistics.median(forward(models[name], data[name])
                                                 for _ in range(reps))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
