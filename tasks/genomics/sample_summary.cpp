#include "tasks/genomics/sample_summary.h"

namespace helix::genomics {

double SampleSummary::mean_depth() const {
  if (reference_length <= 0) return 0;
  return static_cast<double>(reads_mapped) * mean_read_length /
         static_cast<double>(reference_length);
}

nlohmann::ordered_json to_json(const SampleSummary& summary) {
  const VariantCounts& counts = summary.variants;
  nlohmann::ordered_json by_type;
  by_type["SNV"] = counts.snv;
  by_type["MNV"] = counts.mnv;
  by_type["insertion"] = counts.insertion;
  by_type["deletion"] = counts.deletion;
  by_type["other"] = counts.other;
  nlohmann::ordered_json by_consequence;
  // Written through json::object() so that no terms give {} rather than null.
  by_consequence["bcftools_csq"] = nlohmann::ordered_json::object();
  for (const auto& [term, count] : counts.bcftools_csq)
    by_consequence["bcftools_csq"][term] = count;
  by_consequence["snpeff"] = nlohmann::ordered_json::object();
  for (const auto& [term, count] : counts.snpeff) by_consequence["snpeff"][term] = count;

  nlohmann::ordered_json json;
  json["sample"] = summary.sample;
  json["reads_mapped"] = summary.reads_mapped;
  json["reads_unmapped"] = summary.reads_unmapped;
  json["reference_length"] = summary.reference_length;
  json["mean_read_length"] = summary.mean_read_length;
  json["mean_depth"] = summary.mean_depth();
  json["variants"] = counts.records;
  json["by_type"] = std::move(by_type);
  json["by_consequence"] = std::move(by_consequence);
  return json;
}

}  // namespace helix::genomics
