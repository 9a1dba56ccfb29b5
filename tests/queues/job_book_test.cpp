#include "queues/job_book.h"

#include <gtest/gtest.h>

#include <map>

#include "queues/submit.h"

namespace helix::queues {
namespace {

using std::chrono::seconds;

// Drives a JobBook as the controller does: submit, evaluate, place, report.
class JobBookTest : public ::testing::Test {
 protected:
  JobBookTest()
      : book_(
            [this](const std::string& id) -> std::optional<JobFacts> {
              auto it = finished_.find(id);
              if (it == finished_.end()) return std::nullopt;
              return it->second;
            },
            seconds(30)) {}

  std::string submit(const std::string& id, std::vector<Dependency> deps = {},
                     std::optional<int> array_size = std::nullopt,
                     RetryStrategy retry = RetryStrategy{}, std::optional<int64_t> timeout = {},
                     int64_t memory_mib = 0) {
    SubmitRequest req;
    req.job_name = "j";
    req.job_queue = "q";
    req.array_size = array_size;
    req.depends_on = std::move(deps);
    req.retry_strategy = retry;
    req.timeout_seconds = timeout;
    JobDefinition def;
    def.name = "d";
    def.revision = 1;
    def.container.command = {"true"};
    if (memory_mib > 0) def.container.resources.memory_mib = memory_mib;
    JobQueue queue;
    queue.name = "q";
    if (share_) {
      req.share_identifier = share_;
      queue.scheduling_policy = "fair";
    }
    std::map<std::string, std::optional<int>> sizes;
    for (const auto& d : req.depends_on)
      if (!d.job_id.empty())
        if (auto f = book_.facts(d.job_id)) sizes[d.job_id] = f->array_size;
    auto jobs = resolve_submission(req, def, queue, Owner{1000, 1000, "ann"}, id, now_, sizes);
    EXPECT_TRUE(jobs) << jobs.error().message();
    auto added = book_.add(std::move(*jobs));
    EXPECT_TRUE(added) << added.error().message();
    settle();
    return id;
  }

  // One controller iteration: evaluate, then "commit" and evict finished jobs.
  void settle() {
    book_.evaluate(now_);
    last_ = book_.take_effects();
    for (const auto& id : last_.finished) {
      const Job* job = book_.find(id);
      finished_[id] = JobFacts{job->status, job->status_reason, job->array_size};
      final_[id] = *job;
      book_.evict(id);
    }
  }

  JobStatus status(const std::string& id) {
    if (const Job* job = book_.find(id)) return job->status;
    return final_.at(id).status;
  }
  const Job& job(const std::string& id) {
    if (const Job* j = book_.find(id)) return *j;
    return final_.at(id);
  }

  std::string start(const std::string& id) {
    book_.place(id, "local", "ce", "/logs", now_);
    std::string task = book_.find(id)->current->task_id;
    book_.attempt_running(task, now_);
    settle();
    return task;
  }

  void exit_with(const std::string& task, int code) {
    ExitReport r;
    r.exit_code = code;
    book_.attempt_exited(task, r, now_);
    settle();
  }

