// Small text helpers shared across layers (ASCII only: header names, ids,
// job names, AWS keys).
#pragma once

#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>

namespace helix {

inline std::string ascii_lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Appends `text` as a JSON string literal: quotes, backslashes and control
// characters escaped as JSON (and nlohmann's dump()) writes them, every
// other byte copied as it is (no UTF-8 check: callers that need one do it).
inline void append_json_quoted(std::string& out, std::string_view text) {
  out += '"';
  size_t plain = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
        out += escaped;
      }
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out += '"';
}

}  // namespace helix
