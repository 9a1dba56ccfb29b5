// hwloc node discovery: live against what the kernel reports, and the GPU
// rules against an exported topology.
#include "workers/node_resources.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace helix::workers {
namespace {

TEST(DiscoverLocalNode, MatchesWhatTheKernelReports) {
  auto node = discover_local_node();
  ASSERT_TRUE(node) << node.error().to_string();
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(node->vcpus, CPU_COUNT(&set));
  int64_t physical_mib =
      static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / (1024 * 1024);
  EXPECT_GE(node->memory_mib, physical_mib);
  EXPECT_LE(node->memory_mib, physical_mib * 11 / 10);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(node->hostname, host);
  EXPECT_GE(node->gpus, 0);
  // The exported topology describes the same node when read back.
  auto again = node_resources_from_xml(node->topology_xml, node->hostname);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->vcpus, node->vcpus);
  EXPECT_EQ(again->gpus, node->gpus);
}

// Shape: 2 packages x (NUMA node of 8 GiB + 2 PUs); PCI: two NVIDIA H100
// (3D controllers), the BMC's ASPEED VGA with its DRM "card0" GPU OS
// device, a Mellanox NIC and an AMD MI250 (display controller).
constexpr const char* kGpuNodeXml = R"xml(<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE topology SYSTEM "hwloc2.dtd">
<topology version="2.0">
  <object type="Machine" os_index="0" cpuset="0x0000000f" complete_cpuset="0x0000000f" allowed_cpuset="0x0000000f" nodeset="0x00000003" complete_nodeset="0x00000003" allowed_nodeset="0x00000003" gp_index="1">
    <object type="Package" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="2">
      <object type="NUMANode" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="3" local_memory="8589934592"/>
      <object type="PU" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="4"/>
      <object type="PU" os_index="1" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="5"/>
    </object>
    <object type="Package" os_index="1" cpuset="0x0000000c" complete_cpuset="0x0000000c" nodeset="0x00000002" complete_nodeset="0x00000002" gp_index="6">
      <object type="NUMANode" os_index="1" cpuset="0x0000000c" complete_cpuset="0x0000000c" nodeset="0x00000002" complete_nodeset="0x00000002" gp_index="7" local_memory="8589934592"/>
      <object type="PU" os_index="2" cpuset="0x00000004" complete_cpuset="0x00000004" nodeset="0x00000002" complete_nodeset="0x00000002" gp_index="8"/>
      <object type="PU" os_index="3" cpuset="0x00000008" complete_cpuset="0x00000008" nodeset="0x00000002" complete_nodeset="0x00000002" gp_index="9"/>
    </object>
    <object type="Bridge" gp_index="10" bridge_type="0-1" depth="0" bridge_pci="0000:[00-05]">
      <object type="PCIDev" gp_index="11" pci_busid="0000:01:00.0" pci_type="0302 [10de:2330] [10de:16c1] a1" pci_link_speed="0.000000"/>
      <object type="PCIDev" gp_index="12" pci_busid="0000:02:00.0" pci_type="0302 [10de:2330] [10de:16c1] a1" pci_link_speed="0.000000"/>
      <object type="PCIDev" gp_index="13" pci_busid="0000:03:00.0" pci_type="0300 [1a03:2000] [1a03:2000] 41" pci_link_speed="0.000000">
        <object type="OSDev" gp_index="14" name="card0" osdev_type="1"/>
      </object>
      <object type="PCIDev" gp_index="15" pci_busid="0000:04:00.0" pci_type="0200 [15b3:1021] [15b3:0041] 00" pci_link_speed="0.000000"/>
      <object type="PCIDev" gp_index="16" pci_busid="0000:05:00.0" pci_type="0380 [1002:740c] [1002:0b0c] 01" pci_link_speed="0.000000"/>
    </object>
  </object>
</topology>)xml";

TEST(NodeResourcesFromXml, CountsComputeGpusButNotTheBmcGraphics) {
  auto node = node_resources_from_xml(kGpuNodeXml, "gpu01");
  ASSERT_TRUE(node) << node.error().to_string();
  EXPECT_EQ(node->hostname, "gpu01");
  EXPECT_EQ(node->vcpus, 4);
  EXPECT_EQ(node->memory_mib, 2 * 8192);
  EXPECT_EQ(node->gpus, 3);  // 2 x H100 + MI250; not the ASPEED
}

// GPU g of numa_layout_from_xml is the g-th counted GPU, on the NUMA node
// its PCI root hangs from.
TEST(NumaLayoutFromXml, PutsEachGpuOnItsLocalNumaNode) {
  std::ifstream in(std::string(HELIX_SOURCE_DIR) + "/tests/data/topologies/gpu_node.xml");
  std::stringstream xml;
  xml << in.rdbuf();
  auto layout = numa_layout_from_xml(xml.str());
  ASSERT_EQ(layout.size(), 2u);
  EXPECT_EQ(layout[0].gpus, (std::vector<int>{0}));
  EXPECT_EQ(layout[1].gpus, (std::vector<int>{1}));
  // Bridges under the machine (no socket nearer): every GPU on the first
  // NUMA node, numbered as node_resources_from_xml counts them.
  auto flat = numa_layout_from_xml(kGpuNodeXml);
  ASSERT_EQ(flat.size(), 2u);
  EXPECT_EQ(flat[0].gpus, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(flat[1].gpus.empty());
}

TEST(NodeResourcesFromXml, RefusesWhatIsNotATopology) {
  auto node = node_resources_from_xml("<topology", "x");
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error().message(), "topology XML cannot be loaded by hwloc");
}

TEST(IsGpuPciDevice, ByClassAndVendor) {
  struct Case {
    const char* name;
    uint16_t class_id, vendor_id;
    bool is_gpu;
  } cases[] = {
      {"NVIDIA H100 (3D controller)", 0x0302, 0x10de, true},
      {"NVIDIA GeForce (VGA)", 0x0300, 0x10de, true},
      {"AMD Radeon (VGA)", 0x0300, 0x1002, true},
      {"AMD MI250 (display controller)", 0x0380, 0x1002, true},
      {"AMD MI300X (processing accelerator)", 0x1200, 0x1002, true},
      {"Intel GPU Max (display controller)", 0x0380, 0x8086, true},
      {"ASPEED BMC (VGA)", 0x0300, 0x1a03, false},
      {"Matrox G200 (VGA)", 0x0300, 0x102b, false},
      {"Intel integrated (VGA)", 0x0300, 0x8086, false},
      {"Intel Gaudi (processing accelerator)", 0x1200, 0x1da3, false},
      {"NVIDIA HD audio", 0x0403, 0x10de, false},
      {"NVSwitch bridge", 0x0680, 0x10de, false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(is_gpu_pci_device(c.class_id, c.vendor_id), c.is_gpu) << c.name;
}

}  // namespace
}  // namespace helix::workers
