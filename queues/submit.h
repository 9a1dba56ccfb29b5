// SubmitJob: parsing the request and resolving it against its job
// definition and queue into the job (and, for arrays, its children).
// batch-semantics.md section 6: submit parameters merge over the
// definition's, substitution happens in the command only, overrides replace
// the command, add to the environment and override resources per type;
// retryStrategy and timeout replace the definition's as whole objects. Pure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/rng.h"
#include "common/time.h"
#include "queues/compute_environment.h"
#include "queues/job.h"
#include "queues/job_definition.h"
#include "queues/limits.h"
#include "queues/node_properties.h"

namespace helix::queues {

struct SubmitRequest {
  std::string job_name;
  std::string job_queue;       // name
  std::string job_definition;  // name, name:rev (ARN prefix removed)
  std::optional<int> array_size;
  std::vector<Dependency> depends_on;
  std::map<std::string, std::string> parameters;
  ContainerSpec overrides;
  std::optional<RetryStrategy> retry_strategy;
  std::optional<int64_t> timeout_seconds;
  std::map<std::string, std::string> tags;
  std::optional<bool> propagate_tags;
  std::optional<std::string> share_identifier;
  std::optional<int64_t> scheduling_priority_override;
  std::optional<NodeOverrides> node_overrides;
};

// Checks every field and limit; `raw_size` is the request body's byte count.
Result<SubmitRequest> parse_submit_request(const nlohmann::json& body, size_t raw_size,
                                           const Limits& limits);

// The definition reference: name and optional revision.
struct DefinitionRef {
  std::string name;
  std::optional<int> revision;
};
Result<DefinitionRef> parse_definition_ref(const std::string& text);

// Builds the job, then for an array its children "<id>:<i>" (SUBMITTED, each
// waiting for the parent's plain dependencies and, per index, N_TO_N peers
// and the SEQUENTIAL predecessor). `id` is the new job's UUID.
// `dependency_array_size` tells, for each plain/N_TO_N dependency id, the
// array size when it is an array parent (the caller looks it up).
Result<std::vector<Job>> resolve_submission(
    const SubmitRequest& request, const JobDefinition& definition, const JobQueue& queue,
    const Owner& owner, const std::string& id, TimePoint now,
    const std::map<std::string, std::optional<int>>& dependency_array_size);

}  // namespace helix::queues
