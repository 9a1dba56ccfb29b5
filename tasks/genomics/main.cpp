// helix-genomics: the native tasks of the genomics pipeline (issue #6), only
// where samtools and bcftools lack something:
//   split-regions  the reference cut into about N regions for the calling
//                  Map, away from candidate variants (split_regions.h)
//   summary        a sample's read, depth and variant numbers (sample_summary.h)
// Exit status: 0 done; 2 bad input or an unreadable/corrupt file, with the
// file or option named on stderr and no output written; 1 when the output
// cannot be written.
#include <CLI/CLI.hpp>

#include <iostream>

#include "tasks/common/whole_file.h"
#include "tasks/genomics/regions_json.h"
#include "tasks/genomics/sample_summary_reader.h"
#include "tasks/genomics/split_regions.h"

namespace {

using namespace helix::genomics;

constexpr int kBadInput = 2;
constexpr int kCannotWrite = 1;

int refuse(const helix::Error& error) {
  std::cerr << "helix-genomics: " << error.to_string() << "\n";
  return kBadInput;
}

int write_output(const std::string& path, const std::string& contents) {
  auto written = helix::tasks::write_file_atomically(path, contents);
  if (!written) {
    std::cerr << "helix-genomics: " << written.error().to_string() << "\n";
    return kCannotWrite;
  }
  return 0;
}

int run_split(const SplitRequest& request, const std::string& out_path) {
  auto outcome = split_regions(request);
  if (!outcome) return refuse(outcome.error());
  for (const std::string& note : outcome->notes) std::cerr << "split-regions: " << note << "\n";
  std::cerr << "split-regions: " << outcome->plan.regions.size() << " regions by "
            << (outcome->is_weighted_by_reads ? "mapped reads" : "length") << ", "
            << outcome->plan.cuts_moved << " cuts moved away from candidate variants, "
            << outcome->plan.notes.size() << " kept in place\n";
  return write_output(out_path, regions_json(outcome->plan.regions));
}

int run_summary(const std::string& sample, const std::string& bam_path, const std::string& vcf_path,
                const std::string& out_path) {
  if (sample.empty()) return refuse(helix::Error::invalid("--sample", "must not be empty"));
  auto summary = read_sample_summary(sample, bam_path, vcf_path);
  if (!summary) return refuse(summary.error());
  return write_output(out_path, to_json(*summary).dump(2) + "\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"helix-genomics: native tasks of the genomics pipeline"};
  app.require_subcommand(1);

  SplitRequest split;
  std::string split_out;
  CLI::App* split_command = app.add_subcommand(
      "split-regions", "about N regions for per-region calling, as the Map's JSON array");
  split_command->add_option("--ref", split.reference_path, "reference FASTA (with REF.fai)")
      ->required();
  split_command->add_option("--n", split.regions_wanted, "regions wanted (>= 1)")->required();
  split_command->add_option("--bam", split.bam_paths,
                            "indexed BAMs: balance by mapped reads, cut away from variants");
  split_command->add_option("--window", split.window_bases,
                            "bases kept clear of candidate variants either side of a cut");
  split_command->add_option("--out", split_out, "JSON array of {region, index}")->required();

  std::string sample, bam_path, vcf_path, summary_out;
  CLI::App* summary_command =
      app.add_subcommand("summary", "a sample's reads, depth and variant counts as JSON");
  summary_command->add_option("--sample", sample, "sample id")->required();
  summary_command->add_option("--bam", bam_path, "indexed BAM")->required();
  summary_command->add_option("--vcf", vcf_path, "VCF or BCF (bcftools csq / snpEff annotated)")
      ->required();
  summary_command->add_option("--out", summary_out, "summary JSON")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);
    return status == 0 ? 0 : kBadInput;
  }
  if (*split_command) return run_split(split, split_out);
  return run_summary(sample, bam_path, vcf_path, summary_out);
}
