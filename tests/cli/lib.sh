# Shared by the tool's test scripts (sourced, after `set -uo pipefail`):
# a scratch directory as the working directory, and checks that print
# "ok"/"FAIL" and count. `tool` must be set (an absolute path) first;
# finish with `report NAME`.
cli_dir=$(realpath "$(dirname "${BASH_SOURCE[0]}")")
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cd "$work" || exit 1
failed=0
pass=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # check NAME COMMAND... : the command must succeed
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# expect_error NAME EXIT_CODE NEEDLE -- ARGS...: exit code, one stderr line
# containing NEEDLE, nothing on stdout.
expect_error() {
  local name=$1 code=$2 needle=$3; shift 4
  local rc=0
  "$tool" "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" -ne "$code" ]; then
    bad "$name: exit $rc, expected $code ($(head -c 300 err.txt))"
  elif [ "$(wc -l <err.txt)" -ne 1 ]; then
    bad "$name: $(wc -l <err.txt) lines on stderr, expected 1: $(head -c 300 err.txt)"
  elif ! grep -qF -- "$needle" err.txt; then
    bad "$name: stderr '$(cat err.txt)' lacks '$needle'"
  elif [ -s out.txt ]; then
    bad "$name: unexpected stdout"
  else
    ok "$name"
  fi
}
# make_idx FILE N: N 16x16 uint8 images in IDX format, of deterministic
# bytes (a repeated line of 65, so rows differ).
make_idx() {
  local n=$2
  { printf '\000\000\010\003'
    printf "\\$(printf %03o $((n >> 24 & 255)))\\$(printf %03o $((n >> 16 & 255)))"
    printf "\\$(printf %03o $((n >> 8 & 255)))\\$(printf %03o $((n & 255)))"
    printf '\000\000\000\020\000\000\000\020'
    yes 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!#' |
      head -c $((n * 256))
  } >"$1"
}
# need_numpy: Debian's python3 with python3-numpy (.ci/packages.txt) as
# $py, tensors.py importable; else the test is skipped (exit 77).
need_numpy() {
  py=/usr/bin/python3
  export PYTHONPATH=$cli_dir
  if ! "$py" -c 'import numpy' 2>/dev/null; then
    echo "python3-numpy is missing: skipped"
    exit 77
  fi
}
report() { # report NAME: the summary line; the exit status
  echo "$1: $pass passed, $failed failed"
  [ "$failed" -eq 0 ]
}
