// StrongId<Tag>: a string id that cannot be mixed up with another kind of id
// (a JobId is not a queue name). Ids are compared and hashed by value.
#pragma once

#include <compare>
#include <functional>
#include <ostream>
#include <string>
#include <utility>

namespace helix {

template <class Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }

  auto operator<=>(const StrongId&) const = default;
  bool operator==(const StrongId&) const = default;

 private:
  std::string value_;
};

template <class Tag>
std::ostream& operator<<(std::ostream& os, const StrongId<Tag>& id) {
  return os << id.str();
}

}  // namespace helix

template <class Tag>
struct std::hash<helix::StrongId<Tag>> {
  size_t operator()(const helix::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
