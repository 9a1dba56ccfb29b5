// Multi-node parallel (MNP) jobs: a job definition's nodeProperties and a
// submission's nodeOverrides, resolved into one container per node index
// (docs/batch-semantics.md section 9). Pure.
//
// targetNodes ranges: "0:3" is nodes 0..3, ":3" starts at 0, "4:" runs to
// the last node, "2" is node 2. The ranges must cover every node; where they
// nest, the narrower one wins (AWS: "0:10" then "4:5"). At most 5 ranges,
// 1 to 1,000 nodes, mainNode < numNodes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "queues/job_definition.h"

namespace helix::queues {

struct NodeRange {
  int first = 0;
  std::optional<int> last;  // nullopt: open ("4:"), to the last node
  ContainerSpec container;
  std::string target() const;  // back to "first:last" text
};

struct NodeProperties {
  int num_nodes = 1;
  int main_node = 0;
  std::vector<NodeRange> ranges;
};

// nodeProperties of RegisterJobDefinition; problems are added with paths
// under `path`.
NodeProperties parse_node_properties(const nlohmann::json& value, const std::string& path,
                                     Problems& problems);
nlohmann::json node_properties_to_wire(const NodeProperties& props);

// A submission's nodeOverrides: numNodes and per-range containerOverrides.
struct NodeOverrides {
  std::optional<int> num_nodes;
  std::vector<NodeRange> overrides;  // container = the overrides for those nodes
};
NodeOverrides parse_node_overrides(const nlohmann::json& value, Problems& problems);

// The container of each node index: the narrowest definition range holding
// it, then the narrowest override range holding it (command replaced,
// environment merged, resources overridden). Checks the override rules of
// section 9 (numNodes needs an open range in the definition, mainNode and
// that range's start below it). Commands are not yet substituted.
Result<std::vector<ContainerSpec>> resolve_node_containers(const NodeProperties& props,
                                                           const NodeOverrides& overrides);

}  // namespace helix::queues
