#include "scheduler/controller/execution_service.h"

#include <cctype>
#include <deque>

#include <spdlog/spdlog.h>

#include "pipelines/engine/definition.h"
#include "scheduler/controller/local_objects.h"

namespace helix::states {
namespace {

constexpr size_t kMaxPayloadBytes = 262144;
constexpr size_t kMaxTokenBytes = 2048;

// Map-valued members whose keys belong to the user, not to the API model.
bool is_map_member(const std::string& key) {
  return key == "parameters" || key == "Parameters" || key == "tags" || key == "Tags";
}

Json recase(const Json& value, bool upper) {
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& v : value) out.push_back(recase(v, upper));
    return out;
  }
  if (!value.is_object()) return value;
  Json out = Json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    std::string key = it.key();
    if (!key.empty())
      key[0] = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(key[0]))
                                       : std::tolower(static_cast<unsigned char>(key[0])));
    out[key] = is_map_member(it.key()) ? it.value() : recase(it.value(), upper);
  }
  return out;
}

std::string resource_service(const std::string& arn) {
  auto pos = arn.find(":::");
  if (pos == std::string::npos) return {};
  auto rest = arn.substr(pos + 3);
  return rest.substr(0, rest.find(':'));
}

// "submitJob.sync" from arn:aws:states:::batch:submitJob.sync
std::string resource_action(const std::string& arn) {
  auto pos = arn.find(":::");
  if (pos == std::string::npos) return arn;
  auto rest = arn.substr(pos + 3);
  auto colon = rest.find(':');
  return colon == std::string::npos ? rest : rest.substr(colon + 1);
}

Json sdk_metadata(Json response, Rng& rng) {
  response["SdkHttpMetadata"] = {{"HttpStatusCode", 200}};
  response["SdkResponseMetadata"] = {{"RequestId", make_uuid(rng)}};
  return response;
}

// The cause AWS writes when a service API call made by a task fails.
std::string api_failure_cause(const std::string& message, const std::string& service,
                              const std::string& code, Rng& rng) {
  return message + " (Service: " + service + "; Status Code: 400; Error Code: " + code +
         "; Request ID: " + make_uuid(rng) + "; Proxy: null)";
}

const char* batch_error_code(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kNotFound:
    case ErrorCode::kConflict:
    case ErrorCode::kPermissionDenied:
      return "ClientException";
    default:
      return "ServerException";
  }
}

std::optional<Json> parse_json_text(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// ItemReader reads files with the permissions of the execution's owner.
asl::ExecutionOptions engine_options(const queues::Owner& owner, int64_t max_history_events) {
  asl::ExecutionOptions options;
  options.max_history_events = max_history_events;
  ObjectOwner object_owner{owner.uid, owner.gid};
  options.item_source = [object_owner](
                            const std::string&,
                            const Json& parameters) -> tl::expected<std::string, std::string> {
    auto bytes = read_object(parameters, object_owner);
    if (!bytes) return tl::unexpected(bytes.error().to_string());
    return std::move(*bytes);
  };
  return options;
}

// AWS redrives executions that FAILED, were ABORTED or TIMED_OUT.
bool is_redrivable_status(const std::string& status) {
  return status == "FAILED" || status == "ABORTED" || status == "TIMED_OUT";
}

// AWS's cap on redrives of one execution.
constexpr int kMaxRedrives = 1000;

}  // namespace

// Why a stored execution cannot be redriven, or "" when it can. Unlike AWS
// (14 days), helix keeps finished executions' engine state until they are
// deleted, so there is no time limit.
std::string not_redrivable_reason(const Json& doc) {
  std::string status = doc.value("status", "");
  if (!is_redrivable_status(status)) return "Execution is " + status + " and cannot be redriven";
  if (doc.value("redriveCount", 0) >= kMaxRedrives)
    return "Execution has been redriven " + std::to_string(kMaxRedrives) +
           " times, the most allowed";
  auto engine = doc.find("engine");
  if (engine == doc.end() || engine->is_null())
    return "Execution finished before helix kept the state a redrive needs";
  return "";
}

Json pascal_case_members(const Json& value) { return recase(value, true); }
Json camel_case_members(const Json& value) { return recase(value, false); }

struct ExecutionService::Record {
  std::string arn, machine_arn, machine_name, name;
  std::string status = "RUNNING";
  TimePoint start{}, stop{};
  std::string input;
  std::optional<std::string> output, error, cause;
  std::string definition, role_arn;
  queues::Owner owner;
  int redrive_count = 0;
  std::optional<TimePoint> redrive_date;
  std::map<std::string, TaskLink> tasks;  // open tasks by engine task id
  std::string parent_arn, parent_task;
  std::shared_ptr<const asl::StateMachine> machine;
  std::unique_ptr<asl::Execution> engine;
  std::optional<TimePoint> wake;

