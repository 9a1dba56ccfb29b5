#include "tasks/dicom/work_files.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

namespace helix::dicom {

namespace fs = std::filesystem;

Result<void> write_whole(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return fail(Error::unavailable("cannot write " + temporary));
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) return fail(Error::unavailable("cannot rename into " + path, ec.message()));
  return {};
}

Result<void> write_series_index(const std::string& work, const std::vector<std::size_t>& files) {
  nlohmann::json items = nlohmann::json::array();
  for (std::size_t i = 0; i < files.size(); ++i)
    items.push_back({{"index", i}, {"files", files[i]}});
  return write_whole((fs::path(work) / "series.json").string(), items.dump() + "\n");
}

bool is_uid(const std::string& text) {
  static const std::regex uid("[0-9]+(\\.[0-9]+)*");
  return !text.empty() && text.size() <= 64 && std::regex_match(text, uid);
}

}  // namespace helix::dicom
