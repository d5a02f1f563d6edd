#!/usr/bin/env bash
# Distributed step timings (docs/performance.md, "Distributed"): for the
# data-parallel shape 4096x768x4096 and the dictionary-parallel shape
# 1024x768x16384, back to back and alternately in each round:
#   one process, 1 thread | one process, 2 BLAS + 2 dfsae threads |
#   1 rank with the comm | 2 ranks of 1 thread each (OpenMPI over shared
#   memory). Writes bench/results/DATE-COMMIT-dist.md (and prints it).
# Usage: run_dist_bench.sh BUILD_DIR [ROUNDS] [STEPS]
set -euo pipefail
build=${1:?build directory}
rounds=${2:-3}
steps=${3:-3}
bench="$build/examples/bench/dfsae_bench_dist"
root=$(cd "$(dirname "$0")/../.." && pwd)
commit=$(git -C "$root" rev-parse --short HEAD)
out="$root/bench/results/$(date -u +%F)-$commit-dist.md"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader
mpiexec=${MPIEXEC:-mpiexec}
# OpenMPI binds each rank to one core when it starts at most 2, which
# confines the "2 BLAS + 2 dfsae threads" process to a single core (it
# then times like 1 thread); unbind every setting alike (MPI_BIND sets
# the flag for another launcher).
bind=${MPI_BIND:---bind-to none}

run() { # run NP BLAS_THREADS MODE SHAPE MODEL_THREADS -> the bench's line
  OPENBLAS_NUM_THREADS=$2 "$mpiexec" $bind -n "$1" "$bench" --mode "$3" \
    --shape "$4" --threads "$5" --steps "$steps" --warmup 1
}

declare -A ms bytes
configs=("1proc-1t" "1proc-2t" "1rank" "2ranks")
cases=("data 4096x768x4096" "dictionary 1024x768x16384")
started=$(date -u '+%F %T')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= rounds; r++)); do
  for c in "${cases[@]}"; do
    read -r mode shape <<<"$c"
    for cfg in "${configs[@]}"; do
      case $cfg in
      1proc-1t) line=$(run 1 1 none "$shape" 1) ;;
      1proc-2t) line=$(run 1 2 none "$shape" 2) ;;
      1rank) line=$(run 1 1 "$mode" "$shape" 1) ;;
      2ranks) line=$(run 2 1 "$mode" "$shape" 1) ;;
      esac
      echo "round $r $mode $cfg: $line" >&2
      v=$(sed -n 's/.* ms_per_step=\([0-9.]*\).*/\1/p' <<<"$line")
      ms[$mode,$cfg]="${ms[$mode,$cfg]:-} $v"
      bytes[$mode,$cfg]=$(sed -n 's/.*reduced_bytes_per_step=\([0-9]*\).*/\1/p' <<<"$line")
    done
  done
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
{
  echo "# Distributed step timings: $(date -u +%F), library at $commit"
  echo
  echo "Written by \`examples/bench/run_dist_bench.sh $build $rounds $steps\`, started"
  echo "$started UTC. Each cell: the median of $rounds rounds of the median of"
  echo "$steps steps (after 1 warm-up step), each step timed between barriers"
  echo "(the slowest rank). Within a round the four settings ran back to back,"
  echo "alternately, on a 2-core machine (its load, below, says what else ran):"
  echo "compare the settings of one row, not absolute times across runs. All"
  echo "rounds' values are in brackets. Adam, default terms (L_lse, L_var, L_tc)."
  echo "Load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end."
  echo
  echo "| mode, B x D x K | 1 process, 1 thread | 1 process, 2 BLAS + 2 dfsae threads | 1 rank with comm | 2 ranks x 1 thread | 2 ranks / 1 thread | 2 ranks / 2 threads | bytes reduced per rank per step (2 ranks) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in "${cases[@]}"; do
    read -r mode shape <<<"$c"
    a=$(median "${ms[$mode,1proc-1t]}")
    b=$(median "${ms[$mode,1proc-2t]}")
    o=$(median "${ms[$mode,1rank]}")
    t=$(median "${ms[$mode,2ranks]}")
    printf '| %s %s | %s [%s] | %s [%s] | %s [%s] | %s [%s] | %.2f | %.2f | %s |\n' \
      "$mode" "$shape" "$a" "${ms[$mode,1proc-1t]# }" "$b" "${ms[$mode,1proc-2t]# }" \
      "$o" "${ms[$mode,1rank]# }" "$t" "${ms[$mode,2ranks]# }" \
      "$(awk -v x="$t" -v y="$a" 'BEGIN {print x / y}')" \
      "$(awk -v x="$t" -v y="$b" 'BEGIN {print x / y}')" "${bytes[$mode,2ranks]}"
  done
} >"$out"
cat "$out"