  Json to_doc() const {
    Json tasks_doc = Json::object();
    for (const auto& [id, t] : tasks) {
      const char* kind = t.kind == TaskLink::Kind::kJob         ? "job"
                         : t.kind == TaskLink::Kind::kExecution ? "execution"
                         : t.kind == TaskLink::Kind::kActivity  ? "activity"
                                                                : "callback";
      tasks_doc[id] = {{"kind", kind},
                       {"target", t.target},
                       {"token", t.token},
                       {"sync", t.is_sync},
                       {"sync2", t.is_sync2}};
      if (t.kind == TaskLink::Kind::kActivity) {
        tasks_doc[id]["input"] = t.input;
        tasks_doc[id]["started"] = t.is_started;
      }
    }
    Json d{{"executionArn", arn},
           {"stateMachineArn", machine_arn},
           {"stateMachineName", machine_name},
           {"name", name},
           {"status", status},
           {"startUs", to_epoch_us(start)},
           {"input", input},
           {"definition", definition},
           {"roleArn", role_arn},
           {"owner", {{"uid", owner.uid}, {"gid", owner.gid}, {"user", owner.user}}},
           {"redriveCount", redrive_count},
           {"tasks", std::move(tasks_doc)}};
    if (status != "RUNNING") d["stopUs"] = to_epoch_us(stop);
    if (redrive_date) d["redriveUs"] = to_epoch_us(*redrive_date);
    if (output) d["output"] = *output;
    if (error) d["error"] = *error;
    if (cause) d["cause"] = *cause;
    if (!parent_arn.empty()) d["parent"] = {{"arn", parent_arn}, {"task", parent_task}};
    d["engine"] = engine ? engine->to_json() : Json();
    return d;
  }
};

ExecutionService::ExecutionService(ArnScope scope, BatchPort& batch, Rng& rng)
    : scope_(scope), batch_(batch), rng_(rng), catalog_(std::move(scope)), activities_(scope_) {}
ExecutionService::~ExecutionService() = default;

bool ExecutionService::handles(std::string_view op) const {
  return catalog_.handles(op) || activities_.handles(op) || op == "GetActivityTask" ||
         op == "StartExecution" || op == "StartSyncExecution" || op == "StopExecution" ||
         op == "SendTaskSuccess" || op == "SendTaskFailure" || op == "SendTaskHeartbeat" ||
         op == "DescribeStateMachineForExecution" || op == "RedriveExecution";
}

ApiReply ExecutionService::handle(std::string_view op, const Json& request,
                                  const queues::Owner& caller, TimePoint now) {
  if (op == "StartExecution") return start_execution(request, caller, now);
  if (op == "StartSyncExecution") {
    // Only EXPRESS machines (AWS's rule); the HTTP front waits for the end.
    auto name = state_machine_name_from_arn(scope_, string_member(request, "stateMachineArn"));
    const StateMachineRecord* m = name ? catalog_.find_by_name(*name) : nullptr;
    if (m && m->type != "EXPRESS")
      return error_reply("StateMachineTypeNotSupported",
                         "This operation is not supported by this type of state machine");
    return start_execution(request, caller, now);
  }
  if (op == "StopExecution") return stop_execution(request, now);
  if (op == "RedriveExecution") return redrive_execution(request, now);
  if (op == "SendTaskSuccess" || op == "SendTaskFailure" || op == "SendTaskHeartbeat")
    return send_task(op, request, now);
  if (op == "DescribeStateMachineForExecution") return describe_for_execution(request);
  if (op == "GetActivityTask") return get_activity_task(request, now);
  if (activities_.handles(op)) {
    std::optional<std::string> changed;
    ApiReply reply = activities_.handle(op, request, now, &changed);
    if (changed) changed_activities_.insert(*changed);
    return reply;
  }
  ApiReply reply = catalog_.handle(op, request, now);
  if (reply.status == 200 &&
      (op == "CreateStateMachine" || op == "UpdateStateMachine" || op == "DeleteStateMachine")) {
    std::string name =
        op == "CreateStateMachine"
            ? string_member(request, "name")
            : state_machine_name_from_arn(scope_, string_member(request, "stateMachineArn"))
                  .value_or("");
    if (!name.empty()) changed_machines_.insert(name);
  }
  return reply;
}

ExecutionService::Record* ExecutionService::find(const std::string& arn) {
  auto it = running_.find(arn);
  return it == running_.end() ? nullptr : it->second.get();
}

