#include "pipelines/engine/execution.h"

#include "common/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <deque>
#include <set>

namespace helix::asl {
namespace {

enum class Phase {
  kEnter,     // about to enter `state` with `input`
  kTask,      // waiting for task_id
  kWait,      // a Wait state until wake
  kRetry,     // a retry interval until wake, then the state runs again
  kChildren,  // Parallel branches or Map iterations running
  kDone,      // finished; result in `output` (or `error` when failed)
};

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kEnter:
      return "enter";
    case Phase::kTask:
      return "task";
    case Phase::kWait:
      return "wait";
    case Phase::kRetry:
      return "retry";
    case Phase::kChildren:
      return "children";
    case Phase::kDone:
      return "done";
  }
  return "enter";
}

Phase phase_from(const std::string& s) {
  for (Phase p :
       {Phase::kEnter, Phase::kTask, Phase::kWait, Phase::kRetry, Phase::kChildren, Phase::kDone})
    if (s == phase_name(p)) return p;
  return Phase::kEnter;
}

// One flow in progress: the top level, a Parallel branch or a Map iteration.
// Invariant: a frame in kChildren has every id in `children` present in
// Impl::frames; a child's `parent` names a frame in kChildren.
struct Frame {
  int id = 0;
  int parent = -1;
  int flow = 0;
  const State* state = nullptr;
  Phase phase = Phase::kEnter;
  Json input;      // the state's raw input
  Json effective;  // after InputPath / Parameters (the task's parameters, the Map's input)
  int64_t last_event = 0;
  TimePoint entered{};
  TimePoint wake{};
  std::string task_id, task_token;
  std::optional<TimePoint> task_deadline, heartbeat_deadline;
  double heartbeat_seconds =
      0;  // as resolved when the task was scheduled (literal, Path or JSONata)
  std::vector<int> retry_counts;
  Json variables;  // null until Assign writes one (most frames never do)
  // Parallel / Map bookkeeping; null outside those states
  std::set<int> children;
  Json results;
  Json items;
  size_t next_item = 0, finished_children = 0, failed_children = 0;
  int max_concurrency = 0;
  std::optional<double> tolerated_percentage;
  std::optional<int64_t> tolerated_count;
  int64_t index = -1;  // Map iteration index / Parallel branch index
  // outcome
  bool is_failed = false;
  Json output;
  AslError error;
  // Redrive bookkeeping. A Parallel / Map frame records per branch or
  // iteration slot ('.' pending or running, 'S' succeeded, 'F' failed, 'A'
  // aborted) and keeps its failed and aborted children (`retained`, each
  // with is_retained set) instead of erasing them, so a redrive reruns only
  // those and keeps the succeeded results. Both are dropped when the frame
  // leaves the state or retries it; they matter only while the failure
  // unwinds to the top and the execution stays FAILED / ABORTED / TIMED_OUT.
  std::string slot_status;
  std::vector<int> retained;
  // Map only: retained iterations a redrive runs again, started by
  // map_progress ahead of new items so MaxConcurrency still holds.
  std::deque<int> redrive_queue;
  bool is_retained = false;
};

Json frame_to_json(const Frame& f) {
  Json j;
  j["id"] = f.id;
  j["parent"] = f.parent;
  j["flow"] = f.flow;
  j["state"] = f.state ? f.state->name : "";
  j["phase"] = phase_name(f.phase);
  j["input"] = f.input;
  j["effective"] = f.effective;
  j["last_event"] = f.last_event;
  j["entered_us"] = to_epoch_us(f.entered);
  j["wake_us"] = to_epoch_us(f.wake);
  j["task_id"] = f.task_id;
  j["task_token"] = f.task_token;
  if (f.task_deadline) j["task_deadline_us"] = to_epoch_us(*f.task_deadline);
  if (f.heartbeat_deadline) j["heartbeat_deadline_us"] = to_epoch_us(*f.heartbeat_deadline);
  j["heartbeat_seconds"] = f.heartbeat_seconds;
  j["retry_counts"] = f.retry_counts;
  j["variables"] = f.variables;
  j["children"] = std::vector<int>(f.children.begin(), f.children.end());
  j["results"] = f.results;
  j["items"] = f.items;
  j["next_item"] = f.next_item;
  j["finished_children"] = f.finished_children;
  j["failed_children"] = f.failed_children;
  j["max_concurrency"] = f.max_concurrency;
  if (f.tolerated_percentage) j["tolerated_percentage"] = *f.tolerated_percentage;
  if (f.tolerated_count) j["tolerated_count"] = *f.tolerated_count;
  j["index"] = f.index;
  j["is_failed"] = f.is_failed;
  j["output"] = f.output;
  j["error"] = f.error.error;
  if (f.error.cause) j["cause"] = *f.error.cause;
  // Written only when set: snapshots of runs without failures stay as they were.
  if (!f.slot_status.empty()) j["slot_status"] = f.slot_status;
  if (!f.retained.empty()) j["retained"] = f.retained;
  if (!f.redrive_queue.empty())
    j["redrive_queue"] = std::vector<int>(f.redrive_queue.begin(), f.redrive_queue.end());
  if (f.is_retained) j["is_retained"] = true;
  return j;
}

std::string camel(std::string_view type) {
  std::string out(type);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

// States that take Retry (and so have a $$.State.RetryCount in TestState).
bool can_retry(StateType type) {
  return type == StateType::kTask || type == StateType::kParallel || type == StateType::kMap;
}

bool error_matches(const std::vector<std::string>& names, const std::string& error, bool is_retry) {
  for (const auto& n : names) {
    if (n == error) return true;
    if (n == "States.ALL") {
      // States.Runtime and States.DataLimitExceeded are terminal: Retry never
      // matches them through States.ALL (ASL spec, "Error names").
      if (is_retry && (error == "States.Runtime" || error == "States.DataLimitExceeded")) continue;
      return true;
    }
    if (n == "States.TaskFailed" && error != "States.Timeout" && error.rfind("States.", 0) != 0)
      return true;
  }
  return false;
}

}  // namespace

namespace {

std::string_view entered_type(StateType type) {
  switch (type) {
    case StateType::kPass:
      return "PassStateEntered";
    case StateType::kTask:
      return "TaskStateEntered";
    case StateType::kChoice:
      return "ChoiceStateEntered";
    case StateType::kWait:
      return "WaitStateEntered";
    case StateType::kSucceed:
      return "SucceedStateEntered";
    case StateType::kFail:
      return "FailStateEntered";
    case StateType::kParallel:
      return "ParallelStateEntered";
    case StateType::kMap:
      return "MapStateEntered";
  }
  return "PassStateEntered";
}

std::string_view exited_type(StateType type) {
  switch (type) {
    case StateType::kPass:
      return "PassStateExited";
    case StateType::kTask:
      return "TaskStateExited";
    case StateType::kChoice:
      return "ChoiceStateExited";
    case StateType::kWait:
      return "WaitStateExited";
    case StateType::kSucceed:
      return "SucceedStateExited";
    case StateType::kFail:
      return "FailStateExited";
    case StateType::kParallel:
      return "ParallelStateExited";
    case StateType::kMap:
      return "MapStateExited";
  }
  return "PassStateExited";
}

}  // namespace

const char* execution_status_name(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kRunning:
      return "RUNNING";
    case ExecutionStatus::kSucceeded:
      return "SUCCEEDED";
    case ExecutionStatus::kFailed:
      return "FAILED";
    case ExecutionStatus::kTimedOut:
      return "TIMED_OUT";
    case ExecutionStatus::kAborted:
      return "ABORTED";
  }
  return "RUNNING";
}

bool is_activity_arn(std::string_view resource) {
  // arn:aws:states:<region>:<account>:activity:<name>
  if (resource.rfind("arn:", 0) != 0) return false;
  size_t colons = 0, pos = 0;
  for (; pos < resource.size() && colons < 5; ++pos)
    if (resource[pos] == ':') ++colons;
  return colons == 5 && resource.substr(0, 15).find(":states:") != std::string_view::npos &&
         resource.substr(pos).rfind("activity:", 0) == 0 && resource.size() > pos + 9;
}

namespace {

bool has_details(const HistoryEvent& e) { return !e.details.is_null() || !e.payload_key.empty(); }

double wire_seconds(TimePoint t) { return static_cast<double>(to_epoch_us(t)) / 1e6; }

// The member that holds an event's details: every *StateEntered and
// *StateExited type shares one name; the others are "<camelType>EventDetails".
std::string details_member(std::string_view type) {
  if (type.size() > 12 && type.compare(type.size() - 12, 12, "StateEntered") == 0)
    return "stateEnteredEventDetails";
  if (type.size() > 11 && type.compare(type.size() - 11, 11, "StateExited") == 0)
    return "stateExitedEventDetails";
  return camel(type) + "EventDetails";
}

// The details in AWS's form: payloads as JSON text beside their ...Details.
Json wire_details(const HistoryEvent& e) {
  Json d = e.details;
  if (!e.payload_key.empty()) {
    if (!d.is_object()) d = Json::object();
    d["name"] = e.state_name;
    d[std::string(e.payload_key)] = e.payload;
  }
  for (const char* member : {"input", "output", "parameters"}) {
    auto it = d.find(member);
    if (it != d.end() && !it->is_string()) *it = it->dump();
    if (it != d.end()) d[std::string(member) + "Details"] = Json{{"truncated", false}};
  }
  if (auto it = d.find("assignedVariables"); it != d.end()) {
    for (auto& v : *it) v = v.dump();
    d["assignedVariablesDetails"] = Json{{"truncated", false}};
  }
  return d;
}

// Appends `text` as a JSON string the way dump() writes it (ensure_ascii
// off: only quotes, backslashes and control characters are escaped). Text
// with a byte above 0x7F goes through dump() itself, which also checks
// that it is UTF-8 and throws as dump() would.
void append_json_string(std::string& out, std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) {
      out += Json(std::string(text)).dump();
      return;
    }
  append_json_quoted(out, text);
}

void append_integer(std::string& out, int64_t value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

// Appends wire_details(e).dump(). State entered / exited events without
// other details (most of a history) are written directly.
void append_details(std::string& out, const HistoryEvent& e) {
  if (!e.details.is_null() || (e.payload_key != "input" && e.payload_key != "output")) {
    out += wire_details(e).dump();
    return;
  }
  std::string dumped;
  if (!e.payload.is_string()) dumped = e.payload.dump();
  std::string_view payload =
      e.payload.is_string() ? std::string_view(e.payload.get_ref<const std::string&>()) : dumped;
  auto append_payload = [&] {
    out += '"';
    out += e.payload_key;
    out += "\":";
    append_json_string(out, payload);
    out += ",\"";
    out += e.payload_key;
    out += "Details\":{\"truncated\":false}";
  };
  auto append_name = [&] {
    out += "\"name\":";
    append_json_string(out, e.state_name);
  };
  // Members sorted by name, as dump() writes them: input < name < output.
  out += '{';
  if (e.payload_key < "name") {
    append_payload();
    out += ',';
    append_name();
  } else {
    append_name();
    out += ',';
    append_payload();
  }
  out += '}';
}

}  // namespace

