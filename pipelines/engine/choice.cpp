#include "pipelines/engine/choice.h"

#include <array>
#include <cctype>
#include <chrono>

namespace helix::asl {
namespace {

const std::array<const char*, 19> kComparisons = {"StringEquals",
                                                  "StringLessThan",
                                                  "StringGreaterThan",
                                                  "StringLessThanEquals",
                                                  "StringGreaterThanEquals",
                                                  "StringMatches",
                                                  "NumericEquals",
                                                  "NumericLessThan",
                                                  "NumericGreaterThan",
                                                  "NumericLessThanEquals",
                                                  "NumericGreaterThanEquals",
                                                  "BooleanEquals",
                                                  "TimestampEquals",
                                                  "TimestampLessThan",
                                                  "TimestampGreaterThan",
                                                  "TimestampLessThanEquals",
                                                  "TimestampGreaterThanEquals",
                                                  "IsNull",
                                                  "IsPresent"};
const std::array<const char*, 4> kTypeTests = {"IsNumeric", "IsString", "IsBoolean", "IsTimestamp"};

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool is_operator(const std::string& key) {
  std::string base = ends_with(key, "Path") ? key.substr(0, key.size() - 4) : key;
  for (const char* op : kComparisons)
    if (base == op) return base != "StringMatches" || key == base;
  for (const char* op : kTypeTests)
    if (key == op) return true;
  return false;
}

bool wildcard_match(const std::string& pattern, size_t p, const std::string& text, size_t t) {
  while (p < pattern.size()) {
    char c = pattern[p];
    if (c == '\\' && p + 1 < pattern.size()) {
      if (t >= text.size() || text[t] != pattern[p + 1]) return false;
      p += 2;
      ++t;
    } else if (c == '*') {
      for (size_t k = t; k <= text.size(); ++k)
        if (wildcard_match(pattern, p + 1, text, k)) return true;
      return false;
    } else {
      if (t >= text.size() || text[t] != c) return false;
      ++p;
      ++t;
    }
  }
  return t == text.size();
}

int compare_strings(const std::string& a, const std::string& b) { return a.compare(b); }

}  // namespace

std::optional<int64_t> parse_timestamp_us(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SS[.f+](Z|+hh:mm|-hh:mm)
  auto digits = [&](size_t at, size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
       minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60)
    return std::nullopt;
  size_t i = 19;
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t scale = 100000;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      micros += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    auto oh = digits(i + 1, 2), om = digits(i + 4, 2);
    if (!oh || !om || s[i + 3] != ':') return std::nullopt;
    offset_s = (*oh * 3600 + *om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                     std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok()) return std::nullopt;
  int64_t days = sys_days(ymd).time_since_epoch().count();
  int64_t secs = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_s;
  return secs * 1'000'000 + micros;
}

tl::expected<ChoiceRule, std::string> compile_choice_rule(const Json& source, bool is_jsonata,
                                                          bool top_level) {
  if (!source.is_object()) return tl::unexpected(std::string("a choice rule must be an object"));
  ChoiceRule rule;
  if (top_level) {
    auto next = source.find("Next");
    if (next == source.end() || !next->is_string())
      return tl::unexpected(std::string("a choice rule needs a Next"));
    rule.next = next->get<std::string>();
    if (auto a = source.find("Assign"); a != source.end()) {
      auto t = is_jsonata ? Template::compile_jsonata(*a) : Template::compile_payload(*a);
      if (!t) return tl::unexpected(t.error());
      rule.assign = std::make_shared<Template>(std::move(*t));
    }
    if (auto o = source.find("Output"); o != source.end()) {
      auto t = Template::compile_jsonata(*o);
      if (!t) return tl::unexpected(t.error());
      rule.output = std::make_shared<Template>(std::move(*t));
    }
  }
  if (auto c = source.find("Condition"); c != source.end()) {
    rule.op = "Condition";
    auto t = Template::compile_jsonata(*c);
    if (!t) return tl::unexpected(t.error());
    rule.condition = std::make_shared<Template>(std::move(*t));
    return rule;
  }
  if (is_jsonata && top_level)
    return tl::unexpected(std::string("a JSONata choice rule needs a Condition"));
  for (const char* logical : {"And", "Or"}) {
    if (auto it = source.find(logical); it != source.end()) {
      if (!it->is_array() || it->empty())
        return tl::unexpected(std::string(logical) + " needs a non-empty array of rules");
      rule.op = logical;
      for (const auto& child : *it) {
        auto c = compile_choice_rule(child, false, false);
        if (!c) return c;
        rule.children.push_back(std::move(*c));
      }
      return rule;
    }
  }
  if (auto it = source.find("Not"); it != source.end()) {
    rule.op = "Not";
    auto c = compile_choice_rule(*it, false, false);
    if (!c) return c;
    rule.children.push_back(std::move(*c));
    return rule;
  }
  auto var = source.find("Variable");
  if (var == source.end() || !var->is_string())
    return tl::unexpected(std::string("a comparison needs a Variable"));
  auto path = JsonPath::parse(var->get<std::string>());
  if (!path) return tl::unexpected("bad Variable path: " + path.error());
  rule.variable = std::move(*path);
  for (auto it = source.begin(); it != source.end(); ++it) {
    if (!is_operator(it.key())) continue;
    if (!rule.op.empty()) return tl::unexpected(std::string("a rule has more than one operator"));
    rule.op = it.key();
    if (ends_with(rule.op, "Path")) {
      if (!it->is_string()) return tl::unexpected(rule.op + " needs a path");
      auto vp = JsonPath::parse(it->get<std::string>());
      if (!vp) return tl::unexpected("bad " + rule.op + ": " + vp.error());
      rule.value_path = std::move(*vp);
    } else {
      rule.value = *it;
      const std::string& op = rule.op;
      bool ok = true;
      if (op.rfind("String", 0) == 0 || op.rfind("Timestamp", 0) == 0) ok = it->is_string();
      if (op.rfind("Numeric", 0) == 0) ok = it->is_number();
      if (op == "BooleanEquals" || op.rfind("Is", 0) == 0) ok = it->is_boolean();
      if (!ok) return tl::unexpected("bad value for " + op);
    }
  }
  if (rule.op.empty()) return tl::unexpected(std::string("a choice rule has no operator"));
  return rule;
}

AslResult<bool> test_choice_rule(const ChoiceRule& rule, const Scope& scope) {
  const std::string& op = rule.op;
  if (op == "Condition") {
    auto value = rule.condition->evaluate(scope);
    if (!value) return tl::unexpected(value.error());
    if (!value->is_boolean())
      return asl_fail("States.QueryEvaluationError",
                      "The Condition must evaluate to a boolean, got " + value->dump());
    return value->get<bool>();
  }
  if (op == "And" || op == "Or") {
    for (const auto& child : rule.children) {
      auto r = test_choice_rule(child, scope);
      if (!r) return r;
      if (op == "And" && !*r) return false;
      if (op == "Or" && *r) return true;
    }
    return op == "And";
  }
  if (op == "Not") {
    auto r = test_choice_rule(rule.children[0], scope);
    if (!r) return r;
    return !*r;
  }
  auto subject = resolve_path(*rule.variable, scope);
  if (op == "IsPresent") return subject.has_value() == rule.value.get<bool>();
  if (!subject)
    return asl_fail("States.Runtime", "Invalid path '" + rule.variable->text() +
                                          "': The choice state's condition path references an "
                                          "invalid value.");
  const Json& v = *subject;
  if (op == "IsNull") return v.is_null() == rule.value.get<bool>();
  if (op == "IsNumeric") return v.is_number() == rule.value.get<bool>();
  if (op == "IsString") return v.is_string() == rule.value.get<bool>();
  if (op == "IsBoolean") return v.is_boolean() == rule.value.get<bool>();
  if (op == "IsTimestamp") {
    bool is_ts = v.is_string() && parse_timestamp_us(v.get<std::string>()).has_value();
    return is_ts == rule.value.get<bool>();
  }
  Json operand_holder;
  const Json* operand = &rule.value;
  if (rule.value_path) {
    auto other = resolve_path(*rule.value_path, scope);
    if (!other)
      return asl_fail("States.Runtime", "Invalid path '" + rule.value_path->text() +
                                            "': The choice state's condition path references an "
                                            "invalid value.");
    operand_holder = std::move(*other);
    operand = &operand_holder;
  }
  std::string base = rule.value_path ? op.substr(0, op.size() - 4) : op;
  auto ordered = [&](int c, const std::string& kind) {
    std::string rel = base.substr(kind.size());
    if (rel == "Equals") return c == 0;
    if (rel == "LessThan") return c < 0;
    if (rel == "GreaterThan") return c > 0;
    if (rel == "LessThanEquals") return c <= 0;
    if (rel == "GreaterThanEquals") return c >= 0;
    return false;
  };
  if (base == "StringMatches") {
    if (!v.is_string() || !operand->is_string()) return false;
    return wildcard_match(operand->get<std::string>(), 0, v.get<std::string>(), 0);
  }
  if (base.rfind("String", 0) == 0) {
    if (!v.is_string() || !operand->is_string()) return false;
    return ordered(compare_strings(v.get<std::string>(), operand->get<std::string>()), "String");
  }
  if (base.rfind("Numeric", 0) == 0) {
    if (!v.is_number() || !operand->is_number()) return false;
    double a = v.get<double>(), b = operand->get<double>();
    return ordered(a < b ? -1 : (a > b ? 1 : 0), "Numeric");
  }
  if (base == "BooleanEquals") {
    if (!v.is_boolean() || !operand->is_boolean()) return false;
    return v.get<bool>() == operand->get<bool>();
  }
  if (base.rfind("Timestamp", 0) == 0) {
    if (!v.is_string() || !operand->is_string()) return false;
    auto a = parse_timestamp_us(v.get<std::string>());
    auto b = parse_timestamp_us(operand->get<std::string>());
    if (!a || !b) return false;
    return ordered(*a < *b ? -1 : (*a > *b ? 1 : 0), "Timestamp");
  }
  return asl_fail("States.Runtime", "unknown comparison operator " + op);
}

}  // namespace helix::asl
