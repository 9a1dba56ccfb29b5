#include "common/time.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace helix {
namespace {

TEST(TimeTest, EpochMillisecondsRoundTrip) {
  TimePoint t = from_epoch_ms(1700000000123);
  EXPECT_EQ(to_epoch_ms(t), 1700000000123);
  EXPECT_EQ(to_epoch_us(t), 1700000000123000);
  EXPECT_EQ(to_epoch_ms(from_epoch_us(1700000000123999)), 1700000000123);
}

TEST(TimeTest, Iso8601) {
  EXPECT_EQ(format_iso8601(from_epoch_ms(1700000000123)), "2023-11-14T22:13:20.123Z");
}

TEST(TimeTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(from_epoch_ms(1000));
  EXPECT_EQ(to_epoch_ms(clock.now()), 1000);
  clock.advance(std::chrono::seconds(2));
  EXPECT_EQ(to_epoch_ms(clock.now()), 3000);
}

}  // namespace
}  // namespace helix
