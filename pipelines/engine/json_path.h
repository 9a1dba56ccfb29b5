// JsonPath: the JSONPath subset Step Functions accepts, parsed once at
// definition time and evaluated many times without copying the document.
//
// Owns: parsing ("$", "$.a.b", "$['a b']", "$[0]", "$[*]", "$[1:5]",
// "$[?(@.x == 0)]", "$$.Execution.Input", "$var.field"), evaluation, and
// writing a value at a reference path (ResultPath). Does not own: which
// document a root names (the caller passes input, context or a variable).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipelines/engine/asl_error.h"

namespace helix::asl {

using Json = nlohmann::json;

enum class PathRoot {
  kInput,     // "$..."
  kContext,   // "$$..."
  kVariable,  // "$name..." (a variable set by Assign)
};

struct PathSegment {
  enum class Kind { kField, kIndex, kWildcard, kSlice, kFilter };
  Kind kind = Kind::kField;
  std::string name;   // kField; kFilter: the field after "@." (empty: "@" itself)
  int64_t index = 0;  // kIndex
  std::optional<int64_t> slice_start, slice_end;
  int64_t slice_step = 1;
  std::string filter_op;  // kFilter: "==", "!=", "<", "<=", ">", ">=" or "" (existence)
  Json filter_value;
};

class JsonPath {
 public:
  // Parses text; the error message names what is wrong ("unexpected ']'").
  static tl::expected<JsonPath, std::string> parse(std::string_view text);

  PathRoot root() const { return root_; }
  const std::string& variable() const { return variable_; }
  const std::string& text() const { return text_; }
  const std::vector<PathSegment>& segments() const { return segments_; }
  // A reference path: no wildcard, slice or filter; names at most one node.
  bool is_definite() const { return definite_; }

  // Definite paths: the node, or nullptr when a step is missing.
  const Json* find(const Json& document) const;
  // Any path: definite -> the node; indefinite -> the array of matches.
  // nullopt when a definite path is missing.
  std::optional<Json> evaluate(const Json& document) const;

  // Writes value at this definite path under target, creating objects on
  // the way ("$" replaces target). Error: States.ResultPathMatchFailure
  // when a step crosses a non-object.
  AslResult<void> assign(Json& target, Json value) const;

 private:
  PathRoot root_ = PathRoot::kInput;
  std::string variable_;
  std::string text_;
  std::vector<PathSegment> segments_;
  bool definite_ = true;
};

// True when text looks like a path for the purposes of ".$" fields.
inline bool looks_like_path(std::string_view text) { return !text.empty() && text[0] == '$'; }

}  // namespace helix::asl
