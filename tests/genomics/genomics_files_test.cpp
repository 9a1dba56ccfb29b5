// helix-genomics on real files made here: a two-contig FASTA indexed with
// samtools faidx, a SAM text sorted and indexed into a BAM, and a VCF as
// text and bgzipped. Needs samtools, bgzip and tabix (Debian packages the
// project installs); skips itself without them.
//
// The fixture's shape:
//   ref.fa   chr1 1,000 bp, chr2 300 bp (fixed pseudo-random bases)
//   reads    chr1: 6 mapped records (one of each kind a candidate scan must
//            ignore, one mismatch at 495, one 3 bp insertion after 819) and
//            one unmapped record placed at 900; chr2: 6 perfect-but-one
//            mapped records (a 2 bp deletion of 152-153); one unplaced
//            unmapped record. So 12 mapped, 2 unmapped.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tasks/genomics/bam_file.h"
#include "tasks/genomics/reference_index.h"
#include "tasks/genomics/regions_json.h"
#include "tasks/genomics/sample_summary_reader.h"
#include "tasks/genomics/split_regions.h"
#include "tasks/genomics/variant_candidates.h"

namespace helix::genomics {

// Failures print regions as chr:first-last.
void PrintTo(const Region& region, std::ostream* out) {
  *out << region.contig << ":" << region.first << "-" << region.last;
}

namespace {

namespace fs = std::filesystem;

int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool has_tools() {
  return shell(
             "command -v samtools >/dev/null && command -v bgzip >/dev/null && "
             "command -v tabix >/dev/null") == 0;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Fixed pseudo-random bases (a linear congruential generator), so positions
// and their bases are the same on every run.
std::string make_bases(size_t length, uint32_t seed) {
  std::string bases;
  for (size_t i = 0; i < length; ++i) {
    seed = seed * 1'103'515'245u + 12'345u;
    bases += "ACGT"[(seed >> 16) & 3];
  }
  return bases;
}

char other_base(char base) { return base == 'A' ? 'C' : 'A'; }

std::string sam_record(const std::string& name, int flag, const std::string& contig,
                       int64_t position, int mapq, const std::string& cigar,
                       const std::string& bases, char quality = 'I') {
  return name + "\t" + std::to_string(flag) + "\t" + contig + "\t" + std::to_string(position) +
         "\t" + std::to_string(mapq) + "\t" + cigar + "\t*\t0\t0\t" + bases + "\t" +
         std::string(bases.size(), quality) + "\n";
}

class GenomicsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_tools()) GTEST_SKIP() << "samtools, bgzip or tabix missing";
    char pattern[] = "/tmp/helix-genomics-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    chr1_ = make_bases(1'000, 1);
    chr2_ = make_bases(300, 2);
    write_text(dir_ / "ref.fa", ">chr1\n" + chr1_ + "\n>chr2\n" + chr2_ + "\n");
    ASSERT_EQ(shell("samtools faidx " + path("ref.fa")), 0);
    write_bam();
    write_vcf();
  }

  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Reference bases first..last, 1-based inclusive.
  static std::string slice(const std::string& contig, int64_t first, int64_t last) {
    return contig.substr(static_cast<size_t>(first - 1), static_cast<size_t>(last - first + 1));
  }

  void write_bam() {
    std::string sam = "@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:1000\n@SQ\tSN:chr2\tLN:300\n";
    // Counted: a high-quality mismatch at 495.
    std::string r1 = slice(chr1_, 471, 520);
    r1[495 - 471] = other_base(r1[495 - 471]);
    sam += sam_record("r1", 0, "chr1", 471, 60, "50M", r1);
    // Ignored: a mismatch at 620 of base quality 2.
    std::string r2 = slice(chr1_, 600, 649);
    r2[20] = other_base(r2[20]);
    sam += sam_record("r2", 0, "chr1", 600, 60, "50M", r2, '#');
    // Ignored: MAPQ 0 (mismatch at 700), a duplicate (705), a secondary (910).
    std::string r3 = slice(chr1_, 680, 729);
    r3[20] = other_base(r3[20]);
    sam += sam_record("r3", 0, "chr1", 680, 0, "50M", r3);
    std::string r4 = slice(chr1_, 680, 729);
    r4[25] = other_base(r4[25]);
    sam += sam_record("r4", 1024, "chr1", 680, 60, "50M", r4);
    std::string r6 = slice(chr1_, 900, 949);
    r6[10] = other_base(r6[10]);
    sam += sam_record("r6", 256, "chr1", 900, 60, "50M", r6);
    // Counted: an insertion after 819 (20M covers 800-819).
    sam += sam_record("r5", 0, "chr1", 800, 60, "20M3I27M",
                      slice(chr1_, 800, 819) + "TTT" + slice(chr1_, 820, 846));
    // Unmapped, placed at its mate's position.
    sam += sam_record("u1", 4, "chr1", 900, 0, "*", slice(chr1_, 900, 949));
    // chr2: a deletion of 152-153, then five perfect reads.
    sam += sam_record("q1", 0, "chr2", 132, 60, "20M2D30M",
                      slice(chr2_, 132, 151) + slice(chr2_, 154, 183));
    for (int64_t start : {10, 60, 200, 220, 240})
      sam += sam_record("q" + std::to_string(start), 0, "chr2", start, 60, "50M",
                        slice(chr2_, start, start + 49));
    // Unmapped with no position at all.
    sam += sam_record("u2", 4, "*", 0, 0, "*", make_bases(50, 3));
    write_text(dir_ / "reads.sam", sam);
    ASSERT_EQ(shell("samtools sort -o " + path("reads.bam") + " " + path("reads.sam") +
                    " 2>/dev/null && samtools index " + path("reads.bam")),
              0);
  }

