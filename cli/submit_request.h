// `helix submit` options turned into the AWS SubmitJob request body
// (POST /v1/submitjob), member names exactly as AWS Batch spells them.
//
// Owns: mapping each flag to its member, the default job name and job
// definition, and refusing malformed flag values (KEY=VALUE pairs,
// dependency types). Does not own: range checks (array size, attempts,
// resources), which helixd makes and reports with the field's JSON path.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace helix::cli {

// The job definition helixd registers on first start for plain commands.
inline constexpr const char* kCommandDefinition = "helix-command";

struct SubmitOptions {
  std::string queue = "default";
  std::optional<std::string> definition;   // NAME or NAME:REVISION (or an ARN)
  std::optional<std::string> name;         // jobName
  std::vector<std::string> parameters;     // KEY=VALUE, each key once
  std::optional<int64_t> array_size;       // arrayProperties.size
  std::vector<std::string> depends_on;     // ID, ID=N_TO_N or ID=SEQUENTIAL
  std::optional<int64_t> retries;          // retryStrategy.attempts
  std::optional<int64_t> timeout_seconds;  // timeout.attemptDurationSeconds
  std::optional<int64_t> vcpus;
  std::optional<int64_t> memory_mib;
  std::optional<int64_t> gpus;
  std::vector<std::string> environment;  // KEY=VALUE, each key once
  std::vector<std::string> command;      // after "--"
};

// The SubmitJob body. Members appear only when their flag was given:
//   helix submit --vcpus 2 -- ./align.sh x
//   -> {"jobName":"align_sh","jobQueue":"default","jobDefinition":"helix-command",
//       "containerOverrides":{"command":["./align.sh","x"],
//                             "resourceRequirements":[{"type":"VCPU","value":"2"}]}}
// resourceRequirements lists VCPU, MEMORY, GPU in that order, values as
// strings (as AWS requires). InvalidInput, one problem per bad flag value,
// path the flag ("--param", "--depends-on", ...), when: neither a command nor
// --definition is given; a --param or --env is not KEY=VALUE or repeats a
// key; a --depends-on has an empty id or a type other than N_TO_N or
// SEQUENTIAL.
Result<nlohmann::json> build_submit_request(const SubmitOptions& options);

// The default jobName for a command: the basename of argv[0] with every
// character outside [A-Za-z0-9_-] replaced by '_', leading characters that
// are not a letter or digit dropped (AWS requires the first to be one), at
// most 128 characters; "job" if nothing is left. "./run.sh" -> "run_sh".
std::string job_name_from_command(const std::string& argv0);

// The default jobName for a definition reference: its name without the
// revision or ARN prefix. "arn:...:job-definition/bwa-mem:3" -> "bwa-mem".
std::string job_name_from_definition(const std::string& definition);

}  // namespace helix::cli
