#!/bin/bash
# bfloat16 inputs: a .npy of 2-byte elements ('<u2', '|V2', or '<V2' as
# ml_dtypes saves bfloat16) read with --dtype bf16, mapped or in memory, and
# a safetensors BF16 tensor train to the same model file, byte for byte, as
# the float32 .npy of the same (bf16-rounded) values; the difference from
# the unrounded float32 data is reported; without --dtype bf16 such a .npy
# is refused with one clear line. Usage: mmap_bf16_test.sh TOOL
set -uo pipefail
tool=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
need_numpy

"$py" - <<'PY' || exit 1
import numpy as np
from tensors import save
r = np.random.default_rng(1)
x = (r.random((2000, 48)) * 2 - 1).astype(np.float32)
u = x.view(np.uint32)
b = ((u + 0x7fff + ((u >> 16) & 1)) >> 16).astype(np.uint16)  # to nearest even
xb = (b.astype(np.uint32) << 16).view(np.float32)
assert np.abs(xb - x).max() <= np.abs(x).max() * 2.0**-8
np.save('x32.npy', x)
np.save('x32b.npy', xb)
np.save('bu2.npy', b)
np.save('bv2.npy', b.view('V2'))
raw = open('bv2.npy', 'rb').read()
assert b"'|V2'" in raw
open('blv2.npy', 'wb').write(raw.replace(b"'|V2'", b"'<V2'", 1))
save('b.safetensors', {'acts': b}, {'acts': 'BF16'})
PY

train() { # train OUT ARGS...
  local out=$1; shift
  "$tool" train "$@" --components 24 --epochs 2 --seed 3 --out "$out" --quiet
}
train m32b.st x32b.npy
train mu2.st bu2.npy --mmap --dtype bf16
train mv2.st bv2.npy --mmap --dtype bf16
train mlv2.st blv2.npy --mmap --dtype bf16
train mmem.st blv2.npy --dtype bf16
train mst.st b.safetensors --mmap
train morig.st x32.npy
for f in mu2 mv2 mlv2 mmem mst; do
  check "$f.st = m32b.st (float32 of the bf16 values) byte for byte" \
    cmp -s m32b.st "$f.st"
done
check "the unrounded float32 data give another model" \
  bash -c '! cmp -s m32b.st morig.st'
"$tool" eval m32b.st blv2.npy --mmap --dtype bf16 >e1.txt
"$tool" eval m32b.st x32b.npy >e2.txt
check "eval of the bf16 set = of its float32 values" cmp -s e1.txt e2.txt

"$py" - <<'PY'
import numpy as np
from tensors import weight
wb, w = weight('m32b.st'), weight('morig.st')
print('bfloat16 vs the float32 data it was rounded from, after 2 epochs: '
      'max |W diff| / max |W| = %.3g' % (np.abs(wb - w).max() /
                                          np.abs(w).max()))
PY
check "the bfloat16 difference (above) computed" test $? -eq 0

expect_error "2-byte elements need --dtype bf16" 1 \
  "2-byte elements of no numeric type ('<V2'); if they are bfloat16" -- \
  train blv2.npy --mmap --out x.st
expect_error "... in memory too" 1 "no numeric type ('<u2')" -- \
  train bu2.npy --out x.st
expect_error "--dtype bf16 on float32 data" 1 \
  "--dtype bf16, but the file holds float32 data" -- \
  train x32.npy --mmap --dtype bf16 --out x.st
expect_error "--dtype bf16 on float32 data in memory" 1 \
  "--dtype bf16, but the file holds float32 data" -- \
  train x32.npy --dtype bf16 --out x.st
expect_error "an unknown --dtype" 2 "--dtype: 'f8' is not auto or bf16" -- \
  train bu2.npy --dtype f8 --out x.st
check "no model from the refusals" test ! -e x.st
report mmap_bf16_test
