#!/usr/bin/env bash
# Python interop for model files: numpy reads a dfsae-saved file and
# matches dfsae's forward to 1e-5; dfsae loads files written from Python.
# Needs python3 with numpy (python3-numpy); missing numpy fails the step.
set -euo pipefail

build=build-io-interop
cmake -S . -B "$build" -DDFSAE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j2 --target io_tool

python=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null; then
    python=$p
    break
  fi
done
if [ -z "$python" ]; then
  echo "io-interop: no python3 with numpy (apt-get install python3-numpy)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" tests/io/interop.py "$build/tests/io_tool" "$work"
