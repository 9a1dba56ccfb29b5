#include "scheduler/core/node_ledger.h"

#include <gtest/gtest.h>

namespace helix::scheduler {
namespace {

TEST(NodeLedger, NeverMoreThanTheNodeHas) {
  NodeLedger ledger({"n1", 4, 1000, 0, {}});
  ledger.reserve("a", {3, 500, 0});
  EXPECT_FALSE(ledger.fits_now({2, 100, 0}));
  EXPECT_TRUE(ledger.fits_now({1, 500, 0}));
  EXPECT_FALSE(ledger.fits_now({1, 501, 0}));
  ledger.release("a");
  EXPECT_TRUE(ledger.fits_now({4, 1000, 0}));
  EXPECT_EQ(ledger.free_vcpus(), 4);
}

TEST(NodeLedger, ReservingTwiceReplacesAndReleaseIsIdempotent) {
  NodeLedger ledger({"n1", 4, 1000, 0, {}});
  ledger.reserve("a", {2, 0, 0});
  ledger.reserve("a", {3, 0, 0});
  EXPECT_EQ(ledger.used().vcpus, 3);
  ledger.release("a");
  ledger.release("a");
  EXPECT_EQ(ledger.used().vcpus, 0);
}

TEST(NodeLedger, NeverFitsSaysWhyWithNumbers) {
  NodeLedger ledger({"n1", 2, 1000, 0, {}});
  EXPECT_EQ(ledger.never_fits({4, 0, 0}), "needs 4 vCPUs, node n1 has 2");
  EXPECT_EQ(ledger.never_fits({1, 0, 1}), "needs 1 GPUs, node n1 has 0");
  EXPECT_FALSE(ledger.never_fits({2, 1000, 0}));
}

}  // namespace
}  // namespace helix::scheduler

namespace helix::scheduler {
namespace {

TEST(NodeLedger, GivesEachHolderItsOwnProcessingUnitsAndTakesThemBack) {
  // PUs 4, 6, 8, 10 (OS indexes of an allowed cpuset).
  NodeLedger ledger({"n1", 4, 1000, 0, {10, 4, 8, 6}});
  EXPECT_EQ(ledger.reserve("a", {2, 0, 0}), (std::vector<int>{4, 6}));
  EXPECT_EQ(ledger.reserve("b", {1, 0, 0}), (std::vector<int>{8}));
  ledger.release("a");
  // The lowest free first: a's PUs again.
  EXPECT_EQ(ledger.reserve("c", {3, 0, 0}), (std::vector<int>{4, 6, 10}));
  EXPECT_EQ(ledger.pus_of("b"), (std::vector<int>{8}));
  EXPECT_EQ(ledger.pus_of("a"), std::vector<int>{});
  // A restored holder keeps the PUs it had.
  ledger.release("b");
  ledger.release("c");
  EXPECT_EQ(ledger.reserve("d", {2, 0, 0}, {8, 10}), (std::vector<int>{8, 10}));
  EXPECT_EQ(ledger.reserve("e", {2, 0, 0}), (std::vector<int>{4, 6}));
}

}  // namespace
}  // namespace helix::scheduler
