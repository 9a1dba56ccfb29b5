// Capacity: what the ordering/backfill policies need to know about a
// machine, and nothing more. Pure.
//
// Owns: the interface (fits / reserve / release / clone) and one
// implementation, NodeCapacity: N whole nodes of P processors, a job taking
// ceil(procs / P) nodes (the Parallel Workloads Archive machine model). The
// NUMA ledger of scheduler/core is to be adapted to the same interface.
// Does not own: which job runs next (backfill.h) or job order (ordering.h).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

namespace helix::scheduler {

using PolicyJobId = uint64_t;

// What one job asks for. Only processors for now; an implementation may
// read more fields as they are added.
struct PolicyRequest {
  int64_t procs = 1;
};

class Capacity {
 public:
  virtual ~Capacity() = default;
  virtual std::unique_ptr<Capacity> clone() const = 0;
  // True when `request` could be reserved now.
  virtual bool fits(const PolicyRequest& request) const = 0;
  // Precondition: fits(request) and `id` holds nothing.
  virtual void reserve(PolicyJobId id, const PolicyRequest& request) = 0;
  // Releases what `id` holds; no-op when it holds nothing.
  virtual void release(PolicyJobId id) = 0;
  // True when `request` could fit on the empty machine.
  virtual bool could_ever_fit(const PolicyRequest& request) const = 0;
};

class NodeCapacity final : public Capacity {
 public:
  NodeCapacity(int64_t nodes, int64_t procs_per_node);
  std::unique_ptr<Capacity> clone() const override;
  bool fits(const PolicyRequest& request) const override;
  void reserve(PolicyJobId id, const PolicyRequest& request) override;
  void release(PolicyJobId id) override;
  bool could_ever_fit(const PolicyRequest& request) const override;

  int64_t nodes_for(const PolicyRequest& request) const;
  int64_t free_nodes() const { return free_nodes_; }
  int64_t total_nodes() const { return nodes_; }

 private:
  int64_t nodes_;
  int64_t procs_per_node_;
  int64_t free_nodes_;
  std::unordered_map<PolicyJobId, int64_t> held_;
};

}  // namespace helix::scheduler