Json HistoryEvent::to_wire() const {
  Json j;
  j["id"] = id;
  j["previousEventId"] = previous_event_id;
  j["timestamp"] = wire_seconds(timestamp);
  j["type"] = std::string(type);
  if (has_details(*this)) j[details_member(type)] = wire_details(*this);
  return j;
}

std::string HistoryWireWriter::render(const HistoryEvent& e) {
  std::string out;
  out.reserve(256);
  // dump() writes members sorted by name; the details member goes where
  // its name falls among the four fixed ones.
  std::string details = has_details(e) ? details_member(e.type) : std::string();
  bool is_first = true;
  auto member = [&](std::string_view name) {
    out += is_first ? "{\"" : ",\"";
    is_first = false;
    out += name;
    out += "\":";
  };
  auto details_if_before = [&](std::string_view next) {
    if (details.empty() || details >= next) return;
    member(details);
    append_details(out, e);
    details.clear();
  };
  details_if_before("id");
  member("id");
  append_integer(out, e.id);
  details_if_before("previousEventId");
  member("previousEventId");
  append_integer(out, e.previous_event_id);
  details_if_before("timestamp");
  member("timestamp");
  append_timestamp(out, e.timestamp);
  details_if_before("type");
  member("type");
  append_json_string(out, e.type);
  details_if_before("~");  // after every lower-case name
  out += '}';
  return out;
}

void HistoryWireWriter::append_timestamp(std::string& out, TimePoint timestamp) {
  if (timestamp_text_.empty() || timestamp != timestamp_) {
    timestamp_ = timestamp;
    timestamp_text_ = Json(wire_seconds(timestamp)).dump();
  }
  out += timestamp_text_;
}

struct Execution::Impl {
  std::shared_ptr<const StateMachine> machine;
  ExecutionOptions options;
  ExecutionContext context;
  ExecutionStatus status = ExecutionStatus::kRunning;
  Json execution_input;
  TimePoint start_time{};
  std::optional<TimePoint> execution_deadline;
  std::map<int, Frame> frames;
  int next_frame_id = 0;
  int64_t next_event_id = 1;
  int64_t next_task_number = 1;
  Json final_output;
  std::optional<std::string> final_error, final_cause;

  // per call
  Effects* fx = nullptr;
  TimePoint now{};
  Rng* rng = nullptr;
  std::deque<int> runnable;
  std::deque<int> pending_progress;  // redriven Maps to start (drain)

  void inspect(const char* key, const Json& value) {
    if (options.single_state) options.single_state->inspection[key] = value;
  }
  void inspect(const Frame& f, const char* key, const Json& value) {
    if (f.parent < 0) inspect(key, value);
  }

  // ---- events -----------------------------------------------------------

  int64_t emit(Frame* frame, std::string_view type, Json details,
               std::optional<int64_t> previous = {}) {
    int64_t id = next_event_id++;
    int64_t prev = previous ? *previous : (frame ? frame->last_event : 0);
    if (frame) frame->last_event = id;
    if (options.is_recording_history)
      fx->events.push_back(HistoryEvent{id, prev, now, type, std::move(details), {}, {}, {}});
    return id;
  }

  // ---- scopes -----------------------------------------------------------

  const Json* find_variable(const Frame* f, std::string_view name) const {
    while (f) {
      if (f->variables.is_object()) {
        auto it = f->variables.find(name);
        if (it != f->variables.end()) return &*it;
      }
      f = f->parent >= 0 ? &frames.at(f->parent) : nullptr;
    }
    return nullptr;
  }

  Json context_object(const Frame& f, const Json* map_item) const {
    if (options.single_state) return test_state_context(f, map_item);
    Json c;
    c["Execution"] = {{"Id", context.execution_arn},
                      {"Input", execution_input},
                      {"Name", context.execution_name},
                      {"RoleArn", context.role_arn},
                      {"StartTime", format_iso8601(start_time)},
                      {"RedriveCount", context.redrive_count}};
    int retry = 0;
    for (int r : f.retry_counts) retry += r;
    c["State"] = {{"EnteredTime", format_iso8601(f.entered)},
                  {"Name", f.state ? f.state->name : ""}};
    // Recorded AWS context objects carry RetryCount only once a retry happened.
    if (retry > 0) c["State"]["RetryCount"] = retry;
    c["StateMachine"] = {{"Id", context.state_machine_arn}, {"Name", context.state_machine_name}};
    if (!f.task_token.empty()) c["Task"] = {{"Token", f.task_token}};
    if (map_item) c["Map"] = {{"Item", *map_item}};
    return c;
  }

  // TestState's $$ (recorded): a context given with the call replaces it
  // whole ("{}" gives {}). Otherwise it is an express execution's: no
  // RedriveCount, RoleArn null unless TestState got a roleArn, the state
  // named "StateName" whatever it is called, and RetryCount (the
  // stateConfiguration's retrierRetryCount) only on states that can retry.
  Json test_state_context(const Frame& f, const Json* map_item) const {
    const SingleStateTrace& trace = *options.single_state;
    if (!trace.context_override.is_null()) return trace.context_override;
    Json c;
    c["Execution"] = {{"Id", context.execution_arn},
                      {"Input", execution_input},
                      {"Name", context.execution_name},
                      {"RoleArn", trace.role_arn},
                      {"StartTime", format_iso8601(start_time)}};
    c["State"] = {{"EnteredTime", format_iso8601(f.entered)}, {"Name", "StateName"}};
    if (f.state && can_retry(f.state->type)) c["State"]["RetryCount"] = trace.retrier_retry_count;
    c["StateMachine"] = {{"Id", context.state_machine_arn}, {"Name", context.state_machine_name}};
    if (f.state && has_task_token(*f.state) && !f.task_token.empty())
      c["Task"] = {{"Token", f.task_token}};
    if (map_item) c["Map"] = {{"Item", *map_item}};
    return c;
  }

  // A Scope for evaluating in frame f over input. The returned object keeps
  // pointers into its holder; both live for one evaluation.
  struct ScopeHolder {
    Scope scope;
    std::optional<Json> context;
  };

  void fill_scope(ScopeHolder& h, const Frame& f, const Json* input,
                  const Json* map_item = nullptr) {
    h.scope.input = input;
    h.scope.rng = rng;
    h.scope.now = now;
    const Frame* fp = &f;
    h.scope.context = [this, &h, fp, map_item]() -> const Json& {
      if (!h.context) h.context = context_object(*fp, map_item);
      return *h.context;
    };
    h.scope.variable = [this, fp](std::string_view name) { return find_variable(fp, name); };
    h.scope.each_variable = [this,
                             fp](const std::function<void(const std::string&, const Json*)>& fn) {
      const Frame* g = fp;
      while (g) {
        if (g->variables.is_object())
          for (auto it = g->variables.begin(); it != g->variables.end(); ++it)
            fn(it.key(), &it.value());
        g = g->parent >= 0 ? &frames.at(g->parent) : nullptr;
      }
    };
  }

  // ---- data flow helpers ------------------------------------------------

  AslResult<Json> apply_input_path(const State& st, const Frame& f) {
    if (!st.input_path.is_present) return f.input;
    if (st.input_path.is_null) return Json::object();
    ScopeHolder h;
    fill_scope(h, f, &f.input);
    auto v = resolve_path(*st.input_path.path, h.scope);
    if (!v)
      return asl_fail("States.Runtime",
                      "Invalid path '" + st.input_path.path->text() +
                          "' : No results for path: " + st.input_path.path->text());
    return std::move(*v);
  }

  AslResult<Json> apply_output_path(const State& st, const Frame& f, Json output) {
    if (!st.output_path.is_present) return output;
    if (st.output_path.is_null) return Json::object();
    ScopeHolder h;
    fill_scope(h, f, &output);
    auto v = resolve_path(*st.output_path.path, h.scope);
    if (!v)
      return asl_fail("States.Runtime",
                      "Invalid path '" + st.output_path.path->text() +
                          "' : No results for path: " + st.output_path.path->text());
    return std::move(*v);
  }

  AslResult<Json> apply_result_path(const OptionalPath& rp, const Json& raw_input, Json result) {
    if (!rp.is_present) return result;
    if (rp.is_null) return raw_input;
    if (rp.path->segments().empty()) return result;
    Json out = raw_input;
    auto ok = rp.path->assign(out, std::move(result));
    if (!ok) return tl::unexpected(ok.error());
    return out;
  }

  // Evaluates an Assign template; the variables are written by the caller
  // once every value is known (Assign values cannot see each other).
  AslResult<Json> evaluate_assign(const Template& t, const Frame& f, const Json* input,
                                  const Json* result, const Json* error_output) {
    ScopeHolder h;
    fill_scope(h, f, input);
    h.scope.result = result;
    h.scope.error_output = error_output;
    return t.evaluate(h.scope);
  }

  void store_variables(Frame& f, const Json& assigned) {
    if (!assigned.is_object()) return;
    if (!f.variables.is_object()) f.variables = Json::object();
    for (auto it = assigned.begin(); it != assigned.end(); ++it) f.variables[it.key()] = it.value();
  }

  // A StateEntered / StateExited event: {"name", key: payload} (+ details).
  void emit_state_event(Frame& f, std::string_view type, std::string_view key, const Json& payload,
                        Json details = Json()) {
    if (!options.is_recording_history) {
      emit(&f, {}, Json());
      return;
    }
    emit(&f, type, std::move(details));
    HistoryEvent& e = fx->events.back();
    e.state_name = f.state->name;
    e.payload_key = key;
    e.payload = payload;
  }

  // ---- state completion -------------------------------------------------

  // The state produced `result` (Task output, Pass result, Map/Parallel array).
  // Queues frame `id` to run on if it still exists and is entering a state.
  // Looked up by id: finishing or failing a frame can end it and erase it
  // (and its parents), so a reference held across that call may dangle.
  void queue_if_entering(int id, bool or_done = false) {
    auto it = frames.find(id);
    if (it == frames.end()) return;
    Phase p = it->second.phase;
    if (p == Phase::kEnter || (or_done && p == Phase::kDone)) runnable.push_back(id);
  }

