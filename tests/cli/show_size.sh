#!/usr/bin/env bash
# `dfsae show`: picture sizes computed from --zoom, --gap and --cols never
# wrap around (a wrapped size once passed the size check and the rendering
# wrote past its row buffer).
#   show_size.sh DFSAE_TOOL FIXTURES_DIR PNG_CHECK
set -uo pipefail
tool=$(realpath "$1")
fx=$(realpath "$2")
png_check=$(realpath "$3")
. "$(dirname "$(realpath "$0")")/lib.sh"

"$tool" train "$fx/small.csv" --components 8 --epochs 1 --batch 16 \
  --out m.st --quiet
check "a model to draw" test -s m.st

# 4 * 4611686018427387903 + 5 is 1 modulo 2^64: the tile's cell wraps to
# one pixel while the tile itself is "2^64 - 4" pixels wide.
expect_error "zoom that wraps the cell width" 1 "too large" -- \
  show m.st --out a.png --shape 4x4 --zoom 4611686018427387903 --gap 5
expect_error "zoom 2^62 + 1 with gap 2" 1 "too large" -- \
  show m.st --out a.png --zoom 4611686018427387905 --gap 2
expect_error "gap that wraps the picture" 1 "too large" -- \
  show m.st --out a.png --gap 4611686018427387904
expect_error "largest zoom" 1 "too large" -- \
  show m.st --out a.png --zoom 18446744073709551615
check "no picture left by the refusals" test ! -e a.png

# Sizes that fit still work; --cols beyond K is K.
"$tool" show m.st --out p.png --shape 4x4 --zoom 3 >/dev/null
check "3 x 3 tiles of 12 px, 4 gaps of 2" "$png_check" p.png 44 44
"$tool" show m.st --out c.png --shape 4x4 --zoom 1 --gap 0 \
  --cols 18446744073709551615 >/dev/null
check "--cols 2^64 - 1 draws one row of 8 tiles" "$png_check" c.png 32 4

report show_size
