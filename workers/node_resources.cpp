#include "workers/node_resources.h"

#include <hwloc.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

namespace helix::workers {

namespace {

constexpr uint16_t kVendorNvidia = 0x10de;
constexpr uint16_t kVendorAmd = 0x1002;

struct TopologyDeleter {
  void operator()(hwloc_topology* t) const { hwloc_topology_destroy(t); }
};
using Topology = std::unique_ptr<hwloc_topology, TopologyDeleter>;

Result<Topology> new_topology() {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) return fail(Error::unavailable("hwloc_topology_init failed"));
  Topology topology(raw);
  // PCI devices are enough to count GPUs; bridges and OS devices are not needed.
  hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  return topology;
}

int64_t count_gpus(hwloc_topology_t topology) {
  int64_t gpus = 0;
  for (hwloc_obj_t pci = hwloc_get_next_pcidev(topology, nullptr); pci;
       pci = hwloc_get_next_pcidev(topology, pci)) {
    if (is_gpu_pci_device(pci->attr->pcidev.class_id, pci->attr->pcidev.vendor_id)) ++gpus;
  }
  return gpus;
}

uint64_t numa_memory_bytes(hwloc_topology_t topology) {
  uint64_t bytes = 0;
  for (hwloc_obj_t numa = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, nullptr); numa;
       numa = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, numa)) {
    bytes += numa->attr->numanode.local_memory;
  }
  return bytes;
}

}  // namespace

bool is_gpu_pci_device(uint16_t class_id, uint16_t vendor_id) {
  switch (class_id) {
    case 0x0302:  // 3D controller
    case 0x0380:  // display controller, other
      return true;
    case 0x0300:  // VGA compatible controller
      return vendor_id == kVendorNvidia || vendor_id == kVendorAmd;
    case 0x1200:  // processing accelerator
      return vendor_id == kVendorAmd;
    default:
      return false;
  }
}

Result<NodeResources> discover_local_node() {
  auto topology = new_topology();
  if (!topology) return fail(topology.error());
  hwloc_topology_t topo = topology->get();
  // hwloc's Linux backend finds PCI devices in sysfs by itself; the
  // libpciaccess plugin would only duplicate that (and leaks at exit), and
  // the GL and OpenCL plugins would open X displays and GPU drivers.
  for (const char* plugin : {"pci", "gl", "opencl"})
    hwloc_topology_set_components(topo, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, plugin);
  if (hwloc_topology_load(topo) != 0) return fail(Error::unavailable("hwloc_topology_load failed"));
  NodeResources node;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  node.hostname = host;
  // Allowed (cgroup cpuset) and bound (taskset, Slurm) at once.
  hwloc_bitmap_t usable = hwloc_bitmap_alloc();
  if (hwloc_get_cpubind(topo, usable, HWLOC_CPUBIND_PROCESS) == 0) {
    hwloc_bitmap_and(usable, usable, hwloc_topology_get_allowed_cpuset(topo));
  } else {
    hwloc_bitmap_copy(usable, hwloc_topology_get_allowed_cpuset(topo));
  }
  node.vcpus = hwloc_bitmap_weight(usable);
  for (int i = hwloc_bitmap_first(usable); i >= 0; i = hwloc_bitmap_next(usable, i))
    node.pus.push_back(i);
  hwloc_bitmap_free(usable);
  uint64_t bytes = numa_memory_bytes(topo);
  // Hot-plugged memory (virtio-mem, some VMs) can be missing from the NUMA
  // nodes' counts while the kernel uses it: trust the larger figure.
  uint64_t physical = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                      static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (physical > bytes) bytes = physical;
  node.memory_mib = static_cast<int64_t>(bytes / (1024 * 1024));
  node.gpus = count_gpus(topo);
  if (node.vcpus <= 0) return fail(Error::unavailable("hwloc found no usable PU"));
  char* xml = nullptr;
  int length = 0;
  if (hwloc_topology_export_xmlbuffer(topo, &xml, &length, 0) != 0)
    return fail(Error::unavailable("hwloc cannot export this node's topology as XML"));
  node.topology_xml.assign(xml, length > 0 ? static_cast<size_t>(length - 1) : 0);
  hwloc_free_xmlbuffer(topo, xml);
  return node;
}