  void finish(Frame& f, Json result) {
    const State& st = *f.state;
    Json output;
    Json assigned;
    bool has_assign = st.assign != nullptr;
    if (options.single_state && !st.is_jsonata &&
        (st.type == StateType::kTask || (st.type == StateType::kPass && st.result)))
      inspect(f, "result", result);
    if (!st.is_jsonata) {
      if (st.result_selector) {
        ScopeHolder h;
        fill_scope(h, f, &result);
        auto sel = st.result_selector->evaluate(h.scope);
        if (!sel) return fail_state(f, sel.error());
        result = std::move(*sel);
      }
      if (has_assign) {
        const Json* assign_input = &result;
        auto a = evaluate_assign(*st.assign, f, assign_input, nullptr, nullptr);
        if (!a) return fail_state(f, a.error());
        assigned = std::move(*a);
      }
      if (options.single_state) inspect(f, "afterResultSelector", result);
      auto with_result = apply_result_path(st.result_path, f.input, std::move(result));
      if (!with_result) return fail_state(f, with_result.error());
      if (options.single_state) inspect(f, "afterResultPath", *with_result);
      auto out = apply_output_path(st, f, std::move(*with_result));
      if (!out) return fail_state(f, out.error());
      output = std::move(*out);
    } else {
      if (has_assign) {
        auto a = evaluate_assign(*st.assign, f, &f.input, &result, nullptr);
        if (!a) return fail_state(f, a.error());
        assigned = std::move(*a);
      }
      if (st.output) {
        ScopeHolder h;
        fill_scope(h, f, &f.input);
        h.scope.result = &result;
        auto o = st.output->evaluate(h.scope);
        if (!o) return fail_state(f, o.error());
        output = std::move(*o);
      } else {
        output = std::move(result);
      }
    }
    if (has_assign) store_variables(f, assigned);
    exit_state(f, std::move(output), has_assign ? &assigned : nullptr, st.next,
               st.is_end || st.type == StateType::kSucceed);
  }

  void exit_state(Frame& f, Json output, const Json* assigned, const std::string& next,
                  bool is_end) {
    const State& st = *f.state;
    // The state is over (succeeded or caught): its failed children can no
    // longer be redriven.
    if (!f.retained.empty() || !f.redrive_queue.empty()) drop_retained(f);
    f.slot_status.clear();
    if (options.single_state && f.parent < 0) {
      // TestState runs one state: report where it would go and stop.
      if (!is_end && !next.empty()) options.single_state->next_state = next;
      is_end = true;
    }
    emit_state_event(
        f, exited_type(st.type), "output", output,
        assigned && options.is_recording_history ? Json{{"assignedVariables", *assigned}} : Json());
    if (is_end) {
      f.phase = Phase::kDone;
      f.output = std::move(output);
      return frame_done(f);
    }
    const State* nxt = machine->flows[static_cast<size_t>(f.flow)]->find(next);
    f.state = nxt;
    f.input = std::move(output);
    f.phase = Phase::kEnter;
    f.retry_counts.clear();
  }

  // An error raised while the state ran: Retry, then Catch, then the flow fails.
  void fail_state(Frame& f, const AslError& err) {
    const State& st = *f.state;
    f.retry_counts.resize(st.retriers.size(), 0);
    for (size_t i = 0; i < st.retriers.size(); ++i) {
      const Retrier& r = st.retriers[i];
      if (!error_matches(r.errors, err.error, true)) continue;
      bool is_test = options.single_state && f.parent < 0;
      int attempts = is_test ? options.single_state->retrier_retry_count : f.retry_counts[i];
      if (attempts >= r.max_attempts) {
        if (is_test) inspect("errorDetails", Json{{"retryIndex", i}});
        break;
      }
      // Worked example: IntervalSeconds 2, BackoffRate 3, third retry
      // (count 2): 2 * 3^2 = 18 s, capped by MaxDelaySeconds; FULL jitter
      // then draws uniformly from [0, 18).
      double delay = r.interval_seconds * std::pow(r.backoff_rate, attempts);
      if (r.max_delay_seconds) delay = std::min(delay, *r.max_delay_seconds);
      if (r.is_jitter_full && rng) {
        double u = static_cast<double>(rng->next_u64() >> 11) / 9007199254740992.0;
        delay *= u;
      }
      if (options.single_state && f.parent < 0) {
        options.single_state->is_retriable = true;
        options.single_state->error = err;
        inspect("errorDetails", Json{{"retryIndex", i}, {"retryBackoffIntervalSeconds", delay}});
        return fail_frame(f, err);
      }
      // A retry runs every branch / iteration again: the old ones are moot.
      if (!f.retained.empty() || !f.redrive_queue.empty()) drop_retained(f);
      f.slot_status.clear();
      ++f.retry_counts[i];
      f.phase = Phase::kRetry;
      f.wake = now + Duration(static_cast<int64_t>(delay * 1e6));
      return;
    }
    for (size_t ci = 0; ci < st.catchers.size(); ++ci) {
      const Catcher& c = st.catchers[ci];
      if (!error_matches(c.errors, err.error, false)) continue;
      if (options.single_state && f.parent < 0) {
        options.single_state->is_caught = true;
        options.single_state->error = err;
        inspect("errorDetails", Json{{"catchIndex", ci}});
      }
      Json error_output{{"Error", err.error}};
      if (err.cause) error_output["Cause"] = *err.cause;
      Json output;
      Json assigned;
      if (!st.is_jsonata) {
        if (c.assign) {
          auto a = evaluate_assign(*c.assign, f, &error_output, nullptr, nullptr);
          if (!a) return fail_frame(f, a.error());
          assigned = std::move(*a);
        }
        OptionalPath rp;
        rp.is_present = c.result_path.has_value() || c.is_result_path_null;
        rp.is_null = c.is_result_path_null;
        rp.path = c.result_path;
        auto o = apply_result_path(rp, f.input, error_output);
        if (!o) return fail_frame(f, o.error());
        output = std::move(*o);
      } else {
        if (c.assign) {
          auto a = evaluate_assign(*c.assign, f, &f.input, nullptr, &error_output);
          if (!a) return fail_frame(f, a.error());
          assigned = std::move(*a);
        }
        if (c.output) {
          ScopeHolder h;
          fill_scope(h, f, &f.input);
          h.scope.error_output = &error_output;
          auto o = c.output->evaluate(h.scope);
          if (!o) return fail_frame(f, o.error());
          output = std::move(*o);
        } else {
          output = error_output;
        }
      }
      if (c.assign) store_variables(f, assigned);
      return exit_state(f, std::move(output), c.assign ? &assigned : nullptr, c.next, false);
    }
    fail_frame(f, err);
  }

  void fail_frame(Frame& f, const AslError& err) {
    f.phase = Phase::kDone;
    f.is_failed = true;
    f.error = err;
    frame_done(f);
  }

  // ---- frame completion and children --------------------------------------

  void frame_done(Frame& f) {
    if (f.parent < 0) {
      if (f.is_failed) {
        Json d{{"error", f.error.error}};
        if (f.error.cause) d["cause"] = *f.error.cause;
        emit(&f, "ExecutionFailed", options.is_recording_history ? d : Json());
        status = ExecutionStatus::kFailed;
        final_error = f.error.error;
        final_cause = f.error.cause;
      } else {
        emit(&f, "ExecutionSucceeded",
             options.is_recording_history ? Json{{"output", f.output}} : Json());
        status = ExecutionStatus::kSucceeded;
        final_output = f.output;
      }
      return;
    }
    Frame& parent = frames.at(f.parent);
    const State& pst = *parent.state;
    bool is_map = pst.type == StateType::kMap;
    int id = f.id;
    size_t slot = static_cast<size_t>(f.index);
    parent.last_event = std::max(parent.last_event, f.last_event);
    if (f.is_failed) {
      AslError err = f.error;
      parent.children.erase(id);
      if (is_map) {
        emit(&parent, "MapIterationFailed",
             options.is_recording_history ? Json{{"name", pst.name}, {"index", slot}} : Json());
        ++parent.failed_children;
        ++parent.finished_children;
        Json error_output{{"Error", err.error}};
        if (err.cause) error_output["Cause"] = *err.cause;
        parent.results[slot] = error_output;
        retain(parent, f, 'F');
        bool tolerated = false;
        size_t total = parent.items.size();
        if (parent.tolerated_count &&
            static_cast<int64_t>(parent.failed_children) <= *parent.tolerated_count)
          tolerated = true;
        if (parent.tolerated_percentage && total > 0 &&
            100.0 * static_cast<double>(parent.failed_children) / static_cast<double>(total) <=
                *parent.tolerated_percentage)
          tolerated = true;
        if (tolerated) return map_progress(parent);
        if (parent.tolerated_count || parent.tolerated_percentage)
          err = AslError{"States.ExceedToleratedFailureThreshold",
                         "The specified tolerated failure threshold was exceeded"};
      } else {
        retain(parent, f, 'F');
      }
      abort_children(parent);
      emit(&parent, is_map ? "MapStateFailed" : "ParallelStateFailed", Json());
      parent.phase = Phase::kEnter;  // placeholder until fail_state decides
      int parent_id = parent.id;
      fail_state(parent, err);
      queue_if_entering(parent_id);
      return;
    }
    parent.results[slot] = std::move(f.output);
    if (is_map)
      emit(&parent, "MapIterationSucceeded",
           options.is_recording_history ? Json{{"name", pst.name}, {"index", slot}} : Json());
    if (slot < parent.slot_status.size()) parent.slot_status[slot] = 'S';
    parent.children.erase(id);
    frames.erase(id);
    ++parent.finished_children;
    if (is_map) return map_progress(parent);
    if (parent.children.empty()) {
      emit(&parent, "ParallelStateSucceeded", Json());
      Json results = std::move(parent.results);
      parent.results = Json::array();
      int parent_id = parent.id;
      finish(parent, std::move(results));
      queue_if_entering(parent_id);
    }
  }

  void abort_children(Frame& parent) {
    for (int child_id : parent.children) {
      auto it = frames.find(child_id);
      if (it == frames.end()) continue;
      abort_frame(it->second);
      if (parent.state->type == StateType::kMap)
        emit(&parent, "MapIterationAborted",
             options.is_recording_history
                 ? Json{{"name", parent.state->name}, {"index", it->second.index}}
                 : Json());
      retain(parent, it->second, 'A');
    }
    parent.children.clear();
  }

  // Keeps a failed or aborted child for a redrive instead of erasing it.
  void retain(Frame& parent, Frame& child, char why) {
    child.is_retained = true;
    parent.retained.push_back(child.id);
    if (child.index >= 0 && static_cast<size_t>(child.index) < parent.slot_status.size())
      parent.slot_status[static_cast<size_t>(child.index)] = why;
  }

  // Erases frame id and everything kept under it. Other frames' references
  // stay valid (std::map), but a reference to id or a descendant dangles.
  void erase_tree(int id) {
    auto it = frames.find(id);
    if (it == frames.end()) return;
    Frame& g = it->second;
    drop_retained(g);
    for (int c : g.children) erase_tree(c);
    frames.erase(id);
  }

