#!/usr/bin/env bash
# Fuzz each data reader (IDX, .npy, CSV; gzip through all of them) with
# libFuzzer (clang, ASan + UBSan) for a short bounded time from the seed
# corpus in tests/cli/corpus/. Any crash, leak, sanitizer report or timeout
# fails the step; the input is kept in the reports folder (add it to
# tests/cli/corpus/<fmt>/ with the fix: test_readers_corpus replays it).
set -euo pipefail

seconds=${DFSAE_READERS_FUZZ_SECONDS:-20}
build=build-readers-fuzz
reports=${DFSAE_CI_REPORTS:-reports}/readers-fuzz
mkdir -p "$reports"

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DDFSAE_FUZZ=ON \
  -DDFSAE_BUILD_EXAMPLES=OFF -DDFSAE_WERROR=ON >/dev/null
cmake --build "$build" -j2 --target dfsae_fuzz_reader_idx \
  dfsae_fuzz_reader_npy dfsae_fuzz_reader_csv

failed=0
for fmt in idx npy csv; do
  corpus=$(mktemp -d)
  cp tests/cli/corpus/"$fmt"/* "$corpus/"
  log="$reports/$fmt.log"
  status=0
  "$build/tests/dfsae_fuzz_reader_$fmt" "$corpus" \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$reports/$fmt-" 2>"$log" || status=$?
  rm -rf "$corpus"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  echo "readers-fuzz $fmt: ${execs:-?} executions in ${seconds} s, ${rate:-?} exec/s, exit ${status}"
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log"
    echo "readers-fuzz $fmt: the fuzzer found a problem; input saved under $reports" >&2
    failed=$((failed + 1))
  fi
done
echo "readers-fuzz: $((3 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
