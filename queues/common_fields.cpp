#include "queues/common_fields.h"

#include <climits>

namespace helix::queues {

namespace {

// AWS's rules for each tag; `path` names the field holding them.
void check_each_tag(const std::map<std::string, std::string>& tags, const std::string& path,
                    Problems& problems) {
  for (const auto& [key, value] : tags) {
    const std::string at = path + "." + key;
    if (key.empty() || key.size() > 128)
      problems.add(at, "a tag key has 1 to 128 characters");
    else if (key.rfind("aws:", 0) == 0)
      problems.add(at, "keys starting with \"aws:\" are reserved");
    if (value.size() > 256) problems.add(at, "a tag value has at most 256 characters");
  }
}

}  // namespace

std::map<std::string, std::string> parse_tags(JsonReader& r, const Limits& limits) {
  auto tags = r.optional_string_map("tags");
  if (!tags) return {};
  if (tags->size() > limits.max_tags)
    r.problems().add(r.field_path("tags"), std::to_string(tags->size()) + " tags, the maximum is " +
                                               std::to_string(limits.max_tags));
  check_each_tag(*tags, r.field_path("tags"), r.problems());
  return *tags;
}

Result<std::map<std::string, std::string>> merge_tags(
    const std::map<std::string, std::string>& existing,
    const std::map<std::string, std::string>& added, const Limits& limits) {
  Problems problems;
  if (added.empty()) problems.add("tags", "give at least one tag");
  check_each_tag(added, "tags", problems);
  auto merged = existing;
  for (const auto& [key, value] : added) merged[key] = value;
  if (merged.size() > limits.max_tags)
    problems.add("tags", "the resource would have " + std::to_string(merged.size()) +
                             " tags, the maximum is " + std::to_string(limits.max_tags));
  if (!problems.empty()) return fail(problems.to_error());
  return merged;
}

Result<std::map<std::string, std::string>> remove_tags(
    const std::map<std::string, std::string>& existing, const std::vector<std::string>& keys,
    const Limits& limits) {
  if (keys.empty() || keys.size() > limits.max_tags)
    return fail(Error::invalid("tagKeys", "give 1 to " + std::to_string(limits.max_tags) +
                                              " keys, not " + std::to_string(keys.size())));
  auto left = existing;
  for (const auto& key : keys) left.erase(key);
  return left;
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
