"""The PyTorch side of bench/train.R: training epochs and forward passes, in
float64 and float32.

Usage:
  python3 train_torch.py serve PORT_FILE
      Listens on a local port (written to PORT_FILE) for train.R's commands,
      one per line, so that R and PyTorch repetitions alternate in one run:
        threads N             torch.set_num_threads(N), and OpenBLAS's threads
        info                  torch's version and BLAS, as JSON
        epoch DIR DTYPE       one timed training epoch on DIR's data and
                              weights, in DTYPE (float64 or float32)
        predict DIR DTYPE     a timed no_grad forward pass on all rows at once
        warmup DIR DTYPE      an untimed epoch on the first 10 batches and
                              a forward pass on DIR's rows
        quit
      A timed command answers with its seconds, the others with "ok".
  python3 train_torch.py memory ROWS INPUTS BATCH STEPS THREADS
      Peak RSS (ru_maxrss) around STEPS training steps of the 784-256-256-10
      network (float64) on a ROWS x INPUTS standard normal input, as JSON.

DIR holds what train.R wrote: spec.json (the layer sizes, batch size, loss,
row tiling for predict), x.f64 (rows x inputs, row-major), y.f64 and the
initial weights w<i>.f64 (selu's kernel, inputs x units column-major, which is
torch's (out, in) row-major as it stands) and b<i>.f64, all doubles. In
float32 the model, its initial weights and the data are those doubles
rounded (`.float()`), before any timing, as selu rounds its weights; selu's
float32 timings include rounding R's double input.

torch's BLAS is the system's libblas.so.3: train.R picks OpenBLAS for this
process with LD_LIBRARY_PATH, as it picks it for R with R_LD_LIBRARY_PATH.
"""
import json
import os
import re
import resource
import socket
import sys
import time

import numpy as np
import torch
from torch import nn

from torch_blas import set_blas_threads

torch.set_default_dtype(torch.float64)
torch.manual_seed(2017)


def network(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.SELU())
    return nn.Sequential(*layers)


DTYPES = {"float64": torch.float64, "float32": torch.float32}


class Workload:
    def __init__(self, folder, dtype):
        with open(os.path.join(folder, "spec.json")) as f:
            spec = json.load(f)
        self.sizes = spec["sizes"]
        self.batch = spec["batch"]
        self.tile = spec.get("tile", 1)
        read = lambda name: np.fromfile(os.path.join(folder, name), dtype=np.float64)
        x = read("x.f64").reshape(-1, self.sizes[0])
        self.x = torch.from_numpy(x).to(dtype)
        y = read("y.f64")
        if spec["loss"] == "bce":
            self.y = torch.from_numpy(y).reshape(-1, 1).to(dtype)
            self.loss = nn.BCEWithLogitsLoss()
        else:
            self.y = torch.from_numpy(y).long()
            self.loss = nn.CrossEntropyLoss()
        self.model = network(self.sizes).to(dtype)
        state = {}
        for i in range(len(self.sizes) - 1):
            w = read(f"w{i + 1}.f64").reshape(self.sizes[i + 1], self.sizes[i])
            state[f"{2 * i}.weight"] = torch.from_numpy(w).to(dtype)
            state[f"{2 * i}.bias"] = torch.from_numpy(read(f"b{i + 1}.f64")).to(dtype)
        self.initial = state
        self.predict_x = None

    def reset(self):
        self.model.load_state_dict(self.initial)
        return torch.optim.Adam(self.model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)

    def epoch(self, rows=None):
        optimizer = self.reset()
        model, x, y, loss_fn, batch = self.model, self.x, self.y, self.loss, self.batch
        n = x.shape[0] if rows is None else rows
        start = time.perf_counter()
        model.train()
        order = torch.randperm(n)
        for first in range(0, n, batch):
            rows_b = order[first:first + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(x[rows_b]), y[rows_b])
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start

    def predict(self):
        self.reset()
        if self.predict_x is None:
            self.predict_x = self.x.repeat(self.tile, 1)
        x, model = self.predict_x, self.model
        model.eval()
        start = time.perf_counter()
        with torch.no_grad():
            model(x)
        return time.perf_counter() - start


def info():
    blas = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    with open("/proc/self/maps") as f:  # the BLAS library actually loaded
        loaded = sorted({line.split()[-1] for line in f if "blas" in line.lower() and "/" in line})
    return json.dumps({"version": torch.__version__,
                       "blas_info": blas.group(1) if blas else "unknown",
                       "blas_loaded": loaded})


def serve(port_file):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{server.getsockname()[1]}\n")
    os.rename(port_file + ".tmp", port_file)  # train.R reads it whole or not at all
    conn, _ = server.accept()
    stream = conn.makefile("rw")
    workloads = {}

    def load(folder, dtype):
        if (folder, dtype) not in workloads:
            workloads[(folder, dtype)] = Workload(folder, DTYPES[dtype])
        return workloads[(folder, dtype)]

    for line in stream:
        words = line.split()
        if not words or words[0] == "quit":
            break
        command = words[0]
        if command == "threads":
            torch.set_num_threads(int(words[1]))
            set_blas_threads(int(words[1]))
            reply = "ok"
        elif command == "info":
            reply = info()
        elif command == "warmup":
            w = load(words[1], words[2])
            w.epoch(rows=min(w.x.shape[0], 10 * w.batch))
            with torch.no_grad():
                w.model(w.x)
            reply = "ok"
        elif command == "epoch":
            reply = repr(load(words[1], words[2]).epoch())
        elif command == "predict":
            reply = repr(load(words[1], words[2]).predict())
        else:
            raise ValueError(f"unknown command {line!r}")
        stream.write(reply + "\n")
        stream.flush()
    conn.close()


def memory(rows, inputs, batch, steps, threads):
    torch.set_num_threads(threads)
    def peak_rss():  # ru_maxrss is in kB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    model = network([inputs, 256, 256, 10])
    optimizer = torch.optim.Adam(model.parameters(), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    baseline = peak_rss()
    x = torch.randn(rows, inputs)
    y = torch.randint(0, 10, (rows,))
    before = peak_rss()
    model.train()
    order = torch.randperm(rows)
    for first in range(0, min(rows, steps * batch), batch):
        b = order[first:first + batch]
        optimizer.zero_grad()
        loss_fn(model(x[b]), y[b]).backward()
        optimizer.step()
    print(json.dumps({"x_bytes": x.element_size() * x.nelement(), "baseline_bytes": baseline,
                      "before_fit_bytes": before, "peak_bytes": peak_rss(),
                      "steps": min(steps, -(-rows // batch))}))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif sys.argv[1] == "memory":
        memory(*(int(float(a)) for a in sys.argv[2:7]))
    else:
        raise SystemExit(__doc__)
