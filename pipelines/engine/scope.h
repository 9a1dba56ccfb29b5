// Scope: what a path, intrinsic or JSONata expression may read while one
// state runs: its input, the context object ($$), the variables visible
// from the state, and the injected now/Rng. Built by the interpreter, read
// by payload templates and Choice rules; owns nothing it points to.
#pragma once

#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/rng.h"
#include "common/time.h"
#include "pipelines/engine/asl_error.h"
#include "pipelines/engine/json_path.h"

namespace helix::asl {

struct Scope {
  const Json* input = nullptr;
  // The context object, built on first use (most states never read it).
  std::function<const Json&()> context;
  // A variable by name, nullptr when it is not set in any visible scope.
  std::function<const Json*(std::string_view)> variable;
  // Every visible variable (innermost wins) for JSONata bindings.
  std::function<void(const std::function<void(const std::string&, const Json*)>&)> each_variable;
  // JSONata's $states.result / errorOutput where the state defines them.
  const Json* result = nullptr;
  const Json* error_output = nullptr;
  Rng* rng = nullptr;
  TimePoint now{};
};

// Resolves path against the document its root names. nullopt: missing.
std::optional<Json> resolve_path(const JsonPath& path, const Scope& scope);

}  // namespace helix::asl
