// `helix apply`: what to send for one document given what helixd already
// has, so that applying the same files twice changes nothing.
//
// "The same" compares only the fields the file sets (a server fills in
// defaults, ARNs for names, an ordering of its own):
// - objects: every key of the file's object, recursively;
// - arrays: same length, and element by element, except that arrays of
//   objects that each carry "name", "type" or "shareIdentifier" (environment,
//   resourceRequirements, shareDistribution) are matched by that key, since
//   their order has no meaning;
// - scalars: equal JSON values (1 equals 1.0).
// Job queues compare compute environments and the scheduling policy by name,
// so a file may name them where helixd answers with ARNs.
// Pure.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/apply_documents.h"

namespace helix::cli {

struct ApplyStep {
  enum class Action { kCreate, kUpdate, kRegister, kUnchanged };
  Action action = Action::kUnchanged;
  std::string operation;                      // "createjobqueue"...; empty when kUnchanged
  nlohmann::json request;                     // the body to POST to /v1/<operation>
  std::optional<int64_t> unchanged_revision;  // job definitions left as they are
};

// True when every field `wanted` sets has the same value in `existing`, by
// the rules above.
bool sets_same_values(const nlohmann::json& wanted, const nlohmann::json& existing);

// `existing` is the DescribeComputeEnvironments element of that name, or
// null. Create: the file's body. Update: {"computeEnvironment": name} and the
// updatable fields the file sets (state, unmanagedvCpus, computeResources,
// serviceRole, updatePolicy, context); unchanged when all of them already
// hold.
ApplyStep plan_compute_environment(const ApplyDocument& document, const nlohmann::json* existing);

// `existing` is the DescribeSchedulingPolicies element of that name (it has
// the arn), or null. Update: {"arn", "fairsharePolicy"}.
ApplyStep plan_scheduling_policy(const ApplyDocument& document, const nlohmann::json* existing);

// `existing` is the DescribeJobQueues element, or null. Update:
// {"jobQueue": name} and the fields the file sets among state, priority,
// computeEnvironmentOrder, schedulingPolicyArn, jobStateTimeLimitActions.
ApplyStep plan_job_queue(const ApplyDocument& document, const nlohmann::json* existing);

// `latest_active` is the ACTIVE revision with the highest number, or null.
// Register (the file's body) unless every field the file sets but
// jobDefinitionName already holds in it.
ApplyStep plan_job_definition(const ApplyDocument& document, const nlohmann::json* latest_active);

// "job queue hpc-high: created", "job definition bwa-mem: registered
// revision 4", "... unchanged" (with "(revision 3)" for a definition).
// `response` is helixd's answer to the step's request (null when none).
std::string apply_result_line(const ApplyDocument& document, const ApplyStep& step,
                              const nlohmann::json& response);

}  // namespace helix::cli
