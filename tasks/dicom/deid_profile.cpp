#include "tasks/dicom/deid_profile.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace helix::dicom {

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
    std::uint16_t parts[2] = {0, 0};
    const std::string* texts[2] = {&group, &element};
    for (int i = 0; i < 2; ++i) {
      std::uint16_t value = 0;
      for (char c : *texts[i]) {
        const int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                          : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                          : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                                      : -1;
        if (digit < 0) return fail(Error::invalid(path, "group and element must be hex"));
        value = static_cast<std::uint16_t>((value << 4) | digit);
      }
      parts[i] = value;
    }
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
