// The AWS Step Functions JSON 1.0 protocol (issue #4, item 1) and the state
// machine catalogue (item 2), as a pure core: no clock, no store, no I/O.
//
// Owns: decoding `X-Amz-Target: AWSStepFunctions.<Operation>`, the error
// shapes the aws CLI and boto3 parse (`{"__type", "message", "reason"?}`, all
// HTTP 400 for modeled errors), timestamps as epoch seconds with a fraction,
// ARN and name rules, and the in-memory state machine catalogue with
// Create/Describe/List/Update/Delete/ValidateStateMachineDefinition.
// Does not own: HTTP, SigV4 (batch_api.cpp verifies and routes), durability
// (the controller's store), or running executions (pipelines/engine).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/time.h"

namespace helix::states {

// One reply of the JSON 1.0 protocol: HTTP status and body.
struct ApiReply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
};

// A modeled error: `{"__type": type, "message": message, "reason"?}`, 400.
ApiReply error_reply(std::string_view type, std::string message,
                     std::optional<std::string> reason = std::nullopt);

// "AWSStepFunctions.StartExecution" -> "StartExecution"; anything else is
// refused (the caller answers UnknownOperationException).
Result<std::string> operation_from_target(std::string_view target);

// A request's string member, or "" when absent or not a string.
std::string string_member(const nlohmann::json& request, const char* key);
// ValidationException for a required member that is absent.
ApiReply missing(const char* member);
// A List call's maxResults: 100 when absent or 0, at most 1000; anything
// else sets *refusal to the ValidationException and returns nullopt.
std::optional<size_t> page_size(const nlohmann::json& request, ApiReply* refusal);

// The wire form of a timestamp: epoch seconds with millisecond fraction.
double epoch_seconds(TimePoint t);

// Names of state machines, executions and activities: 1-80 characters, no
// whitespace, brackets, wildcards, control characters or "#%\^|~`$&,;:/.
bool is_valid_name(std::string_view name);

// The region and account every ARN this helixd issues carries.
struct ArnScope {
  std::string region = "us-east-1";
  std::string account = "123456789012";
};

std::string state_machine_arn(const ArnScope& scope, std::string_view name);
std::string execution_arn(const ArnScope& scope, std::string_view machine,
                          std::string_view execution);
// The name part of a state machine ARN of this scope, or nullopt if the text
// is not one (the caller answers InvalidArn).
std::optional<std::string> state_machine_name_from_arn(const ArnScope& scope, std::string_view arn);

struct StateMachineRecord {
  std::string name;
  std::string arn;
  std::string type = "STANDARD";  // or EXPRESS
  std::string definition;         // as the caller sent it: compared as text
  std::string role_arn;
  TimePoint creation_date{};
  TimePoint update_date{};
  int revision = 1;
};

// The state machines of one helixd, keyed by name (so List is in name order,
// which makes nextToken a stable name cursor).
class StateMachineCatalog {
 public:
  explicit StateMachineCatalog(ArnScope scope = {}) : scope_(std::move(scope)) {}

  // Dispatches one of the state machine operations; any other operation
  // name gives UnknownOperationException. `now` stamps creation/update.
  ApiReply handle(std::string_view operation, const nlohmann::json& request, TimePoint now);

  bool handles(std::string_view operation) const;
  const StateMachineRecord* find_by_arn(std::string_view arn) const;
  const StateMachineRecord* find_by_name(const std::string& name) const;
  // A stored machine, after a restart.
  void restore(StateMachineRecord record);
  const ArnScope& scope() const { return scope_; }

 private:
  ApiReply create(const nlohmann::json& request, TimePoint now);
  ApiReply describe(const nlohmann::json& request) const;
  ApiReply list(const nlohmann::json& request) const;
  ApiReply update(const nlohmann::json& request, TimePoint now);
  ApiReply remove(const nlohmann::json& request);

  ArnScope scope_;
  std::map<std::string, StateMachineRecord> machines_;
};

// The store's form of a machine (every field, dates in epoch microseconds).
nlohmann::json state_machine_to_store(const StateMachineRecord& record);
Result<StateMachineRecord> state_machine_from_store(const nlohmann::json& doc);

// ValidateStateMachineDefinition: always 200 with {result, diagnostics, truncated}.
ApiReply validate_definition(const nlohmann::json& request);

}  // namespace helix::states
