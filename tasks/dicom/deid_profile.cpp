#include "tasks/dicom/deid_profile.h"

#include <cctype>

#include <nlohmann/json.hpp>
#include <optional>

namespace helix::dicom {

namespace {

// Up to four hex digits, nothing else.
std::optional<std::uint16_t> hex16(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  std::uint16_t value = 0;
  for (char c : text) {
    const int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                      : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                                  : -1;
    if (digit < 0) return std::nullopt;
    value = static_cast<std::uint16_t>((value << 4) | digit);
  }
  return value;
}

}  // namespace

namespace {

// Rank of an action by how much it keeps: K keeps most.
int keep_rank(const std::string& action) {
  if (action == "K") return 2;
  if (action == "C") return 1;
  return 0;
}

}  // namespace

Result<Profile> Profile::parse(std::string_view json_text) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(Error::invalid("$", "profile is not a JSON object"));
  }
  if (!doc.contains("attributes") || !doc["attributes"].is_array()) {
    return fail(Error::invalid("$.attributes", "must be an array"));
  }
  Profile profile;
  if (doc.contains("options") && doc["options"].is_array()) {
    for (const auto& option : doc["options"]) {
      if (option.contains("key") && option["key"].is_string()) {
        const std::string key = option["key"].get<std::string>();
        profile.option_keys_.insert(key);
        if (option.contains("code") && option["code"].is_string()) {
          profile.option_codes_[key] = {option["code"].get<std::string>(),
                                        option.value("meaning", std::string())};
        }
      }
    }
  }
  std::size_t index = 0;
  for (const auto& row : doc["attributes"]) {
    const std::string path = "$.attributes[" + std::to_string(index++) + "]";
    if (!row.is_object() || row.value("match", "") != "exact") continue;
    const std::string group = row.value("group", "");
    const std::string element = row.value("element", "");
    if (group.size() != 4 || element.size() != 4) {
      return fail(Error::invalid(path, "group and element must be 4 hex digits"));
    }
    ProfileRow parsed;
    const auto high = hex16(group), low = hex16(element);
    if (!high || !low) return fail(Error::invalid(path, "group and element must be hex"));
    const std::uint16_t parts[2] = {*high, *low};
    parsed.tag = make_tag(parts[0], parts[1]);
    parsed.keyword = row.value("keyword", "");
    parsed.vr = row.value("vr", "");
    parsed.basic_action = row.value("basic_action", "");
    if (parsed.basic_action.empty()) {
      return fail(Error::invalid(path + ".basic_action", "must be a non-empty string"));
    }
    if (row.contains("options") && row["options"].is_object()) {
      for (const auto& [key, value] : row["options"].items()) {
        if (value.is_string()) parsed.option_actions[key] = value.get<std::string>();
      }
    }
    profile.rows_[parsed.tag] = std::move(parsed);
  }
  // PS3.15 Table E.3.10-1 (the extract's sample): what Retain Safe Private
  // may keep, as (creator, group, low element byte).
  index = 0;
  for (const auto& row :
       doc.value("safe_private_attributes_sample_2020", nlohmann::json::array())) {
    const std::string path =
        "$.safe_private_attributes_sample_2020[" + std::to_string(index++) + "]";
    const std::string tag = row.is_object() ? row.value("element", "") : "";
    const std::string creator = row.is_object() ? row.value("private_creator", "") : "";
    // "(7053,xx00)": the block byte is the creator's, so only "00" counts.
    const auto group = tag.size() == 11 ? hex16(tag.substr(1, 4)) : std::nullopt;
    const auto low =
        tag.size() == 11 && tag.substr(6, 2) == "xx" ? hex16(tag.substr(8, 2)) : std::nullopt;
    if (!group || !low || creator.empty() || !(*group & 1)) {
      return fail(Error::invalid(path, "must name a private (gggg,xxee) element and its creator"));
    }
    profile.safe_private_.push_back({creator, *group, static_cast<std::uint8_t>(*low)});
  }
  return profile;
}

std::pair<std::string, std::string> Profile::option_code(const std::string& key) const {
  auto found = option_codes_.find(key);
  return found == option_codes_.end() ? std::pair<std::string, std::string>() : found->second;
}

const ProfileRow* Profile::row(Tag tag) const {
  auto found = rows_.find(tag);
  return found == rows_.end() ? nullptr : &found->second;
}

std::string Profile::action(Tag tag, const std::set<std::string>& options) const {
  const ProfileRow* found = row(tag);
  if (found == nullptr) return {};
  std::string chosen = found->basic_action;
  bool from_option = false;
  for (const auto& option : options) {
    auto entry = found->option_actions.find(option);
    if (entry == found->option_actions.end()) continue;
    if (!from_option || keep_rank(entry->second) > keep_rank(chosen)) {
      chosen = entry->second;
      from_option = true;
    }
  }
  return chosen;
}

}  // namespace helix::dicom
