// sample_summary_reader: fills a SampleSummary from a sample's BAM (its
// index's read counts, the header's contig lengths, the first mapped reads'
// aligned length) and its VCF (vcf_counts.h). Reads no coverage: the depth is
// an estimate (sample_summary.h), cheap on any BAM size.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"
#include "tasks/genomics/sample_summary.h"

namespace helix::genomics {

// The reads whose aligned length gives mean_read_length.
constexpr int64_t kReadsForMeanLength = 10'000;

// The errors of BamFile::open, mean_aligned_length and count_variants;
// Corruption naming the BAM when its index keeps no read counts (CRAM).
[[nodiscard]] Result<SampleSummary> read_sample_summary(const std::string& sample,
                                                        const std::string& bam_path,
                                                        const std::string& vcf_path);

}  // namespace helix::genomics
