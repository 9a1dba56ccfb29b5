// variant_candidates: reference positions where some read disagrees with the
// reference, the places a caller might report a variant and so the places a
// region boundary must keep away from (region_plan.h, rule 3).
//
// A read counts when it is mapped with MAPQ > 0 and is not secondary,
// supplementary or a duplicate. A candidate is a position where such a
// read's base of quality >= kMinBaseQuality differs from the reference (N on
// either side never differs), a deleted reference base (CIGAR D), or the
// base before an insertion (CIGAR I, the VCF anchor). Reads come through the
// BAM index, so only the asked-for range is decoded.
//
// Why the quality floor: bcftools mpileup ignores bases below 13 (its -Q
// default), so they can never make a call; counted, they drown the real
// sites. Measured on make_data.py's tiny set (30x, S1): 9,170 of 59,966
// positions have a mismatching base of any quality (no 200 bp stretch is
// clear), 174 have one of quality >= 13, of which 171 have two or more.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/genomics/bam_file.h"

namespace helix::genomics {

// bcftools mpileup's default minimum base quality (-Q 13).
constexpr int kMinBaseQuality = 13;

// Candidates within [first, last] (1-based) of contig tid, sorted, no
// duplicates. reference_bases are that range's bases in upper case
// (ReferenceIndex::bases). Corruption, naming the file, when reads cannot be
// read.
[[nodiscard]] Result<std::vector<int64_t>> variant_candidates(const BamFile& bam, int tid,
                                                              int64_t first, int64_t last,
                                                              const std::string& reference_bases);

}  // namespace helix::genomics
