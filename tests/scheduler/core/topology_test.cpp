#include "scheduler/core/topology.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace helix::scheduler {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(HELIX_TOPOLOGY_DIR) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Topology, SyntheticTwoPackages) {
  auto numa = numa_from_synthetic("pack:2 [numa(memory=1GiB)] core:2 pu:2");
  ASSERT_TRUE(numa.has_value());
  ASSERT_EQ(numa->size(), 2u);
  EXPECT_EQ((*numa)[0].memory_mib, 1024);
  EXPECT_EQ((*numa)[1].pus, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_TRUE((*numa)[0].gpus.empty());
}

TEST(Topology, FourNumaFixture) {
  auto numa = numa_from_hwloc_xml(fixture("four_numa.xml"));
  ASSERT_TRUE(numa.has_value());
  ASSERT_EQ(numa->size(), 4u);
  EXPECT_EQ((*numa)[2].id, 2);
  EXPECT_EQ((*numa)[2].memory_mib, 512);
  EXPECT_EQ((*numa)[2].pus, (std::vector<int>{4, 5}));
}

TEST(Topology, GpuFixtureGpusLocalToTheirPackage) {
  auto numa = numa_from_hwloc_xml(fixture("gpu_node.xml"));
  ASSERT_TRUE(numa.has_value());
  ASSERT_EQ(numa->size(), 2u);
  EXPECT_EQ((*numa)[0].gpus, (std::vector<int>{0}));
  EXPECT_EQ((*numa)[1].gpus, (std::vector<int>{1}));
  // Feeds the ledger: a 1-GPU, 2-PU job is placed next to its GPU.
  NumaLedger ledger("g1", *numa);
  auto p = ledger.place(NumaRequest{.pus = 2, .memory_mib = 100, .gpus = 1});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->numa_nodes, (std::vector<int>{0}));
  EXPECT_EQ(p->gpus, (std::vector<int>{0}));
}

TEST(Topology, RejectsGarbage) {
  EXPECT_FALSE(numa_from_hwloc_xml("not xml").has_value());
  EXPECT_FALSE(numa_from_synthetic("pack:x").has_value());
}

}  // namespace
}  // namespace helix::scheduler
