// NumaLedger: one node's PUs, memory and GPUs by NUMA node, and the
// placement rule that packs a job onto them. Pure: the topology arrives as
// data (the worker reads it with hwloc), nothing here reads the machine.
//
// Placement rule (in this order):
//  1. One NUMA node when the job fits in one: among those, one that also
//     has the GPUs it asks for free (cores local to their GPUs), then the one
//     with the fewest free PUs left after placing it (best fit, so large
//     holes stay for large jobs), then the lowest NUMA id. GPUs come from
//     the chosen NUMA nodes first, then from the nearest others.
//  2. Otherwise the fewest NUMA nodes, adjacent in id order (the window of
//     consecutive NUMA nodes with enough free PUs and memory that is
//     shortest, then has the fewest free PUs left, then the lowest id);
//     PUs are taken NUMA node by NUMA node, memory spread over them in
//     proportion to the PUs taken there (the rest on the first).
//  3. PUs inside a NUMA node: lowest OS index first.
// Worked example: NUMA 0 has PUs {0,1} free and 4000 MiB, NUMA 1 has
// {2,3,4,5} and 4000 MiB. A 2-PU 1000 MiB job goes to NUMA 0 (0 PUs left
// there, against 2 on NUMA 1). A 5-PU 3000 MiB job needs both: PUs
// {0,1,2,3,4}, memory 1200 on NUMA 0 (2/5 of 3000) and 1800 on NUMA 1.
//
// Invariants: a PU or GPU is held by at most one holder; per NUMA node the
// memory held never exceeds its capacity; release(h) restores exactly what
// reserve(h) took. Copyable, so a policy can try the future on a copy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace helix::scheduler {

struct NumaNodeSpec {
  int id = 0;  // OS index
  int64_t memory_mib = 0;
  std::vector<int> pus;   // OS indexes
  std::vector<int> gpus;  // GPU indexes local to this NUMA node
};

struct NumaRequest {
  int64_t pus = 1;
  int64_t memory_mib = 0;
  int64_t gpus = 0;
};

struct NumaPlacement {
  std::vector<int> pus;                       // OS indexes, ascending
  std::vector<int> numa_nodes;                // to bind memory to
  std::map<int, int64_t> memory_mib_by_numa;  // MiB taken on each
  std::vector<int> gpus;
  bool operator==(const NumaPlacement&) const = default;
};

class NumaLedger {
 public:
  NumaLedger(std::string node, std::vector<NumaNodeSpec> numa);

  const std::string& node() const { return node_; }
  const std::vector<NumaNodeSpec>& numa_nodes() const { return numa_; }

  // Where `request` would go now, or nullopt (see not_now / never_fits).
  std::optional<NumaPlacement> place(const NumaRequest& request) const;
  // The placement an attempt already had, rebuilt from its PUs (a restart):
  // memory as place() would spread it, and `gpus` when they are the
  // attempt's (as many as it asks, this node's and free: the job was told
  // them), else GPUs as place() would pick; nullopt if a PU is not this
  // node's or is taken, or the rest does not fit.
  std::optional<NumaPlacement> place_on(const std::vector<int>& pus, const NumaRequest& request,
                                        const std::vector<int>& gpus = {}) const;
  // Why it cannot go anywhere on this node now ("n1: needs 4 PUs, 2 free
  // of 8"); nullopt if it can.
  std::optional<std::string> not_now(const NumaRequest& request) const;
  // Why it can never go on this node; nullopt if it could when empty.
  std::optional<std::string> never_fits(const NumaRequest& request) const;

  // Takes `placement` for `holder` (replacing what it held). Precondition:
  // every PU, GPU and MiB in it is free.
  void reserve(const std::string& holder, const NumaPlacement& placement);
  void release(const std::string& holder);
  const NumaPlacement* held(const std::string& holder) const;
  std::vector<std::string> holders() const;

  int64_t free_pus() const;
  int64_t free_memory_mib() const;
  int64_t free_gpus() const;

 private:
  int64_t free_pus_on(size_t numa) const;
  // Memory, NUMA nodes and GPUs for `pus` within NUMA nodes [first, first+len).
  NumaPlacement complete(std::vector<int> pus, const NumaRequest& request, size_t first,
                         size_t len) const;
  std::string node_;
  std::vector<NumaNodeSpec> numa_;
  std::vector<std::vector<bool>> pu_taken_;   // [numa][i] for numa_[numa].pus[i]
  std::vector<std::vector<bool>> gpu_taken_;  // [numa][i] for numa_[numa].gpus[i]
  std::vector<int64_t> memory_used_;          // [numa]
  std::map<std::string, NumaPlacement> held_;
};

}  // namespace helix::scheduler
