#!/usr/bin/env python3
"""Runs shared/workloads/mixed-200-seed42.tsv for real on helixd and prints
`metric value unit` lines: makespan, utilisation and their ratio to the
workload's lower bound (sum of cpus x sleep over the node's 2 CPUs).

The node is declared as the workload says (2 vCPUs, 8,000 MiB) with
helixd's --node-vcpus / --node-memory-mib; each job is `sleep S` with its
vCPUs and memory as resourceRequirements, submitted in file order as fast
as the API takes them.

  bench/mixed_workload.py [--build-dir build] [--workload FILE]

Utilisation = sum of cpus x (end - start) over 2 x (last end - first submit).
For comparison (from the workload's README, same machine): Slurm 22.05
makespan 164 s, utilisation 0.32."""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

NODE_VCPUS = 2
NODE_MEMORY_MIB = 8000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--workload", default=os.path.join(HERE, "..", "tests", "data", "workloads",
                                                       "mixed-200-seed42.tsv"))
    args = ap.parse_args()
    os.environ["HELIX_BUILD_DIR"] = os.path.abspath(args.build_dir)
    import helixd  # after HELIX_BUILD_DIR is set

    jobs = []
    with open(args.workload) as f:
        for line in f:
            if line.startswith("id") or not line.strip():
                continue
            ident, cpus, mem, sleep = line.split()
            jobs.append((ident, int(cpus), int(mem), float(sleep)))
    lower_bound = sum(c * s for _, c, _, s in jobs) / NODE_VCPUS

    d = helixd.Helixd(["--node-vcpus", str(NODE_VCPUS), "--node-memory-mib", str(NODE_MEMORY_MIB)])
    try:
        first_submit = time.time()
        ids = []
        for ident, cpus, mem, sleep in jobs:
            ids.append(d.submit(["sleep", f"{sleep:.2f}"], name=f"mixed-{ident}", containerOverrides={
                "command": ["sleep", f"{sleep:.2f}"],
                "resourceRequirements": [{"type": "VCPU", "value": str(cpus)},
                                         {"type": "MEMORY", "value": str(mem)}]}))
        finished = [d.wait(i, timeout=900) for i in ids]
    finally:
        d.stop()
        d.close()

    failed = [j["jobId"] for j in finished if j["status"] != "SUCCEEDED"]
    if failed:
        print(f"mixed_workload: {len(failed)} jobs did not succeed", file=sys.stderr)
        return 1
    busy = 0.0
    last_end = 0.0
    for (ident, cpus, mem, sleep), job in zip(jobs, finished):
        start = job["helix"]["startedAtMicros"] / 1e6
        end = job["stoppedAt"] / 1e3
        busy += cpus * (end - start)
        last_end = max(last_end, end)
    makespan = last_end - first_submit
    utilisation = busy / (NODE_VCPUS * makespan)
    print(f"jobs {len(jobs)} count")
    print(f"lower_bound_makespan_s {lower_bound:.1f} s")
    print(f"makespan_s {makespan:.1f} s")
    print(f"utilisation {utilisation:.3f} ratio")
    print(f"makespan_over_lower_bound {makespan / lower_bound:.3f} ratio")
    print(f"slurm_makespan_over_helix {164.0 / makespan:.2f} ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