  TimePoint now_ = from_epoch_ms(1'000'000);
  std::optional<std::string> share_;  // shareIdentifier of the next submits
  std::map<std::string, JobFacts> finished_;
  std::map<std::string, Job> final_;
  JobBook book_;
  Effects last_;
};

TEST_F(JobBookTest, JobWithoutDependenciesBecomesRunnableThenSucceeds) {
  submit("a");
  EXPECT_EQ(status("a"), JobStatus::kRunnable);
  auto task = start("a");
  EXPECT_EQ(status("a"), JobStatus::kRunning);
  exit_with(task, 0);
  EXPECT_EQ(status("a"), JobStatus::kSucceeded);
  EXPECT_EQ(job("a").attempts.size(), 1u);
  EXPECT_EQ(job("a").attempts[0].exit_code, 0);
}

TEST_F(JobBookTest, AShareIsActiveWhileAnyOfItsJobsIsUnfinished) {
  share_ = "A";
  submit("a1");
  submit("a2", {{"a1", DependencyType::kPlain}});  // PENDING counts too
  share_ = "B";
  submit("b1");
  EXPECT_EQ(book_.active_shares("q"), 2u);
  EXPECT_EQ(book_.active_shares("other"), 0u);
  exit_with(start("b1"), 0);
  EXPECT_FALSE(book_.share_active("q", "B"));
  EXPECT_TRUE(book_.share_active("q", "A"));
  exit_with(start("a1"), 0);
  EXPECT_EQ(book_.active_shares("q"), 1u);
  exit_with(start("a2"), 1);
  EXPECT_EQ(book_.active_shares("q"), 0u);
}

// A restarted helixd restores its unfinished jobs from the store: the
// shares they belong to are active again (computeReservation and the
// 500-share limit count them), a job restored twice counts once, and the
// RUNNABLE ones keep their order and can start.
TEST_F(JobBookTest, RestoredJobsCountTheirSharesAndKeepTheirOrder) {
  share_ = "A";
  submit("a1");
  submit("a2");
  share_ = "B";
  submit("b1");
  start("b1");
  JobBook restarted([](const std::string&) { return std::nullopt; }, seconds(30));
  for (const std::string id : {"b1", "a2", "a1", "a1"}) restarted.restore(job(id));
  EXPECT_EQ(restarted.active_shares("q"), 2u);
  EXPECT_TRUE(restarted.share_active("q", "A"));
  std::vector<std::string> order;
  for (const Job* j : restarted.runnable()) order.push_back(j->id);
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "a2"}));
  // b1 ends: share B is no longer active, A still is.
  ExitReport r;
  restarted.attempt_exited(job("b1").current->task_id, r, now_);
  EXPECT_FALSE(restarted.share_active("q", "B"));
  EXPECT_EQ(restarted.active_shares("q"), 1u);
  restarted.place("a1", "local", "ce", "/logs", now_);
  EXPECT_EQ(restarted.find("a1")->status, JobStatus::kStarting);
  EXPECT_EQ(restarted.runnable().size(), 1u);
  // Both of A's jobs end: A restored twice still counted its jobs once.
  for (const std::string id : {"a1", "a2"}) {
    if (id == "a2") restarted.place(id, "local", "ce", "/logs", now_);
    const std::string task = restarted.find(id)->current->task_id;
    restarted.attempt_running(task, now_);
    restarted.attempt_exited(task, r, now_);
  }
  EXPECT_EQ(restarted.active_shares("q"), 0u);
}

TEST_F(JobBookTest, DependentWaitsPendingAndRunsAfterSuccess) {
  submit("a");
  submit("b", {{"a", DependencyType::kPlain}});
  EXPECT_EQ(status("b"), JobStatus::kPending);
  exit_with(start("a"), 0);
  EXPECT_EQ(status("b"), JobStatus::kRunnable);
}

TEST_F(JobBookTest, FailureCascadesThroughTheChain) {
  submit("a");
  submit("b", {{"a", DependencyType::kPlain}});
  submit("c", {{"b", DependencyType::kPlain}});
  exit_with(start("a"), 2);
  EXPECT_EQ(status("b"), JobStatus::kFailed);
  EXPECT_EQ(status("c"), JobStatus::kFailed);
  EXPECT_EQ(job("b").status_reason.rfind("Dependent Job failed: a", 0), 0u)
      << job("b").status_reason;
  EXPECT_EQ(job("c").status_reason.rfind("Dependent Job failed: b", 0), 0u);
}

TEST_F(JobBookTest, DependencyOnAFinishedJobResolvesAtOnce) {
  submit("a");
  exit_with(start("a"), 0);
  submit("b", {{"a", DependencyType::kPlain}});
  EXPECT_EQ(status("b"), JobStatus::kRunnable);
}

