// vcf_counts: variant records of a VCF / BCF counted by ALT allele type and
// by annotated consequence (sample_summary.h's VariantCounts), with htslib.
// Reads the file once, start to end; keeps no records.
//
// Types per ALT allele (bcf_get_variant_type): SNV, MNV, insertion
// (indel, ALT longer than REF), deletion (ALT shorter), other (symbolic,
// breakend, '*', and anything else). Consequences per record: INFO/BCSQ
// (bcftools csq) and INFO/ANN (snpEff), consequence_terms.h.
#pragma once

#include <string>

#include "common/error.h"
#include "tasks/genomics/sample_summary.h"

namespace helix::genomics {

// NotFound for a missing file; Corruption, naming the file and the record
// number, when the header or a record cannot be read.
[[nodiscard]] Result<VariantCounts> count_variants(const std::string& vcf_path);

}  // namespace helix::genomics
