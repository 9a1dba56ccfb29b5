// The de-identification profile: PS3.15 Annex E Table E.1-1 read from the
// JSON extract (docs/dicom-deid-profile.json) with the chosen options applied.
//
// Owns: which action (D, Z, X, K, C, U, ...) applies to a tag under a set
// of options. Does not own: reading or writing DICOM files (DCMTK does).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace helix::dicom {

// A tag as group << 16 | element.
using Tag = std::uint32_t;

constexpr Tag make_tag(std::uint16_t group, std::uint16_t element) {
  return (static_cast<Tag>(group) << 16) | element;
}

struct ProfileRow {
  Tag tag = 0;
  std::string keyword;
  std::string vr;
  std::string basic_action;                           // "X", "Z/D", ...
  std::map<std::string, std::string> option_actions;  // option key -> action
};

// A private element PS3.15 lists as safe to keep (Retain Safe Private).
struct SafePrivateRow {
  std::string creator;
  std::uint16_t group = 0;
  std::uint8_t element = 0;  // the low byte: (7053,xx00) -> 0x00
};

class Profile {
 public:
  // Parses the JSON text of the profile extract; "attributes" rows with
  // match "exact" become rows, other rows (repeating groups) are skipped.
  static Result<Profile> parse(std::string_view json_text);

  // The action for tag with the given options (option keys as in the
  // extract's "options" list). An option's action replaces the basic one;
  // when several chosen options name the tag, the one that keeps most wins
  // (K over C over the basic action). Empty when the tag is not in the table.
  std::string action(Tag tag, const std::set<std::string>& options) const;

  const ProfileRow* row(Tag tag) const;
  std::size_t size() const { return rows_.size(); }
  const std::set<std::string>& option_keys() const { return option_keys_; }
  // The CID 7050 code and meaning of an option ("113107", "Retain
  // Longitudinal ..."); empty strings when unknown.
  std::pair<std::string, std::string> option_code(const std::string& key) const;
  const std::vector<SafePrivateRow>& safe_private() const { return safe_private_; }

 private:
  std::map<Tag, ProfileRow> rows_;
  std::set<std::string> option_keys_;
  std::map<std::string, std::pair<std::string, std::string>> option_codes_;
  std::vector<SafePrivateRow> safe_private_;
};

}  // namespace helix::dicom
