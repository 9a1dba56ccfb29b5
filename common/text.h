// Small text helpers shared across layers (ASCII only: header names, ids,
// job names, AWS keys).
#pragma once

#include <cctype>
#include <string>

namespace helix {

inline std::string ascii_lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace helix
