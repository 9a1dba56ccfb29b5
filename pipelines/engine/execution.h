// Execution: one running state machine execution, pure and resumable.
//
// Owns the whole running state (every active flow, its state, data,
// variables, retry counters, timers and outstanding tasks) and serialises it
// to one JSON document (to_json / from_json) so the controller can store it
// in one transaction and resume after a crash.
//
// Never sleeps, never reads the clock, never does I/O: every call takes
// `now` and an Rng&, runs every state it can until each flow is blocked (on
// a task, a Wait, a retry interval) or finished, and returns Effects for
// the controller to apply: history events to append, tasks to start or
// cancel, the next wake time, and the terminal outcome when there is one.
// The controller calls timer_fired(now) at or after next_wake.
//
// Not thread safe; one Execution per execution, driven by one caller.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "pipelines/engine/definition.h"

namespace helix::asl {

// What $$ knows about the execution; supplied by the controller.
struct ExecutionContext {
  std::string execution_arn = "arn:aws:states:us-east-1:000000000000:execution:machine:run";
  std::string execution_name = "run";
  std::string state_machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:machine";
  std::string state_machine_name = "machine";
  std::string role_arn = "arn:aws:iam::000000000000:role/helix";
  int redrive_count = 0;
};

enum class ExecutionStatus { kRunning, kSucceeded, kFailed, kTimedOut, kAborted };
const char* execution_status_name(ExecutionStatus status);  // "RUNNING", ...

// One history event. details holds the "<camelType>EventDetails" member's
// content with payloads as JSON values; to_wire() renders AWS's form
// (payload members as JSON strings, with their ...Details siblings).
struct HistoryEvent {
  int64_t id = 0;
  int64_t previous_event_id = 0;
  TimePoint timestamp{};
  std::string_view type;  // "PassStateEntered": always a string literal (static storage)
  Json details;           // null when the type carries no details
  // State entered / exited events keep their two members apart ({"name",
  // payload_key: payload}) and to_wire() puts them into details: building
  // a JSON object per event cost more than the rest of a Pass transition.
  std::string state_name;
  std::string_view payload_key;  // "input" or "output"; empty for other events
  Json payload;
  Json to_wire() const;
};

// Renders history events as GetExecutionHistory returns them: exactly the
// bytes of event.to_wire().dump(), without building a JSON document per
// event. A Map of 10,000 items writes 40,000 events, and building then
// dumping a document for each cost more than running the Map (issue #4).
// Remembers the text of the last timestamp: the events of one call share
// theirs. Not thread safe; one writer per caller.
class HistoryWireWriter {
 public:
  // Throws what to_wire().dump() throws (a payload string that is not UTF-8).
  std::string render(const HistoryEvent& event);

