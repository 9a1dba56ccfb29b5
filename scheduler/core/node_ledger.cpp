#include "scheduler/core/node_ledger.h"

namespace helix::scheduler {

bool NodeLedger::fits_now(const queues::ResourceRequest& r) const {
  return used_.vcpus + r.vcpus <= total_.vcpus &&
         used_.memory_mib + r.memory_mib <= total_.memory_mib && used_.gpus + r.gpus <= total_.gpus;
}

std::optional<std::string> NodeLedger::never_fits(const queues::ResourceRequest& r) const {
  auto describe = [&](const char* what, int64_t need, int64_t have) {
    return "needs " + std::to_string(need) + " " + what + ", node " + total_.name + " has " +
           std::to_string(have);
  };
  if (r.vcpus > total_.vcpus) return describe("vCPUs", r.vcpus, total_.vcpus);
  if (r.memory_mib > total_.memory_mib)
    return describe("MiB of memory", r.memory_mib, total_.memory_mib);
  if (r.gpus > total_.gpus) return describe("GPUs", r.gpus, total_.gpus);
  return std::nullopt;
}

void NodeLedger::reserve(const std::string& holder, const queues::ResourceRequest& r) {
  release(holder);
  held_[holder] = r;
  used_.vcpus += r.vcpus;
  used_.memory_mib += r.memory_mib;
  used_.gpus += r.gpus;
}

std::vector<std::string> NodeLedger::holders() const {
  std::vector<std::string> out;
  for (const auto& [holder, request] : held_) out.push_back(holder);
  return out;
}

void NodeLedger::release(const std::string& holder) {
  auto it = held_.find(holder);
  if (it == held_.end()) return;
  used_.vcpus -= it->second.vcpus;
  used_.memory_mib -= it->second.memory_mib;
  used_.gpus -= it->second.gpus;
  held_.erase(it);
}

}  // namespace helix::scheduler
