#include "common/time.h"

#include <cstdio>

namespace helix {

std::string format_iso8601(TimePoint t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<Duration> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), long(hms.hours().count()),
                long(hms.minutes().count()), long(hms.seconds().count()),
                long(duration_cast<milliseconds>(hms.subseconds()).count()));
  return buf;
}

}  // namespace helix
