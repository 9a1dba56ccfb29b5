// LocalExecutor::recover(): a new executor (a restarted helixd) finds each
// attempt exited, still running (adopted), lost, or never started.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "tests/workers/executor_fixture.h"
#include "workers/local_executor.h"

namespace helix::workers::testing {
namespace {

class RecoveryTest : public ExecutorTest {
 protected:
  // helixd goes away (running shims keep running) and a new one starts.
  void restart() {
    executor_.reset();
    executor_ = make(later_);
  }
  std::map<std::string, ExecEvent> recover(const std::set<std::string>& ids) {
    std::map<std::string, ExecEvent> by_task;
    for (auto& e : executor_->recover(ids)) by_task[e.task_id] = std::move(e);
    EXPECT_EQ(by_task.size(), ids.size());
    return by_task;
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "run" / name) << text;
  }

  Events later_;  // the new executor's events
};

TEST_F(RecoveryTest, RunningAttemptIsAdoptedAndItsExitArrivesLater) {
  executor_->launch(spec("t1", {"sh", "-c", "sleep 1; exit 5"}));
  events_.wait_for("t1", ExecEvent::Kind::kStarted);
  restart();
  auto got = recover({"t1"});
  EXPECT_EQ(got["t1"].kind, ExecEvent::Kind::kStarted);
  auto ended = later_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited) << ended.reason;
  EXPECT_EQ(ended.exit_code, 5);
  EXPECT_NE(ended.started_at, TimePoint{});
}

TEST_F(RecoveryTest, AdoptedAttemptCanBeKilled) {
  executor_->launch(spec("t1", {"sleep", "1000"}));
  events_.wait_for("t1", ExecEvent::Kind::kStarted);
  restart();
  ASSERT_EQ(recover({"t1"})["t1"].kind, ExecEvent::Kind::kStarted);
  executor_->kill("t1");  // through the pidfd
  auto ended = later_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ended.term_signal, 9);
}

TEST_F(RecoveryTest, RecordsTellExitedAndFailedAttempts) {
  executor_->launch(spec("done", {"sh", "-c", "exit 7"}));
  executor_->launch(spec("bad", {"nosuchcmd"}));
  events_.wait_end("done");
  events_.wait_end("bad");
  restart();
  auto got = recover({"done", "bad"});
  ASSERT_EQ(got["done"].kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(got["done"].exit_code, 7);
  EXPECT_GT(got["done"].pid, 0);
  // A recorded exec error is a start failure, but not "never started": the
  // attempt was used up.
  ASSERT_EQ(got["bad"].kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(got["bad"].reason, "execvp(\"nosuchcmd\"): No such file or directory");
}

TEST_F(RecoveryTest, ShimGoneWithoutARecordIsLost) {
  write("dead.pid", "999999999 1\n");  // above pid_max: no such process
  // A live pid whose start time differs: the shim's pid was reused.
  write("reused.pid", std::to_string(::getpid()) + " 1\n");
  restart();
  auto got = recover({"dead", "reused"});
  EXPECT_EQ(got["dead"].kind, ExecEvent::Kind::kLost);
  EXPECT_EQ(got["reused"].kind, ExecEvent::Kind::kLost);
  EXPECT_EQ(got["reused"].reason, "helix-shim ended without an exit record");
}

TEST_F(RecoveryTest, AttemptWithoutPidRecordIsClaimedAndNeverRuns) {
  restart();
  auto got = recover({"never"});
  ASSERT_EQ(got["never"].kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(got["never"].reason, kNeverStarted);
  EXPECT_EQ(slurp(dir_ / "run" / "never.pid"), "claimed\n");
  // The shim the previous helixd had spawned gets scheduled only now.
  fs::path marker = dir_ / "ran";
  executor_->launch(spec("never", {"touch", marker.string()}));
  auto ended = later_.wait_end("never");
  EXPECT_EQ(ended.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(ended.reason, kNeverStarted);
  EXPECT_FALSE(fs::exists(marker));
  // A second recovery still says so.
  restart();
  EXPECT_EQ(recover({"never"})["never"].reason, kNeverStarted);
}

TEST_F(RecoveryTest, RemovesRecordsOfOtherAttempts) {
  executor_->launch(spec("kept", {"true"}));
  executor_->launch(spec("stale", {"true"}));
  events_.wait_end("kept");
  events_.wait_end("stale");
  write("stale.exit.tmp", "code=0");
  write("stale.pid.123.tmp", "1 1\n");
  write("notes.txt", "not a record");
  restart();
  recover({"kept"});
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_ / "run")) left.insert(e.path().filename());
  EXPECT_EQ(left, (std::set<std::string>{"kept.pid", "kept.exit", "notes.txt"}));
}

TEST_F(RecoveryTest, ForgetRemovesTheRecords) {
  executor_->launch(spec("t1", {"true"}));
  events_.wait_end("t1");
  ASSERT_TRUE(fs::exists(dir_ / "run" / "t1.exit"));
  executor_->forget("t1");
  EXPECT_FALSE(fs::exists(dir_ / "run" / "t1.exit"));
  EXPECT_FALSE(fs::exists(dir_ / "run" / "t1.pid"));
  // Forgotten and not in the store: a recovery would claim it.
  restart();
  EXPECT_EQ(recover({"t1"})["t1"].reason, kNeverStarted);
}

}  // namespace
}  // namespace helix::workers::testing
