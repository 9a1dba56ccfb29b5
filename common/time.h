// Time values shared by the pure cores.
//
// helix keeps time as microseconds since the Unix epoch (TimePoint) so that
// submit -> start latencies of a few milliseconds can be measured; the AWS
// Batch wire format carries epoch milliseconds and Step Functions epoch
// seconds, converted only at the API boundary. Nothing here reads a clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace helix {

using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::sys_time<Duration>;

inline int64_t to_epoch_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline int64_t to_epoch_us(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_epoch_ms(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }
inline TimePoint from_epoch_us(int64_t us) { return TimePoint(Duration(us)); }

// "2026-11-22T10:48:25.123Z": for logs and the helix CLI.
std::string format_iso8601(TimePoint t);

}  // namespace helix