TEST_F(JobBookTest, MissingDependencyIsRefused) {
  SubmitRequest req;
  Job j;
  j.id = "x";
  j.depends_on = {{"nope", DependencyType::kPlain}};
  j.wait_for = {"nope"};
  auto added = book_.add({j});
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().message(), "dependsOn[0].jobId: job nope does not exist");
  EXPECT_EQ(book_.size(), 0u);
}

TEST_F(JobBookTest, RetryThenExitRuleStopsIt) {
  RetryStrategy retry{
      5, {{std::nullopt, std::nullopt, std::string("3"), RetryAction::kExit, std::nullopt}}};
  submit("a", {}, std::nullopt, retry);
  exit_with(start("a"), 1);
  EXPECT_EQ(status("a"), JobStatus::kRunnable);
  exit_with(start("a"), 3);
  EXPECT_EQ(status("a"), JobStatus::kFailed);
  EXPECT_EQ(job("a").attempts.size(), 2u);
  EXPECT_EQ(job("a").status_reason, kContainerExited);
}

// memoryMultiplier (helix extension): an attempt killed for memory is
// retried with twice the memory; another failure retries with the same.
TEST_F(JobBookTest, OutOfMemoryRetryAsksForMoreMemory) {
  RetryStrategy retry{
      4,
      {{std::nullopt, std::string("OutOfMemoryError*"), std::nullopt, RetryAction::kRetry, 2.0}}};
  submit("a", {}, std::nullopt, retry, {}, 1000);
  ExitReport oom;
  oom.term_signal = 9;
  oom.oom_killed = true;
  book_.attempt_exited(start("a"), oom, now_);
  settle();
  EXPECT_EQ(status("a"), JobStatus::kRunnable);
  EXPECT_EQ(job("a").resources.memory_mib, 2000);
  EXPECT_EQ(job("a").status_reason, "Retrying with 2000 MiB of memory");
  exit_with(start("a"), 1);  // not a memory kill: same memory
  EXPECT_EQ(job("a").resources.memory_mib, 2000);
  exit_with(start("a"), 0);
  EXPECT_EQ(status("a"), JobStatus::kSucceeded);
  EXPECT_EQ(job("a").attempts.size(), 3u);
}

TEST_F(JobBookTest, TimeoutTerminatesKillsAfterGraceAndIsNotRetried) {
  submit("a", {}, std::nullopt, RetryStrategy{3, {}}, 60);
  auto task = start("a");
  now_ += seconds(59);
  settle();
  EXPECT_TRUE(last_.terminate_tasks.empty());
  EXPECT_EQ(book_.next_deadline(), from_epoch_ms(1'000'000) + seconds(60));
  now_ += seconds(1);
  settle();
  EXPECT_EQ(last_.terminate_tasks, std::vector<std::string>{task});
  now_ += seconds(30);
  settle();
  EXPECT_EQ(last_.kill_tasks, std::vector<std::string>{task});
  // After the SIGKILL nothing more is sent and nothing is due: only the exit report.
  EXPECT_FALSE(book_.next_deadline());
  now_ += seconds(60);
  settle();
  EXPECT_TRUE(last_.terminate_tasks.empty());
  EXPECT_TRUE(last_.kill_tasks.empty());
  ExitReport r;
  r.term_signal = 9;
  book_.attempt_exited(task, r, now_);
  settle();
  EXPECT_EQ(status("a"), JobStatus::kFailed);
  EXPECT_EQ(job("a").status_reason, kTimeoutReason);
  EXPECT_EQ(job("a").attempts[0].exit_code, 137);
}

TEST_F(JobBookTest, CancelIsANoOpOnceRunningTerminateIsNot) {
  submit("a");
  auto task = start("a");
  ASSERT_TRUE(book_.cancel("a", "stop", Caller{1000, false}, now_));
  settle();
  EXPECT_EQ(status("a"), JobStatus::kRunning);
  ASSERT_TRUE(book_.terminate("a", "really stop", Caller{1000, false}, now_));
  settle();
  EXPECT_EQ(last_.terminate_tasks, std::vector<std::string>{task});
  exit_with(task, 0);  // even a clean exit after TerminateJob is FAILED
  EXPECT_EQ(status("a"), JobStatus::kFailed);
  EXPECT_TRUE(job("a").is_terminated);
  EXPECT_EQ(job("a").status_reason, "really stop");
}

