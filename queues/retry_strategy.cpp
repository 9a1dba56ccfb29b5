#include "queues/retry_strategy.h"

#include <cctype>
#include <cmath>

#include "common/json_reader.h"

namespace helix::queues {

bool pattern_matches(const std::string& pattern, const std::string& text) {
  if (!pattern.empty() && pattern.back() == '*') {
    return text.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0 &&
           text.size() >= pattern.size() - 1;
  }
  return pattern == text;
}

namespace {

// onExitCode: digits; onReason / onStatusReason: letters, digits, '.', ':',
// spaces and tabs; each may end with one '*'.
void check_pattern(const std::string& pattern, bool digits_only, const std::string& path,
                   const Limits& limits, Problems& problems) {
  if (pattern.size() > limits.max_pattern_length) {
    problems.add(path, "is " + std::to_string(pattern.size()) + " characters, the maximum is " +
                           std::to_string(limits.max_pattern_length));
    return;
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '*') {
      if (i + 1 != pattern.size()) {
        problems.add(path, "\"" + pattern + "\": '*' is allowed only as the last character");
        return;
      }
      continue;
    }
    bool ok = digits_only ? std::isdigit(static_cast<unsigned char>(c)) != 0
                          : (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                             c == ':' || c == ' ' || c == '\t');
    if (!ok) {
      problems.add(path, "\"" + pattern + "\": " +
                             (digits_only ? std::string("may contain only digits and a final '*'")
                                          : std::string("may contain only letters, digits, '.', "
                                                        "':', spaces, tabs and a final '*'")));
      return;
    }
  }
}

}  // namespace

RetryStrategy parse_retry_strategy(const nlohmann::json& value, const std::string& path,
                                   const Limits& limits, Problems& problems) {
  RetryStrategy out;
  JsonReader r(value, path, problems);
  if (!r.ok()) return out;
  auto attempts = r.optional_int("attempts", 1, 10);
  if (attempts) out.attempts = static_cast<int>(*attempts);
  if (const json* rules = r.optional_array("evaluateOnExit")) {
    if (!attempts)
      problems.add(r.field_path("attempts"), "is required when evaluateOnExit is given");
    if (rules->size() > limits.max_evaluate_on_exit) {
      problems.add(r.field_path("evaluateOnExit"), std::to_string(rules->size()) +
                                                       " rules, the maximum is " +
                                                       std::to_string(limits.max_evaluate_on_exit));
    }
    for (size_t i = 0; i < rules->size(); ++i) {
      JsonReader rr((*rules)[i], json_path_index(r.field_path("evaluateOnExit"), i), problems);
      if (!rr.ok()) continue;
      RetryRule rule;
      rule.on_status_reason = rr.optional_string("onStatusReason");
      rule.on_reason = rr.optional_string("onReason");
      rule.on_exit_code = rr.optional_string("onExitCode");
      if (rule.on_status_reason)
        check_pattern(*rule.on_status_reason, false, rr.field_path("onStatusReason"), limits,
                      problems);
      if (rule.on_reason)
        check_pattern(*rule.on_reason, false, rr.field_path("onReason"), limits, problems);
      if (rule.on_exit_code)
        check_pattern(*rule.on_exit_code, true, rr.field_path("onExitCode"), limits, problems);
      if (auto action = rr.required_string("action")) {
        std::string upper;
        for (char c : *action)
          upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (upper == "RETRY") {
          rule.action = RetryAction::kRetry;
        } else if (upper == "EXIT") {
          rule.action = RetryAction::kExit;
        } else {
          problems.add(rr.field_path("action"), "\"" + *action + "\" must be RETRY or EXIT");
        }
      }
      if (auto m = rr.optional_number("memoryMultiplier", 1, 16)) {
        if (*m == 1)
          problems.add(rr.field_path("memoryMultiplier"),
                       "must be more than 1 (the next attempt's memory is this many times the "
                       "last)");
        else if (rule.action != RetryAction::kRetry)
          problems.add(rr.field_path("memoryMultiplier"), "is allowed only with action RETRY");
        rule.memory_multiplier = *m;
      }
      rr.reject_unknown();
      out.evaluate_on_exit.push_back(std::move(rule));
    }
  }
  r.reject_unknown();
  return out;
}

nlohmann::json retry_strategy_to_wire(const RetryStrategy& strategy) {
  nlohmann::json out = {{"attempts", strategy.attempts}};
  if (!strategy.evaluate_on_exit.empty()) {
    auto& rules = out["evaluateOnExit"] = nlohmann::json::array();
    for (const auto& rule : strategy.evaluate_on_exit) {
      nlohmann::json j;
      if (rule.on_status_reason) j["onStatusReason"] = *rule.on_status_reason;
      if (rule.on_reason) j["onReason"] = *rule.on_reason;
      if (rule.on_exit_code) j["onExitCode"] = *rule.on_exit_code;
      j["action"] = rule.action == RetryAction::kRetry ? "RETRY" : "EXIT";
      if (rule.memory_multiplier) j["memoryMultiplier"] = *rule.memory_multiplier;
      rules.push_back(std::move(j));
    }
  }
  return out;
}

namespace {

bool rule_matches(const RetryRule& rule, const AttemptOutcome& outcome) {
  if (rule.on_exit_code) {
    if (!outcome.exit_code) return false;  // helix: no exit code, no onExitCode match
    if (!pattern_matches(*rule.on_exit_code, std::to_string(*outcome.exit_code))) return false;
  }
  if (rule.on_reason && !pattern_matches(*rule.on_reason, outcome.reason)) return false;
  if (rule.on_status_reason && !pattern_matches(*rule.on_status_reason, outcome.status_reason))
    return false;
  return true;
}

}  // namespace

RetryDecision decide_retry(const RetryStrategy& strategy, int attempt,
                           const AttemptOutcome& outcome) {
  if (attempt >= strategy.attempts) return {};
  for (const auto& rule : strategy.evaluate_on_exit) {
    if (rule_matches(rule, outcome))
      return {rule.action == RetryAction::kRetry, rule.memory_multiplier.value_or(1)};
  }
  return {true, 1};  // documented default: no matching rule retries
}

bool should_retry(const RetryStrategy& strategy, int attempt, const AttemptOutcome& outcome) {
  return decide_retry(strategy, attempt, outcome).retry;
}

int64_t retry_memory_mib(int64_t memory_mib, double multiplier) {
  double next = std::ceil(static_cast<double>(memory_mib) * multiplier);
  if (next >= static_cast<double>(kMaxRetryMemoryMib)) return kMaxRetryMemoryMib;
  return static_cast<int64_t>(next);
}

}  // namespace helix::queues
