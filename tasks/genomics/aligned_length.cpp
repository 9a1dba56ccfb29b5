#include "tasks/genomics/aligned_length.h"

#include <memory>

namespace helix::genomics {

Result<double> mean_aligned_length(BamFile& bam, int64_t reads_wanted) {
  std::unique_ptr<bam1_t, decltype(&bam_destroy1)> record(bam_init1(), &bam_destroy1);
  int64_t reads = 0;
  int64_t bases = 0;
  while (reads < reads_wanted) {
    const int status = sam_read1(bam.file(), bam.header(), record.get());
    if (status == -1) break;
    if (status < -1)
      return fail(Error::corruption("BAM " + bam.path() + ": a record after the first " +
                                    std::to_string(reads) +
                                    " mapped ones cannot be read (corrupt or truncated)"));
    // Every mapped record counts, secondary and supplementary included, as
    // in the index's mapped count this mean is multiplied by.
    if (record->core.flag & BAM_FUNMAP) continue;
    bases += bam_cigar2rlen(static_cast<int>(record->core.n_cigar), bam_get_cigar(record.get()));
    ++reads;
  }
  return reads == 0 ? 0.0 : static_cast<double>(bases) / static_cast<double>(reads);
}

}  // namespace helix::genomics
