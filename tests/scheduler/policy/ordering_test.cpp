// Ordering: priority order and fair share. Expected shares are written
// before asserting (Mesos-sorter style).
#include <gtest/gtest.h>

#include <cmath>

#include "scheduler/core/policy/ordering.h"

namespace helix::scheduler {
namespace {

TEST(Ordering, QueuePriorityThenSchedulingPriorityThenSubmission) {
  std::vector<OrderKey> jobs{
      {1, 1, 0, 0, "", 1}, {2, 5, 0, 1, "", 1}, {3, 5, 7, 2, "", 1}, {4, 1, 0, 3, "", 1}};
  EXPECT_EQ(order_by_priority(jobs), (std::vector<uint64_t>{3, 2, 1, 4}));
}

TEST(FairShare, WeightsExactPrefixDefault) {
  FairShare fs(0, {{"teamA", 0.5}, {"user*", 2.0}, {"users*", 4.0}});
  EXPECT_EQ(fs.decay_seconds(), 600);
  EXPECT_DOUBLE_EQ(fs.weight("teamA"), 0.5);
  EXPECT_DOUBLE_EQ(fs.weight("user1"), 2.0);
  EXPECT_DOUBLE_EQ(fs.weight("users9"), 4.0);
  EXPECT_DOUBLE_EQ(fs.weight("other"), 1.0);
}

TEST(FairShare, DecayMatchesWorkedExample) {
  FairShare fs(600, {});
  fs.set_running("A", 4);
  fs.advance(600);
  EXPECT_DOUBLE_EQ(fs.usage("A"), 2400.0);
  fs.set_running("A", 0);
  fs.advance(600);
  EXPECT_NEAR(fs.usage("A"), 2400.0 * std::exp(-1.0), 1e-9);
}

TEST(FairShare, LowerWeightGetsProportionallyMoreOfTheOrder) {
  // A weight 1, B weight 0.5: B should get 2 of every 3 slots.
  FairShare fs(600, {{"A", 1.0}, {"B", 0.5}});
  std::vector<OrderKey> jobs;
  for (uint64_t i = 0; i < 30; ++i) jobs.push_back({i, 0, 0, i, i % 2 ? "B" : "A", 1});
  auto order = fs.order(jobs);
  const double expected_b_share = 2.0 / 3.0;
  int b_in_first_9 = 0;
  for (int i = 0; i < 9; ++i) b_in_first_9 += order[i] % 2 == 1;
  EXPECT_EQ(b_in_first_9, static_cast<int>(std::lround(9 * expected_b_share)));
}

TEST(FairShare, PastUsageDelaysAShareAndPriorityOrdersWithinIt) {
  FairShare fs(600, {});
  fs.set_running("A", 10);
  fs.advance(60);  // A: 600 vCPU-s, B: 0
  // Expected: B's two jobs first (B: 0 -> 600 after one, ties go to "A"
  // lexicographically at 600 vs 600), within B the higher schedulingPriority.
  std::vector<OrderKey> jobs{{1, 0, 0, 0, "A", 1}, {2, 0, 1, 1, "B", 1}, {3, 0, 9, 2, "B", 1}};
  EXPECT_EQ(fs.order(jobs), (std::vector<uint64_t>{3, 1, 2}));
}

TEST(FairShare, ComputeReservationFormula) {
  EXPECT_EQ(reserved_vcpus(100, 50, 1), 50);
  EXPECT_EQ(reserved_vcpus(100, 50, 2), 25);
  EXPECT_EQ(reserved_vcpus(100, 50, 3), 12);
  EXPECT_EQ(reserved_vcpus(100, 0, 1), 0);
}

TEST(FairShare, ComputeReservationCapsTheQueueAndRisesWithActiveShares) {
  // 2 vCPUs, r = 50: one active share may hold 1, two may hold both.
  ShareReservation one(2, 50, 1, 0);
  EXPECT_EQ(one.cap(), 1);
  EXPECT_TRUE(one.admits(1));
  EXPECT_FALSE(one.admits(2));
  one.take(1);
  EXPECT_FALSE(one.admits(1));
  EXPECT_EQ(one.why_not(1),
            "computeReservation 50 holds back 1 of 2 vCPUs for shares not yet active (1 active "
            "share); the queue's jobs hold 1, this one needs 1");
  ShareReservation two(2, 50, 2, 1);
  EXPECT_EQ(two.cap(), 2);
  EXPECT_TRUE(two.admits(1));
  // r = 0 reserves nothing.
  EXPECT_TRUE(ShareReservation(8, 0, 1, 0).admits(8));
  // 64 vCPUs, r = 90, 3 active shares: floor(64 * 0.729) = 46 held back.
  ShareReservation three(64, 90, 3, 10);
  EXPECT_EQ(three.cap(), 18);
  EXPECT_TRUE(three.admits(8));
  EXPECT_FALSE(three.admits(9));
}

}  // namespace
}  // namespace helix::scheduler
