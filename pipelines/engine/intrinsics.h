// Intrinsic functions (States.Format, States.Array, ... , States.UUID):
// parsed once from a ".$" field's string, evaluated against a Scope.
//
// Errors follow Step Functions: a call with bad arguments fails the state
// with States.IntrinsicFailure (missing path arguments with
// States.Runtime); a malformed call is refused when the definition is
// parsed. MathRandom and UUID draw from the Scope's injected Rng.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipelines/engine/scope.h"

namespace helix::asl {

struct IntrinsicCall;

struct IntrinsicArg {
  enum class Kind { kLiteral, kPath, kCall };
  Kind kind = Kind::kLiteral;
  Json literal;
  std::shared_ptr<JsonPath> path;
  std::shared_ptr<IntrinsicCall> call;
};

struct IntrinsicCall {
  std::string name;  // "States.Format"
  std::vector<IntrinsicArg> args;
};

bool looks_like_intrinsic(std::string_view text);

// Parses "States.Name(arg, ...)". Error: a message naming the problem.
tl::expected<IntrinsicCall, std::string> parse_intrinsic(std::string_view text);

AslResult<Json> evaluate_intrinsic(const IntrinsicCall& call, const Scope& scope);

}  // namespace helix::asl