tl::expected<ExecutionService::Record*, ApiReply> ExecutionService::start(
    const std::string& machine_arn, std::string name, const std::string& input_text,
    const queues::Owner& owner, TimePoint now, const std::string& parent_arn,
    const std::string& parent_task) {
  auto machine_name = state_machine_name_from_arn(scope_, machine_arn);
  if (!machine_name)
    return tl::unexpected(
        error_reply("InvalidArn",
                    "Invalid Arn: 'Resource type not valid in this context: " + machine_arn + "'"));
  const StateMachineRecord* m = catalog_.find_by_name(*machine_name);
  if (!m)
    return tl::unexpected(error_reply("StateMachineDoesNotExist",
                                      "State Machine Does Not Exist: '" + machine_arn + "'"));
  if (name.empty()) name = make_uuid(rng_);
  if (!is_valid_name(name))
    return tl::unexpected(error_reply("InvalidName", "Invalid Name: '" + name + "'"));
  if (input_text.size() > kMaxPayloadBytes)
    return tl::unexpected(error_reply(
        "ValidationException",
        "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must "
        "have length less than or equal to 262144"));
  auto input = parse_json_text(input_text);
  if (!input)
    return tl::unexpected(error_reply("InvalidExecutionInput",
                                      "Invalid State Machine Execution Input: 'the input is not "
                                      "JSON: " +
                                          input_text.substr(0, 100) + "'"));
  std::string arn = execution_arn(scope_, *machine_name, name);
  // Idempotent for the same name and input while RUNNING (AWS's rule).
  if (Record* existing = find(arn)) {
    if (existing->input == input_text) return existing;
    return tl::unexpected(
        error_reply("ExecutionAlreadyExists", "Execution Already Exists: '" + arn + "'"));
  }
  if (closing_.count(arn) || batch_.stored_execution(arn))
    return tl::unexpected(
        error_reply("ExecutionAlreadyExists", "Execution Already Exists: '" + arn + "'"));
  auto parsed = asl::parse_state_machine(Json::parse(m->definition), asl::ParseOptions{});
  if (!parsed)
    return tl::unexpected(
        error_reply("InvalidDefinition", asl::invalid_definition_message(parsed.error())));
  auto r = std::make_unique<Record>();
  r->arn = arn;
  r->machine_arn = m->arn;
  r->machine_name = m->name;
  r->name = name;
  r->start = now;
  r->input = input_text;
  r->definition = m->definition;
  r->role_arn = m->role_arn;
  r->owner = owner;
  r->parent_arn = parent_arn;
  r->parent_task = parent_task;
  r->machine = *parsed;
  r->engine =
      std::make_unique<asl::Execution>(r->machine, engine_options(owner, max_history_events_));
  asl::ExecutionContext context;
  context.execution_arn = arn;
  context.execution_name = name;
  context.state_machine_arn = m->arn;
  context.state_machine_name = m->name;
  if (!m->role_arn.empty()) context.role_arn = m->role_arn;
  Record* raw = r.get();
  running_.emplace(arn, std::move(r));
  changed_executions_.insert(arn);
  apply(*raw, raw->engine->start(std::move(*input), context, now, rng_), now);
  return raw;
}

ApiReply ExecutionService::start_execution(const Json& request, const queues::Owner& caller,
                                           TimePoint now) {
  if (!request.contains("stateMachineArn")) return missing("stateMachineArn");
  std::string input = request.contains("input") ? string_member(request, "input") : "{}";
  auto started = start(string_member(request, "stateMachineArn"), string_member(request, "name"),
                       input, caller, now);
  if (!started) return started.error();
  Record& r = **started;
  return ApiReply{200, Json{{"executionArn", r.arn}, {"startDate", epoch_seconds(r.start)}}};
}

ApiReply ExecutionService::stop_execution(const Json& request, TimePoint now) {
  if (!request.contains("executionArn")) return missing("executionArn");
  std::string arn = string_member(request, "executionArn");
  Record* r = find(arn);
  if (!r) {
    if (auto doc = batch_.stored_execution(arn)) {
      // Stopping a finished execution changes nothing (AWS answers its stop date).
      return ApiReply{
          200,
          Json{{"stopDate", epoch_seconds(from_epoch_us(doc->value("stopUs", to_epoch_us(now))))}}};
    }
    return error_reply("ExecutionDoesNotExist", "Execution Does Not Exist: '" + arn + "'");
  }
  std::optional<std::string> error, cause;
  if (request.contains("error")) error = string_member(request, "error");
  if (request.contains("cause")) cause = string_member(request, "cause");
  apply(*r, r->engine->stop(error, cause, now, rng_), now);
  return ApiReply{200, Json{{"stopDate", epoch_seconds(now)}}};
}

ApiReply ExecutionService::redrive_execution(const Json& request, TimePoint now) {
  if (!request.contains("executionArn")) return missing("executionArn");
  std::string arn = string_member(request, "executionArn");
  if (Record* r = find(arn))
    return error_reply("ExecutionNotRedrivable",
                       "Execution is " + r->status + " and cannot be redriven: '" + arn + "'");
  std::optional<Json> doc;
  if (auto it = closing_.find(arn); it != closing_.end())
    doc = it->second->to_doc();
  else
    doc = batch_.stored_execution(arn);
  if (!doc) return error_reply("ExecutionDoesNotExist", "Execution Does Not Exist: '" + arn + "'");
  std::string why = not_redrivable_reason(*doc);
  if (!why.empty()) return error_reply("ExecutionNotRedrivable", why + ": '" + arn + "'");
  auto restored = record_from_doc(*doc);
  if (!restored)
    return error_reply(
        "ExecutionNotRedrivable",
        "the stored state of the execution cannot be read: " + restored.error().to_string());
  std::unique_ptr<Record> r = std::move(*restored);
  closing_.erase(arn);
  // The parent that waited on this execution (.sync) already saw it fail;
  // a redriven child runs on its own.
  r->parent_arn.clear();
  r->parent_task.clear();
  r->status = "RUNNING";
  r->output.reset();
  r->error.reset();
  r->cause.reset();
  r->stop = TimePoint{};
  r->redrive_count += 1;
  r->redrive_date = now;
  Record* raw = r.get();
  running_.emplace(arn, std::move(r));
  changed_executions_.insert(arn);
  apply(*raw, raw->engine->redrive(now, rng_), now);
  return ApiReply{200, Json{{"redriveDate", epoch_seconds(now)}}};
}

