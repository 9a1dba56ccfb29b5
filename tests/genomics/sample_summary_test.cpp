#include "tasks/genomics/sample_summary.h"

#include <gtest/gtest.h>

namespace helix::genomics {
namespace {

TEST(SampleSummary, MeanDepthIsReadsTimesLengthOverReference) {
  SampleSummary summary;
  summary.reads_mapped = 3'600;
  summary.mean_read_length = 100;
  summary.reference_length = 60'000;
  // 3,600 x 100 / 60,000 = 6.
  EXPECT_DOUBLE_EQ(summary.mean_depth(), 6.0);
  summary.reference_length = 0;
  EXPECT_DOUBLE_EQ(summary.mean_depth(), 0.0);
}

TEST(SampleSummary, JsonShapeAndKeyOrder) {
  SampleSummary summary;
  summary.sample = "S1";
  summary.reads_mapped = 10;
  summary.reads_unmapped = 2;
  summary.reference_length = 1'000;
  summary.mean_read_length = 50;
  summary.variants.records = 3;
  summary.variants.snv = 2;
  summary.variants.deletion = 1;
  summary.variants.bcftools_csq = {{"missense", 2}};
  EXPECT_EQ(to_json(summary).dump(),
            "{\"sample\":\"S1\",\"reads_mapped\":10,\"reads_unmapped\":2,"
            "\"reference_length\":1000,\"mean_read_length\":50.0,\"mean_depth\":0.5,"
            "\"variants\":3,\"by_type\":{\"SNV\":2,\"MNV\":0,\"insertion\":0,\"deletion\":1,"
            "\"other\":0},\"by_consequence\":{\"bcftools_csq\":{\"missense\":2},\"snpeff\":{}}}");
}

}  // namespace
}  // namespace helix::genomics
