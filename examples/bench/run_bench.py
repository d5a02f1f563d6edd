#!/usr/bin/env python3
"""Run dfsae_bench and torch_step.py at each thread setting, shape by shape,
and print every setting and the dfsae/PyTorch ratio of the fastest of each.

    run_bench.py --bench BUILD/examples/bench/dfsae_bench [--shape I]...
                 [--budget S] [--reps N] [--warmup N] [--no-torch]
                 [--torch-python PATH] [--out FILE.json]
    run_bench.py --bench ... --large [--large-shape I]... [--large-reps N]
                 [--large-rounds N]
                 [--torch-cap GIB]
                 [--torch-reps N] [--torch-timeout S]

For each shape the settings run back to back, each in its own process
(thread pools and GLIBC_TUNABLES are fixed at process start), so that the
ratios compare runs minutes apart at most; with --rounds R the settings
cycle R times and each keeps its fastest run (load from other processes
only ever slows a run down, so the minimum over rounds is the estimate
least disturbed by it). dfsae runs at 1 thread, at 2 BLAS threads
(OPENBLAS_NUM_THREADS) with 1 and 2 threads of its own (--dfsae-threads),
and at 2 and 2 with OPENBLAS_THREAD_TIMEOUT=4; PyTorch at 1 thread, at 2 threads with
OMP_WAIT_POLICY=passive, and at both with GLIBC_TUNABLES=
glibc.malloc.hugetlb=1 at the shapes above the published one.
OPENBLAS_CORETYPE is left as the environment has it.

--large (opt-in: minutes per shape and GiB of memory, so CI's smoke run
leaves it out) times the dictionaries of 16384 and 65536 units at B = 4096,
D = 768 with `dfsae_bench --step-only` at 2 threads on the counting malloc
hook (at K = 16384 with `--huge-ab`: a second model on the library's own
allocator, timed in the same rounds); reports step / bound and
the model's peak RSS against its floor; and
runs PyTorch's step (2 threads, 1 warm-up, --torch-reps timed, default 4)
under an address-space cap (prlimit --as) so that its K x K matrices fail
cleanly instead of waking the OOM killer. Without --shape only the large shapes run.
Only the Python standard library is needed here; PyTorch is optional.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = ["128x784x64", "1024x784x1024", "1024x768x4096", "4096x768x4096"]
HUGETLB = "glibc.malloc.hugetlb=1"
LARGE_SHAPES = ["4096x768x16384", "4096x768x65536"]


def dfsae_settings():
    """BLAS threads and the models' own threads (--dfsae-threads). At 2
    threads OpenBLAS's idle workers spin after each product and hold the
    core dfsae's worker needs; OPENBLAS_THREAD_TIMEOUT=4 makes them sleep."""
    def setting(name, blas, own, **extra):
        env = {"OPENBLAS_NUM_THREADS": str(blas), "OMP_NUM_THREADS": str(blas)}
        env.update(extra)
        return {"name": name, "env": env, "threads": blas,
                "args": ["--dfsae-threads", str(own)]}
    return [setting("1 thread", 1, 1),
            setting("2 BLAS threads, 1 dfsae thread", 2, 1),
            setting("2 threads", 2, 2),
            setting("2 threads, OPENBLAS_THREAD_TIMEOUT=4", 2, 2,
                    OPENBLAS_THREAD_TIMEOUT="4")]


def torch_settings(shape_index):
    out = [
        {"name": "1 thread", "threads": 1,
         "env": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}},
        {"name": "2 threads, OMP_WAIT_POLICY=passive", "threads": 2,
         "env": {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2",
                 "OMP_WAIT_POLICY": "passive"}},
    ]
    if shape_index == 0:  # for the record: what a default 2-thread run costs
        out.append({"name": "2 threads, default OMP wait policy", "threads": 2,
                    "env": {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}})
    if shape_index > 0:  # the large shapes: K x K temporaries fault pages in
        for base in list(out):
            s = {"name": base["name"] + ", hugetlb", "threads": base["threads"],
                 "env": dict(base["env"], GLIBC_TUNABLES=HUGETLB)}
            out.append(s)
    return out


def run_json(cmd, env_extra):
    env = dict(os.environ)
    for key in ("OMP_WAIT_POLICY", "GLIBC_TUNABLES", "OPENBLAS_THREAD_TIMEOUT"):
        env.pop(key, None)
    env.update(env_extra)
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.stderr.write(f"run_bench: {' '.join(cmd)} failed:\n{proc.stderr}")
        return None
    rows = [json.loads(line) for line in proc.stdout.splitlines()
            if line.startswith("{")]
    return rows[0] if rows else None