std::vector<NumaNode> numa_layout_from_xml(const std::string& xml) {
  std::vector<NumaNode> out;
  auto topology = new_topology();
  if (!topology) return out;
  hwloc_topology_t topo = topology->get();
  if (xml.empty() ||
      hwloc_topology_set_xmlbuffer(topo, xml.data(), static_cast<int>(xml.size() + 1)) != 0 ||
      hwloc_topology_load(topo) != 0)
    return out;
  for (hwloc_obj_t numa = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, nullptr); numa;
       numa = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, numa)) {
    NumaNode n;
    n.os_index = static_cast<int>(numa->os_index);
    n.memory_mib = static_cast<int64_t>(numa->attr->numanode.local_memory / (1024 * 1024));
    for (int i = hwloc_bitmap_first(numa->cpuset); i >= 0; i = hwloc_bitmap_next(numa->cpuset, i))
      n.pus.push_back(i);
    out.push_back(std::move(n));
  }
  int gpu = 0;
  for (hwloc_obj_t pci = hwloc_get_next_pcidev(topo, nullptr); pci;
       pci = hwloc_get_next_pcidev(topo, pci)) {
    if (!is_gpu_pci_device(pci->attr->pcidev.class_id, pci->attr->pcidev.vendor_id)) continue;
    const int index = gpu++;
    hwloc_obj_t parent = hwloc_get_non_io_ancestor_obj(topo, pci);
    const int first = parent && parent->nodeset ? hwloc_bitmap_first(parent->nodeset) : -1;
    auto local = std::find_if(out.begin(), out.end(),
                              [&](const NumaNode& n) { return n.os_index == first; });
    if (local == out.end()) local = out.begin();  // no NUMA locality known
    if (local != out.end()) local->gpus.push_back(index);
  }
  return out;
}

Result<NodeResources> node_resources_from_description(const std::string& description,
                                                      std::string hostname) {
  std::string xml;
  if (description.find('/') != std::string::npos || description.ends_with(".xml")) {
    std::ifstream in(description);
    if (!in) return fail(Error::invalid("topology", "cannot read topology file " + description));
    std::stringstream text;
    text << in.rdbuf();
    xml = text.str();
  } else {
    auto topology = new_topology();
    if (!topology) return fail(topology.error());
    hwloc_topology_t topo = topology->get();
    if (hwloc_topology_set_synthetic(topo, description.c_str()) != 0 ||
        hwloc_topology_load(topo) != 0)
      return fail(Error::invalid(
          "topology", "\"" + description + "\" is not a valid hwloc synthetic topology"));
    char* buffer = nullptr;
    int length = 0;
    if (hwloc_topology_export_xmlbuffer(topo, &buffer, &length, 0) != 0)
      return fail(Error::unavailable("hwloc cannot export the synthetic topology"));
    xml.assign(buffer, length > 0 ? static_cast<size_t>(length - 1) : 0);
    hwloc_free_xmlbuffer(topo, buffer);
  }
  auto node = node_resources_from_xml(xml, std::move(hostname));
  if (!node)
    return fail(
        Error::invalid("topology", "topology " + description + ": " + node.error().message()));
  node->topology_xml = std::move(xml);
  return node;
}

Result<NodeResources> node_resources_from_xml(const std::string& xml, std::string hostname) {
  auto topology = new_topology();
  if (!topology) return fail(topology.error());
  hwloc_topology_t topo = topology->get();
  if (hwloc_topology_set_xmlbuffer(topo, xml.data(), static_cast<int>(xml.size() + 1)) != 0 ||
      hwloc_topology_load(topo) != 0)
    return fail(Error::corruption("topology XML cannot be loaded by hwloc"));
  NodeResources node;
  node.hostname = std::move(hostname);
  hwloc_const_bitmap_t allowed = hwloc_topology_get_allowed_cpuset(topo);
  node.vcpus = hwloc_bitmap_weight(allowed);
  for (int i = hwloc_bitmap_first(allowed); i >= 0; i = hwloc_bitmap_next(allowed, i))
    node.pus.push_back(i);
  node.memory_mib = static_cast<int64_t>(numa_memory_bytes(topo) / (1024 * 1024));
  node.gpus = count_gpus(topo);
  if (node.vcpus <= 0) return fail(Error::corruption("topology XML has no PU"));
  return node;
}

}  // namespace helix::workers
