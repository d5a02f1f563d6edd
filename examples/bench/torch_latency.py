#!/usr/bin/env python3
"""PyTorch's encode latency beside dfsae_bench_latency: relu(x W^T + b)
under torch.no_grad() at 1 thread, per call on n rows; prints
    LAT D K n p50_us p99_us calls
like dfsae_bench_latency (run_latency.py reads both).

    torch_latency.py [--shape DxK]... [--n N]... [--budget S]
"""
import argparse
import time

import torch


def measure(d, k, n, budget):
    torch.manual_seed(0)
    lin = torch.nn.Linear(d, k)
    x = torch.randn(n, d)
    with torch.no_grad():
        t0 = time.perf_counter()
        warm = 0
        while time.perf_counter() - t0 < budget * 0.1 or warm < 3:
            torch.relu(lin(x))
            warm += 1
        per_call = (time.perf_counter() - t0) / warm
        calls = max(50, min(20000, int(budget * 0.9 / per_call)))
        times = []
        for _ in range(calls):
            a = time.perf_counter_ns()
            torch.relu(lin(x))
            times.append((time.perf_counter_ns() - a) / 1e3)
    times.sort()
    return times[calls // 2], times[min(calls - 1, int(0.99 * calls))], calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", action="append")
    ap.add_argument("--n", action="append", type=int)
    ap.add_argument("--budget", type=float, default=1.0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    shapes = args.shape or ["784x64", "768x4096"]
    ns = args.n or [1, 8, 32, 128]
    for s in shapes:
        d, k = (int(v) for v in s.split("x"))
        for n in ns:
            p50, p99, calls = measure(d, k, n, args.budget)
            print(f"LAT {d} {k} {n} {p50:.2f} {p99:.2f} {calls}", flush=True)


if __name__ == "__main__":
    main()
