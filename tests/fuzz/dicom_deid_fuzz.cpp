// libFuzzer target (issue #7, "Bad input"): arbitrary bytes as a DICOM
// file through everything helix-deid does to one: parse and completeness
// checks, the Basic Profile with Modified Dates and Clean Pixel Data (a
// rule that matches every image, so blanking and decoding run too), then
// writing the result back to memory. A crash, leak or sanitizer report is
// a finding; refusals are the expected outcome for most inputs.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/oflog/oflog.h>

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tasks/dicom/deidentifier.h"
#include "tasks/dicom/dicom_file.h"

namespace {

using namespace helix::dicom;

struct Setup {
  Profile profile;
  std::unique_ptr<Policy> policy;
  std::unique_ptr<Deidentifier> deid;

  Setup() {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    std::ifstream in(HELIX_DEID_PROFILE);
    std::stringstream text;
    text << in.rdbuf();
    profile = *Profile::parse(text.str());
    policy = std::make_unique<Policy>(
        profile, std::set<std::string>{"retain_long_modified_dates", "clean_pixel_data"});
    auto rules = PixelRules::parse(
        R"({"rules": [{"name": "all", "regions": [{"x": 1, "y": 1, "width": 4, "height": 3}]}]})");
    deid = std::make_unique<Deidentifier>(profile, *policy, DeidKeys{"fuzz-secret-0123456789", {}},
                                          std::set<SafePrivate>{}, std::move(*rules));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Setup setup;
  // helix-deid reads files (DCMTK checks lengths against the file size), so
  // the input goes through one, in memory-backed /dev/shm.
  static const std::string path = "/dev/shm/helix-dicom-fuzz-" + std::to_string(getpid()) + ".dcm";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto file = load_instance(path);
  if (!file) return 0;
  if (!setup.deid->apply(*(*file)->getDataset())) return 0;
  // What save_instance would write, into memory instead of a file.
  static std::vector<char> out(1 << 18);  // a fuller buffer only stops the write
  DcmOutputBufferStream stream(out.data(), out.size());
  DcmFileFormat& written = **file;
  written.transferInit();
  (void)written.write(stream, (*file)->getDataset()->getCurrentXfer(), EET_ExplicitLength, nullptr);
  written.transferEnd();
  return 0;
}
