#!/usr/bin/env bash
# Regenerates a table of docs/method.md from fresh runs of `dfsae ablate`
# on Fashion-MNIST, between its <!-- NAME:begin --> and <!-- NAME:end -->
# markers, with the command and the commit it ran at:
#
#   examples/study/method_tables.sh DFSAE_TOOL NAME [SEEDS]
#
# NAME is one of
#   seed         relu vs softmax, each with (tc, wr) in {0, 1}^2 and lse and
#                var on: 784 -> 64, 20 epochs (the seed's table)
#   convergence  SGD vs Adam over lr 1e-3 .. 1e-1 with the convergence rule
#                (loss change < 1 for 5 epochs), at most 100 epochs
#   runaway      100-epoch runs of the default objective and of remedies for
#                units whose activations grow without bound
# SEEDS (default 3) seeds per row. Run from the repository's top directory;
# progress goes to stderr. DFSAE_FASHION_DIR overrides the data directory;
# METHOD_LRS the convergence table's learning rates (on a busy machine, e.g.
# METHOD_LRS="1e-3 1e-2 1e-1"); METHOD_REMEDIES the runaway table's rows, in
# order, from: default cap10 cap100 adamw1e-2 adamw1e-1 norm2 norm4 norm8
# bias1 (all by default).
set -euo pipefail
tool=$(realpath "$1")
name=$2
seeds=${3:-3}
data=${DFSAE_FASHION_DIR:-/usr/share/datasets/fashion-mnist}
lrs=${METHOD_LRS:-1e-3 3e-3 1e-2 3e-2 1e-1}
remedies=${METHOD_REMEDIES:-default cap10 cap100 adamw1e-2 adamw1e-1 norm2 norm4 norm8 bias1}
doc=docs/method.md
[ -e "$doc" ] || { echo "run from the repository's top directory" >&2; exit 2; }
grep -q "<!-- $name:begin -->" "$doc" ||
  { echo "$doc has no <!-- $name:begin --> marker" >&2; exit 2; }

fashion=("$data/train-images-idx3-ubyte.gz"
  --labels "$data/train-labels-idx1-ubyte.gz"
  --test "$data/t10k-images-idx3-ubyte.gz"
  --test-labels "$data/t10k-labels-idx1-ubyte.gz")
ablate() { "$tool" ablate "${fashion[@]}" --seeds "$seeds" --markdown "$@"; }

# A table whose first columns name the run, from several one-row ablations:
#   rows "| col1 | col2 |" LABEL1 -- ARGS1... ;; LABEL2 -- ARGS2 ... ;;
# Each LABEL ("| sgd | 1e-3 |") replaces the objective cell of its row.
rows() {
  local head=$1 first=1 label args out
  shift
  while [ $# -gt 0 ]; do
    label=$1
    shift 2 # the label and "--"
    args=()
    while [ $# -gt 0 ] && [ "$1" != ";;" ]; do args+=("$1"); shift; done
    shift || true
    out=$(ablate "${args[@]}")
    if [ $first -eq 1 ]; then
      echo "$out" | sed -n '1s/^ablation: /Settings of the first row (the others differ as labelled): /p'
      echo
      echo "$out" | grep '^| objective' | sed "s/^| objective |/$head/"
      local sep="|" i
      for ((i = 1; i < $(grep -o '|' <<<"$head" | wc -l); i++)); do
        sep+="---|"
      done
      echo "$out" | grep '^|---|' | sed "s/^|---|/$sep/"
      first=0
    fi
    echo "$out" | grep '^| [a-z+]* |' | grep -v '^| objective |' |
      sed "s/^| [a-z+]* |/$label/"
  done
}

table() {
  case $name in
  seed)
    for act in relu softmax; do
      ablate --activation "$act" --fixed lse,var --terms tc,wr
      echo
    done
    ;;
  convergence)
    set --
    for opt in sgd adam; do
      for lr in $lrs; do
        set -- "$@" "| $opt | $lr |" -- --optimizer "$opt" --lr "$lr" \
          --fixed lse,var,tc --terms "" --epochs 100 --tolerance 1 \
          --patience 5 ";;"
      done
    done
    rows "| optimizer | lr |" "$@"
    ;;
  runaway)
    set --
    local r
    for r in $remedies; do
      case $r in
      default) set -- "$@" "| default |" -- ;;
      cap10) set -- "$@" "| saturating L_var, cap 10 |" -- --var-cap 10 ;;
      cap100) set -- "$@" "| saturating L_var, cap 100 |" -- --var-cap 100 ;;
      adamw1e-2)
        set -- "$@" "| AdamW, decoupled decay 1e-2 |" -- --optimizer adamw \
          --weight-decay 1e-2
        ;;
      adamw1e-1)
        set -- "$@" "| AdamW, decoupled decay 1e-1 |" -- --optimizer adamw \
          --weight-decay 1e-1
        ;;
      norm2) set -- "$@" "| max row norm 2 |" -- --max-row-norm 2 ;;
      norm4) set -- "$@" "| max row norm 4 |" -- --max-row-norm 4 ;;
      norm8) set -- "$@" "| max row norm 8 |" -- --max-row-norm 8 ;;
      bias1) set -- "$@" "| bias bound, 1 |" -- --max-bias 1 ;;
      *)
        echo "unknown remedy '$r' (default cap10 cap100 adamw1e-2" \
          "adamw1e-1 norm2 norm4 norm8 bias1)" >&2
        exit 2
        ;;
      esac
      set -- "$@" --epochs 100 --fixed lse,var,tc --terms "" ";;"
    done
    rows "| remedy |" "$@"
    ;;
  *)
    echo "unknown table '$name' (seed, convergence, runaway)" >&2
    exit 2
    ;;
  esac
}

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src include examples || commit="$commit (with local changes)"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
{
  echo "<!-- $name:begin -->"
  env=""
  [ "$name" = convergence ] && [ -n "${METHOD_LRS:-}" ] && env="METHOD_LRS=\"$lrs\" "
  [ "$name" = runaway ] && [ -n "${METHOD_REMEDIES:-}" ] &&
    env="METHOD_REMEDIES=\"$remedies\" "
  echo "Written by \`${env}examples/study/method_tables.sh build/examples/tool/dfsae $name $seeds\` at commit $commit:"
  echo
  table
  echo "<!-- $name:end -->"
} >"$body"
awk -v name="$name" -v body="$body" '
  $0 == "<!-- " name ":begin -->" { while ((getline l < body) > 0) print l; skip = 1; next }
  $0 == "<!-- " name ":end -->" { skip = 0; next }
  !skip { print }' "$doc" >"$doc.tmp"
mv "$doc.tmp" "$doc"
echo "method_tables: $doc: table '$name' written" >&2
