#!/usr/bin/env bash
# The tool's memory limit (--max-memory): small inputs that would cost
# gigabytes are refused early, with one line naming the limit and the
# flag, and the tool's peak memory stays near the limit.
#   memory_limit.sh DFSAE_TOOL FIXTURES_DIR
set -uo pipefail
tool=$(realpath "$1")
fx=$(realpath "$2")
. "$(dirname "$(realpath "$0")")/lib.sh"

# peak_kib COMMAND...: run it (output to out.txt, err.txt), print its peak
# resident size in KiB (the exit status is in rc.txt).
peak_kib() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
with open("out.txt", "wb") as o, open("err.txt", "wb") as e:
    rc = subprocess.run(sys.argv[1:], stdout=o, stderr=e,
                        close_fds=False).returncode
open("rc.txt", "w").write(str(rc))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
# limited NAME MAX_KIB NEEDLE -- ARGS...: the tool fails (exit 1) with one
# line holding NEEDLE and "--max-memory", within MAX_KIB of memory.
limited() {
  local name=$1 max=$2 needle=$3; shift 4
  local kib
  kib=$(peak_kib "$tool" "$@")
  if [ "$(cat rc.txt)" -ne 1 ]; then
    bad "$name: exit $(cat rc.txt), expected 1 ($(head -c 300 err.txt))"
  elif [ "$(wc -l <err.txt)" -ne 1 ] || ! grep -qF -- "$needle" err.txt ||
    ! grep -qF -- "--max-memory" err.txt; then
    bad "$name: stderr '$(cat err.txt)' lacks '$needle' or --max-memory"
  elif [ "$kib" -gt "$max" ]; then
    bad "$name: peak $kib KiB, above $max KiB"
  else
    ok "$name ($kib KiB)"
  fi
}

python3 - <<'PY'
import gzip, struct
zero = bytes(1 << 20)
# A valid IDX.gz of 64 MiB of pixels (256 MiB of values): 64 KiB.
head = b"\0\0\x08\x03" + struct.pack(">III", 65536, 32, 32)
with gzip.open("pixels.idx.gz", "wb", compresslevel=9) as f:
    f.write(head)
    for _ in range(64):
        f.write(zero)
# A header that lies: 60000 x 28 x 28 promised, 10 bytes given.
with gzip.open("lie.idx.gz", "wb") as f:
    f.write(b"\0\0\x08\x03" + struct.pack(">III", 60000, 28, 28) + bytes(10))
# A gzip bomb: 128 MiB of zeros after a CSV line.
with gzip.open("bomb.csv.gz", "wb", compresslevel=9) as f:
    f.write(b"1,2\n")
    for _ in range(128):
        f.write(zero)
PY
check "fixtures written" test -s pixels.idx.gz -a -s bomb.csv.gz

limited "valid IDX.gz refused from its header" 65536 \
  "the IDX header announces 65536 x 1024 values" -- \
  train pixels.idx.gz --out x.st --max-memory 64M
limited "lying header refused before allocating" 65536 \
  "announces 60000 x 784 values" -- \
  train lie.idx.gz --out x.st --max-memory 32M
limited "gzip bomb stops at the limit" 98304 "decompresses to more than" -- \
  train bomb.csv.gz --out x.st --max-memory 16M
limited "pipe stops at the limit" 65536 "larger than the memory limit of 8.0 MiB" -- \
  train /dev/fd/3 --out x.st --max-memory 8M 3< <(head -c 200M /dev/zero)
truncate -s 4G sparse.csv
limited "file refused by its size" 65536 \
  "larger than the memory limit of 16.0 MiB" -- \
  train sparse.csv --out x.st --max-memory 16M
expect_error "a device is not data" 1 "/dev/zero: not a regular file or a pipe" -- \
  train /dev/zero --out x.st
check "no model from the refusals" test ! -e x.st

# encode counts the features beside the data.
"$tool" train "$fx/small.csv" --components 512 --epochs 1 --batch 96 \
  --out k.st --quiet
expect_error "encode: features above the limit" 1 \
  "encoding 96 rows into 512 features needs 198.0 KiB, above the memory limit of 100.0 KiB" -- \
  encode k.st "$fx/small.csv" --out f.npy --max-memory 100K
"$tool" encode k.st "$fx/small.csv" --out f.npy --max-memory 1M >/dev/null
check "encode within the limit" test -s f.npy

# Sizes: K, M, G, T with optional iB/B, fractions; nothing else.
expect_error "size with a bad unit" 2 "--max-memory: '12X' is not a size" -- \
  train "$fx/small.csv" --out x.st --max-memory 12X
expect_error "size 0" 2 "--max-memory: '0' is not a size" -- \
  train "$fx/small.csv" --out x.st --max-memory 0
"$tool" train "$fx/small.csv" --components 4 --epochs 1 --out y.st --quiet \
  --max-memory 1.5MiB
check "1.5MiB is a size" test -s y.st

# The default is tied to the machine: half of MemTotal.
half=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 2 / 1048576 }' /proc/meminfo)
check "--help shows the default, half the memory ($half)" \
  bash -c "'$tool' train --help | grep -qF '(the default here: $half)'"

report memory_limit
