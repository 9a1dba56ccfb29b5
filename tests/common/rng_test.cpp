#include "common/rng.h"

#include <set>

#include <gtest/gtest.h>

namespace helix {
namespace {

TEST(RngTest, SameSeedSameSequence) {
  SeededRng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    uint64_t va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    EXPECT_NE(va, c.next_u64());
  }
}

TEST(RngTest, UuidIsVersion4WithVariantBits) {
  SeededRng rng(7);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = make_uuid(rng);
    ASSERT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RngTest, IsUuidRejectsNearMisses) {
  EXPECT_TRUE(is_uuid("4b2f6c1e-1a6b-4bd1-9d1c-2c9a6d3b7e01"));
  EXPECT_FALSE(is_uuid("4b2f6c1e-1a6b-4bd1-9d1c-2c9a6d3b7e0"));
  EXPECT_FALSE(is_uuid("4b2f6c1e-1a6b-4bd1-9d1c-2c9a6d3b7e01:3"));
  EXPECT_FALSE(is_uuid("4b2f6c1e+1a6b-4bd1-9d1c-2c9a6d3b7e01"));
  EXPECT_FALSE(is_uuid("zb2f6c1e-1a6b-4bd1-9d1c-2c9a6d3b7e01"));
}

}  // namespace
}  // namespace helix