  void drop_retained(Frame& f) {
    std::vector<int> ids = std::move(f.retained);
    ids.insert(ids.end(), f.redrive_queue.begin(), f.redrive_queue.end());
    f.retained.clear();
    f.redrive_queue.clear();
    for (int r : ids) erase_tree(r);
  }

  void abort_frame(Frame& f) {
    for (int child_id : f.children) {
      auto it = frames.find(child_id);
      if (it == frames.end()) continue;
      abort_frame(it->second);
      retain(f, it->second, 'A');
    }
    f.children.clear();
    if (!f.state) return;
    if (f.phase == Phase::kTask) {
      fx->cancelled_tasks.push_back(f.task_id);
      emit(&f, "TaskStateAborted", Json());
    } else if (f.phase == Phase::kWait) {
      emit(&f, "WaitStateAborted", Json());
    } else if (f.phase == Phase::kChildren) {
      emit(&f, f.state->type == StateType::kMap ? "MapStateAborted" : "ParallelStateAborted",
           Json());
    }
    f.phase = Phase::kDone;
  }

  int new_frame(int parent, int flow, Json input, int64_t index, int64_t last_event) {
    Frame f;
    f.id = next_frame_id++;
    f.parent = parent;
    f.flow = flow;
    const Flow& fl = *machine->flows[static_cast<size_t>(flow)];
    f.state = fl.find(fl.start_at);
    f.input = std::move(input);
    f.index = index;
    f.last_event = last_event;
    int id = f.id;
    frames.emplace(id, std::move(f));
    return id;
  }

  // Starts iterations while below MaxConcurrency; finishes the Map when all are done.
  void map_progress(Frame& m) {
    const State& st = *m.state;
    size_t total = m.items.size();
    size_t limit = m.max_concurrency > 0 ? static_cast<size_t>(m.max_concurrency) : total;
    while ((!m.redrive_queue.empty() || m.next_item < total) && m.children.size() < limit) {
      if (!m.redrive_queue.empty()) {
        // A redrive: iterations that failed or were aborted run again first.
        int child = m.redrive_queue.front();
        m.redrive_queue.pop_front();
        auto it = frames.find(child);
        if (it == frames.end()) continue;
        emit(&m, "MapIterationStarted",
             options.is_recording_history ? Json{{"name", st.name}, {"index", it->second.index}}
                                          : Json());
        m.children.insert(child);
        redrive_frame(child, m.last_event);  // only sets state and queues; m stays valid
        continue;
      }
      size_t i = m.next_item++;
      Json item_input;
      if (st.item_selector) {
        Json map_item{{"Index", i}, {"Value", m.items[i]}};
        ScopeHolder h;
        fill_scope(h, m, &m.effective, &map_item);
        auto v = st.item_selector->evaluate(h.scope);
        if (!v) {
          m.next_item = i;  // not started: a redrive starts it again
          abort_children(m);
          emit(&m, "MapStateFailed", Json());
          int map_id = m.id;
          fail_state(m, v.error());
          queue_if_entering(map_id);
          return;
        }
        item_input = std::move(*v);
      } else {
        item_input = m.items[i];
      }
      emit(&m, "MapIterationStarted",
           options.is_recording_history ? Json{{"name", st.name}, {"index", i}} : Json());
      int child = new_frame(m.id, st.processor, std::move(item_input), static_cast<int64_t>(i),
                            m.last_event);
      m.children.insert(child);
      runnable.push_back(child);
    }
    if (m.finished_children == total && m.children.empty()) {
      emit(&m, "MapStateSucceeded", Json());
      Json results = std::move(m.results);
      m.results = Json();
      if (st.result_writer) {
        ResultWrite write;
        write.state_name = st.name;
        if (st.result_writer_parameters) {
          ScopeHolder h;
          fill_scope(h, m, &m.effective);
          auto p = st.result_writer_parameters->evaluate(h.scope);
          if (!p) {
            int map_id = m.id;
            fail_state(m, p.error());
            queue_if_entering(map_id);
            return;
          }
          write.parameters = std::move(*p);
        }
        // The Map's output names where the results went, as AWS's
        // ResultWriterDetails does; the results themselves leave as an effect.
        Json details{{"ResultWriterDetails", write.parameters}};
        write.results = std::move(results);
        fx->result_writes.push_back(std::move(write));
        results = std::move(details);
      }
      int map_id = m.id;
      finish(m, std::move(results));
      queue_if_entering(map_id);
    }
  }

  // ---- running states -------------------------------------------------------

  void run_frame(int id) {
    while (status == ExecutionStatus::kRunning) {
      auto it = frames.find(id);
      if (it == frames.end()) return;
      Frame& f = it->second;
      if (f.phase != Phase::kEnter) return;
      enter_state(f);
    }
  }

  void enter_state(Frame& f) {
    const State& st = *f.state;
    f.entered = now;
    f.retry_counts.assign(st.retriers.size(), 0);
    if (options.single_state) inspect(f, "input", f.input);
    f.task_token.clear();
    if (options.is_recording_history) {
      emit_state_event(f, entered_type(st.type), "input", f.input);
    } else {
      emit(&f, {}, Json());
    }
    if (options.payload_limit_bytes && st.type == StateType::kTask) {
      // Payload size is checked where data crosses the boundary (tasks).
    }
    execute(f);
  }

  // Runs the state's work from its effective input (again after a retry).
  void execute(Frame& f) {
    const State& st = *f.state;
    ScopeHolder h;
    Json effective;
    if (!st.is_jsonata && !st.input_path.is_present && !st.result_path.is_present &&
        (st.type == StateType::kPass || st.type == StateType::kSucceed)) {
      // The raw input is not read again (no ResultPath to merge into): move it.
      effective = std::move(f.input);
      f.input = Json();
    } else if (!st.is_jsonata) {
      auto in = apply_input_path(st, f);
      if (!in) return fail_state(f, in.error());
      effective = std::move(*in);
    } else {
      effective = f.input;
    }
    if (options.single_state && !st.is_jsonata && f.parent < 0 &&
        ((st.type == StateType::kPass && !st.result) || st.type == StateType::kTask ||
         st.type == StateType::kChoice || st.type == StateType::kFail ||
         st.type == StateType::kMap || st.type == StateType::kSucceed))
      inspect("afterInputPath", effective);
    switch (st.type) {
      case StateType::kPass: {
        if (st.is_jsonata) return finish(f, st.output ? Json(f.input) : Json(f.input));
        if (st.parameters) {
          fill_scope(h, f, &effective);
          auto p = st.parameters->evaluate(h.scope);
          if (!p) return fail_state(f, p.error());
          effective = std::move(*p);
        }
        if (options.single_state && !st.result) inspect(f, "afterParameters", effective);
        if (st.result) {
          if (options.payload_limit_bytes && st.result_bytes > options.payload_limit_bytes)
            return fail_state(f, AslError{"States.DataLimitExceeded",
                                          "The state/task '" + st.name +
                                              "' returned a result with a size exceeding the "
                                              "maximum number of bytes service limit."});
          return finish(f, *st.result);
        }
        return finish(f, std::move(effective));
      }
      case StateType::kSucceed: {
        if (st.is_jsonata && st.output) return finish(f, std::move(effective));
        auto out = apply_output_path(st, f, std::move(effective));
        if (!out) return fail_state(f, out.error());
        return exit_state(f, std::move(*out), nullptr, "", true);
      }
      case StateType::kFail:
        return run_fail(f, effective);
      case StateType::kChoice:
        return run_choice(f, std::move(effective));
      case StateType::kWait:
        return run_wait(f, std::move(effective));
      case StateType::kTask:
        return run_task(f, std::move(effective));
      case StateType::kParallel:
      case StateType::kMap:
        return run_children(f, std::move(effective));
    }
  }

  static AslResult<void> path_text(const std::shared_ptr<Template>& t, const Scope& scope,
                                   std::optional<std::string>& out) {
    auto v = t->evaluate(scope);
    if (!v) return tl::unexpected(v.error());
    const Json& value = (*v)["v"];
    if (!value.is_string())
      return asl_fail("States.Runtime",
                      "The ErrorPath/CausePath value " + value.dump() + " is not a string");
    out = value.get<std::string>();
    return {};
  }

  void run_fail(Frame& f, const Json& effective) {
    const State& st = *f.state;
    AslError err;
    ScopeHolder h;
    fill_scope(h, f, &effective);
    auto text_of = [&](const std::optional<std::string>& literal,
                       const std::optional<JsonPath>& path, const std::shared_ptr<Template>& t,
                       const char* field, std::optional<std::string>& out) -> AslResult<void> {
      if (literal) out = literal;
      if (path) {
        auto v = resolve_path(*path, h.scope);
        if (!v || !v->is_string())
          return asl_fail("States.Runtime", std::string("The ") + field + "Path '" + path->text() +
                                                "' did not resolve to a string");
        out = v->get<std::string>();
      }
      if (t) {
        auto v = t->evaluate(h.scope);
        if (!v) return tl::unexpected(v.error());
        if (!v->is_string())
          return asl_fail("States.QueryEvaluationError",
                          std::string("The ") + field + " must evaluate to a string");
        out = v->get<std::string>();
      }
      return {};
    };
    std::optional<std::string> error, cause;
    auto e1 = text_of(st.error, st.error_path, st.error_template, "Error", error);
    if (e1 && st.error_path_template) e1 = path_text(st.error_path_template, h.scope, error);
    if (!e1) return fail_frame(f, e1.error());
    auto e2 = text_of(st.cause, st.cause_path, st.cause_template, "Cause", cause);
    if (e2 && st.cause_path_template) e2 = path_text(st.cause_path_template, h.scope, cause);
    if (!e2) return fail_frame(f, e2.error());
    err.error = error.value_or("");
    err.cause = cause;
    f.phase = Phase::kDone;
    f.is_failed = true;
    f.error = err;
    frame_done(f);
  }

