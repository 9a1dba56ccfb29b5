#include "queues/common_fields.h"

#include <climits>

namespace helix::queues {

std::map<std::string, std::string> parse_tags(JsonReader& r, const Limits& limits) {
  auto tags = r.optional_string_map("tags");
  if (!tags) return {};
  if (tags->size() > limits.max_tags)
    r.problems().add(r.field_path("tags"), std::to_string(tags->size()) + " tags, the maximum is " +
                                               std::to_string(limits.max_tags));
  return *tags;
}

std::optional<int64_t> parse_timeout(JsonReader& r, const Limits& limits) {
  const json* t = r.optional_object("timeout");
  if (!t) return std::nullopt;
  JsonReader tr(*t, r.field_path("timeout"), r.problems());
  auto seconds =
      tr.optional_int("attemptDurationSeconds", limits.min_attempt_duration_seconds, INT32_MAX);
  tr.reject_unknown();
  return seconds;
}

}  // namespace helix::queues
