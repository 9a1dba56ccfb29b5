#include "common/rng.h"

#include <cctype>

namespace helix {

uint64_t SeededRng::next_u64() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string make_uuid(Rng& rng) {
  uint64_t hi = rng.next_u64();
  uint64_t lo = rng.next_u64();
  // RFC 4122 section 4.4: version 4 in the high nibble of byte 6, variant 10xx in byte 8.
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) out.push_back(kHex[(v >> (i * 4)) & 0xf]);
  };
  put(hi >> 32, 8);
  out.push_back('-');
  put((hi >> 16) & 0xffff, 4);
  out.push_back('-');
  put(hi & 0xffff, 4);
  out.push_back('-');
  put(lo >> 48, 4);
  out.push_back('-');
  put(lo & 0xffffffffffffULL, 12);
  return out;
}

bool is_uuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace helix
