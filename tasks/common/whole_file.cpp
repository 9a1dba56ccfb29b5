#include "tasks/common/whole_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace helix::tasks {

Result<void> write_file_atomically(const std::string& path, const std::string& contents) {
  const std::string temporary = path + ".tmp";
  std::error_code ignored;
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (out) out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (out) out.close();
    if (!out) {
      const std::string reason = std::strerror(errno);
      std::filesystem::remove(temporary, ignored);
      return fail(Error::unavailable(temporary + ": cannot write it", reason));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::filesystem::remove(temporary, ignored);
    return fail(Error::unavailable(path + ": cannot rename " + temporary + " to it", reason));
  }
  return {};
}

}  // namespace helix::tasks
