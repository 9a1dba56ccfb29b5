// JobCgroups: one cgroup per attempt that holds the job to its memory
// request (a hard limit, swap included) and to its placement's cpuset, so a
// job cannot take more than the scheduler gave it even if it changes its
// own affinity. helix-shim joins the cgroups (--cgroup) before it forks the
// job; the executor creates them before the launch, reads whether the
// kernel killed the job for memory when it ends, and removes them once the
// controller has stored the outcome.
//
// Kernel support: cgroup v1 (the memory and cpuset hierarchies), under the
// cgroup helixd itself runs in (as Slurm's task/cgroup does under its
// slurmstepd). cgroup v2 is not supported yet: delegating its memory
// controller needs helixd to move itself into a leaf cgroup first, which
// this build does not do; detect() then says why and jobs run without
// limits. Creating cgroups needs root (or a delegated hierarchy).
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace helix::workers {

struct CgroupLimits {
  std::optional<int64_t> memory_mib;  // nullopt: no memory limit
  std::vector<int> cpus;              // OS indexes of PUs; empty: no cpuset
  std::vector<int> mems;  // OS indexes of NUMA nodes; empty with cpus: all of the parent's
};

class JobCgroups {
 public:
  // The v1 hierarchies helixd can create cgroups in, from
  // /proc/self/mountinfo and /proc/self/cgroup. nullptr, with `why_not`
  // set, when there are none usable (no v1 memory hierarchy, not writable).
  static std::unique_ptr<JobCgroups> detect(std::string* why_not);

  // Hierarchies given explicitly: `memory_dir` and `cpuset_dir` are the
  // cgroups under which "helix/<task>" directories are made (either may be
  // empty). For tests and for admins who configure the parent cgroup.
  JobCgroups(std::string memory_dir, std::string cpuset_dir);

  // "cgroup v1: memory at DIR, cpuset at DIR"
  std::string description() const;

  // Creates the attempt's cgroups with `limits` and returns the files
  // helix-shim must write its pid to. Errors: Unavailable naming the file
  // that could not be written (nothing is left behind).
  Result<std::vector<std::string>> create(const std::string& task_id, const CgroupLimits& limits);

  // True when the kernel's OOM killer killed a process of the attempt.
  bool oom_killed(const std::string& task_id) const;

  // Peak memory use of the attempt in KiB, if known.
  std::optional<int64_t> peak_memory_kib(const std::string& task_id) const;

  // Removes the attempt's cgroups (they must be empty: the shim has ended).
  void remove(const std::string& task_id);

 private:
  std::string memory_dir_;
  std::string cpuset_dir_;
};

// "0-3,8,10-11" for {0,1,2,3,8,10,11}: the kernel's list format.
std::string format_cpu_list(std::vector<int> indexes);

// Parses the kernel's list format; nullopt when malformed.
std::optional<std::vector<int>> parse_cpu_list(const std::string& text);

}  // namespace helix::workers
