#include "tasks/genomics/split_regions.h"

#include <algorithm>

#include "tasks/genomics/bam_file.h"
#include "tasks/genomics/reference_index.h"
#include "tasks/genomics/variant_candidates.h"

namespace helix::genomics {

namespace {

// Each BAM's contig id for every reference contig, in reference order.
Result<std::vector<int>> match_contigs(const BamFile& bam, const ReferenceIndex& reference) {
  std::vector<int> ids;
  for (const ContigLength& contig : reference.contigs()) {
    const int tid = bam.contig_id(contig.name);
    if (tid < 0) {
      return fail(Error::invalid("--bam", bam.path() + ": has no contig " + contig.name +
                                              " of reference " + reference.path()));
    }
    if (bam.contig_length(tid) != contig.length_bases) {
      return fail(Error::invalid("--bam", bam.path() + ": contig " + contig.name + " is " +
                                              std::to_string(bam.contig_length(tid)) +
                                              " bp, the reference's is " +
                                              std::to_string(contig.length_bases) + " bp"));
    }
    ids.push_back(tid);
  }
  return ids;
}

}  // namespace

Result<SplitOutcome> split_regions(const SplitRequest& request) {
  Problems problems;
  if (request.regions_wanted < 1)
    problems.add("--n", std::to_string(request.regions_wanted) + " regions; must be 1 or more");
  if (request.window_bases < 0)
    problems.add("--window", std::to_string(request.window_bases) + " bp; must be 0 or more");
  if (!problems.empty()) return fail(problems.to_error());

  auto reference = ReferenceIndex::open(request.reference_path);
  if (!reference) return fail(reference.error());
  std::vector<BamFile> bams;
  std::vector<std::vector<int>> contig_ids;  // [bam][reference contig]
  for (const std::string& path : request.bam_paths) {
    auto bam = BamFile::open(path);
    if (!bam) return fail(bam.error());
    auto ids = match_contigs(*bam, *reference);
    if (!ids) return fail(ids.error());
    bams.push_back(std::move(*bam));
    contig_ids.push_back(std::move(*ids));
  }

  SplitOutcome outcome;
  std::vector<ContigWeight> contigs;
  for (const ContigLength& contig : reference->contigs())
    contigs.push_back(
        {contig.name, contig.length_bases, static_cast<uint64_t>(contig.length_bases)});
  if (!bams.empty()) {
    std::vector<uint64_t> reads(contigs.size(), 0);
    bool has_counts = true;
    for (size_t b = 0; b < bams.size() && has_counts; ++b) {
      for (size_t c = 0; c < contigs.size(); ++c) {
        const auto counts = bams[b].index_read_counts(contig_ids[b][c]);
        if (!counts) {
          outcome.notes.push_back(bams[b].path() +
                                  ": its index keeps no read counts; balancing by length");
          has_counts = false;
          break;
        }
        reads[c] += counts->mapped;
      }
    }
    const bool has_reads = std::any_of(reads.begin(), reads.end(), [](auto n) { return n > 0; });
    if (has_counts && !has_reads) outcome.notes.push_back("no mapped reads; balancing by length");
    if (has_counts && has_reads) {
      outcome.is_weighted_by_reads = true;
      for (size_t c = 0; c < contigs.size(); ++c) contigs[c].weight = reads[c];
    }
  }

  CandidateLookup lookup;
  if (!bams.empty()) {
    lookup = [&](size_t contig, int64_t first, int64_t last) -> Result<std::vector<int64_t>> {
      auto bases = reference->bases(contigs[contig].name, first, last);
      if (!bases) return fail(bases.error());
      std::vector<int64_t> all;
      for (size_t b = 0; b < bams.size(); ++b) {
        auto found = variant_candidates(bams[b], contig_ids[b][contig], first, last, *bases);
        if (!found) return fail(found.error());
        all.insert(all.end(), found->begin(), found->end());
      }
      std::sort(all.begin(), all.end());
      return all;
    };
  }
  auto plan = plan_regions(contigs, request.regions_wanted, request.window_bases, lookup);
  if (!plan) return fail(plan.error());
  outcome.plan = std::move(*plan);
  outcome.notes.insert(outcome.notes.end(), outcome.plan.notes.begin(), outcome.plan.notes.end());
  return outcome;
}

}  // namespace helix::genomics
