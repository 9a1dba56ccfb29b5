// Shared by the LocalExecutor tests: an event collector the tests wait on,
// and a fixture with a fresh directory holding run/ (the run records) and
// logs/ (world-writable, so jobs run as another user can log there).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "workers/local_executor.h"
#include "workers/run_records.h"

namespace helix::workers::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline const char* kind_name(ExecEvent::Kind kind) {
  switch (kind) {
    case ExecEvent::Kind::kStarted:
      return "started";
    case ExecEvent::Kind::kExited:
      return "exited";
    case ExecEvent::Kind::kStartFailed:
      return "start failed";
    case ExecEvent::Kind::kLost:
      return "lost";
  }
  return "?";
}

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
    return wait(
        task, timeout, [kind](const ExecEvent& e) { return e.kind == kind; }, kind_name(kind));
  }
  // The final event of a task (exited, start failed or lost).
  ExecEvent wait_end(const std::string& task, std::chrono::seconds timeout = 20s) {
    return wait(
        task, timeout, [](const ExecEvent& e) { return e.kind != ExecEvent::Kind::kStarted; },
        "end");
  }
  std::vector<ExecEvent> of(const std::string& task) {
    std::lock_guard lock(mutex_);
    std::vector<ExecEvent> out;
    for (const auto& e : events_)
      if (e.task_id == task) out.push_back(e);
    return out;
  }

 private:
  template <class Pred>
  ExecEvent wait(const std::string& task, std::chrono::seconds timeout, Pred pred,
                 const char* what) {
    std::unique_lock lock(mutex_);
    ExecEvent found{};
    bool ok = cv_.wait_for(lock, timeout, [&] {
      for (const auto& e : events_)
        if (e.task_id == task && pred(e)) {
          found = e;
          return true;
        }
      return false;
    });
    EXPECT_TRUE(ok) << "no '" << what << "' event for " << task;
    return found;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<ExecEvent> events_;
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Polls for a file a job writes once it reached a given point.
inline bool wait_for_file(const fs::path& path, std::chrono::seconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!fs::exists(path) || fs::file_size(path) == 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(10ms);  // the writer may still be mid-line
  return true;
}

// Dead: gone, or a zombie (orphans are reaped by whoever pid 1 is, maybe late).
inline bool is_dead(pid_t pid) { return !process_start_ticks(pid).has_value(); }

inline bool wait_dead(pid_t pid, std::chrono::seconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!is_dead(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("helix-exec-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "logs");
    fs::permissions(dir_, fs::perms::all);
    fs::permissions(dir_ / "logs", fs::perms::all);
    executor_ = make(events_);
  }
  void TearDown() override {
    executor_.reset();
    // A failed test may leave shims running: kill their jobs (SIGUSR1).
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(run_dir(), ec)) {
      if (entry.path().extension() != ".pid") continue;
      auto record = parse_pid_record(slurp(entry.path()));
      if (record && !record->is_claim && process_start_ticks(record->pid) == record->start_ticks)
        ::kill(record->pid, SIGUSR1);
    }
    fs::remove_all(dir_);
  }
  std::string run_dir() const { return (dir_ / "run").string(); }
  std::unique_ptr<LocalExecutor> make(Events& events) {
    auto e = LocalExecutor::create({run_dir(), HELIX_SHIM}, events.sink());
    EXPECT_TRUE(e) << e.error().to_string();
    return e ? std::move(*e) : nullptr;
  }
  fs::path log_of(const std::string& task) const { return dir_ / "logs" / (task + ".log"); }
  LaunchSpec spec(const std::string& task, std::vector<std::string> argv) {
    LaunchSpec s;
    s.task_id = task;
    s.argv = std::move(argv);
    s.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
    s.working_dir = dir_.string();
    s.log_path = log_of(task).string();
    return s;
  }

  fs::path dir_;
  Events events_;
  std::unique_ptr<LocalExecutor> executor_;
};

}  // namespace helix::workers::testing
