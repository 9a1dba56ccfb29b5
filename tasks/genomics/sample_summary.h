// sample_summary: the per-sample numbers of the genomics pipeline and their
// JSON form. Pure: the BAM index and VCF readers fill it in.
//
// JSON, keys in this order:
//   {"sample": "S1", "reads_mapped": 3600, "reads_unmapped": 12,
//    "reference_length": 60000, "mean_read_length": 99.5, "mean_depth": 5.97,
//    "variants": 140,
//    "by_type": {"SNV": 120, "MNV": 0, "insertion": 9, "deletion": 10, "other": 1},
//    "by_consequence": {"bcftools_csq": {"missense": 30, ...}, "snpeff": {...}}}
// by_type counts ALT alleles; by_consequence counts records per distinct term
// (consequence_terms.h) and is {} for an annotation the VCF lacks.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace helix::genomics {

struct VariantCounts {
  uint64_t records = 0;
  uint64_t snv = 0;
  uint64_t mnv = 0;
  uint64_t insertion = 0;
  uint64_t deletion = 0;
  uint64_t other = 0;  // symbolic, breakend, '*', mixed and any other ALT
  std::map<std::string, uint64_t> bcftools_csq;
  std::map<std::string, uint64_t> snpeff;
};

struct SampleSummary {
  std::string sample;
  uint64_t reads_mapped = 0;
  uint64_t reads_unmapped = 0;
  int64_t reference_length = 0;
  double mean_read_length = 0;  // reference bases covered by the CIGAR
  VariantCounts variants;

  // reads_mapped * mean_read_length / reference_length: 3,600 reads of 100
  // aligned bases over 60,000 bases is a mean depth of 6. 0 when the
  // reference length is 0.
  double mean_depth() const;
};

nlohmann::ordered_json to_json(const SampleSummary& summary);

}  // namespace helix::genomics
