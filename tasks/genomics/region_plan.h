// region_plan: where to cut a reference into about N regions for a
// per-region variant-calling Map (issue #6). Pure: it reads no file; the
// contig lengths, weights and candidate variant positions arrive as values,
// and candidates are asked for through a CandidateLookup so that the caller
// scans a BAM only around the cuts.
//
// The rule, in full:
//   1. Each contig has a length (bases) and a weight: its length, or, when
//      BAM read counts are used, its mapped reads. chunk = ceil(total weight
//      / N).
//   2. A contig is cut every `step` bases from its start, the last region
//      taking the rest, where step = ceil(length * chunk / weight): the bases
//      that hold one chunk's weight at the contig's mean density. A contig
//      of weight <= chunk (or weight 0) is one region; a contig of length 0
//      gives none. No region crosses a contig.
//      By length this is the awk job's rule exactly (step = chunk), e.g.
//      contigs 25,000 + 10,000 bp, N = 2: chunk = 17,500, regions
//      chr1:1-17500, chr1:17501-25000, chr2:1-10000.
//      By reads, e.g. three 20,000 bp contigs with 10k/20k/30k reads, N = 6:
//      chunk = 10,000 reads; steps 20,000 / 10,000 / 6,667, so 1 + 2 + 3
//      regions, chr3 cut after 6,667 and 13,334.
//   3. With a lookup (a BAM given), a cut after position p (regions end at p
//      and start at p + 1) is "clear" when no candidate lies in
//      [p - W + 1, p + W]: W bases either side of the cut. An unclear cut
//      moves to the nearest clear one (the lower on a tie), at most step / 2
//      away, after the previous final cut and before the next ideal cut, so
//      regions stay non-empty and in order. If none is clear it stays and a
//      note says so.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace helix::genomics {

struct ContigWeight {
  std::string name;
  int64_t length_bases = 0;
  // Length, or mapped reads; only the ratios between contigs matter.
  uint64_t weight = 0;
};

// A region in 1-based inclusive reference coordinates.
struct Region {
  std::string contig;
  int64_t first = 0;
  int64_t last = 0;
  bool operator==(const Region&) const = default;
};

// Candidate variant positions (1-based) of contig `contig_index` within
// [first, last], sorted ascending, duplicates allowed. An error (an unreadable
// BAM) stops the plan.
using CandidateLookup =
    std::function<Result<std::vector<int64_t>>(size_t contig_index, int64_t first, int64_t last)>;

struct RegionPlan {
  std::vector<Region> regions;
  int cuts_moved = 0;
  // One sentence per cut kept at its ideal place because nothing nearby was clear.
  std::vector<std::string> notes;
};

// Ideal cut positions (a region ends at each) of one contig under rules 1-2:
// ascending, each in [1, length - 1].
std::vector<int64_t> ideal_cuts(int64_t length_bases, uint64_t weight, uint64_t chunk_weight);

// The clear cut nearest `ideal` within [lowest, highest] (rule 3), or -1 when
// there is none. `candidates` sorted ascending and covering at least
// [lowest - window + 1, highest + window]. window 0 makes every cut clear.
int64_t nearest_clear_cut(int64_t ideal, int64_t lowest, int64_t highest,
                          const std::vector<int64_t>& candidates, int64_t window_bases);

// The whole plan. Preconditions: regions_wanted >= 1, window_bases >= 0
// (the CLI refuses others). Without a lookup cuts stay at their ideal places.
// Fails only when the lookup fails.
[[nodiscard]] Result<RegionPlan> plan_regions(const std::vector<ContigWeight>& contigs,
                                              int64_t regions_wanted, int64_t window_bases,
                                              const CandidateLookup& lookup);

}  // namespace helix::genomics
