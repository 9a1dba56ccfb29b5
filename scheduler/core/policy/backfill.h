// Backfill decisions: which queued jobs start now, given the queue in
// priority order (ordering.h), the running jobs with their expected ends and
// a Capacity. Pure: the caller owns the clock and the ledger.
//
// Policies (all start the longest prefix of the queue that fits, in order;
// the first job that does not fit is the "head"):
//
//  kFcfs: nothing after the head starts. The head gets NotNow with its
//    reserved start (the shadow time below), for information only.
//
//  kEasy: one reservation, for the head only (multi-resource EASY).
//    Shadow time: clone the capacity, release running jobs in order of
//    expected end (ties: the order given); the shadow time is the expected
//    end at which the head first fits (never earlier than now). A running
//    job without an expected end is never released, so if the head needs
//    its resources there is no shadow time: the head gets NotNow without a
//    start and nothing may backfill (no job may delay a head that cannot be
//    placed in time). At the shadow time the head is reserved in the clone.
//    A later job may backfill (start now) when it fits now and either
//    (a) it has an estimate and now + estimate <= shadow time, or
//    (b) it also fits in the clone at the shadow time beside the head,
//        i.e. it uses none of the resources reserved for the head; it is
//        then reserved in the clone too, so later candidates see it.
//    A job without an estimate (attemptDurationSeconds) can only use (b).
//    The shadow time is recomputed on every call: a backfilled job never
//    delays the head's start as computed from the expected ends.
//
//  kRestrictedBackfill: RLScheduler's backfilling (Zhang et al. SC'20,
//    DIR-LAB/deep-batch-scheduler HPCSimPickJobs.py,
//    moveforward_for_resources_backfill_greedy), written from its published
//    behaviour: the head's shadow time is computed once, when that job first
//    becomes the blocked head, and then kept (BackfillMemory) until it
//    starts, however running jobs end; a later job backfills only when it
//    fits now and now + estimate < shadow time (strictly); there is no
//    rule (b) and jobs without an estimate never backfill.
//    Status: on the README's 10 windows this gives HPC2N 127.19 (published
//    127.38), Lublin-1 1465.49 (published 235.82), Lublin-2 2282.56
//    (published 247.61); the Lublin gap is not explained yet (the code read
//    at DIR-LAB/deep-batch-scheduler 05eacf9 matches these semantics), so
//    no test claims the restricted column. FCFS matches exactly.
//
// Decisions are returned for every job started (kStart), for the head
// (kNotNow, with the reserved start when known) and for jobs that can never
// fit the empty machine (kNever; these are skipped, not treated as head).
// Started jobs are reserved in `capacity`.
//
// Cost: O(queue) per call plus, when the head blocks, one clone and
// O(running log running). The scan stops early once a 1-processor request
// no longer fits.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "scheduler/core/policy/capacity.h"

namespace helix::scheduler {

enum class BackfillPolicy { kFcfs, kEasy, kRestrictedBackfill };

// "fcfs", "easy", "rlsched-backfill".
std::optional<BackfillPolicy> parse_backfill_policy(std::string_view name);
const char* backfill_policy_name(BackfillPolicy policy);

struct QueuedJob {
  PolicyJobId id = 0;
  PolicyRequest request;
  std::optional<int64_t> estimate_s;  // attemptDurationSeconds / SWF requested time
};

struct RunningJob {
  PolicyJobId id = 0;
  std::optional<int64_t> expected_end_s;  // start + estimate; none: unknown
};

enum class DecisionKind { kStart, kNotNow, kNever };

struct Decision {
  PolicyJobId id = 0;
  DecisionKind kind = DecisionKind::kStart;
  std::optional<int64_t> reserved_start_s;  // kNotNow for the head
  bool backfilled = false;                  // kStart after the head
};

// State the restricted policy keeps between calls (the frozen shadow time).
struct BackfillMemory {
  std::optional<PolicyJobId> head;
  std::optional<int64_t> shadow_s;
};

std::vector<Decision> decide_backfill(BackfillPolicy policy, int64_t now_s,
                                      std::span<const QueuedJob> queue,
                                      std::span<const RunningJob> running, Capacity& capacity,
                                      BackfillMemory& memory);

// The shadow time of `head` (see kEasy); nullopt when it cannot be shown to
// fit. When `reserved_after` is given it receives the clone at the shadow
// time with the head reserved.
std::optional<int64_t> shadow_time(int64_t now_s, const QueuedJob& head,
                                   std::span<const RunningJob> running, const Capacity& capacity,
                                   std::unique_ptr<Capacity>* reserved_after = nullptr);

}  // namespace helix::scheduler
