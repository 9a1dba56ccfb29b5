#include "scheduler/core/node_ledger.h"

#include <algorithm>

namespace helix::scheduler {

NodeLedger::NodeLedger(NodeCapacity total) : total_(std::move(total)) {
  if (total_.pus.empty())
    for (int i = 0; i < total_.vcpus; ++i) total_.pus.push_back(i);
  std::sort(total_.pus.begin(), total_.pus.end());
  free_pus_ = total_.pus;
}

std::vector<int> NodeLedger::pus_of(const std::string& holder) const {
  auto it = held_pus_.find(holder);
  return it == held_pus_.end() ? std::vector<int>{} : it->second;
}

bool NodeLedger::fits_now(const queues::ResourceRequest& r) const {
  return used_.vcpus + r.vcpus <= total_.vcpus &&
         used_.memory_mib + r.memory_mib <= total_.memory_mib && used_.gpus + r.gpus <= total_.gpus;
}

std::optional<std::string> NodeLedger::not_now(const queues::ResourceRequest& r) const {
  std::string out;
  auto check = [&](const char* what, int64_t need, int64_t used, int64_t total) {
    if (need <= total - used) return;
    out += (out.empty() ? "" : ", ") + std::string("needs ") + std::to_string(need) + " " + what +
           ", " + std::to_string(total - used) + " free of " + std::to_string(total);
  };
  check("vCPUs", r.vcpus, used_.vcpus, total_.vcpus);
  check("MiB", r.memory_mib, used_.memory_mib, total_.memory_mib);
  check("GPUs", r.gpus, used_.gpus, total_.gpus);
  if (out.empty()) return std::nullopt;
  return total_.name + ": " + out;
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

std::vector<int> NodeLedger::reserve(const std::string& holder, const queues::ResourceRequest& r,
                                     std::vector<int> pus) {
  release(holder);
  held_[holder] = r;
  if (pus.empty()) {
    size_t n = std::min(free_pus_.size(), static_cast<size_t>(std::max<int64_t>(r.vcpus, 0)));
    pus.assign(free_pus_.begin(), free_pus_.begin() + static_cast<long>(n));
  }
  std::sort(pus.begin(), pus.end());
  for (int pu : pus)
    free_pus_.erase(std::remove(free_pus_.begin(), free_pus_.end(), pu), free_pus_.end());
  held_pus_[holder] = pus;
  used_.vcpus += r.vcpus;
  used_.memory_mib += r.memory_mib;
  used_.gpus += r.gpus;
  return pus;
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
  auto p = held_pus_.find(holder);
  if (p != held_pus_.end()) {
    free_pus_.insert(free_pus_.end(), p->second.begin(), p->second.end());
    std::sort(free_pus_.begin(), free_pus_.end());
    held_pus_.erase(p);
  }
}

}  // namespace helix::scheduler
