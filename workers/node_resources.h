// What this node offers the scheduler, discovered with hwloc: the PUs this
// process may use, the memory of its NUMA nodes, and its GPUs. Live
// discovery lives here only (docs/STYLE.md section 2); the pure cores get
// the result as data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace helix::workers {

struct NodeResources {
  std::string hostname;
  int64_t vcpus = 0;       // PUs in this process's allowed and bound cpuset
  std::vector<int> pus;    // their OS indexes, ascending
  int64_t memory_mib = 0;  // total memory of the NUMA nodes
  int64_t gpus = 0;        // compute GPUs, counted as PCI devices (see is_gpu_pci_device)
  // The whole topology as hwloc XML (v2 export, important I/O devices
  // kept): the scheduler core builds its NUMA model of the node from it.
  // Empty for node_resources_from_xml (the caller has the XML).
  std::string topology_xml;
};

// This machine as helixd sees it (taskset, cgroup cpusets and Slurm
// allocations shrink vcpus). Fails only when hwloc cannot load a topology.
Result<NodeResources> discover_local_node();

// The same rules applied to an exported topology (lstopo --of xml
// --whole-io): every allowed PU, the NUMA nodes' memory, the GPUs. For tests
// and for describing a node from a file.
Result<NodeResources> node_resources_from_xml(const std::string& xml, std::string hostname);

// An emulated node: `description` is an hwloc synthetic string ("pack:2
// [numa(memory=4GiB)] core:4 pu:1") or the path of an XML export. The
// result carries the topology as XML. Errors: InvalidInput naming the
// description and hwloc's refusal.
Result<NodeResources> node_resources_from_description(const std::string& description,
                                                      std::string hostname);

// One NUMA node of a topology: its OS index, memory, PUs (OS indexes) and
// the GPUs local to it: GPU g is the g-th PCI device is_gpu_pci_device
// counts (hwloc's order, as NodeResources::gpus counts them), local to the
// first NUMA node of its nearest non-I/O ancestor (its PCI root's socket).
struct NumaNode {
  int os_index = 0;
  int64_t memory_mib = 0;
  std::vector<int> pus;
  std::vector<int> gpus;
};

// The NUMA nodes of an exported topology, in OS index order; one node
// holding every PU when the topology has none (or cannot be read).
std::vector<NumaNode> numa_layout_from_xml(const std::string& xml);

// GPUs are counted by PCI class rather than by hwloc OS devices: Debian's
// hwloc has no CUDA/NVML/RSMI plugins, so an NVIDIA GPU shows no OS device
// unless nvidia-drm is loaded, while a server's BMC graphics (ASPEED,
// Matrox) does show one ("card0"). Counted: 3D controllers (0x0302: NVIDIA
// datacenter GPUs) and other display controllers (0x0380: AMD Instinct up
// to MI250, Intel Data Center GPU Max) of any vendor; VGA controllers
// (0x0300) of NVIDIA and AMD; processing accelerators (0x1200) of AMD
// (MI300). Not counted: VGA of other vendors (BMCs, integrated graphics).
bool is_gpu_pci_device(uint16_t class_id, uint16_t vendor_id);

}  // namespace helix::workers
