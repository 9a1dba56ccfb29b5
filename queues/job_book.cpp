#include "queues/job_book.h"

#include <algorithm>

#include "queues/ids.h"

namespace helix::queues {

namespace {

size_t status_index(JobStatus s) {
  return static_cast<size_t>(std::find(kAllJobStatuses.begin(), kAllJobStatuses.end(), s) -
                             kAllJobStatuses.begin());
}

constexpr size_t kMaxReason = 1024;

std::string clip(std::string text) {
  if (text.size() > kMaxReason) text.resize(kMaxReason);
  return text;
}

}  // namespace

std::string make_task_id(const Job& job) {
  std::string id = job.id;
  std::replace(id.begin(), id.end(), ':', '_');
  return id + "." + std::to_string(job.launches);
}

JobBook::JobBook(FinishedLookup lookup, Duration kill_grace)
    : lookup_(std::move(lookup)), kill_grace_(kill_grace) {}

Job* JobBook::find_mut(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const Job* JobBook::find(const std::string& job_id) const {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

Job* JobBook::job_of_task(const std::string& task_id) {
  auto it = task_to_job_.find(task_id);
  if (it == task_to_job_.end()) return nullptr;
  Job* job = find_mut(it->second);
  if (!job || !job->current || job->current->task_id != task_id) return nullptr;
  return job;
}

JobBook::RunKey JobBook::run_key(const Job& job) const {
  auto q = queue_priority_.find(job.queue);
  int64_t queue_priority = q == queue_priority_.end() ? 0 : q->second;
  return {-queue_priority, -job.scheduling_priority.value_or(0), job.sequence, job.id};
}

void JobBook::set_queue_priority(const std::string& queue, int64_t priority) {
  auto it = queue_priority_.find(queue);
  if (it != queue_priority_.end() && it->second == priority) return;
  queue_priority_[queue] = priority;
  std::map<RunKey, const Job*> rebuilt;
  for (const auto& [key, job] : runnable_) rebuilt.emplace(run_key(*job), job);
  runnable_ = std::move(rebuilt);
}

void JobBook::set_tags(const std::string& job_id, std::map<std::string, std::string> tags) {
  if (Job* job = find_mut(job_id)) {
    job->tags = std::move(tags);
    effects_.dirty.insert(job_id);
  }
}

std::optional<JobFacts> JobBook::facts(const std::string& job_id) const {
  if (const Job* job = find(job_id))
    return JobFacts{job->status, job->status_reason, job->array_size};
  return lookup_(job_id);
}

void JobBook::restore(Job job) {
  next_sequence_ = std::max(next_sequence_, job.sequence + 1);
  std::string id = job.id;
  if (job.current) task_to_job_[job.current->task_id] = id;
  if (is_active_attempt(job.status)) active_.insert(id);
  if (!is_terminal(job.status) && !jobs_.count(id)) count_share(job, +1);
  auto [it, inserted] = jobs_.insert_or_assign(id, std::move(job));
  (void)inserted;
  if (it->second.status == JobStatus::kRunnable)
    runnable_.emplace(run_key(it->second), &it->second);
  if (it->second.status == JobStatus::kRunnable && it->second.cancel_waiting_at)
    time_limited_.insert(id);
  if (it->second.status == JobStatus::kSubmitted || it->second.status == JobStatus::kPending)
    to_evaluate_.push_back(id);
}

Result<void> JobBook::add(std::vector<Job> jobs) {
  if (jobs.empty()) return {};
  // Every dependency must exist already: with that rule no cycle can form.
  Problems problems;
  const Job& head = jobs.front();
  for (size_t i = 0; i < head.depends_on.size(); ++i) {
    const auto& d = head.depends_on[i];
    if (d.job_id.empty()) continue;
    if (!facts(d.job_id))
      problems.add("dependsOn[" + std::to_string(i) + "].jobId",
                   "job " + d.job_id + " does not exist");
  }
  if (!problems.empty()) return fail(problems.to_error());
  for (auto& job : jobs) {
    job.sequence = next_sequence_++;
    job.status = JobStatus::kSubmitted;
    std::string id = job.id;
    effects_.dirty.insert(id);
    to_evaluate_.push_back(id);
    count_share(job, +1);
    jobs_.insert_or_assign(id, std::move(job));
  }
  return {};
}

void JobBook::set_status(Job& job, JobStatus status, std::string reason, TimePoint now) {
  JobStatus old = job.status;
  job.status = status;
  job.status_reason = clip(std::move(reason));
  effects_.dirty.insert(job.id);
  if (old == JobStatus::kRunnable) runnable_.erase(run_key(job));
  if (status == JobStatus::kRunnable) runnable_.emplace(run_key(job), &job);
  if (status != JobStatus::kRunnable) {
    job.waiting_since.reset();
    job.cancel_waiting_at.reset();
    time_limited_.erase(job.id);
  }
  if (is_active_attempt(status)) {
    active_.insert(job.id);
  } else {
    active_.erase(job.id);
  }
  if (!job.parent_id.empty() && old != status) {
    if (Job* parent = find_mut(job.parent_id)) {
      parent->child_counts[status_index(old)]--;
      parent->child_counts[status_index(status)]++;
      parent->child_counts_updated_at = now;
      effects_.dirty.insert(parent->id);
      to_evaluate_.push_back(parent->id);
    }
  }
  if (is_terminal(status) && !is_terminal(old)) count_share(job, -1);
  if (is_terminal(status)) {
    effects_.finished.push_back(job.id);
    auto w = waiters_.find(job.id);
    if (w != waiters_.end()) {
      for (auto& waiter : w->second) to_evaluate_.push_back(std::move(waiter));
      waiters_.erase(w);
    }
  }
}

void JobBook::evaluate_dependencies(Job& job, TimePoint now) {
  if (job.status != JobStatus::kSubmitted && job.status != JobStatus::kPending) return;
  if (job.is_array_parent()) {
    int terminal = job.child_counts[status_index(JobStatus::kSucceeded)] +
                   job.child_counts[status_index(JobStatus::kFailed)];
    if (terminal < *job.array_size) {
      if (job.status == JobStatus::kSubmitted) set_status(job, JobStatus::kPending, "", now);
      return;
    }
    int failed = job.child_counts[status_index(JobStatus::kFailed)];
    if (failed == 0) {
      set_status(job, JobStatus::kSucceeded,
                 "All " + std::to_string(*job.array_size) + " child jobs succeeded", now);
    } else {
      std::string reason = job.is_cancelled ? job.status_reason : std::string();
      if (reason.empty())
        reason = std::to_string(failed) + " of " + std::to_string(*job.array_size) +
                 " child jobs failed";
      set_status(job, JobStatus::kFailed, reason, now);
    }
    return;
  }
  bool waiting = false;
  for (const auto& dep : job.wait_for) {
    auto f = facts(dep);
    if (!f) {
      set_status(job, JobStatus::kFailed, "Dependent Job failed: " + dep + " no longer exists",
                 now);
      return;
    }
    if (f->status == JobStatus::kFailed) {
      set_status(job, JobStatus::kFailed, "Dependent Job failed: " + dep + " " + f->status_reason,
                 now);
      return;
    }
    if (f->status != JobStatus::kSucceeded) {
      waiting = true;
      auto& list = waiters_[dep];
      if (std::find(list.begin(), list.end(), job.id) == list.end()) list.push_back(job.id);
    }
  }
  if (waiting) {
    if (job.status == JobStatus::kSubmitted) set_status(job, JobStatus::kPending, "", now);
    return;
  }
  set_status(job, JobStatus::kRunnable, "", now);
}

void JobBook::evaluate(TimePoint now) {
  while (!to_evaluate_.empty()) {
    std::string id = std::move(to_evaluate_.front());
    to_evaluate_.pop_front();
    if (Job* job = find_mut(id)) evaluate_dependencies(*job, now);
  }
  for (const auto& id : active_) {
    Job& job = jobs_.at(id);
    Attempt& a = *job.current;
    if (a.kill_at) {
      if (*a.kill_at <= now) {
        effects_.kill_tasks.push_back(a.task_id);
        a.kill_at.reset();  // SIGKILL once; the exit report ends it
        effects_.dirty.insert(id);
      }
      continue;
    }
    if (timeout_pending(job) && *a.started_at + std::chrono::seconds(*job.timeout_seconds) <= now) {
      a.timed_out = true;
      stop_attempt(job, now);
    }
  }
  // jobStateTimeLimitActions (AWS: "Canceled by JobStateTimeLimit action
  // due to reason: <reason>", isCancelled true).
  std::vector<std::string> expired;
  for (const auto& id : time_limited_) {
    const Job& job = jobs_.at(id);
    if (job.cancel_waiting_at && *job.cancel_waiting_at <= now) expired.push_back(id);
  }
  for (const auto& id : expired) {
    Job& job = jobs_.at(id);
    std::string code = job.status_reason.substr(0, job.status_reason.find(" - "));
    fail_unstarted(job, "Canceled by JobStateTimeLimit action due to reason: " + code, now);
  }
}

bool JobBook::timeout_pending(const Job& job) {
  // Once an attempt is being stopped (timeout or TerminateJob) its timeout
  // no longer counts: after the SIGKILL only the exit report is awaited.
  const Attempt& a = *job.current;
  return job.timeout_seconds && a.started_at && !a.timed_out && !job.terminate_reason;
}

void JobBook::stop_attempt(Job& job, TimePoint now) {
  Attempt& a = *job.current;
  effects_.terminate_tasks.push_back(a.task_id);
  a.kill_at = now + kill_grace_;
  effects_.dirty.insert(job.id);
}

std::optional<TimePoint> JobBook::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& id : active_) {
    const Job& job = jobs_.at(id);
    const Attempt& a = *job.current;
    if (a.kill_at) {
      consider(*a.kill_at);
    } else if (timeout_pending(job)) {
      consider(*a.started_at + std::chrono::seconds(*job.timeout_seconds));
    }
  }
  for (const auto& id : time_limited_) consider(*jobs_.at(id).cancel_waiting_at);
  return next;
}

std::vector<const Job*> JobBook::runnable() const {
  std::vector<const Job*> out;
  out.reserve(runnable_.size());
  for (const auto& [key, job] : runnable_) out.push_back(job);
  return out;
}

void JobBook::for_each_runnable(const std::function<bool(const Job&)>& visit) const {
  for (const auto& [key, job] : runnable_) {
    if (!visit(*job)) return;
  }
}

void JobBook::count_share(const Job& job, int64_t delta) {
  if (!job.share_identifier) return;
  auto q = unfinished_by_share_.find(job.queue);
  if (q == unfinished_by_share_.end()) {
    if (delta <= 0) return;
    q = unfinished_by_share_.emplace(job.queue, std::map<std::string, int64_t>{}).first;
  }
  int64_t& count = q->second[*job.share_identifier];
  count += delta;
  if (count <= 0) q->second.erase(*job.share_identifier);
  if (q->second.empty()) unfinished_by_share_.erase(q);
}

size_t JobBook::active_shares(const std::string& queue) const {
  auto q = unfinished_by_share_.find(queue);
  return q == unfinished_by_share_.end() ? 0 : q->second.size();
}

bool JobBook::share_active(const std::string& queue, const std::string& share) const {
  auto q = unfinished_by_share_.find(queue);
  return q != unfinished_by_share_.end() && q->second.count(share) > 0;
}

std::vector<const Job*> JobBook::active() const {
  std::vector<const Job*> out;
  for (const auto& id : active_) out.push_back(&jobs_.at(id));
  return out;
}

void JobBook::place(const std::string& job_id, const std::string& node, const std::string& ce,
                    const std::string& log_dir, TimePoint now, std::vector<int> cpus,
                    std::vector<int> numa_nodes, std::vector<std::string> gang_nodes,
                    std::vector<std::vector<int>> gang_cpus, std::vector<int> gpus) {
  Job* job = find_mut(job_id);
  if (!job || job->status != JobStatus::kRunnable) return;
  job->launches++;
  Attempt a;
  a.number = job->next_attempt_number();
  a.task_id = make_task_id(*job);
  a.node = node;
  a.cpus = std::move(cpus);
  a.numa_nodes = std::move(numa_nodes);
  a.gpus = std::move(gpus);
  a.nodes = std::move(gang_nodes);
  a.node_cpus = std::move(gang_cpus);
  a.compute_environment = ce;
  a.log_stream = job->definition_name + "/default/" + a.task_id;
  a.log_path = log_dir + "/" + a.task_id + ".log";
  task_to_job_[a.task_id] = job->id;
  job->current = std::move(a);
  set_status(*job, JobStatus::kStarting, "", now);
  effects_.launch.push_back(job->id);
}

void JobBook::set_waiting_reason(const std::string& job_id, const std::string& reason,
                                 TimePoint now, std::optional<Duration> time_limit) {
  Job* job = find_mut(job_id);
  if (!job || job->status != JobStatus::kRunnable) return;
  std::string clipped = clip(reason);
  if (job->status_reason != clipped || !job->waiting_since) {
    job->status_reason = std::move(clipped);
    job->waiting_since = now;
    effects_.dirty.insert(job_id);
  }
  std::optional<TimePoint> cancel_at;
  if (time_limit) cancel_at = *job->waiting_since + *time_limit;
  if (cancel_at != job->cancel_waiting_at) {
    job->cancel_waiting_at = cancel_at;
    effects_.dirty.insert(job_id);
  }
  if (cancel_at) {
    time_limited_.insert(job_id);
  } else {
    time_limited_.erase(job_id);
  }
}

void JobBook::refuse(const std::string& job_id, const std::string& reason, TimePoint now) {
  Job* job = find_mut(job_id);
  if (job && job->status == JobStatus::kRunnable) set_status(*job, JobStatus::kFailed, reason, now);
}

void JobBook::attempt_running(const std::string& task_id, TimePoint at) {
  Job* job = job_of_task(task_id);
  if (!job || job->status != JobStatus::kStarting) return;
  job->current->started_at = at;
  set_status(*job, JobStatus::kRunning, "", at);
}

void JobBook::finish_attempt(Job& job, Attempt a, TimePoint now) {
  a.stopped_at = now;
  a.kill_at.reset();
  effects_.forget_tasks.push_back(a.task_id);
  task_to_job_.erase(a.task_id);
  bool succeeded = a.exit_code == 0 && !a.timed_out && !job.terminate_reason;
  AttemptOutcome outcome{a.exit_code, a.reason, a.status_reason};
  bool timed_out = a.timed_out;
  std::string attempt_reason = a.status_reason;
  job.attempts.push_back(std::move(a));
  job.current.reset();
  if (succeeded) {
    set_status(job, JobStatus::kSucceeded, kContainerExited, now);
    return;
  }
  if (job.terminate_reason) {
    job.is_terminated = true;
    set_status(job, JobStatus::kFailed, *job.terminate_reason, now);
    return;
  }
  if (timed_out) {  // timeouts are never retried
    set_status(job, JobStatus::kFailed, kTimeoutReason, now);
    return;
  }
  RetryDecision retry = decide_retry(job.retry_strategy, job.attempts.back().number, outcome);
  if (retry.retry) {
    std::string reason;
    // memoryMultiplier: the next attempt asks for more memory (single-node
    // jobs with a MEMORY requirement; the store keeps the new figure).
    if (retry.memory_multiplier > 1 && job.resources.memory_mib > 0 && job.node_resources.empty()) {
      job.resources.memory_mib =
          retry_memory_mib(job.resources.memory_mib, retry.memory_multiplier);
      reason = "Retrying with " + std::to_string(job.resources.memory_mib) + " MiB of memory";
    }
    set_status(job, JobStatus::kRunnable, reason, now);
    return;
  }
  set_status(job, JobStatus::kFailed, attempt_reason, now);
}

void JobBook::attempt_exited(const std::string& task_id, const ExitReport& report, TimePoint at) {
  Job* job = job_of_task(task_id);
  if (!job) return;
  Attempt a = *job->current;
  if (!a.started_at) a.started_at = report.started_at.value_or(at);
  if (report.exit_code) {
    a.exit_code = *report.exit_code;
  } else if (report.term_signal) {
    a.exit_code = 128 + *report.term_signal;  // as a shell and Docker report it
  }
  a.status_reason = a.timed_out ? kTimeoutReason : kContainerExited;
  if (report.oom_killed) a.reason = kOutOfMemoryReason;
  a.user_seconds = report.user_seconds;
  a.system_seconds = report.system_seconds;
  a.max_rss_kib = report.max_rss_kib;
  finish_attempt(*job, std::move(a), at);
}

void JobBook::attempt_start_failed(const std::string& task_id, const std::string& reason,
                                   TimePoint at) {
  Job* job = job_of_task(task_id);
  if (!job) return;
  Attempt a = *job->current;
  a.reason = clip("CannotStartContainerError: " + reason);
  a.status_reason = kFailedToStart;
  finish_attempt(*job, std::move(a), at);
}

void JobBook::attempt_lost(const std::string& task_id, TimePoint at) {
  Job* job = job_of_task(task_id);
  if (!job) return;
  Attempt a = *job->current;
  a.status_reason = "Host " + a.node + " terminated.";
  a.reason = "the attempt's supervisor ended without recording an exit status";
  finish_attempt(*job, std::move(a), at);
}

void JobBook::attempt_never_started(const std::string& task_id) {
  Job* job = job_of_task(task_id);
  if (!job) return;
  effects_.forget_tasks.push_back(task_id);
  task_to_job_.erase(task_id);
  job->current.reset();
  if (job->terminate_reason) {
    job->is_cancelled = true;
    set_status(*job, JobStatus::kFailed, *job->terminate_reason, TimePoint{});
    return;
  }
  set_status(*job, JobStatus::kRunnable, "", TimePoint{});
}

std::vector<std::string> JobBook::children_of(const Job& parent) const {
  std::vector<std::string> out;
  for (int i = 0; i < *parent.array_size; ++i) {
    std::string id = array_child_id(JobId(parent.id), i).str();
    if (jobs_.count(id)) out.push_back(std::move(id));
  }
  return out;
}

void JobBook::fail_unstarted(Job& job, const std::string& reason, TimePoint now) {
  job.is_cancelled = true;
  std::string text = reason;
  if (job.status == JobStatus::kPending)
    text += " (cancelled at once; AWS Batch waits for the dependencies to finish first)";
  set_status(job, JobStatus::kFailed, text, now);
}

namespace {

Result<void> check_owner(const Job* job, const std::string& job_id, const Caller& caller) {
  if (!job) return fail(Error::not_found("Job " + job_id + " does not exist or has finished"));
  if (!caller.admin && job->owner.uid != caller.uid)
    return fail(Error::permission_denied("job " + job_id + " belongs to " + job->owner.user +
                                         "; only its owner or root may change it"));
  return {};
}

}  // namespace

Result<void> JobBook::cancel(const std::string& job_id, const std::string& reason,
                             const Caller& caller, TimePoint now) {
  Job* job = find_mut(job_id);
  if (!job && lookup_(job_id)) return {};  // already finished: nothing to cancel
  if (auto ok = check_owner(job, job_id, caller); !ok) return ok;
  if (job->is_array_parent()) {
    job->is_cancelled = true;
    job->status_reason = clip(reason);
    effects_.dirty.insert(job->id);
    for (const auto& child : children_of(*job)) (void)cancel(child, reason, caller, now);
    return {};
  }
  // CancelJob does nothing to a job that has started (use TerminateJob).
  if (job->status == JobStatus::kSubmitted || job->status == JobStatus::kPending ||
      job->status == JobStatus::kRunnable)
    fail_unstarted(*job, reason, now);
  return {};
}

Result<void> JobBook::terminate(const std::string& job_id, const std::string& reason,
                                const Caller& caller, TimePoint now) {
  Job* job = find_mut(job_id);
  if (!job && lookup_(job_id)) return {};
  if (auto ok = check_owner(job, job_id, caller); !ok) return ok;
  if (job->is_array_parent()) {
    job->is_cancelled = true;
    job->status_reason = clip(reason);
    effects_.dirty.insert(job->id);
    for (const auto& child : children_of(*job)) (void)terminate(child, reason, caller, now);
    return {};
  }
  if (is_active_attempt(job->status)) {
    if (!job->terminate_reason) {
      job->terminate_reason = clip(reason);
      stop_attempt(*job, now);
    }
    return {};
  }
  if (!is_terminal(job->status)) fail_unstarted(*job, reason, now);
  return {};
}

Effects JobBook::take_effects() {
  Effects out = std::move(effects_);
  effects_ = Effects{};
  return out;
}

void JobBook::evict(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || !is_terminal(it->second.status)) return;
  jobs_.erase(it);
}

}  // namespace helix::queues