ApiReply ExecutionService::get_activity_task(const Json& request, TimePoint now) {
  if (!request.contains("activityArn")) return missing("activityArn");
  std::string arn = string_member(request, "activityArn");
  if (!activities_.find_by_arn(arn)) {
    if (arn.rfind(activity_arn(scope_, ""), 0) != 0)
      return error_reply("InvalidArn",
                         "Invalid Arn: 'Resource type not valid in this context: " + arn + "'");
    return error_reply("ActivityDoesNotExist", "Activity Does Not Exist: '" + arn + "'");
  }
  std::string worker = string_member(request, "workerName");
  if (worker.size() > 80)
    return error_reply("ValidationException",
                       "1 validation error detected: Value at 'workerName' failed to satisfy "
                       "constraint: Member must have length less than or equal to 80");
  auto queue = activity_queue_.find(arn);
  while (queue != activity_queue_.end() && !queue->second.empty()) {
    auto [execution, task] = queue->second.front();
    queue->second.pop_front();
    Record* r = find(execution);
    if (!r) continue;
    auto link = r->tasks.find(task);
    if (link == r->tasks.end() || link->second.is_started) continue;  // ended meanwhile
    link->second.is_started = true;
    Json reply{{"taskToken", link->second.token}, {"input", link->second.input}};
    apply(*r, r->engine->task_started(task, worker, now, rng_), now);
    return ApiReply{200, std::move(reply)};
  }
  return ApiReply{200, Json::object()};
}

std::pair<ExecutionService::Record*, std::string> ExecutionService::find_token(
    const std::string& token) {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return {nullptr, {}};
  return {find(it->second.first), it->second.second};
}

ApiReply ExecutionService::send_task(std::string_view op, const Json& request, TimePoint now) {
  if (!request.contains("taskToken")) return missing("taskToken");
  std::string token = string_member(request, "taskToken");
  if (token.empty() || token.size() > kMaxTokenBytes)
    return error_reply("InvalidToken", "Invalid Token: 'the token must be 1-2048 characters'");
  auto [r, task] = find_token(token);
  if (!r) {
    if (!is_uuid(token)) return error_reply("InvalidToken", "Invalid Token: '" + token + "'");
    return error_reply("TaskDoesNotExist", "Task Does Not Exist: '" + token + "'");
  }
  if (op == "SendTaskHeartbeat") {
    apply(*r, r->engine->task_heartbeat(task, now, rng_), now);
    return ApiReply{200, Json::object()};
  }
  std::optional<Json> output;
  if (op == "SendTaskSuccess") {
    if (!request.contains("output")) return missing("output");
    std::string text = string_member(request, "output");
    if (text.size() > kMaxPayloadBytes)
      return error_reply("ValidationException",
                         "1 validation error detected: Value at 'output' failed to satisfy "
                         "constraint: Member must have length less than or equal to 262144");
    output = parse_json_text(text);
    if (!output) return error_reply("InvalidOutput", "Invalid Output: '" + text + "'");
  }
  // The task is answered: forget its link first so that the job or child
  // ending later is not reported twice.
  TaskLink link = r->tasks[task];
  r->tasks.erase(task);
  tokens_.erase(token);
  if (link.kind == TaskLink::Kind::kJob) jobs_.erase(link.target);
  if (output) {
    apply(*r, r->engine->task_succeeded(task, std::move(*output), now, rng_), now);
  } else {
    apply(*r,
          r->engine->task_failed(task, string_member(request, "error"),
                                 string_member(request, "cause"), now, rng_),
          now);
  }
  return ApiReply{200, Json::object()};
}

ApiReply ExecutionService::describe_for_execution(const Json& request) {
  if (!request.contains("executionArn")) return missing("executionArn");
  std::string arn = string_member(request, "executionArn");
  std::string definition, machine_arn, machine_name, role;
  if (Record* r = find(arn)) {
    definition = r->definition;
    machine_arn = r->machine_arn;
    machine_name = r->machine_name;
    role = r->role_arn;
  } else if (auto doc = batch_.stored_execution(arn)) {
    definition = doc->value("definition", "");
    machine_arn = doc->value("stateMachineArn", "");
    machine_name = doc->value("stateMachineName", "");
    role = doc->value("roleArn", "");
  } else {
    return error_reply("ExecutionDoesNotExist", "Execution Does Not Exist: '" + arn + "'");
  }
  return ApiReply{200, Json{{"stateMachineArn", machine_arn},
                            {"name", machine_name},
                            {"definition", definition},
                            {"roleArn", role},
                            {"updateDate", 0.0}}};
}

