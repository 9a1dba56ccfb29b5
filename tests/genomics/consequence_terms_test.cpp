#include "tasks/genomics/consequence_terms.h"

#include <gtest/gtest.h>

namespace helix::genomics {
namespace {

using Terms = std::set<std::string>;

TEST(BcsqTerms, FirstFieldOfEachEntryOnce) {
  // Two transcripts, both missense: one term.
  EXPECT_EQ(bcsq_terms("missense|g1|t1|protein_coding|+|1A>1G|100A>G,"
                       "missense|g1|t2|protein_coding|+|1A>1G|100A>G"),
            (Terms{"missense"}));
}

TEST(BcsqTerms, AmpersandJoinedTermsCountApart) {
  EXPECT_EQ(bcsq_terms("frameshift&start_lost|g1|t1|protein_coding|+|1M>1X|300A>ATT,"
                       "synonymous|g2|t3|protein_coding|-|5L|300A>ATT"),
            (Terms{"frameshift", "start_lost", "synonymous"}));
}

TEST(BcsqTerms, PointersAndMissingValuesAreSkipped) {
  EXPECT_EQ(bcsq_terms("@1563"), Terms{});
  EXPECT_EQ(bcsq_terms("@1563,missense|g|t|protein_coding|+|x|y"), (Terms{"missense"}));
  EXPECT_EQ(bcsq_terms("."), Terms{});
  EXPECT_EQ(bcsq_terms(""), Terms{});
}

TEST(AnnTerms, SecondFieldSplitOnAmpersand) {
  EXPECT_EQ(ann_terms("GT|missense_variant&splice_region_variant|MODERATE|g1|G1|transcript|t1,"
                      "GT|missense_variant|MODERATE|g1|G1|transcript|t2,"
                      "GT|upstream_gene_variant|MODIFIER|g2|G2|transcript|t3"),
            (Terms{"missense_variant", "splice_region_variant", "upstream_gene_variant"}));
}

TEST(AnnTerms, EntriesWithoutAnAnnotationFieldAreSkipped) {
  EXPECT_EQ(ann_terms("G"), Terms{});
  EXPECT_EQ(ann_terms("G||MODIFIER"), Terms{});
}

}  // namespace
}  // namespace helix::genomics
