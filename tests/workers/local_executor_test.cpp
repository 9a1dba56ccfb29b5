#include "workers/local_executor.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace helix::workers {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Collects executor events; tests wait for the one they expect.
class Events {
 public:
  ExecEventSink sink() {
    return [this](ExecEvent ev) {
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(ev));
      cv_.notify_all();
    };
  }
  ExecEvent wait_for(const std::string& task, ExecEvent::Kind kind,
                     std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mutex_);
    ExecEvent found{};
    bool ok = cv_.wait_for(lock, timeout, [&] {
      for (const auto& e : events_)
        if (e.task_id == task && e.kind == kind) {
          found = e;
          return true;
        }
      return false;
    });
    EXPECT_TRUE(ok) << "no event of kind " << static_cast<int>(kind) << " for " << task;
    return found;
  }
  // The final event of a task (exited, start failed or lost).
  ExecEvent wait_end(const std::string& task, std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mutex_);
    ExecEvent found{};
    bool ok = cv_.wait_for(lock, timeout, [&] {
      for (const auto& e : events_)
        if (e.task_id == task && e.kind != ExecEvent::Kind::kStarted) {
          found = e;
          return true;
        }
      return false;
    });
    EXPECT_TRUE(ok) << "task " << task << " did not end";
    return found;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<ExecEvent> events_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LocalExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("helix-exec-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "logs");
    fs::permissions(dir_, fs::perms::all);
    fs::permissions(dir_ / "logs", fs::perms::all);
    executor_ = make();
  }
  void TearDown() override {
    executor_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<LocalExecutor> make() {
    auto e = LocalExecutor::create({(dir_ / "run").string(), HELIX_SHIM}, events_.sink());
    EXPECT_TRUE(e) << e.error().to_string();
    return std::move(*e);
  }
  LaunchSpec spec(const std::string& task, std::vector<std::string> argv) {
    LaunchSpec s;
    s.task_id = task;
    s.argv = std::move(argv);
    s.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
    s.working_dir = dir_.string();
    s.log_path = (dir_ / "logs" / (task + ".log")).string();
    return s;
  }

  fs::path dir_;
  Events events_;
  std::unique_ptr<LocalExecutor> executor_;
};

TEST_F(LocalExecutorTest, ReportsExitCodeLogEnvironmentAndWorkingDirectory) {
  executor_->launch(spec("t1", {"sh", "-c", "echo $GREETING; pwd; echo oops >&2; exit 3"}));
  auto started = events_.wait_for("t1", ExecEvent::Kind::kStarted);
  EXPECT_GT(started.pid, 0);
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ended.exit_code, 3);
  EXPECT_FALSE(ended.term_signal);
  EXPECT_GE(ended.ended_at, ended.started_at);
  std::string log = slurp((dir_ / "logs" / "t1.log").string());
  EXPECT_EQ(log, "hello\n" + dir_.string() + "\noops\n");
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "logs" / "t1.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(LocalExecutorTest, ExecFailureIsAStartFailureWithTheErrno) {
  executor_->launch(spec("t2", {"/no/such/program"}));
  auto ended = events_.wait_end("t2");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(ended.reason, "execvp(\"/no/such/program\"): No such file or directory");
}

TEST_F(LocalExecutorTest, SignalDeathAndResourceUsage) {
  executor_->launch(
      spec("t3", {"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; kill -9 $$"}));
  auto ended = events_.wait_end("t3", 60s);
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ended.term_signal, 9);
  EXPECT_GT(ended.usage.user_seconds + ended.usage.system_seconds, 0.0);
  EXPECT_GT(ended.usage.max_rss_kib, 0);
}

