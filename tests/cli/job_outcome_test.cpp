#include "cli/job_outcome.h"

#include <gtest/gtest.h>

namespace helix::cli {
namespace {

using nlohmann::json;

json failed_with_attempt_codes(const std::string& id, std::vector<json> codes) {
  json attempts = json::array();
  for (const auto& c : codes) {
    json container = json::object();
    if (!c.is_null()) container["exitCode"] = c;
    attempts.push_back({{"container", container}});
  }
  return {{"jobId", id}, {"status", "FAILED"}, {"attempts", attempts}};
}

TEST(WaitExitCode, ZeroWhenAllSucceeded) {
  EXPECT_EQ(wait_exit_code({{{"status", "SUCCEEDED"}}, {{"status", "SUCCEEDED"}}}), 0);
  EXPECT_EQ(wait_exit_code({}), 0);
}

TEST(WaitExitCode, FirstFailedJobsLastAttemptDecides) {
  // Jobs in argument order: a success, a job whose attempts exited 137 then
  // 3, a job that exited 2. The second job's last attempt wins: 3.
  EXPECT_EQ(wait_exit_code({{{"status", "SUCCEEDED"}},
                            failed_with_attempt_codes("b", {137, 3}),
                            failed_with_attempt_codes("c", {2})}),
            3);
}

TEST(WaitExitCode, OneWhenTheCodeIsNotAnExitStatus) {
  EXPECT_EQ(wait_exit_code({failed_with_attempt_codes("a", {})}), 1);        // never ran
  EXPECT_EQ(wait_exit_code({failed_with_attempt_codes("a", {json()})}), 1);  // killed, no code
  EXPECT_EQ(wait_exit_code({failed_with_attempt_codes("a", {0})}), 1);       // timed out after 0
  EXPECT_EQ(wait_exit_code({failed_with_attempt_codes("a", {256})}), 1);
  EXPECT_EQ(wait_exit_code({failed_with_attempt_codes("a", {-9})}), 1);
  EXPECT_EQ(wait_exit_code({failed_with_attempt_codes("a", {255})}), 255);
}

TEST(WaitLine, NamesTheJobAndWhyItFailed) {
  EXPECT_EQ(wait_line({{"jobId", "j1"}, {"status", "SUCCEEDED"}}), "j1 SUCCEEDED");
  EXPECT_EQ(wait_line({{"jobId", "j2"},
                       {"status", "FAILED"},
                       {"statusReason", "Essential container in task exited"}}),
            "j2 FAILED: Essential container in task exited");
  EXPECT_EQ(wait_line({{"jobId", "j3"}, {"status", "FAILED"}}), "j3 FAILED");
  EXPECT_EQ(wait_line({{"jobId", "j4"}, {"status", "RUNNING"}}), "j4 RUNNING");
}

TEST(LatestAttemptNumber, RunningAttemptThenEndedCount) {
  EXPECT_EQ(latest_attempt_number({{"attempts", json::array()}}), 0);
  EXPECT_EQ(latest_attempt_number({{"attempts", {json::object(), json::object()}}}), 2);
  EXPECT_EQ(latest_attempt_number(
                {{"attempts", {json::object()}}, {"helix", {{"attempt", 2}, {"node", "n1"}}}}),
            2);
}

TEST(IsFinalStatus, OnlySucceededAndFailed) {
  EXPECT_TRUE(is_final_status("SUCCEEDED"));
  EXPECT_TRUE(is_final_status("FAILED"));
  for (const char* s : {"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", ""})
    EXPECT_FALSE(is_final_status(s)) << s;
}

}  // namespace
}  // namespace helix::cli
