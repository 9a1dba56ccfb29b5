// ChoiceRule: one Choice state rule (comparison, And/Or/Not, or a JSONata
// Condition) compiled from the definition and tested against a Scope.
// A missing Variable path is States.Runtime except under IsPresent; a
// value of the wrong type makes a comparison false (ASL spec, "Choice
// Rules").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipelines/engine/payload.h"

namespace helix::asl {

struct ChoiceRule {
  std::string op;  // "StringEquals", "NumericLessThanPath", "And", "Condition", ...
  std::optional<JsonPath> variable;
  Json value;                           // the literal operand
  std::optional<JsonPath> value_path;   // the operand of a ...Path operator
  std::vector<ChoiceRule> children;     // And, Or, Not
  std::shared_ptr<Template> condition;  // JSONata Condition
  std::string next;                     // top-level rules only
  std::shared_ptr<Template> assign;     // top-level rules: Assign when chosen
  std::shared_ptr<Template> output;     // JSONata: Output when chosen
};

// Compiles one rule. is_jsonata: the rule must be {"Condition": ...}.
// Errors name the problem; path is where it was found ("/States/C/Choices/0").
tl::expected<ChoiceRule, std::string> compile_choice_rule(const Json& source, bool is_jsonata,
                                                          bool top_level);

AslResult<bool> test_choice_rule(const ChoiceRule& rule, const Scope& scope);

// RFC 3339 timestamp text to microseconds since the epoch; nullopt when
// the text is not one ("2016-03-14T01:59:00Z", offsets and fractions ok).
std::optional<int64_t> parse_timestamp_us(const std::string& text);

}  // namespace helix::asl
