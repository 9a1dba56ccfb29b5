#include "common/json_reader.h"

#include <cmath>
#include <sstream>

namespace helix {

std::string json_path(const std::string& parent, const std::string& key) {
  if (parent.empty()) return key;
  return parent + "." + key;
}

std::string json_path_index(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string json_type_phrase(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}

JsonReader::JsonReader(const json& object, std::string path, Problems& problems)
    : object_(object), path_(std::move(path)), problems_(problems), is_object_(object.is_object()) {
  if (!is_object_) {
    problems_.add(path_.empty() ? "request" : path_,
                  "must be a JSON object, got " + json_type_phrase(object));
  }
}

bool JsonReader::has(const std::string& key) const {
  if (!is_object_) return false;
  auto it = object_.find(key);
  return it != object_.end() && !it->is_null();
}

const json* JsonReader::get(const std::string& key) {
  seen_.insert(key);
  if (!is_object_) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> JsonReader::required_string(const std::string& key) {
  const json* v = get(key);
  if (v == nullptr) {
    if (is_object_) problems_.add(field_path(key), "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    problems_.add(field_path(key), "must be a string, got " + json_type_phrase(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::string> JsonReader::optional_string(const std::string& key) {
  const json* v = get(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    problems_.add(field_path(key), "must be a string, got " + json_type_phrase(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

static std::optional<int64_t> read_int(const json& v, const std::string& path, int64_t min,
                                       int64_t max, Problems& problems) {
  int64_t value = 0;
  if (v.is_number_integer()) {
    value = v.get<int64_t>();
  } else if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      problems.add(path, "value is too large");
      return std::nullopt;
    }
    value = static_cast<int64_t>(u);
  } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
             std::fabs(v.get<double>()) < 9e15) {
    value = static_cast<int64_t>(v.get<double>());
  } else {
    problems.add(path, "must be an integer, got " + json_type_phrase(v));
    return std::nullopt;
  }
  if (value < min) {
    problems.add(path, std::to_string(value) + " is below the minimum of " + std::to_string(min));
    return std::nullopt;
  }
  if (value > max) {
    problems.add(path, std::to_string(value) + " is above the maximum of " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> JsonReader::required_int(const std::string& key, int64_t min, int64_t max) {
  const json* v = get(key);
  if (v == nullptr) {
    if (is_object_) problems_.add(field_path(key), "is required");
    return std::nullopt;
  }
  return read_int(*v, field_path(key), min, max, problems_);
}

std::optional<int64_t> JsonReader::optional_int(const std::string& key, int64_t min, int64_t max) {
  const json* v = get(key);
  if (v == nullptr) return std::nullopt;
  return read_int(*v, field_path(key), min, max, problems_);
}

std::optional<double> JsonReader::optional_number(const std::string& key, double min, double max) {
  const json* v = get(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    problems_.add(field_path(key), "must be a number, got " + json_type_phrase(*v));
    return std::nullopt;
  }
  double value = v->get<double>();
  if (value < min || value > max) {
    std::ostringstream msg;
    msg << value << " is outside the range " << min << " to " << max;
    problems_.add(field_path(key), msg.str());
    return std::nullopt;
  }
  return value;
}

std::optional<bool> JsonReader::optional_bool(const std::string& key) {
  const json* v = get(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    problems_.add(field_path(key), "must be a boolean, got " + json_type_phrase(*v));
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::vector<std::string>> JsonReader::optional_string_list(const std::string& key) {
  const json* v = get(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    problems_.add(field_path(key), "must be an array of strings, got " + json_type_phrase(*v));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool good = true;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) {
      problems_.add(json_path_index(field_path(key), i),
                    "must be a string, got " + json_type_phrase(e));
      good = false;
      continue;
    }
    out.push_back(e.get<std::string>());
  }
  if (!good) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> JsonReader::optional_string_map(
    const std::string& key) {
  const json* v = get(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    problems_.add(field_path(key), "must be an object of strings, got " + json_type_phrase(*v));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool good = true;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_string()) {
      problems_.add(json_path(field_path(key), it.key()),
                    "must be a string, got " + json_type_phrase(it.value()));
      good = false;
      continue;
    }
    out[it.key()] = it.value().get<std::string>();
  }
  if (!good) return std::nullopt;
  return out;
}

const json* JsonReader::optional_object(const std::string& key) {
  const json* v = get(key);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    problems_.add(field_path(key), "must be an object, got " + json_type_phrase(*v));
    return nullptr;
  }
  return v;
}

const json* JsonReader::optional_array(const std::string& key) {
  const json* v = get(key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    problems_.add(field_path(key), "must be an array, got " + json_type_phrase(*v));
    return nullptr;
  }
  return v;
}

void JsonReader::unsupported(const std::string& key, const std::string& why) {
  const json* v = get(key);
  if (v != nullptr) problems_.add(field_path(key), why);
}

void JsonReader::reject_unknown() {
  if (!is_object_) return;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (seen_.count(it.key()) == 0) problems_.add(field_path(it.key()), "unknown field");
  }
}

}  // namespace helix
