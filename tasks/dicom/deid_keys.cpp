#include "tasks/dicom/deid_keys.h"

#include <cctype>
#include <chrono>
#include <cstdint>

#include "protocol/crypto.h"

namespace helix::dicom {

namespace {

std::uint64_t first_u64(const std::string& bytes, std::size_t from) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[from + i]);
  }
  return value;
}

std::string u128_decimal(unsigned __int128 value) {
  if (value == 0) return "0";
  std::string digits;
  while (value > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  return digits;
}

}  // namespace

std::string pseudonymous_uid(std::string_view secret, std::string_view uid) {
  const std::string mac = protocol::hmac_sha256(secret, "uid:" + std::string(uid));
  unsigned __int128 value =
      (static_cast<unsigned __int128>(first_u64(mac, 0)) << 64) | first_u64(mac, 8);
  return "2.25." + u128_decimal(value);
}

std::string patient_pseudonym(std::string_view secret, std::string_view patient_id) {
  const std::string mac = protocol::hmac_sha256(secret, "patient:" + std::string(patient_id));
  std::string hex = protocol::to_hex(mac.substr(0, 6));
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "ANON" + hex;
}

int patient_day_offset(std::string_view secret, std::string_view patient_id, int max_days) {
  if (max_days < 1) max_days = 1;
  const std::string mac = protocol::hmac_sha256(secret, "shift:" + std::string(patient_id));
  return static_cast<int>(first_u64(mac, 0) % static_cast<std::uint64_t>(max_days)) + 1;
}

Result<std::string> shift_date(std::string_view value, int days) {
  if (value.size() < 8) return fail(Error::invalid("date", "DA needs YYYYMMDD"));
  for (std::size_t i = 0; i < 8; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(value[i]))) {
      return fail(Error::invalid("date", "DA needs YYYYMMDD digits"));
    }
  }
  const int y = std::stoi(std::string(value.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(value.substr(4, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(value.substr(6, 2))));
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{m},
                                         std::chrono::day{d}};
  if (!date.ok()) return fail(Error::invalid("date", "not a calendar date"));
  const std::chrono::year_month_day shifted{std::chrono::sys_days{date} - std::chrono::days{days}};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02u", static_cast<int>(shifted.year()),
                static_cast<unsigned>(shifted.month()), static_cast<unsigned>(shifted.day()));
  return std::string(buffer) + std::string(value.substr(8));
}

}  // namespace helix::dicom
