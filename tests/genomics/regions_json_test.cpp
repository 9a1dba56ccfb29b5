#include "tasks/genomics/regions_json.h"

#include <gtest/gtest.h>

namespace helix::genomics {
namespace {

TEST(RegionsJson, SameBytesAsTheAwkJob) {
  // What genomics-split-regions' awk printed for chr1 25,000 bp, chr2
  // 10,000 bp, n = 2.
  const std::string awk_output =
      "[{\"region\":\"chr1:1-17500\",\"index\":0},{\"region\":\"chr1:17501-25000\",\"index\":1},"
      "{\"region\":\"chr2:1-10000\",\"index\":2}]\n";
  EXPECT_EQ(regions_json({{"chr1", 1, 17'500}, {"chr1", 17'501, 25'000}, {"chr2", 1, 10'000}}),
            awk_output);
}

TEST(RegionsJson, NoRegionsIsAnEmptyArray) { EXPECT_EQ(regions_json({}), "[]\n"); }

TEST(RegionsJson, EscapesNamesJsonCannotHoldRaw) {
  EXPECT_EQ(regions_json({{"odd\"name", 1, 2}}),
            "[{\"region\":\"odd\\\"name:1-2\",\"index\":0}]\n");
}

}  // namespace
}  // namespace helix::genomics
