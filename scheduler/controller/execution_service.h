// ExecutionService: Step Functions executions inside helixd (issue #4,
// items 2-4). Lives on the controller's loop thread: every call runs inside
// the loop iteration's store transaction, so an execution's new history
// events, its engine snapshot and the Batch jobs its tasks submitted are
// written together. After kill -9 helixd restores each running execution
// from its snapshot and its open tasks from their links; a task's job is
// never submitted twice because the link and the job commit as one.
//
// Owns: the state machine catalogue, the running executions (the pure
// asl::Execution of each, its open task links, its timers), task tokens,
// nested executions (states:startExecution), and the mapping of service
// integrations onto helix jobs (batch:submitJob, .sync, .waitForTaskToken).
// Does not own: the store (the controller writes take_changes()), job
// scheduling (BatchPort), the clock (every call takes `now`), reads of
// finished executions and history (the store's readers serve those).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/rng.h"
#include "common/time.h"
#include "pipelines/engine/execution.h"
#include "queues/job.h"
#include "scheduler/controller/activities.h"
#include "scheduler/controller/states_api.h"

namespace helix::states {

using Json = nlohmann::json;

// What the service needs from the Batch side, called on the loop thread.
class BatchPort {
 public:
  virtual ~BatchPort() = default;
  // Submits a job from a SubmitJob request body (camelCase, as the Batch
  // API takes it) as `owner`. Returns {jobArn, jobName, jobId}; an error's
  // code says which Batch exception it is (Invalid -> ClientException).
  virtual Result<Json> submit_job(const Json& body, const queues::Owner& owner) = 0;
  // Best effort: a task that owned the job was aborted or timed out.
  virtual void terminate_job(const std::string& job_id, const std::string& reason) = 0;
  // A stored execution document by ARN (finished ones are only there), or nullopt.
  virtual std::optional<Json> stored_execution(const std::string& arn) = 0;
};

// One open task of an execution and what carries it out.
struct TaskLink {
  enum class Kind { kJob, kExecution, kCallback, kActivity };
  Kind kind = Kind::kCallback;
  std::string target;  // job id, the child execution's ARN, or the activity's ARN
  std::string token;   // $$.Task.Token: SendTask* find the task by it
  bool is_sync = false;
  bool is_sync2 = false;  // startExecution.sync:2: Input and Output as JSON
  // Activities: the input a worker gets, and whether one has taken it.
  std::string input;
  bool is_started = false;
};

// What changed since the last take_changes(), for the controller to write.
struct StatesChanges {
  std::vector<std::string> machines;    // names created, updated or deleted
  std::vector<std::string> activities;  // names created or deleted
  std::vector<std::string> executions;  // ARNs whose document changed
  struct Event {
    std::string execution_arn;
    int64_t id;
    std::string wire;  // the event as GetExecutionHistory returns it
  };
  std::vector<Event> events;
};

class ExecutionService {
 public:
  ExecutionService(ArnScope scope, BatchPort& batch, Rng& rng);
  ~ExecutionService();

  // Operations that change state or read the catalogue: state machine
  // CRUD, StartExecution, StopExecution, SendTask{Success,Failure,Heartbeat},
  // DescribeStateMachineForExecution, RedriveExecution, activities
  // (Create/Describe/List/DeleteActivity) and GetActivityTask, which never
  // waits: it answers {} when no task is waiting (the HTTP front polls).
  bool handles(std::string_view operation) const;
  ApiReply handle(std::string_view operation, const Json& request, const queues::Owner& caller,
                  TimePoint now);

  // A job that a task links to reached SUCCEEDED or FAILED; `detail` is its
  // DescribeJobs entry (camelCase).
  void job_finished(const std::string& job_id, const Json& detail, bool succeeded, TimePoint now);
  bool is_tracking_job(const std::string& job_id) const;
  std::vector<std::string> tracked_jobs() const;

  // Runs every execution whose timer is due.
  void tick(TimePoint now);
  std::optional<TimePoint> next_wake() const;

  StatesChanges take_changes();
  // After the controller wrote the changes: drops executions that finished.
  void forget_closed();
  Json machine_document(const std::string& name) const;   // null when deleted
  Json activity_document(const std::string& name) const;  // null when deleted
  Json execution_document(const std::string& arn) const;

  // After a restart: the stored machines, the documents of executions that
  // were RUNNING and the activities. Fails only on a document this helixd
  // cannot read.
  Result<void> restore(const std::vector<Json>& machines, const std::vector<Json>& running,
                       const std::vector<Json>& activities = {});

  size_t running_count() const;
  // The history quota each execution runs under (0: none); default 25,000.
  void set_max_history_events(int64_t n) { max_history_events_ = n; }

 private:
  struct Record;
  ApiReply start_execution(const Json& request, const queues::Owner& caller, TimePoint now);
  ApiReply stop_execution(const Json& request, TimePoint now);
  ApiReply send_task(std::string_view operation, const Json& request, TimePoint now);
  ApiReply describe_for_execution(const Json& request);
  ApiReply redrive_execution(const Json& request, TimePoint now);
  ApiReply get_activity_task(const Json& request, TimePoint now);
  Result<std::unique_ptr<Record>> record_from_doc(const Json& doc) const;
  // Starts an execution (API or nested); returns its record or an ApiReply error.
  tl::expected<Record*, ApiReply> start(const std::string& machine_arn, std::string name,
                                        const std::string& input_text, const queues::Owner& owner,
                                        TimePoint now, const std::string& parent_arn = {},
                                        const std::string& parent_task = {});
  void apply(Record& r, asl::Effects effects, TimePoint now);
  void dispatch(Record& r, const asl::TaskRequest& task, TimePoint now);
  void cancel_task(Record& r, const std::string& task_id, TimePoint now);
  void finished(Record& r, TimePoint now);
  void child_finished(const Record& child, TimePoint now);
  void reschedule(Record& r);
  Record* find(const std::string& arn);
  std::pair<Record*, std::string> find_token(const std::string& token);

  ArnScope scope_;
  int64_t max_history_events_ = 25000;
  BatchPort& batch_;
  Rng& rng_;
  StateMachineCatalog catalog_;
  ActivityCatalog activities_;
  // Activity tasks no worker has taken, oldest first: activity ARN ->
  // (execution ARN, task id). Entries whose task ended are skipped on poll.
  std::map<std::string, std::deque<std::pair<std::string, std::string>>> activity_queue_;
  std::map<std::string, std::unique_ptr<Record>> running_;             // by ARN
  std::map<std::string, std::pair<std::string, std::string>> jobs_;    // job id -> (ARN, task)
  std::map<std::string, std::pair<std::string, std::string>> tokens_;  // token -> (ARN, task)
  std::multimap<TimePoint, std::string> wakes_;                        // -> ARN
  std::set<std::string> changed_machines_, changed_executions_, changed_activities_;
  std::vector<StatesChanges::Event> new_events_;
  // Finished this iteration: kept until take_changes() wrote their documents.
  std::map<std::string, std::unique_ptr<Record>> closing_;
};

// The PascalCase form Step Functions gives service responses: every
// structure member's first letter upper-cased; map keys (parameters, tags)
// kept as they are. camel_case_members is the inverse, for requests.
Json pascal_case_members(const Json& value);
Json camel_case_members(const Json& value);

// Reads (any thread) from stored documents.
Json describe_execution_body(const Json& doc);
// Why RedriveExecution refuses this stored execution, or "" when it may.
std::string not_redrivable_reason(const Json& doc);
Json execution_list_item(const Json& doc);

}  // namespace helix::states
