#!/usr/bin/env bash
# dfsae eval with many components: the redundancy's K x K accumulators
# (12 K^2 bytes) are what needs the memory; the message says so and offers
# --no-redundancy, which skips them.
#   eval_memory.sh DFSAE_TOOL
set -uo pipefail
tool=$(realpath "$1")
. "$(dirname "$(realpath "$0")")/lib.sh"

# model K D FILE: a model file of K components on D inputs (zero weights,
# the bare safetensors layout; the library's defaults fill the rest).
model() {
  python3 - "$@" <<'PY'
import json, struct, sys
k, d, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
head = {"weight": {"dtype": "F32", "shape": [k, d],
                   "data_offsets": [0, 4 * k * d]},
        "bias": {"dtype": "F32", "shape": [k],
                 "data_offsets": [4 * k * d, 4 * k * d + 4 * k]}}
text = json.dumps(head).encode()
text += b" " * (-len(text) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + bytes(4 * (k * d + k)))
PY
}
printf '0.5\n1.5\n-2\n' >three.csv

# K = 30000: 12 K^2 = 10.1 GiB. Refused under a limit, before allocating.
model 30000 1 k30000.st
expect_error "K = 30000 under --max-memory 1G" 1 \
  "evaluating 30000 components needs 10.1 GiB, above the memory limit of 1.0 GiB (--max-memory SIZE raises it; the redundancy's K x K accumulators alone need about 12 K^2 = 10.1 GiB for K = 30000; --no-redundancy skips them)" -- \
  eval k30000.st three.csv --max-memory 1G
"$tool" eval k30000.st three.csv --max-memory 1G --no-redundancy >m.txt 2>e.txt
check "--no-redundancy evaluates K = 30000 in 1G" test $? -eq 0
check "  redundancy reported as skipped" \
  grep -qx 'redundancy: skipped (--no-redundancy)' m.txt
check "  the other metrics computed" grep -qx 'dead_units: 30000' m.txt

# K = 2^22: 12 K^2 is 192 TiB, past any address space. With the limit
# raised the library runs out of memory, and the message says what for.
model 4194304 1 huge.st
# (ASan: NULL instead of an abort, its warnings to a file.)
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}allocator_may_return_null=1:log_path=$work/asan" \
  expect_error "K = 2^22: out of memory, with the reason" 1 \
  "three.csv: out of memory: the redundancy's K x K accumulators alone need about 12 K^2 = 192.0 TiB for K = 4194304; --no-redundancy skips them" -- \
  eval huge.st three.csv --max-memory 1000T
"$tool" eval huge.st three.csv --no-redundancy >m.txt 2>e.txt
check "--no-redundancy evaluates K = 2^22" test $? -eq 0
check "  every unit of the zero model dead" grep -qx 'dead_units: 4194304' m.txt

report eval_memory
