#include "scheduler/core/policy/backfill.h"

#include <algorithm>

namespace helix::scheduler {

std::optional<BackfillPolicy> parse_backfill_policy(std::string_view name) {
  if (name == "fcfs") return BackfillPolicy::kFcfs;
  if (name == "easy") return BackfillPolicy::kEasy;
  if (name == "rlsched-backfill") return BackfillPolicy::kRestrictedBackfill;
  return std::nullopt;
}

const char* backfill_policy_name(BackfillPolicy policy) {
  switch (policy) {
    case BackfillPolicy::kFcfs:
      return "fcfs";
    case BackfillPolicy::kEasy:
      return "easy";
    case BackfillPolicy::kRestrictedBackfill:
      return "rlsched-backfill";
  }
  return "?";
}

std::optional<int64_t> shadow_time(int64_t now_s, const QueuedJob& head,
                                   std::span<const RunningJob> running, const Capacity& capacity,
                                   std::unique_ptr<Capacity>* reserved_after) {
  std::vector<const RunningJob*> ending;
  ending.reserve(running.size());
  for (const auto& job : running) {
    if (job.expected_end_s) ending.push_back(&job);
  }
  std::stable_sort(ending.begin(), ending.end(), [](const RunningJob* a, const RunningJob* b) {
    return *a->expected_end_s < *b->expected_end_s;
  });
  auto clone = capacity.clone();
  std::optional<int64_t> shadow;
  if (clone->fits(head.request)) shadow = now_s;
  for (size_t i = 0; !shadow && i < ending.size(); ++i) {
    clone->release(ending[i]->id);
    if (clone->fits(head.request)) shadow = std::max(now_s, *ending[i]->expected_end_s);
  }
  if (shadow && reserved_after) {
    clone->reserve(head.id, head.request);
    *reserved_after = std::move(clone);
  }
  return shadow;
}

std::vector<Decision> decide_backfill(BackfillPolicy policy, int64_t now_s,
                                      std::span<const QueuedJob> queue,
                                      std::span<const RunningJob> running, Capacity& capacity,
                                      BackfillMemory& memory) {
  std::vector<Decision> out;
  const PolicyRequest smallest{1};
  size_t i = 0;
  for (; i < queue.size(); ++i) {
    const QueuedJob& job = queue[i];
    if (!capacity.could_ever_fit(job.request)) {
      out.push_back({job.id, DecisionKind::kNever, std::nullopt, false});
      continue;
    }
    if (!capacity.fits(job.request)) break;
    capacity.reserve(job.id, job.request);
    out.push_back({job.id, DecisionKind::kStart, std::nullopt, false});
  }
  if (i == queue.size()) {
    memory = {};
    return out;
  }
  const QueuedJob& head = queue[i];
  std::unique_ptr<Capacity> at_shadow;
  std::optional<int64_t> shadow;
  if (policy == BackfillPolicy::kRestrictedBackfill && memory.head == head.id) {
    shadow = memory.shadow_s;
  } else {
    shadow = shadow_time(now_s, head, running, capacity,
                         policy == BackfillPolicy::kEasy ? &at_shadow : nullptr);
    memory.head = head.id;
    memory.shadow_s = shadow;
  }
  out.push_back({head.id, DecisionKind::kNotNow, shadow, false});
  if (policy == BackfillPolicy::kFcfs || !shadow) return out;

  for (size_t k = i + 1; k < queue.size(); ++k) {
    if (!capacity.fits(smallest)) break;
    const QueuedJob& job = queue[k];
    if (!capacity.could_ever_fit(job.request)) {
      out.push_back({job.id, DecisionKind::kNever, std::nullopt, false});
      continue;
    }
    if (!capacity.fits(job.request)) continue;
    bool start = false;
    if (policy == BackfillPolicy::kRestrictedBackfill) {
      start = job.estimate_s && now_s + *job.estimate_s < *shadow;
    } else {
      if (job.estimate_s && now_s + *job.estimate_s <= *shadow) {
        start = true;
      } else if (at_shadow->fits(job.request)) {
        at_shadow->reserve(job.id, job.request);
        start = true;
      }
    }
    if (start) {
      capacity.reserve(job.id, job.request);
      out.push_back({job.id, DecisionKind::kStart, std::nullopt, true});
    }
  }
  return out;
}

}  // namespace helix::scheduler
