#include "cli/submit_request.h"

#include <gtest/gtest.h>

namespace helix::cli {
namespace {

using nlohmann::json;

TEST(BuildSubmitRequest, PlainCommandUsesTheCommandDefinitionAndDefaultQueue) {
  SubmitOptions o;
  o.command = {"./align.sh", "x"};
  auto body = build_submit_request(o);
  ASSERT_TRUE(body) << body.error().to_string();
  EXPECT_EQ(*body, json::parse(R"({
    "jobName": "align_sh", "jobQueue": "default", "jobDefinition": "helix-command",
    "containerOverrides": {"command": ["./align.sh", "x"]}})"));
}

TEST(BuildSubmitRequest, EveryFlagLandsInItsAwsMember) {
  SubmitOptions o;
  o.queue = "hpc-high";
  o.definition = "bwa-mem:3";
  o.name = "align-cohort";
  o.parameters = {"ref=/refs/hg38.fa", "sample=NA12878"};
  o.array_size = 100;
  o.depends_on = {"5c3e=N_TO_N", "0a1b", "9f9f=SEQUENTIAL"};
  o.retries = 3;
  o.timeout_seconds = 3600;
  o.vcpus = 16;
  o.memory_mib = 65536;
  o.gpus = 1;
  o.environment = {"TMPDIR=/scratch", "EMPTY="};
  o.command = {"bwa", "mem"};
  auto body = build_submit_request(o);
  ASSERT_TRUE(body) << body.error().to_string();
  // The shape the aws CLI sends for the same options
  // (shared/aws-wire/batch/submit-job.json).
  EXPECT_EQ(*body, json::parse(R"({
    "jobName": "align-cohort",
    "jobQueue": "hpc-high",
    "jobDefinition": "bwa-mem:3",
    "parameters": {"ref": "/refs/hg38.fa", "sample": "NA12878"},
    "arrayProperties": {"size": 100},
    "dependsOn": [{"jobId": "5c3e", "type": "N_TO_N"}, {"jobId": "0a1b"},
                  {"jobId": "9f9f", "type": "SEQUENTIAL"}],
    "retryStrategy": {"attempts": 3},
    "timeout": {"attemptDurationSeconds": 3600},
    "containerOverrides": {
      "command": ["bwa", "mem"],
      "environment": [{"name": "TMPDIR", "value": "/scratch"}, {"name": "EMPTY", "value": ""}],
      "resourceRequirements": [{"type": "VCPU", "value": "16"}, {"type": "MEMORY", "value": "65536"},
                               {"type": "GPU", "value": "1"}]}})"));
}

TEST(BuildSubmitRequest, DefinitionAloneIsNamedAfterTheDefinition) {
  SubmitOptions o;
  o.definition = "arn:aws:batch:us-east-1:000000000000:job-definition/bwa-mem:3";
  o.memory_mib = 512;
  auto body = build_submit_request(o);
  ASSERT_TRUE(body) << body.error().to_string();
  EXPECT_EQ(*body, json::parse(R"({
    "jobName": "bwa-mem", "jobQueue": "default",
    "jobDefinition": "arn:aws:batch:us-east-1:000000000000:job-definition/bwa-mem:3",
    "containerOverrides": {"resourceRequirements": [{"type": "MEMORY", "value": "512"}]}})"));
}

TEST(BuildSubmitRequest, EveryBadFlagValueIsListed) {
  SubmitOptions o;
  o.parameters = {"novalue", "=x", "a=1", "a=2"};
  o.environment = {"K"};
  o.depends_on = {"=N_TO_N", "abc=ALL"};
  auto body = build_submit_request(o);
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code(), ErrorCode::kInvalidInput);
  std::vector<std::string> got;
  for (const auto& p : body.error().problems()) got.push_back(p.to_string());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "give a command after -- or a job definition with --definition",
                     "--param: \"novalue\" is not KEY=VALUE",
                     "--param: \"=x\" is not KEY=VALUE",
                     "--param: \"a\" is given twice",
                     "--depends-on: \"=N_TO_N\" has no job id",
                     "--depends-on: \"abc=ALL\": the type is N_TO_N or SEQUENTIAL, not \"ALL\"",
                     "--env: \"K\" is not KEY=VALUE",
                 }));
}

TEST(JobNameFromCommand, BasenameSanitisedAndBounded) {
  EXPECT_EQ(job_name_from_command("/usr/bin/python3.11"), "python3_11");
  EXPECT_EQ(job_name_from_command("./run.sh"), "run_sh");
  EXPECT_EQ(job_name_from_command("my tool"), "my_tool");
  EXPECT_EQ(job_name_from_command(".hidden"), "hidden");  // must start with a letter or digit
  EXPECT_EQ(job_name_from_command("dir/"), "dir");
  EXPECT_EQ(job_name_from_command("/"), "job");
  EXPECT_EQ(job_name_from_command("é"), "job");
  EXPECT_EQ(job_name_from_command(std::string(300, 'a')), std::string(128, 'a'));
}

}  // namespace
}  // namespace helix::cli
