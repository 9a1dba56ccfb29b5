#include "tasks/genomics/sample_summary_reader.h"

#include "tasks/genomics/aligned_length.h"
#include "tasks/genomics/bam_file.h"
#include "tasks/genomics/vcf_counts.h"

namespace helix::genomics {

Result<SampleSummary> read_sample_summary(const std::string& sample, const std::string& bam_path,
                                          const std::string& vcf_path) {
  auto bam = BamFile::open(bam_path);
  if (!bam) return fail(bam.error());
  SampleSummary summary;
  summary.sample = sample;
  for (int tid = 0; tid < bam->contig_count(); ++tid) {
    const auto counts = bam->index_read_counts(tid);
    if (!counts) {
      return fail(Error::corruption("BAM " + bam_path +
                                    ": its index keeps no read counts (a CRAM index?)"));
    }
    summary.reads_mapped += counts->mapped;
    summary.reads_unmapped += counts->unmapped;
    summary.reference_length += bam->contig_length(tid);
  }
  summary.reads_unmapped += bam->unplaced_unmapped_reads();
  auto mean_length = mean_aligned_length(*bam, kReadsForMeanLength);
  if (!mean_length) return fail(mean_length.error());
  summary.mean_read_length = *mean_length;
  auto variants = count_variants(vcf_path);
  if (!variants) return fail(variants.error());
  summary.variants = std::move(*variants);
  return summary;
}

}  // namespace helix::genomics
