#!/usr/bin/env bash
# Distributed training (label mpi) under both MPIs Debian ships: OpenMPI
# (the default mpicc/mpiexec of Debian's alternatives) and MPICH, each
# with 1, 2 and 3 ranks; and libdfsae.so itself depends on neither.
set -euo pipefail

reports="$DFSAE_CI_REPORTS/mpi"
mkdir -p "$reports"

run_mpi() { # run_mpi NAME [cmake args...]
  local name=$1 build=build-mpi-$1
  shift
  mkdir -p "$reports/$name"
  cmake -S . -B "$build" -DDFSAE_BUILD_EXAMPLES=OFF -DDFSAE_WERROR=ON \
    -DDFSAE_TEST_REPORT_DIR="$reports/$name" "$@" >/dev/null
  cmake --build "$build" -j2 --target dfsae_shared dfsae_mpi test_mpi_exact test_mpi_shards
  # A missing MPI would register no mpi test and pass silently.
  local count
  count=$(ctest --test-dir "$build" -L mpi -N | sed -n 's/^Total Tests: //p')
  if [ "${count:-0}" -lt 7 ]; then
    echo "mpi ($name): ${count:-0} tests registered, expected 7" >&2
    return 1
  fi
  local log="$reports/$name/ctest.log"
  if ! ctest --test-dir "$build" -L mpi --output-on-failure -V >"$log" 2>&1; then
    cat "$log"
    return 1
  fi
  grep -E '^[0-9]+: mpi N=|tests passed' "$log"
  # libdfsae never links MPI: no MPI library loaded, no MPI symbol wanted.
  local so="$build/libdfsae.so"
  if ldd "$so" | grep -i -E 'mpi|open-pal|open-rte'; then
    echo "mpi ($name): libdfsae.so loads an MPI library" >&2
    return 1
  fi
  if nm -D --undefined-only "$so" | grep -E '\b(P?MPI|ompi|MPIR)_'; then
    echo "mpi ($name): libdfsae.so needs MPI symbols" >&2
    return 1
  fi
  echo "mpi ($name): libdfsae.so has no MPI dependency"
}

run_mpi openmpi
run_mpi mpich -DMPI_C_COMPILER=/usr/bin/mpicc.mpich \
  -DMPIEXEC_EXECUTABLE=/usr/bin/mpiexec.mpich
