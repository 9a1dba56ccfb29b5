// JobBook: the lifecycle engine of the jobs that are not finished yet
// (batch-semantics.md sections 1-5). Single-threaded and pure: the
// controller feeds it requests, executor reports and the time, persists the
// jobs it marks dirty in one transaction, and then carries out the effects
// (launch, terminate, kill) it asks for. Placement decisions come from the
// scheduler core; JobBook only records them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "queues/job.h"

namespace helix::queues {

// What JobBook needs to know about a job it no longer holds (finished and
// evicted): its status and reason, and its array size when it is a parent.
struct JobFacts {
  JobStatus status;
  std::string status_reason;
  std::optional<int> array_size;
};
using FinishedLookup = std::function<std::optional<JobFacts>(const std::string& job_id)>;

struct Caller {
  uint32_t uid = 0;
  bool admin = false;
};

// How an attempt ended, as the executor saw it.
struct ExitReport {
  std::optional<int> exit_code;
  std::optional<int> term_signal;
  std::optional<TimePoint> started_at;
  double user_seconds = 0;
  double system_seconds = 0;
  int64_t max_rss_kib = 0;
  bool oom_killed = false;  // the kernel killed it for exceeding its memory limit
};

struct Effects {
  std::set<std::string> dirty;               // jobs to write in this transaction
  std::vector<std::string> launch;           // job ids whose current attempt starts after commit
  std::vector<std::string> terminate_tasks;  // SIGTERM the group
  std::vector<std::string> kill_tasks;       // SIGKILL the group
  std::vector<std::string> forget_tasks;     // outcome stored: drop executor records
  std::vector<std::string> finished;         // became SUCCEEDED / FAILED
  bool empty() const {
    return dirty.empty() && launch.empty() && terminate_tasks.empty() && kill_tasks.empty() &&
           forget_tasks.empty() && finished.empty();
  }
};

inline constexpr const char* kTimeoutReason = "Job attempt duration exceeded timeout";
inline constexpr const char* kContainerExited = "Essential container in task exited";
// AWS Batch's container reason for a job killed for memory; evaluateOnExit
// rules match it with onReason "OutOfMemoryError*".
inline constexpr const char* kOutOfMemoryReason =
    "OutOfMemoryError: Container killed due to memory usage";
inline constexpr const char* kFailedToStart = "Task failed to start";

class JobBook {
 public:
  JobBook(FinishedLookup lookup, Duration kill_grace);

  // A job read back from the store after a restart.
  void restore(Job job);
  // Facts about any job, live or finished; nullopt when it does not exist.
  std::optional<JobFacts> facts(const std::string& job_id) const;
  // Adds a resolved submission (the job, then its array children). Fails
  // when a dependency does not exist, naming it.
  Result<void> add(std::vector<Job> jobs);

  Result<void> cancel(const std::string& job_id, const std::string& reason, const Caller& caller,
                      TimePoint now);
  Result<void> terminate(const std::string& job_id, const std::string& reason, const Caller& caller,
                         TimePoint now);

  // Executor reports, by task id.
  void attempt_running(const std::string& task_id, TimePoint at);
  void attempt_exited(const std::string& task_id, const ExitReport& report, TimePoint at);
  // The command could not be started (e.g. exec failed): a failed attempt.
  void attempt_start_failed(const std::string& task_id, const std::string& reason, TimePoint at);
  // The attempt never started and never will (helixd died first): it does
  // not count, the job is RUNNABLE again.
  void attempt_never_started(const std::string& task_id);
  // The attempt's outcome is unknown (its supervisor died with the node).
  void attempt_lost(const std::string& task_id, TimePoint at);

  // SUBMITTED / PENDING evaluation, dependency cascades, array parents,
  // timeouts and kill deadlines.
  void evaluate(TimePoint now);

