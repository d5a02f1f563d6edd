#!/usr/bin/env bash
# The README's main job, shortened, on the real data: 2 epochs on 10000
# Fashion-MNIST images, a linear probe, metrics and the prototype PNG
# (tests/cli/fashion_smoke.sh asserts they are sane), and the `dfsae` tool
# end to end on small fixtures. The data set must be installed here
# (.ci/packages.txt): a missing data set fails this step, it is not skipped.
set -euo pipefail

# Absolute: the tool test runs its commands from a scratch directory.
build=$PWD/build-fashion-smoke
test -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
cmake -S . -B "$build" -DDFSAE_WERROR=ON >/dev/null
cmake --build "$build" -j2 --target fashion_mnist dfsae_tool dfsae_png_check
tests/cli/fashion_smoke.sh "$build/examples/fashion_mnist/fashion_mnist" \
  "$build/tests/dfsae_png_check"
tests/cli/tool_test.sh "$build/examples/tool/dfsae" tests/cli/fixtures \
  "$build/tests/dfsae_png_check"
