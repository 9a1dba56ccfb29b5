// bam_file: an indexed, coordinate-sorted BAM (or CRAM) opened with htslib:
// the header's contigs and the read counts its index keeps. Owns the file,
// header and index handles; reads no records (aligned_length.h and
// variant_candidates.h do). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <htslib/sam.h>

#include "common/error.h"

namespace helix::genomics {

struct IndexReadCounts {
  uint64_t mapped = 0;
  uint64_t unmapped = 0;  // placed on this contig (mate's position) but unmapped
};

class BamFile {
 public:
  // Opens path, reads its header and loads path.bai / path.csi / path.crai.
  // NotFound for a missing file or index; Corruption for an unreadable
  // header or a BAM without its end-of-file block (truncated). Each message
  // names the file.
  [[nodiscard]] static Result<BamFile> open(const std::string& path);

  const std::string& path() const { return path_; }
  samFile* file() const { return file_.get(); }
  sam_hdr_t* header() const { return header_.get(); }
  hts_idx_t* index() const { return index_.get(); }

  int contig_count() const;
  std::string contig_name(int tid) const;
  int64_t contig_length(int tid) const;
  int contig_id(const std::string& name) const;  // -1 when the header lacks it

  // The index's mapped / unmapped counts for contig tid (0 for a contig with
  // no reads), or nothing when the index keeps none (CRAM's .crai).
  std::optional<IndexReadCounts> index_read_counts(int tid) const;
  // Unmapped reads with no position at all (the end of a sorted BAM).
  uint64_t unplaced_unmapped_reads() const;

 private:
  struct Close {
    void operator()(samFile* file) const { sam_close(file); }
    void operator()(sam_hdr_t* header) const { sam_hdr_destroy(header); }
    void operator()(hts_idx_t* index) const { hts_idx_destroy(index); }
  };
  std::string path_;
  std::unique_ptr<samFile, Close> file_;
  std::unique_ptr<sam_hdr_t, Close> header_;
  std::unique_ptr<hts_idx_t, Close> index_;
};

}  // namespace helix::genomics
