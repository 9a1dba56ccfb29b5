#include "tasks/genomics/bam_file.h"

#include <filesystem>

namespace helix::genomics {

Result<BamFile> BamFile::open(const std::string& path) {
  std::error_code ignored;
  if (!std::filesystem::is_regular_file(path, ignored))
    return fail(Error::not_found("BAM " + path + ": no such file"));
  BamFile opened;
  opened.path_ = path;
  opened.file_.reset(sam_open(path.c_str(), "r"));
  if (!opened.file_) return fail(Error::corruption("BAM " + path + ": htslib cannot open it"));
  const htsFormat* format = hts_get_format(opened.file_.get());
  if (format->format != bam && format->format != cram)
    return fail(Error::corruption("BAM " + path + ": not a BAM or CRAM file"));
  // A BAM cut short (a killed sort, a partial copy) lacks the empty BGZF
  // block that ends every complete file; the index would still load.
  if (format->format == bam && hts_check_EOF(opened.file_.get()) == 0)
    return fail(Error::corruption("BAM " + path + ": truncated (no BGZF end-of-file block)"));
  opened.header_.reset(sam_hdr_read(opened.file_.get()));
  if (!opened.header_) return fail(Error::corruption("BAM " + path + ": unreadable header"));
  opened.index_.reset(sam_index_load(opened.file_.get(), path.c_str()));
  if (!opened.index_) {
    return fail(Error::not_found("BAM " + path + ": no index (" + path +
                                 ".bai or .csi); run samtools index " + path));
  }
  return opened;
}

int BamFile::contig_count() const { return sam_hdr_nref(header_.get()); }

std::string BamFile::contig_name(int tid) const { return sam_hdr_tid2name(header_.get(), tid); }

int64_t BamFile::contig_length(int tid) const { return sam_hdr_tid2len(header_.get(), tid); }

int BamFile::contig_id(const std::string& name) const {
  const int tid = sam_hdr_name2tid(header_.get(), name.c_str());
  return tid < 0 ? -1 : tid;
}

std::optional<IndexReadCounts> BamFile::index_read_counts(int tid) const {
  if (hts_idx_fmt(index_.get()) == HTS_FMT_CRAI) return std::nullopt;
  IndexReadCounts counts;
  // -1 here means the contig has no bins: no reads, not a missing statistic.
  if (hts_idx_get_stat(index_.get(), tid, &counts.mapped, &counts.unmapped) < 0) return counts;
  return counts;
}

uint64_t BamFile::unplaced_unmapped_reads() const { return hts_idx_get_n_no_coor(index_.get()); }

}  // namespace helix::genomics
