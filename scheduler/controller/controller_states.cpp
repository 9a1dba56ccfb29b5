// The controller's side of Step Functions: the Batch port executions use,
// the loop-iteration hooks and the restore after a restart. The service
// itself (execution_service.h) holds the executions.
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "queues/submit.h"
#include "scheduler/controller/controller.h"

namespace helix::controller {

using nlohmann::json;

// Runs on the loop thread, inside the iteration's transaction.
class StatesBatchPort final : public states::BatchPort {
 public:
  explicit StatesBatchPort(Controller& c) : c_(c) {}

  Result<json> submit_job(const json& body, const queues::Owner& owner) override {
    auto request = queues::parse_submit_request(body, body.dump().size(), c_.options_.limits);
    if (!request) return fail(request.error());
    Identity caller;
    caller.uid = owner.uid;
    caller.gid = owner.gid;
    caller.user = owner.user;
    caller.admin = owner.uid == 0 || owner.uid == ::geteuid();
    return c_.submit_on_loop(*request, caller);
  }

  void terminate_job(const std::string& job_id, const std::string& reason) override {
    // Best effort: the job may have finished in this same iteration.
    (void)c_.book_.terminate(job_id, reason, {0, true}, c_.clock_.now());
  }

  std::optional<json> stored_execution(const std::string& arn) override {
    return c_.store_->stored_execution(arn);
  }

 private:
  Controller& c_;
};

void Controller::init_states() {
  batch_port_ = std::make_unique<StatesBatchPort>(*this);
  executions_ = std::make_unique<states::ExecutionService>(states::ArnScope{}, *batch_port_, rng_);
  executions_->set_max_history_events(options_.max_history_events);
  states_ = std::make_unique<states::StatesService>(
      *store_,
      [this](const std::string& op, const json& request, const queues::Owner& caller) {
        auto reply = call<states::ApiReply>([&]() -> Result<states::ApiReply> {
          return executions_->handle(op, request, caller, clock_.now());
        });
        return reply ? *reply : states::error_reply("ServiceException", reply.error().to_string());
      },
      [this](uint64_t* generation, std::chrono::steady_clock::time_point deadline) {
        return wait_for_commit(generation, deadline);
      });
}

protocol::HttpResponse Controller::states_http(const std::string& target, const std::string& body,
                                               const Identity& caller) {
  return states_->handle_http(target, body, queues::Owner{caller.uid, caller.gid, caller.user});
}

Result<void> Controller::restore_states() {
  auto machines = store_->load_state_machines();
  if (!machines) return fail(machines.error());
  auto running = store_->load_running_executions();
  if (!running) return fail(running.error());
  auto activities = store_->load_activities();
  if (!activities) return fail(activities.error());
  if (auto ok = executions_->restore(*machines, *running, *activities); !ok) return ok;
  // A tracked job may have finished after its execution last ran (helixd
  // died between the two commits): hand it over as if it finished now.
  for (const auto& id : executions_->tracked_jobs()) {
    if (book_.find(id)) continue;  // still unfinished
    auto job = store_->get_job(id);
    if (!job) return fail(job.error());
    if (!*job) {
      spdlog::warn("states: job {} of a running execution is missing from the store", id);
      continue;
    }
    bool succeeded = (*job)->status == queues::JobStatus::kSucceeded;
    finished_for_states_.push_back({id, queues::job_to_detail(**job, options_.arns), succeeded});
  }
  spdlog::info("restored {} running executions", executions_->running_count());
  return {};
}

void Controller::step_states(TimePoint now) {
  auto finished = std::move(finished_for_states_);
  finished_for_states_.clear();
  for (const auto& f : finished) executions_->job_finished(f.id, f.detail, f.succeeded, now);
  executions_->tick(now);
}

void Controller::write_states_changes() {
  auto changes = executions_->take_changes();
  auto check = [](Result<void> ok, const char* what) {
    if (!ok) {
      spdlog::critical("store: cannot write {}: {}", what, ok.error().to_string());
      std::abort();
    }
  };
  for (const auto& name : changes.machines)
    check(store_->put_state_machine(name, executions_->machine_document(name)), "a state machine");
  for (const auto& name : changes.activities)
    check(store_->put_activity(name, executions_->activity_document(name)), "an activity");
  for (const auto& arn : changes.executions) {
    json doc = executions_->execution_document(arn);
    if (!doc.is_null()) check(store_->put_execution(doc), "an execution");
  }
  for (const auto& e : changes.events)
    check(store_->put_execution_event(e.execution_arn, e.id, e.wire), "a history event");
}

void Controller::note_finished_for_states(const std::vector<std::string>& finished) {
  for (const auto& id : finished) {
    if (!executions_->is_tracking_job(id)) continue;
    const queues::Job* job = book_.find(id);
    if (!job) continue;
    finished_for_states_.push_back({id, queues::job_to_detail(*job, options_.arns),
                                    job->status == queues::JobStatus::kSucceeded});
  }
}

}  // namespace helix::controller