  void run_choice(Frame& f, Json effective) {
    const State& st = *f.state;
    ScopeHolder h;
    fill_scope(h, f, &effective);
    const ChoiceRule* chosen = nullptr;
    for (const auto& rule : st.choices) {
      auto r = test_choice_rule(rule, h.scope);
      if (!r) return fail_state(f, r.error());
      if (*r) {
        chosen = &rule;
        break;
      }
    }
    std::string next;
    if (chosen) {
      next = chosen->next;
    } else if (!st.default_next.empty()) {
      next = st.default_next;
    } else {
      return fail_state(
          f, AslError{"States.NoChoiceMatched", "No Matches! in choice state '" + st.name + "'"});
    }
    Json assigned;
    bool has_assign = false;
    const std::shared_ptr<Template>& assign = chosen && chosen->assign ? chosen->assign : st.assign;
    if (assign) {
      auto a = evaluate_assign(*assign, f, &effective, nullptr, nullptr);
      if (!a) return fail_state(f, a.error());
      assigned = std::move(*a);
      has_assign = true;
    }
    Json output;
    if (st.is_jsonata) {
      const std::shared_ptr<Template>& out_t =
          chosen && chosen->output ? chosen->output : st.output;
      if (out_t) {
        auto o = out_t->evaluate(h.scope);
        if (!o) return fail_state(f, o.error());
        output = std::move(*o);
      } else {
        output = std::move(effective);
      }
    } else {
      auto o = apply_output_path(st, f, std::move(effective));
      if (!o) return fail_state(f, o.error());
      output = std::move(*o);
    }
    if (has_assign) store_variables(f, assigned);
    exit_state(f, std::move(output), has_assign ? &assigned : nullptr, next, false);
  }

  void run_wait(Frame& f, Json effective) {
    const State& st = *f.state;
    ScopeHolder h;
    fill_scope(h, f, &effective);
    const char* error_name = st.is_jsonata ? "States.QueryEvaluationError" : "States.Runtime";
    // AWS refuses timestamps more than 24855 days (2^31 s) ahead: "Wait state
    // delay is too long" (recorded at the 24856-day boundary).
    auto seconds_value = [&](const Json& v) -> AslResult<TimePoint> {
      if (!v.is_number() || v.get<double>() < 0 || std::floor(v.get<double>()) != v.get<double>())
        return asl_fail(error_name,
                        "The SecondsPath parameter cannot be parsed as a long value: " + v.dump());
      // Clamped before the cast (a cast past int64 is undefined); 9e12 s is
      // still far past the 24855-day limit, so the same refusal follows.
      return now + Duration(static_cast<int64_t>(std::min(v.get<double>(), 9.0e12) * 1e6));
    };
    auto timestamp_value = [&](const Json& v) -> AslResult<TimePoint> {
      auto us = v.is_string() ? parse_timestamp_us(v.get<std::string>()) : std::nullopt;
      if (!us)
        return asl_fail(error_name,
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                        "offset date-time format string: " +
                            v.dump());
      TimePoint t = from_epoch_us(*us);
      if (t - now > std::chrono::hours(24 * 24855))
        return asl_fail(error_name, "Wait state delay is too long.");
      return t;
    };
    AslResult<TimePoint> r = now;
    if (st.wait_seconds) {
      r = seconds_value(Json(*st.wait_seconds));
    } else if (st.wait_timestamp) {
      r = timestamp_value(Json(*st.wait_timestamp));
    } else if (st.wait_seconds_path || st.wait_timestamp_path) {
      const JsonPath& p = st.wait_seconds_path ? *st.wait_seconds_path : *st.wait_timestamp_path;
      auto v = resolve_path(p, h.scope);
      if (!v)
        r = asl_fail("States.Runtime", "Invalid path '" + p.text() + "' : No results for path");
      else
        r = st.wait_seconds_path ? seconds_value(*v) : timestamp_value(*v);
    } else if (st.wait_seconds_template || st.wait_timestamp_template) {
      auto v = (st.wait_seconds_template ? st.wait_seconds_template : st.wait_timestamp_template)
                   ->evaluate(h.scope);
      if (!v)
        r = tl::unexpected(v.error());
      else
        r = st.wait_seconds_template ? seconds_value(*v) : timestamp_value(*v);
    }
    if (!r) return fail_state(f, r.error());
    f.effective = std::move(effective);
    f.wake = *r;
    f.phase = Phase::kWait;
    if (f.wake <= now) return wait_over(f);
  }

  void wait_over(Frame& f) {
    const State& st = *f.state;
    Json effective = std::move(f.effective);
    f.effective = Json();
    if (st.is_jsonata) {
      if (st.output || st.assign) return finish(f, std::move(effective));
      return exit_state(f, std::move(effective), nullptr, st.next, st.is_end);
    }
    if (st.assign) {
      auto a = evaluate_assign(*st.assign, f, &effective, nullptr, nullptr);
      if (!a) return fail_state(f, a.error());
      auto o = apply_output_path(st, f, std::move(effective));
      if (!o) return fail_state(f, o.error());
      store_variables(f, *a);
      return exit_state(f, std::move(*o), &*a, st.next, st.is_end);
    }
    auto o = apply_output_path(st, f, std::move(effective));
    if (!o) return fail_state(f, o.error());
    exit_state(f, std::move(*o), nullptr, st.next, st.is_end);
  }

  void run_task(Frame& f, Json effective) {
    const State& st = *f.state;
    f.task_id = "task-" + std::to_string(next_task_number++);
    f.task_token = rng ? make_uuid(*rng) : f.task_id;
    ScopeHolder h;
    fill_scope(h, f, &effective);
    Json parameters = effective;
    if (st.parameters) {
      auto p = st.parameters->evaluate(h.scope);
      if (!p) return fail_state(f, p.error());
      parameters = std::move(*p);
    }
    auto seconds = [&](const std::optional<double>& literal, const std::optional<JsonPath>& path,
                       const std::shared_ptr<Template>& t) -> AslResult<std::optional<double>> {
      if (literal) return literal;
      if (path) {
        auto v = resolve_path(*path, h.scope);
        if (!v || !v->is_number() || v->get<double>() <= 0)
          return asl_fail("States.Runtime",
                          "The path '" + path->text() + "' must resolve to a positive number");
        return std::optional<double>(v->get<double>());
      }
      if (t) {
        auto v = t->evaluate(h.scope);
        if (!v) return tl::unexpected(v.error());
        if (!v->is_number() || v->get<double>() <= 0)
          return asl_fail("States.QueryEvaluationError", "the value must be a positive number");
        return std::optional<double>(v->get<double>());
      }
      return std::optional<double>();
    };
    auto timeout = seconds(st.timeout_seconds, st.timeout_seconds_path, st.timeout_template);
    if (!timeout) return fail_state(f, timeout.error());
    auto heartbeat =
        seconds(st.heartbeat_seconds, st.heartbeat_seconds_path, st.heartbeat_template);
    if (!heartbeat) return fail_state(f, heartbeat.error());
    TaskRequest req;
    req.task_id = f.task_id;
    req.state_name = st.name;
    req.resource = st.resource;
    req.parameters = parameters;
    req.timeout_seconds = *timeout;
    req.heartbeat_seconds = *heartbeat;
    req.is_sync = st.resource.find(".sync") != std::string::npos;
    req.is_wait_for_task_token = st.resource.find(".waitForTaskToken") != std::string::npos;
    req.task_token = f.task_token;
    req.is_activity = is_activity_arn(st.resource);
    f.task_deadline.reset();
    f.heartbeat_deadline.reset();
    if (*timeout) f.task_deadline = now + Duration(static_cast<int64_t>(**timeout * 1e6));
    f.heartbeat_seconds = *heartbeat ? **heartbeat : 0;
    if (*heartbeat) f.heartbeat_deadline = now + Duration(static_cast<int64_t>(**heartbeat * 1e6));
    f.phase = Phase::kTask;
    if (options.single_state && f.parent < 0) {
      inspect(st.is_jsonata ? "afterArguments" : "afterParameters", parameters);
      SingleStateTrace& trace = *options.single_state;
      if (trace.mock_error) return task_error(f, *trace.mock_error, "TaskFailed");
      if (trace.mock_result) return task_done(f, *trace.mock_result);
    }
    if (req.is_activity) {
      // An activity waits for a worker's GetActivityTask: its heartbeat
      // clock starts when a worker takes it (task_started), its timeout now.
      f.heartbeat_deadline.reset();
      Json d{{"resource", st.resource}, {"input", parameters}};
      if (*timeout) d["timeoutInSeconds"] = **timeout;
      if (*heartbeat) d["heartbeatInSeconds"] = **heartbeat;
      emit(&f, "ActivityScheduled", options.is_recording_history ? std::move(d) : Json());
    } else if (options.is_recording_history) {
      Json d{{"resourceType", resource_type(st.resource)},
             {"resource", resource_action(st.resource)},
             {"region", "us-east-1"},
             {"parameters", parameters}};
      if (*timeout) d["timeoutInSeconds"] = **timeout;
      if (*heartbeat) d["heartbeatInSeconds"] = **heartbeat;
      emit(&f, "TaskScheduled", std::move(d));
      emit(&f, "TaskStarted",
           Json{{"resourceType", resource_type(st.resource)},
                {"resource", resource_action(st.resource)}});
    } else {
      emit(&f, {}, Json());
    }
    fx->tasks.push_back(std::move(req));
  }

  static std::string resource_type(const std::string& arn) {
    // arn:aws:states:::batch:submitJob.sync -> batch
    auto pos = arn.find(":::");
    if (pos == std::string::npos) return "lambda";
    auto rest = arn.substr(pos + 3);
    return rest.substr(0, rest.find(':'));
  }
  static std::string resource_action(const std::string& arn) {
    auto pos = arn.find(":::");
    if (pos == std::string::npos) return arn;
    auto rest = arn.substr(pos + 3);
    auto colon = rest.find(':');
    return colon == std::string::npos ? rest : rest.substr(colon + 1);
  }

  void task_done(Frame& f, Json output) {
    if (is_activity_arn(f.state->resource))
      emit(&f, "ActivitySucceeded",
           options.is_recording_history ? Json{{"output", output}} : Json());
    else if (options.is_recording_history)
      emit(&f, "TaskSucceeded",
           Json{{"resourceType", resource_type(f.state->resource)},
                {"resource", resource_action(f.state->resource)},
                {"output", output}});
    f.task_id.clear();
    f.phase = Phase::kEnter;  // finish() moves it on
    int id = f.id;
    finish(f, std::move(output));
    queue_if_entering(id, /*or_done=*/true);
  }

  void task_error(Frame& f, AslError err, const char* event) {
    Json d{{"error", err.error}};
    if (is_activity_arn(f.state->resource)) {
      // TaskFailed -> ActivityFailed, TaskTimedOut -> ActivityTimedOut.
      event = std::string_view(event) == "TaskTimedOut" ? "ActivityTimedOut" : "ActivityFailed";
    } else {
      d["resourceType"] = resource_type(f.state->resource);
      d["resource"] = resource_action(f.state->resource);
    }
    if (err.cause) d["cause"] = *err.cause;
    emit(&f, event, options.is_recording_history ? d : Json());
    f.task_id.clear();
    f.phase = Phase::kEnter;
    int id = f.id;
    fail_state(f, err);
    queue_if_entering(id);
  }

