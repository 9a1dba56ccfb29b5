#include "workers/thread_binding.h"

#include <hwloc.h>

#include <cerrno>
#include <cstring>

namespace helix::workers {

namespace {

struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* b) const { hwloc_bitmap_free(b); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

Bitmap bitmap_of(const std::vector<int>& indexes) {
  Bitmap set(hwloc_bitmap_alloc());
  for (int i : indexes) hwloc_bitmap_set(set.get(), static_cast<unsigned>(i));
  return set;
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

struct Binder::Scope::Saved {
  hwloc_topology_t topology = nullptr;
  Bitmap cpus;
  Bitmap mems;
  hwloc_membind_policy_t policy = HWLOC_MEMBIND_DEFAULT;
  bool memory_bound = false;
};

Result<std::shared_ptr<Binder>> Binder::create() {
  hwloc_topology_t topology = nullptr;
  if (hwloc_topology_init(&topology) != 0)
    return fail(Error::unavailable("hwloc_topology_init failed"));
  if (hwloc_topology_load(topology) != 0) {
    hwloc_topology_destroy(topology);
    return fail(Error::unavailable(errno_text("hwloc_topology_load")));
  }
  return std::shared_ptr<Binder>(new Binder(topology));
}

Binder::~Binder() { hwloc_topology_destroy(topology_); }

Result<std::unique_ptr<Binder::Scope>> Binder::bind_thread(const std::vector<int>& pus,
                                                           const std::vector<int>& numa_nodes) {
  auto saved = std::make_unique<Scope::Saved>();
  saved->topology = topology_;
  saved->cpus.reset(hwloc_bitmap_alloc());
  saved->mems.reset(hwloc_bitmap_alloc());
  if (hwloc_get_cpubind(topology_, saved->cpus.get(), HWLOC_CPUBIND_THREAD) != 0)
    return fail(Error::unavailable(errno_text("hwloc_get_cpubind")));
  if (!numa_nodes.empty() && hwloc_get_membind(topology_, saved->mems.get(), &saved->policy,
                                               HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) != 0)
    return fail(Error::unavailable(errno_text("hwloc_get_membind")));
  if (!pus.empty()) {
    auto set = bitmap_of(pus);
    if (hwloc_set_cpubind(topology_, set.get(), HWLOC_CPUBIND_THREAD) != 0)
      return fail(Error::unavailable(errno_text("hwloc_set_cpubind")));
  }
  std::unique_ptr<Scope> scope(new Scope(std::move(saved)));
  if (!numa_nodes.empty()) {
    auto set = bitmap_of(numa_nodes);
    if (hwloc_set_membind(topology_, set.get(), HWLOC_MEMBIND_BIND,
                          HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) != 0)
      return fail(Error::unavailable(errno_text("hwloc_set_membind")));  // scope restores cpus
    scope->saved_->memory_bound = true;
  }
  return scope;
}

Binder::Scope::Scope(std::unique_ptr<Saved> saved) : saved_(std::move(saved)) {}

Binder::Scope::~Scope() {
  hwloc_set_cpubind(saved_->topology, saved_->cpus.get(), HWLOC_CPUBIND_THREAD);
  if (saved_->memory_bound)
    hwloc_set_membind(saved_->topology, saved_->mems.get(), saved_->policy,
                      HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET);
}

}  // namespace helix::workers
