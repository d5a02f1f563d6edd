#!/usr/bin/env python3
"""Encode latency and shared-model throughput (issue 16), one table file.

    run_latency.py --bench BUILD/examples/bench/dfsae_bench_latency
                   [--before-lib LIB] [--after-lib LIB] [--rounds R]
                   [--no-control] [--budget S] [--seconds S] [--no-torch]
                   [--torch-python PATH] [--results-dir DIR]
                   [--shape DxK]... [--n N]...

Latency: dfsae_model_forward against bare sgemv/sgemm in the same process
(alternated call by call) and PyTorch's no_grad forward at 1 thread in its
own process. With --before-lib (a libdfsae.so or a build directory, e.g.
main's before a change), before and after come from `dfsae_bench_latency
ab`: both libraries in one process, calls alternated one by one, and the
table gives after / before of the p10s and the p50s of each run (the
two swap sides every other round), next
to a control (after against itself in the same rounds; --no-control
skips it). The after library is --after-lib, by default the one in
--bench's build.
The runs alternate within each of R rounds; the table gives each
figure's median over the rounds and, for p50 and the ratio, the spread
(min-max) across them.
Bound: each run of the latency binary first measures the machine (a
streaming read of 256 MiB and a 1024^3 sgemm); the table gives, for each
shape and n, max(time to read W at that bandwidth, time for the 2 n D K
flops at that sgemm rate) and dfsae's p50 over it (medians over rounds).
Throughput: T threads sharing one const model vs T processes, each thread
at 1 BLAS thread, n = 1 and 32 rows per call.
--shape and --n replace the default shapes (784x64, 768x4096) and row
counts (1, 8, 32, 128) in every kind of run (e.g. to find the crossover to
sgemm).
Writes DIR/DATE-COMMIT-latency.md (DIR defaults to bench/results).
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ENV1 = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def bench_env(lib_dir):
    env = dict(os.environ, **ENV1)
    if lib_dir:
        env["LD_LIBRARY_PATH"] = lib_dir
    return env


def run(cmd, lib_dir=None, tag=("LAT", "TPUT")):
    out = subprocess.run(cmd, env=bench_env(lib_dir), check=True,
                         capture_output=True, text=True).stdout
    return [line.split()[1:] for line in out.splitlines()
            if line.split()[:1] and line.split()[0] in tag]


def cells(args):
    """The --shape and --n options for the latency, ab and torch runs."""
    return ([a for s in args.shape for a in ("--shape", s)] +
            [a for n in args.n for a in ("--n", str(n))])


def latency(args):
    rows = {}  # (d, k, n) -> per run [p50, p99, bare p50, bare p99]
    ab = {}  # ("ab" or "control", d, k, n) -> per run [A p10 p50 p99,
    #          B p10 p50 p99, B / A p10 p50 p99, max |B - A|]; control: after
    #          on both sides
    bounds = {}  # (d, k, n) -> bound_us per run
    machine = []  # (read GB/s, sgemm GFLOP/s) per run
    torch_rows = {}
    for rnd in range(args.rounds):
        for f in run([args.bench, "latency", "--budget", str(args.budget)] +
                     cells(args),
                     args.after_dir, ("LAT", "MACHINE")):
            if len(f) == 4:  # MACHINE
                machine.append((float(f[0]), float(f[1])))
                continue
            key = (int(f[0]), int(f[1]), int(f[2]))
            rows.setdefault(key, []).append([float(v) for v in f[3:7]])
            if len(f) > 8:
                bounds.setdefault(key, []).append(float(f[8]))
        pairs = [("ab", args.before_lib)] if args.before_lib else []
        if pairs and not args.no_control:
            pairs.append(("control", args.after_lib))
        for name, other in pairs:
            # Every other round the two swap sides (the ratios are turned
            # back), so that whatever favours one side cancels.
            swap = name == "ab" and rnd % 2 == 1
            sides = [args.after_lib, other] if swap else [other, args.after_lib]
            for f in run([args.bench, "ab", "--lib-a", sides[0],
                          "--lib-b", sides[1], "--budget", str(args.budget)] +
                         cells(args),
                         tag=("AB",)):
                key = (name, int(f[0]), int(f[1]), int(f[2]))
                v = [float(x) for x in f[6:16]]
                if swap:
                    v = v[3:6] + v[0:3] + [1 / x for x in v[6:9]] + v[9:]
                ab.setdefault(key, []).append(v)
        if args.torch_python:
            for f in run([args.torch_python,
                          os.path.join(HERE, "torch_latency.py"),
                          "--budget", str(args.budget)] + cells(args)):
                key = (int(f[0]), int(f[1]), int(f[2]))
                torch_rows.setdefault(key, []).append(
                    [float(f[3]), float(f[4])])
    return rows, ab, torch_rows, bounds, machine


def med(vals, i):
    return statistics.median(v[i] for v in vals)


def spread(vals, i, fmt):
    return f"{min(v[i] for v in vals):{fmt}}-{max(v[i] for v in vals):{fmt}}"


def latency_table(rows, ab, torch_rows, bounds):
    control = any(k[0] == "control" for k in ab)
    head = ["D -> K", "n", "dfsae after p50", "after p50 spread",
            "dfsae after p99"]
    if ab:
        head += ["A/B before p50", "A/B after p50", "after / before p50",
                 "its spread", "after / before p10", "A/B before p99",
                 "A/B after p99"]
        if control:
            head += ["control p50", "control p10"]
    head += ["bare BLAS p50", "bare p99", "after / bare"]
    if torch_rows:
        head += ["torch p50", "torch p99", "torch / after"]
    if bounds:
        head += ["bound", "after / bound"]
    lines = ["| " + " | ".join(head) + " |",
             "| " + " | ".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + " |"]
    for key in sorted(rows):
        d, k, n = key
        v = rows[key]
        after = med(v, 0)
        cells = [f"{d} -> {k}", str(n), f"{after:.1f}", spread(v, 0, ".1f"),
                 f"{med(v, 1):.1f}"]
        if ab:
            a = ab.get(("ab",) + key)
            cells += ([f"{med(a, 1):.1f}", f"{med(a, 4):.1f}",
                       f"{med(a, 7):.3f}", spread(a, 7, ".3f"),
                       f"{med(a, 6):.3f}", f"{med(a, 2):.1f}",
                       f"{med(a, 5):.1f}"] if a else [""] * 7)
        if control:
            c = ab.get(("control",) + key)
            cells += [f"{med(c, 7):.3f}", f"{med(c, 6):.3f}"] if c else [""] * 2
        cells += [f"{med(v, 2):.1f}", f"{med(v, 3):.1f}",
                  f"{after / med(v, 2):.2f}"]
        if torch_rows:
            t = torch_rows.get(key)
            cells += ([f"{med(t, 0):.1f}", f"{med(t, 1):.1f}",
                       f"{med(t, 0) / after:.2f}"] if t else ["", "", ""])
        if bounds:
            bd = statistics.median(bounds[key]) if key in bounds else None
            cells += [f"{bd:.1f}", f"{after / bd:.2f}"] if bd else ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def throughput(args):
    """Rows/s of T threads sharing one model, and of T processes."""
    out = {}
    for _ in range(args.rounds):
        for n in (1, 32):
            for t in (1, 2, 4, 8):
                f = run([args.bench, "throughput", "--threads", str(t),
                         "--n", str(n), "--seconds", str(args.seconds),
                         "--shape", "784x64"], args.after_dir)[0]
                out.setdefault(("shared", n, t), []).append(float(f[5]))
                procs = [subprocess.Popen(
                    [args.bench, "throughput", "--threads", "1", "--n", str(n),
                     "--seconds", str(args.seconds), "--shape", "784x64"],
                    env=bench_env(args.after_dir), stdout=subprocess.PIPE,
                    text=True)
                    for _ in range(t)]
                total = 0.0
                for p in procs:
                    line = p.communicate()[0].split()
                    total += float(line[6])
                out.setdefault(("procs", n, t), []).append(total)
    cores = os.cpu_count() or 1
    lines = ["| n per call | T | shared model rows/s | efficiency | "
             "T processes rows/s | efficiency | shared / processes |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n in (1, 32):
        one = statistics.median(out[("shared", n, 1)])
        for t in (1, 2, 4, 8):
            s = statistics.median(out[("shared", n, t)])
            p = statistics.median(out[("procs", n, t)])
            ideal = one * min(t, cores)
            lines.append(f"| {n} | {t} | {s:.0f} | {s / ideal:.2f} | {p:.0f} "
                         f"| {p / ideal:.2f} | {s / p:.2f} |")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--before-lib",
                    help="libdfsae.so or build directory to compare with")
    ap.add_argument("--after-lib",
                    help="default: libdfsae.so.1 of --bench's build")
    ap.add_argument("--no-control", action="store_true",
                    help="with --before-lib: skip the after-vs-after A/B")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--torch-python", default="/usr/bin/python3")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--shape", action="append", default=[],
                    help="DxK (repeatable); default 784x64 and 768x4096")
    ap.add_argument("--n", action="append", type=int, default=[],
                    help="rows per call (repeatable); default 1 8 32 128")
    ap.add_argument("--results-dir", default=os.path.join(ROOT, "bench",
                                                           "results"))
    args = ap.parse_args()
    args.after_dir = None
    if args.after_lib:
        lib = os.path.abspath(args.after_lib)
        args.after_dir = lib if os.path.isdir(lib) else os.path.dirname(lib)
    elif args.before_lib:
        build = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(args.bench))))
        args.after_lib = os.path.join(build, "libdfsae.so.1")
        if not os.path.exists(args.after_lib):
            sys.exit(f"run_latency.py: no {args.after_lib} (the build of "
                     "--bench); give --after-lib")
    if args.no_torch:
        args.torch_python = None
    elif subprocess.run([args.torch_python, "-c", "import torch"],
                        capture_output=True).returncode != 0:
        print("PyTorch not importable; running without it", file=sys.stderr)
        args.torch_python = None
    started = datetime.datetime.utcnow()
    load0 = open("/proc/loadavg").read().split()[:3]
    rows, ab, torch_rows, bounds, machine = latency(args)
    lines = latency_table(rows, ab, torch_rows, bounds)
    tput = [] if args.no_throughput else throughput(args)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                             "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    load = open("/proc/loadavg").read().split()[:3]
    doc = [f"# Encode latency: {started:%Y-%m-%d}, library at {commit}", "",
           f"Run {started:%Y-%m-%d %H:%M} UTC: `run_latency.py "
           f"{' '.join(sys.argv[1:])}`; load average at the start "
           f"{' '.join(load0)}, at the end {' '.join(load)} on "
           f"{os.cpu_count()} cores. Times in us per "
           "call, 1 BLAS thread, medians over "
           f"{args.rounds} alternating rounds; bare BLAS is cblas_sgemv for "
           "n = 1 and cblas_sgemm otherwise, on the same buffers, alternated "
           "call by call with dfsae.", ""]
    if ab:
        diff = max(v[9] for key, runs in ab.items() if key[0] == "ab"
                   for v in runs)
        doc += [f"Before ({args.before_lib}) and after ({args.after_lib}): "
                "`dfsae_bench_latency ab`, both libraries loaded into one "
                "process (dlmopen, a link namespace each), the same model "
                "and inputs, their forward calls alternated one by one with "
                "the order flipped on every call, so that the machine's load "
                "hits both alike. after / before is the ratio of the p50s "
                "(and of the p10s) within each such run, median over the "
                "rounds (spread: min-max); the two libraries swap sides "
                "every other round. The largest |after - before| over "
                f"all outputs was {diff:.3g}." + (" The control columns are the same A/B with the after "
                       "library on both sides, in the same rounds: how far "
                       "from 1 noise alone moves the ratios."
                       if not args.no_control else "") +
                " The dfsae after columns, and its ratios to bare BLAS, "
                "PyTorch and the bound, come from the latency run (dfsae and "
                "bare BLAS alternated); absolute times from the two kinds of "
                "run differ, so compare ratios only within one kind.", ""]
    if machine:
        bw = [m[0] for m in machine]
        gf = [m[1] for m in machine]
        doc += [f"Machine, measured in each latency run (median, range): "
                f"streaming read of 256 MiB {statistics.median(bw):.1f} GB/s "
                f"({min(bw):.1f}-{max(bw):.1f}), sgemm 1024^3 "
                f"{statistics.median(gf):.1f} GFLOP/s "
                f"({min(gf):.1f}-{max(gf):.1f}); bound = max(4 D K bytes at "
                "that bandwidth, 2 n D K flops at that rate).", ""]
    doc += lines
    if tput:
        doc += ["", "Shared-model throughput at 784 -> 64 (efficiency: rows/s "
                "over min(T, cores) x the one-thread rows/s).", ""] + tput
    os.makedirs(args.results_dir, exist_ok=True)
    path = os.path.join(args.results_dir,
                        f"{started:%Y-%m-%d}-{commit}-latency.md")
    with open(path, "w") as f:
        f.write("\n".join(doc) + "\n")
    print("\n".join(doc))
    print(f"written {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
