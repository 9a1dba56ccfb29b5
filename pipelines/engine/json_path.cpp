#include "pipelines/engine/json_path.h"

#include <cctype>
#include <charconv>

namespace helix::asl {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void skip_spaces() {
    while (!done() && std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
  }
  std::string identifier() {
    size_t start = pos_;
    while (!done()) {
      char c = peek();
      if (c == '.' || c == '[' || c == ']' || c == ' ' || c == '(' || c == ')' || c == '=' ||
          c == '<' || c == '>' || c == '!')
        break;
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }
  std::optional<std::string> quoted() {
    char quote = peek();
    if (quote != '\'' && quote != '"') return std::nullopt;
    ++pos_;
    std::string out;
    while (!done() && peek() != quote) {
      // A backslash escapes only the quote itself; otherwise it is literal
      // (recorded: $['Test\\""Name"'] names the key Test\\""Name").
      if (peek() == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == quote) ++pos_;
      out += text_[pos_++];
    }
    if (!eat(quote)) return std::nullopt;
    return out;
  }
  std::optional<int64_t> integer() {
    size_t start = pos_;
    if (peek() == '-') ++pos_;
    while (!done() && std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    if (pos_ == start || (pos_ == start + 1 && text_[start] == '-')) {
      pos_ = start;
      return std::nullopt;
    }
    // An index past int64 ($[99999999999999999999]) is not a path (std::stoll
    // would throw; found by tests/fuzz/json_path_fuzz).
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (ec != std::errc() || end != text_.data() + pos_) {
      pos_ = start;
      return std::nullopt;
    }
    return value;
  }
  std::optional<Json> literal() {
    skip_spaces();
    if (auto q = quoted()) return Json(*q);
    size_t start = pos_;
    while (!done() && peek() != ')' && !std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
    auto word = text_.substr(start, pos_ - start);
    Json value = Json::parse(word, nullptr, false);
    if (value.is_discarded()) return std::nullopt;
    return value;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool compare_filter(const Json& left, const std::string& op, const Json& right) {
  if (op == "==") return left == right;
  if (op == "!=") return left != right;
  if (left.is_number() && right.is_number()) {
    double a = left.get<double>(), b = right.get<double>();
    if (op == "<") return a < b;
    if (op == "<=") return a <= b;
    if (op == ">") return a > b;
    if (op == ">=") return a >= b;
  }
  if (left.is_string() && right.is_string()) {
    const auto& a = left.get_ref<const std::string&>();
    const auto& b = right.get_ref<const std::string&>();
    if (op == "<") return a < b;
    if (op == "<=") return a <= b;
    if (op == ">") return a > b;
    if (op == ">=") return a >= b;
  }
  return false;
}

void collect(const Json& node, const std::vector<PathSegment>& segments, size_t i, Json& out) {
  if (i == segments.size()) {
    out.push_back(node);
    return;
  }
  const PathSegment& seg = segments[i];
  switch (seg.kind) {
    case PathSegment::Kind::kField:
      if (node.is_object()) {
        auto it = node.find(seg.name);
        if (it != node.end()) collect(*it, segments, i + 1, out);
      }
      return;
    case PathSegment::Kind::kIndex:
      if (node.is_array()) {
        int64_t n = static_cast<int64_t>(node.size());
        int64_t k = seg.index < 0 ? n + seg.index : seg.index;
        if (k >= 0 && k < n) collect(node[static_cast<size_t>(k)], segments, i + 1, out);
      }
      return;
    case PathSegment::Kind::kWildcard:
      if (node.is_array() || node.is_object())
        for (const auto& child : node) collect(child, segments, i + 1, out);
      return;
    case PathSegment::Kind::kSlice: {
      if (!node.is_array()) return;
      int64_t n = static_cast<int64_t>(node.size());
      int64_t start = seg.slice_start.value_or(0), end = seg.slice_end.value_or(n);
      if (start < 0) start = std::max<int64_t>(0, n + start);
      if (end < 0) end = std::max<int64_t>(0, n + end);
      end = std::min(end, n);
      int64_t step = seg.slice_step <= 0 ? 1 : seg.slice_step;
      for (int64_t k = start; k < end; k += step)
        collect(node[static_cast<size_t>(k)], segments, i + 1, out);
      return;
    }
    case PathSegment::Kind::kFilter: {
      auto test = [&](const Json& child) {
        const Json* subject = &child;
        if (!seg.name.empty()) {
          if (!child.is_object()) return false;
          auto it = child.find(seg.name);
          if (it == child.end()) return false;
          subject = &*it;
        }
        if (seg.filter_op.empty()) return true;
        return compare_filter(*subject, seg.filter_op, seg.filter_value);
      };
      if (node.is_array()) {
        for (const auto& child : node)
          if (test(child)) collect(child, segments, i + 1, out);
      }
      return;
    }
  }
}

}  // namespace

tl::expected<JsonPath, std::string> JsonPath::parse(std::string_view text) {
  JsonPath path;
  path.text_ = std::string(text);
  Parser p(text);
  if (!p.eat('$')) return tl::unexpected(std::string("a path must start with '$'"));
  if (p.eat('$')) {
    path.root_ = PathRoot::kContext;
  } else if (!p.done() && p.peek() != '.' && p.peek() != '[') {
    path.root_ = PathRoot::kVariable;
    path.variable_ = p.identifier();
    if (path.variable_.empty()) return tl::unexpected(std::string("empty variable name"));
  }
  while (!p.done()) {
    PathSegment seg;
    if (p.eat('.')) {
      if (p.eat('*')) {
        seg.kind = PathSegment::Kind::kWildcard;
      } else {
        seg.name = p.identifier();
        if (seg.name.empty()) return tl::unexpected(std::string("empty field name"));
      }
    } else if (p.eat('[')) {
      p.skip_spaces();
      if (p.eat('*')) {
        seg.kind = PathSegment::Kind::kWildcard;
      } else if (auto q = p.quoted()) {
        seg.name = *q;
      } else if (p.eat('?')) {
        seg.kind = PathSegment::Kind::kFilter;
        if (!p.eat('(')) return tl::unexpected(std::string("expected '(' after '?'"));
        p.skip_spaces();
        if (!p.eat('@')) return tl::unexpected(std::string("expected '@' in filter"));
        if (p.eat('.')) seg.name = p.identifier();
        p.skip_spaces();
        std::string op;
        while (p.peek() == '=' || p.peek() == '!' || p.peek() == '<' || p.peek() == '>') {
          op += p.peek();
          p.eat(p.peek());
        }
        seg.filter_op = op;
        if (!op.empty()) {
          if (op != "==" && op != "!=" && op != "<" && op != "<=" && op != ">" && op != ">=")
            return tl::unexpected("unknown filter operator '" + op + "'");
          auto value = p.literal();
          if (!value) return tl::unexpected(std::string("bad filter literal"));
          seg.filter_value = *value;
        }
        p.skip_spaces();
        if (!p.eat(')')) return tl::unexpected(std::string("expected ')' closing the filter"));
      } else {
        auto first = p.integer();
        if (p.eat(':')) {
          seg.kind = PathSegment::Kind::kSlice;
          seg.slice_start = first;
          seg.slice_end = p.integer();
          if (p.eat(':')) {
            auto step = p.integer();
            if (step) seg.slice_step = *step;
          }
        } else if (first) {
          seg.kind = PathSegment::Kind::kIndex;
          seg.index = *first;
        } else {
          return tl::unexpected(std::string("bad subscript"));
        }
      }
      p.skip_spaces();
      if (!p.eat(']')) return tl::unexpected(std::string("expected ']'"));
    } else {
      return tl::unexpected("unexpected '" + std::string(1, p.peek()) + "'");
    }
    if (seg.kind != PathSegment::Kind::kField && seg.kind != PathSegment::Kind::kIndex)
      path.definite_ = false;
    path.segments_.push_back(std::move(seg));
  }
  return path;
}

const Json* JsonPath::find(const Json& document) const {
  const Json* node = &document;
  for (const auto& seg : segments_) {
    if (seg.kind == PathSegment::Kind::kField) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(seg.name);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (seg.kind == PathSegment::Kind::kIndex) {
      if (!node->is_array()) return nullptr;
      int64_t n = static_cast<int64_t>(node->size());
      int64_t k = seg.index < 0 ? n + seg.index : seg.index;
      if (k < 0 || k >= n) return nullptr;
      node = &(*node)[static_cast<size_t>(k)];
    } else {
      return nullptr;
    }
  }
  return node;
}

std::optional<Json> JsonPath::evaluate(const Json& document) const {
  if (definite_) {
    const Json* node = find(document);
    if (!node) return std::nullopt;
    return *node;
  }
  Json out = Json::array();
  collect(document, segments_, 0, out);
  return out;
}

AslResult<void> JsonPath::assign(Json& target, Json value) const {
  Json* node = &target;
  for (const auto& seg : segments_) {
    if (seg.kind == PathSegment::Kind::kField) {
      if (node->is_null()) *node = Json::object();
      if (!node->is_object())
        return asl_fail("States.ResultPathMatchFailure",
                        "Unable to apply ResultPath \"" + text_ + "\" to input");
      node = &(*node)[seg.name];
    } else if (seg.kind == PathSegment::Kind::kIndex) {
      if (!node->is_array() || seg.index < 0 || static_cast<size_t>(seg.index) >= node->size())
        return asl_fail("States.ResultPathMatchFailure",
                        "Unable to apply ResultPath \"" + text_ + "\" to input");
      node = &(*node)[static_cast<size_t>(seg.index)];
    } else {
      return asl_fail("States.ResultPathMatchFailure",
                      "ResultPath \"" + text_ + "\" is not a reference path");
    }
  }
  *node = std::move(value);
  return {};
}

}  // namespace helix::asl
