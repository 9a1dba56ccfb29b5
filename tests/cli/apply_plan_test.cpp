#include "cli/apply_plan.h"

#include <gtest/gtest.h>

namespace helix::cli {
namespace {

using nlohmann::json;
using Action = ApplyStep::Action;

ApplyDocument document(ApplyKind kind, const std::string& name, const std::string& body) {
  return {"f.json", kind, name, json::parse(body)};
}

TEST(SetsSameValues, ComparesOnlyWhatTheFileSets) {
  json existing = json::parse(R"({"a": 1, "b": {"c": [1, 2], "d": "x"}, "extra": true})");
  EXPECT_TRUE(sets_same_values(json::parse(R"({"a": 1.0, "b": {"c": [1, 2]}})"), existing));
  EXPECT_FALSE(sets_same_values(json::parse(R"({"a": 2})"), existing));
  EXPECT_FALSE(sets_same_values(json::parse(R"({"b": {"c": [2, 1]}})"), existing));  // ordered
  EXPECT_FALSE(sets_same_values(json::parse(R"({"b": {"c": [1]}})"), existing));
  EXPECT_FALSE(sets_same_values(json::parse(R"({"missing": 1})"), existing));
}

TEST(SetsSameValues, EvaluateOnExitActionIgnoresCase) {
  const json wanted = json::parse(R"({"retryStrategy": {"attempts": 2,
    "evaluateOnExit": [{"onExitCode": "137", "action": "retry"}]}})");
  const json stored = json::parse(R"({"retryStrategy": {"attempts": 2,
    "evaluateOnExit": [{"onExitCode": "137", "action": "RETRY"}]}})");
  EXPECT_TRUE(sets_same_values(wanted, stored));
  const json other = json::parse(R"({"retryStrategy": {"attempts": 2,
    "evaluateOnExit": [{"onExitCode": "137", "action": "EXIT"}]}})");
  EXPECT_FALSE(sets_same_values(wanted, other));
  // Other strings keep their case.
  EXPECT_FALSE(
      sets_same_values(json{{"jobDefinitionName", "a"}}, json{{"jobDefinitionName", "A"}}));
  // So does a parameter or tag that happens to be named "action".
  EXPECT_FALSE(sets_same_values(json::parse(R"({"parameters": {"action": "Run"}})"),
                                json::parse(R"({"parameters": {"action": "run"}})")));
  EXPECT_FALSE(sets_same_values(json::parse(R"({"tags": {"action": "Run"}})"),
                                json::parse(R"({"tags": {"action": "RUN"}})")));
}

TEST(SetsSameValues, NamedElementsMatchInAnyOrder) {
  // helixd lists resourceRequirements as VCPU, MEMORY, GPU whatever the file's order.
  json existing = json::parse(R"({"resourceRequirements": [{"type": "VCPU", "value": "1"},
      {"type": "MEMORY", "value": "128"}], "environment": [{"name": "A", "value": "1"}]})");
  EXPECT_TRUE(sets_same_values(json::parse(R"({"resourceRequirements": [
      {"type": "MEMORY", "value": "128"}, {"type": "VCPU", "value": "1"}]})"),
                               existing));
  EXPECT_FALSE(sets_same_values(json::parse(R"({"resourceRequirements": [
      {"type": "MEMORY", "value": "256"}, {"type": "VCPU", "value": "1"}]})"),
                                existing));
  EXPECT_FALSE(sets_same_values(json::parse(R"({"resourceRequirements": [
      {"type": "VCPU", "value": "1"}, {"type": "VCPU", "value": "1"}]})"),
                                existing));
}

TEST(PlanComputeEnvironment, CreateUpdateOrLeave) {
  auto doc = document(ApplyKind::kComputeEnvironment, "onprem",
                      R"({"computeEnvironmentName":"onprem","type":"UNMANAGED","state":"ENABLED",
                          "unmanagedvCpus":512,"tags":{"site":"hpc1"}})");
  auto create = plan_compute_environment(doc, nullptr);
  EXPECT_EQ(create.action, Action::kCreate);
  EXPECT_EQ(create.operation, "createcomputeenvironment");
  EXPECT_EQ(create.request, doc.body);

  json existing = json::parse(R"({"computeEnvironmentName":"onprem","type":"UNMANAGED",
      "state":"ENABLED","unmanagedvCpus":256,"status":"VALID",
      "computeEnvironmentArn":"arn:aws:batch:us-east-1:0:compute-environment/onprem"})");
  auto update = plan_compute_environment(doc, &existing);
  EXPECT_EQ(update.action, Action::kUpdate);
  EXPECT_EQ(update.operation, "updatecomputeenvironment");
  // Only updatable members; tags and type cannot change through UpdateComputeEnvironment.
  EXPECT_EQ(update.request, json::parse(R"({"computeEnvironment":"onprem","state":"ENABLED",
      "unmanagedvCpus":512})"));

  existing["unmanagedvCpus"] = 512;
  auto same = plan_compute_environment(doc, &existing);
  EXPECT_EQ(same.action, Action::kUnchanged);
  EXPECT_TRUE(same.operation.empty());
}

