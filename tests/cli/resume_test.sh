#!/usr/bin/env bash
# `dfsae train --resume` from the model file alone:
#   resume_test.sh DFSAE_TOOL FIXTURES_DIR FORMAT1_MODEL
# --epochs is the model's total; the run state in the file says where
# training stands; an interrupt, its message, the file and the resumed run
# agree, and interrupted + resumed is the uninterrupted run byte for byte.
set -uo pipefail
tool=$(realpath "$1")
fx=$(realpath "$2")
format1=$(realpath "$3")
. "$(dirname "$(realpath "$0")")/lib.sh"

"$tool" train "$fx/small.csv" --components 8 --epochs 3 --batch 16 \
  --out m.st --seed 3 --quiet
check "train exits 0" test $? -eq 0

# resume: --epochs is the total, the file alone says where training stands
# (and its batch size)
"$tool" train "$fx/small.csv" --resume m.st --epochs 5 2>resume.log
check "resume exits 0" test $? -eq 0
check "resume says where it starts" \
  grep -q 'has completed 3 epochs: resuming at epoch 4/5' resume.log
check "resume logs epochs 4/5 and 5/5 only" \
  test "$(grep -c '^epoch [45]/5 loss' resume.log)" -eq 2 -a \
       "$(grep -c '^epoch' resume.log)" -eq 2
check "resume: 5 epochs in the file" \
  bash -c "'$tool' info m.st | grep -qx 'epochs: 5'"
check "resume: 30 optimizer steps" \
  bash -c "'$tool' info m.st | grep -q ', 30 steps$'"
cp m.st m5.st
"$tool" train "$fx/small.csv" --resume m.st --epochs 5 2>done.log
check "resume with nothing to do exits 0" test $? -eq 0
check "resume with nothing to do says so" grep -q 'nothing to do' done.log
check "resume with nothing to do leaves the file" cmp m.st m5.st
expect_error "--seed with a run state" 2 "continues its run with shuffle seed 3" -- \
  train "$fx/small.csv" --resume m.st --epochs 6 --seed 9

# A format-1 file (no run state) resumes at epoch 1 and says so.
printf '0.1,0.2,0.3\n0.4,0.5,0.6\n0.7,0.8,0.9\n1.0,1.1,1.2\n' >three.csv
"$tool" train three.csv --resume "$format1" \
  --out f1.st --epochs 1 --batch 2 2>f1.log
check "format-1 file resumes" test $? -eq 0
check "format-1 file: no run state, starting at epoch 1" \
  grep -q 'no run state): starting at epoch 1/1' f1.log
check "format-1 file: now 1 epoch, 2 + 2 steps" \
  bash -c "'$tool' info f1.st | grep -qx 'epochs: 1' &&
           '$tool' info f1.st | grep -q ', 4 steps$'"

# Interrupted after the first of 3 epochs (Ctrl-C on its log line), then
# --resume with the file alone: the message, the file's run state and the
# resumed log agree, and the result is the uninterrupted run's, byte for
# byte. The data: 12000 16x16 uint8 images of deterministic bytes, about
# a third of a second per epoch.
make_idx big.idx 12000
big=(train big.idx --components 256 --batch 16 --seed 5)
"$tool" "${big[@]}" --epochs 3 --out whole.st --quiet
"$tool" "${big[@]}" --epochs 3 --out cut.st 2>cut.log &
pid=$!
for _ in $(seq 1 3000); do
  grep -q '^epoch 1/3 ' cut.log && break
  sleep 0.01
done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
check "interrupted run exits 130 (not finished before Ctrl-C)" test "$rc" -eq 130
"$tool" info cut.st >cut.info
msg=$(grep 'interrupted' cut.log)
if [[ $msg =~ interrupted\ in\ epoch\ ([0-9]+)/3\ after\ step\ ([0-9]+)/750 ]]; then
  e=${BASH_REMATCH[1]} s=${BASH_REMATCH[2]}
  check "interrupt message and run state agree (epoch $e, step $s)" \
    bash -c "grep -qx 'epochs: $((e - 1))' cut.info &&
             grep -qx 'epoch_rows: $((s * 16))' cut.info"
  resumed="epoch $e/3"
elif [[ $msg =~ interrupted\ after\ epoch\ ([0-9]+)/3 ]]; then
  e=${BASH_REMATCH[1]}
  check "interrupt message and run state agree (after epoch $e)" \
    bash -c "grep -qx 'epochs: $e' cut.info && grep -qx 'epoch_rows: 0' cut.info"
  resumed="epoch $((e + 1))/3"
else
  bad "interrupt message: '$msg'"
  resumed="?"
fi
check "no sidecar next to the interrupted model" test ! -e cut.st.run
"$tool" train big.idx --resume cut.st --epochs 3 2>resumed.log
check "resume after the interrupt exits 0" test $? -eq 0
check "resume starts where the interrupt stopped ($resumed)" \
  grep -q "($resumed)\|at $resumed" resumed.log
check "resume logs only the epochs left" \
  bash -c "! grep -q '^epoch 1/3 ' resumed.log && grep -q '^epoch 3/3 ' resumed.log"
check "interrupted + resumed = uninterrupted, byte for byte" cmp whole.st cut.st

report resume_test
