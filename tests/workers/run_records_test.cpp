// The run-directory records shared by helix-shim and the executor.
#include "workers/run_records.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace helix::workers {
namespace {

namespace fs = std::filesystem;

TEST(ParseExitRecord, ReadsOutcomeTimesAndUsage) {
  auto ev = parse_exit_record(
      "j.1",
      "code=3 pid=42 start_us=1000000 end_us=3500000 utime_us=250000 stime_us=500 "
      "maxrss_kib=2048\n");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(ev->task_id, "j.1");
  EXPECT_EQ(ev->exit_code, 3);
  EXPECT_FALSE(ev->term_signal);
  EXPECT_EQ(ev->pid, 42);
  EXPECT_EQ(to_epoch_us(ev->started_at), 1000000);
  EXPECT_EQ(to_epoch_us(ev->ended_at), 3500000);
  EXPECT_DOUBLE_EQ(ev->usage.user_seconds, 0.25);
  EXPECT_DOUBLE_EQ(ev->usage.system_seconds, 0.0005);
  EXPECT_EQ(ev->usage.max_rss_kib, 2048);
}

TEST(ParseExitRecord, SignalAndExecError) {
  auto killed = parse_exit_record("t", "signal=9 pid=7 future_key=1\n");
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->term_signal, 9);
  EXPECT_FALSE(killed->exit_code);
  auto failed = parse_exit_record("t", "exec_error=execvp(\"x y\"): Permission denied\n");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->kind, ExecEvent::Kind::kStartFailed);
  EXPECT_EQ(failed->reason, "execvp(\"x y\"): Permission denied");
}

TEST(ParseExitRecord, RefusesWhatIsNotARecord) {
  EXPECT_FALSE(parse_exit_record("t", ""));                // no outcome
  EXPECT_FALSE(parse_exit_record("t", "pid=3\n"));         // no outcome
  EXPECT_FALSE(parse_exit_record("t", "code=3x\n"));       // bad number
  EXPECT_FALSE(parse_exit_record("t", "code=1 garbage"));  // not key=value
}

TEST(ParsePidRecord, ShimOrClaim) {
  auto shim = parse_pid_record("1234 987654\n");
  ASSERT_TRUE(shim);
  EXPECT_FALSE(shim->is_claim);
  EXPECT_EQ(shim->pid, 1234);
  EXPECT_EQ(shim->start_ticks, 987654u);
  auto claim = parse_pid_record("claimed\n");
  ASSERT_TRUE(claim);
  EXPECT_TRUE(claim->is_claim);
  EXPECT_FALSE(parse_pid_record(""));
  EXPECT_FALSE(parse_pid_record("-1 5\n"));
}

TEST(TaskOfRecordFile, NamesRecordsAndTemporaries) {
  EXPECT_EQ(task_of_record_file("j-1.2.pid"), "j-1.2");
  EXPECT_EQ(task_of_record_file("j-1.2.exit"), "j-1.2");
  EXPECT_EQ(task_of_record_file("j-1.2.exit.tmp"), "j-1.2");
  EXPECT_EQ(task_of_record_file("j-1.2.pid.4711.tmp"), "j-1.2");
  EXPECT_FALSE(task_of_record_file("README"));
  EXPECT_FALSE(task_of_record_file(".pid"));
  EXPECT_FALSE(task_of_record_file("x.tmp"));
}

TEST(ProcessStartTicks, KnowsLiveProcessesOnly) {
  auto self = process_start_ticks(::getpid());
  ASSERT_TRUE(self);
  EXPECT_GT(*self, 0u);
  EXPECT_FALSE(process_start_ticks(999999999));
}

TEST(CreateExclusive, FirstWriterWinsWithCompleteContent) {
  fs::path dir = fs::temp_directory_path() / ("helix-records-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string path = (dir / "a.pid").string();
  EXPECT_EQ(create_exclusive(dir.string(), path, "claimed\n"), 0);
  EXPECT_EQ(create_exclusive(dir.string(), path, "1 2\n"), EEXIST);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "claimed\n");
  // No temporaries left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  EXPECT_EQ(create_exclusive((dir / "missing").string(), (dir / "missing" / "b").string(), "x"),
            ENOENT);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace helix::workers
