// Compute environments, job queues and fair-share scheduling policies: the
// admin-defined objects jobs are submitted into (batch-semantics.md sections
// 7 and 8). Pure parsing, validation and wire shapes.
//
// helix compute environments are on-prem node sets, type UNMANAGED in AWS
// terms. Until nodes can join named CEs (NUMA scheduler and multi-node
// issues), the embedded node serves every enabled CE.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "queues/limits.h"
#include "queues/naming.h"

namespace helix::queues {

struct ComputeEnvironment {
  std::string name;
  bool enabled = true;
  std::optional<int64_t> unmanaged_vcpus;  // informational, as on AWS
  std::map<std::string, std::string> tags;
};

struct CeOrder {
  int order = 1;
  std::string compute_environment;  // a name
};

// AWS's JobStateTimeLimitAction: a RUNNABLE job blocked for `reason` for
// max_time_seconds is cancelled. state is always RUNNABLE and action always
// CANCEL (the only values AWS accepts), so they are not stored.
struct JobStateTimeLimitAction {
  std::string reason;  // one of kTimeLimitReasons
  int64_t max_time_seconds = 600;
};

// The blocked reasons AWS lets a time limit act on.
inline constexpr const char* kTimeLimitReasons[] = {
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
};

struct JobQueue {
  std::string name;
  bool enabled = true;
  int64_t priority = 0;
  std::vector<CeOrder> compute_environment_order;  // sorted by order
  std::optional<std::string> scheduling_policy;    // a name; none = FIFO
  std::map<std::string, std::string> tags;
  std::vector<JobStateTimeLimitAction> state_time_limit_actions;

  // The action for a blocked reason ("MISCONFIGURATION:... - details"
  // matches by its code before " - "), or nullptr.
  const JobStateTimeLimitAction* time_limit_for(const std::string& status_reason) const;
};

struct ShareWeight {
  std::string share_identifier;  // may end with '*'
  double weight_factor = 1.0;
};

struct SchedulingPolicy {
  std::string name;
  int64_t share_decay_seconds = 0;
  int64_t compute_reservation = 0;
  std::vector<ShareWeight> share_distribution;
  std::map<std::string, std::string> tags;
};

Result<ComputeEnvironment> parse_create_compute_environment(const nlohmann::json& body,
                                                            const Limits& limits);
// Applies an UpdateComputeEnvironment body to `ce` (its name is checked by the caller).
Result<ComputeEnvironment> apply_compute_environment_update(ComputeEnvironment ce,
                                                            const nlohmann::json& body);
nlohmann::json compute_environment_to_wire(const ComputeEnvironment& ce, const ArnFormat& arns);
nlohmann::json compute_environment_to_store(const ComputeEnvironment& ce);
ComputeEnvironment compute_environment_from_store(const nlohmann::json& doc);

// CE and policy references are reduced to names; the registry checks they exist.
Result<JobQueue> parse_create_job_queue(const nlohmann::json& body, const Limits& limits);
Result<JobQueue> apply_job_queue_update(JobQueue queue, const nlohmann::json& body,
                                        const Limits& limits);
nlohmann::json job_queue_to_wire(const JobQueue& queue, const ArnFormat& arns);
nlohmann::json job_queue_to_store(const JobQueue& queue);
JobQueue job_queue_from_store(const nlohmann::json& doc);

Result<SchedulingPolicy> parse_create_scheduling_policy(const nlohmann::json& body,
                                                        const Limits& limits);
Result<SchedulingPolicy> apply_scheduling_policy_update(SchedulingPolicy policy,
                                                        const nlohmann::json& body);
nlohmann::json scheduling_policy_to_wire(const SchedulingPolicy& policy, const ArnFormat& arns);
nlohmann::json scheduling_policy_to_store(const SchedulingPolicy& policy);
SchedulingPolicy scheduling_policy_from_store(const nlohmann::json& doc);

// "ENABLED" / "DISABLED" at `path`; records a problem otherwise.
std::optional<bool> parse_state(const std::optional<std::string>& state, const std::string& path,
                                Problems& problems);

}  // namespace helix::queues