// ---- applying the engine's effects ---------------------------------------

void ExecutionService::apply(Record& r, asl::Effects fx, TimePoint now) {
  changed_executions_.insert(r.arn);
  asl::HistoryWireWriter wire;
  for (const auto& ev : fx.events) new_events_.push_back({r.arn, ev.id, wire.render(ev)});
  for (const auto& task_id : fx.cancelled_tasks) cancel_task(r, task_id, now);
  for (const auto& w : fx.result_writes) {
    // The Map has moved on (its output names where the results went); a
    // write that fails is logged, the results stay in the Map's history.
    auto written = write_results(w.parameters, r.name, w.state_name, w.results,
                                 ObjectOwner{r.owner.uid, r.owner.gid});
    if (!written)
      spdlog::warn("states: {} state {}: ResultWriter: {}", r.arn, w.state_name,
                   written.error().to_string());
  }
  // A task may answer at once (request-response), which runs the engine
  // again and may bring more tasks: handle them in order, not recursively.
  std::deque<asl::TaskRequest> tasks(fx.tasks.begin(), fx.tasks.end());
  bool done = fx.status != asl::ExecutionStatus::kRunning;
  if (done) {
    r.status = asl::execution_status_name(fx.status);
    if (fx.output) r.output = fx.output->dump();
    r.error = fx.error;
    r.cause = fx.cause;
  }
  for (auto& task : tasks) {
    if (r.status != "RUNNING") break;
    dispatch(r, task, now);
  }
  if (r.status != "RUNNING") return finished(r, now);
  reschedule(r);
}

void ExecutionService::reschedule(Record& r) {
  if (r.wake) {
    auto range = wakes_.equal_range(*r.wake);
    for (auto it = range.first; it != range.second; ++it)
      if (it->second == r.arn) {
        wakes_.erase(it);
        break;
      }
  }
  r.wake = r.engine && r.status == "RUNNING" ? r.engine->next_wake() : std::nullopt;
  if (r.wake) wakes_.emplace(*r.wake, r.arn);
}

void ExecutionService::dispatch(Record& r, const asl::TaskRequest& task, TimePoint now) {
  std::string service = resource_service(task.resource);
  std::string action = resource_action(task.resource);
  auto fail_task = [&](std::string error, std::string cause) {
    apply(r, r.engine->task_failed(task.task_id, std::move(error), std::move(cause), now, rng_),
          now);
  };
  TaskLink link;
  link.token = task.task_token;
  link.is_sync = task.is_sync;
  if (service == "batch" && action.rfind("submitJob", 0) == 0) {
    link.kind = TaskLink::Kind::kJob;
    Json body = camel_case_members(task.parameters);
    if (task.is_sync || task.is_wait_for_task_token) {
      // Jobs learn their token so they can heartbeat or answer the task.
      Json& env = body["containerOverrides"]["environment"];
      if (!env.is_array()) env = Json::array();
      env.push_back({{"name", "HELIX_TASK_TOKEN"}, {"value", task.task_token}});
      env.push_back({{"name", "MANAGED_BY_AWS"}, {"value", "STARTED_BY_STEP_FUNCTIONS"}});
    }
    auto submitted = batch_.submit_job(body, r.owner);
    if (!submitted) {
      std::string code = batch_error_code(submitted.error());
      return fail_task("Batch." + code,
                       api_failure_cause(submitted.error().message(), "AWSBatch", code, rng_));
    }
    Json response = sdk_metadata(pascal_case_members(*submitted), rng_);
    if (!task.is_sync && !task.is_wait_for_task_token)
      return apply(r, r.engine->task_succeeded(task.task_id, response, now, rng_), now);
    link.target = (*submitted)["jobId"].get<std::string>();
    r.tasks[task.task_id] = link;
    tokens_[link.token] = {r.arn, task.task_id};
    jobs_[link.target] = {r.arn, task.task_id};
    return apply(r, r.engine->task_submitted(task.task_id, response, now, rng_), now);
  }
  if (service == "states" && action.rfind("startExecution", 0) == 0) {
    link.kind = TaskLink::Kind::kExecution;
    link.is_sync2 = action.find(".sync:2") != std::string::npos;
    const Json& p = task.parameters;
    std::string machine = p.is_object() ? string_member(p, "StateMachineArn") : "";
    std::string input = "{}";
    if (p.is_object() && p.contains("Input"))
      input = p["Input"].is_string() ? p["Input"].get<std::string>() : p["Input"].dump();
    std::string name = p.is_object() ? string_member(p, "Name") : "";
    std::string parent_task = task.is_sync ? task.task_id : std::string();
    auto child = start(machine, name, input, r.owner, now, task.is_sync ? r.arn : std::string(),
                       parent_task);
    if (!child) {
      std::string code = child.error().body.value("__type", "ServiceException");
      std::string message = child.error().body.value("message", "");
      return fail_task("StepFunctions." + code + (code.ends_with("Exception") ? "" : "Exception"),
                       api_failure_cause(message, "AWSStepFunctions", code, rng_));
    }
    Record& c = **child;
    Json response = sdk_metadata(
        Json{{"ExecutionArn", c.arn}, {"StartDate", to_epoch_us(c.start) / 1000}}, rng_);
    if (!task.is_sync && !task.is_wait_for_task_token)
      return apply(r, r.engine->task_succeeded(task.task_id, response, now, rng_), now);
    link.target = c.arn;
    r.tasks[task.task_id] = link;
    tokens_[link.token] = {r.arn, task.task_id};
    // The child may already have finished (a machine of Pass states).
    if (task.is_sync && c.status != "RUNNING") {
      apply(r, r.engine->task_submitted(task.task_id, response, now, rng_), now);
      return child_finished(c, now);
    }
    return apply(r, r.engine->task_submitted(task.task_id, response, now, rng_), now);
  }
  if (task.is_activity) {
    if (!activities_.find_by_arn(task.resource))
      return fail_task("States.Runtime",
                       "Activity Does Not Exist: '" + task.resource + "' (CreateActivity first)");
    link.kind = TaskLink::Kind::kActivity;
    link.target = task.resource;
    link.input = task.parameters.dump();
    r.tasks[task.task_id] = link;
    tokens_[link.token] = {r.arn, task.task_id};
    activity_queue_[task.resource].emplace_back(r.arn, task.task_id);
    return;
  }
  if (task.is_wait_for_task_token) {
    // Any other callback resource: the token is the whole protocol; the
    // caller hands it on (it is in the task's parameters) and SendTask*
    // answers.
    link.kind = TaskLink::Kind::kCallback;
    r.tasks[task.task_id] = link;
    tokens_[link.token] = {r.arn, task.task_id};
    return;
  }
  fail_task("States.Runtime", "helix cannot run the resource " + task.resource +
                                  ": supported are batch:submitJob and states:startExecution "
                                  "(plain, .sync, .waitForTaskToken)");
}