  // Six records: by type SNV 2, MNV 1, insertion 2, deletion 1, other 2
  // (a symbolic <DEL> and a '*'); csq terms missense 1, frameshift 1,
  // start_lost 1 (the @ pointer skipped); snpEff terms missense_variant 1,
  // splice_region_variant 1.
  void write_vcf() {
    const std::string info_lines =
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##contig=<ID=chr2,length=300>\n"
        "##INFO=<ID=BCSQ,Number=.,Type=String,Description=\"csq\">\n"
        "##INFO=<ID=ANN,Number=.,Type=String,Description=\"snpEff\">\n"
        "##ALT=<ID=DEL,Description=\"Deletion\">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    const std::string records =
        "chr1\t100\t.\tA\tG\t50\t.\tBCSQ=missense|g1|t1|protein_coding|+|1A>1G|100A>G,"
        "missense|g1|t2|protein_coding|+|1A>1G|100A>G\n"
        "chr1\t200\t.\tAC\tGT\t50\t.\tBCSQ=@100;ANN=GT|missense_variant&splice_region_variant|"
        "MODERATE|g1|G1|transcript|t1,GT|missense_variant|MODERATE|g1|G1|transcript|t2\n"
        "chr1\t300\t.\tA\tATT\t50\t.\tBCSQ=frameshift&start_lost|g1|t1|protein_coding|+|1M>1X|"
        "300A>ATT\n"
        "chr1\t400\t.\tATT\tA,ATTT\t50\t.\t.\n"
        "chr2\t50\t.\tG\t<DEL>\t50\t.\t.\n"
        "chr2\t60\t.\tC\tT,*\t50\t.\t.\n";
    write_text(dir_ / "calls.vcf", info_lines + records);
    write_text(dir_ / "plain.vcf", info_lines + "chr1\t100\t.\tA\tG\t50\t.\t.\n");
    ASSERT_EQ(shell("bgzip -c " + path("calls.vcf") + " > " + path("calls.vcf.gz") + " && tabix " +
                    path("calls.vcf.gz")),
              0);
  }

  fs::path dir_;
  std::string chr1_, chr2_;
};

TEST_F(GenomicsFiles, CandidatesAreTheCountedDifferencesOnly) {
  auto bam = BamFile::open(path("reads.bam"));
  ASSERT_TRUE(bam.has_value()) << bam.error().to_string();
  auto reference = ReferenceIndex::open(path("ref.fa"));
  ASSERT_TRUE(reference.has_value());
  auto chr1 = variant_candidates(*bam, 0, 1, 1'000, *reference->bases("chr1", 1, 1'000));
  ASSERT_TRUE(chr1.has_value()) << chr1.error().to_string();
  // Want: the mismatch at 495 and the insertion's anchor 819; not 620 (base
  // quality 2), 700 (MAPQ 0), 705 (duplicate) or 910 (secondary).
  EXPECT_EQ(*chr1, (std::vector<int64_t>{495, 819}));
  auto chr2 = variant_candidates(*bam, 1, 1, 300, *reference->bases("chr2", 1, 300));
  ASSERT_TRUE(chr2.has_value());
  EXPECT_EQ(*chr2, (std::vector<int64_t>{152, 153}));
  // A narrower range reports only what lies inside it.
  auto part = variant_candidates(*bam, 0, 490, 500, *reference->bases("chr1", 490, 500));
  ASSERT_TRUE(part.has_value());
  EXPECT_EQ(*part, (std::vector<int64_t>{495}));
}