TEST_F(LocalExecutorTest, TerminateSendsSigtermTheJobMayTrap) {
  executor_->launch(
      spec("t4", {"sh", "-c", "trap 'echo got TERM; exit 42' TERM; while :; do sleep 0.05; done"}));
  events_.wait_for("t4", ExecEvent::Kind::kStarted);
  std::this_thread::sleep_for(200ms);  // let the shell install its trap
  executor_->terminate("t4");
  auto ended = events_.wait_end("t4");
  EXPECT_EQ(ended.exit_code, 42);
  EXPECT_NE(slurp((dir_ / "logs" / "t4.log").string()).find("got TERM"), std::string::npos);
}

TEST_F(LocalExecutorTest, KillTakesTheWholeProcessGroup) {
  std::string marker = (dir_ / "grandchild.pid").string();
  executor_->launch(spec("t5", {"sh", "-c", "sleep 1000 & echo $! > " + marker + "; wait"}));
  events_.wait_for("t5", ExecEvent::Kind::kStarted);
  for (int i = 0; i < 100 && !fs::exists(marker); ++i) std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(50ms);
  pid_t grandchild = std::stoi(slurp(marker));
  executor_->kill("t5");
  auto ended = events_.wait_end("t5");
  EXPECT_EQ(ended.term_signal, 9);
  for (int i = 0; i < 100 && ::kill(grandchild, 0) == 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_NE(::kill(grandchild, 0), 0) << "the background sleep survived";
}

TEST_F(LocalExecutorTest, RunningAttemptIsAdoptedByANewExecutor) {
  executor_->launch(spec("t6", {"sh", "-c", "sleep 1; exit 5"}));
  events_.wait_for("t6", ExecEvent::Kind::kStarted);
  executor_.reset();  // helixd goes away; the shim keeps running
  Events later;
  auto again = LocalExecutor::create({(dir_ / "run").string(), HELIX_SHIM}, later.sink());
  ASSERT_TRUE(again);
  auto recovered = (*again)->recover({"t6"});
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].kind, ExecEvent::Kind::kStarted);
  auto ended = later.wait_end("t6");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ended.exit_code, 5);
}

TEST_F(LocalExecutorTest, RecoveryReadsRecordsAndClaimsAttemptsThatNeverStarted) {
  executor_->launch(spec("done", {"true"}));
  events_.wait_end("done");
  fs::create_directories(dir_ / "run");
  {
    std::ofstream dead((dir_ / "run" / "dead.pid").string());
    dead << "999999 1\n";  // no such process
  }
  executor_.reset();
  Events later;
  auto again = LocalExecutor::create({(dir_ / "run").string(), HELIX_SHIM}, later.sink());
  ASSERT_TRUE(again);
  auto recovered = (*again)->recover({"done", "dead", "never"});
  ASSERT_EQ(recovered.size(), 3u);
  std::map<std::string, ExecEvent> by_task;
  for (const auto& e : recovered) by_task[e.task_id] = e;
  EXPECT_EQ(by_task["done"].kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(by_task["done"].exit_code, 0);
  EXPECT_EQ(by_task["dead"].kind, ExecEvent::Kind::kLost);
  EXPECT_EQ(by_task["never"].kind, ExecEvent::Kind::kStartFailed);
  // A shim the old helixd had spawned for "never" now refuses to run it.
  std::string marker = (dir_ / "ran").string();
  (*again)->launch(spec("never", {"touch", marker}));
  later.wait_end("never");
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(LocalExecutorTest, RunsAsAnotherUserWhenRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  struct passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  auto s = spec("t7", {"id", "-u"});
  s.uid = nobody->pw_uid;
  s.gid = nobody->pw_gid;
  s.working_dir = "/";
  executor_->launch(s);
  auto ended = events_.wait_end("t7");
  EXPECT_EQ(ended.exit_code, 0);
  std::string log_path = (dir_ / "logs" / "t7.log").string();
  EXPECT_EQ(slurp(log_path), std::to_string(nobody->pw_uid) + "\n");
  struct stat st {};
  ASSERT_EQ(stat(log_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->pw_uid);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace helix::workers
