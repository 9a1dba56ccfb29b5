#include "scheduler/controller/states_service.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "pipelines/engine/test_state.h"
#include "scheduler/controller/execution_service.h"

namespace helix::states {
namespace {

using nlohmann::json;

ApiReply store_failure(const Error& e) {
  ApiReply r = error_reply("ServiceUnavailable", "the store could not be read: " + e.to_string());
  r.status = 500;
  return r;
}

}  // namespace

ApiReply StatesService::describe_execution(const json& request) {
  if (!request.contains("executionArn")) return missing("executionArn");
  std::string arn = string_member(request, "executionArn");
  auto doc = store_.get_execution(arn);
  if (!doc) return store_failure(doc.error());
  if (!*doc) return error_reply("ExecutionDoesNotExist", "Execution Does Not Exist: '" + arn + "'");
  return ApiReply{200, describe_execution_body(**doc)};
}

ApiReply StatesService::list_executions(const json& request) {
  if (!request.contains("stateMachineArn")) return missing("stateMachineArn");
  controller::ExecutionQuery q;
  q.machine_arn = string_member(request, "stateMachineArn");
  if (!state_machine_name_from_arn(scope_, q.machine_arn))
    return error_reply("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: " +
                                         q.machine_arn + "'");
  if (request.contains("statusFilter")) {
    std::string status = string_member(request, "statusFilter");
    if (status != "RUNNING" && status != "SUCCEEDED" && status != "FAILED" &&
        status != "TIMED_OUT" && status != "ABORTED" && status != "PENDING_REDRIVE")
      return error_reply("ValidationException",
                         "1 validation error detected: Value '" + status +
                             "' at 'statusFilter' failed to satisfy constraint: Member must "
                             "satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, "
                             "ABORTED, PENDING_REDRIVE]");
    q.status = status;
  }
  ApiReply refusal;
  auto limit = page_size(request, &refusal);
  if (!limit) return refusal;
  q.limit = *limit;
  q.after = string_member(request, "nextToken");
  auto page = store_.list_executions(q);
  if (!page) return store_failure(page.error());
  json items = json::array();
  for (const auto& doc : page->executions) items.push_back(execution_list_item(doc));
  json body{{"executions", std::move(items)}};
  if (!page->next_token.empty()) body["nextToken"] = page->next_token;
  return ApiReply{200, std::move(body)};
}

ApiReply StatesService::get_execution_history(const json& request) {
  if (!request.contains("executionArn")) return missing("executionArn");
  std::string arn = string_member(request, "executionArn");
  auto doc = store_.get_execution(arn);
  if (!doc) return store_failure(doc.error());
  if (!*doc) return error_reply("ExecutionDoesNotExist", "Execution Does Not Exist: '" + arn + "'");
  ApiReply refusal;
  auto limit = page_size(request, &refusal);
  if (!limit) return refusal;
  bool reverse = request.value("reverseOrder", false);
  bool include_data = request.value("includeExecutionData", true);
  int64_t after = 0;
  if (std::string token = string_member(request, "nextToken"); !token.empty()) {
    try {
      after = std::stoll(token);
    } catch (const std::exception&) {
      return error_reply("InvalidToken", "Invalid Token: '" + token + "'");
    }
  }
  auto events = store_.execution_events(arn, after, *limit + 1, reverse);
  if (!events) return store_failure(events.error());
  json items = json::array();
  json body = json::object();
  for (size_t i = 0; i < events->size(); ++i) {
    json e = json::parse((*events)[i], nullptr, false);
    if (i == *limit) {
      body["nextToken"] = std::to_string(items.back().value("id", int64_t{0}));
      break;
    }
    if (!include_data) {
      // Without execution data: payload members go, their ...Details stay.
      for (auto& [key, details] : e.items())
        if (details.is_object())
          for (const char* payload : {"input", "output", "parameters"}) details.erase(payload);
    }
    items.push_back(std::move(e));
  }
  body["events"] = std::move(items);
  return ApiReply{200, std::move(body)};
}

// TestState: one state run by the engine in single-state mode. Needs no
// stored state, so it runs on the calling thread.
ApiReply StatesService::test_state(const json& request) {
  if (!request.contains("definition")) return missing("definition");
  asl::TestStateRequest t;
  std::string definition = string_member(request, "definition");
  t.definition = json::parse(definition, nullptr, /*allow_exceptions=*/false);
  if (t.definition.is_discarded())
    return error_reply("InvalidDefinition",
                       "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: the "
                       "definition is not JSON'");
  t.input_text = request.contains("input") ? string_member(request, "input") : "{}";
  t.state_name = string_member(request, "stateName");
  if (request.contains("roleArn")) t.role_arn = string_member(request, "roleArn");
  if (request.contains("inspectionLevel"))
    t.inspection_level = string_member(request, "inspectionLevel");
  for (const char* key : {"mock", "variables", "context", "stateConfiguration"}) {
    auto it = request.find(key);
    if (it == request.end()) continue;
    json& field = std::string(key) == "mock"        ? t.mock
                  : std::string(key) == "variables" ? t.variables
                  : std::string(key) == "context"   ? t.context
                                                    : t.state_configuration;
    field = *it;
  }
  t.reveal_secrets = request.value("revealSecrets", false);
  std::random_device seed;
  SeededRng rng((static_cast<uint64_t>(seed()) << 32) | seed());
  json out = asl::test_state(
      t, std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()), rng);
  if (out.value("status", "") == "API_ERROR")
    return error_reply(out.value("error", "ValidationException"), out.value("cause", ""));
  // On the wire, payloads are JSON text (the engine keeps values).
  if (out.contains("output") && !out["output"].is_string()) out["output"] = out["output"].dump();
  if (auto it = out.find("inspectionData"); it != out.end() && it->is_object())
    for (auto& [key, value] : it->items())
      if (key != "request" && key != "response" && !value.is_string()) value = value.dump();
  return ApiReply{200, std::move(out)};
}

