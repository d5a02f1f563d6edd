#!/bin/bash
# Memory-mapped .npy inputs (--mmap): a float16 set trains to the same
# model file, byte for byte, mapped or in memory, as a directory of shards,
# and as the float32 array of the same values; the difference from the
# float32 data it was rounded from is reported; eval agrees; encode of a
# mapped set streams its output; hostile files get one clear error line,
# and so does a NaN or Inf value, naming its row.
# Usage: mmap_test.sh TOOL
set -uo pipefail
tool=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
need_numpy

"$py" - <<'PY' || exit 1
import numpy as np, os
r = np.random.default_rng(0)
x = (r.random((3000, 64)) * 2 - 1).astype(np.float32)
h = x.astype(np.float16)
np.save('x32.npy', x)
np.save('x16.npy', h)
np.save('x32h.npy', h.astype(np.float32))
os.makedirs('shards')
for name, a, b in (('a', 0, 1000), ('b', 1000, 2500), ('c', 2500, 3000)):
    np.save('shards/%s.npy' % name, h[a:b])
np.save('u8.npy', (r.random((10, 64)) * 255).astype(np.uint8))
np.save('narrow.npy', h[:5, :32])
PY

train() { # train OUT ARGS...
  local out=$1; shift
  "$tool" train "$@" --components 32 --epochs 2 --seed 5 --out "$out" --quiet
}
train m16map.st x16.npy --mmap
train m16mem.st x16.npy
train m32map.st x32h.npy --mmap
train m32mem.st x32h.npy
train mshards.st shards --mmap
train mlist.st shards/a.npy,shards/b.npy,shards/c.npy --mmap
train morig.st x32.npy
for f in m16mem m32map m32mem mshards mlist; do
  check "$f.st = m16map.st byte for byte" cmp -s m16map.st "$f.st"
done
check "the unrounded float32 data give another model" \
  bash -c '! cmp -s m16map.st morig.st'

"$tool" eval m16map.st x16.npy --mmap >e1.txt
"$tool" eval m16map.st x16.npy >e2.txt
check "eval mapped = in memory" cmp -s e1.txt e2.txt

"$tool" encode m16map.st shards --mmap --out f1.npy >/dev/null
"$tool" encode m16map.st x16.npy --out f2.npy >/dev/null
"$tool" encode m16map.st x16.npy --mmap --out f3.npy --limit 7 >/dev/null
"$py" - <<'PY'
import numpy as np
from tensors import weight
a, b, c = np.load('f1.npy'), np.load('f2.npy'), np.load('f3.npy')
assert a.shape == (3000, 32) and c.shape == (7, 32), (a.shape, c.shape)
d = np.abs(a - b).max() / np.abs(b).max()
assert d < 1e-5, d
assert (c == a[:7]).all() or np.abs(c - a[:7]).max() < 1e-5
w16, w32 = weight('m16map.st'), weight('morig.st')
print('encode: streamed vs in memory, max |diff| / max |A| = %.3g' % d)
print('float16 vs the float32 data it was rounded from, after 2 epochs: '
      'max |W diff| / max |W| = %.3g' % (np.abs(w16 - w32).max() /
                                          np.abs(w32).max()))
PY
check "encode outputs and the float16 difference (above)" test $? -eq 0

# Hostile files.
"$py" - <<'PY'
import numpy as np
h = np.zeros((100, 8), np.float16)
np.save('ok.npy', h)
raw = open('ok.npy', 'rb').read()
open('short.npy', 'wb').write(raw[:-10])          # truncated data
open('long.npy', 'wb').write(raw + b'\0' * 6)      # trailing bytes
lie = raw.replace(b'(100, 8)', b'(900, 8)')        # shape bigger than file
open('lie.npy', 'wb').write(lie)
open('tiny.npy', 'wb').write(raw[:5])              # not even a preamble
open('hdr.npy', 'wb').write(raw[:40])              # header cut
PY
"$py" - <<'PY'
import numpy as np
h = np.load('x16.npy')
h[1234, 7] = np.nan
np.save('nan16.npy', h)
h[1234, 7] = 0
h[2999, 63] = -np.inf
np.save('inf16.npy', h)
PY
mkdir empty
expect_error "truncated data" 1 "truncated: the header promises 100 x 8 values (1600 bytes), the file has 1590" -- \
  train short.npy --mmap --out x.st
expect_error "trailing bytes" 1 "6 unexpected bytes after the array data" -- \
  train long.npy --mmap --out x.st
expect_error "a shape that lies" 1 "truncated: the header promises 900 x 8 values" -- \
  train lie.npy --mmap --out x.st
expect_error "no preamble" 1 "tiny.npy: truncated" -- \
  train tiny.npy --mmap --out x.st
expect_error "header cut" 1 "truncated .npy header" -- \
  train hdr.npy --mmap --out x.st
expect_error "uint8 is not read in place" 1 "uint8 data cannot be read in place" -- \
  train u8.npy --mmap --out x.st
expect_error "an empty directory" 1 "no .npy or .safetensors files in the directory" -- \
  train empty --mmap --out x.st
expect_error "shards that disagree" 1 "32 columns of float16, but x16.npy has 64" -- \
  train x16.npy,narrow.npy --mmap --out x.st
expect_error "a missing shard" 1 "nothere.npy: cannot open" -- \
  train x16.npy,nothere.npy --mmap --out x.st
# A NaN or Inf float16 value is found as the rows are converted, and named.
expect_error "a NaN in a mapped float16 row" 1 "row 1234 of the source, column 7, is not finite" -- \
  train nan16.npy --mmap --components 8 --out nan.st --quiet
expect_error "an Inf in the last mapped row, in order" 1 "step 23: row 2999 of the source, column 63, is not finite" -- \
  train inf16.npy --mmap --no-shuffle --components 8 --out inf.st --quiet
expect_error "eval of a mapped Inf" 1 "evaluate: row 2999 of the source, column 63, is not finite" -- \
  eval m16map.st inf16.npy --mmap
check "no model from the refusals" test ! -e x.st
report mmap_test
