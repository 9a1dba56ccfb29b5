// aligned_length: the mean number of reference bases the first mapped reads
// of a BAM cover (bam_cigar2rlen: M, D, N, = and X operations), read from the
// start of the file. With the index's mapped count it gives a mean depth
// without a pileup.
#pragma once

#include <cstdint>

#include "common/error.h"
#include "tasks/genomics/bam_file.h"

namespace helix::genomics {

// Reads records from the current position (call right after BamFile::open)
// until `reads_wanted` mapped ones are seen or the file ends. 0 when there
// are none. Corruption, naming the file, when a record cannot be read.
[[nodiscard]] Result<double> mean_aligned_length(BamFile& bam, int64_t reads_wanted);

}  // namespace helix::genomics