void ExecutionService::cancel_task(Record& r, const std::string& task_id, TimePoint now) {
  auto it = r.tasks.find(task_id);
  if (it == r.tasks.end()) return;
  TaskLink link = it->second;
  r.tasks.erase(it);
  tokens_.erase(link.token);
  if (link.kind == TaskLink::Kind::kJob) {
    jobs_.erase(link.target);
    batch_.terminate_job(link.target, "Step Functions execution " + r.arn + " aborted the task");
  } else if (link.kind == TaskLink::Kind::kExecution) {
    if (Record* child = find(link.target)) {
      child->parent_arn.clear();  // the parent no longer waits for it
      apply(*child,
            child->engine->stop(std::string("States.Aborted"),
                                std::string("the parent execution " + r.arn + " aborted the task"),
                                now, rng_),
            now);
    }
  }
}

void ExecutionService::finished(Record& r, TimePoint now) {
  if (!running_.count(r.arn)) return;  // already closed by a nested apply
  r.stop = now;
  for (const auto& [task_id, link] : std::map<std::string, TaskLink>(r.tasks))
    cancel_task(r, task_id, now);
  // A failed, aborted or timed-out execution keeps its engine snapshot in
  // its document: RedriveExecution continues from it.
  if (!is_redrivable_status(r.status)) r.engine.reset();
  reschedule(r);  // drops its timer
  changed_executions_.insert(r.arn);
  auto node = running_.extract(r.arn);
  if (node.empty()) return;
  Record& kept = *node.mapped();
  closing_.insert(std::move(node));
  if (!kept.parent_arn.empty()) child_finished(kept, now);
}

void ExecutionService::child_finished(const Record& child, TimePoint now) {
  Record* parent = find(child.parent_arn);
  if (!parent) return;
  auto it = parent->tasks.find(child.parent_task);
  if (it == parent->tasks.end() || it->second.target != child.arn) return;
  TaskLink link = it->second;
  parent->tasks.erase(it);
  tokens_.erase(link.token);
  Json d{{"ExecutionArn", child.arn},
         {"StateMachineArn", child.machine_arn},
         {"Name", child.name},
         {"Status", child.status},
         {"StartDate", to_epoch_us(child.start) / 1000},
         {"StopDate", to_epoch_us(child.stop) / 1000},
         {"InputDetails", {{"Included", true}}}};
  auto as_value = [&](const std::string& text) -> Json {
    if (!link.is_sync2) return text;
    auto parsed = parse_json_text(text);
    return parsed ? *parsed : Json(text);
  };
  d["Input"] = as_value(child.input);
  if (child.output) {
    d["Output"] = as_value(*child.output);
    d["OutputDetails"] = {{"Included", true}};
  }
  if (child.error) d["Error"] = *child.error;
  if (child.cause) d["Cause"] = *child.cause;
  if (child.status == "SUCCEEDED") {
    apply(*parent, parent->engine->task_succeeded(child.parent_task, d, now, rng_), now);
  } else {
    apply(*parent,
          parent->engine->task_failed(child.parent_task, "States.TaskFailed", d.dump(), now, rng_),
          now);
  }
}

