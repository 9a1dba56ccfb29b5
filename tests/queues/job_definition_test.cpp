#include "queues/job_definition.h"

#include <gtest/gtest.h>

namespace helix::queues {
namespace {

using nlohmann::json;

TEST(ParseJobDefinition, NativeDefinitionWithEverything) {
  auto def = parse_job_definition(json::parse(R"({
    "jobDefinitionName": "align", "type": "native",
    "parameters": {"threads": "4"},
    "containerProperties": {"command": ["bwa", "-t", "Ref::threads"],
      "environment": [{"name": "REF", "value": "/ref"}],
      "resourceRequirements": [{"type": "VCPU", "value": "4"}, {"type": "MEMORY", "value": "2048"}],
      "jobRoleArn": "arn:aws:iam::1:role/x"},
    "retryStrategy": {"attempts": 3}, "timeout": {"attemptDurationSeconds": 600},
    "schedulingPriority": 5, "tags": {"team": "g"}})"),
                                  Limits{});
  ASSERT_TRUE(def) << def.error().message();
  EXPECT_EQ(def->container.command, (std::vector<std::string>{"bwa", "-t", "Ref::threads"}));
  EXPECT_EQ(def->container.resources.vcpus, 4);
  EXPECT_EQ(def->container.resources.memory_mib, 2048);
  EXPECT_EQ(def->retry_strategy->attempts, 3);
  EXPECT_EQ(def->timeout_seconds, 600);
  auto wire = job_definition_to_wire(*def, ArnFormat{});
  EXPECT_EQ(wire["containerProperties"]["environment"][0]["name"], "REF");
  auto back = job_definition_from_store(job_definition_to_store(*def));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->container, def->container);
}

TEST(ParseJobDefinition, RefusesWholeWithEveryProblemNamed) {
  auto def = parse_job_definition(json::parse(R"({
    "jobDefinitionName": "bad name", "type": "native", "colour": "red",
    "containerProperties": {"command": ["x", ""], "image": "busybox",
      "environment": [{"name": "AWS_BATCH_X", "value": "1"}],
      "resourceRequirements": [{"type": "VCPU", "value": "0.5"}]},
    "timeout": {"attemptDurationSeconds": 10}})"),
                                  Limits{});
  ASSERT_FALSE(def);
  const std::string& m = def.error().message();
  for (const char* expected :
       {"jobDefinitionName: \"bad name\" may contain only", "colour: unknown field",
        "containerProperties.command[1]: must not be an empty string", "containerProperties.image",
        "containerProperties.environment[0].name: \"AWS_BATCH_X\"", "fractional vCPUs",
        "timeout.attemptDurationSeconds: 10 is below the minimum of 60"}) {
    EXPECT_NE(m.find(expected), std::string::npos) << "missing: " << expected << "\nin: " << m;
  }
}

TEST(ParseJobDefinition, ContainerJobsNeedAnImageLayoutAndNamedVolumes) {
  auto missing = parse_job_definition(
      json::parse(R"({"jobDefinitionName": "a", "type": "container", "containerProperties": {}})"),
      Limits{});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("containerProperties.image: is required"),
            std::string::npos);
  auto bad = parse_job_definition(json::parse(R"({"jobDefinitionName": "a", "type": "container",
      "containerProperties": {"image": "busybox:latest", "command": ["true"],
        "volumes": [{"name": "data", "host": {"sourcePath": "/srv"}}],
        "mountPoints": [{"sourceVolume": "other", "containerPath": "/data"}]}})"),
                                  Limits{});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("\"busybox:latest\" is not an OCI image layout"),
            std::string::npos)
      << bad.error().message();
  EXPECT_NE(bad.error().message().find("mountPoints[0].sourceVolume: \"other\" is not in volumes"),
            std::string::npos)
      << bad.error().message();
  auto good = parse_job_definition(json::parse(R"({"jobDefinitionName": "a", "type": "container",
      "containerProperties": {"image": "/images/tools:1.0", "command": ["true"],
        "volumes": [{"name": "data", "host": {"sourcePath": "/srv"}}],
        "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": true}]}})"),
                                   Limits{});
  ASSERT_TRUE(good) << good.error().message();
  EXPECT_EQ(good->container.image, "/images/tools:1.0");
  ASSERT_EQ(good->container.mounts.size(), 1u);
  EXPECT_EQ(good->container.mounts[0], (MountPoint{"data", "/srv", "/data", true}));
  // The stored form reads back the same.
  auto again = job_definition_from_store(job_definition_to_store(*good));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->container, good->container);
}

TEST(SubstituteParameters, WholeElementsOnlyUnknownStayLiteral) {
  std::vector<std::string> unresolved;
  auto out = substitute_parameters({"echo", "Ref::a", "x-Ref::a", "Ref::missing"}, {{"a", "1"}},
                                   &unresolved);
  EXPECT_EQ(out, (std::vector<std::string>{"echo", "1", "x-Ref::a", "Ref::missing"}));
  EXPECT_EQ(unresolved, (std::vector<std::string>{"Ref::missing"}));
}

TEST(MergeEnvironment, OverridesByNameAndAdds) {
  auto env = merge_environment({{"A", "1"}, {"B", "2"}}, {{"B", "3"}, {"C", "4"}});
  EXPECT_EQ(env, (Environment{{"A", "1"}, {"B", "3"}, {"C", "4"}}));
}

}  // namespace
}  // namespace helix::queues
