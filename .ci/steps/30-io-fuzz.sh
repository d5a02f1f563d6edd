#!/usr/bin/env bash
# Fuzz the model-file loader with libFuzzer (clang, ASan + UBSan) for a
# bounded time each, starting from committed seed corpora:
#   load   every load entry point on arbitrary bytes (tests/io/corpus/);
#   train  the property fuzzer (tests/fuzz/fuzz_train.c, seeds in
#          tests/fuzz/train/): every file a load accepts goes through
#          steps, training, evaluation, forward and a save/reload, and the
#          parameters must stay finite or the call return an error.
# Any crash, leak, sanitizer report, violated property (a trap) or timeout
# fails the step; the input is kept in the reports folder (turn it into
# tests/io/regress/ or tests/fuzz/train/ with the fix).
set -euo pipefail

load_seconds=${DFSAE_FUZZ_SECONDS:-90}
train_seconds=${DFSAE_TRAIN_FUZZ_SECONDS:-30}
build=build-io-fuzz
reports=${DFSAE_CI_REPORTS:-reports}/io-fuzz
mkdir -p "$reports"

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DDFSAE_FUZZ=ON \
  -DDFSAE_BUILD_EXAMPLES=OFF -DDFSAE_WERROR=ON >/dev/null
cmake --build "$build" -j2 --target dfsae_fuzz_load dfsae_fuzz_train

failed=0
# fuzz NAME SECONDS SEEDS_DIR: one target, new inputs in a scratch corpus.
fuzz() {
  local name=$1 seconds=$2 seeds=$3 corpus status=0
  corpus=$(mktemp -d)
  cp "$seeds"/* "$corpus/"
  local log="$reports/$name.log"
  "$build/tests/dfsae_fuzz_$name" "$corpus" \
    -dict=tests/fuzz/safetensors.dict \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$reports/$name-" 2>"$log" ||
    status=$?
  rm -rf "$corpus"
  tail -n 8 "$log"
  local execs rate
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  echo "io-fuzz $name: ${execs:-?} executions in ${seconds} s, ${rate:-?} exec/s, exit ${status}"
  if [ "$status" -ne 0 ]; then
    echo "io-fuzz $name: the fuzzer found a problem; input saved under $reports" >&2
    failed=$((failed + 1))
  fi
}
fuzz load "$load_seconds" tests/io/corpus
fuzz train "$train_seconds" tests/fuzz/train
echo "io-fuzz: $((2 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
