#include "tasks/dicom/deid_run.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "protocol/crypto.h"
#include "tasks/dicom/dicom_file.h"
#include "tasks/dicom/tiff_export.h"
#include "tasks/dicom/work_files.h"

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
  if (!is_uid(uid)) return fail(Error::corruption(std::string(name) + " is not a valid UID"));
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

// What one input became; results are gathered in input order so the
// audit log and tables do not depend on which worker finished first.
struct FileResult {
  nlohmann::json line;
  bool deidentified = false;
  std::map<std::string, std::string> new_uids;
  std::string patient_id, pseudonym;
};

// Folders made by this run, shared by the workers (one series per run is
// the usual case: its folder is created once).
class Folders {
 public:
  void make(const fs::path& dir) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!made_.insert(dir.string()).second) return;
    std::error_code ec;
    fs::create_directories(dir, ec);
  }

 private:
  std::mutex mutex_;
  std::set<std::string> made_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::string bytes(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

Result<FileResult> process_file(const Deidentifier& deid, const std::string& input,
                                std::size_t index, const std::vector<std::string>& options,
                                const RunPaths& paths, Folders& folders) {
  FileResult result;
  // The hash reads the file once and DCMTK again (from the page cache):
  // DCMTK's length checks need a file (dicom_file.h).
  result.line = {{"input_sha256", protocol::to_hex(protocol::sha256(read_bytes(input)))},
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
    const fs::path out = fs::path(paths.output) / written;
    folders.make(out.parent_path());
    auto saved = save_instance(**loaded, out.string());
    if (!saved) return fail(saved.error());  // the disk, not the file: the task fails
    if (!paths.tiff.empty()) {
      // The TIFF is a copy for other tools: its failure is audited and
      // the de-identified DICOM stands.
      const fs::path tiff = fs::path(paths.tiff) / fs::path(written).replace_extension(".tif");
      folders.make(tiff.parent_path());
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
    result.line["status"] = "quarantined";
    result.line["reason"] = outcome.error().to_string();
    return result;
  }
  result.deidentified = true;
  result.line["status"] = "deidentified";
  result.line["output"] = written;
  result.line["changes"] = outcome->changes;
  result.line["invalid_dates"] = outcome->invalid_dates;
  if (!outcome->pixel_rule.empty()) result.line["pixel_rule"] = outcome->pixel_rule;
  if (!tiff_error.empty()) result.line["tiff_error"] = tiff_error;
  result.new_uids = std::move(outcome->new_uids);
  result.patient_id = outcome->patient_id;
  result.pseudonym = outcome->patient_pseudonym;
  return result;
}

}  // namespace

Result<RunSummary> run_deidentification(const Deidentifier& deid,
                                        const std::vector<std::string>& inputs,
                                        const std::vector<std::string>& options,
                                        const RunPaths& paths, int threads) {
  std::error_code ec;
  for (const auto& dir : {paths.output, paths.quarantine, paths.maps}) {
    fs::create_directories(dir, ec);
    if (ec) return fail(Error::unavailable("cannot create " + dir, ec.message()));
  }
  std::ofstream audit(paths.audit, std::ios::app);
  if (!audit) return fail(Error::unavailable("cannot open the audit log " + paths.audit));

  // Files are independent: workers take the next index until none is left.
  std::vector<std::optional<Result<FileResult>>> results(inputs.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  Folders folders;
  auto work = [&] {
    for (std::size_t i = next++; i < inputs.size() && !failed; i = next++) {
      results[i] = process_file(deid, inputs[i], i, options, paths, folders);
      if (!*results[i]) failed = true;
    }
  };
  const int workers =
      std::max(1, std::min(threads, static_cast<int>(std::min<std::size_t>(inputs.size(), 256))));
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();

  RunSummary summary;
  std::map<std::string, std::string> uids;
  std::map<std::string, std::string> pseudonyms;
  for (auto& result : results) {
    if (!result) continue;  // not reached after a failure
    if (!*result) return fail(result->error());
    FileResult& file = **result;
    if (file.deidentified) {
      uids.insert(file.new_uids.begin(), file.new_uids.end());
      pseudonyms[file.patient_id] = file.pseudonym;
      ++summary.deidentified;
    } else {
      ++summary.quarantined;
    }
    audit << file.line.dump() << "\n";
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
