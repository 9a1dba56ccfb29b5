#!/usr/bin/env bash
# ctest driver for mpi_fabric_check: one controller rank and two emulated
# agents under mpirun on this machine, in a fresh state directory.
#   run_mpi_check.sh CHECK_BINARY SHIM MODE
# --enable-recovery: without it mpirun aborts every rank when one dies,
# which is what the "die" mode must survive (see README, Multi-node).
set -euo pipefail
dir=$(mktemp -d /tmp/helix-mpi-XXXXXX)
trap 'pkill -f "^sleep 60$" 2>/dev/null || true; rm -rf "$dir"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Quiet OpenMPI's PMIx notices about the killed rank; the checks print ok/FAIL.
timeout 120 mpirun --oversubscribe --enable-recovery --mca btl self,tcp -np 3 \
  "$1" "$dir" "$2" "$3" 2> >(grep -v "PMIX ERROR" >&2) | tee "$dir/out"
! grep -q '^FAIL' "$dir/out" && grep -q '^ok' "$dir/out"
