#include "tasks/dicom/deid_run.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "protocol/crypto.h"
#include "tasks/dicom/dicom_file.h"
#include "tasks/dicom/tiff_export.h"

namespace helix::dicom {

namespace {

namespace fs = std::filesystem;

// Mapping tables link pseudonyms back to people: owner-only from creation.
Result<void> write_private(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Error::unavailable("cannot create " + path));
  ::fchmod(fd, 0600);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written) return fail(Error::unavailable("cannot write " + path));
  return {};
}

// A UID names a folder or file of the output: only digits and dots (PS3.5
// 9.1), so a crafted "../x" kept under Retain UIDs cannot leave the folder.
Result<std::string> uid_of(DcmDataset& dataset, const DcmTagKey& key, const char* name) {
  OFString value;
  dataset.findAndGetOFString(key, value);
  const std::string uid = value.c_str();
  const bool valid = !uid.empty() && uid.size() <= 64 && uid.front() != '.' &&
                     uid.find_first_not_of("0123456789.") == std::string::npos;
  if (!valid) return fail(Error::corruption(std::string(name) + " is not a valid UID"));
  return uid;
}

// STUDY/SERIES/SOP.dcm of a de-identified data set.
Result<std::string> output_name(DcmDataset& dataset) {
  auto study = uid_of(dataset, DCM_StudyInstanceUID, "Study Instance UID (0020,000D)");
  if (!study) return fail(study.error());
  auto series = uid_of(dataset, DCM_SeriesInstanceUID, "Series Instance UID (0020,000E)");
  if (!series) return fail(series.error());
  auto sop = uid_of(dataset, DCM_SOPInstanceUID, "SOP Instance UID (0008,0018)");
  if (!sop) return fail(sop.error());
  return *study + "/" + *series + "/" + *sop + ".dcm";
}

}  // namespace

Result<RunSummary> run_deidentification(const Deidentifier& deid,
                                        const std::vector<std::string>& inputs,
                                        const std::vector<std::string>& options,
                                        const RunPaths& paths) {
  std::error_code ec;
  for (const auto& dir : {paths.output, paths.quarantine, paths.maps}) {
    fs::create_directories(dir, ec);
    if (ec) return fail(Error::unavailable("cannot create " + dir, ec.message()));
  }
  std::ofstream audit(paths.audit, std::ios::app);
  if (!audit) return fail(Error::unavailable("cannot open the audit log " + paths.audit));
  RunSummary summary;
  std::map<std::string, std::string> uids;
  std::map<std::string, std::string> pseudonyms;
  std::set<std::string> created;  // STUDY/SERIES folders made by this run
  for (std::size_t index = 0; index < inputs.size(); ++index) {
    const std::string& input = inputs[index];
    // The hash reads the file once and DCMTK again (from the page cache):
    // DCMTK's length checks need a file (dicom_file.h).
    std::ifstream in(input, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    nlohmann::json line = {{"input_sha256", protocol::to_hex(protocol::sha256(bytes))},
                           {"options", options}};
    auto loaded = load_instance(input);
    Result<DeidOutcome> outcome =
        loaded ? deid.apply(*(*loaded)->getDataset()) : Result<DeidOutcome>(fail(loaded.error()));
    std::string written, tiff_error;
    if (outcome) {
      auto target = output_name(*(*loaded)->getDataset());
      if (target)
        written = *target;
      else
        outcome = fail(target.error());
    }
    if (outcome) {
      DcmDataset& dataset = *(*loaded)->getDataset();
      const std::string series = fs::path(written).parent_path().string();
      const fs::path out = fs::path(paths.output) / written;
      // One series per run is the usual case: create its folder once.
      if (created.insert(series).second) fs::create_directories(out.parent_path(), ec);
      auto saved = save_instance(**loaded, out.string());
      if (!saved) return fail(saved.error());  // the disk, not the file: the task fails
      if (!paths.tiff.empty()) {
        // The TIFF is a copy for other tools: its failure is audited and
        // the de-identified DICOM stands.
        const fs::path tiff = fs::path(paths.tiff) / fs::path(written).replace_extension(".tif");
        fs::create_directories(tiff.parent_path(), ec);
        auto pages = write_tiff(dataset, tiff.string());
        if (!pages) tiff_error = pages.error().to_string();
      }
    }
    if (!outcome) {
      // The reason names the problem, never a value from the file.
      const std::string name = paths.run_name + "-" + std::to_string(index);
      std::ofstream(fs::path(paths.quarantine) / (name + ".reason.txt"))
          << input << "\n"
          << outcome.error().to_string() << "\n";
      line["status"] = "quarantined";
      line["reason"] = outcome.error().to_string();
      ++summary.quarantined;
    } else {
      line["status"] = "deidentified";
      line["output"] = written;
      line["changes"] = outcome->changes;
      line["invalid_dates"] = outcome->invalid_dates;
      if (!outcome->pixel_rule.empty()) line["pixel_rule"] = outcome->pixel_rule;
      if (!tiff_error.empty()) line["tiff_error"] = tiff_error;
      uids.insert(outcome->new_uids.begin(), outcome->new_uids.end());
      pseudonyms[outcome->patient_id] = outcome->patient_pseudonym;
      ++summary.deidentified;
    }
    audit << line.dump() << "\n";
  }
  std::string uid_table;
  for (const auto& [from, to] : uids) uid_table += from + "\t" + to + "\n";
  auto saved = write_private(fs::path(paths.maps) / (paths.run_name + ".uids.tsv"), uid_table);
  if (!saved) return fail(saved.error());
  std::string pseudonym_table;
  for (const auto& [from, to] : pseudonyms) pseudonym_table += from + "\t" + to + "\n";
  saved =
      write_private(fs::path(paths.maps) / (paths.run_name + ".pseudonyms.tsv"), pseudonym_table);
  if (!saved) return fail(saved.error());
  return summary;
}

}  // namespace helix::dicom
