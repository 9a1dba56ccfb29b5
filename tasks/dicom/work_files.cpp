#include "tasks/dicom/work_files.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "tasks/common/whole_file.h"

namespace helix::dicom {

namespace fs = std::filesystem;

Result<void> write_series_index(const std::string& work, const std::vector<std::size_t>& files) {
  nlohmann::json items = nlohmann::json::array();
  for (std::size_t i = 0; i < files.size(); ++i)
    items.push_back({{"index", i}, {"files", files[i]}});
  return tasks::write_file_atomically((fs::path(work) / "series.json").string(),
                                      items.dump() + "\n");
}

bool is_uid(const std::string& text) {
  static const std::regex uid("[0-9]+(\\.[0-9]+)*");
  return !text.empty() && text.size() <= 64 && std::regex_match(text, uid);
}

}  // namespace helix::dicom