// GetActivityTask long-polls as on AWS: up to 60 s for a task, asking the
// loop again after each commit (a commit is when a task can appear).
ApiReply StatesService::get_activity_task(const json& request, const queues::Owner& caller) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  uint64_t generation = 0;
  for (;;) {
    ApiReply reply = on_loop_("GetActivityTask", request, caller);
    if (reply.status != 200 || reply.body.contains("taskToken")) return reply;
    if (std::chrono::steady_clock::now() >= deadline || !wait_for_commit_(&generation, deadline))
      return reply;
  }
}

// StartSyncExecution: starts on the loop, then waits (up to 5 minutes, the
// EXPRESS limit) for the stored document to leave RUNNING and answers with
// its outcome. An execution still running then is stopped, as AWS does.
ApiReply StatesService::start_sync_execution(const json& request, const queues::Owner& caller) {
  ApiReply started = on_loop_("StartSyncExecution", request, caller);
  if (started.status != 200) return started;
  std::string arn = started.body.value("executionArn", "");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  uint64_t generation = 0;
  for (;;) {
    auto doc = store_.get_execution(arn);
    if (!doc) return store_failure(doc.error());
    if (*doc && (**doc).value("status", "RUNNING") != "RUNNING") {
      const json& d = **doc;
      json body = describe_execution_body(d);
      json out{{"executionArn", arn},          {"stateMachineArn", body["stateMachineArn"]},
               {"name", body["name"]},         {"startDate", body["startDate"]},
               {"stopDate", body["stopDate"]}, {"status", body["status"]},
               {"input", body["input"]},       {"inputDetails", {{"included", true}}}};
      for (const char* key : {"output", "outputDetails", "error", "cause"})
        if (body.contains(key)) out[key] = body[key];
      int64_t ms = (d.value("stopUs", int64_t{0}) - d.value("startUs", int64_t{0})) / 1000;
      out["billingDetails"] = {{"billedMemoryUsedInMB", 64},
                               {"billedDurationInMilliseconds", std::max<int64_t>(100, ms)}};
      return ApiReply{200, std::move(out)};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)on_loop_("StopExecution",
                     json{{"executionArn", arn},
                          {"error", "States.Timeout"},
                          {"cause", "StartSyncExecution waited 5 minutes, the EXPRESS limit"}},
                     caller);
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
    if (!wait_for_commit_(&generation, deadline))
      return error_reply("ServiceUnavailable", "helixd is stopping");
  }
}

protocol::HttpResponse StatesService::handle_http(const std::string& target,
                                                  const std::string& body,
                                                  const queues::Owner& caller) {
  ApiReply reply;
  auto operation = operation_from_target(target);
  if (!operation) {
    reply = error_reply("UnknownOperationException", operation.error().to_string());
  } else {
    json request =
        body.empty() ? json::object() : json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      reply = error_reply("SerializationException", "the request body is not a JSON object");
    } else if (*operation == "ValidateStateMachineDefinition") {
      reply = validate_definition(request);
    } else if (*operation == "TestState") {
      reply = test_state(request);
    } else if (*operation == "DescribeExecution") {
      reply = describe_execution(request);
    } else if (*operation == "ListExecutions") {
      reply = list_executions(request);
    } else if (*operation == "GetExecutionHistory") {
      reply = get_execution_history(request);
    } else if (*operation == "GetActivityTask") {
      reply = get_activity_task(request, caller);
    } else if (*operation == "StartSyncExecution") {
      reply = start_sync_execution(request, caller);
    } else {
      reply = on_loop_(*operation, request, caller);
    }
  }
  protocol::HttpResponse response;
  response.status = reply.status;
  response.body = reply.body.dump();
  char request_id[40];
  std::snprintf(request_id, sizeof request_id, "states-%016llx",
                static_cast<unsigned long long>(++request_count_));
  response.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                      {"x-amzn-RequestId", request_id}};
  if (reply.status != 200 && reply.body.contains("__type")) {
    response.headers.emplace_back("x-amzn-ErrorType", reply.body["__type"].get<std::string>());
  }
  return response;
}

}  // namespace helix::states
