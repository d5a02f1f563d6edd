#!/usr/bin/python3
"""Training and encoding a float16 .npy larger than the batch: the tool on
the memory-mapped file (--mmap) against the same file read into memory.

    stream_bench.py --tool BUILD/examples/tool/dfsae [--dir DIR] [--gib G]
                    [--cols D] [--components K] [--batch B] [--rounds R]
                    [--out FILE.md] [--keep]

Writes a float16 .npy of G GiB (D columns, seeded uniform values) in DIR,
reads it once so that the page cache is warm, then runs, alternately and R
times each, one epoch of `dfsae train` mapped and in memory (shuffled, the
same seed), each in its own process under /usr/bin/time -v: the epoch's
samples/s as the tool reports it (the step loop only, not the loading) and
the peak RSS. Then `dfsae encode --mmap` of the whole file, streaming its
.npy output: wall time and peak RSS. The files are deleted at the end
(unless --keep). Needs Debian's python3-numpy; check `df -h DIR` first.
"""
import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys

import numpy as np


def run(cmd):
    """(stderr text, peak RSS in KiB, wall seconds) of cmd under time -v."""
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True,
                       text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                        p.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time .*: (\S+)",
                     p.stderr).group(1).split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    return p.stderr, rss, secs


def samples_per_sec(text):
    return float(re.findall(r"(\d+) samples/s", text)[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--dir", default="/work/stream-bench")
    ap.add_argument("--gib", type=float, default=2.0)
    ap.add_argument("--cols", type=int, default=1024)
    ap.add_argument("--components", type=int, default=256)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    os.makedirs(a.dir, exist_ok=True)
    data = os.path.join(a.dir, "x16.npy")
    rows = int(a.gib * 2**30) // (2 * a.cols)
    if not os.path.exists(data):
        x = np.lib.format.open_memmap(data, mode="w+", dtype=np.float16,
                                      shape=(rows, a.cols))
        rng = np.random.default_rng(1)
        step = 65536
        for i in range(0, rows, step):
            m = min(step, rows - i)
            x[i:i + m] = (rng.random((m, a.cols), np.float32) * 2 - 1)
        x.flush()
        del x
    size = os.path.getsize(data)
    with open(data, "rb") as f:  # warm the page cache
        while f.read(1 << 24):
            pass

    common = ["--components", str(a.components), "--batch", str(a.batch),
              "--epochs", "1", "--seed", "1"]
    model = os.path.join(a.dir, "m.st")
    res = {"mapped": [], "memory": []}
    for _ in range(a.rounds):
        for kind in ("mapped", "memory"):
            extra = ["--mmap"] if kind == "mapped" else []
            err, rss, wall = run([a.tool, "train", data, "--out", model] +
                                 common + extra)
            res[kind].append((samples_per_sec(err), rss, wall))
            print(kind, res[kind][-1], flush=True)
    feats = os.path.join(a.dir, "features.npy")
    _, enc_rss, enc_wall = run([a.tool, "encode", model, data, "--mmap",
                                "--out", feats])
    feat_size = os.path.getsize(feats)

    best = {k: max(v[0] for v in res[k]) for k in res}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.abspath(__file__))
                            ).stdout.strip()
    lines = [
        "# Streamed training: %s at %s" % (datetime.date.today(), commit),
        "",
        "`examples/bench/stream_bench.py --tool %s --gib %g --cols %d "
        "--components %d --batch %d --rounds %d`" %
        (a.tool, a.gib, a.cols, a.components, a.batch, a.rounds),
        "",
        "float16 .npy of %d x %d (%.2f GiB), page cache warm, one shuffled "
        "epoch per run, the two cases alternating, each its own process." %
        (rows, a.cols, size / 2**30),
        "",
        "| run | input | samples/s | peak RSS | RSS / file | wall (s) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i in range(a.rounds):
        for kind in ("mapped", "memory"):
            s, rss, wall = res[kind][i]
            lines.append("| %d | %s | %.0f | %.0f MiB | %.3f | %.1f |" %
                         (i + 1, "--mmap" if kind == "mapped" else
                          "in memory (float32)", s, rss / 1024,
                          rss * 1024 / size, wall))
    lines += [
        "",
        "Best mapped / best in memory: %.3f (target >= 0.90)." %
        (best["mapped"] / best["memory"]),
        "",
        "`dfsae encode --mmap` of the whole set, streaming a %.2f GiB .npy: "
        "%.1f s, peak RSS %.0f MiB (%.3f of the input file)." %
        (feat_size / 2**30, enc_wall, enc_rss / 1024, enc_rss * 1024 / size),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    if not a.keep:
        shutil.rmtree(a.dir)


if __name__ == "__main__":
    main()
