#include "queues/retry_strategy.h"

#include <gtest/gtest.h>

namespace helix::queues {
namespace {

RetryStrategy parse_ok(const char* text) {
  Problems problems;
  auto s = parse_retry_strategy(nlohmann::json::parse(text), "retryStrategy", Limits{}, problems);
  EXPECT_TRUE(problems.empty()) << problems.to_error().message();
  return s;
}

std::string parse_error(const char* text) {
  Problems problems;
  parse_retry_strategy(nlohmann::json::parse(text), "retryStrategy", Limits{}, problems);
  return problems.to_error().message();
}

TEST(PatternMatches, ExactAndTrailingStar) {
  EXPECT_TRUE(pattern_matches("137", "137"));
  EXPECT_FALSE(pattern_matches("13", "137"));
  EXPECT_TRUE(pattern_matches("13*", "137"));
  EXPECT_TRUE(pattern_matches("*", ""));
  EXPECT_TRUE(pattern_matches("Host EC2*", "Host EC2 (instance i-1) terminated."));
  EXPECT_FALSE(pattern_matches("Host EC2*", "Host"));
}

TEST(ShouldRetry, FirstMatchingRuleWins) {
  auto s = parse_ok(R"({"attempts": 5, "evaluateOnExit": [
      {"onExitCode": "137", "action": "RETRY"}, {"onReason": "*", "action": "exit"}]})");
  EXPECT_TRUE(should_retry(s, 1, {137, "", "x"}));
  EXPECT_FALSE(should_retry(s, 1, {1, "", "x"}));
}

TEST(ShouldRetry, NoMatchingRuleRetriesWhileAttemptsRemain) {
  auto s =
      parse_ok(R"({"attempts": 2, "evaluateOnExit": [{"onExitCode": "3", "action": "EXIT"}]})");
  EXPECT_TRUE(should_retry(s, 1, {1, "", ""}));
  EXPECT_FALSE(should_retry(s, 2, {1, "", ""}));  // attempts used up
  EXPECT_FALSE(should_retry(s, 1, {3, "", ""}));
}

TEST(ShouldRetry, OnExitCodeNeverMatchesWithoutAnExitCode) {
  auto s =
      parse_ok(R"({"attempts": 3, "evaluateOnExit": [{"onExitCode": "*", "action": "EXIT"}]})");
  EXPECT_TRUE(should_retry(s, 1, {std::nullopt, "CannotStartContainerError: x", ""}));
  EXPECT_FALSE(should_retry(s, 1, {0, "", ""}));
}

TEST(ShouldRetry, AllConditionsOfARuleMustMatch) {
  auto s = parse_ok(R"({"attempts": 3, "evaluateOnExit": [
      {"onExitCode": "1", "onStatusReason": "Essential*", "action": "EXIT"}]})");
  EXPECT_FALSE(should_retry(s, 1, {1, "", "Essential container in task exited"}));
  EXPECT_TRUE(should_retry(s, 1, {1, "", "Host n1 terminated."}));
}

TEST(ParseRetryStrategy, RefusesEveryBadFieldAtOnce) {
  std::string msg = parse_error(R"({"attempts": 11, "evaluateOnExit": [
      {"onExitCode": "1a", "action": "RETRY"}, {"onReason": "a*b", "action": "maybe"}]})");
  EXPECT_NE(msg.find("retryStrategy.attempts: 11 is above the maximum of 10"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("retryStrategy.evaluateOnExit[0].onExitCode"), std::string::npos) << msg;
  EXPECT_NE(msg.find("retryStrategy.evaluateOnExit[1].onReason"), std::string::npos) << msg;
  EXPECT_NE(msg.find("retryStrategy.evaluateOnExit[1].action: \"maybe\" must be RETRY or EXIT"),
            std::string::npos)
      << msg;
}

TEST(ParseRetryStrategy, MemoryMultiplierOnRetryRulesOnly) {
  RetryStrategy s = parse_ok(R"({"attempts": 3, "evaluateOnExit": [
      {"onReason": "OutOfMemoryError*", "action": "RETRY", "memoryMultiplier": 1.5}]})");
  ASSERT_EQ(s.evaluate_on_exit.size(), 1u);
  EXPECT_EQ(s.evaluate_on_exit[0].memory_multiplier, 1.5);
  EXPECT_EQ(retry_strategy_to_wire(s)["evaluateOnExit"][0]["memoryMultiplier"], 1.5);
  RetryDecision d = decide_retry(s, 1, AttemptOutcome{137, "OutOfMemoryError: killed", ""});
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.memory_multiplier, 1.5);
  EXPECT_EQ(retry_memory_mib(1001, 1.5), 1502);  // rounded up
  EXPECT_EQ(retry_memory_mib(kMaxRetryMemoryMib, 2), kMaxRetryMemoryMib);
  std::string msg = parse_error(R"({"attempts": 3, "evaluateOnExit": [
      {"onReason": "x", "action": "EXIT", "memoryMultiplier": 2},
      {"onReason": "y", "action": "RETRY", "memoryMultiplier": 1},
      {"onReason": "z", "action": "RETRY", "memoryMultiplier": 40}]})");
  EXPECT_NE(msg.find("retryStrategy.evaluateOnExit[0].memoryMultiplier: is allowed only with "
                     "action RETRY"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("retryStrategy.evaluateOnExit[1].memoryMultiplier: must be more than 1"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("retryStrategy.evaluateOnExit[2].memoryMultiplier"), std::string::npos) << msg;
}

TEST(ParseRetryStrategy, EvaluateOnExitNeedsAttemptsAndAtMostFiveRules) {
  EXPECT_NE(parse_error(R"({"evaluateOnExit": [{"onReason": "*", "action": "EXIT"}]})")
                .find("retryStrategy.attempts: is required"),
            std::string::npos);
  std::string six = R"({"attempts": 2, "evaluateOnExit": [)";
  for (int i = 0; i < 6; ++i)
    six += std::string(i ? "," : "") + R"({"onReason": "*", "action": "EXIT"})";
  six += "]}";
  EXPECT_NE(parse_error(six.c_str()).find("6 rules, the maximum is 5"), std::string::npos);
}

}  // namespace
}  // namespace helix::queues
