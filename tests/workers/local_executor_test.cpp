// LocalExecutor with real jobs: outcomes, logs, signals, process groups,
// user switching. Recovery is in recovery_test.cpp.
#include "workers/local_executor.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "tests/workers/executor_fixture.h"

namespace helix::workers::testing {
namespace {

using LocalExecutorTest = ExecutorTest;

TEST_F(LocalExecutorTest, ReportsExitCodeLogEnvironmentAndWorkingDirectory) {
  executor_->launch(spec("t1", {"sh", "-c", "echo $GREETING; pwd; echo oops >&2; exit 3"}));
  auto started = events_.wait_for("t1", ExecEvent::Kind::kStarted);
  EXPECT_GT(started.pid, 0);
  EXPECT_NE(started.started_at, TimePoint{});
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited) << ended.reason;
  EXPECT_EQ(ended.exit_code, 3);
  EXPECT_FALSE(ended.term_signal);
  EXPECT_EQ(ended.pid, started.pid);
  EXPECT_EQ(ended.started_at, started.started_at);
  EXPECT_GE(ended.ended_at, ended.started_at);
  // stdout and stderr, in the order written, with the job's env and cwd.
  EXPECT_EQ(slurp(log_of("t1")), "hello\n" + dir_.string() + "\noops\n");
  struct stat st {};
  ASSERT_EQ(::stat(log_of("t1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(LocalExecutorTest, AppendsToAnExistingLog) {
  { std::ofstream(log_of("t1")) << "attempt 1\n"; }
  executor_->launch(spec("t1", {"echo", "attempt 2"}));
  EXPECT_EQ(events_.wait_end("t1").exit_code, 0);
  EXPECT_EQ(slurp(log_of("t1")), "attempt 1\nattempt 2\n");
}

TEST_F(LocalExecutorTest, ExecFailureIsAStartFailureWithTheErrno) {
  executor_->launch(spec("by-path", {"/no/such/program"}));
  executor_->launch(spec("by-search", {"nosuchcmd", "arg"}));
  auto by_path = events_.wait_end("by-path");
  auto by_search = events_.wait_end("by-search");
  ASSERT_EQ(by_path.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(by_path.reason, "execvp(\"/no/such/program\"): No such file or directory");
  ASSERT_EQ(by_search.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(by_search.reason, "execvp(\"nosuchcmd\"): No such file or directory");
  // A command that never ran was never reported as started.
  EXPECT_EQ(events_.of("by-search").size(), 1u);
}

TEST_F(LocalExecutorTest, MissingWorkingDirectoryIsAStartFailure) {
  auto s = spec("t1", {"true"});
  s.working_dir = (dir_ / "gone").string();
  executor_->launch(s);
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(ended.reason, "chdir(\"" + s.working_dir + "\"): No such file or directory");
}

TEST_F(LocalExecutorTest, LogIsNeverOpenedThroughASymlink) {
  fs::path victim = dir_ / "victim";
  { std::ofstream(victim) << "precious\n"; }
  fs::create_symlink(victim, log_of("t1"));
  executor_->launch(spec("t1", {"echo", "overwritten"}));
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(ended.reason,
            "log \"" + log_of("t1").string() + "\": Too many levels of symbolic links");
  EXPECT_EQ(slurp(victim), "precious\n");
}

TEST_F(LocalExecutorTest, SignalDeathGivesTheSignal) {
  executor_->launch(spec("t1", {"sh", "-c", "kill -9 $$"}));
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ended.term_signal, 9);
  EXPECT_FALSE(ended.exit_code);
}

TEST_F(LocalExecutorTest, ReportsResourceUsageOfABusyLoop) {
  executor_->launch(spec("t1", {"sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"}));
  auto ended = events_.wait_end("t1", 60s);
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ended.exit_code, 0);
  EXPECT_GT(ended.usage.user_seconds + ended.usage.system_seconds, 0.0);
  EXPECT_GT(ended.usage.max_rss_kib, 0);
}

TEST_F(LocalExecutorTest, TerminateSendsSigtermTheJobMayTrap) {
  fs::path ready = dir_ / "ready";
  executor_->launch(spec("t1", {"sh", "-c",
                                "trap 'echo got TERM; exit 42' TERM; echo up > " + ready.string() +
                                    "; while :; do sleep 0.05; done"}));
  ASSERT_TRUE(wait_for_file(ready)) << "the job did not install its trap";
  executor_->terminate("t1");
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ended.exit_code, 42);
  // The whole group got it: the shell may also report its `sleep` as "Terminated".
  EXPECT_NE(slurp(log_of("t1")).find("got TERM\n"), std::string::npos) << slurp(log_of("t1"));
}

TEST_F(LocalExecutorTest, TerminateRightAfterLaunchStillReachesTheJob) {
  // The shim holds the signal until the job's process group exists.
  executor_->launch(spec("t1", {"sleep", "1000"}));
  executor_->terminate("t1");
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited) << ended.reason;
  EXPECT_EQ(ended.term_signal, SIGTERM);
}

TEST_F(LocalExecutorTest, KillTakesTheWholeProcessGroup) {
  fs::path marker = dir_ / "grandchild.pid";
  executor_->launch(
      spec("t1", {"sh", "-c", "sleep 1000 & echo $! > " + marker.string() + "; wait"}));
  ASSERT_TRUE(wait_for_file(marker));
  pid_t grandchild = std::stoi(slurp(marker));
  ASSERT_FALSE(is_dead(grandchild));
  executor_->kill("t1");
  auto ended = events_.wait_end("t1");
  EXPECT_EQ(ended.term_signal, 9);
  EXPECT_TRUE(wait_dead(grandchild)) << "the background sleep survived";
}

TEST_F(LocalExecutorTest, DescendantsThatLeftTheGroupEndWithTheJob) {
  // A daemon in its own session escapes the process group; it re-parents to
  // the shim (a child subreaper), which kills it when the job ends.
  fs::path marker = dir_ / "daemon.pid";
  executor_->launch(spec("t1", {"sh", "-c",
                                "setsid sh -c 'echo $$ > " + marker.string() +
                                    "; exec sleep 1000' & "
                                    "while [ ! -s " +
                                    marker.string() + " ]; do sleep 0.01; done"}));
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ended.exit_code, 0);
  ASSERT_TRUE(wait_for_file(marker, 1s));
  pid_t daemon = std::stoi(slurp(marker));
  EXPECT_TRUE(wait_dead(daemon)) << "the setsid daemon survived its job";
}

TEST_F(LocalExecutorTest, SecondLaunchOfARunningTaskIsRefused) {
  executor_->launch(spec("t1", {"sleep", "1000"}));
  executor_->launch(spec("t1", {"true"}));
  auto refused = events_.wait_for("t1", ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(refused.reason, "task t1 is already running");
  executor_->kill("t1");
  EXPECT_EQ(events_.wait_for("t1", ExecEvent::Kind::kExited).term_signal, 9);
}

TEST_F(LocalExecutorTest, TaskIdsThatAreNotFileNamesAreRefused) {
  executor_->launch(spec("../escape", {"true"}));
  auto refused = events_.wait_end("../escape");
  ASSERT_EQ(refused.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(refused.reason, "task id \"../escape\" cannot name a file in the run directory");
}

TEST_F(LocalExecutorTest, SignalsToUnknownTasksAreIgnored) {
  executor_->terminate("nobody-launched-this");
  executor_->kill("nobody-launched-this");
  executor_->launch(spec("t1", {"true"}));
  EXPECT_EQ(events_.wait_end("t1").exit_code, 0);
  executor_->kill("t1");  // finished: no-op
}

std::vector<gid_t> groups_of(const passwd& pw) {
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  EXPECT_GE(::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count), 0);
  groups.resize(static_cast<size_t>(count));
  std::sort(groups.begin(), groups.end());
  return groups;
}

TEST_F(LocalExecutorTest, RunsAsAnotherUserWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  ASSERT_EQ(nobody->pw_uid, 65534u);
  // `id -G` prints the effective gid first, then the supplementary groups.
  auto s = spec("t1", {"sh", "-c", "id -u; id -g; id -G | tr ' ' '\\n' | sort -n | uniq"});
  s.uid = nobody->pw_uid;
  s.gid = nobody->pw_gid;
  s.working_dir = "/";
  executor_->launch(s);
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited) << ended.reason;
  EXPECT_EQ(ended.exit_code, 0);
  std::string want = std::to_string(nobody->pw_uid) + "\n" + std::to_string(nobody->pw_gid) + "\n";
  for (gid_t g : groups_of(*nobody)) want += std::to_string(g) + "\n";
  EXPECT_EQ(slurp(log_of("t1")), want);
  struct stat st {};
  ASSERT_EQ(::stat(log_of("t1").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->pw_uid);
  EXPECT_EQ(st.st_gid, nobody->pw_gid);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(LocalExecutorTest, AnotherUserCannotEnterARootOnlyDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  fs::path secret = dir_ / "secret";
  fs::create_directories(secret);
  fs::permissions(secret, fs::perms::owner_all);
  auto s = spec("t1", {"true"});
  s.uid = 65534;  // no gid: the passwd primary group
  s.working_dir = secret.string();
  executor_->launch(s);
  auto ended = events_.wait_end("t1");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(ended.reason, "chdir(\"" + secret.string() + "\"): Permission denied");
}

}  // namespace
}  // namespace helix::workers::testing
