#include "scheduler/core/node_ledger.h"

#include <gtest/gtest.h>

namespace helix::scheduler {
namespace {

TEST(NodeLedger, NeverMoreThanTheNodeHas) {
  NodeLedger ledger({"n1", 4, 1000, 0});
  ledger.reserve("a", {3, 500, 0});
  EXPECT_FALSE(ledger.fits_now({2, 100, 0}));
  EXPECT_TRUE(ledger.fits_now({1, 500, 0}));
  EXPECT_FALSE(ledger.fits_now({1, 501, 0}));
  ledger.release("a");
  EXPECT_TRUE(ledger.fits_now({4, 1000, 0}));
  EXPECT_EQ(ledger.free_vcpus(), 4);
}

TEST(NodeLedger, ReservingTwiceReplacesAndReleaseIsIdempotent) {
  NodeLedger ledger({"n1", 4, 1000, 0});
  ledger.reserve("a", {2, 0, 0});
  ledger.reserve("a", {3, 0, 0});
  EXPECT_EQ(ledger.used().vcpus, 3);
  ledger.release("a");
  ledger.release("a");
  EXPECT_EQ(ledger.used().vcpus, 0);
}

TEST(NodeLedger, NeverFitsSaysWhyWithNumbers) {
  NodeLedger ledger({"n1", 2, 1000, 0});
  EXPECT_EQ(ledger.never_fits({4, 0, 0}), "needs 4 vCPUs, node n1 has 2");
  EXPECT_EQ(ledger.never_fits({1, 0, 1}), "needs 1 GPUs, node n1 has 0");
  EXPECT_FALSE(ledger.never_fits({2, 1000, 0}));
}

}  // namespace
}  // namespace helix::scheduler
