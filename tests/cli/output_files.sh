#!/usr/bin/env bash
# Every file the tool writes (model, .npy features, PNG picture) appears
# whole or not at all, with the umask's permissions (or those of the file
# it replaces), and only a regular file is ever replaced.
#   output_files.sh DFSAE_TOOL FIXTURES_DIR
set -uo pipefail
tool=$(realpath "$1")
fx=$(realpath "$2")
. "$(dirname "$(realpath "$0")")/lib.sh"

mode_of() { stat -c %a "$1"; }
# no_strays: nothing in the directory but the files named
no_strays() {
  local want
  want=$(printf '%s\n' "$@" | sort)
  [ "$(ls -A | sort)" = "$want" ]
}

for mask in 022 077; do
  want=$(printf '%o' $((0666 & ~0$mask)))
  mkdir "u$mask"
  (
    cd "u$mask" || exit 1
    umask "$mask"
    "$tool" train "$fx/small.csv" --components 8 --epochs 1 --batch 16 \
      --out m.st --quiet &&
      "$tool" encode m.st "$fx/small.csv" --out f.npy >/dev/null &&
      "$tool" show m.st --out p.png --shape 4x4 >/dev/null
  )
  check "umask $mask: the three files written" \
    test -s "u$mask/m.st" -a -s "u$mask/f.npy" -a -s "u$mask/p.png"
  for f in m.st f.npy p.png; do
    check "umask $mask: $f has mode $want" \
      test "$(mode_of "u$mask/$f")" = "$want"
  done
done

# A file that is replaced keeps its permissions.
cd u022 || exit 1
chmod 640 f.npy p.png
"$tool" encode m.st "$fx/small.csv" --out f.npy >/dev/null
"$tool" show m.st --out p.png --shape 4x4 --zoom 3 >/dev/null
check "a replaced .npy keeps mode 640" test "$(mode_of f.npy)" = 640
check "a replaced PNG keeps mode 640" test "$(mode_of p.png)" = 640

# A write that fails (the file size limit, 1 KiB: both outputs are larger)
# leaves the old file byte for byte and no temporary beside it.
cp f.npy f.before
cp p.png p.before
(ulimit -f 1; exec "$tool" encode m.st "$fx/small.csv" --out f.npy) \
  >out.txt 2>err.txt
check "encode past ulimit -f fails" test $? -eq 1
check "  saying why" grep -q "f.npy: write error: File too large" err.txt
check "  leaving the old features" cmp -s f.npy f.before
(ulimit -f 1; exec "$tool" show m.st --out p.png --shape 4x4 --zoom 30) \
  >out.txt 2>err.txt
check "show past ulimit -f fails" test $? -eq 1
check "  saying why" grep -q "p.png: write error: File too large" err.txt
check "  leaving the old picture" cmp -s p.png p.before
rm -f out.txt err.txt
check "no temporary left behind" no_strays f.npy f.before m.st p.png p.before

# Only regular files are replaced: a FIFO (which a plain open would block
# on) and a directory are refused, and stay what they were.
mkfifo fifo.png
mkdir dir.npy
expect_error "show refuses a FIFO" 1 "fifo.png: is a FIFO; only a regular file is replaced" -- \
  show m.st --out fifo.png --shape 4x4
check "  the FIFO is still one" test -p fifo.png
expect_error "encode refuses a directory" 1 "dir.npy: is a directory" -- \
  encode m.st "$fx/small.csv" --out dir.npy
check "  the directory is still one" test -d dir.npy
ln -s f.npy link.npy
"$tool" encode m.st "$fx/small.csv" --out link.npy >/dev/null
check "a symbolic link is replaced, not followed" \
  test ! -L link.npy -a -f link.npy
check "  its target untouched" cmp -s f.npy f.before

report output_files
