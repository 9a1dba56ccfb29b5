// Controller: the heart of helixd. One loop thread owns the job model
// (JobBook), the admin objects (queues, compute environments, policies,
// definitions) and the node ledger; every mutation runs on it, so the model
// needs no locks. Each loop iteration runs the queued requests and executor
// reports, evaluates the lifecycle and schedules, writes every change in ONE
// store transaction (group commit), and only then answers the callers and
// launches or signals processes: nothing is acknowledged or started before
// it is durable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "protocol/http_server.h"
#include "queues/compute_environment.h"
#include "queues/job_book.h"
#include "queues/job_definition.h"
#include "queues/limits.h"
#include "queues/naming.h"
#include "queues/submit.h"
#include "scheduler/controller/execution_service.h"
#include "scheduler/controller/states_service.h"
#include "scheduler/controller/store.h"
#include "scheduler/core/node_ledger.h"
#include "scheduler/core/numa_ledger.h"
#include "scheduler/core/policy/ordering.h"
#include "workers/local_executor.h"
#include "workers/node_resources.h"

namespace helix::controller {

// Who is calling: from the Unix socket's peer credentials or a SigV4 key.
struct Identity {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;
  bool admin = false;  // root (or helixd's own user when it is not root)
};

// One node the controller schedules onto.
struct NodeSpec {
  scheduler::NodeCapacity capacity;  // name, vCPUs, MiB, GPUs offered to jobs
  std::string topology_xml;          // hwloc export, for the NUMA-aware scheduler
  // The compute environment it serves; empty: every compute environment
  // (the embedded default, and agents not given one).
  std::string compute_environment;
  // For multi-node jobs' rankfiles: the host MPI reaches the node at, and
  // the real OS index of each of capacity.pus (differs on emulated nodes).
  std::string host;
  std::vector<int> real_pus;
  // Its worker: nullptr for the embedded agent (a LocalExecutor the
  // controller creates); otherwise owned by the caller (the MPI fabric) and
  // alive as long as the controller.
  workers::NodeAgent* agent = nullptr;
};

struct ControllerOptions {
  std::string state_dir;
  queues::ArnFormat arns;
  queues::Limits limits;
  Duration kill_grace = std::chrono::seconds(30);
  std::vector<NodeSpec> nodes;  // at least one
  std::string shim_path;
  bool switch_users = false;  // helixd is root: jobs run as their owners
  // Step Functions history quota per execution (0: none); AWS's is 25,000.
  int64_t max_history_events = 25000;
};

class Controller {
  friend class StatesBatchPort;

 public:
  static Result<std::unique_ptr<Controller>> start(ControllerOptions options,
                                                   std::unique_ptr<Store> store, Clock& clock,
                                                   Rng& rng);
  ~Controller();  // stops the loop; running jobs keep running under their shims

  using Json = nlohmann::json;
  Result<Json> submit_job(queues::SubmitRequest request, const Identity& caller);
  Result<Json> cancel_job(const std::string& job_id, const std::string& reason,
                          const Identity& caller);
  Result<Json> terminate_job(const std::string& job_id, const std::string& reason,
                             const Identity& caller);
  Result<Json> register_job_definition(const Json& body, const Identity& caller);
  Result<Json> deregister_job_definition(const std::string& ref, const Identity& caller);
  Result<Json> create_compute_environment(const Json& body, const Identity& caller);
  Result<Json> update_compute_environment(const Json& body, const Identity& caller);
  Result<Json> delete_compute_environment(const std::string& name, const Identity& caller);
  Result<Json> create_job_queue(const Json& body, const Identity& caller);
  Result<Json> update_job_queue(const Json& body, const Identity& caller);
  Result<Json> delete_job_queue(const std::string& name, const Identity& caller);
  Result<Json> create_scheduling_policy(const Json& body, const Identity& caller);
  Result<Json> update_scheduling_policy(const Json& body, const Identity& caller);
  Result<Json> delete_scheduling_policy(const std::string& name, const Identity& caller);
  Result<StoredUser> create_credentials(const std::string& user, const Identity& caller);
  // TagResource / UntagResource / ListTagsForResource (controller_tags.cpp)
  // of the job, job definition revision, job queue, compute environment or
  // scheduling policy an ARN names.
  Result<Json> tag_resource(const std::string& arn, const Json& body, const Identity& caller);
  Result<Json> untag_resource(const std::string& arn, const std::vector<std::string>& keys,
                              const Identity& caller);
  Result<Json> list_tags_for_resource(const std::string& arn, const Identity& caller);

  // SigV4 lookups from HTTP threads.
  std::optional<StoredUser> user_of_key(const std::string& access_key_id) const;

  // Blocks until a commit after `*generation` or the deadline; updates it.
  // False once release_waiters() was called: the caller should answer now.
  bool wait_for_commit(uint64_t* generation, std::chrono::steady_clock::time_point deadline);
  // Shutting down: long-polls return at once so the HTTP server can stop.
  void release_waiters();
  uint64_t generation() const;

  // An event from a remote agent's transport thread, onto the loop.
  void deliver(workers::ExecEvent event);
  // Every node: capacity, what is free, each PU's holder, by NUMA node
  // (`helix nodes`). Admins see every job id; others see their own only.
  Result<Json> nodes_view(const Identity& caller);

