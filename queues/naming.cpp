#include "queues/naming.h"

#include <cctype>

namespace helix::queues {

std::string name_from_arn_or_name(const std::string& text, const std::string& kind) {
  if (text.rfind("arn:", 0) != 0) return text;
  const std::string marker = ":" + kind + "/";
  auto at = text.find(marker);
  if (at == std::string::npos) return text;
  return text.substr(at + marker.size());
}

bool check_name(const std::string& name, size_t max_length, bool must_start_alnum,
                const std::string& path, Problems& problems) {
  if (name.empty()) {
    problems.add(path, "must not be empty");
    return false;
  }
  if (name.size() > max_length) {
    problems.add(path, "is " + std::to_string(name.size()) + " characters, the maximum is " +
                           std::to_string(max_length));
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      problems.add(path,
                   "\"" + name + "\" may contain only letters, digits, hyphens and underscores");
      return false;
    }
  }
  if (must_start_alnum && !std::isalnum(static_cast<unsigned char>(name[0]))) {
    problems.add(path, "\"" + name + "\" must start with a letter or digit");
    return false;
  }
  return true;
}

}  // namespace helix::queues
