// The cut rule of tasks/genomics/region_plan.h, on contigs described by
// numbers alone: lengths, weights and candidate positions handed in.
#include "tasks/genomics/region_plan.h"

#include <gtest/gtest.h>

#include <map>

namespace helix::genomics {

// Failures print regions as chr:first-last.
void PrintTo(const Region& region, std::ostream* out) {
  *out << region.contig << ":" << region.first << "-" << region.last;
}

namespace {

// A lookup over fixed candidate lists, recording the ranges asked for.
struct FixedCandidates {
  std::map<size_t, std::vector<int64_t>> by_contig;
  std::vector<std::pair<int64_t, int64_t>> asked;

  CandidateLookup lookup() {
    return [this](size_t contig, int64_t first, int64_t last) -> Result<std::vector<int64_t>> {
      asked.emplace_back(first, last);
      std::vector<int64_t> found;
      for (int64_t position : by_contig[contig])
        if (position >= first && position <= last) found.push_back(position);
      return found;
    };
  }
};

std::vector<Region> plan_or_die(const std::vector<ContigWeight>& contigs, int64_t n, int64_t window,
                                const CandidateLookup& lookup = {}) {
  auto plan = plan_regions(contigs, n, window, lookup);
  EXPECT_TRUE(plan.has_value());
  return plan ? plan->regions : std::vector<Region>{};
}

TEST(IdealCuts, ByLengthTheStepIsTheChunk) {
  // 25,000 bp of a 35,000 bp reference, N = 2: chunk 17,500.
  EXPECT_EQ(ideal_cuts(25'000, 25'000, 17'500), (std::vector<int64_t>{17'500}));
  // At most one chunk: one region, no cut.
  EXPECT_TRUE(ideal_cuts(10'000, 10'000, 17'500).empty());
  EXPECT_TRUE(ideal_cuts(17'500, 17'500, 17'500).empty());
}

TEST(IdealCuts, ByReadsTheStepFollowsTheContigsDensity) {
  // 30,000 reads on 20,000 bp, chunk 10,000 reads: step ceil(20000/3) = 6,667.
  EXPECT_EQ(ideal_cuts(20'000, 30'000, 10'000), (std::vector<int64_t>{6'667, 13'334}));
  // No reads: one region whatever its length.
  EXPECT_TRUE(ideal_cuts(20'000, 0, 10'000).empty());
}

TEST(IdealCuts, HugeProductsDoNotOverflow) {
  // 2.5e8 bases x 1e10 reads overflows 64 bits; the step must still be 1.25e8.
  const int64_t length = 250'000'000;
  EXPECT_EQ(ideal_cuts(length, 20'000'000'000ULL, 10'000'000'000ULL),
            (std::vector<int64_t>{125'000'000}));
}

TEST(PlanRegions, ByLengthMatchesTheAwkJob) {
  // Want (awk rule): chunk = ceil(35000 / 2) = 17,500.
  const std::vector<Region> want = {
      {"chr1", 1, 17'500}, {"chr1", 17'501, 25'000}, {"chr2", 1, 10'000}};
  EXPECT_EQ(plan_or_die({{"chr1", 25'000, 25'000}, {"chr2", 10'000, 10'000}}, 2, 100), want);
}

TEST(PlanRegions, NeverCrossesAContigAndCoversEveryBase) {
  const std::vector<ContigWeight> contigs = {
      {"a", 1'000, 1'000}, {"b", 7, 7}, {"c", 5'003, 5'003}, {"d", 1, 1}};
  for (int64_t n : {1, 2, 3, 7, 50, 10'000}) {
    const auto regions = plan_or_die(contigs, n, 100);
    std::map<std::string, int64_t> covered_to;  // last base covered so far, per contig
    for (const Region& region : regions) {
      EXPECT_EQ(region.first, covered_to[region.contig] + 1) << "n=" << n << " " << region.contig;
      EXPECT_LE(region.first, region.last);
      covered_to[region.contig] = region.last;
    }
    for (const auto& contig : contigs) EXPECT_EQ(covered_to[contig.name], contig.length_bases);
  }
}

TEST(PlanRegions, ByReadsBalancesReadsNotBases) {
  // Three 20,000 bp contigs with 10k / 20k / 30k reads, N = 6: chunk 10,000
  // reads, so 1 + 2 + 3 regions; by length it would be 2 + 2 + 2.
  const std::vector<ContigWeight> contigs = {
      {"chr1", 20'000, 10'000}, {"chr2", 20'000, 20'000}, {"chr3", 20'000, 30'000}};
  const std::vector<Region> want = {{"chr1", 1, 20'000},      {"chr2", 1, 10'000},
                                    {"chr2", 10'001, 20'000}, {"chr3", 1, 6'667},
                                    {"chr3", 6'668, 13'334},  {"chr3", 13'335, 20'000}};
  EXPECT_EQ(plan_or_die(contigs, 6, 100), want);
}

TEST(PlanRegions, EmptyContigsGiveNoRegion) {
  EXPECT_EQ(plan_or_die({{"empty", 0, 0}, {"x", 10, 10}}, 3, 0),
            (std::vector<Region>{{"x", 1, 4}, {"x", 5, 8}, {"x", 9, 10}}));
}

TEST(NearestClearCut, TableOfCases) {
  struct Case {
    const char* name;
    int64_t ideal, lowest, highest;
    std::vector<int64_t> candidates;
    int64_t window;
    int64_t want;
  };
  const std::vector<Case> cases = {
      // The window of cut 500 (W = 10) is [491, 510]; a candidate c blocks
      // the cuts c - 10 .. c + 9.
      {"clear stays", 500, 1, 999, {480, 521}, 10, 500},
      // 491 blocks 481..500: 501 is 1 away.
      {"candidate just inside on the left", 500, 1, 999, {491}, 10, 501},
      // 510 blocks 500..519: 499 is 1 away.
      {"candidate just inside on the right", 500, 1, 999, {510}, 10, 499},
      // 495 blocks cuts 485..504: 484 is 16 away, 505 is 5 away.
      {"moves to the nearer side", 500, 1, 999, {495}, 10, 505},
      // 496 and 505 block 486..514: 485 and 515 are both 15 away; the lower wins.
      {"tie goes down", 500, 1, 999, {496, 505}, 10, 485},
      // A run 470, 485, 500, 515, 530 blocks 460..539: 540 (40 away) beats 459 (41).
      {"jumps a run of candidates", 500, 1, 999, {470, 485, 500, 515, 530}, 10, 540},
      {"bounds stop the move", 500, 495, 505, {500}, 10, -1},
      {"window 0 never blocks", 500, 1, 999, {500}, 0, 500},
      {"candidate at the cut's right base blocks with W = 1", 500, 1, 999, {501}, 1, 499},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(nearest_clear_cut(c.ideal, c.lowest, c.highest, c.candidates, c.window), c.want)
        << c.name;
  }
}

TEST(PlanRegions, MovesACutAwayFromACandidate) {
  // One 1,000 bp contig, N = 2: ideal cut after 500; a candidate at 495 with
  // W = 10 blocks cuts 485..504, and 505 is nearer than 484.
  FixedCandidates candidates;
  candidates.by_contig[0] = {495};
  auto plan = plan_regions({{"chr1", 1'000, 1'000}}, 2, 10, candidates.lookup());
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->regions, (std::vector<Region>{{"chr1", 1, 505}, {"chr1", 506, 1'000}}));
  EXPECT_EQ(plan->cuts_moved, 1);
  EXPECT_TRUE(plan->notes.empty());
  // The lookup was asked for the cut's neighbourhood, not the whole contig.
  ASSERT_FALSE(candidates.asked.empty());
  EXPECT_GE(candidates.asked.front().first, 1);
  EXPECT_LE(candidates.asked.front().second, 1'000);
}

TEST(PlanRegions, KeepsTheIdealCutWhenNothingIsClearAndSaysSo) {
  // Candidates every 10 bases with W = 10: no cut anywhere is clear.
  FixedCandidates candidates;
  for (int64_t p = 1; p <= 1'000; p += 10) candidates.by_contig[0].push_back(p);
  auto plan = plan_regions({{"chr1", 1'000, 1'000}}, 2, 10, candidates.lookup());
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->regions, (std::vector<Region>{{"chr1", 1, 500}, {"chr1", 501, 1'000}}));
  EXPECT_EQ(plan->cuts_moved, 0);
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_NE(plan->notes[0].find("chr1"), std::string::npos) << plan->notes[0];
  EXPECT_NE(plan->notes[0].find("kept the cut after 500"), std::string::npos) << plan->notes[0];
}

TEST(PlanRegions, AMoveStaysWithinHalfAStep) {
  // Step 500 (N = 2 of 1,000): cuts may move to 250..749 only. Candidates
  // block 240..759 (every 20 bases, W = 10), so the nearest clear cut (239)
  // is out of reach and the ideal cut is kept.
  FixedCandidates candidates;
  for (int64_t p = 250; p <= 750; p += 20) candidates.by_contig[0].push_back(p);
  auto plan = plan_regions({{"chr1", 1'000, 1'000}}, 2, 10, candidates.lookup());
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->regions.front(), (Region{"chr1", 1, 500}));
  EXPECT_EQ(plan->notes.size(), 1u);
}

TEST(PlanRegions, FarMovesWidenTheSearch) {
  // Step 50,000: the first search (2,048 either side) finds nothing, the
  // wider one finds the clear cut 4,000 bases below.
  FixedCandidates candidates;
  for (int64_t p = 46'010; p <= 53'990; p += 15) candidates.by_contig[0].push_back(p);
  auto plan = plan_regions({{"chr1", 100'000, 100'000}}, 2, 10, candidates.lookup());
  ASSERT_TRUE(plan.has_value());
  // The run blocks 46,000..53,999: 54,000 (4,000 away) beats 45,999 (4,001).
  EXPECT_EQ(plan->regions.front(), (Region{"chr1", 1, 54'000}));
  EXPECT_GE(candidates.asked.size(), 2u);
}

TEST(PlanRegions, ALookupErrorStopsThePlan) {
  CandidateLookup broken = [](size_t, int64_t, int64_t) -> Result<std::vector<int64_t>> {
    return fail(Error::corruption("BAM x.bam: truncated"));
  };
  auto plan = plan_regions({{"chr1", 1'000, 1'000}}, 2, 10, broken);
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().message(), "BAM x.bam: truncated");
}

}  // namespace
}  // namespace helix::genomics
