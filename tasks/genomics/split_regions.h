// split_regions: the split-regions task end to end except for the output
// file: reads REF.fa.fai and, when given, the BAMs' indexes and reads, and
// returns region_plan.h's plan. Owns the choice of weights:
//   - no BAM: contig lengths (the awk job's rule, byte-identical output);
//   - BAMs whose indexes all keep read counts (BAI, CSI) and hold mapped
//     reads: each contig's mapped reads summed over the BAMs;
//   - otherwise (a CRAM's .crai, no mapped reads): lengths, and a note.
// Every BAM must name the reference's contigs with the same lengths: a BAM
// aligned to another reference would give meaningless cuts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/genomics/region_plan.h"

namespace helix::genomics {

struct SplitRequest {
  std::string reference_path;
  int64_t regions_wanted = 1;
  std::vector<std::string> bam_paths;
  int64_t window_bases = 100;
};

struct SplitOutcome {
  RegionPlan plan;
  bool is_weighted_by_reads = false;
  std::vector<std::string> notes;  // weight fallbacks, then the plan's notes
};

// InvalidInput naming --n or --window for a value out of range; the errors
// of ReferenceIndex::open, BamFile::open and variant_candidates; InvalidInput
// naming the BAM and contig when a BAM does not match the reference.
[[nodiscard]] Result<SplitOutcome> split_regions(const SplitRequest& request);

}  // namespace helix::genomics