def find_torch_python(explicit):
    candidates = [explicit] if explicit else [
        os.environ.get("DFSAE_TORCH_PYTHON"), "/usr/bin/python3", sys.executable]
    for py in candidates:
        if not py:
            continue
        try:
            if subprocess.run([py, "-c", "import torch, numpy"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0:
                return py
        except OSError:
            pass
    return None


def fmt(v, spec):
    return format(v, spec) if v is not None else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True, help="path to dfsae_bench")
    ap.add_argument("--shape", action="append", type=int,
                    help="shape index 0-3 (repeatable; default all)")
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2,
                    help="cycles through the settings per shape (default 2)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--torch-python")
    ap.add_argument("--out", help="write all results as JSON here")
    ap.add_argument("--markdown", help="write the tables as Markdown here")
    ap.add_argument("--results-dir", default=os.path.join(HERE, "..", "..", "bench", "results"),
                    help="write the run's record to DIR/DATE-COMMIT.md "
                         "(default: the repository's bench/results)")
    ap.add_argument("--no-results", action="store_true",
                    help="do not write a results file")
    ap.add_argument("--large", action="store_true",
                    help="the large dictionaries (see above)")
    ap.add_argument("--large-shape", action="append", type=int,
                    help="large shape index 0-1 (repeatable; default both)")
    ap.add_argument("--large-reps", type=int, default=3,
                    help="timed steps per large run (default 3, 1 warm-up)")
    ap.add_argument("--large-rounds", type=int, default=1,
                    help="cycles through the two large settings (default 1)")
    ap.add_argument("--torch-cap", type=float, default=16.0,
                    help="PyTorch's address-space cap at the large shapes, GiB")
    ap.add_argument("--torch-reps", type=int, default=4,
                    help="timed PyTorch steps per large run (default 4, 1 warm-up)")
    ap.add_argument("--torch-timeout", type=float, default=600.0,
                    help="seconds before a large PyTorch run is stopped")
    args = ap.parse_args()
    if args.large and args.shape is None:
        args.shape = []

    timing = ["--budget", str(args.budget), "--warmup", str(args.warmup)]
    if args.reps:
        timing += ["--reps", str(args.reps)]
    py = None if args.no_torch else find_torch_python(args.torch_python)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print(f"run_bench {started}; dfsae: {args.bench}; PyTorch: "
          f"{py or 'not available (apt-get install python3-torch)'}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
          flush=True)

    results = []
    for i in args.shape if args.shape is not None else range(len(SHAPES)):
        shape = SHAPES[i]
        runs = {"dfsae": {}, "torch": {}}
        for _ in range(max(args.rounds, 1)):
            for s in dfsae_settings():
                r = run_json([args.bench, "--shape", shape, "--json"] +
                             s["args"] + timing, s["env"])
                if r:
                    runs["dfsae"].setdefault(s["name"], []).append(r)
            for s in torch_settings(i) if py else []:
                r = run_json([py, os.path.join(HERE, "torch_step.py"),
                              "--shape", shape, "--threads", str(s["threads"]),
                              "--json"] + timing, s["env"])
                if r:
                    runs["torch"].setdefault(s["name"], []).append(r)
        entry = {"shape": shape, "rounds": runs}
        for side in ("dfsae", "torch"):
            entry[side] = [dict(min(v, key=lambda r: r["step_ms"]), setting=k,
                                step_ms_all=[r["step_ms"] for r in v],
                                step_wr_best=min(r["step_wr_ms"] for r in v))
                           for k, v in runs[side].items()]
        results.append(entry)
        report_shape(entry)

    if results:
        print_summary(results)
    picked = [LARGE_SHAPES[i] for i in args.large_shape] \
        if args.large_shape is not None else LARGE_SHAPES
    large = [run_large(shape, args, py) for shape in picked] \
        if args.large else []
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"started": started, "results": results, "large": large},
                      f, indent=1)
    text = (markdown(results, started, sys.argv) if results else "") + \
        (large_markdown(large, started, sys.argv, args.torch_reps)
         if large else "")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if not args.no_results:
        path = write_record(args.results_dir, text,
                            "-large" if large and not results else "")
        print(f"results: {path}")
    return 0