TEST_F(JobBookTest, CancelRunnableFailsItWithTheReasonAndOnlyOwnersMayCancel) {
  submit("a");
  auto denied = book_.cancel("a", "x", Caller{1001, false}, now_);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), ErrorCode::kPermissionDenied);
  ASSERT_TRUE(book_.cancel("a", "not needed", Caller{0, true}, now_));
  settle();
  EXPECT_EQ(status("a"), JobStatus::kFailed);
  EXPECT_TRUE(job("a").is_cancelled);
  EXPECT_EQ(job("a").status_reason, "not needed");
}

TEST_F(JobBookTest, TimeLimitActionCancelsAJobBlockedForItsReasonThatLong) {
  submit("a");
  const std::string reason = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - needs 8 vCPUs";
  book_.set_waiting_reason("a", reason, now_, seconds(600));
  settle();
  // Blocked since now_: cancelled at now_ + 600 s, and not a moment before.
  EXPECT_EQ(book_.next_deadline(), now_ + seconds(600));
  TimePoint blocked_at = now_;
  now_ += seconds(599);
  book_.set_waiting_reason("a", reason, now_, seconds(600));  // same reason: clock keeps running
  settle();
  EXPECT_EQ(status("a"), JobStatus::kRunnable);
  EXPECT_EQ(job("a").waiting_since, blocked_at);
  now_ += seconds(1);
  settle();
  EXPECT_EQ(status("a"), JobStatus::kFailed);
  EXPECT_TRUE(job("a").is_cancelled);
  EXPECT_EQ(job("a").status_reason,
            "Canceled by JobStateTimeLimit action due to reason: "
            "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT");
}

TEST_F(JobBookTest, ANewReasonRestartsTheTimeLimitAndPlacementClearsIt) {
  submit("a");
  book_.set_waiting_reason("a", "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - x", now_, seconds(600));
  now_ += seconds(500);
  book_.set_waiting_reason("a", "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - y", now_,
                           seconds(600));
  settle();
  EXPECT_EQ(book_.next_deadline(), now_ + seconds(600));
  now_ += seconds(200);  // 700 s blocked in all, 200 s for this reason
  settle();
  EXPECT_EQ(status("a"), JobStatus::kRunnable);
  start("a");
  EXPECT_FALSE(job("a").cancel_waiting_at);
  EXPECT_FALSE(book_.next_deadline());
}

TEST_F(JobBookTest, RefusedJobFailsWithTheReasonWithoutBeingCancelled) {
  submit("a");
  book_.refuse("a", "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - needs 8 vCPUs, node n1 has 2",
               now_);
  settle();
  EXPECT_EQ(status("a"), JobStatus::kFailed);
  EXPECT_FALSE(job("a").is_cancelled);
  EXPECT_EQ(job("a").status_reason,
            "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - needs 8 vCPUs, node n1 has 2");
}

TEST_F(JobBookTest, ArrayParentSummarisesChildrenAndFailsWhenOneFails) {
  submit("p", {}, 3);
  EXPECT_EQ(status("p"), JobStatus::kPending);
  EXPECT_EQ(job("p").child_counts[2], 3);  // RUNNABLE
  exit_with(start("p:0"), 0);
  exit_with(start("p:1"), 1);
  EXPECT_EQ(status("p"), JobStatus::kPending);
  exit_with(start("p:2"), 0);
  EXPECT_EQ(status("p"), JobStatus::kFailed);
  EXPECT_EQ(job("p").status_reason, "1 of 3 child jobs failed");
  EXPECT_EQ(job("p").child_counts[5], 2);
  EXPECT_EQ(job("p").child_counts[6], 1);
}

