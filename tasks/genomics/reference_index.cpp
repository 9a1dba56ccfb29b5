#include "tasks/genomics/reference_index.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

namespace helix::genomics {

Result<ReferenceIndex> ReferenceIndex::open(const std::string& fasta_path) {
  std::error_code ignored;
  if (!std::filesystem::exists(fasta_path, ignored))
    return fail(Error::not_found("reference " + fasta_path + ": no such file"));
  const std::string fai_path = fasta_path + ".fai";
  if (!std::filesystem::exists(fai_path, ignored)) {
    return fail(Error::not_found("reference " + fasta_path + " has no .fai index (" + fai_path +
                                 "); run samtools faidx " + fasta_path));
  }
  ReferenceIndex reference;
  reference.path_ = fasta_path;
  // Flags 0: never create the index here; a missing one was refused above.
  reference.index_.reset(fai_load3(fasta_path.c_str(), fai_path.c_str(), nullptr, 0));
  if (!reference.index_)
    return fail(Error::corruption("reference index " + fai_path + ": htslib cannot read it"));
  const int count = faidx_nseq(reference.index_.get());
  for (int i = 0; i < count; ++i) {
    const char* name = faidx_iseq(reference.index_.get(), i);
    // htslib 1.16 has only the int form: contigs over 2^31 - 1 bases read as -1.
    const int length = faidx_seq_len(reference.index_.get(), name);
    if (length < 0) {
      return fail(Error::corruption("reference index " + fai_path + ": contig " + name +
                                    " has no usable length"));
    }
    reference.contigs_.push_back({name, length});
  }
  return reference;
}

Result<std::string> ReferenceIndex::bases(const std::string& contig, int64_t first,
                                          int64_t last) const {
  hts_pos_t length = 0;
  // faidx takes 0-based inclusive coordinates.
  char* raw = faidx_fetch_seq64(index_.get(), contig.c_str(), first - 1, last - 1, &length);
  if (raw == nullptr || length < 0) {
    std::free(raw);
    return fail(Error::corruption("reference " + path_ + ": cannot read " + contig + ":" +
                                  std::to_string(first) + "-" + std::to_string(last)));
  }
  std::string text(raw, static_cast<size_t>(length));
  std::free(raw);
  for (char& base : text) base = static_cast<char>(std::toupper(static_cast<unsigned char>(base)));
  return text;
}

}  // namespace helix::genomics
