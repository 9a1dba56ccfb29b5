#include "cli/resource_views.h"

#include <stdlib.h>
#include <time.h>

#include <gtest/gtest.h>

#include "cli/local_time.h"
#include "cli/table.h"

namespace helix::cli {
namespace {

using nlohmann::json;

// Times are local: pin the zone. 1700000000000 ms is 2023-11-14T22:13:20Z.
class InUtc : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC0", 1);
    tzset();
  }
};

TEST_F(InUtc, LocalTimeFormats) {
  EXPECT_EQ(format_local_iso(1700000000123), "2023-11-14T22:13:20.123+00:00");
  EXPECT_EQ(format_local_short(1700000000123), "2023-11-14 22:13:20");
  setenv("TZ", "XYZ-5:30", 1);  // POSIX zone string: UTC+05:30, no tz database needed
  tzset();
  EXPECT_EQ(format_local_iso(1700000000000), "2023-11-15T03:43:20.000+05:30");
  setenv("TZ", "ABC3", 1);  // UTC-03:00
  tzset();
  EXPECT_EQ(format_local_iso(1700000000000), "2023-11-14T19:13:20.000-03:00");
}

TEST(RenderTable, PadsColumnsCutsLongCellsAndTrimsLineEnds) {
  EXPECT_EQ(render_table({{"ID"}, {"NAME", 6}}, {{"1", "alignment"}}),
            "ID  NAME\n"
            "1   ali...\n");
  EXPECT_EQ(render_table({{"A"}, {"B"}, {"C"}}, {{"xx", "", ""}, {"y"}}),
            "A   B  C\n"
            "xx\n"
            "y\n");
  EXPECT_EQ(cut("two\nlines", 0), "two lines");
}

TEST_F(InUtc, JobsTableColumnsAndCells) {
  std::vector<ListedJob> rows = {
      {json::parse(R"({"jobId": "j1", "jobName": "align", "status": "FAILED",
          "createdAt": 1700000000000, "startedAt": 1700000060000, "stoppedAt": 1700000120000,
          "statusReason": "Essential container in task exited because of a very long reason",
          "container": {"exitCode": 137}})"),
       "hpc"},
      {json::parse(R"({"jobId": "j2", "jobName": "qc", "status": "RUNNABLE",
          "createdAt": 1700000000000})"),
       "default"},
  };
  EXPECT_EQ(render_jobs_table(rows),
            "JOB ID  NAME   STATUS    QUEUE    CREATED              STARTED              "
            "STOPPED              EXIT  REASON\n"
            "j1      align  FAILED    hpc      2023-11-14 22:13:20  2023-11-14 22:14:20  "
            "2023-11-14 22:15:20  137   Essential container in task exited be...\n"
            "j2      qc     RUNNABLE  default  2023-11-14 22:13:20\n");
}

TEST_F(InUtc, JobsTableLeavesOutQueueWhenUnknownAndFallsBackToContainerReason) {
  std::vector<ListedJob> rows = {
      {json::parse(R"({"jobId": "a:0", "jobName": "arr", "status": "FAILED",
          "createdAt": 1700000000000, "container": {"reason": "OutOfMemoryError"}})"),
       ""}};
  EXPECT_EQ(
      render_jobs_table(rows),
      "JOB ID  NAME  STATUS  CREATED              STARTED  STOPPED  EXIT  REASON\n"
      "a:0     arr   FAILED  2023-11-14 22:13:20                          OutOfMemoryError\n");
}

TEST(QueuesTable, ComputeEnvironmentsByOrderAndByName) {
  json queues = json::parse(R"([{"jobQueueName": "hpc-high", "state": "ENABLED",
      "status": "VALID", "priority": 100, "computeEnvironmentOrder": [
        {"order": 2, "computeEnvironment": "arn:aws:batch:us-east-1:1:compute-environment/burst"},
        {"order": 1, "computeEnvironment": "arn:aws:batch:us-east-1:1:compute-environment/onprem"}]}])");
  EXPECT_EQ(render_queues_table(queues),
            "NAME      STATE    STATUS  PRIORITY  COMPUTE ENVIRONMENTS\n"
            "hpc-high  ENABLED  VALID   100       onprem,burst\n");
}

