#include "common/error.h"

namespace helix {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return "InvalidInput";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kConflict:
      return "Conflict";
    case ErrorCode::kPermissionDenied:
      return "PermissionDenied";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kCorruption:
      return "Corruption";
    case ErrorCode::kInternal:
      return "Internal";
  }
  return "Internal";
}

std::string FieldProblem::to_string() const {
  if (path.empty()) return message;
  return path + ": " + message;
}

Error::Error(ErrorCode code, std::string message, std::string cause)
    : code_(code), message_(std::move(message)), cause_(std::move(cause)) {}

Error Error::invalid(std::vector<FieldProblem> problems) {
  std::string message;
  for (const auto& p : problems) {
    if (!message.empty()) message += "; ";
    message += p.to_string();
  }
  Error e(ErrorCode::kInvalidInput, message.empty() ? "invalid input" : message);
  e.problems_ = std::move(problems);
  return e;
}

Error Error::invalid(std::string path, std::string message) {
  return invalid(std::vector<FieldProblem>{{std::move(path), std::move(message)}});
}

Error Error::not_found(std::string message) {
  return Error(ErrorCode::kNotFound, std::move(message));
}
Error Error::conflict(std::string message) {
  return Error(ErrorCode::kConflict, std::move(message));
}
Error Error::permission_denied(std::string message) {
  return Error(ErrorCode::kPermissionDenied, std::move(message));
}
Error Error::unavailable(std::string message, std::string cause) {
  return Error(ErrorCode::kUnavailable, std::move(message), std::move(cause));
}
Error Error::corruption(std::string message, std::string cause) {
  return Error(ErrorCode::kCorruption, std::move(message), std::move(cause));
}
Error Error::internal(std::string message) {
  return Error(ErrorCode::kInternal, std::move(message));
}

std::string Error::to_string() const {
  if (cause_.empty()) return message_;
  return message_ + ": " + cause_;
}

void Problems::append(const Error& error) {
  if (error.problems().empty()) {
    add("", error.message());
    return;
  }
  for (const auto& p : error.problems()) list_.push_back(p);
}

}  // namespace helix
