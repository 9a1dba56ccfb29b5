#include "cli/node_views.h"

#include <sstream>

namespace helix::cli {

using nlohmann::json;

std::string render_nodes(const json& reply) {
  std::ostringstream out;
  for (const auto& node : reply.value("nodes", json::array())) {
    out << node.value("name", "?") << "  " << node.value("state", "?") << "  "
        << node.value("freeVcpus", 0) << "/" << node.value("vcpus", 0) << " vCPUs free  "
        << node.value("freeMemoryMib", 0) << "/" << node.value("memoryMib", 0) << " MiB free  "
        << node.value("freeGpus", 0) << "/" << node.value("gpus", 0) << " GPUs free";
    std::string ce = node.value("computeEnvironment", "");
    if (!ce.empty()) out << "  ce=" << ce;
    out << "\n";
    for (const auto& numa : node.value("numaNodes", json::array())) {
      out << "  NUMA " << numa.value("numaNode", 0) << "  " << numa.value("memoryMib", 0) << " MiB";
      for (const auto& pu : numa.value("pus", json::array())) {
        out << "  PU " << pu.value("pu", 0) << " ";
        std::string job = pu.value("job", "");
        out << (job.empty() ? "free" : job.size() > 8 ? job.substr(0, 8) + "…" : job);
      }
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace helix::cli