def print_summary(results):
    print("\nsummary (each side at its fastest setting, fastest round; "
          "speedup = PyTorch step / dfsae step)")
    print("  bound: the GEMM bound at the dfsae setting's threads; best bound: "
          "the fastest bound of all settings")
    print(f"{'B x D x K':<15} {'dfsae ms':>9} {'setting':<38} {'/bound':>6} "
          f"{'/best bound':>11} {'torch ms':>9} {'setting':<40} {'speedup':>7} "
          f"{'wr speedup':>10}")
    for e in results:
        d = min(e["dfsae"], key=lambda r: r["step_ms"], default=None)
        t = min(e["torch"], key=lambda r: r["step_ms"], default=None)
        dw = min(e["dfsae"], key=lambda r: r["step_wr_best"], default=None)
        tw = min(e["torch"], key=lambda r: r["step_wr_best"], default=None)
        bb = min((r["bound_ms"] for r in e["dfsae"]), default=None)
        print(f"{e['shape']:<15} {fmt(d and d['step_ms'], '9.3f')} "
              f"{(d or {}).get('setting', '-'):<38} "
              f"{fmt(d and d['step_ms'] / d['bound_ms'], '6.2f')} "
              f"{fmt(d and d['step_ms'] / bb, '11.2f')} "
              f"{fmt(t and t['step_ms'], '9.3f')} {(t or {}).get('setting', '-'):<40} "
              f"{fmt(t and d and t['step_ms'] / d['step_ms'], '7.2f')} "
              f"{fmt(tw and dw and tw['step_wr_best'] / dw['step_wr_best'], '10.2f')}")


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def large_dfsae_settings(shape):
    """One process: the model on the counting malloc hook and, where two
    models fit beside the bound (K <= 16384), a second one on the library's
    own allocator timed in the same rounds (--huge-ab)."""
    env = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    args = ["--step-only", "--dfsae-threads", "2"]
    if int(shape.split("x")[2]) <= 16384:
        return [{"name": "2 threads, malloc hook; library-allocator model beside",
                 "env": env, "args": args + ["--huge-ab"]}]
    return [{"name": "2 threads, malloc hook", "env": env, "args": args}]


def run_torch_capped(py, shape, args):
    """PyTorch's default step under an address-space cap; returns its JSON
    row or {"failed": why}."""
    cap = int(args.torch_cap * 1024 ** 3)
    cmd = ["prlimit", f"--as={cap}", py, os.path.join(HERE, "torch_step.py"),
           "--shape", shape, "--threads", "2", "--step-only", "--json",
           "--warmup", "1", "--reps", str(max(args.torch_reps, 1))]
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2",
               OMP_WAIT_POLICY="passive")
    env.pop("GLIBC_TUNABLES", None)
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=args.torch_timeout)
    except subprocess.TimeoutExpired:
        return {"failed": f"not finished (1 warm-up + {max(args.torch_reps, 1)} "
                          f"steps) in "
                          f"{args.torch_timeout:.0f} s"}
    except OSError as e:
        return {"failed": f"could not start: {e}"}
    rows = [json.loads(line) for line in proc.stdout.splitlines()
            if line.startswith("{")]
    if proc.returncode == 0 and rows:
        return dict(rows[0], wall_s=time.time() - t0)
    tail = proc.stderr.strip().splitlines()[-1:] or ["no message"]
    oom = any(w in proc.stderr.lower() for w in ("memory", "alloc", "bad_alloc"))
    why = (f"out of memory at {args.torch_cap:g} GiB cap" if oom else
           f"exit status {proc.returncode}")
    return {"failed": f"{why} ({tail[0][:160]}) after {time.time() - t0:.0f} s"}


def run_large(shape, args, py):
    print(f"\n{shape} (large; {load()})", flush=True)
    entry = {"shape": shape, "load_before": load(), "dfsae": []}
    timing = ["--warmup", "1", "--reps", str(max(args.large_reps, 1))]
    for _ in range(max(args.large_rounds, 1)):
        for s in large_dfsae_settings(shape):
            r = run_json([args.bench, "--shape", shape, "--json"] + s["args"] +
                         timing, s["env"])
            if r:
                entry["dfsae"].append(dict(r, setting=s["name"]))
                print(f"  dfsae {s['name']:<44} step {r['step_ms']:10.1f} ms "
                      f"bound {r['bound_ms']:10.1f} ms ratio "
                      f"{r['step_ms'] / r['bound_ms']:.3f}  peak RSS "
                      f"{r['rss_mib']:.0f} MiB floor {r['floor_mib']:.0f} MiB "
                      f"({r['rss_mib'] / r['floor_mib']:.3f})" +
                      (f"  library-allocator model: step {r['step_lib_ms']:.1f} ms "
                       f"({r['step_lib_ms'] / r['step_ms']:.3f} of the hook's), "
                       f"adds {r['lib_mib']:.0f} MiB" if r.get("huge_ab") else ""),
                      flush=True)
    entry["load_after_dfsae"] = load()
    if py:
        entry["torch"] = run_torch_capped(py, shape, args)
        t = entry["torch"]
        print("  torch 2 threads, OMP_WAIT_POLICY=passive: " +
              (t["failed"] if "failed" in t else
               f"step {t['step_ms']:.1f} ms, peak RSS {t['rss_mib']:.0f} MiB"),
              flush=True)
    entry["load_after"] = load()
    return entry


