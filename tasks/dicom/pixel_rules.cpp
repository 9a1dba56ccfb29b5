#include "tasks/dicom/pixel_rules.h"

#include <fnmatch.h>

#include <nlohmann/json.hpp>

namespace helix::dicom {

namespace {

using nlohmann::json;

// DICOM sizes are US (16 bits): anything outside is a typo, not an image.
constexpr std::int64_t kMaxSide = 65535;

Result<std::uint32_t> side(const json& object, const std::string& key, const std::string& path,
                           std::int64_t low) {
  const auto found = object.find(key);
  if (found == object.end()) return fail(Error::invalid(path + "." + key, "is required"));
  if (!found->is_number_integer() || found->get<std::int64_t>() < low ||
      found->get<std::int64_t>() > kMaxSide) {
    return fail(Error::invalid(path + "." + key,
                               "must be an integer from " + std::to_string(low) + " to 65535"));
  }
  return static_cast<std::uint32_t>(found->get<std::int64_t>());
}

bool glob_matches(const std::optional<std::string>& pattern, const std::string& value) {
  return !pattern || fnmatch(pattern->c_str(), value.c_str(), 0) == 0;
}

}  // namespace

bool PixelRule::matches(const ImageFacts& facts) const {
  return glob_matches(modality, facts.modality) && glob_matches(manufacturer, facts.manufacturer) &&
         glob_matches(model, facts.model) && (!rows || *rows == facts.rows) &&
         (!columns || *columns == facts.columns);
}

Result<PixelRules> PixelRules::parse(std::string_view json_text) {
  const json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return fail(Error::invalid("pixel rules", "not valid JSON"));
  if (!doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array()) {
    return fail(Error::invalid("rules", "must be an array of rules"));
  }
  PixelRules parsed;
  for (std::size_t i = 0; i < doc["rules"].size(); ++i) {
    const json& entry = doc["rules"][i];
    const std::string path = "rules[" + std::to_string(i) + "]";
    if (!entry.is_object()) return fail(Error::invalid(path, "must be an object"));
    for (const auto& [key, value] : entry.items()) {
      if (key != "name" && key != "match" && key != "regions")
        return fail(Error::invalid(path + "." + key, "is not a rule field"));
    }
    PixelRule rule;
    if (!entry.contains("name") || !entry["name"].is_string() ||
        entry["name"].get<std::string>().empty()) {
      return fail(Error::invalid(path + ".name", "must be a non-empty string"));
    }
    rule.name = entry["name"];
    const json match = entry.value("match", json::object());
    if (!match.is_object()) return fail(Error::invalid(path + ".match", "must be an object"));
    for (const auto& [key, value] : match.items()) {
      const std::string at = path + ".match." + key;
      if (key == "Rows" || key == "Columns") {
        auto size = side(match, key, path + ".match", 1);
        if (!size) return fail(size.error());
        (key == "Rows" ? rule.rows : rule.columns) = *size;
      } else if (key == "Modality" || key == "Manufacturer" || key == "ManufacturerModelName") {
        if (!value.is_string()) return fail(Error::invalid(at, "must be a string"));
        (key == "Modality"       ? rule.modality
         : key == "Manufacturer" ? rule.manufacturer
                                 : rule.model) = value.get<std::string>();
      } else {
        return fail(Error::invalid(
            at,
            "is not a match key (Modality, Manufacturer, ManufacturerModelName, Rows, "
            "Columns)"));
      }
    }
    if (!entry.contains("regions") || !entry["regions"].is_array() || entry["regions"].empty()) {
      return fail(Error::invalid(path + ".regions", "must be a non-empty array"));
    }
    for (std::size_t r = 0; r < entry["regions"].size(); ++r) {
      const json& region = entry["regions"][r];
      const std::string at = path + ".regions[" + std::to_string(r) + "]";
      if (!region.is_object()) return fail(Error::invalid(at, "must be an object"));
      auto x = side(region, "x", at, 0);
      auto y = side(region, "y", at, 0);
      auto width = side(region, "width", at, 1);
      auto height = side(region, "height", at, 1);
      for (const auto* part : {&x, &y, &width, &height}) {
        if (!*part) return fail(part->error());
      }
      rule.regions.push_back({*x, *y, *width, *height});
    }
    parsed.rules_.push_back(std::move(rule));
  }
  return parsed;
}

const PixelRule* PixelRules::match(const ImageFacts& facts) const {
  for (const auto& rule : rules_) {
    if (rule.matches(facts)) return &rule;
  }
  return nullptr;
}

}  // namespace helix::dicom
