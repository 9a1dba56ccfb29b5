#include "scheduler/core/policy/ordering.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace helix::scheduler {

namespace {
bool by_share_priority(const OrderKey& a, const OrderKey& b) {
  if (a.queue_priority != b.queue_priority) return a.queue_priority > b.queue_priority;
  if (a.scheduling_priority != b.scheduling_priority)
    return a.scheduling_priority > b.scheduling_priority;
  return a.submit_seq < b.submit_seq;
}
}  // namespace

std::vector<uint64_t> order_by_priority(std::vector<OrderKey> jobs) {
  std::sort(jobs.begin(), jobs.end(), by_share_priority);
  std::vector<uint64_t> ids;
  ids.reserve(jobs.size());
  for (const auto& job : jobs) ids.push_back(job.id);
  return ids;
}

FairShare::FairShare(int64_t share_decay_seconds, std::map<std::string, double> weights)
    : decay_(share_decay_seconds <= 0 ? 600 : share_decay_seconds), weights_(std::move(weights)) {}

double FairShare::weight(const std::string& share) const {
  if (auto it = weights_.find(share); it != weights_.end()) return it->second;
  size_t best = 0;
  double found = 1.0;
  for (const auto& [key, value] : weights_) {
    if (key.empty() || key.back() != '*') continue;
    const size_t n = key.size() - 1;
    if (n >= best && share.compare(0, n, key, 0, n) == 0 && share.size() >= n) {
      best = n;
      found = value;
    }
  }
  return found;
}

void FairShare::set_running(const std::string& share, int64_t vcpus) {
  shares_[share].running_vcpus = vcpus;
}

void FairShare::advance(int64_t dt_seconds) {
  if (dt_seconds <= 0) return;
  const double factor = std::exp(-static_cast<double>(dt_seconds) / static_cast<double>(decay_));
  for (auto& [name, state] : shares_) {
    state.usage = state.usage * factor +
                  static_cast<double>(state.running_vcpus) * static_cast<double>(dt_seconds);
  }
}

double FairShare::usage(const std::string& share) const {
  auto it = shares_.find(share);
  return it == shares_.end() ? 0.0 : it->second.usage;
}

double FairShare::weighted_usage(const std::string& share) const {
  return usage(share) * weight(share);
}

std::vector<uint64_t> FairShare::order(const std::vector<OrderKey>& jobs) const {
  std::map<std::string, std::vector<OrderKey>> per_share;
  for (const auto& job : jobs) per_share[job.share].push_back(job);
  std::map<std::string, std::pair<double, size_t>> cursor;  // projected usage, next index
  for (auto& [share, list] : per_share) {
    std::sort(list.begin(), list.end(), by_share_priority);
    cursor[share] = {weighted_usage(share), 0};
  }
  std::vector<uint64_t> out;
  out.reserve(jobs.size());
  while (out.size() < jobs.size()) {
    const std::string* pick = nullptr;
    double lowest = 0;
    for (const auto& [share, state] : cursor) {
      if (state.second >= per_share[share].size()) continue;
      if (!pick || state.first < lowest) {
        pick = &share;
        lowest = state.first;
      }
    }
    auto& state = cursor[*pick];
    const OrderKey& job = per_share[*pick][state.second++];
    out.push_back(job.id);
    state.first += static_cast<double>(job.vcpus) * weight(*pick) * static_cast<double>(decay_);
  }
  return out;
}

int64_t reserved_vcpus(int64_t max_vcpus, int compute_reservation, int active_shares) {
  if (compute_reservation <= 0) return 0;
  const double fraction = std::pow(compute_reservation / 100.0, std::max(active_shares, 0));
  return static_cast<int64_t>(std::floor(static_cast<double>(max_vcpus) * fraction + 1e-9));
}

ShareReservation::ShareReservation(int64_t max_vcpus, int compute_reservation, int active_shares,
                                   int64_t used_vcpus)
    : max_vcpus_(max_vcpus),
      compute_reservation_(compute_reservation),
      active_shares_(active_shares),
      reserved_(reserved_vcpus(max_vcpus, compute_reservation, active_shares)),
      used_(used_vcpus) {}

std::string ShareReservation::why_not(int64_t vcpus) const {
  return "computeReservation " + std::to_string(compute_reservation_) + " holds back " +
         std::to_string(reserved_) + " of " + std::to_string(max_vcpus_) +
         " vCPUs for shares not yet active (" + std::to_string(active_shares_) + " active share" +
         (active_shares_ == 1 ? "" : "s") + "); the queue's jobs hold " + std::to_string(used_) +
         ", this one needs " + std::to_string(vcpus);
}

}  // namespace helix::scheduler
