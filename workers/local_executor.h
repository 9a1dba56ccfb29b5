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

namespace helix::workers {

struct LaunchSpec {
  // Unique per attempt and safe in file names (the controller uses
  // "<job id>.<attempt>" with ':' replaced by '_').
  std::string task_id;
  std::vector<std::string> argv;  // argv[0] is searched in the PATH of `env`
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string working_dir;
  std::optional<uid_t> uid;  // run as this user (helixd must be root)
  std::optional<gid_t> gid;
  std::string log_path;  // stdout and stderr, appended; created 0600, owned by uid
  // The placement: the job and its children run on these PUs (OS indexes)
  // with their memory bound to these NUMA nodes (hwloc cpubind/membind, and
  // a cpuset cgroup where available). Empty: unbound.
  std::vector<int> cpus;
  std::vector<int> numa_nodes;
  // A hard memory limit (cgroup), when limits are enforced on this node.
  std::optional<int64_t> memory_limit_mib;
};

struct ResourceUsage {
  double user_seconds = 0;
  double system_seconds = 0;
  int64_t max_rss_kib = 0;
};

struct ExecEvent {
  enum class Kind {
    kStarted,      // the command is running as `pid`
    kExited,       // it ended: exit_code or term_signal is set
    kStartFailed,  // it never ran; `reason` says why (e.g. the exec error)
    kLost,         // recover() only: it may have run but its outcome is unknown
  };
  Kind kind;
  std::string task_id;
  pid_t pid = 0;
  std::optional<int> exit_code;
  std::optional<int> term_signal;
  ResourceUsage usage;
  bool oom_killed = false;  // kExited: the kernel killed it for exceeding its memory limit
  TimePoint started_at{};
  TimePoint ended_at{};
  std::string reason;
};

using ExecEventSink = std::function<void(ExecEvent)>;

// recover()'s reason for an attempt that never ran and now never will.
inline constexpr const char* kNeverStarted = "never started";

struct LocalExecutorOptions {
  std::string run_dir;    // per-attempt pid and exit records; created if absent
  std::string shim_path;  // the helix-shim binary
  // Put each attempt in cgroups holding it to its memory limit and cpuset
  // (workers/job_cgroups.h); when the kernel offers none, jobs run without.
  bool enforce_limits = true;
};

class LocalExecutor {
 public:
  static Result<std::unique_ptr<LocalExecutor>> create(const LocalExecutorOptions& options,
                                                       ExecEventSink sink);
  ~LocalExecutor();  // stops the thread; running attempts keep running

  // Call once at start-up, before launch(), with the task ids the store
  // believes are STARTING or RUNNING. Returns one event per id: kExited
  // (the record was there), kStarted (still running: adopted, its kExited
  // comes later through the sink), kLost (shim gone without a record) or
  // kStartFailed (it never started, and now never will). Records of ids not
  // in the set are removed.
  std::vector<ExecEvent> recover(const std::set<std::string>& task_ids);

  // Starts an attempt; kStarted or kStartFailed, then kExited, arrive at the sink.
  void launch(const LaunchSpec& spec);

  // SIGTERM to the attempt's process group (the job may clean up), or
  // SIGKILL to the whole group. No-op for unknown or finished tasks.
  void terminate(const std::string& task_id);
  void kill(const std::string& task_id);

  // The controller has stored the outcome: drop the attempt's records.
  void forget(const std::string& task_id);

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