TEST(DefinitionsTable, SortedByNameThenRevision) {
  json defs = json::parse(R"([
      {"jobDefinitionName": "qc", "revision": 1, "status": "ACTIVE", "type": "native"},
      {"jobDefinitionName": "bwa", "revision": 10, "status": "ACTIVE", "type": "native"},
      {"jobDefinitionName": "bwa", "revision": 9, "status": "INACTIVE", "type": "native"}])");
  EXPECT_EQ(render_definitions_table(defs),
            "NAME  REVISION  STATUS    TYPE\n"
            "bwa   9         INACTIVE  native\n"
            "bwa   10        ACTIVE    native\n"
            "qc    1         ACTIVE    native\n");
}

TEST_F(InUtc, DescribePageOfAFailedRetriedJob) {
  // The first job of shared/aws-wire/batch/describe-jobs.json, trimmed.
  json job = json::parse(R"({
    "jobName": "align-sample", "jobId": "4b2f",
    "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/hpc-high",
    "status": "FAILED", "statusReason": "Essential container in task exited",
    "attempts": [
      {"container": {"exitCode": 137, "reason": "OutOfMemoryError: Container killed",
                     "logStreamName": "align/default/0f1e"},
       "startedAt": 1700000060000, "stoppedAt": 1700000120000,
       "statusReason": "Essential container in task exited"},
      {"container": {"exitCode": 1, "logStreamName": "align/default/1a2b"},
       "startedAt": 1700000180000, "stoppedAt": 1700000240000,
       "statusReason": "Essential container in task exited"}],
    "createdAt": 1700000000000, "startedAt": 1700000180000, "stoppedAt": 1700000240000,
    "dependsOn": [{"jobId": "5c3e", "type": "N_TO_N"}, {"jobId": "0a1b"}],
    "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/bwa-mem:3",
    "arrayProperties": {"index": 7}})");
  EXPECT_EQ(
      render_job_description(job),
      "job 4b2f  align-sample\n"
      "  status:      FAILED (Essential container in task exited)\n"
      "  queue:       hpc-high\n"
      "  definition:  bwa-mem:3\n"
      "  created:     2023-11-14T22:13:20.000+00:00\n"
      "  started:     2023-11-14T22:16:20.000+00:00\n"
      "  stopped:     2023-11-14T22:17:20.000+00:00\n"
      "  attempt 1:   exit 137, OutOfMemoryError: Container killed, "
      "2023-11-14T22:14:20.000+00:00 -> 2023-11-14T22:15:20.000+00:00, log align/default/0f1e\n"
      "  attempt 2:   exit 1, Essential container in task exited, "
      "2023-11-14T22:16:20.000+00:00 -> 2023-11-14T22:17:20.000+00:00, log align/default/1a2b\n"
      "  array index: 7\n"
      "  depends on:  5c3e (N_TO_N), 0a1b\n");
}

TEST_F(InUtc, DescribePageOfAnArrayParentSummarisesChildren) {
  json job = json::parse(R"({"jobId": "5c3e", "jobName": "align-cohort", "status": "PENDING",
      "createdAt": 1700000000000, "attempts": [], "dependsOn": [],
      "arrayProperties": {"size": 100, "statusSummary": {"STARTING": 0, "FAILED": 1,
          "RUNNING": 4, "SUCCEEDED": 90, "RUNNABLE": 5, "SUBMITTED": 0, "PENDING": 0}}})");
  EXPECT_EQ(render_job_description(job),
            "job 5c3e  align-cohort\n"
            "  status:      PENDING\n"
            "  created:     2023-11-14T22:13:20.000+00:00\n"
            "  array:       size 100: RUNNABLE 5, RUNNING 4, SUCCEEDED 90, FAILED 1\n");
}

}  // namespace
}  // namespace helix::cli
