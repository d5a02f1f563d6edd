#!/usr/bin/env bash
# dfsae-mpi end to end: a .npy data set (made by `dfsae encode`, read by
# row range) trained data-parallel on 2 ranks and dictionary-parallel on
# 4; the data-parallel model is one process's to rounding, and the 4
# shards load on one process (`dfsae info`, `dfsae encode` of the index).
# Usage: tool_mpi_test.sh MPIEXEC NP_FLAG DFSAE DFSAE_MPI
set -euo pipefail
mpiexec=$1 npflag=$2 dfsae=$3 dfsae_mpi=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# 300 rows x 8 columns of CSV, then features of a small model as .npy.
awk 'BEGIN { s = 7; for (i = 0; i < 300; i++) { line = "";
  for (j = 0; j < 8; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    line = line (j ? "," : "") sprintf("%.6f", s / 2147483648 - 0.5 + 0.3 * sin(i + j)) }
  print line } }' >raw.csv
"$dfsae" train raw.csv --out feat.safetensors --components 16 --epochs 1 --quiet
"$dfsae" encode feat.safetensors raw.csv --out x.npy >/dev/null

common=(--components 12 --epochs 2 --batch 64 --lr 1e-2 --seed 4 --activation softplus)
"$mpiexec" "$npflag" 2 "$dfsae_mpi" train x.npy --out data.safetensors \
  --distributed data "${common[@]}" 2>data.log
grep -q "each rank read its own rows" data.log || { cat data.log; exit 1; }
"$dfsae" train x.npy --out one.safetensors "${common[@]}" --quiet
# Same initialisation and batches: the weights agree to float rounding.
"$dfsae" info data.safetensors | grep -E '^(weight_row_norm|bias|optimizer)' >a.txt
"$dfsae" info one.safetensors | grep -E '^(weight_row_norm|bias|optimizer)' >b.txt
diff a.txt b.txt

"$mpiexec" "$npflag" 4 "$dfsae_mpi" train x.npy --out model \
  --distributed dictionary "${common[@]}" 2>dict.log
for r in 1 2 3 4; do
  test -s "model-0000$r-of-00004.safetensors"
done
"$dfsae" info model.index.json >info.txt
grep -qx 'components: 12' info.txt || { cat info.txt; exit 1; }
grep -q 'adam, lr 0.01, 10 steps' info.txt || { cat info.txt; exit 1; }
"$dfsae" encode model.index.json x.npy --out a.npy >/dev/null
test -s a.npy
# A bad mode fails on every rank, without hanging.
if "$mpiexec" "$npflag" 2 "$dfsae_mpi" train x.npy --out m --distributed rows 2>bad.log; then
  echo "--distributed rows was accepted" >&2
  exit 1
fi
grep -q "not data or dictionary" bad.log
# Rows read by offset keep the readers' rules: a header that promises more
# rows than the file holds, and a share above --max-memory, are one clear
# error each.
python3 - <<'PY'
data = open("x.npy", "rb").read()
hlen = data[8] | data[9] << 8
head = data[10:10 + hlen].decode().replace("(300, 16)", "(3000000, 16)")
head = head.rstrip() + " " * (hlen - len(head.rstrip()) - 1) + "\n"
assert len(head) == hlen
open("lie.npy", "wb").write(data[:10] + head.encode() + data[10 + hlen:])
PY
if "$mpiexec" "$npflag" 2 "$dfsae_mpi" train lie.npy --out m --distributed data 2>lie.log; then
  echo "a .npy promising 3000000 rows was accepted" >&2
  exit 1
fi
grep -q "lie.npy: truncated: the header promises 192000000 bytes" lie.log || { cat lie.log; exit 1; }
if "$mpiexec" "$npflag" 2 "$dfsae_mpi" train x.npy --out m --distributed data \
  --max-memory 8K 2>limit.log; then
  echo "--max-memory 8K was not enforced" >&2
  exit 1
fi
grep -q "above the memory limit of 8.0 KiB" limit.log || { cat limit.log; exit 1; }
echo "tool_mpi_test: data N=2 matches one process (info), 4 shards load on 1"
