#include "queues/resources.h"

#include <charconv>

#include "common/json_reader.h"

namespace helix::queues {

ResourceRequirements ResourceRequirements::overridden_by(const ResourceRequirements& over) const {
  ResourceRequirements out = *this;
  if (over.vcpus) out.vcpus = over.vcpus;
  if (over.memory_mib) out.memory_mib = over.memory_mib;
  if (over.gpus) out.gpus = over.gpus;
  return out;
}

namespace {

struct TypeRule {
  const char* type;
  int64_t min;
  int64_t max;
  const char* unit;
};

// Maximums only guard against overflow; real capacity is checked by the scheduler.
constexpr TypeRule kRules[] = {
    {"VCPU", 1, 1'000'000, "vCPUs"},
    {"MEMORY", 4, int64_t{1} << 40, "MiB"},
    {"GPU", 1, 1'024, "GPUs"},
};

std::optional<int64_t> parse_value(const std::string& text, const TypeRule& rule,
                                   const std::string& path, Problems& problems) {
  int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec != std::errc() || ptr != last) {
    if (std::string(rule.type) == "VCPU" && text.find('.') != std::string::npos) {
      problems.add(path, "\"" + text +
                             "\": VCPU must be a whole number of at least 1 (fractional vCPUs "
                             "exist only on Fargate)");
    } else {
      problems.add(path, "\"" + text + "\" is not a whole number of " + rule.unit);
    }
    return std::nullopt;
  }
  if (value < rule.min) {
    problems.add(path, std::to_string(value) + " " + rule.unit + " is below the minimum of " +
                           std::to_string(rule.min));
    return std::nullopt;
  }
  if (value > rule.max) {
    problems.add(path, std::to_string(value) + " " + rule.unit + " is above the maximum of " +
                           std::to_string(rule.max));
    return std::nullopt;
  }
  return value;
}

}  // namespace

ResourceRequirements parse_resource_requirements(const nlohmann::json& array,
                                                 const std::string& path, Problems& problems) {
  ResourceRequirements out;
  if (!array.is_array()) {
    problems.add(path, "must be an array, got " + json_type_phrase(array));
    return out;
  }
  for (size_t i = 0; i < array.size(); ++i) {
    const std::string item_path = json_path_index(path, i);
    JsonReader r(array[i], item_path, problems);
    auto type = r.required_string("type");
    auto value = r.required_string("value");
    r.reject_unknown();
    if (!type || !value) continue;
    const TypeRule* rule = nullptr;
    for (const auto& candidate : kRules) {
      if (*type == candidate.type) rule = &candidate;
    }
    if (rule == nullptr) {
      problems.add(json_path(item_path, "type"),
                   "\"" + *type + "\" is not one of VCPU, MEMORY, GPU");
      continue;
    }
    std::optional<int64_t>* slot = *type == "VCPU"     ? &out.vcpus
                                   : *type == "MEMORY" ? &out.memory_mib
                                                       : &out.gpus;
    if (slot->has_value()) {
      problems.add(json_path(item_path, "type"), *type + " is given more than once");
      continue;
    }
    *slot = parse_value(*value, *rule, json_path(item_path, "value"), problems);
  }
  return out;
}

nlohmann::json resource_requirements_to_wire(const ResourceRequirements& r) {
  nlohmann::json out = nlohmann::json::array();
  if (r.vcpus) out.push_back({{"type", "VCPU"}, {"value", std::to_string(*r.vcpus)}});
  if (r.memory_mib) out.push_back({{"type", "MEMORY"}, {"value", std::to_string(*r.memory_mib)}});
  if (r.gpus) out.push_back({{"type", "GPU"}, {"value", std::to_string(*r.gpus)}});
  return out;
}

nlohmann::json resource_request_to_wire(const ResourceRequest& r) {
  ResourceRequirements as_requirements{r.vcpus, r.memory_mib,
                                       r.gpus > 0 ? std::optional<int64_t>(r.gpus) : std::nullopt};
  return resource_requirements_to_wire(as_requirements);
}

}  // namespace helix::queues
