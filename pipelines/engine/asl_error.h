// AslError: an ASL runtime error as a value (States.Runtime, a Fail state's
// error, a task's error), carried to Retry/Catch matching and to the
// execution outcome. Not a helix::Error: these are expected outcomes that a
// definition may Catch (docs/STYLE.md section 6.1).
#pragma once

#include <optional>
#include <string>

#include <tl/expected.hpp>

namespace helix::asl {

struct AslError {
  std::string error;                 // "States.Runtime", "MyError", ...
  std::optional<std::string> cause;  // absent when neither AWS nor the user gave one
};

template <class T>
using AslResult = tl::expected<T, AslError>;

inline tl::unexpected<AslError> asl_fail(std::string error, std::string cause) {
  return tl::unexpected<AslError>(AslError{std::move(error), std::move(cause)});
}

}  // namespace helix::asl
