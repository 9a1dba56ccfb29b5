#include "cli/list_jobs.h"

#include <gtest/gtest.h>

namespace helix::cli {
namespace {

using nlohmann::json;

TEST(ListJobsRequests, NoStatusAsksForEveryStatusThroughAfterCreatedAtZero) {
  // AWS returns only RUNNING jobs when neither jobStatus nor a filter is given.
  auto bodies = list_jobs_requests({}, "hpc");
  ASSERT_TRUE(bodies) << bodies.error().to_string();
  ASSERT_EQ(bodies->size(), 1u);
  EXPECT_EQ(bodies->front(), json::parse(R"({"jobQueue": "hpc",
      "filters": [{"name": "AFTER_CREATED_AT", "values": ["0"]}]})"));
}

TEST(ListJobsRequests, StatusIsSentUpperCase) {
  JobsOptions o;
  o.status = "failed";
  auto bodies = list_jobs_requests(o, "hpc");
  ASSERT_TRUE(bodies);
  EXPECT_EQ(*bodies, std::vector<json>{json::parse(R"({"jobQueue":"hpc","jobStatus":"FAILED"})")});
}

TEST(ListJobsRequests, NameGlobIsTheJobNameFilterEvenWithAStatus) {
  JobsOptions o;
  o.name_glob = "align*";
  o.status = "RUNNING";
  auto bodies = list_jobs_requests(o, "hpc");
  ASSERT_TRUE(bodies);
  EXPECT_EQ(*bodies, std::vector<json>{json::parse(R"({"jobQueue": "hpc",
      "filters": [{"name": "JOB_NAME", "values": ["align*"]}]})")});
}

TEST(ListJobsRequests, ArrayJobIsAskedOncePerStatusSinceFiltersSkipChildren) {
  JobsOptions o;
  o.array_job_id = "A";
  auto bodies = list_jobs_requests(o, "ignored");
  ASSERT_TRUE(bodies);
  ASSERT_EQ(bodies->size(), 7u);
  EXPECT_EQ(bodies->front(), json::parse(R"({"arrayJobId":"A","jobStatus":"SUBMITTED"})"));
  EXPECT_EQ(bodies->back(), json::parse(R"({"arrayJobId":"A","jobStatus":"FAILED"})"));

  o.status = "succeeded";
  bodies = list_jobs_requests(o, "ignored");
  ASSERT_TRUE(bodies);
  EXPECT_EQ(*bodies,
            std::vector<json>{json::parse(R"({"arrayJobId":"A","jobStatus":"SUCCEEDED"})")});
}

TEST(ListJobsRequests, RefusesUnknownStatusAndNonPositiveLimit) {
  JobsOptions o;
  o.status = "DONE";
  o.limit = 0;
  auto bodies = list_jobs_requests(o, "hpc");
  ASSERT_FALSE(bodies);
  EXPECT_EQ(bodies.error().message(),
            "--status: \"DONE\" is not a job status (SUBMITTED, PENDING, RUNNABLE, STARTING, "
            "RUNNING, SUCCEEDED, FAILED); --limit: 0 is below the minimum of 1");
}

TEST(GlobMatches, StarsAndQuestionMarks) {
  EXPECT_TRUE(glob_matches("align*", "align-sample"));
  EXPECT_TRUE(glob_matches("*sample", "align-sample"));
  EXPECT_TRUE(glob_matches("a*g*e", "align-sample"));
  EXPECT_TRUE(glob_matches("job-?", "job-7"));
  EXPECT_TRUE(glob_matches("*", ""));
  EXPECT_FALSE(glob_matches("job-?", "job-10"));
  EXPECT_FALSE(glob_matches("align", "align-sample"));
  EXPECT_FALSE(glob_matches("*x*", "align"));
}

TEST(SummaryMatches, AppliesStatusAndWholeGlobClientSide) {
  JobsOptions o;
  o.status = "running";
  o.name_glob = "a*-1";
  EXPECT_TRUE(summary_matches(o, {{"jobName", "align-1"}, {"status", "RUNNING"}}));
  EXPECT_FALSE(summary_matches(o, {{"jobName", "align-1"}, {"status", "FAILED"}}));
  EXPECT_FALSE(summary_matches(o, {{"jobName", "align-2"}, {"status", "RUNNING"}}));
}

TEST(OrderAndLimit, OldestFirstKeepingTheMostRecent) {
  std::vector<ListedJob> rows = {
      {{{"jobId", "c"}, {"createdAt", 30}}, "q"},
      {{{"jobId", "a"}, {"createdAt", 10}}, "q"},
      {{{"jobId", "b2"}, {"createdAt", 20}}, "r"},
      {{{"jobId", "b1"}, {"createdAt", 20}}, "q"},
  };
  auto all = order_and_limit(rows, std::nullopt);
  std::vector<std::string> ids;
  for (const auto& r : all) ids.push_back(r.summary["jobId"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b1", "b2", "c"}));

  auto two = order_and_limit(rows, 2);
  ids.clear();
  for (const auto& r : two) ids.push_back(r.summary["jobId"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"b2", "c"}));
}

}  // namespace
}  // namespace helix::cli
