#include "workers/node_resources.h"

#include <hwloc.h>
#include <unistd.h>

#include <set>

namespace helix::workers {

Result<NodeResources> discover_local_node() {
  hwloc_topology_t topology;
  if (hwloc_topology_init(&topology) != 0)
    return fail(Error::unavailable("hwloc_topology_init failed"));
  hwloc_topology_set_io_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (hwloc_topology_load(topology) != 0) {
    hwloc_topology_destroy(topology);
    return fail(Error::unavailable("hwloc_topology_load failed"));
  }
  NodeResources node;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  node.hostname = host;
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topology);
  hwloc_bitmap_t bound = hwloc_bitmap_alloc();
  // Honour the cpuset helixd was started in (taskset, cgroups, Slurm).
  if (hwloc_get_cpubind(topology, bound, HWLOC_CPUBIND_PROCESS) == 0) {
    hwloc_bitmap_and(bound, bound, allowed);
  } else {
    hwloc_bitmap_copy(bound, allowed);
  }
  node.vcpus = hwloc_bitmap_weight(bound);
  hwloc_bitmap_free(bound);
  uint64_t bytes = 0;
  int numa = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < numa; ++i) {
    hwloc_obj_t obj = hwloc_get_obj_by_type(topology, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    if (obj->attr) bytes += obj->attr->numanode.local_memory;
  }
  // Hot-plugged memory (virtio-mem, some VMs) can be missing from the NUMA
  // nodes' counts while the kernel uses it: trust the larger figure.
  uint64_t physical = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                      static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (physical > bytes) bytes = physical;
  node.memory_mib = static_cast<int64_t>(bytes / (1024 * 1024));
  std::set<std::string> gpus;
  for (hwloc_obj_t os = hwloc_get_next_osdev(topology, nullptr); os;
       os = hwloc_get_next_osdev(topology, os)) {
    if (os->attr->osdev.type == HWLOC_OBJ_OSDEV_GPU ||
        os->attr->osdev.type == HWLOC_OBJ_OSDEV_COPROC) {
      // One physical GPU shows as several OS devices (cuda0, nvml0, ...): count PCI parents.
      hwloc_obj_t pci = os->parent;
      while (pci && pci->type != HWLOC_OBJ_PCI_DEVICE) pci = pci->parent;
      gpus.insert(pci ? std::to_string(pci->gp_index) : std::string(os->name ? os->name : "?"));
    }
  }
  node.gpus = static_cast<int64_t>(gpus.size());
  hwloc_topology_destroy(topology);
  if (node.vcpus <= 0) return fail(Error::unavailable("hwloc found no usable PU"));
  return node;
}

}  // namespace helix::workers
