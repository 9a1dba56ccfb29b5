#include "tasks/genomics/vcf_counts.h"

#include <cstdlib>
#include <filesystem>
#include <memory>

#include <htslib/vcf.h>

#include "tasks/genomics/consequence_terms.h"

namespace helix::genomics {

namespace {

struct Close {
  void operator()(htsFile* file) const { hts_close(file); }
  void operator()(bcf_hdr_t* header) const { bcf_hdr_destroy(header); }
  void operator()(bcf1_t* record) const { bcf_destroy(record); }
};

void count_allele_type(bcf1_t* record, int allele, VariantCounts& counts) {
  const int type = bcf_get_variant_type(record, allele);
  if (type & VCF_INDEL) {
    // d.var[allele].n is ALT length minus REF length once the type is set.
    const int length_change = record->d.var[allele].n;
    if (length_change > 0) {
      ++counts.insertion;
    } else if (length_change < 0) {
      ++counts.deletion;
    } else {
      ++counts.other;
    }
  } else if (type == VCF_SNP) {
    ++counts.snv;
  } else if (type == VCF_MNP) {
    ++counts.mnv;
  } else {
    ++counts.other;
  }
}

// Adds the record's distinct terms of INFO/tag to `terms`; a record or
// header without the tag adds nothing.
void count_terms(const bcf_hdr_t* header, bcf1_t* record, const char* tag,
                 std::set<std::string> (*parse)(std::string_view),
                 std::map<std::string, uint64_t>& terms) {
  char* value = nullptr;
  int capacity = 0;
  const int length = bcf_get_info_string(header, record, tag, &value, &capacity);
  if (length > 0) {
    for (const std::string& term : parse(std::string_view(value, static_cast<size_t>(length))))
      ++terms[term];
  }
  std::free(value);
}

}  // namespace

Result<VariantCounts> count_variants(const std::string& vcf_path) {
  std::error_code ignored;
  if (!std::filesystem::is_regular_file(vcf_path, ignored))
    return fail(Error::not_found("VCF " + vcf_path + ": no such file"));
  std::unique_ptr<htsFile, Close> file(bcf_open(vcf_path.c_str(), "r"));
  if (!file) return fail(Error::corruption("VCF " + vcf_path + ": htslib cannot open it"));
  const htsExactFormat format = hts_get_format(file.get())->format;
  if (format != vcf && format != bcf)
    return fail(Error::corruption("VCF " + vcf_path + ": not a VCF or BCF file"));
  // A bgzipped VCF cut at a block boundary reads as a shorter whole file;
  // only the missing end-of-file block tells.
  if (hts_check_EOF(file.get()) == 0)
    return fail(Error::corruption("VCF " + vcf_path + ": truncated (no BGZF end-of-file block)"));
  std::unique_ptr<bcf_hdr_t, Close> header(bcf_hdr_read(file.get()));
  if (!header) return fail(Error::corruption("VCF " + vcf_path + ": unreadable header"));
  std::unique_ptr<bcf1_t, Close> record(bcf_init());

  VariantCounts counts;
  int status = 0;
  while ((status = bcf_read(file.get(), header.get(), record.get())) == 0) {
    if (record->errcode != 0) break;
    ++counts.records;
    for (int allele = 1; allele < record->n_allele; ++allele)
      count_allele_type(record.get(), allele, counts);
    count_terms(header.get(), record.get(), "BCSQ", bcsq_terms, counts.bcftools_csq);
    count_terms(header.get(), record.get(), "ANN", ann_terms, counts.snpeff);
  }
  if (status < -1 || record->errcode != 0) {
    return fail(Error::corruption("VCF " + vcf_path + ": record " +
                                  std::to_string(counts.records + 1) +
                                  " cannot be read (corrupt or truncated)"));
  }
  return counts;
}

}  // namespace helix::genomics
