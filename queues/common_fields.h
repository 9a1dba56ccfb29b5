// Fields several requests share (tags, timeout), parsed one way everywhere.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

#include "common/json_reader.h"
#include "queues/limits.h"

namespace helix::queues {

// "tags": a string map of at most limits.max_tags entries, each key 1 to
// 128 characters not starting with the reserved "aws:", each value at most
// 256 (AWS's rules; every problem named "tags.<key>").
std::map<std::string, std::string> parse_tags(JsonReader& r, const Limits& limits);

// TagResource: `added` merged into `existing` (a key given again takes the
// new value). Refused whole when a tag breaks the rules of parse_tags or
// the resource would hold more than limits.max_tags.
Result<std::map<std::string, std::string>> merge_tags(
    const std::map<std::string, std::string>& existing,
    const std::map<std::string, std::string>& added, const Limits& limits);

// UntagResource: `existing` without `keys` (1 to limits.max_tags of them;
// absent keys are ignored, as AWS does).
Result<std::map<std::string, std::string>> remove_tags(
    const std::map<std::string, std::string>& existing, const std::vector<std::string>& keys,
    const Limits& limits);

// "timeout": {"attemptDurationSeconds": N}, N >= limits.min_attempt_duration_seconds.
std::optional<int64_t> parse_timeout(JsonReader& r, const Limits& limits);

}  // namespace helix::queues
