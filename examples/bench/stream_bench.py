#!/usr/bin/python3
"""Training and encoding a float16 .npy larger than the batch: the tool on
the memory-mapped file (--mmap) against the same file read into memory.

    stream_bench.py --tool BUILD/examples/tool/dfsae [--dir DIR] [--gib G]
                    [--cols D] [--components K] [--batch B] [--rounds R]
                    [--no-encode] [--paired BENCH [--paired-rounds P]
                    [--block S] [--skip W] [--fetch WAYS]]
                    [--clean] [--results-dir DIR | --no-results]

Writes a float16 .npy of G GiB (D columns, seeded uniform values) in DIR
once: a later run with the same DIR, G and D reuses it (--clean deletes it
at the end). Then R rounds, each run after the file was read whole (so
that the page cache is warm: the kernel may have dropped idle pages).
Each round runs one shuffled epoch of `dfsae train` mapped and one in
memory (the same seed), each in its own process under /usr/bin/time -v,
the two in turn and the first of them alternating between rounds (so that
a load that drifts during the run favours neither). Each run's samples/s
as the tool reports it (the step loop, not the loading), its peak RSS, the
load average just before and after it, and how many cores the rest of the
machine kept busy meanwhile (from /proc/stat, less the run's own CPU
time). A round's ratio is its mapped over its in-memory samples/s,
measured minutes apart at most; the summary gives every round's ratio,
their median, best against best, and the median over the quiet rounds
alone (the rest of the machine under QUIET cores in both of the round's
runs). Then `dfsae encode --mmap` of the whole file, streaming its .npy
output: wall time and peak RSS. With --paired, last, dfsae_bench_stream
(BENCH) on the same file: the two inputs paired in one process, P rounds
of a call of S steps in memory and one mapped for each way of fetching in
WAYS (default auto,ahead,between), each call's first W (default 48)
untimed (its output whole, with the load and the host's steal time
meanwhile).

The results go to RESULTS-DIR/DATE-COMMIT-stream.md (the repository's
bench/results by default) and to stdout. Needs Debian's python3-numpy;
the run needs about 1.5 x the file's size free in DIR (data and features)
and 3 x in memory (the in-memory run's float32 copy).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ("mapped", "memory")
# Other processes' CPU use (cores) below which a run counts as quiet.
QUIET = 0.25


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def busy_seconds():
    """CPU seconds all processes have used since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    # user nice system idle iowait irq softirq steal: all but idle, iowait
    ticks = sum(int(x) for i, x in enumerate(fields[:8]) if i not in (3, 4))
    return ticks / os.sysconf("SC_CLK_TCK")


