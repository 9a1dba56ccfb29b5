// Resource requests of a job: whole vCPUs, memory in MiB, whole GPUs
// (AWS Batch ResourceRequirement). Parsed from the wire's
// [{"type": "VCPU", "value": "16"}] form, where values are strings.
//
// helix semantics (docs/batch-semantics.md section 11): a vCPU is an
// exclusive PU, MEMORY is a hard limit in MiB, GPU is a count of whole
// devices. Fractional vCPUs exist only on Fargate and are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace helix::queues {

// Requirements as given by a definition or an override: each type optional.
struct ResourceRequirements {
  std::optional<int64_t> vcpus;
  std::optional<int64_t> memory_mib;
  std::optional<int64_t> gpus;

  // Per type, `over` wins where it sets a value (ContainerOverrides semantics).
  ResourceRequirements overridden_by(const ResourceRequirements& over) const;
  bool operator==(const ResourceRequirements&) const = default;
};

// Resolved requirements of a job: what the scheduler reserves.
struct ResourceRequest {
  int64_t vcpus = 1;
  int64_t memory_mib = 0;
  int64_t gpus = 0;
  bool operator==(const ResourceRequest&) const = default;
};

// Parses a resourceRequirements array at `path`, adding every problem to
// `problems` (unknown type, duplicate type, non-numeric or out-of-range value).
ResourceRequirements parse_resource_requirements(const nlohmann::json& array,
                                                 const std::string& path, Problems& problems);

// The wire form, types in VCPU, MEMORY, GPU order, omitting unset ones.
nlohmann::json resource_requirements_to_wire(const ResourceRequirements& r);
nlohmann::json resource_request_to_wire(const ResourceRequest& r);

}  // namespace helix::queues