def large_markdown(large, started, argv, torch_reps):
    out = ["", f"Large dictionaries, run {started}: "
           f"`{' '.join(os.path.basename(a) if i < 2 else a for i, a in enumerate(argv))}`."
           " dfsae_bench --step-only at 2 threads (the default step, lambda_wr"
           " = 0; bound = its four bare products in the same process); peak "
           "RSS = the process's after the model's first step, before the "
           "bound's operands exist (it includes X and the program's own few "
           "MiB); floor = docs/performance.md's formula.", "",
           "| B x D x K | setting | step ms | bound ms | step / bound | peak RSS "
           "MiB | floor MiB | RSS / floor | reps | load before / after |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for e in large:
        for r in e["dfsae"]:
            out.append(f"| {e['shape']} | {r['setting']} | {r['step_ms']:.1f} | "
                       f"{r['bound_ms']:.1f} | {r['step_ms'] / r['bound_ms']:.3f} | "
                       f"{r['rss_mib']:.0f} | {r['floor_mib']:.0f} | "
                       f"{r['rss_mib'] / r['floor_mib']:.3f} | {r['reps']} | "
                       f"{e['load_before']} / {e['load_after_dfsae']} |")
    out += ["", "Allocators (dfsae_bench --huge-ab: a second model on the "
            "library's own allocator, its step timed in the same rounds as "
            "the first's on the malloc hook; added MiB = what it added to the "
            "peak RSS):", "",
            "| B x D x K | malloc hook step ms | library allocator step ms | "
            "ratio | added MiB | floor MiB |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for e in large:
        for r in e["dfsae"]:
            if r.get("huge_ab"):
                out.append(f"| {e['shape']} | {r['step_ms']:.1f} | "
                           f"{r['step_lib_ms']:.1f} | "
                           f"{r['step_lib_ms'] / r['step_ms']:.3f} | "
                           f"{r['lib_mib']:.0f} | {r['floor_mib']:.0f} |")
    if any("torch" in e for e in large):
        out += ["", "PyTorch written the plain way (K x K correlation), 2 "
                f"threads, OMP_WAIT_POLICY=passive, 1 warm-up + "
                f"{max(torch_reps, 1)} timed steps, under prlimit --as:", "",
                "| B x D x K | result | steps ms | peak RSS MiB | load after |",
                "| --- | --- | --- | ---: | --- |"]
        for e in large:
            t = e.get("torch")
            if t is None:
                continue
            if "failed" in t:
                out.append(f"| {e['shape']} | {t['failed']} | - | - | "
                           f"{e['load_after']} |")
            else:
                each = " ".join(f"{v:.0f}" for v in t.get("step_ms_each", []))
                out.append(f"| {e['shape']} | step {t['step_ms']:.1f} ms (median) "
                           f"| {each} | {t['rss_mib']:.0f} | {e['load_after']} |")
    return "\n".join(out) + "\n"


def git_commit():
    try:
        out = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} x {model}"


def write_record(folder, text, suffix=""):
    """The run's record: one file per run, named by its date and commit, so
    that dated figures live here and not in the docs."""
    os.makedirs(folder, exist_ok=True)
    commit = git_commit()
    day = time.strftime("%Y-%m-%d")
    path = os.path.join(folder, f"{day}-{commit}{suffix}.md")
    with open(path, "w") as f:
        f.write(f"# Benchmark results: {day}, library at {commit}\n\n"
                f"Machine: {machine()}; "
                f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}. "
                "Written by examples/bench/run_bench.py.\n\n")
        f.write(text)
    return os.path.abspath(path)


def best(rows, key):
    return min(rows, key=lambda r: r[key], default=None)


