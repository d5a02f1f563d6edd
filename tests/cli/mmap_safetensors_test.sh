#!/bin/bash
# Memory-mapped safetensors inputs (--mmap): an F32 or F16 tensor trains to
# the same model file, byte for byte, as the .npy of the same values; a
# named tensor among several (--tensor); a directory mixing .npy and
# safetensors shards as one data set; encode streams from it; hostile
# headers (lying shapes, offsets out of range, truncated data, other
# dtypes, bad JSON) get one clear error line each.
# Usage: mmap_safetensors_test.sh TOOL
set -uo pipefail
tool=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
need_numpy

"$py" - <<'PY' || exit 1
import os, numpy as np
from tensors import save
r = np.random.default_rng(2)
x = (r.random((1500, 40)) * 2 - 1).astype(np.float32)
h = x.astype(np.float16)
np.save('x16.npy', h)
np.save('x32.npy', x)
save('x16.safetensors', {'acts': h})
save('x32.safetensors', {'acts': x})
save('two.safetensors', {'bias': x[0], 'other': x[:10, :8], 'acts': h})
os.makedirs('mixed')
np.save('mixed/a.npy', h[:600])
save('mixed/b.safetensors', {'acts': h[600:1100]})
np.save('mixed/c.npy', h[1100:])
PY

train() { # train OUT ARGS...
  local out=$1; shift
  "$tool" train "$@" --components 16 --epochs 2 --seed 9 --out "$out" --quiet
}
train m16.st x16.npy --mmap
train m16st.st x16.safetensors --mmap
train mtwo.st two.safetensors --mmap --tensor acts
train mmixed.st mixed --mmap
train mlist.st mixed/a.npy,mixed/b.safetensors,mixed/c.npy --mmap
train m32.st x32.npy
train m32st.st x32.safetensors --mmap
for f in m16st mtwo mmixed mlist; do
  check "$f.st = m16.st (the float16 .npy) byte for byte" cmp -s m16.st "$f.st"
done
check "F32 safetensors = float32 .npy byte for byte" cmp -s m32.st m32st.st

"$tool" encode m16.st mixed --mmap --out f1.npy >/dev/null
"$tool" encode m16.st x16.npy --out f2.npy >/dev/null
check "encode of the mixed shards = of the .npy in memory" \
  "$py" -c 'import numpy as np, sys
a, b = np.load("f1.npy"), np.load("f2.npy")
sys.exit(not (a.shape == (1500, 16) and np.abs(a - b).max() <= 1e-5 * np.abs(b).max()))'

# Hostile files.
"$py" - <<'PY'
import numpy as np
from tensors import header, write
a = np.zeros((100, 8), np.float16).tobytes()
def one(path, dt='F16', shape=(100, 8), off=(0, 1600), data=a, extra=None):
    t = {'x': (dt, shape, off)}
    t.update(extra or {})
    write(path, header(t), data)
one('lie.safetensors', shape=(900, 8))             # shape bigger than range
one('past.safetensors', off=(1600, 3200))          # offsets past the data
one('short.safetensors', data=a[:-10])             # truncated data
one('back.safetensors', off=(1600, 0))             # end before begin
one('i32.safetensors', dt='I32', shape=(100, 4))   # another dtype
one('cube.safetensors', shape=(10, 10, 8))         # 3-D
one('pair.safetensors', extra={'y': ('F16', (50, 8), (0, 800))})
write('json.safetensors', b'{"x": {"dtype": "F16",  ', a)   # cut JSON
h = header({'x': ('F16', (100, 8), (0, 1600))}, meta=False)
write('nul.safetensors', b'{"__metadata__": \0\0, ' + h[1:], a)  # NUL value
raw = open('short.safetensors', 'rb').read()
open('hlen.safetensors', 'wb').write(b'\xff' * 8 + raw[8:])  # header length
np.save('w8.npy', np.zeros((5, 8), np.float16))
PY
expect_error "a shape that lies" 1 \
  "tensor 'x': shape [900, 8] of F16 is 14400 bytes, its data_offsets hold 1600" -- \
  train lie.safetensors --mmap --out x.st
expect_error "offsets out of range" 1 \
  "truncated or out of range: tensor 'x' ends at byte 3200 of the data, the file has 1600" -- \
  train past.safetensors --mmap --out x.st
expect_error "truncated data" 1 \
  "truncated or out of range: tensor 'x' ends at byte 1600 of the data, the file has 1590" -- \
  train short.safetensors --mmap --out x.st
expect_error "offsets backwards" 1 "data_offsets [1600, 0] end before they begin" -- \
  train back.safetensors --mmap --out x.st
expect_error "another dtype" 1 "tensor 'x' is I32 (need F32, F16 or BF16)" -- \
  train i32.safetensors --mmap --out x.st
expect_error "a 3-D tensor" 1 "no 2-D tensor (rows x columns)" -- \
  train cube.safetensors --mmap --out x.st
expect_error "a named 3-D tensor" 1 "tensor 'x' has 3 dimensions" -- \
  train cube.safetensors --mmap --tensor x --out x.st
expect_error "two 2-D tensors" 1 "2 2-D tensors ('x', y): choose one with --tensor NAME" -- \
  train pair.safetensors --mmap --out x.st
expect_error "a tensor not there" 1 "no tensor named 'acts'" -- \
  train pair.safetensors --mmap --tensor acts --out x.st
expect_error "cut JSON" 1 "bad safetensors header" -- \
  train json.safetensors --mmap --out x.st
expect_error "a NUL byte for a value" 1 "bad safetensors header: unexpected character" -- \
  train nul.safetensors --mmap --out x.st
expect_error "a header length past the file" 1 \
  "truncated or not a safetensors file: the header length" -- \
  train hlen.safetensors --mmap --out x.st
expect_error "shards that disagree" 1 "8 columns of float16, but x16.safetensors has 40" -- \
  train x16.safetensors,w8.npy --mmap --out x.st
expect_error "safetensors without --mmap" 2 "read in place only: add --mmap" -- \
  train x16.safetensors --out x.st
expect_error "--tensor on a .npy" 1 "--tensor names a safetensors tensor" -- \
  train x16.npy --mmap --tensor acts --out x.st
check "no model from the refusals" test ! -e x.st
report mmap_safetensors_test
