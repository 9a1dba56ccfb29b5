// helix::Error and Result<T>: the one error type every layer returns.
//
// Owns: the closed set of error codes, a message, the JSON paths of invalid
// fields, and a cause. Does not own: mapping to HTTP or AWS error shapes
// (that is the API layer's job) or logging (the core never logs).
//
// Bad input is refused whole: a parser collects every problem it finds as a
// FieldProblem and returns one InvalidInput error listing all of them, so a
// user fixes their definition in one round trip (docs/STYLE.md section 6).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace helix {

enum class ErrorCode {
  kInvalidInput,      // the caller's request or definition is wrong
  kNotFound,          // a named object does not exist
  kConflict,          // the request contradicts current state (e.g. queue not DISABLED)
  kPermissionDenied,  // the caller may not act on this object (not in STYLE's list:
                      // helix is multi-user, and a refusal is neither bad input nor a conflict)
  kUnavailable,       // an environment failure that may pass (store busy, exec failed)
  kCorruption,        // stored or input data that cannot be read
  kInternal,          // a bug; user input must never produce one
};

const char* error_code_name(ErrorCode code);

// One invalid field: "containerProperties.resourceRequirements[1].value" and
// "0 GPUs is below the minimum of 1".
struct FieldProblem {
  std::string path;
  std::string message;

  std::string to_string() const;  // "path: message" (or message alone when path is empty)
  bool operator==(const FieldProblem&) const = default;
};

class Error {
 public:
  Error(ErrorCode code, std::string message, std::string cause = {});

  // An InvalidInput error listing every problem; its message joins them with "; ".
  static Error invalid(std::vector<FieldProblem> problems);
  static Error invalid(std::string path, std::string message);
  static Error not_found(std::string message);
  static Error conflict(std::string message);
  static Error permission_denied(std::string message);
  static Error unavailable(std::string message, std::string cause = {});
  static Error corruption(std::string message, std::string cause = {});
  static Error internal(std::string message);

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& cause() const { return cause_; }
  const std::vector<FieldProblem>& problems() const { return problems_; }

  // message, then ": cause" when there is one.
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string cause_;
  std::vector<FieldProblem> problems_;
};

template <class T>
using Result = tl::expected<T, Error>;

// Shorthand for returning an error from a function returning Result<T>.
inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

// Collects FieldProblems while a parser walks its input.
class Problems {
 public:
  void add(std::string path, std::string message) {
    list_.push_back({std::move(path), std::move(message)});
  }
  void append(const Error& error);  // keeps the problems of an InvalidInput error
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  const std::vector<FieldProblem>& list() const { return list_; }
  Error to_error() const { return Error::invalid(list_); }

 private:
  std::vector<FieldProblem> list_;
};

}  // namespace helix
