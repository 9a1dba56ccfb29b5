#include "cli/node_views.h"

#include <gtest/gtest.h>

namespace helix::cli {
namespace {

TEST(RenderNodes, DrawsEachNumaNodesPusWithTheirJobs) {
  auto reply = nlohmann::json::parse(R"({"nodes": [
    {"name": "n1", "state": "UP", "computeEnvironment": "", "vcpus": 4, "freeVcpus": 2,
     "memoryMib": 8000, "freeMemoryMib": 6000, "gpus": 1, "freeGpus": 1,
     "numaNodes": [
       {"numaNode": 0, "memoryMib": 4000,
        "pus": [{"pu": 0, "job": "0123456789abcdef"}, {"pu": 1}]},
       {"numaNode": 1, "memoryMib": 4000,
        "pus": [{"pu": 2, "job": "short"}, {"pu": 3}]}]},
    {"name": "n2", "state": "DOWN", "computeEnvironment": "gpu", "vcpus": 1, "freeVcpus": 1,
     "memoryMib": 100, "freeMemoryMib": 100, "gpus": 0, "freeGpus": 0,
     "numaNodes": [{"numaNode": 0, "memoryMib": 100, "pus": [{"pu": 0}]}]}]})");
  EXPECT_EQ(render_nodes(reply),
            "n1  UP  2/4 vCPUs free  6000/8000 MiB free  1/1 GPUs free\n"
            "  NUMA 0  4000 MiB  PU 0 01234567…  PU 1 free\n"
            "  NUMA 1  4000 MiB  PU 2 short  PU 3 free\n"
            "n2  DOWN  1/1 vCPUs free  100/100 MiB free  0/0 GPUs free  ce=gpu\n"
            "  NUMA 0  100 MiB  PU 0 free\n");
}

}  // namespace
}  // namespace helix::cli
