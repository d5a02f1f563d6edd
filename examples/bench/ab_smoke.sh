#!/bin/sh
# Smoke test of `dfsae_bench_latency ab` (examples/bench/CMakeLists.txt):
#   ab_smoke.sh BENCH LIBDFSAE FAKE_V1 FAKE_V2
# The same library on both sides (once as a file, once as its directory)
# must print both sides with ordered, positive times, ratios that are the
# quotients, and identical outputs; bad libraries must give a clear error
# and exit 1. No timing is judged.
set -eu
bench=$1 lib=$2 fake1=$3 fake2=$4
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail() {
    echo "ab_smoke: $*" >&2
    cat "$out" "$err" >&2
    exit 1
}

rc=0
"$bench" ab --lib-a "$lib" --lib-b "$(dirname "$lib")" --shape 12x5 \
    --n 1 --n 3 --budget 0.05 --act softplus --z 1 >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 0 ] || fail "same library twice exited $rc"
[ "$(grep -c '^ABLIB [ab] [0-9]*\.[0-9]*\.[0-9]* /' "$out")" -eq 2 ] ||
    fail "expected an ABLIB line per side"
awk '
$1 == "AB" {
    rows++
    if ($2 != 12 || $3 != 5 || $4 != (rows == 1 ? 1 : 3) || $5 != "softplus" ||
        $6 != 1 || $7 < 50) { print "wrong cell: " $0; bad = 1 }
    for (s = 8; s <= 11; s += 3)
        if (!($s > 0 && $s <= $(s + 1) && $(s + 1) <= $(s + 2))) {
            print "times not 0 < p10 <= p50 <= p99: " $0; bad = 1
        }
    for (q = 0; q < 3; q++) {
        r = $(11 + q) / $(8 + q)
        if ($(14 + q) <= 0 || ($(14 + q) - r) ^ 2 > 1e-4 * r ^ 2) {
            print "ratio " q " is not b/a: " $0; bad = 1
        }
    }
    if ($17 != 0) { print "one build, different outputs: " $0; bad = 1 }
}
END { if (rows != 2) { print rows + 0 " AB lines, expected 2"; bad = 1 }
      exit bad }' "$out" || fail "bad AB output"

# expect_error WHAT PATTERN ARGS...: exit 1 (not a crash), PATTERN on stderr.
expect_error() {
    what=$1 pattern=$2
    shift 2
    rc=0
    "$bench" ab "$@" --shape 12x5 --n 1 --budget 0.01 >"$out" 2>"$err" || rc=$?
    [ "$rc" -eq 1 ] || fail "$what: exit $rc, expected 1"
    grep -q "$pattern" "$err" || fail "$what: no '$pattern' on stderr"
}
expect_error "missing library" "no such library or directory: /nonexistent" \
    --lib-a "$lib" --lib-b /nonexistent/libdfsae.so.1
expect_error "not a shared object" "cannot load .*ab_smoke.sh" \
    --lib-a "$0" --lib-b "$lib"
expect_error "other major version" "is libdfsae 2.0.0; this program was built for 1.x" \
    --lib-a "$lib" --lib-b "$fake2"
expect_error "missing symbol" "has no symbol dfsae_status_string" \
    --lib-a "$fake1" --lib-b "$lib"
rc=0
"$bench" ab --lib-a "$lib" >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "needs --lib-a PATH and --lib-b PATH" "$err" ||
    fail "one library: exit $rc, expected 2 with a usage message"
echo "ab_smoke: ok"
