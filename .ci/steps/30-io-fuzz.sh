#!/usr/bin/env bash
# Fuzz the model-file loader with libFuzzer (clang, ASan + UBSan) for a
# bounded time, starting from the committed seed corpus. Any crash, leak,
# sanitizer report or timeout fails the step; the crashing input is kept in
# the reports folder (turn it into tests/io/regress/ with the fix).
set -euo pipefail

seconds=${DFSAE_FUZZ_SECONDS:-90}
build=build-io-fuzz
reports=${DFSAE_CI_REPORTS:-reports}/io-fuzz
mkdir -p "$reports"

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DDFSAE_FUZZ=ON \
  -DDFSAE_BUILD_EXAMPLES=OFF -DDFSAE_WERROR=ON >/dev/null
cmake --build "$build" -j2 --target dfsae_fuzz_load

# New inputs go to a scratch corpus, not into the repository.
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/io/corpus/* "$corpus/"

log="$reports/fuzz.log"
status=0
"$build/tests/dfsae_fuzz_load" "$corpus" \
  -dict=tests/fuzz/safetensors.dict \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$reports/" 2>"$log" || status=$?
tail -n 25 "$log"
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
echo "io-fuzz: ${execs:-?} executions in ${seconds} s, ${rate:-?} exec/s, exit ${status}"
if [ "$status" -ne 0 ]; then
  echo "io-fuzz: the fuzzer found a problem; input saved under $reports" >&2
  exit 1
fi
echo "io-fuzz: 1 passed, 0 failed"
