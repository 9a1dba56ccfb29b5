// StateMachine: an ASL definition parsed and validated once. Paths,
// templates, intrinsics and JSONata are compiled here so that running a
// state never parses text (the interpreter's hot path only evaluates).
//
// Owns: the states of every flow (top level, Parallel branches, Map
// processors) in a flat list of Flows with stable integer ids, so an
// Execution can name a flow in its serialised form. Does not own: running
// anything (execution.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipelines/engine/choice.h"
#include "pipelines/engine/payload.h"

namespace helix::asl {

enum class StateType { kPass, kTask, kChoice, kWait, kSucceed, kFail, kParallel, kMap };
const char* state_type_name(StateType type);  // "Pass", ...

struct Retrier {
  std::vector<std::string> errors;
  double interval_seconds = 1;
  int max_attempts = 3;
  double backoff_rate = 2;
  std::optional<double> max_delay_seconds;
  bool is_jitter_full = false;
};

struct Catcher {
  std::vector<std::string> errors;
  std::string next;
  std::optional<JsonPath> result_path;  // JSONPath: where the error output goes
  bool is_result_path_null = false;
  std::shared_ptr<Template> assign;
  std::shared_ptr<Template> output;  // JSONata
};

// A JSONPath field that may be a path, null (meaning {} or "discard") or absent.
struct OptionalPath {
  bool is_present = false;
  bool is_null = false;
  std::optional<JsonPath> path;
};

struct State {
  std::string name;
  StateType type = StateType::kPass;
  bool is_jsonata = false;
  std::string next;
  bool is_end = false;

  OptionalPath input_path, result_path, output_path;
  std::shared_ptr<Template> parameters;       // Parameters / Arguments
  std::shared_ptr<Template> result_selector;  // ResultSelector
  std::optional<Json> result;                 // Pass Result
  size_t result_bytes = 0;                    // its serialised size, for the payload limit
  std::shared_ptr<Template> assign;
  std::shared_ptr<Template> output;  // JSONata Output

  // Task
  std::string resource;
  std::optional<double> timeout_seconds, heartbeat_seconds;
  std::optional<JsonPath> timeout_seconds_path, heartbeat_seconds_path;
  std::shared_ptr<Template> timeout_template, heartbeat_template;  // JSONata

  // Choice
  std::vector<ChoiceRule> choices;
  std::string default_next;

  // Wait
  std::optional<double> wait_seconds;
  std::optional<std::string> wait_timestamp;
  std::optional<JsonPath> wait_seconds_path, wait_timestamp_path;
  std::shared_ptr<Template> wait_seconds_template, wait_timestamp_template;

  // Fail
  std::optional<std::string> error, cause;
  std::optional<JsonPath> error_path, cause_path;
  std::shared_ptr<Template> error_template, cause_template;
  // ErrorPath / CausePath as {"v.$": path-or-intrinsic}: AWS accepts intrinsics there.
  std::shared_ptr<Template> error_path_template, cause_path_template;

  // Parallel (branches) and Map (processor): flow ids in StateMachine::flows.
  std::vector<int> branches;
  int processor = -1;
  bool is_distributed = false;
  std::optional<JsonPath> items_path;
  std::shared_ptr<Template> items;  // JSONata Items
  std::shared_ptr<Template> item_selector;
  int max_concurrency = 0;
  std::shared_ptr<Template> max_concurrency_template, tolerated_count_template,
      tolerated_percentage_template;  // JSONata "{% %}" forms
  std::optional<JsonPath> max_concurrency_path;
  std::optional<double> tolerated_failure_percentage;
  std::optional<int> tolerated_failure_count;
  std::optional<JsonPath> tolerated_failure_percentage_path, tolerated_failure_count_path;
  std::optional<Json> item_batcher;
  std::optional<Json> item_reader, result_writer;
  // ItemReader / ResultWriter Parameters (JSONPath) or Arguments (JSONata).
  std::shared_ptr<Template> item_reader_parameters, result_writer_parameters;

  std::vector<Retrier> retriers;
  std::vector<Catcher> catchers;
};

// A Task whose integration pattern gives it a task token ($$.Task.Token):
// ".sync" (run a job) or ".waitForTaskToken" (callback).
bool has_task_token(const State& state);

struct Flow {
  int id = 0;
  std::string start_at;
  std::vector<State> states;
  std::unordered_map<std::string, size_t> index;
  const State* find(const std::string& name) const {
    auto it = index.find(name);
    return it == index.end() ? nullptr : &states[it->second];
  }
};

// One problem in a definition, in ValidateStateMachineDefinition's form.
struct Diagnostic {
  std::string severity = "ERROR";
  std::string code;  // "SCHEMA_VALIDATION_FAILED", "MISSING_TRANSITION_TARGET", ...
  std::string message;
  std::string location;  // "/States/A/Next"
};

struct StateMachine {
  std::vector<std::unique_ptr<Flow>> flows;  // flows[0] is the top level
  bool is_jsonata = false;
  std::optional<double> timeout_seconds;
  Json source;

  const Flow& top() const { return *flows[0]; }
};

struct ParseOptions {
  // EXPRESS machines may not use .sync or .waitForTaskToken integrations.
  bool is_express = false;
};

// Parses and validates. On failure returns every diagnostic found.
tl::expected<std::shared_ptr<const StateMachine>, std::vector<Diagnostic>> parse_state_machine(
    const Json& definition, ParseOptions options = {});

// The InvalidDefinition message CreateStateMachine gives for diagnostics.
std::string invalid_definition_message(const std::vector<Diagnostic>& diagnostics);

}  // namespace helix::asl
