#include "tasks/dicom/series_scan.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "tasks/common/whole_file.h"
#include "tasks/dicom/work_files.h"

namespace helix::dicom {

namespace fs = std::filesystem;

Result<SeriesPlan> scan_folder(const std::string& folder) {
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) return fail(Error::unavailable("cannot list " + folder, ec.message()));
  std::sort(files.begin(), files.end());

  SeriesPlan plan;
  std::map<std::pair<std::string, std::string>, std::size_t> index;  // (study, series) -> group
  for (const auto& path : files) {
    DcmFileFormat file;
    OFString study, series;
    const bool read = file.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange,
                                            DCM_MaxReadLength, ERM_autoDetect, DCM_PixelData)
                          .good();
    if (!read || file.getDataset()->findAndGetOFString(DCM_SeriesInstanceUID, series).bad() ||
        series.empty()) {
      plan.unreadable.push_back(path);
      continue;
    }
    file.getDataset()->findAndGetOFString(DCM_StudyInstanceUID, study);
    auto [at, added] = index.try_emplace({study.c_str(), series.c_str()}, plan.series.size());
    if (added) plan.series.emplace_back();
    plan.series[at->second].push_back(path);
  }
  return plan;
}

Result<void> write_plan(const SeriesPlan& plan, const std::string& work) {
  const fs::path dir = fs::path(work) / "series";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return fail(Error::unavailable("cannot create " + dir.string(), ec.message()));
  std::vector<std::vector<std::string>> groups = plan.series;
  if (!plan.unreadable.empty()) groups.push_back(plan.unreadable);
  std::vector<std::size_t> files;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    std::string list;
    for (const auto& path : groups[i]) list += path + "\n";
    auto written =
        tasks::write_file_atomically((dir / (std::to_string(i) + ".list")).string(), list);
    if (!written) return fail(written.error());
    files.push_back(groups[i].size());
  }
  return write_series_index(work, files);
}

}  // namespace helix::dicom
