#!/usr/bin/env bash
# Benchmark smoke run: build the benchmarks and run each once, on the
# smallest shape with few repetitions, to prove they work. CI timings mean
# nothing (shared machine); the real measurement is docs/performance.md's.
set -euo pipefail

build=build-bench-smoke
cmake -S . -B "$build" -DDFSAE_WERROR=ON -DDFSAE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target dfsae_bench
bench="$build/examples/bench"

"$bench/dfsae_bench" --shape 0 --reps 3 --warmup 1
# K > B and K > D: the B x B and D x D Gram sides.
"$bench/dfsae_bench" --shape 16x20x48 --reps 3 --warmup 1 --json

# PyTorch is optional (python3-torch); when present, its model must compute
# dfsae's loss, gradient and Adam step on the --check problems.
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
"$bench/dfsae_bench" --check "$check"
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  /usr/bin/python3 examples/bench/torch_step.py --check "$check"
  torch_flag=()
else
  echo "bench-smoke: python3-torch not installed, PyTorch check skipped"
  torch_flag=(--no-torch)
fi
if command -v python3 >/dev/null; then
  python3 examples/bench/run_bench.py --bench "$bench/dfsae_bench" --shape 0 \
    --reps 3 --warmup 1 --rounds 1 --results-dir "${TMPDIR:-/tmp}/dfsae-bench-smoke" "${torch_flag[@]}"
fi

# The Fashion-MNIST timing, one epoch on a subset, when zlib and the data
# set are there.
data=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
targets=$(cmake --build "$build" --target help)
if [[ $targets == *dfsae_bench_fmnist* && -f $data ]]; then
  cmake --build "$build" -j2 --target dfsae_bench_fmnist
  "$bench/dfsae_bench_fmnist" --epochs 1 --limit 2000
  "$bench/dfsae_bench_fmnist" --epochs 1 --limit 2000 --loop 1
else
  echo "bench-smoke: zlib or $data missing, Fashion-MNIST timing skipped"
fi

# The paired mapped-against-in-memory comparison, on a small float16 .npy
# (numpy writes it): it must run both sides and refuse a missing file.
cmake --build "$build" -j2 --target dfsae_bench_stream
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  /usr/bin/python3 -c 'import numpy as np, sys
np.save(sys.argv[1], np.random.default_rng(1).uniform(-1, 1, (4096, 64)).astype(np.float16))' "$check/x16.npy"
  "$bench/dfsae_bench_stream" "$check/x16.npy" --components 8 --batch 64 \
    --block 4 --skip 1 --rounds 2 --fetch auto,ahead,between |
    tee "$check/stream.txt"
  for way in auto ahead between; do
    grep -q "^mapped ($way) / memory over 2 rounds: median" "$check/stream.txt"
  done
else
  echo "bench-smoke: python3-numpy not installed, dfsae_bench_stream skipped"
fi
if "$bench/dfsae_bench_stream" "$check/missing.npy" 2>/dev/null; then
  echo "bench-smoke: dfsae_bench_stream accepted a missing file" >&2
  exit 1
fi
