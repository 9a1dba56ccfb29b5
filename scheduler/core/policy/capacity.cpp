#include "scheduler/core/policy/capacity.h"

#include <algorithm>

namespace helix::scheduler {

NodeCapacity::NodeCapacity(int64_t nodes, int64_t procs_per_node)
    : nodes_(std::max<int64_t>(nodes, 0)),
      procs_per_node_(std::max<int64_t>(procs_per_node, 1)),
      free_nodes_(nodes_) {}

std::unique_ptr<Capacity> NodeCapacity::clone() const {
  return std::make_unique<NodeCapacity>(*this);
}

int64_t NodeCapacity::nodes_for(const PolicyRequest& request) const {
  const int64_t procs = std::max<int64_t>(request.procs, 1);
  return (procs + procs_per_node_ - 1) / procs_per_node_;
}

bool NodeCapacity::fits(const PolicyRequest& request) const {
  return nodes_for(request) <= free_nodes_;
}

bool NodeCapacity::could_ever_fit(const PolicyRequest& request) const {
  return nodes_for(request) <= nodes_;
}

void NodeCapacity::reserve(PolicyJobId id, const PolicyRequest& request) {
  const int64_t n = nodes_for(request);
  free_nodes_ -= n;
  held_[id] += n;
}

void NodeCapacity::release(PolicyJobId id) {
  auto it = held_.find(id);
  if (it == held_.end()) return;
  free_nodes_ += it->second;
  held_.erase(it);
}

}  // namespace helix::scheduler
