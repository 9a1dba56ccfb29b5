#include "tasks/dicom/folder_store.h"

#include <algorithm>
#include <filesystem>
#include <vector>

namespace helix::dicom {

namespace fs = std::filesystem;

Result<int> store_to_folder(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() != ".tmp") files.push_back(it->path());
  }
  if (ec) return fail(Error::unavailable("cannot list " + from, ec.message()));
  std::sort(files.begin(), files.end());
  int delivered = 0;
  for (const auto& file : files) {
    const fs::path target = fs::path(to) / fs::relative(file, from);
    const fs::path temporary = target.string() + ".tmp";
    fs::create_directories(target.parent_path(), ec);
    if (!ec) fs::copy_file(file, temporary, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(temporary, target, ec);
    if (ec) {
      fs::remove(temporary);
      return fail(Error::unavailable("cannot deliver " + target.string(), ec.message()));
    }
    ++delivered;
  }
  return delivered;
}

}  // namespace helix::dicom
