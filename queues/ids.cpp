#include "queues/ids.h"

#include <charconv>

namespace helix::queues {

JobId array_child_id(const JobId& parent, int index) {
  return JobId(parent.str() + ":" + std::to_string(index));
}

std::optional<ArrayChildRef> parse_array_child_id(const std::string& id) {
  auto colon = id.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size()) return std::nullopt;
  int index = 0;
  const char* first = id.data() + colon + 1;
  const char* last = id.data() + id.size();
  auto [ptr, ec] = std::from_chars(first, last, index);
  if (ec != std::errc() || ptr != last || index < 0) return std::nullopt;
  return ArrayChildRef{JobId(id.substr(0, colon)), index};
}

}  // namespace helix::queues
