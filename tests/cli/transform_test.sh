#!/usr/bin/env bash
# The model records how its inputs are scaled (`train --scale`,
# `--standardize`): a C host, encode and eval feed it raw data.
#   transform_test.sh DFSAE_TOOL HOST_ENCODE
set -uo pipefail
tool=$(realpath "$1")
host=$(realpath "$2")
. "$(dirname "$(realpath "$0")")/lib.sh"

make_idx img.idx 400
# One column constant for --standardize: 400 rows of 3 values, the middle
# one always 5.
awk 'BEGIN { for (i = 0; i < 400; i++) printf "%d,5,%d\n", i % 17, (i * 7) % 23 }' \
  >const.csv

# uint8 data: --scale auto is / 255, recorded as the global transform.
"$tool" train img.idx --components 16 --epochs 2 --batch 32 --out auto.st \
  --quiet
check "train --scale auto (uint8) exits 0" test $? -eq 0
check "info: the recorded transform is x / 255" \
  bash -c "'$tool' info auto.st | grep -qx 'input_transform: (x - 0) \* 0.00392157'"
check "a C host encodes raw inputs as the scaled inputs through a plain model" \
  "$host" auto.st img.idx scale 255
"$tool" train img.idx --components 16 --epochs 2 --batch 32 --out s10.st \
  --scale 10 --quiet
check "a C host: --scale 10" "$host" s10.st img.idx scale 10
"$tool" train img.idx --components 16 --epochs 2 --batch 32 --out none.st \
  --scale none --quiet
check "info: --scale none records no transform" \
  bash -c "'$tool' info none.st | grep -qx 'input_transform: none'"

# --standardize: per-feature mean and std, a constant feature only centred.
"$tool" train const.csv --components 4 --epochs 2 --batch 32 --out std.st \
  --standardize --lambda-var 0 --quiet
check "train --standardize exits 0" test $? -eq 0
check "info: a per-feature transform" \
  bash -c "'$tool' info std.st | grep -qx 'input_transform: per feature (3 shifts and scales)'"
check "a C host: --standardize, StandardScaler computed here" \
  "$host" std.st const.csv standardize 1
"$tool" train img.idx --components 16 --epochs 1 --batch 32 --out std8.st \
  --standardize --quiet
check "a C host: --standardize after / 255" \
  "$host" std8.st img.idx standardize 255

# encode and eval read raw data by default and agree with the C host's
# features: the same numbers as the model's forward on raw inputs.
"$tool" encode auto.st img.idx --out f.npy >/dev/null
check "encode exits 0" test $? -eq 0
"$tool" eval auto.st img.idx >eval.txt
check "eval: finite metrics" bash -c "! grep -qiE 'nan|inf' eval.txt"
"$tool" encode auto.st img.idx --out f255.npy --scale 255 >/dev/null
check "encode --scale 255 on top of the model's transform differs" \
  bash -c "! cmp -s f.npy f255.npy"

# --resume keeps the file's transform; changing it is refused.
"$tool" train img.idx --resume auto.st --epochs 3 --quiet
check "resume with the recorded transform exits 0" test $? -eq 0
check "resume keeps the transform" \
  bash -c "'$tool' info auto.st | grep -qx 'input_transform: (x - 0) \* 0.00392157'"
expect_error "resume with another --scale" 2 "records its input transform" -- \
  train img.idx --resume auto.st --epochs 4 --scale 10

report transform_test
