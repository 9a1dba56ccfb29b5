#include "cli/local_time.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace helix::cli {

namespace {

struct LocalTime {
  std::tm tm{};
  int64_t millis = 0;
};

LocalTime to_local(int64_t epoch_ms) {
  // Floor division, so times before 1970 keep a millisecond part in 0..999.
  int64_t seconds = epoch_ms / 1000;
  int64_t millis = epoch_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  LocalTime out;
  std::time_t t = static_cast<std::time_t>(seconds);
  localtime_r(&t, &out.tm);
  out.millis = millis;
  return out;
}

}  // namespace

std::string format_local_iso(int64_t epoch_ms) {
  LocalTime local = to_local(epoch_ms);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &local.tm);
  long offset_minutes = local.tm.tm_gmtoff / 60;
  char sign = offset_minutes < 0 ? '-' : '+';
  offset_minutes = std::labs(offset_minutes);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%03lld%c%02ld:%02ld", date,
                static_cast<long long>(local.millis), sign, offset_minutes / 60,
                offset_minutes % 60);
  return out;
}

std::string format_local_short(int64_t epoch_ms) {
  LocalTime local = to_local(epoch_ms);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &local.tm);
  return date;
}

std::string short_time_of(const nlohmann::json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return "";
  return format_local_short(it->get<int64_t>());
}

}  // namespace helix::cli