def markdown(results, started, argv):
    out = [f"Run {started}: `{' '.join(os.path.basename(a) if i < 2 else a for i, a in enumerate(argv))}`.", ""]
    out += ["dfsae (ratio = dfsae / GEMM bound at the same threads; encode in "
            "samples/s; allocs = library allocations in all timed rounds):", "",
            "| B x D x K | setting | step ms | of which Adam | bound ms "
            "| ratio | step+wr ms | bound ms | ratio | encode/s | bound/s | ratio "
            "| GEMM GFLOP/s | peak RSS MiB | reps | allocs |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for e in results:
        for r in e["dfsae"]:
            out.append(
                f"| {e['shape']} | {r['setting']} | {r['step_ms']:.3f} | "
                f"{fmt(r.get('adam_ms'), '.3f')} | "
                f"{r['bound_ms']:.3f} | {r['step_ms'] / r['bound_ms']:.2f} | "
                f"{r['step_wr_ms']:.3f} | {r['bound_wr_ms']:.3f} | "
                f"{r['step_wr_ms'] / r['bound_wr_ms']:.2f} | "
                f"{r['B'] / r['encode_ms'] * 1e3:.0f} | "
                f"{r['B'] / r['encode_bound_ms'] * 1e3:.0f} | "
                f"{r['encode_bound_ms'] / r['encode_ms']:.2f} | "
                f"{r['bound_gflops']:.0f} | {r['rss_mib']:.0f} | {r['reps']} | "
                f"{r.get('allocs', '?')} |")
    if any(e["torch"] for e in results):
        out += ["", "PyTorch, every setting (step ms per round in brackets):", "",
                "| B x D x K | setting | step ms | step+wr ms | encode/s | "
                "peak RSS MiB | reps |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for e in results:
            for r in e["torch"]:
                out.append(
                    f"| {e['shape']} | {r['setting']} | {r['step_ms']:.3f} "
                    f"[{spread(r)}] | {r['step_wr_ms']:.3f} | "
                    f"{r['B'] / r['encode_ms'] * 1e3:.0f} | {r['rss_mib']:.0f} | "
                    f"{r['reps']} |")
        out += ["", "Each side at its fastest setting (speedup = PyTorch step / "
                "dfsae step):", "",
                "| B x D x K | dfsae step ms | setting | PyTorch step ms | setting "
                "| speedup | speedup with L_wr |",
                "| --- | ---: | --- | ---: | --- | ---: | ---: |"]
        for e in results:
            d, t = best(e["dfsae"], "step_ms"), best(e["torch"], "step_ms")
            dw, tw = best(e["dfsae"], "step_wr_best"), best(e["torch"], "step_wr_best")
            if not (d and t):
                continue
            out.append(f"| {e['shape']} | {d['step_ms']:.3f} | {d['setting']} | "
                       f"{t['step_ms']:.3f} | {t['setting']} | "
                       f"{t['step_ms'] / d['step_ms']:.2f} | "
                       f"{tw['step_wr_best'] / dw['step_wr_best']:.2f} |")
    return "\n".join(out) + "\n"


def spread(r):
    return " ".join(f"{v:.3f}" for v in r["step_ms_all"])


def report_shape(e):
    print(f"\n{e['shape']}")
    for r in e["dfsae"]:
        print(f"  dfsae {r['setting']:<44} step {r['step_ms']:9.3f} ms "
              f"(Adam {fmt(r.get('adam_ms'), '.3f')}) "
              f"(bound {r['bound_ms']:8.3f}, ratio {r['step_ms'] / r['bound_ms']:.2f})"
              f"  +wr {r['step_wr_ms']:9.3f} ms (ratio "
              f"{r['step_wr_ms'] / r['bound_wr_ms']:.2f})  encode "
              f"{r['B'] / r['encode_ms'] * 1e3:9.0f}/s ({r['encode_bound_ms'] / r['encode_ms']:.2f}"
              f" of bound)  GEMM {r['bound_gflops']:.0f} GFLOP/s  RSS "
              f"{r['rss_mib']:.0f} MiB  reps {r['reps']}  allocs {r.get('allocs', '?')}"
              f"  [step per round: {spread(r)}]", flush=True)
    for r in e["torch"]:
        print(f"  torch {r['setting']:<44} step {r['step_ms']:9.3f} ms"
              f"                           +wr {r['step_wr_ms']:9.3f} ms"
              f"               encode {r['B'] / r['encode_ms'] * 1e3:9.0f}/s"
              f"                  RSS {r['rss_mib']:.0f} MiB  reps {r['reps']}"
              f"  [step per round: {spread(r)}]", flush=True)


if __name__ == "__main__":
    sys.exit(main())
