// The vocabulary between the controller and a node's worker: what to run
// (LaunchSpec) and what happened to it (ExecEvent). Shared by the embedded
// LocalExecutor and the MPI transport, which carries both as messages
// (workers/agent_messages.h).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"

namespace helix::workers {

// A container job: the OCI image layout and tag to run the command in
// (through helix-container and crun), and host paths to bind.
struct ContainerLaunch {
  std::string layout;  // directory of an OCI image layout
  std::string tag = "latest";
  std::vector<std::string> mounts;  // "SRC:DST:ro" or "SRC:DST:rw"
};

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
  // Set for container jobs: argv runs inside this image.
  std::optional<ContainerLaunch> container;
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

}  // namespace helix::workers