  // AWS accepts a numeric string where a Path names an integer ("1").
  static std::optional<int64_t> integer_of(const std::optional<Json>& v) {
    if (!v) return std::nullopt;
    if (v->is_number_integer()) return v->get<int64_t>();
    if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
        std::fabs(v->get<double>()) < 9.2e18)  // a cast past int64 is undefined
      return static_cast<int64_t>(v->get<double>());
    if (v->is_string()) {
      const auto& s = v->get_ref<const std::string&>();
      if (s.empty() || s.size() > 18) return std::nullopt;
      for (char ch : s)
        if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
      return std::stoll(s);
    }
    return std::nullopt;
  }

  // MaxConcurrency(Path) and ToleratedFailure{Count,Percentage}(Path), or
  // their JSONata expressions, resolved into the Map frame.
  AslResult<void> resolve_map_limits(Frame& f, const State& st, const Scope& scope) {
    f.max_concurrency = st.max_concurrency;
    f.tolerated_count.reset();
    f.tolerated_percentage.reset();
    if (st.tolerated_failure_count) f.tolerated_count = *st.tolerated_failure_count;
    if (st.tolerated_failure_percentage) f.tolerated_percentage = *st.tolerated_failure_percentage;
    auto jsonata_number = [&](const std::shared_ptr<Template>& t,
                              const char* field) -> AslResult<std::optional<double>> {
      if (!t) return std::optional<double>();
      auto v = t->evaluate(scope);
      if (!v) return tl::unexpected(v.error());
      if (!v->is_number() || v->get<double>() < 0)
        return asl_fail(
            "States.QueryEvaluationError",
            std::string("The ") + field + " expression must give a non-negative number");
      return std::optional<double>(v->get<double>());
    };
    auto mc = jsonata_number(st.max_concurrency_template, "MaxConcurrency");
    if (!mc) return tl::unexpected(mc.error());
    if (*mc) f.max_concurrency = static_cast<int>(**mc);
    auto tc = jsonata_number(st.tolerated_count_template, "ToleratedFailureCount");
    if (!tc) return tl::unexpected(tc.error());
    if (*tc) f.tolerated_count = static_cast<int64_t>(**tc);
    auto tp = jsonata_number(st.tolerated_percentage_template, "ToleratedFailurePercentage");
    if (!tp) return tl::unexpected(tp.error());
    if (*tp) f.tolerated_percentage = **tp;
    if (st.max_concurrency_path) {
      auto v = integer_of(resolve_path(*st.max_concurrency_path, scope));
      if (!v || *v < 0)
        return asl_fail("States.Runtime",
                        "The MaxConcurrencyPath field refers to a value that is not a "
                        "non-negative integer");
      f.max_concurrency = static_cast<int>(*v);
    }
    if (st.tolerated_failure_count_path) {
      auto v = integer_of(resolve_path(*st.tolerated_failure_count_path, scope));
      if (!v || *v < 0)
        return asl_fail("States.Runtime",
                        "ToleratedFailureCountPath must resolve to a non-negative integer");
      f.tolerated_count = *v;
    }
    if (st.tolerated_failure_percentage_path) {
      auto v = resolve_path(*st.tolerated_failure_percentage_path, scope);
      if (v && v->is_string()) {
        Json parsed = Json::parse(v->get<std::string>(), nullptr, false);
        if (parsed.is_number()) v = parsed;
      }
      if (!v || !v->is_number() || v->get<double>() < 0 || v->get<double>() > 100)
        return asl_fail(
            "States.Runtime",
            "ToleratedFailurePercentagePath must resolve to a number between 0 and 100");
      f.tolerated_percentage = v->get<double>();
    }
    return {};
  }

  // The items a Map iterates: Items (JSONata), ItemsPath, the ItemReader's
  // object, or the effective input; an error unless it is an array.
  AslResult<Json> map_items(const State& st, const Json& effective, const Scope& scope) {
    Json items;
    if (st.is_jsonata && st.items) {
      auto v = st.items->evaluate(scope);
      if (!v) return tl::unexpected(v.error());
      items = std::move(*v);
    } else if (st.items_path) {
      auto v = resolve_path(*st.items_path, scope);
      if (!v)
        return asl_fail("States.Runtime",
                        "Invalid path '" + st.items_path->text() + "' : No results for path");
      items = std::move(*v);
    } else {
      items = effective;
    }
    if (st.item_reader) {
      auto read = read_items(st, scope);
      if (!read) return tl::unexpected(read.error());
      items = std::move(*read);
    }
    if (!items.is_array()) {
      if (st.items_path)
        return asl_fail("States.Runtime",
                        "Reference path \"" + st.items_path->text() + "\" must point to array.");
      return asl_fail(st.is_jsonata ? "States.QueryEvaluationError" : "States.Runtime",
                      "Map state input must be an array, got " + items.dump());
    }
    return items;
  }

  void run_children(Frame& f, Json effective) {
    const State& st = *f.state;
    ScopeHolder h;
    fill_scope(h, f, &effective);
    if (!f.retained.empty() || !f.redrive_queue.empty()) drop_retained(f);
    f.slot_status.clear();
    f.children.clear();
    f.finished_children = 0;
    f.failed_children = 0;
    f.next_item = 0;
    if (options.single_state && f.parent < 0 &&
        (options.single_state->mock_result || options.single_state->mock_error)) {
      // TestState with a mock: the mock stands for the whole Map/Parallel result.
      if (st.type == StateType::kMap) {
        // AWS reads the items before it consults the mock.
        if (!st.item_reader) {
          auto listed = map_items(st, effective, h.scope);
          if (!listed) return fail_state(f, listed.error());
          if (!st.is_jsonata) inspect("afterItemsPath", *listed);
        }
        if (auto limits = resolve_map_limits(f, st, h.scope); !limits)
          return fail_state(f, limits.error());
        inspect("maxConcurrency", f.max_concurrency);
        if (f.tolerated_count) inspect("toleratedFailureCount", *f.tolerated_count);
        if (f.tolerated_percentage) inspect("toleratedFailurePercentage", *f.tolerated_percentage);
      }
      if (options.single_state->mock_error) return fail_state(f, *options.single_state->mock_error);
      if (st.type == StateType::kMap && options.single_state->map_iteration_failure_count) {
        int64_t failed = *options.single_state->map_iteration_failure_count;
        const Json& mock = *options.single_state->mock_result;
        size_t total = mock.is_array() ? mock.size() : 0;
        bool exceeded = (f.tolerated_count && failed > *f.tolerated_count) ||
                        (f.tolerated_percentage && total > 0 &&
                         100.0 * static_cast<double>(failed) / static_cast<double>(total) >
                             *f.tolerated_percentage);
        if (exceeded)
          return fail_state(f, AslError{"States.ExceedToleratedFailureThreshold",
                                        "The specified tolerated failure threshold was exceeded"});
      }
      return finish(f, *options.single_state->mock_result);
    }
    if (st.type == StateType::kParallel) {
      if (!st.is_jsonata && st.parameters) {
        auto p = st.parameters->evaluate(h.scope);
        if (!p) return fail_state(f, p.error());
        effective = std::move(*p);
      } else if (st.is_jsonata && st.parameters) {
        auto p = st.parameters->evaluate(h.scope);
        if (!p) return fail_state(f, p.error());
        effective = std::move(*p);
      }
      emit(&f, "ParallelStateStarted", Json());
      f.results = Json::array();
      for (size_t i = 0; i < st.branches.size(); ++i) f.results.push_back(nullptr);
      f.slot_status.assign(st.branches.size(), '.');
      f.phase = Phase::kChildren;
      f.effective = effective;
      for (size_t i = 0; i < st.branches.size(); ++i) {
        int child =
            new_frame(f.id, st.branches[i], effective, static_cast<int64_t>(i), f.last_event);
        f.children.insert(child);
        runnable.push_back(child);
      }
      if (st.branches.empty()) {
        emit(&f, "ParallelStateSucceeded", Json());
        finish(f, Json::array());
      }
      return;
    }
    // Map
    auto listed = map_items(st, effective, h.scope);
    if (!listed) return fail_state(f, listed.error());
    Json items = std::move(*listed);
    if (st.item_batcher && st.item_batcher->is_object()) {
      size_t per = st.item_batcher->value("MaxItemsPerBatch", static_cast<size_t>(0));
      if (per == 0) per = items.size() ? items.size() : 1;
      Json batch_input = st.item_batcher->value("BatchInput", Json());
      Json batches = Json::array();
      for (size_t i = 0; i < items.size(); i += per) {
        Json b{{"Items", Json::array()}};
        if (!batch_input.is_null()) b["BatchInput"] = batch_input;
        for (size_t k = i; k < std::min(items.size(), i + per); ++k) b["Items"].push_back(items[k]);
        batches.push_back(std::move(b));
      }
      items = std::move(batches);
    }
    if (auto limits = resolve_map_limits(f, st, h.scope); !limits)
      return fail_state(f, limits.error());
    f.effective = std::move(effective);
    f.items = std::move(items);
    f.results = Json::array();
    for (size_t i = 0; i < f.items.size(); ++i) f.results.push_back(nullptr);
    f.slot_status.assign(f.items.size(), '.');
    emit(&f, "MapStateStarted",
         options.is_recording_history ? Json{{"length", f.items.size()}} : Json());
    f.phase = Phase::kChildren;
    map_progress(f);
  }

  // ItemReader over bytes from the injected ItemSource. ReaderConfig:
  // InputType JSON (an array), JSONL (one value per line) or CSV (first row
  // or CSVHeaders as field names, every value a string), and MaxItems.
  AslResult<Json> read_items(const State& st, const Scope& scope) {
    const Json& reader = *st.item_reader;
    Json params = Json::object();
    if (st.item_reader_parameters) {
      auto p = st.item_reader_parameters->evaluate(scope);
      if (!p) return tl::unexpected(p.error());
      params = std::move(*p);
    }
    if (!options.item_source)
      return asl_fail("States.ItemReaderFailed", "no item source is configured for ItemReader");
    auto bytes = options.item_source(reader.value("Resource", ""), params);
    if (!bytes) return asl_fail("States.ItemReaderFailed", bytes.error());
    Json config = reader.value("ReaderConfig", Json::object());
    std::string type = config.value("InputType", "JSON");
    size_t max_items = config.value("MaxItems", static_cast<size_t>(0));
    Json items = Json::array();
    if (type == "JSON") {
      items = Json::parse(*bytes, nullptr, false);
      if (items.is_discarded() || !items.is_array())
        return asl_fail("States.ItemReaderFailed", "the ItemReader object is not a JSON array");
    } else if (type == "JSONL") {
      size_t start = 0;
      while (start < bytes->size()) {
        size_t end = bytes->find('\n', start);
        if (end == std::string::npos) end = bytes->size();
        std::string line = bytes->substr(start, end - start);
        start = end + 1;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        Json v = Json::parse(line, nullptr, false);
        if (v.is_discarded())
          return asl_fail("States.ItemReaderFailed", "a JSONL line is not valid JSON");
        items.push_back(std::move(v));
      }
    } else if (type == "CSV") {
      std::vector<std::vector<std::string>> rows;
      std::vector<std::string> row;
      std::string cell;
      bool quoted = false;
      for (size_t i = 0; i < bytes->size(); ++i) {
        char c = (*bytes)[i];
        if (quoted) {
          if (c == '"' && i + 1 < bytes->size() && (*bytes)[i + 1] == '"') {
            cell += '"';
            ++i;
          } else if (c == '"') {
            quoted = false;
          } else {
            cell += c;
          }
        } else if (c == '"') {
          quoted = true;
        } else if (c == ',') {
          row.push_back(std::move(cell));
          cell.clear();
        } else if (c == '\n' || c == '\r') {
          if (c == '\r' && i + 1 < bytes->size() && (*bytes)[i + 1] == '\n') ++i;
          row.push_back(std::move(cell));
          cell.clear();
          rows.push_back(std::move(row));
          row.clear();
        } else {
          cell += c;
        }
      }
      if (!cell.empty() || !row.empty()) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
      }
      std::vector<std::string> headers;
      size_t first = 0;
      if (config.value("CSVHeaderLocation", "FIRST_ROW") == "GIVEN") {
        headers = config.value("CSVHeaders", std::vector<std::string>());
      } else if (!rows.empty()) {
        headers = rows[0];
        first = 1;
      }
      for (size_t r = first; r < rows.size(); ++r) {
        if (rows[r].size() != headers.size())
          return asl_fail("States.ItemReaderFailed", "CSV row " + std::to_string(r + 1) + " has " +
                                                         std::to_string(rows[r].size()) +
                                                         " fields, the header has " +
                                                         std::to_string(headers.size()));
        Json item = Json::object();
        for (size_t k = 0; k < headers.size(); ++k) item[headers[k]] = rows[r][k];
        items.push_back(std::move(item));
      }
    } else {
      return asl_fail("States.ItemReaderFailed", "unsupported ReaderConfig InputType " + type);
    }
    if (max_items > 0 && items.size() > max_items)
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(max_items), items.end());
    return items;
  }

  // ---- driving ----------------------------------------------------------------

  void drain() {
    while ((!runnable.empty() || !pending_progress.empty()) &&
           status == ExecutionStatus::kRunning) {
      if (!pending_progress.empty()) {
        // A redriven Map starts its iterations here, not inside the redrive
        // walk: map_progress can fail the Map and unwind its parents.
        int id = pending_progress.front();
        pending_progress.pop_front();
        auto it = frames.find(id);
        if (it != frames.end() && it->second.phase == Phase::kChildren) map_progress(it->second);
        continue;
      }
      int id = runnable.front();
      runnable.pop_front();
      run_frame(id);
      if (over_history_quota()) break;
    }
    if (over_history_quota())
      terminate(ExecutionStatus::kFailed, "ExecutionFailed", std::string("States.Runtime"),
                "The execution reached the maximum number of history events (" +
                    std::to_string(options.max_history_events) +
                    "). Split the work into nested executions, or have the admin raise "
                    "helixd --max-history-events");
    runnable.clear();
    pending_progress.clear();
  }

  // ---- redrive ------------------------------------------------------------------

  // Makes frame id run again after the execution failed, was aborted or
  // timed out. A Map / Parallel whose children had started reruns only the
  // branches and iterations that did not succeed (and starts the items not
  // yet started); any other frame enters its state again with the input it
  // had, so a Task gets a new task id and token. Only sets state and queues
  // work: nothing here finishes or erases a frame above the ones it resets,
  // so the reference f stays valid across the recursion.
  void redrive_frame(int id, int64_t previous) {
    auto found = frames.find(id);
    if (found == frames.end()) return;
    Frame& f = found->second;
    f.is_retained = false;
    f.is_failed = false;
    f.error = AslError{};
    f.last_event = previous;
    const State* st = f.state;
    bool is_map = st && st->type == StateType::kMap;
    bool had_children = st && (is_map || st->type == StateType::kParallel) &&
                        !f.slot_status.empty() && f.phase != Phase::kRetry;
    bool has_work = !f.children.empty() || !f.redrive_queue.empty() ||
                    (is_map && f.next_item < f.items.size()) ||
                    f.slot_status.find_first_of("FA") != std::string::npos;
    if (!had_children || !has_work) {
      // Failed before its children started, or after all of them succeeded
      // (ResultSelector, OutputPath, ResultWriter): the results have left
      // the frame, so the state runs again whole.
      drop_retained(f);
      for (int c : f.children) erase_tree(c);
      f.children.clear();
      f.slot_status.clear();
      f.task_id.clear();
      f.phase = Phase::kEnter;
      runnable.push_back(id);
      return;
    }
    f.phase = Phase::kChildren;
    f.retry_counts.assign(st->retriers.size(), 0);
    // Children still running when the execution was stopped or timed out.
    std::vector<int> live(f.children.begin(), f.children.end());
    for (int c : live) redrive_frame(c, previous);
    std::vector<int> again = std::move(f.retained);
    f.retained.clear();
    auto index_of = [this](int c) {
      auto it = frames.find(c);
      return it == frames.end() ? int64_t{-1} : it->second.index;
    };
    std::sort(again.begin(), again.end(), [&](int a, int b) { return index_of(a) < index_of(b); });
    for (int c : again) {
      int64_t index = index_of(c);
      if (index < 0) continue;
      size_t slot = static_cast<size_t>(index);
      if (slot < f.slot_status.size()) {
        if (f.slot_status[slot] == 'F' && is_map) {
          // Map failures counted as finished (and toward the tolerance).
          if (f.failed_children > 0) --f.failed_children;
          if (f.finished_children > 0) --f.finished_children;
        }
        f.slot_status[slot] = '.';
      }
      if (is_map) {
        if (f.results.is_array() && slot < f.results.size()) f.results[slot] = nullptr;
        f.redrive_queue.push_back(c);  // stays retained until map_progress starts it
      } else {
        f.children.insert(c);
        redrive_frame(c, previous);
      }
    }
    if (is_map) pending_progress.push_back(id);
  }

  void redrive() {
    int root = -1;
    for (const auto& [id, f] : frames)
      if (f.parent < 0) {
        root = id;
        break;
      }
    if (root < 0) return;
    status = ExecutionStatus::kRunning;
    final_output = Json();
    final_error.reset();
    final_cause.reset();
    ++context.redrive_count;
    // The execution's TimeoutSeconds counts from the redrive.
    execution_deadline.reset();
    if (machine->timeout_seconds)
      execution_deadline = now + Duration(static_cast<int64_t>(*machine->timeout_seconds * 1e6));
    int64_t id =
        emit(nullptr, "ExecutionRedriven",
             options.is_recording_history ? Json{{"redriveCount", context.redrive_count}} : Json(),
             next_event_id - 1);
    redrive_frame(root, id);
  }

  std::optional<TimePoint> earliest_wake() const {
    if (status != ExecutionStatus::kRunning) return std::nullopt;
    std::optional<TimePoint> best = execution_deadline;
    auto consider = [&](TimePoint t) {
      if (!best || t < *best) best = t;
    };
    for (const auto& [id, f] : frames) {
      if (f.phase == Phase::kWait || f.phase == Phase::kRetry) consider(f.wake);
      if (f.phase == Phase::kTask) {
        if (f.task_deadline) consider(*f.task_deadline);
        if (f.heartbeat_deadline) consider(*f.heartbeat_deadline);
      }
    }
    return best;
  }

  Effects begin(TimePoint t, Rng& r) {
    now = t;
    rng = &r;
    return Effects{};
  }

  Effects end(Effects& out) {
    drain();
    // Finished frames leave the table except the top one (kept for its outcome).
    for (auto it = frames.begin(); it != frames.end();) {
      if (it->second.phase == Phase::kDone && it->second.parent >= 0 && !it->second.is_retained)
        it = frames.erase(it);
      else
        ++it;
    }
    out.status = status;
    out.next_wake = earliest_wake();
    if (status == ExecutionStatus::kSucceeded) out.output = final_output;
    if (status == ExecutionStatus::kFailed || status == ExecutionStatus::kAborted ||
        status == ExecutionStatus::kTimedOut) {
      out.error = final_error;
      out.cause = final_cause;
    }
    fx = nullptr;
    rng = nullptr;
    return std::move(out);
  }

  Frame* frame_of_task(const std::string& task_id) {
    for (auto& [id, f] : frames)
      if (f.phase == Phase::kTask && f.task_id == task_id) return &f;
    return nullptr;
  }

  bool over_history_quota() const {
    return status == ExecutionStatus::kRunning && !options.single_state &&
           options.max_history_events > 0 && next_event_id - 1 > options.max_history_events;
  }

  void terminate(ExecutionStatus s, const char* type, std::optional<std::string> error,
                 std::optional<std::string> cause) {
    for (auto& [id, f] : frames)
      if (f.phase == Phase::kTask) fx->cancelled_tasks.push_back(f.task_id);
    Json d = Json::object();
    if (error) d["error"] = *error;
    if (cause) d["cause"] = *cause;
    emit(nullptr, type, options.is_recording_history ? d : Json(), 0);
    status = s;
    final_error = error;
    final_cause = cause;
  }
};

