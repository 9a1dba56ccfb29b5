// JsonReader: reads one JSON object of a request or definition, field by
// field, recording every problem with its JSON path instead of stopping at
// the first (bad input is refused whole, listing all problems).
//
// Owns nothing; the JSON and the Problems list outlive the reader. Pure.
//
//   Problems problems;
//   JsonReader r(body, "", problems);
//   auto name = r.required_string("jobName");      // "jobName: is required"
//   auto size = r.optional_int("size", 2, 10000);  // "size: 1 is below the minimum of 2"
//   r.reject_unknown();                             // "colour: unknown field"
//   if (!problems.empty()) return fail(problems.to_error());
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace helix {

using json = nlohmann::json;

// "a.b" from ("a", "b"); "b" from ("", "b"); "a[3]" from index().
std::string json_path(const std::string& parent, const std::string& key);
std::string json_path_index(const std::string& parent, size_t index);

// The JSON type name used in messages: "a string", "an integer", ...
std::string json_type_phrase(const json& value);

class JsonReader {
 public:
  // Records "<path>: must be an object" when `object` is not one; every
  // accessor then returns nothing.
  JsonReader(const json& object, std::string path, Problems& problems);

  bool ok() const { return is_object_; }
  const std::string& path() const { return path_; }
  Problems& problems() { return problems_; }
  bool has(const std::string& key) const;
  std::string field_path(const std::string& key) const { return json_path(path_, key); }
  // The raw value, or nullptr when absent (JSON null counts as absent, as botocore never sends it).
  const json* get(const std::string& key);

  std::optional<std::string> required_string(const std::string& key);
  std::optional<std::string> optional_string(const std::string& key);
  std::optional<int64_t> required_int(const std::string& key, int64_t min, int64_t max);
  std::optional<int64_t> optional_int(const std::string& key, int64_t min, int64_t max);
  std::optional<double> optional_number(const std::string& key, double min, double max);
  std::optional<bool> optional_bool(const std::string& key);
  // A JSON array of strings; each element is checked.
  std::optional<std::vector<std::string>> optional_string_list(const std::string& key);
  // A JSON object whose values are all strings (tags, parameters).
  std::optional<std::map<std::string, std::string>> optional_string_map(const std::string& key);
  // A nested object or array: nullptr when absent, records a problem on a wrong type.
  const json* optional_object(const std::string& key);
  const json* optional_array(const std::string& key);

  // Marks a field as known but not supported by helix yet: a present value is
  // refused with "<path>: <why>".
  void unsupported(const std::string& key, const std::string& why);

  // Records "<path>: unknown field" for every key no accessor or unsupported()
  // touched. Call last.
  void reject_unknown();

 private:
  const json& object_;
  std::string path_;
  Problems& problems_;
  bool is_object_;
  std::set<std::string> seen_;
};

}  // namespace helix