// ---- jobs and timers -------------------------------------------------------

bool ExecutionService::is_tracking_job(const std::string& job_id) const {
  return jobs_.count(job_id) > 0;
}

std::vector<std::string> ExecutionService::tracked_jobs() const {
  std::vector<std::string> out;
  for (const auto& [id, _] : jobs_) out.push_back(id);
  return out;
}

void ExecutionService::job_finished(const std::string& job_id, const Json& detail, bool succeeded,
                                    TimePoint now) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  auto [arn, task] = it->second;
  jobs_.erase(it);
  Record* r = find(arn);
  if (!r) return;
  auto link = r->tasks.find(task);
  if (link == r->tasks.end()) return;
  // A callback job that ended well without answering leaves its task open
  // (someone else may hold the token); one that failed fails the task, so
  // an execution does not wait a year for a job that crashed.
  if (!link->second.is_sync && succeeded) return;
  tokens_.erase(link->second.token);
  r->tasks.erase(link);
  Json pascal = pascal_case_members(detail);
  if (succeeded) {
    apply(*r, r->engine->task_succeeded(task, std::move(pascal), now, rng_), now);
  } else {
    apply(*r, r->engine->task_failed(task, "States.TaskFailed", pascal.dump(), now, rng_), now);
  }
}

void ExecutionService::tick(TimePoint now) {
  while (!wakes_.empty() && wakes_.begin()->first <= now) {
    std::string arn = wakes_.begin()->second;
    wakes_.erase(wakes_.begin());
    Record* r = find(arn);
    if (!r) continue;
    r->wake.reset();
    apply(*r, r->engine->timer_fired(now, rng_), now);
  }
}

std::optional<TimePoint> ExecutionService::next_wake() const {
  if (wakes_.empty()) return std::nullopt;
  return wakes_.begin()->first;
}

size_t ExecutionService::running_count() const { return running_.size(); }

// ---- persistence ------------------------------------------------------------

StatesChanges ExecutionService::take_changes() {
  StatesChanges out;
  out.machines.assign(changed_machines_.begin(), changed_machines_.end());
  out.activities.assign(changed_activities_.begin(), changed_activities_.end());
  changed_activities_.clear();
  out.executions.assign(changed_executions_.begin(), changed_executions_.end());
  out.events = std::move(new_events_);
  changed_machines_.clear();
  changed_executions_.clear();
  new_events_.clear();
  return out;
}

void ExecutionService::forget_closed() { closing_.clear(); }

Json ExecutionService::machine_document(const std::string& name) const {
  const StateMachineRecord* m = catalog_.find_by_name(name);
  return m ? state_machine_to_store(*m) : Json();
}

Json ExecutionService::activity_document(const std::string& name) const {
  return activities_.document(name);
}

Json ExecutionService::execution_document(const std::string& arn) const {
  if (auto it = running_.find(arn); it != running_.end()) return it->second->to_doc();
  if (auto it = closing_.find(arn); it != closing_.end()) return it->second->to_doc();
  return Json();
}

// A stored document back into a record with its engine; the task links
// are left to the caller (restore re-registers them, a redrive has none).
Result<std::unique_ptr<ExecutionService::Record>> ExecutionService::record_from_doc(
    const Json& doc) const {
  try {
    auto r = std::make_unique<Record>();
    r->arn = doc.at("executionArn").get<std::string>();
    r->machine_arn = doc.at("stateMachineArn").get<std::string>();
    r->machine_name = doc.at("stateMachineName").get<std::string>();
    r->name = doc.at("name").get<std::string>();
    r->status = doc.at("status").get<std::string>();
    r->start = from_epoch_us(doc.at("startUs").get<int64_t>());
    if (doc.contains("stopUs")) r->stop = from_epoch_us(doc["stopUs"].get<int64_t>());
    r->input = doc.at("input").get<std::string>();
    r->definition = doc.at("definition").get<std::string>();
    r->role_arn = doc.at("roleArn").get<std::string>();
    r->owner.uid = doc.at("owner").at("uid").get<uint32_t>();
    r->owner.gid = doc.at("owner").at("gid").get<uint32_t>();
    r->owner.user = doc.at("owner").at("user").get<std::string>();
    r->redrive_count = doc.value("redriveCount", 0);
    if (doc.contains("redriveUs")) r->redrive_date = from_epoch_us(doc["redriveUs"].get<int64_t>());
    if (doc.contains("output")) r->output = doc["output"].get<std::string>();
    if (doc.contains("error")) r->error = doc["error"].get<std::string>();
    if (doc.contains("cause")) r->cause = doc["cause"].get<std::string>();
    if (auto p = doc.find("parent"); p != doc.end()) {
      r->parent_arn = p->at("arn").get<std::string>();
      r->parent_task = p->at("task").get<std::string>();
    }
    auto parsed = asl::parse_state_machine(Json::parse(r->definition), asl::ParseOptions{});
    if (!parsed)
      return fail(Error::corruption("the stored definition of " + r->arn + " does not parse",
                                    asl::invalid_definition_message(parsed.error())));
    r->machine = *parsed;
    if (!doc.at("engine").is_null()) {
      auto engine = asl::Execution::from_json(r->machine, doc.at("engine"),
                                              engine_options(r->owner, max_history_events_));
      if (!engine) return fail(engine.error());
      r->engine = std::make_unique<asl::Execution>(std::move(*engine));
    }
    return r;
  } catch (const Json::exception& e) {
    return fail(Error::corruption("a stored execution does not parse", e.what()));
  }
}

