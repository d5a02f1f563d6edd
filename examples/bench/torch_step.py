#!/usr/bin/env python3
"""The dfsae model and training step written in PyTorch, for comparison.

Written from docs/math.md (not from dfsae's sources), the way a PyTorch user
would write it: A = relu(X W^T + b); L_lse summed over rows; L_var with the
unbiased variance; L_tc through the K x K correlation matrix with
s = sqrt(v) + 1e-8; L_wr only when its weight is non-zero; loss.backward();
torch.optim.Adam(lr=1e-3).

    torch_step.py [--shape I|BxDxK]... [--threads N] [--reps N]
                  [--warmup N] [--budget S] [--json] [--step-only]
    torch_step.py --check DIR     # compare with `dfsae_bench --check DIR`

Needs python3 with PyTorch (Debian: apt-get install python3-torch, which
installs for /usr/bin/python3). Thread pools and allocator settings that
must be fixed before the process starts (OMP_WAIT_POLICY, GLIBC_TUNABLES)
are the caller's: run_bench.py starts one process per setting.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

DEFAULT_SHAPES = [(128, 784, 64), (1024, 784, 1024), (1024, 768, 4096),
                  (4096, 768, 4096)]
EPS_VAR = 1e-6
STD_EPS = 1e-8
NORM_EPS = 1e-8


def objective(A, W, lam):
    """Total loss and the unweighted terms (lse, var, tc, wr); a term whose
    weight is 0 is skipped and reported as 0."""
    B, K = A.shape
    zero = A.new_zeros(())
    lse = var = tc = wr = zero
    if lam[0]:
        lse = -torch.logsumexp(-A, dim=1).sum()
    if lam[1] or lam[2]:
        v = A.var(dim=0, unbiased=True)
    if lam[1]:
        var = -torch.log(v + EPS_VAR).sum()
    if lam[2]:
        Ac = A - A.mean(dim=0, keepdim=True)
        cov = Ac.T @ Ac / (B - 1)
        s = v.sqrt() + STD_EPS
        corr = cov / torch.outer(s, s)
        tc = corr.pow(2).sum() - corr.diagonal().pow(2).sum()
    if lam[3]:
        Wn = W / (W.norm(dim=1, keepdim=True) + NORM_EPS)
        gram = Wn @ Wn.T
        wr = (gram - torch.eye(K, dtype=W.dtype)).pow(2).sum()
    total = lam[0] * lse + lam[1] * var + lam[2] * tc + lam[3] * wr
    return total, (lse, var, tc, wr)


class Encoder(torch.nn.Module):
    def __init__(self, d, k):
        super().__init__()
        self.linear = torch.nn.Linear(d, k)

    def forward(self, x):
        return torch.relu(self.linear(x))


def make_step(model, X, lam):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss, _ = objective(model(X), model.linear.weight, lam)
        loss.backward()
        opt.step()
    return step


def measure(shape, args):
    B, D, K = shape
    gen = torch.Generator().manual_seed(args.seed)
    X = torch.randn(B, D, generator=gen)
    torch.manual_seed(1)
    model = Encoder(D, K)
    model_wr = None if args.step_only else Encoder(D, K)
    items = {"step": make_step(model, X, (1.0, 1.0, 1.0, 0.0))}
    if not args.step_only:  # a large dictionary times the default step only
        items["step_wr"] = make_step(model_wr, X, (1.0, 1.0, 1.0, 1.0))

        def encode():
            with torch.no_grad():
                model(X)
        items["encode"] = encode

    round_time = 0.0
    for _ in range(max(args.warmup, 1)):
        t0 = time.perf_counter()
        for fn in items.values():
            fn()
        round_time = time.perf_counter() - t0
    reps = args.reps or int(min(200, max(5, args.budget / max(round_time, 1e-9))))
    times = {name: [] for name in items}
    for _ in range(reps):
        for name, fn in items.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in times.items()}
    nan = float("nan")
    return {
        "B": B, "D": D, "K": K,
        "step_ms": 1e3 * med["step"], "step_wr_ms": 1e3 * med.get("step_wr", nan),
        "encode_ms": 1e3 * med.get("encode", nan), "reps": reps,
        "step_ms_each": [1e3 * t for t in times["step"]],
        "threads": torch.get_num_threads(),
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
        "torch": torch.__version__,
    }


def load_npy(path):
    import numpy as np
    return torch.from_numpy(np.load(path)).double()


def rel_err(a, b):
    a, b = float(a), float(b)
    return abs(a - b) / max(abs(b), 1e-12)


def check(directory):
    """Recompute dfsae's --check problems in float64 and compare."""
    with open(os.path.join(directory, "check.json")) as f:
        ref = json.load(f)
    lr = ref["lr"]
    worst = 0.0
    ok = True
    for p in ref["problems"]:
        def npy(what):
            return load_npy(os.path.join(directory, f"{p['name']}_{what}.npy"))
        X, W0, b0 = npy("X"), npy("W"), npy("b")
        lines = []
        for lam_wr, key, gname in ((1.0, "total_wr", "grad_wr"),
                                   (0.0, "total", "grad")):
            W = W0.clone().requires_grad_(True)
            b = b0.clone().requires_grad_(True)
            A = torch.relu(F.linear(X, W, b))
            total, terms = objective(A, W, (1.0, 1.0, 1.0, lam_wr))
            total.backward()
            grad = torch.cat([W.grad.flatten(), b.grad])
            g_ref = npy(gname)
            g_err = float((grad - g_ref).abs().max() / g_ref.abs().max())
            errs = [(key, rel_err(p[key], total), p[key], float(total)),
                    (gname + " (max abs diff / max abs)", g_err, None, None)]
            if lam_wr:
                for name, mine, theirs in zip(("lse", "var", "tc", "wr"),
                                              terms, p["terms"]):
                    errs.append((name, rel_err(theirs, mine), theirs,
                                 float(mine)))
            else:
                # One Adam step from the defaults' gradient.
                Wp = torch.nn.Parameter(W0.clone())
                bp = torch.nn.Parameter(b0.clone())
                opt = torch.optim.Adam([Wp, bp], lr=lr)
                Wp.grad, bp.grad = W.grad.clone(), b.grad.clone()
                opt.step()
                after = torch.cat([Wp.detach().flatten(), bp.detach()])
                s_err = float((after - npy("step")).abs().max()) / lr
                errs.append(("Adam step (max abs diff / lr)", s_err, None, None))
            for name, err, theirs, mine in errs:
                worst = max(worst, err)
                bad = err > 1e-4 if not name.startswith("Adam") else err > 1e-3
                ok &= not bad
                vals = "" if theirs is None else f"  dfsae {theirs:.9g}  torch {mine:.9g}"
                lines.append(f"  {name:<42} rel err {err:.2e}{vals}"
                             f"{'  MISMATCH' if bad else ''}")
        side = ("K x K" if p["K"] <= p["B"] else "B x B") + " tc side"
        print(f"problem {p['name']} (B={p['B']} D={p['D']} K={p['K']}, {side}):")
        print("\n".join(lines))
    print(f"check {'passed' if ok else 'FAILED'}: worst relative error "
          f"{worst:.2e} (tolerance 1e-4; Adam step 1e-3 of lr)")
    return 0 if ok else 1


def parse_shape(s):
    if s.isdigit():
        return DEFAULT_SHAPES[int(s)]
    b, d, k = (int(x) for x in s.split("x"))
    return (b, d, k)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", action="append", type=parse_shape)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--step-only", action="store_true",
                    help="time the default step only (one model)")
    ap.add_argument("--check", metavar="DIR")
    args = ap.parse_args()
    if args.check:
        torch.set_num_threads(1)
        return check(args.check)
    torch.set_num_threads(args.threads)
    shapes = args.shape or DEFAULT_SHAPES
    if not args.json:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} "
              f"thread(s), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')} "
              f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')}")
        print(f"{'B x D x K':<16} {'step ms':>9} {'step+wr ms':>11} "
              f"{'encode/s':>11} {'RSS MiB':>8} {'reps':>5}")
    for shape in shapes:
        r = measure(shape, args)
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"{'x'.join(map(str, shape)):<16} {r['step_ms']:9.3f} "
                  f"{r['step_wr_ms']:11.3f} {shape[0] / r['encode_ms'] * 1e3:11.0f} "
                  f"{r['rss_mib']:8.0f} {r['reps']:5d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
