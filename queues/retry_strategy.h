// retryStrategy and its evaluateOnExit rules (docs/batch-semantics.md
// section 4): attempts counts total attempts (1..10); the first rule whose
// given conditions all match decides RETRY or EXIT; when no rule matches the
// job is retried while attempts remain. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "queues/limits.h"

namespace helix::queues {

enum class RetryAction { kRetry, kExit };

struct RetryRule {
  std::optional<std::string> on_status_reason;
  std::optional<std::string> on_reason;
  std::optional<std::string> on_exit_code;
  RetryAction action = RetryAction::kRetry;
  // helix extension ("memoryMultiplier", RETRY rules only): the next attempt
  // asks for this many times the memory, e.g. 2 on OutOfMemoryError. AWS
  // Batch retries with the same memory; Nextflow users expect this.
  std::optional<double> memory_multiplier;
  bool operator==(const RetryRule&) const = default;
};

struct RetryStrategy {
  int attempts = 1;
  std::vector<RetryRule> evaluate_on_exit;
  bool operator==(const RetryStrategy&) const = default;
};

// What one failed attempt looked like, as evaluateOnExit sees it.
struct AttemptOutcome {
  std::optional<int> exit_code;  // none when the process never ran or was lost
  std::string reason;            // attempts[].container.reason
  std::string status_reason;     // attempts[].statusReason
};

// AWS patterns: exact text that may end with one '*' meaning "prefix".
bool pattern_matches(const std::string& pattern, const std::string& text);

RetryStrategy parse_retry_strategy(const nlohmann::json& value, const std::string& path,
                                   const Limits& limits, Problems& problems);
nlohmann::json retry_strategy_to_wire(const RetryStrategy& strategy);

// Whether a job whose attempt number `attempt` (1-based) just failed with
// `outcome` gets another attempt, and the memory multiplier of the rule
// that said so (1 when none).
struct RetryDecision {
  bool retry = false;
  double memory_multiplier = 1;
};
RetryDecision decide_retry(const RetryStrategy& strategy, int attempt,
                           const AttemptOutcome& outcome);
bool should_retry(const RetryStrategy& strategy, int attempt, const AttemptOutcome& outcome);

// Memory for the attempt after one that ran with `memory_mib`: rounded up
// to whole MiB, at most kMaxRetryMemoryMib.
constexpr int64_t kMaxRetryMemoryMib = 16 * 1024 * 1024;  // 16 TiB
int64_t retry_memory_mib(int64_t memory_mib, double multiplier);

}  // namespace helix::queues
