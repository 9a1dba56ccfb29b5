// NodeLedger: what a node has and what running attempts hold on it, in
// whole vCPUs, MiB and GPUs. The packing rule of the batch core: never
// more vCPUs, memory or GPUs reserved than the node has. Each reservation
// also gets that many of the node's PUs (lowest OS index first), which the
// worker binds the job to. NUMA-aware placement (cores, NUMA nodes, GPUs by
// affinity) replaces this in the scheduler issue. Pure.
//
// Invariant: the PUs held by different holders are disjoint, and each
// holder holds exactly its request's vCPUs of them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "queues/resources.h"

namespace helix::scheduler {

struct NodeCapacity {
  std::string name;
  int64_t vcpus = 0;
  int64_t memory_mib = 0;
  int64_t gpus = 0;
  // OS indexes of the PUs jobs may use; empty means 0..vcpus-1.
  std::vector<int> pus;
};

class NodeLedger {
 public:
  explicit NodeLedger(NodeCapacity total);

  const NodeCapacity& total() const { return total_; }
  bool fits_now(const queues::ResourceRequest& request) const;
  // Why the request can never fit this node, with the numbers
  // ("needs 4 vCPUs, node n1 has 2"); nullopt when it could.
  std::optional<std::string> never_fits(const queues::ResourceRequest& request) const;
  // Reserves for `holder`; a holder holds at most one reservation. `pus`:
  // the PUs it already holds (an attempt restored after a restart); empty:
  // the lowest free ones. Returns the PUs reserved (OS indexes, ascending).
  // Precondition: fits_now(request), and `pus` (if given) free.
  // Why the request does not fit now, with the numbers ("n1: needs 2
  // vCPUs, 1 free of 4"); nullopt when it fits.
  std::optional<std::string> not_now(const queues::ResourceRequest& request) const;
  std::vector<int> reserve(const std::string& holder, const queues::ResourceRequest& request,
                           std::vector<int> pus = {});
  void release(const std::string& holder);
  bool holds(const std::string& holder) const { return held_.count(holder) != 0; }
  std::vector<std::string> holders() const;
  int64_t free_vcpus() const { return total_.vcpus - used_.vcpus; }
  // What would be left free after `request`: vCPUs, then MiB. Best fit
  // across nodes takes the node whose pair is least (a small job does not
  // take the node a large one needs: AWS Batch's BEST_FIT).
  std::pair<int64_t, int64_t> left_after(const queues::ResourceRequest& request) const {
    return {free_vcpus() - request.vcpus,
            total_.memory_mib - used_.memory_mib - request.memory_mib};
  }
  // The PUs `holder` holds (empty if none).
  std::vector<int> pus_of(const std::string& holder) const;
  const queues::ResourceRequest& used() const { return used_; }

 private:
  NodeCapacity total_;
  queues::ResourceRequest used_{0, 0, 0};
  std::map<std::string, queues::ResourceRequest> held_;
  std::map<std::string, std::vector<int>> held_pus_;
  std::vector<int> free_pus_;  // ascending
};

}  // namespace helix::scheduler
