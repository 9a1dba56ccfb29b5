// LocalExecutor: runs native job attempts on this node so that they outlive
// helixd. Each attempt is started through helix-shim (workers/shim/), a tiny
// static program that becomes the attempt's session leader, runs the command
// in its own process group and writes the exit status to the run directory.
// helixd may be killed at any time: on restart, recover() tells for every
// attempt the store believes STARTING/RUNNING whether it exited (and how),
// still runs (it is adopted), or was lost, and guarantees a lost attempt can
// never start late, so the controller may retry it without running it twice.
//
// Threading: one internal thread (epoll) delivers ExecEvents to the sink,
// which must be thread safe (the controller pushes them onto its queue).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "workers/exec_types.h"
#include "workers/node_agent.h"

namespace helix::workers {

struct LocalExecutorOptions {
  std::string run_dir;    // per-attempt pid and exit records; created if absent
  std::string shim_path;  // the helix-shim binary (helix-container beside it)
  // Put each attempt in cgroups holding it to its memory limit and cpuset
  // (workers/job_cgroups.h); when the kernel offers none, jobs run without.
  bool enforce_limits = true;
};

class LocalExecutor final : public NodeAgent {
 public:
  static Result<std::unique_ptr<LocalExecutor>> create(const LocalExecutorOptions& options,
                                                       ExecEventSink sink);
  ~LocalExecutor() override;  // stops the thread; running attempts keep running

  // Call once at start-up, before launch(), with the task ids the store
  // believes are STARTING or RUNNING. Returns one event per id: kExited
  // (the record was there), kStarted (still running: adopted, its kExited
  // comes later through the sink), kLost (shim gone without a record) or
  // kStartFailed (it never started, and now never will). Records of ids not
  // in the set are removed.
  std::vector<ExecEvent> recover(const std::set<std::string>& task_ids) override;

  // Starts an attempt; kStarted or kStartFailed, then kExited, arrive at the sink.
  void launch(const LaunchSpec& spec) override;

  // SIGTERM to the attempt's process group (the job may clean up), or
  // SIGKILL to the whole group. No-op for unknown or finished tasks.
  void terminate(const std::string& task_id) override;
  void kill(const std::string& task_id) override;

  // The controller has stored the outcome: drop the attempt's records.
  void forget(const std::string& task_id) override;

  // How limits are enforced here ("cgroup v1: memory at ..."), or why not.
  std::string limits_description() const;

  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

 private:
  struct Impl;
  explicit LocalExecutor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace helix::workers
