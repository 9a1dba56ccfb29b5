#include "scheduler/core/topology.h"

#include <hwloc.h>

#include <algorithm>
#include <string>

namespace helix::scheduler {
namespace {

bool is_gpu(hwloc_obj_t obj) {
  unsigned cls = obj->attr->pcidev.class_id;
  return cls == 0x0302 || cls == 0x0300;
}

Result<std::vector<NumaNodeSpec>> read(hwloc_topology_t topo) {
  std::vector<NumaNodeSpec> out;
  int numa_count = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  if (numa_count <= 0) return fail(Error::invalid("topology", "no NUMA node"));
  for (int i = 0; i < numa_count; ++i) {
    hwloc_obj_t numa = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    NumaNodeSpec spec;
    spec.id = static_cast<int>(numa->os_index);
    spec.memory_mib = static_cast<int64_t>(numa->attr->numanode.local_memory / (1024 * 1024));
    int pu_count = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    for (int p = 0; p < pu_count; ++p) {
      hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, static_cast<unsigned>(p));
      if (hwloc_bitmap_isset(numa->cpuset, pu->os_index))
        spec.pus.push_back(static_cast<int>(pu->os_index));
    }
    std::sort(spec.pus.begin(), spec.pus.end());
    out.push_back(std::move(spec));
  }
  std::sort(out.begin(), out.end(),
            [](const NumaNodeSpec& a, const NumaNodeSpec& b) { return a.id < b.id; });
  int gpu_index = 0;
  for (hwloc_obj_t dev = hwloc_get_next_pcidev(topo, nullptr); dev != nullptr;
       dev = hwloc_get_next_pcidev(topo, dev)) {
    if (!is_gpu(dev)) continue;
    hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, dev);
    int first = anc ? hwloc_bitmap_first(anc->nodeset) : -1;
    auto it =
        std::find_if(out.begin(), out.end(), [&](const NumaNodeSpec& s) { return s.id == first; });
    if (it == out.end()) it = out.begin();
    it->gpus.push_back(gpu_index++);
  }
  return out;
}

template <typename Setup>
Result<std::vector<NumaNodeSpec>> load(Setup setup, const char* what) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) return fail(Error::internal("hwloc_topology_init failed"));
  hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  Result<std::vector<NumaNodeSpec>> result =
      fail(Error::invalid("topology", std::string("cannot load ") + what));
  if (setup(topo) == 0 && hwloc_topology_load(topo) == 0) result = read(topo);
  hwloc_topology_destroy(topo);
  return result;
}

}  // namespace

Result<std::vector<NumaNodeSpec>> numa_from_hwloc_xml(std::string_view xml) {
  std::string buffer(xml);
  return load(
      [&](hwloc_topology_t t) {
        return hwloc_topology_set_xmlbuffer(t, buffer.c_str(), static_cast<int>(buffer.size() + 1));
      },
      "hwloc XML");
}

Result<std::vector<NumaNodeSpec>> numa_from_synthetic(std::string_view description) {
  std::string text(description);
  return load([&](hwloc_topology_t t) { return hwloc_topology_set_synthetic(t, text.c_str()); },
              "synthetic topology");
}

}  // namespace helix::scheduler
