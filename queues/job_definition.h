// Job definitions (RegisterJobDefinition): named, revisioned, immutable
// templates of jobs (docs/batch-semantics.md section 6). Pure.
//
// helix runs type "native" definitions now: containerProperties without an
// image, whose command runs as a host process. "container" (an OCI image)
// and "multinode" are refused with a reason until the multi-node issue adds
// them. IAM role fields are accepted and ignored: on-prem jobs run as Unix
// users, not IAM roles.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "queues/limits.h"
#include "queues/naming.h"
#include "queues/resources.h"
#include "queues/retry_strategy.h"

namespace helix::queues {

using Environment = std::vector<std::pair<std::string, std::string>>;

// What runs: the command (before or after Ref:: substitution), its
// environment and resources.
// A host path bound into a container job (AWS: volumes[].host.sourcePath
// joined with mountPoints[] by volume name).
struct MountPoint {
  std::string volume;
  std::string source_path;
  std::string container_path;
  bool read_only = false;
  bool operator==(const MountPoint&) const = default;
};

struct ContainerSpec {
  std::vector<std::string> command;
  Environment environment;
  ResourceRequirements resources;
  std::optional<std::string> user;  // run as this Unix user (root submitters only)
  // type "container": an OCI image layout "DIR[:TAG]" (TAG defaults to
  // latest), unpacked once per digest by the node, and its mounts.
  std::optional<std::string> image;
  std::vector<MountPoint> mounts;
  bool operator==(const ContainerSpec&) const = default;
};

struct NodeProperties;  // queues/node_properties.h

struct JobDefinition {
  std::string name;
  int revision = 0;
  bool active = true;
  std::string type = "native";
  std::map<std::string, std::string> parameters;
  ContainerSpec container;
  std::optional<RetryStrategy> retry_strategy;
  std::optional<int64_t> timeout_seconds;
  std::optional<int64_t> scheduling_priority;
  std::map<std::string, std::string> tags;
  bool propagate_tags = false;
  // type "multinode": one container per node range (shared so that copies
  // of a definition stay cheap; never null for multinode, null otherwise).
  std::shared_ptr<const NodeProperties> node_properties;
};

// Parses a RegisterJobDefinition body; every problem is reported. The
// revision is assigned by the registry.
Result<JobDefinition> parse_job_definition(const nlohmann::json& body, const Limits& limits);

// The JobDefinition wire shape of DescribeJobDefinitions.
nlohmann::json job_definition_to_wire(const JobDefinition& def, const ArnFormat& arns);
// Internal form for the store (the wire form minus ARNs).
nlohmann::json job_definition_to_store(const JobDefinition& def);
Result<JobDefinition> job_definition_from_store(const nlohmann::json& doc);

// containerProperties (is_override=false) or containerOverrides (true).
ContainerSpec parse_container_spec(const nlohmann::json& value, const std::string& path,
                                   bool is_override, Problems& problems);
nlohmann::json environment_to_wire(const Environment& env);
// image, volumes and mountPoints of a container in AWS's form (nothing for
// a native one), added to `j`.
void container_image_to_wire(const ContainerSpec& c, nlohmann::json& j);

// Environment `over` added to or replacing variables of `base` by name.
Environment merge_environment(const Environment& base, const Environment& over);

// Whole-element Ref::name substitution in a command (AWS: command only).
// Unknown placeholders stay literal and are listed in `unresolved`.
std::vector<std::string> substitute_parameters(const std::vector<std::string>& command,
                                               const std::map<std::string, std::string>& params,
                                               std::vector<std::string>* unresolved);

}  // namespace helix::queues
