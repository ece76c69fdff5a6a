"""Times torch.nn.functional.selu and its backward (autograd) on the CPU.

Usage: python3 torch_selu.py SIZES THREADS OUT.csv
Prints nothing; writes one row per (op, dtype, threads, n) with the median
time per call in seconds. Inputs are standard normal, as in bench.R.
"""
import csv
import sys
import time

import torch
import torch.nn.functional as F


def median_time(fn, n):
    # the best of three rounds below 1e7, as bench.R does
    rounds = 1 if n >= 10_000_000 else 3
    return min(one_round(fn) for _ in range(rounds))


def one_round(fn):
    # about 0.3 s of repetitions, at least 7
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    reps = max(7, min(20000, int(0.3 / once)))
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def main():
    sizes = [int(float(s)) for s in sys.argv[1].split(",")]
    threads = [int(t) for t in sys.argv[2].split(",")]
    rows = []
    torch.manual_seed(1)
    for nt in threads:
        torch.set_num_threads(nt)
        for n in sizes:
            for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
                x = torch.randn(n, dtype=dtype)
                g = torch.randn(n, dtype=dtype)
                fwd = median_time(lambda: F.selu(x), n)
                xg = x.clone().requires_grad_(True)
                y = F.selu(xg)
                bwd = median_time(lambda: torch.autograd.grad(y, xg, g, retain_graph=True), n)
                rows.append(("forward", name, nt, n, fwd))
                rows.append(("backward", name, nt, n, bwd))
    with open(sys.argv[3], "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["op", "dtype", "threads", "n", "seconds"])
        out.writerows(rows)


if __name__ == "__main__":
    main()
