#include "pipelines/engine/test_state.h"

#include <algorithm>
#include <iterator>

namespace helix::asl {
namespace {

Json api_error(const std::string& error, const std::string& cause) {
  return Json{{"status", "API_ERROR"}, {"error", error}, {"cause", cause}};
}

// A JSON value given either as text or already parsed.
std::optional<Json> json_of(const Json& v) {
  if (v.is_string()) {
    Json parsed = Json::parse(v.get<std::string>(), nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
  }
  return v;
}

void add_target(Json& states, const Json& name) {
  if (name.is_string() && !states.contains(name.get<std::string>()))
    states[name.get<std::string>()] = Json{{"Type", "Succeed"}};
}

// The States object that holds `name`, searching the top level, Parallel
// branches and Map processors (TestState may name a nested state).
const Json* find_states_with(const Json& flow, const std::string& name) {
  if (!flow.is_object()) return nullptr;
  auto states = flow.find("States");
  if (states == flow.end() || !states->is_object()) return nullptr;
  if (states->contains(name)) return &*states;
  for (const auto& [state_name, state] : states->items()) {
    if (!state.is_object()) continue;
    for (const char* key : {"ItemProcessor", "Iterator"})
      if (auto p = state.find(key); p != state.end())
        if (const Json* found = find_states_with(*p, name)) return found;
    if (auto b = state.find("Branches"); b != state.end() && b->is_array())
      for (const auto& branch : *b)
        if (const Json* found = find_states_with(branch, name)) return found;
  }
  return nullptr;
}

// TestState's context must hold only the fields a context object has, and
// a Task member only where the state has a task token (recorded refusals).
std::optional<Json> check_context(const Json& context, const State& state) {
  static const char* kTop[] = {"Execution", "State", "StateMachine", "Task", "Map"};
  static const char* kExecution[] = {"Id",        "Input",        "Name",       "RoleArn",
                                     "StartTime", "RedriveCount", "RedriveTime"};
  auto is_one_of = [](const std::string& key, const auto& names) {
    return std::any_of(std::begin(names), std::end(names),
                       [&](const char* name) { return key == name; });
  };
  for (const auto& [key, value] : context.items()) {
    if (!is_one_of(key, kTop))
      return api_error("ValidationException",
                       "Invalid Context object provided: Field '" + key + "' is not allowed");
    if (key == "Execution" && value.is_object())
      for (const auto& [field, v] : value.items())
        if (!is_one_of(field, kExecution))
          return api_error("ValidationException",
                           "Invalid Context object provided: Field '" + field + "' is not allowed");
  }
  if (context.contains("Task") && !has_task_token(state))
    return api_error("ValidationException",
                     "Invalid Context object provided: Context object contains 'Task' when state "
                     "is not a Task state with a '.sync' or '.waitForTaskToken' service "
                     "integration pattern");
  return std::nullopt;
}

// TestState runs the state as an express execution would: recorded context
// objects carry an express execution ARN (arn:...:express:<machine>:<name>).
ExecutionContext express_context() {
  ExecutionContext ctx;
  ctx.execution_arn = "arn:aws:states:us-east-1:000000000000:express:" + ctx.state_machine_name +
                      ":" + ctx.execution_name;
  return ctx;
}

}  // namespace

Json test_state(const TestStateRequest& request, TimePoint now, Rng& rng) {
  Json input = Json::parse(request.input_text.empty() ? "{}" : request.input_text, nullptr, false);
  if (input.is_discarded())
    return api_error("InvalidExecutionInput", "the input is not valid JSON");
  if (!request.definition.is_object()) return api_error("InvalidDefinition", "not a definition");

  // Build a machine that starts at the state under test. Its transition
  // targets become Succeed placeholders: TestState never runs them.
  Json machine_json;
  std::string name = request.state_name;
  if (!name.empty()) {
    const Json* states = find_states_with(request.definition, name);
    if (!states)
      return api_error("ValidationException",
                       "State with name '" + name + "' does not exist in the definition");
    machine_json = Json{{"StartAt", name}, {"States", *states}};
    if (request.definition.contains("QueryLanguage"))
      machine_json["QueryLanguage"] = request.definition["QueryLanguage"];
  } else {
    name = "StateName";
    machine_json = Json{{"StartAt", name}, {"States", {{name, request.definition}}}};
  }
  {
    Json& states = machine_json["States"];
    const Json state = states[name];
    add_target(states, state.value("Next", Json()));
    add_target(states, state.value("Default", Json()));
    for (const auto& c : state.value("Choices", Json::array()))
      add_target(states, c.value("Next", Json()));
    for (const auto& c : state.value("Catch", Json::array()))
      add_target(states, c.value("Next", Json()));
  }
  auto machine = parse_state_machine(machine_json);
  if (!machine) return api_error("InvalidDefinition", invalid_definition_message(machine.error()));
  const State* state = (*machine)->top().find(name);

  SingleStateTrace trace;
  if (request.mock.is_object()) {
    bool has_result = request.mock.contains("result");
    bool has_error = request.mock.contains("errorOutput");
    if (has_result && has_error)
      return api_error("ValidationException",
                       "A test state mock can have a result or an errorOutput, not both");
    if (has_result) {
      auto r = json_of(request.mock["result"]);
      if (!r) return api_error("ValidationException", "Mock result is not valid JSON");
      trace.mock_result = *r;
    }
    if (has_error) {
      const Json& e = request.mock["errorOutput"];
      trace.mock_error = AslError{
          e.value("error", ""),
          e.contains("cause") ? std::optional<std::string>(e.value("cause", "")) : std::nullopt};
    }
  }
  bool has_mock = trace.mock_result || trace.mock_error;
  if (request.state_configuration.is_object()) {
    const Json& cfg = request.state_configuration;
    if (cfg.contains("retrierRetryCount") && cfg["retrierRetryCount"].is_number_integer())
      trace.retrier_retry_count = cfg["retrierRetryCount"].get<int>();
    if (cfg.contains("mapIterationFailureCount") &&
        cfg["mapIterationFailureCount"].is_number_integer())
      trace.map_iteration_failure_count = cfg["mapIterationFailureCount"].get<int64_t>();
  }
  if (trace.map_iteration_failure_count && !has_mock)
    return api_error("ValidationException", "mapIterationFailureCount needs a mock result");
  bool takes_mock = state->type == StateType::kMap || state->type == StateType::kParallel ||
                    state->type == StateType::kTask;
  // Recorded: a mock on a state that runs no work is a ValidationException;
  // a Map or Parallel without one is refused as InvalidDefinition.
  if (has_mock && !takes_mock)
    return api_error("ValidationException",
                     "A mock can only be given for Task, Map and Parallel states");
  if (!has_mock && state->type != StateType::kTask && takes_mock)
    return api_error(
        "InvalidDefinition",
        "TestState of a " + std::string(state_type_name(state->type)) + " state needs a mock");
  if (!has_mock && takes_mock)
    return api_error("ValidationException",
                     "TestState of a " + std::string(state_type_name(state->type)) +
                         " state needs a mock: helix runs no service integrations here");
  // Recorded TestState refusals of inconsistent mocks and configurations.
  if (trace.mock_result && request.reveal_secrets)
    return api_error("ValidationException", "revealSecrets cannot be used with a mock result");
  if (trace.mock_result && state->type == StateType::kMap && !state->result_writer &&
      !trace.mock_result->is_array())
    return api_error("ValidationException", "the mock result of a Map state must be an array");
  if (trace.mock_result && state->type == StateType::kMap && trace.map_iteration_failure_count &&
      trace.mock_result->is_array() &&
      *trace.map_iteration_failure_count > static_cast<int64_t>(trace.mock_result->size()))
    return api_error("ValidationException",
                     "mapIterationFailureCount exceeds the number of items in the mock result");
  if (trace.mock_result && state->type == StateType::kParallel &&
      (!trace.mock_result->is_array() || trace.mock_result->size() != state->branches.size()))
    return api_error(
        "ValidationException",
        "the mock result of a Parallel state must be an array with one entry per branch");
  if (!request.context.is_null()) {
    auto c = json_of(request.context);
    if (!c || !c->is_object())
      return api_error("ValidationException", "Invalid Context object provided");
    if (auto refused = check_context(*c, *state)) return *refused;
    trace.context_override = *c;
  }
  if (request.role_arn) trace.role_arn = *request.role_arn;
  Json variables = Json::object();
  if (!request.variables.is_null()) {
    auto v = json_of(request.variables);
    if (!v || !v->is_object())
      return api_error("ValidationException", "variables must be a JSON object");
    variables = *v;
  }

  ExecutionOptions options;
  options.single_state = &trace;
  options.is_recording_history = false;
  Execution execution(*machine, options);
  Effects fx = execution.start_with_variables(input, variables, express_context(), now, rng);

  Json out = Json::object();
  if (fx.status == ExecutionStatus::kSucceeded) {
    out["status"] = trace.is_caught ? "CAUGHT_ERROR" : "SUCCEEDED";
    out["output"] = *fx.output;
    if (trace.is_caught) {
      out["error"] = trace.error.error;
      if (trace.error.cause) out["cause"] = *trace.error.cause;
    }
  } else if (fx.status == ExecutionStatus::kFailed) {
    out["status"] = trace.is_retriable ? "RETRIABLE" : "FAILED";
    if (fx.error) out["error"] = *fx.error;
    if (fx.cause) out["cause"] = *fx.cause;
  } else {
    return api_error("ValidationException", "the state did not finish in one step");
  }
  if (trace.next_state) out["nextState"] = *trace.next_state;
  if (request.inspection_level == "DEBUG" || request.inspection_level == "TRACE") {
    Json inspection = trace.inspection;
    if (request.inspection_level == "TRACE" && !variables.empty())
      inspection["variables"] = variables;
    out["inspectionData"] = inspection;
  }
  return out;
}

}  // namespace helix::asl
