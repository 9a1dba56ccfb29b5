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

TEST(ParseJobDefinition, ContainerTypeIsNotSupportedYet) {
  auto def = parse_job_definition(
      json::parse(R"({"jobDefinitionName": "a", "type": "container", "containerProperties": {}})"),
      Limits{});
  ASSERT_FALSE(def);
  EXPECT_NE(def.error().message().find("type: \"container\" jobs are not supported yet"),
            std::string::npos);
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
