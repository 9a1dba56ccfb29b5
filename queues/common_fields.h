// Fields several requests share (tags, timeout), parsed one way everywhere.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/json_reader.h"
#include "queues/limits.h"

namespace helix::queues {

// "tags": a string map of at most limits.max_tags entries.
std::map<std::string, std::string> parse_tags(JsonReader& r, const Limits& limits);

// "timeout": {"attemptDurationSeconds": N}, N >= limits.min_attempt_duration_seconds.
std::optional<int64_t> parse_timeout(JsonReader& r, const Limits& limits);

}  // namespace helix::queues