 private:
  void append_timestamp(std::string& out, TimePoint timestamp);
  TimePoint timestamp_{};
  std::string timestamp_text_;
};

struct TaskRequest {
  std::string task_id;  // stable for the life of the attempt; pass back in task_*
  std::string state_name;
  std::string resource;  // the Resource ARN as written
  Json parameters;       // effective Parameters / Arguments
  std::optional<double> timeout_seconds, heartbeat_seconds;
  bool is_sync = false;                 // ".sync" / ".sync:2"
  bool is_wait_for_task_token = false;  // ".waitForTaskToken"
  bool is_activity = false;             // an activity ARN: a worker polls for it
  std::string task_token;
};

// arn:aws:states:<region>:<account>:activity:<name>
bool is_activity_arn(std::string_view resource);

// A Map state's ResultWriter: the controller writes `results` where
// `parameters` (the evaluated ResultWriter Parameters/Arguments) say.
struct ResultWrite {
  std::string state_name;
  Json parameters;
  Json results;
};

struct Effects {
  std::vector<HistoryEvent> events;
  std::vector<ResultWrite> result_writes;
  std::vector<TaskRequest> tasks;
  std::vector<std::string> cancelled_tasks;
  std::optional<TimePoint> next_wake;
  ExecutionStatus status = ExecutionStatus::kRunning;
  std::optional<Json> output;  // SUCCEEDED
  std::optional<std::string> error, cause;
};

// TestState mode (test_state.h): the execution runs one state, stops at
// its transition, answers its Task from a mock and records inspection data.
struct SingleStateTrace {
  std::optional<Json> mock_result;
  std::optional<AslError> mock_error;
  // stateConfiguration: retries already made, Map iterations that failed.
  int retrier_retry_count = 0;
  // TestState's context: when given, it is the whole of $$.
  Json context_override;
  // $$.Execution.RoleArn: the roleArn TestState was called with; null without one.
  Json role_arn;
  std::optional<int64_t> map_iteration_failure_count;
  std::optional<std::string> next_state;
  bool is_caught = false;
  AslError error;  // the error caught or reported as retriable
  bool is_retriable = false;
  Json inspection = Json::object();
};

// The bytes an ItemReader names. The engine does no I/O: the controller
// resolves the evaluated ItemReader Parameters ({"Bucket", "Key"} or a
// helix path) and returns the object's bytes, or an error message.
using ItemSource = std::function<tl::expected<std::string, std::string>(const std::string& resource,
                                                                        const Json& parameters)>;

struct ExecutionOptions {
  ItemSource item_source;
  SingleStateTrace* single_state = nullptr;
  // Build history events (the controller needs them; benchmarks of the bare
  // interpreter may turn them off).
  bool is_recording_history = true;
  size_t payload_limit_bytes = 256 * 1024;
  // Step Functions' history quota: an execution whose history passes this
  // many events fails with States.Runtime (0: no limit). An admin may raise
  // it; the default keeps what runs here running on AWS too.
  int64_t max_history_events = 25000;
};

class Execution {
 public:
  explicit Execution(std::shared_ptr<const StateMachine> machine, ExecutionOptions options = {});
  ~Execution();
  Execution(Execution&&) noexcept;
  Execution& operator=(Execution&&) noexcept;

  Effects start(Json input, ExecutionContext context, TimePoint now, Rng& rng);
  // start() with variables already set in the top-level scope (TestState).
  Effects start_with_variables(Json input, Json variables, ExecutionContext context, TimePoint now,
                               Rng& rng);
  // Unknown or finished task ids are ignored (a late report after a timeout).
  Effects task_succeeded(const std::string& task_id, Json output, TimePoint now, Rng& rng);
  Effects task_failed(const std::string& task_id, std::string error, std::string cause,
                      TimePoint now, Rng& rng);
  // A .sync or callback task was accepted by its service (the job was
  // submitted): writes TaskSubmitted with the service's response. The task
  // stays open until task_succeeded / task_failed.
  Effects task_submitted(const std::string& task_id, Json output, TimePoint now, Rng& rng);
  Effects task_heartbeat(const std::string& task_id, TimePoint now, Rng& rng);
  // An activity task was handed to a worker (GetActivityTask): writes
  // ActivityStarted and starts its HeartbeatSeconds clock.
  Effects task_started(const std::string& task_id, const std::string& worker_name, TimePoint now,
                       Rng& rng);
  Effects timer_fired(TimePoint now, Rng& rng);
  Effects stop(std::optional<std::string> error, std::optional<std::string> cause, TimePoint now,
               Rng& rng);
  // RedriveExecution: continues a FAILED, ABORTED or TIMED_OUT execution
  // from where it stopped, with the same input and the same history (event
  // ids continue after an ExecutionRedriven event). The failed, aborted or
  // interrupted state is entered again with the input it had (a Task that
  // was running gets a new task id and token); in a Parallel or inline Map
  // only the branches and iterations that failed or were aborted run again,
  // the succeeded ones keep their results. $$.Execution.RedriveCount goes up
  // by one, retry counters start from 0 and TimeoutSeconds counts from now.
  // For any other status it changes nothing and returns no events: the
  // caller checks status() first and refuses the request itself.
  Effects redrive(TimePoint now, Rng& rng);

  ExecutionStatus status() const;
  std::optional<TimePoint> next_wake() const;

  Json to_json() const;
  // Restores an execution of machine from to_json()'s document. Errors:
  // Corruption when the document does not fit the machine.
  static Result<Execution> from_json(std::shared_ptr<const StateMachine> machine, const Json& doc,
                                     ExecutionOptions options = {});

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace helix::asl
