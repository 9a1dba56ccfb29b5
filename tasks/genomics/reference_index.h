// reference_index: a FASTA reference through its .fai index (htslib faidx):
// contig names and lengths in file order, and bases of a range. Owns the
// faidx handle; never builds a missing index (that is samtools faidx's job,
// run by the genomics-bwa-index job).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <htslib/faidx.h>

#include "common/error.h"

namespace helix::genomics {

struct ContigLength {
  std::string name;
  int64_t length_bases = 0;
};

class ReferenceIndex {
 public:
  // NotFound when the FASTA or FASTA.fai is missing, Corruption when
  // htslib cannot read the index; each message names the file.
  [[nodiscard]] static Result<ReferenceIndex> open(const std::string& fasta_path);

  const std::string& path() const { return path_; }
  const std::vector<ContigLength>& contigs() const { return contigs_; }

  // Bases first..last (1-based inclusive, clipped to the contig) in upper
  // case. Corruption when htslib cannot read them. Not thread-safe.
  [[nodiscard]] Result<std::string> bases(const std::string& contig, int64_t first,
                                          int64_t last) const;

 private:
  struct Close {
    void operator()(faidx_t* index) const { fai_destroy(index); }
  };
  std::string path_;
  std::unique_ptr<faidx_t, Close> index_;
  std::vector<ContigLength> contigs_;
};

}  // namespace helix::genomics