TEST(PlanSchedulingPolicy, UpdatesByArn) {
  auto doc = document(ApplyKind::kSchedulingPolicy, "fair",
                      R"({"name":"fair","fairsharePolicy":{"shareDecaySeconds":600,
                          "shareDistribution":[{"shareIdentifier":"b","weightFactor":1},
                                               {"shareIdentifier":"a","weightFactor":0.5}]}})");
  EXPECT_EQ(plan_scheduling_policy(doc, nullptr).operation, "createschedulingpolicy");
  json existing =
      json::parse(R"({"name":"fair","arn":"arn:aws:batch:us-east-1:0:scheduling-policy/fair",
      "fairsharePolicy":{"shareDecaySeconds":3600,"computeReservation":0,
          "shareDistribution":[{"shareIdentifier":"a","weightFactor":0.5},
                               {"shareIdentifier":"b","weightFactor":1.0}]}})");
  auto update = plan_scheduling_policy(doc, &existing);
  EXPECT_EQ(update.action, Action::kUpdate);
  EXPECT_EQ(update.request, json({{"arn", "arn:aws:batch:us-east-1:0:scheduling-policy/fair"},
                                  {"fairsharePolicy", doc.body["fairsharePolicy"]}}));
  existing["fairsharePolicy"]["shareDecaySeconds"] = 600;
  EXPECT_EQ(plan_scheduling_policy(doc, &existing).action, Action::kUnchanged);
}

TEST(PlanJobQueue, NamesInTheFileMatchArnsFromHelixd) {
  auto doc = document(ApplyKind::kJobQueue, "hpc",
                      R"({"jobQueueName":"hpc","state":"ENABLED","priority":10,
                          "schedulingPolicyArn":"arn:aws:batch:us-east-1:0:scheduling-policy/fair",
                          "computeEnvironmentOrder":[{"order":1,"computeEnvironment":"onprem"}],
                          "tags":{"team":"g"}})");
  json existing = json::parse(R"({"jobQueueName":"hpc","state":"ENABLED","priority":10,
      "status":"VALID","schedulingPolicyArn":"arn:aws:batch:eu-west-1:9:scheduling-policy/fair",
      "computeEnvironmentOrder":[{"order":1,
          "computeEnvironment":"arn:aws:batch:us-east-1:0:compute-environment/onprem"}]})");
  EXPECT_EQ(plan_job_queue(doc, &existing).action, Action::kUnchanged);

  existing["computeEnvironmentOrder"][0]["order"] = 2;
  auto update = plan_job_queue(doc, &existing);
  EXPECT_EQ(update.action, Action::kUpdate);
  EXPECT_EQ(update.operation, "updatejobqueue");
  EXPECT_EQ(update.request, json::parse(R"({"jobQueue":"hpc","state":"ENABLED","priority":10,
      "schedulingPolicyArn":"arn:aws:batch:us-east-1:0:scheduling-policy/fair",
      "computeEnvironmentOrder":[{"order":1,"computeEnvironment":"onprem"}]})"));

  EXPECT_EQ(plan_job_queue(doc, nullptr).operation, "createjobqueue");
}

TEST(PlanJobDefinition, RegistersOnlyWhenAFieldTheFileSetsDiffers) {
  auto doc = document(ApplyKind::kJobDefinition, "hello",
                      R"({"jobDefinitionName":"hello","type":"native",
                          "containerProperties":{"command":["echo","hi"],
                              "resourceRequirements":[{"type":"MEMORY","value":"128"},
                                                      {"type":"VCPU","value":"1"}]}})");
  auto first = plan_job_definition(doc, nullptr);
  EXPECT_EQ(first.action, Action::kRegister);
  EXPECT_EQ(first.operation, "registerjobdefinition");
  EXPECT_EQ(first.request, doc.body);

  // What helixd answers for revision 3 of that body: defaults filled in.
  json latest = json::parse(R"({"jobDefinitionName":"hello","revision":3,"status":"ACTIVE",
      "type":"native","parameters":{},"tags":{},"propagateTags":false,
      "platformCapabilities":["EC2"],
      "containerProperties":{"command":["echo","hi"],"environment":[],
          "resourceRequirements":[{"type":"VCPU","value":"1"},{"type":"MEMORY","value":"128"}]}})");
  auto same = plan_job_definition(doc, &latest);
  EXPECT_EQ(same.action, Action::kUnchanged);
  EXPECT_EQ(same.unchanged_revision, 3);

  latest["containerProperties"]["command"][1] = "hello";
  EXPECT_EQ(plan_job_definition(doc, &latest).action, Action::kRegister);
}

TEST(ApplyResultLine, OneLinePerObject) {
  auto def = document(ApplyKind::kJobDefinition, "bwa", R"({"jobDefinitionName":"bwa"})");
  ApplyStep registered{Action::kRegister, "registerjobdefinition", {}, std::nullopt};
  EXPECT_EQ(apply_result_line(def, registered, json::parse(R"({"revision":4})")),
            "job definition bwa: registered revision 4");
  ApplyStep unchanged{Action::kUnchanged, "", {}, 3};
  EXPECT_EQ(apply_result_line(def, unchanged, json()),
            "job definition bwa: unchanged (revision 3)");
  auto queue = document(ApplyKind::kJobQueue, "hpc", R"({"jobQueueName":"hpc"})");
  EXPECT_EQ(apply_result_line(queue, {Action::kCreate, "createjobqueue", {}, std::nullopt}, json()),
            "job queue hpc: created");
  EXPECT_EQ(apply_result_line(queue, {Action::kUpdate, "updatejobqueue", {}, std::nullopt}, json()),
            "job queue hpc: updated");
  EXPECT_EQ(apply_result_line(queue, {}, json()), "job queue hpc: unchanged");
}

}  // namespace
}  // namespace helix::cli
