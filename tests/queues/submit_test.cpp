#include "queues/submit.h"

#include <gtest/gtest.h>

namespace helix::queues {
namespace {

using nlohmann::json;

JobDefinition definition() {
  JobDefinition def;
  def.name = "align";
  def.revision = 2;
  def.parameters = {{"threads", "8"}, {"ref", "/ref.fa"}};
  def.container.command = {"bwa", "-t", "Ref::threads", "Ref::ref", "Ref::sample"};
  def.container.environment = {{"A", "1"}};
  def.container.resources.vcpus = 8;
  def.container.resources.memory_mib = 1024;
  def.retry_strategy = RetryStrategy{3, {}};
  def.timeout_seconds = 600;
  return def;
}

JobQueue queue() {
  JobQueue q;
  q.name = "default";
  q.compute_environment_order = {{1, "local"}};
  return q;
}

SubmitRequest parse(const std::string& text) {
  auto body = json::parse(text);
  auto req = parse_submit_request(body, text.size(), Limits{});
  EXPECT_TRUE(req) << req.error().message();
  return *req;
}

TEST(ResolveSubmission, ParametersMergeOverridesApplyAndSubstituteCommandOnly) {
  auto req = parse(R"({"jobName": "j1", "jobQueue": "default", "jobDefinition": "align",
    "parameters": {"threads": "2", "sample": "NA1"},
    "containerOverrides": {"environment": [{"name": "B", "value": "Ref::sample"}],
                           "resourceRequirements": [{"type": "VCPU", "value": "2"}]},
    "timeout": {"attemptDurationSeconds": 120}})");
  auto jobs = resolve_submission(req, definition(), queue(), Owner{1000, 1000, "ann"}, "id-1",
                                 from_epoch_ms(5), {});
  ASSERT_TRUE(jobs) << jobs.error().message();
  ASSERT_EQ(jobs->size(), 1u);
  const Job& job = jobs->front();
  EXPECT_EQ(job.container.command, (std::vector<std::string>{"bwa", "-t", "2", "/ref.fa", "NA1"}));
  EXPECT_EQ(job.container.environment, (Environment{{"A", "1"}, {"B", "Ref::sample"}}));
  EXPECT_EQ(job.resources.vcpus, 2);
  EXPECT_EQ(job.resources.memory_mib, 1024);  // not overridden: the definition's
  EXPECT_EQ(job.timeout_seconds, 120);
  EXPECT_EQ(job.retry_strategy.attempts, 3);
  EXPECT_EQ(job.parameters.at("ref"), "/ref.fa");
}

TEST(ResolveSubmission, ArrayChildrenCarryPerIndexDependencies) {
  auto req = parse(R"({"jobName": "a", "jobQueue": "default", "jobDefinition": "align",
    "arrayProperties": {"size": 3},
    "dependsOn": [{"jobId": "P"}, {"jobId": "N", "type": "N_TO_N"}, {"type": "SEQUENTIAL"}]})");
  auto jobs = resolve_submission(req, definition(), queue(), Owner{}, "A", from_epoch_ms(5),
                                 {{"P", std::nullopt}, {"N", 3}});
  ASSERT_TRUE(jobs) << jobs.error().message();
  ASSERT_EQ(jobs->size(), 4u);
  EXPECT_TRUE((*jobs)[0].wait_for.empty());
  EXPECT_EQ((*jobs)[1].id, "A:0");
  EXPECT_EQ((*jobs)[1].wait_for, (std::vector<std::string>{"P", "N:0"}));
  EXPECT_EQ((*jobs)[3].wait_for, (std::vector<std::string>{"P", "N:2", "A:1"}));
  EXPECT_EQ((*jobs)[2].array_index, 1);
}

TEST(ResolveSubmission, NToNSizeMismatchIsRefused) {
  auto req = parse(R"({"jobName": "a", "jobQueue": "default", "jobDefinition": "align",
    "arrayProperties": {"size": 3}, "dependsOn": [{"jobId": "N", "type": "N_TO_N"}]})");
  auto jobs =
      resolve_submission(req, definition(), queue(), Owner{}, "A", from_epoch_ms(5), {{"N", 4}});
  ASSERT_FALSE(jobs);
  EXPECT_NE(jobs.error().message().find("N_TO_N dependency N has 4 children, this job 3"),
            std::string::npos);
}

TEST(ParseSubmitRequest, RefusesBadInputWhole) {
  std::string text = R"({"jobName": "-x", "jobQueue": "q", "jobDefinition": "d",
    "arrayProperties": {"size": 1}, "dependsOn": [{"type": "SEQUENTIAL"}], "bogus": 1})";
  auto req = parse_submit_request(json::parse(text), text.size(), Limits{});
  ASSERT_FALSE(req);
  const std::string& m = req.error().message();
  EXPECT_NE(m.find("jobName: \"-x\" must start with a letter or digit"), std::string::npos) << m;
  EXPECT_NE(m.find("arrayProperties.size: 1 is below the minimum of 2"), std::string::npos) << m;
  EXPECT_NE(m.find("bogus: unknown field"), std::string::npos) << m;
}

TEST(ParseSubmitRequest, TooManyDependenciesAndHugePayloads) {
  json body = {{"jobName", "a"}, {"jobQueue", "q"}, {"jobDefinition", "d"}};
  for (int i = 0; i < 21; ++i) body["dependsOn"].push_back({{"jobId", std::to_string(i)}});
  auto req = parse_submit_request(body, 100, Limits{});
  ASSERT_FALSE(req);
  EXPECT_NE(req.error().message().find("21 dependencies, the maximum is 20"), std::string::npos);
  auto huge = parse_submit_request(body, 40 * 1024, Limits{});
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message().find("SubmitJob maximum is 30720"), std::string::npos);
}

TEST(ParseDefinitionRef, NameRevisionAndArn) {
  EXPECT_EQ(parse_definition_ref("a")->name, "a");
  EXPECT_FALSE(parse_definition_ref("a")->revision);
  EXPECT_EQ(parse_definition_ref("a:3")->revision, 3);
  auto arn = parse_definition_ref("arn:aws:batch:us-east-1:1:job-definition/bwa:7");
  EXPECT_EQ(arn->name, "bwa");
  EXPECT_EQ(arn->revision, 7);
  EXPECT_FALSE(parse_definition_ref("a:x"));
}

}  // namespace
}  // namespace helix::queues
