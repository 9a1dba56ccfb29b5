// Backfill decisions on small hand-worked machines (NodeCapacity, 1 proc per
// node unless stated). Each test writes the expected schedule first.
#include <gtest/gtest.h>

#include "scheduler/core/policy/backfill.h"

namespace helix::scheduler {
namespace {

QueuedJob job(PolicyJobId id, int64_t procs, std::optional<int64_t> estimate) {
  return {id, PolicyRequest{procs}, estimate};
}

std::vector<PolicyJobId> started(const std::vector<Decision>& ds) {
  std::vector<PolicyJobId> out;
  for (const auto& d : ds)
    if (d.kind == DecisionKind::kStart) out.push_back(d.id);
  return out;
}

const Decision* not_now(const std::vector<Decision>& ds) {
  for (const auto& d : ds)
    if (d.kind == DecisionKind::kNotNow) return &d;
  return nullptr;
}

// Machine of 10 nodes; job 1 runs on 6 until t=100, job 2 on 2 until t=50.
// Free now: 2. Head job 10 needs 5: after job 2 ends (t=50) 4 free, after
// job 1 ends (t=100) 10 free -> shadow 100; at the shadow 5 stay free.
struct Fixture {
  NodeCapacity capacity{10, 1};
  std::vector<RunningJob> running{{1, 100}, {2, 50}};
  BackfillMemory memory;
  Fixture() {
    capacity.reserve(1, {6});
    capacity.reserve(2, {2});
  }
};

TEST(Backfill, FcfsStartsPrefixAndStopsAtHeadWithReservedStart) {
  Fixture f;
  std::vector<QueuedJob> queue{job(9, 1, 10), job(10, 5, 10), job(11, 1, 10)};
  auto ds = decide_backfill(BackfillPolicy::kFcfs, 0, queue, f.running, f.capacity, f.memory);
  EXPECT_EQ(started(ds), (std::vector<PolicyJobId>{9}));
  ASSERT_NE(not_now(ds), nullptr);
  EXPECT_EQ(not_now(ds)->id, 10u);
  EXPECT_EQ(not_now(ds)->reserved_start_s, 100);
  EXPECT_EQ(f.capacity.free_nodes(), 1);
}

TEST(Backfill, EasyBackfillsShortJobsAndJobsOutsideTheReservation) {
  Fixture f;
  // 11: 2 nodes, ends at 80 <= 100 -> backfills by (a).
  // (after 11 nothing is free; so test (b) separately below)
  std::vector<QueuedJob> queue{job(10, 5, 10), job(11, 2, 80), job(12, 1, 10)};
  auto ds = decide_backfill(BackfillPolicy::kEasy, 0, queue, f.running, f.capacity, f.memory);
  EXPECT_EQ(started(ds), (std::vector<PolicyJobId>{11}));
  EXPECT_EQ(not_now(ds)->reserved_start_s, 100);
}

TEST(Backfill, EasyLongJobBackfillsOnlyIfItLeavesTheHeadRoom) {
  // At the shadow (100) 10 free, head takes 5 -> 5 spare. A long 2-node job
  // (ends 1000) fits beside the head -> starts (b). Then a long 1-node job
  // does not fit now (0 free).
  Fixture f;
  std::vector<QueuedJob> queue{job(10, 5, 10), job(11, 2, 1000)};
  auto ds = decide_backfill(BackfillPolicy::kEasy, 0, queue, f.running, f.capacity, f.memory);
  EXPECT_EQ(started(ds), (std::vector<PolicyJobId>{11}));
  // Head needs 9: at the shadow only 1 spare, so a long 2-node job waits
  // while a 2-node job ending at 100 (<= shadow) may go.
  Fixture g;
  std::vector<QueuedJob> q2{job(10, 9, 10), job(11, 2, 1000), job(12, 2, 100)};
  ds = decide_backfill(BackfillPolicy::kEasy, 0, q2, g.running, g.capacity, g.memory);
  EXPECT_EQ(started(ds), (std::vector<PolicyJobId>{12}));
}

TEST(Backfill, EasyJobWithoutEstimateOnlyOutsideTheReservation) {
  Fixture f;
  std::vector<QueuedJob> queue{job(10, 9, 10), job(11, 1, std::nullopt)};
  auto ds = decide_backfill(BackfillPolicy::kEasy, 0, queue, f.running, f.capacity, f.memory);
  EXPECT_EQ(started(ds), (std::vector<PolicyJobId>{11}));  // 1 spare at the shadow
  Fixture g;
  std::vector<QueuedJob> q2{job(10, 10, 10), job(11, 1, std::nullopt)};
  ds = decide_backfill(BackfillPolicy::kEasy, 0, q2, g.running, g.capacity, g.memory);
  EXPECT_TRUE(started(ds).empty());
}

TEST(Backfill, RestrictedNeedsStrictEndBeforeShadowAndKeepsTheShadow) {
  Fixture f;
  std::vector<QueuedJob> queue{job(10, 5, 10), job(11, 1, 100), job(12, 1, 99)};
  auto ds = decide_backfill(BackfillPolicy::kRestrictedBackfill, 0, queue, f.running, f.capacity,
                            f.memory);
  EXPECT_EQ(started(ds), (std::vector<PolicyJobId>{12}));  // 0 + 100 < 100 is false
  EXPECT_EQ(f.memory.shadow_s, 100);
  // Job 1 is now expected to end at 500, but the shadow stays 100 for head 10.
  f.running[0].expected_end_s = 500;
  // One node is free. Job 13 (1 node, 70 s) at t=40: 40 + 70 < 100 is false
  // under the kept shadow, although a fresh shadow (500) would admit it.
  std::vector<QueuedJob> q2{job(10, 5, 10), job(13, 1, 70)};
  ds =
      decide_backfill(BackfillPolicy::kRestrictedBackfill, 40, q2, f.running, f.capacity, f.memory);
  EXPECT_EQ(not_now(ds)->reserved_start_s, 100);
  EXPECT_TRUE(started(ds).empty());
  // A 1-node 50 s job does: 40 + 50 < 100.
  std::vector<QueuedJob> q3{job(10, 5, 10), job(14, 1, 50)};
  ds =
      decide_backfill(BackfillPolicy::kRestrictedBackfill, 40, q3, f.running, f.capacity, f.memory);
  EXPECT_EQ(started(ds), (std::vector<PolicyJobId>{14}));
}

TEST(Backfill, JobTooLargeForTheMachineIsNever) {
  NodeCapacity cap(4, 2);  // 8 processors on 4 nodes
  BackfillMemory memory;
  std::vector<QueuedJob> queue{job(1, 9, 10), job(2, 3, 10)};  // 3 procs -> 2 nodes
  auto ds = decide_backfill(BackfillPolicy::kEasy, 0, queue, {}, cap, memory);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].kind, DecisionKind::kNever);
  EXPECT_EQ(started(ds), (std::vector<PolicyJobId>{2}));
  EXPECT_EQ(cap.free_nodes(), 2);
}

TEST(Backfill, PolicyNamesRoundTrip) {
  for (auto p : {BackfillPolicy::kFcfs, BackfillPolicy::kEasy, BackfillPolicy::kRestrictedBackfill})
    EXPECT_EQ(parse_backfill_policy(backfill_policy_name(p)), p);
  EXPECT_FALSE(parse_backfill_policy("sjf"));
}

}  // namespace
}  // namespace helix::scheduler
