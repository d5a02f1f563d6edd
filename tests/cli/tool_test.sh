#!/usr/bin/env bash
# End-to-end test of the `dfsae` tool on small fixtures:
#   tool_test.sh DFSAE_TOOL FIXTURES_DIR PNG_CHECK
# Every check prints "ok"/"FAIL"; the script exits non-zero on any FAIL.
set -uo pipefail
# Absolute paths: the checks run from a scratch directory.
tool=$(realpath "$1")
fx=$(realpath "$2")
png_check=$(realpath "$3")
. "$(dirname "$(realpath "$0")")/lib.sh"

# --help everywhere
check "dfsae --help" bash -c "'$tool' --help | grep -q 'usage: dfsae COMMAND'"
for c in train encode eval info show ablate; do
  check "$c --help" bash -c "'$tool' $c --help | grep -q 'usage: dfsae $c'"
done

# train: plain per-epoch logs when stderr is not a terminal
"$tool" train "$fx/small.csv" --components 8 --epochs 3 --batch 16 \
  --out m.st --seed 3 2>train.log
check "train exits 0" test $? -eq 0
"$tool" train "$fx/small.csv" --components 8 --epochs 3 --batch 16 \
  --out m2.st --seed 3 --threads 2 2>/dev/null
check "train --threads 2 writes the same model" cmp m.st m2.st
check "train writes the model" test -s m.st
check "train writes no sidecar file" test ! -e m.st.run
check "one log line per epoch" \
  test "$(grep -c '^epoch [123]/3 loss' train.log)" -eq 3
check "no progress-bar escapes off a terminal" \
  bash -c "! grep -q \$'\\r' train.log"

"$tool" info m.st >info.txt
check "info: inputs" grep -q '^inputs: 16$' info.txt
check "info: components" grep -q '^components: 8$' info.txt
check "info: optimizer state (3 epochs x 6 steps)" \
  grep -q '^optimizer: adam, lr 0.001, 18 steps$' info.txt
check "info: run state in the file" \
  bash -c "grep -qx 'epochs: 3' info.txt && grep -qx 'epoch_rows: 0' info.txt \
           && grep -qx 'shuffle_seed: 3' info.txt"
check "info: the run's batch size in the metadata" \
  grep -qx 'meta.batch_size: 16' info.txt

"$tool" eval m.st "$fx/small.csv" >eval.txt
check "eval exits 0" test $? -eq 0
check "eval: every metric printed" \
  test "$(grep -cE '^(dead_units|l0|redundancy|resp_entropy|weight_redundancy|max_resp|mean_activation): ' eval.txt)" -eq 7
check "eval: finite metrics" bash -c "! grep -qiE 'nan|inf' eval.txt"

"$tool" encode m.st "$fx/small.csv" --out f.npy >/dev/null
check "encode writes .npy magic" \
  bash -c "head -c 6 f.npy | od -An -c | grep -q 'N   U   M   P   Y'"
# 96 x 8 float32 after a 128-byte header
check "encode: size 128 + 96*8*4" test "$(wc -c <f.npy)" -eq 3200
check "encode: shape in header" grep -qa "'shape': (96, 8)" f.npy

"$tool" show m.st --out p.png --shape 4x4 --zoom 3 >/dev/null
# 8 tiles: 3 per row (square grid), 3 rows of 12 px + 4 gaps of 2
check "show writes a valid PNG of the right size" \
  "$png_check" p.png 44 44

# convergence: a tolerance every change passes stops after patience + 1
# epochs, says so (even with --quiet) and records the epochs it ran
"$tool" train "$fx/small.csv" --components 4 --epochs 50 --batch 16 \
  --out cv.st --tolerance 1e300 --patience 2 --quiet 2>cv.log
check "converged run exits 0" test $? -eq 0
check "converged at epoch 3" grep -qx 'dfsae train: converged at epoch 3' cv.log
check "converged run: 3 epochs in the file" \
  bash -c "'$tool' info cv.st | grep -qx 'epochs: 3'"
expect_error "negative tolerance" 2 "--tolerance must be >= 0" -- \
  train "$fx/small.csv" --out t.st --tolerance -1 --quiet

# softmax and the unnormalised L_wr round-trip through the file
"$tool" train "$fx/small.csv" --components 4 --epochs 1 --batch 16 \
  --out sm.st --activation softmax --temperature 0.5 --lambda-wr 1 \
  --wr-form unnormalised --quiet