def steal_seconds():
    """CPU seconds the hypervisor took from this machine since boot."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    return int(fields[7]) / os.sysconf("SC_CLK_TCK") if len(fields) > 7 \
        else 0.0


def refaults():
    """File pages the system has read back from disk after dropping them
    (/proc/vmstat workingset_refault_file), or None."""
    try:
        with open("/proc/vmstat") as f:
            for line in f:
                k, v = line.split()
                if k == "workingset_refault_file":
                    return int(v)
    except OSError:
        pass
    return None


def damon():
    """The state of the kernel's DAMON monitors (which may page out file
    pages they see idle), or "none"."""
    root = "/sys/kernel/mm/damon/admin/kdamonds"
    states = []
    for d in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        try:
            with open(os.path.join(root, d, "state")) as f:
                states.append(f.read().strip())
        except OSError:
            pass
    return ", ".join(states) if states else "none"


def run(cmd):
    """(stderr text, peak RSS in KiB, wall seconds, cores that other
    processes kept busy on average meanwhile, file pages read back) of cmd
    under time -v."""
    busy0, back0 = busy_seconds(), refaults()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True,
                       text=True)
    busy, back1 = busy_seconds() - busy0, refaults()
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                        p.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time .*: (\S+)",
                     p.stderr).group(1).split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    own = sum(float(re.search(r"%s time \(seconds\): (\S+)" % k,
                              p.stderr).group(1)) for k in ("User", "System"))
    back = back1 - back0 if back0 is not None and back1 is not None else None
    return (p.stderr, rss, secs, max(0.0, busy - own) / max(secs, 1e-9),
            back)


def samples_per_sec(text):
    return float(re.findall(r"(\d+) samples/s", text)[-1])


def cached_shape(path):
    """(rows, cols) of a complete float16 .npy at path, or None."""
    try:
        x = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    return x.shape if x.dtype == np.float16 and x.ndim == 2 else None


def make_data(path, rows, cols):
    """The seeded float16 set, written under a temporary name and renamed
    when complete, so that an interrupted run leaves nothing to reuse."""
    if cached_shape(path) == (rows, cols):
        print("reusing", path, flush=True)
        return
    tmp = path + ".part"
    x = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16,
                                  shape=(rows, cols))
    rng = np.random.default_rng(1)
    step = 65536
    for i in range(0, rows, step):
        m = min(step, rows - i)
        x[i:i + m] = (rng.random((m, cols), np.float32) * 2 - 1)
    x.flush()
    del x
    os.replace(tmp, path)


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def git_commit():
    try:
        return subprocess.run(["git", "-C", HERE, "describe", "--always",
                               "--dirty"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d x %s" % (os.cpu_count(), model)


def report(a, argv, rows, size, res, enc, loads, paired):
    ratios = [m["sps"] / r["sps"] for m, r in zip(res["mapped"],
                                                  res["memory"])]
    quiet = [r for r, m, n in zip(ratios, res["mapped"], res["memory"])
             if max(m["others"], n["others"]) < QUIET]
    best = {k: max(v["sps"] for v in res[k]) for k in KINDS}
    peak = {k: max(v["rss"] for v in res[k]) for k in KINDS}
    out = [
        "Machine: %s; OPENBLAS_CORETYPE=%s, OPENBLAS_NUM_THREADS=%s; "
        "DAMON monitors (proactive reclaim of idle pages): %s. "
        "Written by examples/bench/stream_bench.py." %
        (machine(), os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
         os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"), damon()),
        "",
        "`%s`" % " ".join(["examples/bench/stream_bench.py"] + argv),
        "",
        "float16 .npy of %d x %d (%.2f GiB), read whole before each run "
        "(page cache warm); per run one "
        "shuffled epoch (seed 1) of %d -> %d, batch %d, each run its own "
        "process; in each round the two inputs in turn, the first "
        "alternating. \"Other processes\": the CPU time the rest of the "
        "machine used during the run (its wall time, including the "
        "loading), in cores; the load average includes the run itself. "
        "\"Read back\": file pages the system read back from disk during "
        "the run after the kernel had dropped them (workingset_refault_file; "
        "0 when the cache stayed warm). "
        "Load average (1, 5, 15 min) before the first run: %s; after the "
        "last: %s." %
        (rows, a.cols, size / 2**30, a.cols, a.components, a.batch,
         loads[0], loads[1]),
        "",
        "| round | input | samples/s | peak RSS | RSS / file | wall (s) "
        "| other processes (cores) | read back (pages) | load before "
        "| load after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i in range(a.rounds):
        for kind in res["order"][i]:
            e = res[kind][i]
            out.append("| %d | %s | %.0f | %.0f MiB | %.3f | %.1f | %.2f | %s "
                       "| %s | %s |" %
                       (i + 1, "--mmap" if kind == "mapped" else
                        "in memory (float32)", e["sps"], e["rss"] / 1024,
                        e["rss"] * 1024 / size, e["wall"], e["others"],
                        "n/a" if e["back"] is None else e["back"],
                        e["before"], e["after"]))
    out += [
        "",
        "Mapped / in memory, each round: %s." %
        ", ".join("%.3f" % r for r in ratios),
        "",
        "**Median of the rounds' ratios: %.3f**; best mapped / best in "
        "memory: %.3f (target >= 0.90)." %
        (statistics.median(ratios), best["mapped"] / best["memory"]),
        "",
        "Quiet rounds (other processes under %.2f cores in both runs): "
        "%d of %d%s." %
        (QUIET, len(quiet), len(ratios),
         ", median ratio %.3f" % statistics.median(quiet) if quiet else ""),
        "",
        "Peak RSS: mapped %.0f MiB (%.3f of the file; target < 0.25), in "
        "memory %.0f MiB." %
        (peak["mapped"] / 1024, peak["mapped"] * 1024 / size,
         peak["memory"] / 1024),
        "",
    ]
    if enc is not None:
        out += [
            "`dfsae encode --mmap` of the whole set, streaming a %.2f GiB "
            ".npy: %.1f s, peak RSS %.0f MiB (%.3f of the input file); load "
            "%s before, %s after." %
            (enc["size"] / 2**30, enc["wall"], enc["rss"] / 1024,
             enc["rss"] * 1024 / size, enc["before"], enc["after"]),
            "",
        ]
    if paired is not None:
        out += [
            "`%s` (load %s before, %s after; the host took %.1f%% of the "
            "machine's CPU time meanwhile, steal in /proc/stat):" %
            (" ".join(paired["cmd"]), paired["before"], paired["after"],
             paired["steal"]),
            "",
            "```",
            paired["text"].rstrip(),
            "```",
            "",
        ]
    return "\n".join(out)


def run_paired(a, data):
    cmd = [a.paired, data, "--components", str(a.components), "--batch",
           str(a.batch), "--block", str(a.block), "--skip", str(a.skip),
           "--rounds", str(a.paired_rounds), "--fetch", a.fetch]
    before, steal0, t0 = load(), steal_seconds(), time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))
    wall = max(time.time() - t0, 1e-9)
    steal = 100.0 * (steal_seconds() - steal0) / (wall * os.cpu_count())
    return {"cmd": [os.path.basename(a.paired)] + cmd[1:], "text": p.stdout,
            "before": before, "after": load(), "steal": steal}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--dir", default="/var/tmp/dfsae-stream-bench",
                    help="where the data set is kept between runs")
    ap.add_argument("--gib", type=float, default=2.0)
    ap.add_argument("--cols", type=int, default=1024)
    ap.add_argument("--components", type=int, default=256)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-encode", action="store_true")
    ap.add_argument("--paired", metavar="BENCH",
                    help="dfsae_bench_stream, run last on the same file")
    ap.add_argument("--paired-rounds", type=int, default=16)
    ap.add_argument("--skip", type=int, default=48)
    ap.add_argument("--fetch", default="auto,ahead,between")
    ap.add_argument("--block", type=int, default=256)
    ap.add_argument("--clean", action="store_true",
                    help="delete the data set at the end (only it: DIR "
                    "may hold other files)")
    ap.add_argument("--results-dir",
                    default=os.path.join(HERE, "..", "..", "bench", "results"))
    ap.add_argument("--no-results", action="store_true")
    a = ap.parse_args()
    if a.rounds < 1:
        sys.exit("--rounds must be at least 1")

    commit = git_commit()  # now: the tree may change while the run lasts
    os.makedirs(a.dir, exist_ok=True)
    data = os.path.join(a.dir, "x16-%d.npy" % a.cols)
    rows = int(a.gib * 2**30) // (2 * a.cols)
    make_data(data, rows, a.cols)
    size = os.path.getsize(data)
    warm(data)

    common = ["--components", str(a.components), "--batch", str(a.batch),
              "--epochs", "1", "--seed", "1"]
    model = os.path.join(a.dir, "m.st")
    res = {"mapped": [], "memory": [], "order": []}
    loads = [load(), None]
    for i in range(a.rounds):
        order = ("mapped", "memory") if i % 2 == 0 else ("memory", "mapped")
        res["order"].append(order)
        for kind in order:
            extra = ["--mmap"] if kind == "mapped" else []
            # Warm again: the run before left the file idle for a minute
            # or more, and proactive reclaim (DAMON) may have paged it out.
            warm(data)
            before = load()
            err, rss, wall, others, back = run([a.tool, "train", data,
                                                "--out", model] + common +
                                               extra)
            e = {"sps": samples_per_sec(err), "rss": rss, "wall": wall,
                 "others": others, "back": back, "before": before,
                 "after": load()}
            res[kind].append(e)
            print("round", i + 1, kind, e, flush=True)
    enc = None
    if not a.no_encode:
        feats = os.path.join(a.dir, "features.npy")
        before = load()
        _, rss, wall, _, _ = run([a.tool, "encode", model, data, "--mmap",
                                  "--out", feats])
        enc = {"rss": rss, "wall": wall, "before": before, "after": load(),
               "size": os.path.getsize(feats)}
        os.remove(feats)
    os.remove(model)
    paired = run_paired(a, data) if a.paired else None
    loads[1] = load()

    day = time.strftime("%Y-%m-%d")
    text = "# Streamed training: %s, repository at %s\n\n" % (day, commit) + \
        report(a, sys.argv[1:], rows, size, res, enc, loads, paired)
    print(text)
    if not a.no_results:
        os.makedirs(a.results_dir, exist_ok=True)
        path = os.path.join(a.results_dir, "%s-%s-stream.md" % (day, commit))
        with open(path, "w") as f:
            f.write(text)
        print("results:", os.path.abspath(path))
    if a.clean:
        os.remove(data)


if __name__ == "__main__":
    main()