TEST_F(JobBookTest, SequentialChildrenRunInOrderAndAFailureFailsTheRest) {
  submit("s", {{"", DependencyType::kSequential}}, 4);
  EXPECT_EQ(status("s:0"), JobStatus::kRunnable);
  EXPECT_EQ(status("s:1"), JobStatus::kPending);
  exit_with(start("s:0"), 0);
  EXPECT_EQ(status("s:1"), JobStatus::kRunnable);
  EXPECT_EQ(status("s:2"), JobStatus::kPending);
  exit_with(start("s:1"), 1);
  EXPECT_EQ(status("s:2"), JobStatus::kFailed);
  EXPECT_EQ(status("s:3"), JobStatus::kFailed);
  EXPECT_EQ(status("s"), JobStatus::kFailed);
}

TEST_F(JobBookTest, NToNChildWaitsOnlyForItsPeer) {
  submit("a", {}, 2);
  submit("b", {{"a", DependencyType::kNToN}}, 2);
  exit_with(start("a:1"), 0);
  EXPECT_EQ(status("b:1"), JobStatus::kRunnable);
  EXPECT_EQ(status("b:0"), JobStatus::kPending);
}

TEST_F(JobBookTest, DependingOnAnArrayParentWaitsForTheWholeArray) {
  submit("a", {}, 2);
  submit("b", {{"a", DependencyType::kPlain}});
  exit_with(start("a:0"), 0);
  EXPECT_EQ(status("b"), JobStatus::kPending);
  exit_with(start("a:1"), 0);
  EXPECT_EQ(status("b"), JobStatus::kRunnable);
}

TEST_F(JobBookTest, NeverStartedAttemptDoesNotCountAndLostOneDoes) {
  submit("a", {}, std::nullopt, RetryStrategy{2, {}});
  book_.place("a", "local", "ce", "/logs", now_);
  std::string first = book_.find("a")->current->task_id;
  book_.attempt_never_started(first);
  settle();
  EXPECT_EQ(status("a"), JobStatus::kRunnable);
  EXPECT_TRUE(job("a").attempts.empty());
  auto second = start("a");
  EXPECT_NE(second, first);  // a new task id: the old claim cannot collide
  book_.attempt_lost(second, now_);
  settle();
  EXPECT_EQ(status("a"), JobStatus::kRunnable);  // retried: 2 attempts allowed
  EXPECT_EQ(job("a").attempts[0].status_reason, "Host local terminated.");
  EXPECT_FALSE(job("a").attempts[0].exit_code);
}

TEST_F(JobBookTest, RunnableOrderFollowsQueuePriorityThenSchedulingPriorityThenAge) {
  submit("old");
  submit("new");
  book_.set_queue_priority("q", 5);
  auto order = book_.runnable();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0]->id, "old");
  EXPECT_EQ(order[1]->id, "new");
}

// The placement an attempt was told (PUs, NUMA nodes, GPUs) survives a
// restart: the job keeps running on exactly those.
TEST_F(JobBookTest, StoreRoundTripKeepsThePlacement) {
  submit("a");
  book_.place("a", "gpu01", "ce", "/logs", now_, {2, 3}, {1}, {}, {}, {1});
  auto after = job_from_store(job_to_store(job("a")));
  ASSERT_TRUE(after) << after.error().message();
  ASSERT_TRUE(after->current);
  EXPECT_EQ(after->current->cpus, (std::vector<int>{2, 3}));
  EXPECT_EQ(after->current->numa_nodes, std::vector<int>{1});
  EXPECT_EQ(after->current->gpus, std::vector<int>{1});
}

TEST_F(JobBookTest, StoreRoundTripKeepsEverything) {
  submit("a", {}, std::nullopt, RetryStrategy{3, {}}, 100);
  start("a");
  const Job& before = job("a");
  auto after = job_from_store(job_to_store(before));
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(job_to_store(*after), job_to_store(before));
}

}  // namespace
}  // namespace helix::queues