check "softmax model trains" test $? -eq 0
"$tool" info sm.st >sm.txt
check "info: softmax" grep -qx 'activation: softmax' sm.txt
check "info: temperature" grep -qx 'softmax_temperature: 0.5' sm.txt
check "info: wr form" grep -qx 'wr_form: unnormalised' sm.txt

# ablate: one row per term set, deterministic, the probe with labels
"$tool" ablate "$fx/small.csv" --components 4 --epochs 2 --batch 16 \
  --terms lse,var --quiet >ab.txt
check "ablate exits 0" test $? -eq 0
check "ablate: three term sets" \
  test "$(grep -cE '^(lse|var|lse\+var) ' ab.txt)" -eq 3
"$tool" ablate "$fx/small.csv" --components 4 --epochs 2 --batch 16 \
  --terms lse,var --quiet >ab2.txt
check "ablate is deterministic (all but the time column)" \
  bash -c "diff <(awk '{NF--; print}' ab.txt) <(awk '{NF--; print}' ab2.txt)"
"$tool" ablate "$fx/small.csv" --components 4 --epochs 2 --batch 16 \
  --fixed lse,var --terms tc --quiet >ab3.txt
check "ablate --fixed: lse+var and lse+var+tc" \
  bash -c "grep -q '^lse+var ' ab3.txt && grep -q '^lse+var+tc ' ab3.txt &&
           test \$(grep -c '^lse' ab3.txt) -eq 2"
awk 'BEGIN { for (i = 0; i < 96; i++) print i % 3 }' >labels.csv
"$tool" ablate "$fx/small.csv" --components 4 --epochs 2 --batch 16 \
  --terms lse --labels labels.csv --quiet >ab4.txt
check "ablate --labels: a probe accuracy in [0, 1]" \
  awk '$1 == "objective" { for (i = 1; i <= NF; i++) if ($i == "probe") c = i }
       $1 == "lse" { ok = c > 0 && $c >= 0 && $c <= 1 } END { exit !ok }' ab4.txt
# the projected loop: |a| <= max_row_norm * max ||x|| + max_bias
"$tool" ablate "$fx/small.csv" --components 4 --epochs 3 --batch 16 \
  --terms lse,var --max-row-norm 0.05 --max-bias 0.01 --quiet >ab5.txt
xmax=$(awk -F, '{ s = 0; for (i = 1; i <= NF; i++) s += $i * $i;
                  if (s > m) m = s } END { print sqrt(m) }' "$fx/small.csv")
check "ablate --max-row-norm/--max-bias bound the activations" \
  awk -v x="$xmax" '$1 == "objective" { for (i = 1; i <= NF; i++) if ($i == "max_act") c = i }
       $1 == "lse+var" { ok = c > 0 && $c > 0 && $c <= 0.05 * x + 0.01 + 1e-6 }
       END { exit !ok }' ab5.txt
check "ablate --labels: the probe column" grep -q ' probe ' ab4.txt
expect_error "ablate: bad term" 2 "--terms and --fixed take names" -- \
  ablate "$fx/small.csv" --terms lse,foo

# Ctrl-C: stops after the current step, writes the model, exits 130
# (signalled once an epoch has been reported, so that the handler is
# installed: a fixed sleep raced it on a loaded machine)
"$tool" train "$fx/small.csv" --components 4 --epochs 100000000 --batch 8 \
  --out c.st 2>int.log &
pid=$!
for _ in $(seq 600); do
  grep -q '^epoch ' int.log 2>/dev/null && break
  sleep 0.05
done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
check "Ctrl-C exits 130" test "$rc" -eq 130
# A signal that lands on an epoch's last step stops "after epoch E"
# (small.csv's epochs are short), one within an epoch "in epoch E".
check "Ctrl-C says where it stopped" grep -Eq \
  'interrupted (in epoch [0-9]+/[0-9]+ after step [0-9]+/[0-9]+|after epoch [0-9]+/[0-9]+); model written to c.st' int.log
check "Ctrl-C still writes a loadable model" \
  bash -c "'$tool' info c.st | grep -q '^components: 4$'"

# errors: one line, non-zero exit
expect_error "unknown command" 2 "unknown command 'frobnicate'" -- frobnicate
expect_error "unknown flag" 2 "unknown option '--bogus'" -- \
  train "$fx/small.csv" --out x.st --bogus 1
expect_error "bad integer" 2 "--epochs: 'two' is not a positive integer" -- \
  train "$fx/small.csv" --out x.st --epochs two
expect_error "zero epochs" 2 "--epochs: must be at least 1" -- \
  train "$fx/small.csv" --out x.st --epochs 0