Execution::Execution(std::shared_ptr<const StateMachine> machine, ExecutionOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->machine = std::move(machine);
  impl_->options = options;
}
Execution::~Execution() = default;
Execution::Execution(Execution&&) noexcept = default;
Execution& Execution::operator=(Execution&&) noexcept = default;

Effects Execution::start(Json input, ExecutionContext context, TimePoint now, Rng& rng) {
  return start_with_variables(std::move(input), Json::object(), std::move(context), now, rng);
}

Effects Execution::start_with_variables(Json input, Json variables, ExecutionContext context,
                                        TimePoint now, Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  m.context = std::move(context);
  m.start_time = now;
  if (m.machine->timeout_seconds)
    m.execution_deadline = now + Duration(static_cast<int64_t>(*m.machine->timeout_seconds * 1e6));
  m.execution_input = input;
  if (m.options.is_recording_history)
    m.emit(nullptr, "ExecutionStarted", Json{{"input", input}, {"roleArn", m.context.role_arn}}, 0);
  else
    m.emit(nullptr, {}, Json(), 0);
  int top = m.new_frame(-1, 0, std::move(input), -1, 0);
  if (variables.is_object()) m.frames.at(top).variables = std::move(variables);
  m.runnable.push_back(top);
  return m.end(out);
}

