#!/usr/bin/env bash
# Line and branch coverage of the library (src/ only) by the test suite:
# gcc --coverage in its own build directory, every test except the
# packaging ones (they build consumers, not src/) and the Fashion-MNIST
# smoke run (minutes of the same code the unit tests reach), then gcovr.
# Prints the percentages; the per-file table goes to the reports folder.
# Counters are updated atomically: the model's worker threads share them.
# gcov still, now and then, derives a negative count for a branch of the
# training loop from a full run's merged counters (never from any one test
# run alone, and not in every full run); gcovr refuses such a line, so
# those are ignored (--gcov-ignore-parse-errors) and the rest counted.
# Fails if line coverage of src/ drops below DFSAE_COVERAGE_MIN (90).
set -euo pipefail

min=${DFSAE_COVERAGE_MIN:-90}
build=build-coverage
reports=${DFSAE_CI_REPORTS:-reports}/coverage
mkdir -p "$reports"

# Coverage counters from an earlier run would be added to this one's.
rm -rf "$build"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="--coverage -fprofile-update=atomic" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
  -DCMAKE_SHARED_LINKER_FLAGS=--coverage \
  -DDFSAE_TEST_REPORT_DIR="$reports/tests" >/dev/null
cmake --build "$build" -j2 >/dev/null
ctest --test-dir "$build" -j2 --output-on-failure -LE 'package|example'

root=$PWD
gcovr --root "$root" --filter "$root/src/" --object-directory "$build" \
  --exclude-directories "$build/CMakeFiles/[0-9].*" --gcov-ignore-parse-errors \
  --txt "$reports/lines.txt" --print-summary | tee "$reports/summary.txt"
gcovr --root "$root" --filter "$root/src/" --object-directory "$build" \
  --exclude-directories "$build/CMakeFiles/[0-9].*" --gcov-ignore-parse-errors \
  --branches --txt "$reports/branches.txt" >/dev/null
cat "$reports/lines.txt"

lines=$(sed -n 's/^lines: *\([0-9.]*\)%.*/\1/p' "$reports/summary.txt")
branches=$(sed -n 's/^branches: *\([0-9.]*\)%.*/\1/p' "$reports/summary.txt")
echo "coverage of src/: lines ${lines}%, branches ${branches}%"
if ! awk -v l="$lines" -v m="$min" 'BEGIN { exit !(l + 0 >= m + 0) }'; then
  echo "coverage: line coverage ${lines}% is below ${min}%" >&2
  exit 1
fi
echo "coverage: 1 passed, 0 failed"
