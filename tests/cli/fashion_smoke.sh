#!/usr/bin/env bash
# The README's main job, shortened (2 epochs on 10000 training images,
# 2000 test images, no raw-pixel probe):
#   fashion_smoke.sh FASHION_MNIST PNG_CHECK
# Asserts the pipeline's outputs are sane: every metric finite, no dead
# unit with the full objective, L0 and the probe accuracy in plausible
# ranges, a valid 466x466 PNG. Exit 77 (CTest: skipped) without the data.
set -euo pipefail
example=$1
png_check=$2
data=${DFSAE_FASHION_DIR:-/usr/share/datasets/fashion-mnist}
if [ ! -e "$data/train-images-idx3-ubyte.gz" ]; then
  echo "fashion_smoke: $data not found (apt-get install dataset-fashion-mnist): skipped"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$example" --data "$data" --epochs 2 --train-limit 10000 --test-limit 2000 \
  --no-raw-probe --out "$work/protos.png" | tee "$work/out.txt"

get() { sed -n "s/^$1: //p" "$work/out.txt"; }
failed=0
need() { # need NAME AWK_CONDITION_ON_x
  local v
  v=$(get "$1")
  if [ -z "$v" ]; then
    echo "FAIL $1 missing"; failed=1
  elif awk -v x="$v" "BEGIN { exit !($2) }"; then
    echo "ok   $1 = $v ($2)"
  else
    echo "FAIL $1 = $v, expected $2"; failed=1
  fi
}
finite='x == x + 0 && x !~ /nan|inf/'
for m in training_time_s l0_train l0_test redundancy_train redundancy_test \
         resp_entropy_test max_resp_test mean_activation_test; do
  need "$m" "$finite"
done
need dead_units_train 'x == 0'
need dead_units_test 'x == 0'
need l0_test 'x > 0 && x < 64'
need probe_accuracy_dfsae 'x > 0.6 && x <= 1'
need prototypes_png_size 'x == "466x466"'
"$png_check" "$work/protos.png" 466 466 || failed=1
[ "$failed" -eq 0 ] && echo "fashion_smoke: all checks passed"
exit "$failed"
