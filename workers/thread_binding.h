// ThreadBinding: binds the calling thread's CPUs and memory with hwloc for
// the length of a scope, so that a process it spawns (posix_spawn clones
// the calling thread) starts bound to the job's PU set and NUMA nodes and
// every child of the job inherits the binding. The previous binding is
// restored when the scope ends, so helixd's own threads stay unbound.
//
// Why the spawning thread and not the shim: loading an hwloc topology costs
// milliseconds, which each short job would pay; helixd loads it once.
//
// Thread safety: the Binder may be shared; each ThreadBinding affects only
// the thread that made it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

struct hwloc_topology;

namespace helix::workers {

class Binder {
 public:
  // Loads this machine's topology. Errors: Unavailable.
  static Result<std::shared_ptr<Binder>> create();
  ~Binder();

  // Binds the calling thread to `pus` (OS indexes) and its memory to
  // `numa_nodes` (OS indexes; empty: memory is not bound). Errors name the
  // failing call; on error nothing is left bound.
  class Scope;
  Result<std::unique_ptr<Scope>> bind_thread(const std::vector<int>& pus,
                                             const std::vector<int>& numa_nodes);

 private:
  explicit Binder(hwloc_topology* topology) : topology_(topology) {}
  hwloc_topology* topology_;
};

// Restores the thread's previous CPU and memory binding when destroyed.
class Binder::Scope {
 public:
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  friend class Binder;
  struct Saved;
  explicit Scope(std::unique_ptr<Saved> saved);
  std::unique_ptr<Saved> saved_;
};

}  // namespace helix::workers
