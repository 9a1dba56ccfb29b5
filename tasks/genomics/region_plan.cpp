#include "tasks/genomics/region_plan.h"

#include <algorithm>

namespace helix::genomics {

namespace {

// Candidates are asked for in a window that grows from here by 4x up to the
// full step / 2: nearest-first means the answer is usually a few hundred
// bases away, and a lookup scans the BAM over the window.
constexpr int64_t kFirstSearchRadius = 2048;

uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

}  // namespace

std::vector<int64_t> ideal_cuts(int64_t length_bases, uint64_t weight, uint64_t chunk_weight) {
  std::vector<int64_t> cuts;
  if (length_bases <= 1 || weight == 0 || chunk_weight == 0 || weight <= chunk_weight) return cuts;
  // 128-bit: a 250 Mb contig times a chunk of 10^10 reads overflows 64 bits.
  const unsigned __int128 product =
      static_cast<unsigned __int128>(static_cast<uint64_t>(length_bases)) * chunk_weight;
  const auto step = static_cast<int64_t>(product / weight + (product % weight != 0));
  for (int64_t cut = step; cut < length_bases; cut += step) cuts.push_back(cut);
  return cuts;
}

int64_t nearest_clear_cut(int64_t ideal, int64_t lowest, int64_t highest,
                          const std::vector<int64_t>& candidates, int64_t window_bases) {
  if (lowest > highest || ideal < lowest || ideal > highest) return -1;
  // Walking down: the smallest candidate c in a blocked cut's window blocks
  // every cut from c - W to here, so the next cut worth testing is c - W - 1.
  int64_t below = ideal;
  while (below >= lowest) {
    auto c = std::lower_bound(candidates.begin(), candidates.end(), below - window_bases + 1);
    if (c == candidates.end() || *c > below + window_bases) break;
    below = *c - window_bases - 1;
  }
  // Walking up: the largest candidate c in the window blocks up to c + W - 1.
  int64_t above = ideal;
  while (above <= highest) {
    auto c = std::upper_bound(candidates.begin(), candidates.end(), above + window_bases);
    if (c == candidates.begin() || *std::prev(c) < above - window_bases + 1) break;
    above = *std::prev(c) + window_bases;
  }
  const bool below_ok = below >= lowest;
  const bool above_ok = above <= highest;
  if (below_ok && (!above_ok || ideal - below <= above - ideal)) return below;
  if (above_ok) return above;
  return -1;
}

Result<RegionPlan> plan_regions(const std::vector<ContigWeight>& contigs, int64_t regions_wanted,
                                int64_t window_bases, const CandidateLookup& lookup) {
  RegionPlan plan;
  uint64_t total_weight = 0;
  for (const auto& contig : contigs) total_weight += contig.weight;
  const uint64_t chunk_weight =
      regions_wanted < 1 ? 0 : ceil_div(total_weight, static_cast<uint64_t>(regions_wanted));

  for (size_t index = 0; index < contigs.size(); ++index) {
    const ContigWeight& contig = contigs[index];
    if (contig.length_bases <= 0) continue;
    const std::vector<int64_t> ideal = ideal_cuts(contig.length_bases, contig.weight, chunk_weight);
    const int64_t step = ideal.empty() ? contig.length_bases : ideal.front();
    int64_t previous_cut = 0;  // the last base of the previous region of this contig
    for (size_t i = 0; i < ideal.size(); ++i) {
      int64_t cut = ideal[i];
      if (lookup) {
        const int64_t next_ideal = i + 1 < ideal.size() ? ideal[i + 1] : contig.length_bases;
        const int64_t lowest = std::max(previous_cut + 1, cut - step / 2);
        const int64_t highest = std::min(next_ideal - 1, cut + step / 2);
        const int64_t widest = std::max(cut - lowest, highest - cut);
        int64_t found = -1;
        for (int64_t radius = std::min(kFirstSearchRadius, widest);; radius *= 4) {
          radius = std::min(radius, widest);
          const int64_t low = std::max(lowest, cut - radius);
          const int64_t high = std::min(highest, cut + radius);
          auto candidates = lookup(index, std::max<int64_t>(1, low - window_bases + 1),
                                   std::min(contig.length_bases, high + window_bases));
          if (!candidates) return fail(candidates.error());
          found = nearest_clear_cut(cut, low, high, *candidates, window_bases);
          if (found >= 0 || radius >= widest) break;
        }
        if (found < 0) {
          plan.notes.push_back(contig.name + ": no cut between " + std::to_string(lowest) +
                               " and " + std::to_string(highest) + " has " +
                               std::to_string(window_bases) +
                               " bp clear of candidate variants on both sides; kept the cut "
                               "after " +
                               std::to_string(cut));
        } else if (found != cut) {
          ++plan.cuts_moved;
          cut = found;
        }
      }
      plan.regions.push_back({contig.name, previous_cut + 1, cut});
      previous_cut = cut;
    }
    plan.regions.push_back({contig.name, previous_cut + 1, contig.length_bases});
  }
  return plan;
}

}  // namespace helix::genomics
