#include <gtest/gtest.h>

#include "queues/common_fields.h"
#include "queues/compute_environment.h"

namespace helix::queues {
namespace {

using nlohmann::json;

TEST(Tags, MergeReplacesGivenKeysAndRefusesBadOnesWhole) {
  Limits limits;
  limits.max_tags = 3;
  auto merged = merge_tags({{"team", "a"}}, {{"team", "b"}, {"cost", "7"}}, limits);
  ASSERT_TRUE(merged) << merged.error().message();
  EXPECT_EQ(*merged, (std::map<std::string, std::string>{{"team", "b"}, {"cost", "7"}}));
  auto bad = merge_tags(
      {}, {{"aws:owner", "x"}, {std::string(129, 'k'), ""}, {"v", std::string(257, 'v')}}, limits);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("tags.aws:owner"), std::string::npos);
  EXPECT_NE(bad.error().message().find("1 to 128 characters"), std::string::npos);
  EXPECT_NE(bad.error().message().find("tags.v: a tag value has at most 256"), std::string::npos);
  auto full = merge_tags({{"a", ""}, {"b", ""}, {"c", ""}}, {{"d", ""}}, limits);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message().find("would have 4 tags, the maximum is 3"), std::string::npos);
  EXPECT_FALSE(merge_tags({}, {}, limits));
}

TEST(Tags, RemoveIgnoresAbsentKeysAndNeedsSomeKeys) {
  auto left = remove_tags({{"a", "1"}, {"b", "2"}}, {"a", "zzz"}, Limits{});
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, (std::map<std::string, std::string>{{"b", "2"}}));
  auto none = remove_tags({{"a", "1"}}, {}, Limits{});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("tagKeys"), std::string::npos);
}

TEST(JobQueue, CreateOrdersComputeEnvironmentsAndAcceptsArns) {
  auto q = parse_create_job_queue(json::parse(R"({"jobQueueName": "high", "priority": 10,
    "computeEnvironmentOrder": [{"order": 2, "computeEnvironment": "b"},
      {"order": 1, "computeEnvironment": "arn:aws:batch:us-east-1:1:compute-environment/a"}]})"),
                                  Limits{});
  ASSERT_TRUE(q) << q.error().message();
  EXPECT_EQ(q->compute_environment_order[0].compute_environment, "a");
  auto wire = job_queue_to_wire(*q, ArnFormat{});
  EXPECT_EQ(wire["computeEnvironmentOrder"][0]["computeEnvironment"],
            "arn:aws:batch:us-east-1:000000000000:compute-environment/a");
  EXPECT_EQ(wire["state"], "ENABLED");
  EXPECT_EQ(job_queue_from_store(job_queue_to_store(*q)).priority, 10);
}

TEST(JobQueue, RefusesMissingFieldsAndTooManyCes) {
  auto q = parse_create_job_queue(json::parse(R"({"jobQueueName": "q", "state": "ON",
    "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "a"},
      {"order": 2, "computeEnvironment": "b"}, {"order": 3, "computeEnvironment": "c"},
      {"order": 4, "computeEnvironment": "d"}]})"),
                                  Limits{});
  ASSERT_FALSE(q);
  const auto& m = q.error().message();
  EXPECT_NE(m.find("priority: is required"), std::string::npos) << m;
  EXPECT_NE(m.find("state: \"ON\" must be ENABLED or DISABLED"), std::string::npos) << m;
  EXPECT_NE(m.find("4 compute environments, the maximum is 3"), std::string::npos) << m;
}

TEST(JobQueue, FifoQueueCannotGainAPolicy) {
  JobQueue q;
  q.name = "q";
  auto updated = apply_job_queue_update(
      q, json::parse(R"({"jobQueue": "q", "schedulingPolicyArn": "p"})"), Limits{});
  ASSERT_FALSE(updated);
  EXPECT_NE(updated.error().message().find("cannot gain one"), std::string::npos);
}

TEST(ComputeEnvironment, OnlyUnmanagedOnPrem) {
  auto ce = parse_create_compute_environment(
      json::parse(R"({"computeEnvironmentName": "c", "type": "MANAGED",
                      "computeResources": {"type": "EC2"}})"),
      Limits{});
  ASSERT_FALSE(ce);
  EXPECT_NE(ce.error().message().find("type UNMANAGED"), std::string::npos);
  EXPECT_NE(ce.error().message().find("computeResources"), std::string::npos);
}

TEST(SchedulingPolicy, ParsesFairShareAndChecksRanges) {
  auto p = parse_create_scheduling_policy(json::parse(R"({"name": "fair", "fairsharePolicy":
    {"shareDecaySeconds": 3600, "computeReservation": 100,
     "shareDistribution": [{"shareIdentifier": "g", "weightFactor": 0.5}]}})"),
                                          Limits{});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find(
                "fairsharePolicy.computeReservation: 100 is above the maximum of 99"),
            std::string::npos)
      << p.error().message();
}

}  // namespace
}  // namespace helix::queues