  // A node stopped answering (MPI transport): nothing more is placed on
  // it; its attempts are reported lost by the transport. Thread safe.
  void node_down(const std::string& name);

  Store& store() { return *store_; }
  const ControllerOptions& options() const { return options_; }
  // The Step Functions API (issue #4): one X-Amz-Target request. Thread safe.
  protocol::HttpResponse states_http(const std::string& target, const std::string& body,
                                     const Identity& caller);

 private:
  using Completion = std::function<void()>;
  using Command = std::function<Completion()>;

  Controller(ControllerOptions options, std::unique_ptr<Store> store, Clock& clock, Rng& rng);
  Result<void> load();
  void recover();
  void post(Command command);
  template <class T>
  Result<T> call(std::function<Result<T>()> work);
  void run_loop();
  void iterate(std::vector<Command> commands);
  void schedule(TimePoint now);
  // RUNNABLE jobs in the order the scheduler tries them (fair share within
  // queues that have a scheduling policy), updating share usage.
  std::vector<const queues::Job*> fair_share_order(TimePoint now);
  // computeReservation of each fair-share queue that sets one, for a pass.
  std::map<std::string, scheduler::ShareReservation> share_reservations() const;
  void launch(const std::string& job_id);
  std::vector<std::string> multinode_command(
      const queues::Job& job, const queues::Attempt& attempt,
      const std::vector<std::pair<std::string, std::string>>& env);
  void on_exec_event(const workers::ExecEvent& event);
  // submit_job's work, on the loop thread (also for Step Functions tasks).
  Result<Json> submit_on_loop(const queues::SubmitRequest& request, const Identity& caller);
  // Step Functions on the loop (controller_states.cpp): restore after a
  // restart, feed finished jobs and due timers before the lifecycle runs,
  // write the changes into the iteration's transaction, and note which
  // tracked jobs finished (they reach their executions next iteration).
  void init_states();
  Result<void> restore_states();
  void step_states(TimePoint now);
  void write_states_changes();
  void note_finished_for_states(const std::vector<std::string>& finished);
  void forget_tasks(const std::vector<std::string>& tasks);
  // The agent running `task_id`, or nullptr (unknown or finished task).
  workers::NodeAgent* agent_of_task(const std::string& task_id);
  Result<void> require_admin(const Identity& caller, const std::string& action) const;
  // The tags of the resource `arn` names, changed by `change` and stored (an
  // empty `change` only reads them); returns them. On the loop thread.
  using TagChange = std::function<Result<std::map<std::string, std::string>>(
      const std::map<std::string, std::string>&)>;
  Result<std::map<std::string, std::string>> change_tags(const std::string& arn,
                                                         const TagChange& change,
                                                         const Identity& caller);
  const queues::JobDefinition* find_definition(const std::string& name,
                                               std::optional<int> revision) const;
  std::string log_dir() const { return options_.state_dir + "/logs"; }

  ControllerOptions options_;
  std::unique_ptr<Store> store_;
  Clock& clock_;
  Rng& rng_;
  std::unique_ptr<workers::LocalExecutor> embedded_;  // the embedded agent, if a node uses it

  // A node as the loop thread sees it.
  struct Node {
    NodeSpec spec;
    workers::NodeAgent* agent = nullptr;
    scheduler::NodeLedger ledger;
    bool down = false;
    std::vector<workers::NumaNode> numa;  // from the topology, for nodes_view
    // Where on the node: the NUMA-aware packer (PUs, NUMA nodes, memory
    // per NUMA node); `ledger` keeps the node's totals and its reasons.
    scheduler::NumaLedger packer;

    // Reserves `r` for `holder` in both: the packer picks the PUs and GPUs
    // (or the attempt's own `pus` and `gpus` after a restart).
    // Precondition: ledger.fits_now(r).
    scheduler::NumaPlacement take(const std::string& holder, const queues::ResourceRequest& r,
                                  const std::vector<int>& pus = {},
                                  const std::vector<int>& gpus = {});
    void give_back(const std::string& holder);
  };

  // Owned by the loop thread.
  queues::JobBook book_;
  std::vector<Node> nodes_;                     // fixed at start
  std::map<std::string, size_t> node_of_task_;  // live attempts: task id -> node index
  std::map<std::string, std::vector<queues::JobDefinition>> definitions_;
  std::map<std::string, queues::JobQueue> queues_;
  std::map<std::string, queues::ComputeEnvironment> compute_environments_;
  std::map<std::string, queues::SchedulingPolicy> policies_;
  std::map<std::string, scheduler::FairShare> fair_shares_;  // by policy name
  TimePoint usage_clock_{};

  mutable std::mutex users_mutex_;
  std::map<std::string, StoredUser> users_;  // by access key id

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable committed_;
  std::vector<Command> pending_;
  bool stopping_ = false;
  bool waiters_released_ = false;
  uint64_t generation_ = 0;
  std::thread loop_;
  // Step Functions: the service runs on the loop thread; the HTTP front
  // reads from the store on any thread.
  std::unique_ptr<states::BatchPort> batch_port_;
  std::unique_ptr<states::ExecutionService> executions_;
  struct FinishedJob {
    std::string id;
    Json detail;
    bool succeeded = false;
  };
  std::vector<FinishedJob> finished_for_states_;  // loop thread
  std::unique_ptr<states::StatesService> states_;
};

}  // namespace helix::controller