Result<void> ExecutionService::restore(const std::vector<Json>& machines,
                                       const std::vector<Json>& running,
                                       const std::vector<Json>& activities) {
  for (const auto& doc : activities)
    if (auto ok = activities_.restore(doc); !ok) return ok;
  for (const auto& doc : machines) {
    auto m = state_machine_from_store(doc);
    if (!m) return fail(m.error());
    catalog_.restore(std::move(*m));
  }
  for (const auto& doc : running) {
    try {
      auto restored = record_from_doc(doc);
      if (!restored) return fail(restored.error());
      std::unique_ptr<Record> r = std::move(*restored);
      if (!r->engine)
        return fail(Error::corruption("the running execution " + r->arn + " has no engine state",
                                      "its document's engine is null"));
      for (auto& [task_id, t] : doc.at("tasks").items()) {
        TaskLink link;
        std::string kind = t.at("kind").get<std::string>();
        link.kind = kind == "job"         ? TaskLink::Kind::kJob
                    : kind == "execution" ? TaskLink::Kind::kExecution
                    : kind == "activity"  ? TaskLink::Kind::kActivity
                                          : TaskLink::Kind::kCallback;
        link.target = t.at("target").get<std::string>();
        link.token = t.at("token").get<std::string>();
        link.is_sync = t.at("sync").get<bool>();
        link.is_sync2 = t.at("sync2").get<bool>();
        tokens_[link.token] = {r->arn, task_id};
        if (link.kind == TaskLink::Kind::kJob) jobs_[link.target] = {r->arn, task_id};
        if (link.kind == TaskLink::Kind::kActivity) {
          link.input = t.at("input").get<std::string>();
          link.is_started = t.at("started").get<bool>();
          if (!link.is_started) activity_queue_[link.target].emplace_back(r->arn, task_id);
        }
        r->tasks[task_id] = link;
      }
      Record& kept = *r;
      running_.emplace(kept.arn, std::move(r));
      reschedule(kept);
    } catch (const Json::exception& e) {
      return fail(Error::corruption("a stored execution does not parse", e.what()));
    }
  }
  return {};
}

// ---- reads -------------------------------------------------------------------

Json describe_execution_body(const Json& doc) {
  Json d{{"executionArn", doc.value("executionArn", "")},
         {"stateMachineArn", doc.value("stateMachineArn", "")},
         {"name", doc.value("name", "")},
         {"status", doc.value("status", "")},
         {"startDate", epoch_seconds(from_epoch_us(doc.value("startUs", int64_t{0})))},
         {"input", doc.value("input", "")},
         {"inputDetails", {{"included", true}}},
         {"redriveCount", doc.value("redriveCount", 0)}};
  if (doc.contains("stopUs"))
    d["stopDate"] = epoch_seconds(from_epoch_us(doc["stopUs"].get<int64_t>()));
  if (doc.contains("output")) {
    d["output"] = doc["output"];
    d["outputDetails"] = {{"included", true}};
  }
  if (doc.contains("error")) d["error"] = doc["error"];
  if (doc.contains("cause")) d["cause"] = doc["cause"];
  if (doc.contains("redriveUs"))
    d["redriveDate"] = epoch_seconds(from_epoch_us(doc["redriveUs"].get<int64_t>()));
  std::string why = not_redrivable_reason(doc);
  d["redriveStatus"] = why.empty() ? "REDRIVABLE" : "NOT_REDRIVABLE";
  if (!why.empty()) d["redriveStatusReason"] = why;
  return d;
}

Json execution_list_item(const Json& doc) {
  Json d{{"executionArn", doc.value("executionArn", "")},
         {"stateMachineArn", doc.value("stateMachineArn", "")},
         {"name", doc.value("name", "")},
         {"status", doc.value("status", "")},
         {"startDate", epoch_seconds(from_epoch_us(doc.value("startUs", int64_t{0})))}};
  if (doc.contains("stopUs"))
    d["stopDate"] = epoch_seconds(from_epoch_us(doc["stopUs"].get<int64_t>()));
  return d;
}

}  // namespace helix::states
