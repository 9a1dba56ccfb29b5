// Template: a payload compiled once at definition time and evaluated per
// state run. Two flavours, as in the ASL:
//  - JSONPath payload templates (Parameters, ResultSelector, ItemSelector,
//    JSONPath Assign): keys ending in ".$" take a path ("$.a", "$$.x",
//    "$var") or an intrinsic call; other values are copied.
//  - JSONata templates (Arguments, Output, Assign, Items, ...): any string
//    "{% expr %}" at any depth is replaced by the expression's value.
// Errors at evaluation are AslError values (States.Runtime,
// States.IntrinsicFailure, States.QueryEvaluationError).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pipelines/engine/intrinsics.h"
#include "pipelines/engine/scope.h"

namespace helix::jsonata {
class Expression;
}

namespace helix::asl {

class Template {
 public:
  Template() = default;
  static tl::expected<Template, std::string> compile_payload(const Json& source);
  static tl::expected<Template, std::string> compile_jsonata(const Json& source);
  // A single JSONPath value such as ItemsPath's: "$.items" read as a path.
  static Template literal(Json value);

  AslResult<Json> evaluate(const Scope& scope) const;
  bool is_literal() const;
  // Whether evaluation reads the context object.
  bool uses_context() const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

// True when text is "{% ... %}".
bool is_jsonata_string(const std::string& text);

// Evaluates one compiled JSONata expression with $states built from scope.
// undefined comes back as nullopt.
AslResult<std::optional<Json>> evaluate_jsonata(const jsonata::Expression& expression,
                                                const Scope& scope);

}  // namespace helix::asl