TEST_F(GenomicsFiles, SplitWithoutBamIsTheAwkSplit) {
  // Want (awk): total 1,300, n = 4, chunk 325.
  auto outcome = split_regions({path("ref.fa"), 4, {}, 100});
  ASSERT_TRUE(outcome.has_value()) << outcome.error().to_string();
  EXPECT_FALSE(outcome->is_weighted_by_reads);
  EXPECT_EQ(regions_json(outcome->plan.regions),
            "[{\"region\":\"chr1:1-325\",\"index\":0},{\"region\":\"chr1:326-650\",\"index\":1},"
            "{\"region\":\"chr1:651-975\",\"index\":2},{\"region\":\"chr1:976-1000\",\"index\":3},"
            "{\"region\":\"chr2:1-300\",\"index\":4}]\n");
}

TEST_F(GenomicsFiles, SplitWithBamBalancesByMappedReads) {
  // 6 mapped records on each contig, n = 2: chunk 6 reads, one region per
  // contig (by length it would be three: chr1 cut after 650).
  auto outcome = split_regions({path("ref.fa"), 2, {path("reads.bam")}, 10});
  ASSERT_TRUE(outcome.has_value()) << outcome.error().to_string();
  EXPECT_TRUE(outcome->is_weighted_by_reads);
  EXPECT_EQ(outcome->plan.regions, (std::vector<Region>{{"chr1", 1, 1'000}, {"chr2", 1, 300}}));
}

TEST_F(GenomicsFiles, SplitWithBamMovesCutsAwayFromCandidates) {
  // n = 4: chunk 3 reads; ideal cuts chr1 after 500 (step 1000 x 3 / 6) and
  // chr2 after 150 (step 300 x 3 / 6). W = 10: 495 blocks chr1's cuts
  // 485..504, so 505 (5 away); 152-153 block chr2's 142..162, so 141 (9).
  auto outcome = split_regions({path("ref.fa"), 4, {path("reads.bam")}, 10});
  ASSERT_TRUE(outcome.has_value()) << outcome.error().to_string();
  EXPECT_EQ(outcome->plan.regions,
            (std::vector<Region>{
                {"chr1", 1, 505}, {"chr1", 506, 1'000}, {"chr2", 1, 141}, {"chr2", 142, 300}}));
  EXPECT_EQ(outcome->plan.cuts_moved, 2);
  // W = 0 keeps the ideal cuts.
  auto ideal = split_regions({path("ref.fa"), 4, {path("reads.bam")}, 0});
  ASSERT_TRUE(ideal.has_value());
  EXPECT_EQ(ideal->plan.regions,
            (std::vector<Region>{
                {"chr1", 1, 500}, {"chr1", 501, 1'000}, {"chr2", 1, 150}, {"chr2", 151, 300}}));
}

TEST_F(GenomicsFiles, SplitRefusesABamOfAnotherReference) {
  write_text(dir_ / "other.fa", ">chr1\n" + chr1_ + "\n>chr2\n" + chr2_ + "ACGT\n");
  ASSERT_EQ(shell("samtools faidx " + path("other.fa")), 0);
  auto outcome = split_regions({path("other.fa"), 2, {path("reads.bam")}, 10});
  ASSERT_FALSE(outcome.has_value());
  EXPECT_NE(outcome.error().to_string().find("chr2 is 300 bp, the reference's is 304 bp"),
            std::string::npos)
      << outcome.error().to_string();
}

TEST_F(GenomicsFiles, SummaryNumbers) {
  auto summary = read_sample_summary("S1", path("reads.bam"), path("calls.vcf.gz"));
  ASSERT_TRUE(summary.has_value()) << summary.error().to_string();
  EXPECT_EQ(summary->reads_mapped, 12u);
  EXPECT_EQ(summary->reads_unmapped, 2u);  // one placed on chr1, one with no position
  EXPECT_EQ(summary->reference_length, 1'300);
  // Aligned lengths: ten 50M, 20M3I27M = 47, 20M2D30M = 52: 599 / 12.
  EXPECT_DOUBLE_EQ(summary->mean_read_length, 599.0 / 12.0);
  // 12 x 599/12 / 1,300.
  EXPECT_DOUBLE_EQ(summary->mean_depth(), 599.0 / 1'300.0);
  const VariantCounts& v = summary->variants;
  EXPECT_EQ(v.records, 6u);
  EXPECT_EQ(v.snv, 2u);
  EXPECT_EQ(v.mnv, 1u);
  EXPECT_EQ(v.insertion, 2u);
  EXPECT_EQ(v.deletion, 1u);
  EXPECT_EQ(v.other, 2u);
  EXPECT_EQ(v.bcftools_csq, (std::map<std::string, uint64_t>{
                                {"frameshift", 1}, {"missense", 1}, {"start_lost", 1}}));
  EXPECT_EQ(v.snpeff, (std::map<std::string, uint64_t>{{"missense_variant", 1},
                                                       {"splice_region_variant", 1}}));
  // The plain-text VCF gives the same counts as the bgzipped one.
  auto plain = read_sample_summary("S1", path("reads.bam"), path("calls.vcf"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->variants.records, 6u);
  EXPECT_EQ(plain->variants.bcftools_csq, v.bcftools_csq);
}

// The CLI: what the pipeline runs.
class GenomicsCli : public GenomicsFiles {
 protected:
  int run(const std::string& arguments, std::string* errors = nullptr) {
    const std::string error_file = path("stderr.txt");
    const int status = shell(std::string(HELIX_BINARY_DIR) + "/bin/helix-genomics " + arguments +
                             " 2>" + error_file);
    if (errors) *errors = read_text(error_file);
    return status;
  }
};

TEST_F(GenomicsCli, SplitWritesTheRegionsFile) {
  std::string errors;
  ASSERT_EQ(run("split-regions --ref " + path("ref.fa") + " --n 4 --bam " + path("reads.bam") +
                    " --window 10 --out " + path("regions.json"),
                &errors),
            0)
      << errors;
  const auto regions = nlohmann::json::parse(read_text(dir_ / "regions.json"));
  ASSERT_EQ(regions.size(), 4u);
  EXPECT_EQ(regions[1]["region"], "chr1:506-1000");
  EXPECT_EQ(regions[3]["index"], 3);
  EXPECT_FALSE(fs::exists(dir_ / "regions.json.tmp"));
  EXPECT_NE(errors.find("2 cuts moved"), std::string::npos) << errors;
}

TEST_F(GenomicsCli, SummaryWritesJson) {
  std::string errors;
  ASSERT_EQ(run("summary --sample S1 --bam " + path("reads.bam") + " --vcf " + path("plain.vcf") +
                    " --out " + path("summary.json"),
                &errors),
            0)
      << errors;
  const auto summary = nlohmann::json::parse(read_text(dir_ / "summary.json"));
  EXPECT_EQ(summary["sample"], "S1");
  EXPECT_EQ(summary["reads_mapped"], 12);
  EXPECT_EQ(summary["variants"], 1);
  EXPECT_EQ(summary["by_type"]["SNV"], 1);
  // No annotation in the VCF: empty objects, not null.
  EXPECT_EQ(summary["by_consequence"]["bcftools_csq"], nlohmann::json::object());
  EXPECT_EQ(summary["by_consequence"]["snpeff"], nlohmann::json::object());
}

TEST_F(GenomicsCli, BadInputExits2NamingTheProblemAndWritesNothing) {
  write_text(dir_ / "noindex.fa", ">chr1\nACGT\n");
  write_text(dir_ / "garbage.vcf", "this is not a VCF\n");
  ASSERT_EQ(shell("cp " + path("reads.bam") + " " + path("unindexed.bam")), 0);
  ASSERT_EQ(shell("head -c 600 " + path("reads.bam") + " > " + path("cut.bam") + " && cp " +
                  path("reads.bam.bai") + " " + path("cut.bam.bai")),
            0);
  struct Case {
    std::string name, arguments, want_in_message;
  };
  const std::string out = " --out " + path("out.json");
  const std::string bam = " --bam " + path("reads.bam");
  const std::vector<Case> cases = {
      {"no .fai", "split-regions --ref " + path("noindex.fa") + " --n 2" + out, "noindex.fa.fai"},
      {"n of 0", "split-regions --ref " + path("ref.fa") + " --n 0" + out, "--n"},
      {"negative window", "split-regions --ref " + path("ref.fa") + " --n 2 --window -1" + out,
       "--window"},
      {"n not a number", "split-regions --ref " + path("ref.fa") + " --n many" + out, "--n"},
      {"split BAM without index",
       "split-regions --ref " + path("ref.fa") + " --n 2 --bam " + path("unindexed.bam") + out,
       "unindexed.bam: no index"},
      {"summary missing BAM",
       "summary --sample S1 --bam " + path("absent.bam") + " --vcf " + path("calls.vcf") + out,
       "absent.bam: no such file"},
      {"summary truncated BAM",
       "summary --sample S1 --bam " + path("cut.bam") + " --vcf " + path("calls.vcf") + out,
       "cut.bam: truncated"},
      {"summary unreadable VCF",
       "summary --sample S1" + bam + " --vcf " + path("garbage.vcf") + out, "garbage.vcf"},
      {"summary missing VCF", "summary --sample S1" + bam + " --vcf " + path("absent.vcf") + out,
       "absent.vcf: no such file"},
  };
  for (const Case& c : cases) {
    std::string errors;
    EXPECT_EQ(run(c.arguments, &errors), 2) << c.name << ": " << errors;
    EXPECT_NE(errors.find(c.want_in_message), std::string::npos) << c.name << ": " << errors;
    EXPECT_FALSE(fs::exists(dir_ / "out.json")) << c.name;
    EXPECT_FALSE(fs::exists(dir_ / "out.json.tmp")) << c.name;
  }
}

}  // namespace
}  // namespace helix::genomics