Effects Execution::task_succeeded(const std::string& task_id, Json output, TimePoint now,
                                  Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  if (m.status == ExecutionStatus::kRunning) {
    if (Frame* f = m.frame_of_task(task_id)) {
      if (m.options.payload_limit_bytes && output.dump().size() > m.options.payload_limit_bytes)
        m.task_error(*f,
                     AslError{"States.DataLimitExceeded",
                              "The state/task '" + f->state->name +
                                  "' returned a result with a size exceeding the maximum number "
                                  "of bytes service limit."},
                     "TaskFailed");
      else
        m.task_done(*f, std::move(output));
    }
  }
  return m.end(out);
}

Effects Execution::task_failed(const std::string& task_id, std::string error, std::string cause,
                               TimePoint now, Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  if (m.status == ExecutionStatus::kRunning)
    if (Frame* f = m.frame_of_task(task_id))
      m.task_error(*f, AslError{std::move(error), std::move(cause)}, "TaskFailed");
  return m.end(out);
}

Effects Execution::task_submitted(const std::string& task_id, Json output, TimePoint now,
                                  Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  if (m.status == ExecutionStatus::kRunning)
    if (Frame* f = m.frame_of_task(task_id))
      if (m.options.is_recording_history)
        m.emit(f, "TaskSubmitted",
               Json{{"resourceType", Impl::resource_type(f->state->resource)},
                    {"resource", Impl::resource_action(f->state->resource)},
                    {"output", std::move(output)}});
  return m.end(out);
}

Effects Execution::task_started(const std::string& task_id, const std::string& worker_name,
                                TimePoint now, Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  if (m.status == ExecutionStatus::kRunning)
    if (Frame* f = m.frame_of_task(task_id)) {
      if (f->heartbeat_seconds > 0)
        f->heartbeat_deadline = now + Duration(static_cast<int64_t>(f->heartbeat_seconds * 1e6));
      m.emit(f, "ActivityStarted",
             m.options.is_recording_history ? Json{{"workerName", worker_name}} : Json());
    }
  return m.end(out);
}

Effects Execution::task_heartbeat(const std::string& task_id, TimePoint now, Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  if (m.status == ExecutionStatus::kRunning)
    if (Frame* f = m.frame_of_task(task_id))
      if (f->heartbeat_deadline && f->heartbeat_seconds > 0)
        f->heartbeat_deadline = now + Duration(static_cast<int64_t>(f->heartbeat_seconds * 1e6));
  return m.end(out);
}

Effects Execution::timer_fired(TimePoint now, Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  if (m.status != ExecutionStatus::kRunning) return m.end(out);
  if (m.execution_deadline && *m.execution_deadline <= now) {
    m.terminate(ExecutionStatus::kTimedOut, "ExecutionTimedOut", std::string("States.Timeout"),
                std::nullopt);
    return m.end(out);
  }
  std::vector<int> due;
  for (auto& [id, f] : m.frames) {
    bool is_due =
        ((f.phase == Phase::kWait || f.phase == Phase::kRetry) && f.wake <= now) ||
        (f.phase == Phase::kTask && ((f.task_deadline && *f.task_deadline <= now) ||
                                     (f.heartbeat_deadline && *f.heartbeat_deadline <= now)));
    if (is_due) due.push_back(id);
  }
  for (int id : due) {
    auto it = m.frames.find(id);
    if (it == m.frames.end() || m.status != ExecutionStatus::kRunning) continue;
    Frame& f = it->second;
    if (f.phase == Phase::kWait) {
      m.wait_over(f);
      m.queue_if_entering(id);
    } else if (f.phase == Phase::kRetry) {
      f.phase = Phase::kEnter;
      m.execute(f);
      m.queue_if_entering(id);
    } else if (f.phase == Phase::kTask) {
      bool heartbeat = f.heartbeat_deadline && *f.heartbeat_deadline <= now &&
                       !(f.task_deadline && *f.task_deadline <= now);
      out.cancelled_tasks.push_back(f.task_id);
      m.task_error(f,
                   AslError{"States.Timeout",
                            heartbeat ? std::optional<std::string>("The task heartbeat timed out")
                                      : std::nullopt},
                   "TaskTimedOut");
    }
    m.drain();
  }
  return m.end(out);
}

Effects Execution::stop(std::optional<std::string> error, std::optional<std::string> cause,
                        TimePoint now, Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  if (m.status == ExecutionStatus::kRunning)
    m.terminate(ExecutionStatus::kAborted, "ExecutionAborted", std::move(error), std::move(cause));
  return m.end(out);
}

Effects Execution::redrive(TimePoint now, Rng& rng) {
  Impl& m = *impl_;
  Effects out = m.begin(now, rng);
  m.fx = &out;
  if (m.status == ExecutionStatus::kFailed || m.status == ExecutionStatus::kAborted ||
      m.status == ExecutionStatus::kTimedOut)
    m.redrive();
  return m.end(out);
}

ExecutionStatus Execution::status() const { return impl_->status; }
std::optional<TimePoint> Execution::next_wake() const { return impl_->earliest_wake(); }

Json Execution::to_json() const {
  const Impl& m = *impl_;
  Json j;
  j["format"] = 1;
  j["status"] = execution_status_name(m.status);
  j["context"] = {{"execution_arn", m.context.execution_arn},
                  {"execution_name", m.context.execution_name},
                  {"state_machine_arn", m.context.state_machine_arn},
                  {"state_machine_name", m.context.state_machine_name},
                  {"role_arn", m.context.role_arn},
                  {"redrive_count", m.context.redrive_count}};
  j["input"] = m.execution_input;
  j["start_us"] = to_epoch_us(m.start_time);
  if (m.execution_deadline) j["deadline_us"] = to_epoch_us(*m.execution_deadline);
  j["next_frame_id"] = m.next_frame_id;
  j["next_event_id"] = m.next_event_id;
  j["next_task_number"] = m.next_task_number;
  j["output"] = m.final_output;
  if (m.final_error) j["error"] = *m.final_error;
  if (m.final_cause) j["cause"] = *m.final_cause;
  Json frames = Json::array();
  for (const auto& [id, f] : m.frames) frames.push_back(frame_to_json(f));
  j["frames"] = std::move(frames);
  return j;
}

Result<Execution> Execution::from_json(std::shared_ptr<const StateMachine> machine, const Json& j,
                                       ExecutionOptions options) {
  Execution e(machine, options);
  Impl& m = *e.impl_;
  try {
    std::string s = j.at("status").get<std::string>();
    for (auto st :
         {ExecutionStatus::kRunning, ExecutionStatus::kSucceeded, ExecutionStatus::kFailed,
          ExecutionStatus::kTimedOut, ExecutionStatus::kAborted})
      if (s == execution_status_name(st)) m.status = st;
    const Json& c = j.at("context");
    m.context.execution_arn = c.at("execution_arn").get<std::string>();
    m.context.execution_name = c.at("execution_name").get<std::string>();
    m.context.state_machine_arn = c.at("state_machine_arn").get<std::string>();
    m.context.state_machine_name = c.at("state_machine_name").get<std::string>();
    m.context.role_arn = c.at("role_arn").get<std::string>();
    m.context.redrive_count = c.at("redrive_count").get<int>();
    m.execution_input = j.at("input");
    m.start_time = from_epoch_us(j.at("start_us").get<int64_t>());
    if (j.contains("deadline_us"))
      m.execution_deadline = from_epoch_us(j["deadline_us"].get<int64_t>());
    m.next_frame_id = j.at("next_frame_id").get<int>();
    m.next_event_id = j.at("next_event_id").get<int64_t>();
    m.next_task_number = j.at("next_task_number").get<int64_t>();
    m.final_output = j.at("output");
    if (j.contains("error")) m.final_error = j["error"].get<std::string>();
    if (j.contains("cause")) m.final_cause = j["cause"].get<std::string>();
    for (const Json& fj : j.at("frames")) {
      Frame f;
      f.id = fj.at("id").get<int>();
      f.parent = fj.at("parent").get<int>();
      f.flow = fj.at("flow").get<int>();
      if (f.flow < 0 || static_cast<size_t>(f.flow) >= machine->flows.size())
        return fail(Error::corruption("execution document names flow " + std::to_string(f.flow) +
                                      " that the state machine does not have"));
      std::string name = fj.at("state").get<std::string>();
      f.state = machine->flows[static_cast<size_t>(f.flow)]->find(name);
      if (!f.state && !name.empty())
        return fail(Error::corruption("execution document names unknown state '" + name + "'"));
      f.phase = phase_from(fj.at("phase").get<std::string>());
      f.input = fj.at("input");
      f.effective = fj.at("effective");
      f.last_event = fj.at("last_event").get<int64_t>();
      f.entered = from_epoch_us(fj.at("entered_us").get<int64_t>());
      f.wake = from_epoch_us(fj.at("wake_us").get<int64_t>());
      f.task_id = fj.at("task_id").get<std::string>();
      f.task_token = fj.at("task_token").get<std::string>();
      if (fj.contains("task_deadline_us"))
        f.task_deadline = from_epoch_us(fj["task_deadline_us"].get<int64_t>());
      if (fj.contains("heartbeat_deadline_us"))
        f.heartbeat_deadline = from_epoch_us(fj["heartbeat_deadline_us"].get<int64_t>());
      f.heartbeat_seconds = fj.value("heartbeat_seconds", 0.0);
      f.retry_counts = fj.at("retry_counts").get<std::vector<int>>();
      f.variables = fj.at("variables");
      for (int child : fj.at("children").get<std::vector<int>>()) f.children.insert(child);
      f.results = fj.at("results");
      f.items = fj.at("items");
      f.next_item = fj.at("next_item").get<size_t>();
      f.finished_children = fj.at("finished_children").get<size_t>();
      f.failed_children = fj.at("failed_children").get<size_t>();
      f.max_concurrency = fj.at("max_concurrency").get<int>();
      if (fj.contains("tolerated_percentage"))
        f.tolerated_percentage = fj["tolerated_percentage"].get<double>();
      if (fj.contains("tolerated_count")) f.tolerated_count = fj["tolerated_count"].get<int64_t>();
      f.index = fj.at("index").get<int64_t>();
      f.is_failed = fj.at("is_failed").get<bool>();
      f.output = fj.at("output");
      f.error.error = fj.at("error").get<std::string>();
      if (fj.contains("cause")) f.error.cause = fj["cause"].get<std::string>();
      f.slot_status = fj.value("slot_status", std::string());
      if (fj.contains("retained")) f.retained = fj["retained"].get<std::vector<int>>();
      if (fj.contains("redrive_queue"))
        for (int q : fj["redrive_queue"].get<std::vector<int>>()) f.redrive_queue.push_back(q);
      f.is_retained = fj.value("is_retained", false);
      int id = f.id;
      m.frames.emplace(id, std::move(f));
    }
  } catch (const Json::exception& ex) {
    return fail(Error::corruption("execution document is malformed", ex.what()));
  }
  return e;
}

}  // namespace helix::asl
