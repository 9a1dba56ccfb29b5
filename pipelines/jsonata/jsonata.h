// JSONata (https://docs.jsonata.org, version 2.0 semantics) evaluated over
// nlohmann::json, for the Amazon States Language's JSONata query language.
//
// Owns: parsing an expression to an immutable tree, evaluating it against
// an input and bindings, the standard function library, and the functions
// Step Functions adds ($partition, $range, $hash, $random, $uuid, $parse).
// Does not own: the "{% ... %}" delimiters, $states or Assign (the ASL
// engine binds them as variables), or reading the clock or a random source:
// "now" and the Rng arrive in the Environment (docs/STYLE.md section 2).
//
// Thread safety: a compiled Expression is immutable and may be evaluated
// from several threads at once, each with its own Environment.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "common/rng.h"
#include "common/time.h"

namespace helix::jsonata {

// A JSONata error: its code from the JSONata error catalogue ("S0201" for a
// syntax error, "T2002" for a bad operand type, "D3030" ...) where one
// exists, the character position in the expression (-1 when unknown), and
// a message in JSONata's wording with the values filled in.
struct EvalError {
  std::string code;
  std::string message;
  int position = -1;
};

// What an evaluation may read besides its input. `variables` are bound at
// the outermost scope without the leading '$' ("states" -> {...}).
struct Environment {
  std::map<std::string, nlohmann::json> variables;
  TimePoint now{};     // for $now() and $millis(): fixed for one evaluation
  Rng* rng = nullptr;  // for $random() and $uuid(); an error if needed and null
  // Variables bound without a copy: the caller keeps each pointee alive and
  // unchanged until evaluate() returns (e.g. "states" -> the engine's own
  // state document, so "{% $states.input %}" copies nothing on the way in).
  // A name present in `variables` too is read from `variables`.
  std::map<std::string, const nlohmann::json*> borrowed_variables;
};

class Expression {
 public:
  // Parses `text`. Errors: EvalError with a syntax code (S0xxx) and position.
  static tl::expected<Expression, EvalError> compile(std::string_view text);

  // Evaluates against `input` (nullptr: no input, "$" is undefined).
  // Returns nullopt when the result is JSONata's "undefined" (no match),
  // which callers must distinguish from JSON null.
  tl::expected<std::optional<nlohmann::json>, EvalError> evaluate(const nlohmann::json* input,
                                                                  const Environment& env) const;

  const std::string& text() const { return text_; }

  struct Node;  // the parse tree; defined in the implementation

 private:
  Expression(std::string text, std::shared_ptr<const Node> root);
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace helix::jsonata
