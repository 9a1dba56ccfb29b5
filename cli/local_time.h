// Wire times (AWS Batch: integer epoch milliseconds) shown in the user's
// local time zone (TZ), as the CLI prints them. Reads the time zone
// database through localtime_r; does not read the clock.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace helix::cli {

// "2026-11-22T11:48:25.123+01:00": ISO 8601 with the local UTC offset.
std::string format_local_iso(int64_t epoch_ms);

// "2026-11-22 11:48:25": for tables.
std::string format_local_short(int64_t epoch_ms);

// format_local_short of object[key] when it is an integer, else "".
std::string short_time_of(const nlohmann::json& object, const std::string& key);

}  // namespace helix::cli
