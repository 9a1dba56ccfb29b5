// Topology reader: a node's NUMA nodes, PUs and GPUs from hwloc XML bytes or
// a synthetic description, as NumaNodeSpec for NumaLedger. Never discovers
// the live machine and never binds (workers/ does that).
//
// GPUs are PCI devices of class 0x0302 (3D) or 0x0300 (VGA), numbered 0.. in
// hwloc's order; each belongs to the first NUMA node of its nearest non-I/O
// ancestor. NUMA nodes come in OS-index order; PUs are OS indexes, ascending.
#pragma once

#include <string_view>
#include <vector>

#include "common/error.h"
#include "scheduler/core/numa_ledger.h"

namespace helix::scheduler {

Result<std::vector<NumaNodeSpec>> numa_from_hwloc_xml(std::string_view xml);
// e.g. "pack:2 [numa(memory=64GiB)] core:8 pu:2"
Result<std::vector<NumaNodeSpec>> numa_from_synthetic(std::string_view description);

}  // namespace helix::scheduler
