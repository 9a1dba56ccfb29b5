#include "scheduler/core/numa_ledger.h"

#include <algorithm>
#include <limits>

namespace helix::scheduler {

NumaLedger::NumaLedger(std::string node, std::vector<NumaNodeSpec> numa)
    : node_(std::move(node)), numa_(std::move(numa)) {
  std::sort(numa_.begin(), numa_.end(),
            [](const NumaNodeSpec& a, const NumaNodeSpec& b) { return a.id < b.id; });
  for (auto& n : numa_) {
    std::sort(n.pus.begin(), n.pus.end());
    pu_taken_.emplace_back(n.pus.size(), false);
    gpu_taken_.emplace_back(n.gpus.size(), false);
    memory_used_.push_back(0);
  }
}

int64_t NumaLedger::free_pus_on(size_t i) const {
  return std::count(pu_taken_[i].begin(), pu_taken_[i].end(), false);
}

int64_t NumaLedger::free_pus() const {
  int64_t n = 0;
  for (size_t i = 0; i < numa_.size(); ++i) n += free_pus_on(i);
  return n;
}

int64_t NumaLedger::free_memory_mib() const {
  int64_t n = 0;
  for (size_t i = 0; i < numa_.size(); ++i) n += numa_[i].memory_mib - memory_used_[i];
  return n;
}

int64_t NumaLedger::free_gpus() const {
  int64_t n = 0;
  for (const auto& taken : gpu_taken_) n += std::count(taken.begin(), taken.end(), false);
  return n;
}

std::optional<NumaPlacement> NumaLedger::place(const NumaRequest& r) const {
  if (r.pus > free_pus() || r.memory_mib > free_memory_mib() || r.gpus > free_gpus())
    return std::nullopt;
  // The window [first, last] of consecutive NUMA nodes to use: the shortest
  // with enough PUs and memory, then the tightest, then the lowest.
  // A GPU job prefers, among windows of the same length, one whose own NUMA
  // nodes hold enough free GPUs (its cores local to its GPUs).
  size_t best_first = 0, best_len = 0;
  int64_t best_left = std::numeric_limits<int64_t>::max();
  bool best_local = false;
  for (size_t len = 1; len <= numa_.size() && best_len == 0; ++len) {
    for (size_t first = 0; first + len <= numa_.size(); ++first) {
      int64_t pus = 0, memory = 0, gpus = 0;
      for (size_t i = first; i < first + len; ++i) {
        pus += free_pus_on(i);
        memory += numa_[i].memory_mib - memory_used_[i];
        gpus += std::count(gpu_taken_[i].begin(), gpu_taken_[i].end(), false);
      }
      if (pus < r.pus || memory < r.memory_mib) continue;
      bool local = gpus >= r.gpus;
      if ((local && !best_local) || (local == best_local && pus - r.pus < best_left)) {
        best_left = pus - r.pus;
        best_first = first;
        best_len = len;
        best_local = local;
      }
    }
  }
  if (best_len == 0) return std::nullopt;
  // PUs NUMA node by NUMA node, lowest OS index first.
  std::vector<int> pus;
  int64_t want = r.pus;
  for (size_t i = best_first; i < best_first + best_len && want > 0; ++i) {
    for (size_t k = 0; k < numa_[i].pus.size() && want > 0; ++k) {
      if (pu_taken_[i][k]) continue;
      pus.push_back(numa_[i].pus[k]);
      --want;
    }
  }
  return complete(std::move(pus), r, best_first, best_len);
}

std::optional<NumaPlacement> NumaLedger::place_on(const std::vector<int>& pus, const NumaRequest& r,
                                                  const std::vector<int>& gpus) const {
  size_t first = numa_.size(), last = 0;
  for (int pu : pus) {
    bool found = false;
    for (size_t i = 0; i < numa_.size() && !found; ++i)
      for (size_t k = 0; k < numa_[i].pus.size(); ++k)
        if (numa_[i].pus[k] == pu) {
          if (pu_taken_[i][k]) return std::nullopt;
          first = std::min(first, i);
          last = std::max(last, i);
          found = true;
          break;
        }
    if (!found) return std::nullopt;
  }
  if (first == numa_.size()) first = last = 0;
  int64_t memory = 0;
  for (size_t i = first; i <= last; ++i) memory += numa_[i].memory_mib - memory_used_[i];
  if (memory < r.memory_mib || r.gpus > free_gpus()) return std::nullopt;
  NumaPlacement p = complete(pus, r, first, last - first + 1);
  std::vector<int> given = gpus;
  std::sort(given.begin(), given.end());
  bool usable = !given.empty() && static_cast<int64_t>(given.size()) == r.gpus &&
                std::adjacent_find(given.begin(), given.end()) == given.end();
  for (int g : given) {
    bool free = false;
    for (size_t i = 0; i < numa_.size(); ++i)
      for (size_t k = 0; k < numa_[i].gpus.size(); ++k)
        if (numa_[i].gpus[k] == g && !gpu_taken_[i][k]) free = true;
    usable = usable && free;
  }
  if (usable) p.gpus = given;
  return p;
}

NumaPlacement NumaLedger::complete(std::vector<int> pus, const NumaRequest& r, size_t first,
                                   size_t len) const {
  NumaPlacement p;
  p.pus = std::move(pus);
  std::sort(p.pus.begin(), p.pus.end());
  std::map<size_t, int64_t> pus_on;
  for (size_t i = first; i < first + len; ++i)
    for (int pu : numa_[i].pus) pus_on[i] += std::binary_search(p.pus.begin(), p.pus.end(), pu);
  int64_t pu_count = static_cast<int64_t>(p.pus.size());
  // Memory in proportion to the PUs on each NUMA node used, within what
  // each has free; what rounding or a full node leaves goes where it fits.
  int64_t memory_left = r.memory_mib;
  for (size_t i = first; i < first + len; ++i) {
    int64_t share = pu_count > 0 ? r.memory_mib * pus_on[i] / pu_count : 0;
    share = std::min({share, numa_[i].memory_mib - memory_used_[i], memory_left});
    if (share > 0) p.memory_mib_by_numa[numa_[i].id] += share;
    memory_left -= share;
  }
  for (size_t i = first; i < first + len && memory_left > 0; ++i) {
    int64_t room = numa_[i].memory_mib - memory_used_[i] - p.memory_mib_by_numa[numa_[i].id];
    int64_t take = std::min(room, memory_left);
    if (take > 0) p.memory_mib_by_numa[numa_[i].id] += take;
    memory_left -= take;
  }
  std::erase_if(p.memory_mib_by_numa, [](const auto& kv) { return kv.second == 0; });
  for (size_t i = first; i < first + len; ++i)
    if (pus_on[i] > 0 || p.memory_mib_by_numa.count(numa_[i].id))
      p.numa_nodes.push_back(numa_[i].id);
  // GPUs: the window's first, then the nearest NUMA nodes by id distance.
  std::vector<size_t> by_distance(numa_.size());
  for (size_t i = 0; i < numa_.size(); ++i) by_distance[i] = i;
  auto distance = [&](size_t i) -> size_t {
    if (i >= first && i < first + len) return 0;
    return i < first ? first - i : i - (first + len - 1);
  };
  std::stable_sort(by_distance.begin(), by_distance.end(),
                   [&](size_t a, size_t b) { return distance(a) < distance(b); });
  int64_t gpus_left = r.gpus;
  for (size_t i : by_distance)
    for (size_t k = 0; k < numa_[i].gpus.size() && gpus_left > 0; ++k)
      if (!gpu_taken_[i][k]) {
        p.gpus.push_back(numa_[i].gpus[k]);
        --gpus_left;
      }
  std::sort(p.gpus.begin(), p.gpus.end());
  return p;
}

std::optional<std::string> NumaLedger::not_now(const NumaRequest& r) const {
  if (place(r)) return std::nullopt;
  std::string out;
  auto check = [&](const char* what, int64_t need, int64_t free, int64_t total) {
    if (need <= free) return;
    out += (out.empty() ? "" : ", ") + std::string("needs ") + std::to_string(need) + " " + what +
           ", " + std::to_string(free) + " free of " + std::to_string(total);
  };
  int64_t total_pus = 0, total_memory = 0, total_gpus = 0;
  for (const auto& n : numa_) {
    total_pus += static_cast<int64_t>(n.pus.size());
    total_memory += n.memory_mib;
    total_gpus += static_cast<int64_t>(n.gpus.size());
  }
  check("PUs", r.pus, free_pus(), total_pus);
  check("MiB", r.memory_mib, free_memory_mib(), total_memory);
  check("GPUs", r.gpus, free_gpus(), total_gpus);
  if (out.empty()) out = "enough in total, but not within consecutive NUMA nodes";
  return node_ + ": " + out;
}

std::optional<std::string> NumaLedger::never_fits(const NumaRequest& r) const {
  NumaLedger empty(node_, numa_);
  if (empty.place(r)) return std::nullopt;
  auto reason = empty.not_now(r);
  // "n1: needs 4 PUs, 2 free of 2" reads as "n1 has 2" when nothing runs.
  return reason ? *reason + " (when idle)" : std::optional<std::string>("cannot fit");
}

void NumaLedger::reserve(const std::string& holder, const NumaPlacement& p) {
  release(holder);
  for (size_t i = 0; i < numa_.size(); ++i) {
    for (size_t k = 0; k < numa_[i].pus.size(); ++k)
      if (std::binary_search(p.pus.begin(), p.pus.end(), numa_[i].pus[k])) pu_taken_[i][k] = true;
    for (size_t k = 0; k < numa_[i].gpus.size(); ++k)
      if (std::find(p.gpus.begin(), p.gpus.end(), numa_[i].gpus[k]) != p.gpus.end())
        gpu_taken_[i][k] = true;
    if (auto it = p.memory_mib_by_numa.find(numa_[i].id); it != p.memory_mib_by_numa.end())
      memory_used_[i] += it->second;
  }
  held_[holder] = p;
}

void NumaLedger::release(const std::string& holder) {
  auto it = held_.find(holder);
  if (it == held_.end()) return;
  const NumaPlacement& p = it->second;
  for (size_t i = 0; i < numa_.size(); ++i) {
    for (size_t k = 0; k < numa_[i].pus.size(); ++k)
      if (std::binary_search(p.pus.begin(), p.pus.end(), numa_[i].pus[k])) pu_taken_[i][k] = false;
    for (size_t k = 0; k < numa_[i].gpus.size(); ++k)
      if (std::find(p.gpus.begin(), p.gpus.end(), numa_[i].gpus[k]) != p.gpus.end())
        gpu_taken_[i][k] = false;
    if (auto m = p.memory_mib_by_numa.find(numa_[i].id); m != p.memory_mib_by_numa.end())
      memory_used_[i] -= m->second;
  }
  held_.erase(it);
}

const NumaPlacement* NumaLedger::held(const std::string& holder) const {
  auto it = held_.find(holder);
  return it == held_.end() ? nullptr : &it->second;
}

std::vector<std::string> NumaLedger::holders() const {
  std::vector<std::string> out;
  for (const auto& [h, p] : held_) out.push_back(h);
  return out;
}

}  // namespace helix::scheduler
