#include "tasks/genomics/variant_candidates.h"

#include <algorithm>
#include <memory>

namespace helix::genomics {

namespace {

constexpr uint16_t kSkippedFlags = BAM_FUNMAP | BAM_FSECONDARY | BAM_FSUPPLEMENTARY | BAM_FDUP;

}  // namespace

Result<std::vector<int64_t>> variant_candidates(const BamFile& bam, int tid, int64_t first,
                                                int64_t last, const std::string& reference_bases) {
  std::vector<int64_t> found;
  const auto in_range = [&](int64_t position) { return position >= first && position <= last; };
  std::unique_ptr<hts_itr_t, decltype(&hts_itr_destroy)> iterator(
      sam_itr_queryi(bam.index(), tid, first - 1, last), &hts_itr_destroy);
  if (!iterator)
    return fail(Error::corruption("BAM " + bam.path() + ": cannot query its index for " +
                                  bam.contig_name(tid)));
  std::unique_ptr<bam1_t, decltype(&bam_destroy1)> record(bam_init1(), &bam_destroy1);
  int status = 0;
  while ((status = sam_itr_next(bam.file(), iterator.get(), record.get())) >= 0) {
    const bam1_core_t& core = record->core;
    if ((core.flag & kSkippedFlags) || core.qual == 0) continue;
    const uint32_t* cigar = bam_get_cigar(record.get());
    const uint8_t* sequence = bam_get_seq(record.get());
    const uint8_t* qualities = bam_get_qual(record.get());
    int64_t reference_position = core.pos + 1;  // 1-based, of the next reference base
    int64_t read_position = 0;                  // 0-based, of the next read base
    for (uint32_t i = 0; i < core.n_cigar; ++i) {
      const int operation = bam_cigar_op(cigar[i]);
      const int64_t length = bam_cigar_oplen(cigar[i]);
      switch (operation) {
        case BAM_CMATCH:
        case BAM_CEQUAL:
        case BAM_CDIFF:
          for (int64_t j = 0; j < length; ++j) {
            const int64_t position = reference_position + j;
            // A record may omit its bases (SEQ "*"); it then shows no mismatch.
            // faidx returns fewer bases than asked when the FASTA is shorter
            // than its .fai says: such positions are not compared.
            if (!in_range(position) || read_position + j >= core.l_qseq ||
                static_cast<size_t>(position - first) >= reference_bases.size())
              continue;
            const char read_base = seq_nt16_str[bam_seqi(sequence, read_position + j)];
            const char reference_base = reference_bases[static_cast<size_t>(position - first)];
            // A record without qualities stores 0xff in each: trust its bases.
            const int quality = qualities[read_position + j];
            if (read_base != 'N' && reference_base != 'N' && read_base != reference_base &&
                (quality >= kMinBaseQuality || quality == 0xff))
              found.push_back(position);
          }
          reference_position += length;
          read_position += length;
          break;
        case BAM_CINS:
          if (in_range(reference_position - 1)) found.push_back(reference_position - 1);
          read_position += length;
          break;
        case BAM_CDEL:
          for (int64_t j = 0; j < length; ++j)
            if (in_range(reference_position + j)) found.push_back(reference_position + j);
          reference_position += length;
          break;
        case BAM_CREF_SKIP:
          reference_position += length;
          break;
        case BAM_CSOFT_CLIP:
          read_position += length;
          break;
        default:  // hard clip, padding: neither sequence consumes
          break;
      }
    }
  }
  if (status < -1)
    return fail(Error::corruption("BAM " + bam.path() + ": reads on " + bam.contig_name(tid) +
                                  " cannot be read (corrupt or truncated)"));
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

}  // namespace helix::genomics
