// What this node offers the scheduler, discovered with hwloc: the PUs this
// process may use, the memory of its NUMA nodes, and its GPUs.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace helix::workers {

struct NodeResources {
  std::string hostname;
  int64_t vcpus = 0;       // PUs in this process's allowed cpuset
  int64_t memory_mib = 0;  // total memory of the NUMA nodes
  int64_t gpus = 0;        // GPU OS devices (CUDA, OpenCL, NVML, RSMI)
};

Result<NodeResources> discover_local_node();

}  // namespace helix::workers
