#!/usr/bin/env bash
# The portable paths of the run-time CPU dispatch (sgemv/sgemm instead of
# the AVX2 small-batch kernel, the float16 loop instead of F16C, the
# default version of each target_clones sweep), which CI's AVX2 machines
# never take otherwise: a build with DFSAE_PORTABLE_ONLY=ON and the tests
# that reach the dispatched code (forward, float16 input, activations and
# the sweeps of the loss, gradient and optimizer).
set -euo pipefail

build="build-portable-only"
reports="$DFSAE_CI_REPORTS/portable"
mkdir -p "$reports"
# Not test_forward_small_stream: its one test is of the AVX2 kernel alone,
# which this build turns off, so it could only skip.
tests=(test_forward test_forward_small
  test_forward_checks test_half test_source test_activation test_softmax
  test_transform test_loss_lse test_loss_tc test_objective_grad test_optim
  test_training test_eval)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDFSAE_PORTABLE_ONLY=ON -DDFSAE_WERROR=ON -DDFSAE_BUILD_TESTS=ON \
  -DDFSAE_MPI=OFF -DDFSAE_BUILD_EXAMPLES=OFF \
  -DDFSAE_TEST_REPORT_DIR="$reports" >/dev/null
cmake --build "$build" -j2 --target dfsae_shared "${tests[@]}"

# The option must have removed every clone: none of them in the library.
nm "$build/libdfsae.so" >"$build/nm.txt"
clones=$(grep -cE '\.(avx2|avx512f|resolver)' "$build/nm.txt" || true)
if [ "$clones" -ne 0 ]; then
  echo "portable: $clones target_clones symbols left in libdfsae.so" >&2
  exit 1
fi

regex="^($(IFS='|'; echo "${tests[*]}"))\$"
# A renamed test would drop out of the run silently.
count=$(ctest --test-dir "$build" -R "$regex" -N | sed -n 's/^Total Tests: //p')
if [ "${count:-0}" -ne "${#tests[@]}" ]; then
  echo "portable: ${count:-0} tests match, expected ${#tests[@]}" >&2
  exit 1
fi
if ! ctest --test-dir "$build" -R "$regex" --output-on-failure -j2; then
  for f in "$reports"/*.xml; do
    if grep -q -e '<failure' -e '<error' "$f"; then
      echo "--- $f"
      cat "$f"
    fi
  done
  exit 1
fi
