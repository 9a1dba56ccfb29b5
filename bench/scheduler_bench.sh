#!/bin/bash
# Scheduler bench (issue #3): everything the issue asks for, in one run.
#   1. decision_bench: placement decisions of the pure cores with 10,000
#      pending jobs on 1,000 synthetic nodes (2 packages x 2 NUMA x 16
#      cores): median / p99 per placed job, a full pass over 1,000 jobs
#      (first fit in the same run as its baseline);
#   2. replay_bench: the whole HPC2N trace (202,871 jobs) replayed with EASY,
#      FCFS in the same run as its baseline;
#   3. mixed_workload.py: shared/workloads/mixed-200-seed42.tsv run for real
#      on a private helixd (2 vCPUs / 8,000 MiB node): makespan and
#      utilisation against the workload's lower bound.
# Prints the three tools' `metric value unit` lines, then the targets each
# is held to.
#
# Usage: bench/scheduler_bench.sh [BUILD_DIR]   (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$build/bin
for tool in decision_bench replay_bench; do
  [[ -x $bin/$tool ]] || { echo "scheduler_bench: $bin/$tool not built" >&2; exit 1; }
done
"$bin/decision_bench"
"$bin/replay_bench"
python3 "$here/mixed_workload.py" --build-dir "$build"
echo "# targets: decision median < 50 us per placed job, a 1,000-job pass < 50 ms,"
echo "# HPC2N EASY replay < 30 s, mixed workload makespan near its lower bound"
echo "# (Slurm here: makespan 164 s, utilisation 0.32)"
