#include "tasks/dicom/pacs_plan.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tasks/common/whole_file.h"
#include "tasks/dicom/work_files.h"

namespace helix::dicom {

namespace {

namespace fs = std::filesystem;

fs::path series_dir(const std::string& work) { return fs::path(work) / "series"; }

}  // namespace

Result<void> write_pacs_plan(const std::vector<SeriesRef>& series, const std::string& work) {
  const fs::path dir = series_dir(work);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return fail(Error::unavailable("cannot create " + dir.string(), ec.message()));
  std::vector<std::size_t> files;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const nlohmann::json ref = {{"study_uid", series[i].study_uid},
                                {"series_uid", series[i].series_uid},
                                {"modality", series[i].modality},
                                {"instances", series[i].instances}};
    auto written = tasks::write_file_atomically((dir / (std::to_string(i) + ".pacs.json")).string(),
                                                ref.dump() + "\n");
    if (!written) return written;
    files.push_back(static_cast<std::size_t>(series[i].instances));
  }
  return write_series_index(work, files);
}

Result<SeriesRef> read_pacs_series(const std::string& work, int index) {
  const fs::path path = series_dir(work) / (std::to_string(index) + ".pacs.json");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::not_found(path.string() + " does not exist (run pacs-find first)"));
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json ref = nlohmann::json::parse(text.str(), nullptr, false);
  auto text_of = [&ref](const char* key) {
    const auto it = ref.is_object() ? ref.find(key) : ref.end();
    return it != ref.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  SeriesRef series{text_of("study_uid"), text_of("series_uid"), text_of("modality"), 0};
  if (ref.is_object() && ref.contains("instances") && ref["instances"].is_number_integer())
    series.instances = ref["instances"].get<int>();
  if (!is_uid(series.study_uid) || !is_uid(series.series_uid))
    return fail(Error::corruption(path.string() + ": needs study_uid and series_uid (UIDs)"));
  return series;
}

std::string retrieved_folder(const std::string& work, int index) {
  return (fs::path(work) / "retrieved" / std::to_string(index)).string();
}

Result<void> write_series_list(const std::string& work, int index,
                               const std::vector<std::string>& paths) {
  std::string list;
  for (const auto& path : paths) list += path + "\n";
  return tasks::write_file_atomically(
      (series_dir(work) / (std::to_string(index) + ".list")).string(), list);
}

}  // namespace helix::dicom