  // RUNNABLE jobs in scheduling order: queue priority (high first), then
  // schedulingPriority (high first), then submission order.
  std::vector<const Job*> runnable() const;
  // The same order, visited until `visit` returns false (the scheduler stops
  // once the nodes are full, without copying a long queue).
  void for_each_runnable(const std::function<bool(const Job&)>& visit) const;
  // Records a placement: STARTING with a new attempt; launched after commit.
  void place(const std::string& job_id, const std::string& node, const std::string& ce,
             const std::string& log_dir, TimePoint now, std::vector<int> cpus = {},
             std::vector<int> numa_nodes = {}, std::vector<std::string> gang_nodes = {},
             std::vector<std::vector<int>> gang_cpus = {}, std::vector<int> gpus = {});
  // A RUNNABLE job's blocked reason (MISCONFIGURATION:..., CAPACITY:...).
  // `time_limit`: its queue's jobStateTimeLimitAction for this reason; the
  // job is cancelled once blocked for this reason that long (the clock
  // starts when the reason first appears, and again when it changes).
  void set_waiting_reason(const std::string& job_id, const std::string& reason, TimePoint now,
                          std::optional<Duration> time_limit = std::nullopt);
  // A RUNNABLE job that no node could ever run: FAILED now with `reason`.
  void refuse(const std::string& job_id, const std::string& reason, TimePoint now);
  void set_queue_priority(const std::string& queue, int64_t priority);
  // TagResource / UntagResource of an unfinished job: its tags become `tags`.
  void set_tags(const std::string& job_id, std::map<std::string, std::string> tags);

  // The next time evaluate() has work (a timeout, a kill deadline, a
  // jobStateTimeLimitAction).
  std::optional<TimePoint> next_deadline() const;

  Effects take_effects();
  // After the finished jobs were committed: drop them from memory.
  void evict(const std::string& job_id);

  const Job* find(const std::string& job_id) const;
  std::vector<const Job*> active() const;  // STARTING / RUNNING
  // Share identifiers of `queue` with unfinished jobs (SUBMITTED ..
  // RUNNING): AWS's active shares, which computeReservation and the limit
  // of 500 per queue count.
  size_t active_shares(const std::string& queue) const;
  bool share_active(const std::string& queue, const std::string& share) const;
  size_t size() const { return jobs_.size(); }

 private:
  using RunKey = std::tuple<int64_t, int64_t, uint64_t, std::string>;

  Job* find_mut(const std::string& job_id);
  Job* job_of_task(const std::string& task_id);
  RunKey run_key(const Job& job) const;
  void set_status(Job& job, JobStatus status, std::string reason, TimePoint now);
  void evaluate_dependencies(Job& job, TimePoint now);
  void finish_attempt(Job& job, Attempt attempt, TimePoint now);
  void fail_unstarted(Job& job, const std::string& reason, TimePoint now);
  void stop_attempt(Job& job, TimePoint now);
  void count_share(const Job& job, int64_t delta);
  static bool timeout_pending(const Job& job);
  std::vector<std::string> children_of(const Job& parent) const;

  FinishedLookup lookup_;
  Duration kill_grace_;
  std::unordered_map<std::string, Job> jobs_;
  std::unordered_map<std::string, std::string> task_to_job_;
  std::unordered_map<std::string, std::vector<std::string>> waiters_;  // dependency → jobs
  // RUNNABLE jobs in start order, with their entries in jobs_ (node-based:
  // the pointers stay valid until the job is erased, and a RUNNABLE job
  // never is), so a scheduling pass walks them without hashing ids.
  std::map<RunKey, const Job*> runnable_;
  std::set<std::string> active_;
  std::set<std::string> time_limited_;  // RUNNABLE with cancel_waiting_at
  std::map<std::string, int64_t> queue_priority_;
  // queue -> share -> unfinished jobs (see active_shares).
  std::map<std::string, std::map<std::string, int64_t>> unfinished_by_share_;
  std::deque<std::string> to_evaluate_;
  uint64_t next_sequence_ = 1;
  Effects effects_;
};

// "<job id with ':' as '_'>.<launch>": safe in file names, unique per placement.
std::string make_task_id(const Job& job);

}  // namespace helix::queues
