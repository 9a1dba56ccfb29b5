// `helix nodes`: each node's NUMA nodes and PUs with what occupies them,
// from helixd's /helix/v1/nodes. Pure.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace helix::cli {

// One block per node:
//   n1  UP  2/4 vCPUs free  6000/8000 MiB free  0/0 GPUs free
//     NUMA 0  8000 MiB  PU 0 job-1234…  PU 1 free
// Job ids are cut to 8 characters and an ellipsis; a DOWN node says so.
std::string render_nodes(const nlohmann::json& reply);

}  // namespace helix::cli