expect_error "threads out of range" 2 "--threads 65 is out of range" -- \
  train "$fx/small.csv" --out never.st --threads 65
expect_error "missing value" 2 "--lr needs a value" -- \
  train "$fx/small.csv" --out x.st --lr
expect_error "missing --out" 2 "--out MODEL is required" -- \
  train "$fx/small.csv"
expect_error "bad activation" 2 "--activation: 'sigmoid'" -- \
  train "$fx/small.csv" --out x.st --activation sigmoid
expect_error "bad optimizer" 2 "--optimizer: 'rmsprop'" -- \
  train "$fx/small.csv" --out x.st --optimizer rmsprop
expect_error "missing data file" 1 "nope.csv: cannot open" -- \
  train nope.csv --out x.st
expect_error "truncated .npy" 1 "truncated.npy: truncated" -- \
  train "$fx/truncated.npy" --out x.st
expect_error "ragged CSV" 1 "ragged.csv: line 3 has 2 fields, expected 3" -- \
  train "$fx/ragged.csv" --out x.st
expect_error "model file that is not one" 1 "small.csv" -- \
  info "$fx/small.csv"
expect_error "width mismatch" 1 "has 17 columns but the model takes 16" -- \
  eval m.st "$fx/wide.csv"
expect_error "show: bad shape" 2 "--shape 3x3 does not cover" -- \
  show m.st --out q.png --shape 3x3
expect_error "unwritable output" 1 "/nonexistent/dir/m.st" -- \
  train "$fx/small.csv" --out /nonexistent/dir/m.st --epochs 1 --quiet
check "no model left behind by failed runs" test ! -e x.st

# Results float cannot hold (issue 14 item 2). A hand-made 2-in, 2-out
# model file (no dfsae metadata: default options, relu): W = [[1, 0],
# [0.5, 0.5]], b = 0, or W = 3e38 everywhere.
st_model() { # st_model OUT W00 W01 W10 W11: float32 bytes as printf escapes
  local json='{"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}'
  { printf "\\x$(printf %02x ${#json})\\0\\0\\0\\0\\0\\0\\0%s" "$json"
    printf "%b%b%b%b" "$2" "$3" "$4" "$5"
    printf '\0\0\0\0\0\0\0\0'; } >"$1"
}
one='\x00\x00\x80\x3f' half='\x00\x00\x00\x3f' zero='\x00\x00\x00\x00'
big='\xe6\xb1\x61\x7f'
st_model unit.st "$one" "$zero" "$half" "$half"
st_model huge.st "$big" "$big" "$big" "$big"
printf 'a,b\n1e30,2e30\n3e30,1e30\n2e30,2e30\n4e30,5e29\n' >large.csv
printf 'a,b\n2,2\n1,1\n' >over.csv
"$tool" eval unit.st large.csv >eval_large.txt
check "eval: activations of 1e30 exit 0" test $? -eq 0
check "eval: activations of 1e30 give finite metrics" \
  bash -c "grep -q '^redundancy: ' eval_large.txt && ! grep -qiE 'nan|inf' eval_large.txt"
expect_error "eval: overflowing activations" 1 "not finite" -- \
  eval huge.st over.csv
expect_error "encode: overflowing activations" 1 "not finite" -- \
  encode huge.st over.csv --out over.npy
check "encode: no features left after an overflow" test ! -e over.npy

# Under a file size limit (ulimit -f, KiB) outputs that do not fit are an
# error with a reason, not death by SIGXFSZ (exit 153): the library
# refuses a model above the limit, the tool ignores the signal so other
# writes fail with EFBIG.
fsize_check() { # fsize_check NAME NEEDLE ARGS...
  local name=$1 needle=$2 rc=0; shift 2
  (ulimit -f 2 && exec "$tool" "$@") >/dev/null 2>fsize.txt || rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then
    bad "$name: exit $rc under ulimit -f 2"
  elif ! grep -qF -- "$needle" fsize.txt; then
    bad "$name: stderr '$(cat fsize.txt)' lacks '$needle'"
  else
    ok "$name"
  fi
}
fsize_check "train under ulimit -f" "RLIMIT_FSIZE" \
  train "$fx/small.csv" --components 64 --epochs 1 --quiet --out limited.st
fsize_check "encode under ulimit -f" "File too large" \
  encode m.st "$fx/small.csv" --out limited.npy
check "nothing left by the limited runs" \
  bash -c "! ls | grep -q '^limited\.'"

report tool_test
