// NumaLedger: the worked examples of its header, then properties over
// random nodes and job streams from a seeded generator (the seed is
// printed on failure): no PU or GPU given twice, per-NUMA memory within
// capacity, release restores the ledger exactly, NUMA-local whenever one
// NUMA node could hold the job, same inputs same placement, and Never
// exactly when the idle node cannot hold it.
#include "scheduler/core/numa_ledger.h"

#include <gtest/gtest.h>

#include <set>

#include "common/rng.h"

namespace helix::scheduler {
namespace {

// Shape: NUMA 0 = PUs {0,1}, 4000 MiB; NUMA 1 = PUs {2,3,4,5}, 4000 MiB, GPU 0.
NumaLedger two_numa() {
  return NumaLedger("n1", {{0, 4000, {0, 1}, {}}, {1, 4000, {2, 3, 4, 5}, {0}}});
}

TEST(NumaLedger, BestFitPutsASmallJobInTheTightestNumaNode) {
  auto ledger = two_numa();
  auto p = ledger.place({2, 1000, 0});
  ASSERT_TRUE(p);
  // NUMA 0 would have 0 PUs left, NUMA 1 would have 2: NUMA 0.
  EXPECT_EQ(p->pus, (std::vector<int>{0, 1}));
  EXPECT_EQ(p->numa_nodes, std::vector<int>{0});
  EXPECT_EQ(p->memory_mib_by_numa, (std::map<int, int64_t>{{0, 1000}}));
}

// After a restart an attempt gets back the GPUs it was told, not the
// ones place() would pick now; unusable ones (taken, not this node's,
// too few) fall back to place()'s pick.
TEST(NumaLedger, PlaceOnKeepsTheAttemptsOwnGpus) {
  NumaLedger ledger("g", {{0, 4000, {0, 1}, {0, 1}}, {1, 4000, {2, 3}, {2}}});
  auto kept = ledger.place_on({0}, {1, 100, 1}, {1});
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->gpus, std::vector<int>{1});  // place() would pick 0
  auto fresh = ledger.place_on({0}, {1, 100, 1});
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->gpus, std::vector<int>{0});
  ledger.reserve("other", *fresh);  // GPU 0 now taken
  auto taken = ledger.place_on({1}, {1, 100, 1}, {0});
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->gpus, std::vector<int>{1});
  auto foreign = ledger.place_on({1}, {1, 100, 1}, {7});
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->gpus, std::vector<int>{1});
  auto too_few = ledger.place_on({2}, {1, 100, 2}, {2});
  ASSERT_TRUE(too_few);
  EXPECT_EQ(too_few->gpus, (std::vector<int>{1, 2}));
}

TEST(NumaLedger, AJobLargerThanAnyNumaNodeSpansAdjacentOnesWithMemoryInProportion) {
  auto ledger = two_numa();
  auto p = ledger.place({5, 3000, 1});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->pus, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(p->numa_nodes, (std::vector<int>{0, 1}));
  // 2 of 5 PUs on NUMA 0: 2/5 of 3000 = 1200 there, 1800 on NUMA 1.
  EXPECT_EQ(p->memory_mib_by_numa, (std::map<int, int64_t>{{0, 1200}, {1, 1800}}));
  EXPECT_EQ(p->gpus, std::vector<int>{0});
}

TEST(NumaLedger, GpuJobGoesWhereItsGpuIsWhenItFitsThere) {
  auto ledger = two_numa();
  auto p = ledger.place({1, 100, 1});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->gpus, std::vector<int>{0});
  // Best fit alone would pick NUMA 0; its GPU is on NUMA 1, so NUMA 1.
  EXPECT_EQ(p->numa_nodes, std::vector<int>{1});
  EXPECT_EQ(p->pus, std::vector<int>{2});
}

TEST(NumaLedger, ReasonsCarryTheNumbers) {
  auto ledger = two_numa();
  ledger.reserve("a", *ledger.place({4, 1000, 0}));
  EXPECT_EQ(ledger.not_now({4, 100, 0}), "n1: needs 4 PUs, 2 free of 6");
  EXPECT_EQ(ledger.never_fits({4, 100, 0}), std::nullopt);
  EXPECT_EQ(ledger.never_fits({8, 100, 0}), "n1: needs 8 PUs, 6 free of 6 (when idle)");
  EXPECT_EQ(ledger.never_fits({1, 100, 2}), "n1: needs 2 GPUs, 1 free of 1 (when idle)");
}

NumaLedger random_node(SeededRng& rng) {
  int numa_count = 1 + static_cast<int>(rng.next_u64() % 4);
  std::vector<NumaNodeSpec> numa;
  int pu = 0, gpu = 0;
  for (int n = 0; n < numa_count; ++n) {
    NumaNodeSpec spec;
    spec.id = n;
    spec.memory_mib = 1000 * static_cast<int64_t>(1 + rng.next_u64() % 8);
    int pus = 1 + static_cast<int>(rng.next_u64() % 8);
    for (int i = 0; i < pus; ++i) spec.pus.push_back(pu++);
    int gpus = static_cast<int>(rng.next_u64() % 3);
    for (int i = 0; i < gpus; ++i) spec.gpus.push_back(gpu++);
    numa.push_back(spec);
  }
  return NumaLedger("n", numa);
}

TEST(NumaLedgerProperties, HoldOverRandomStreams) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SeededRng rng(seed);
    NumaLedger ledger = random_node(rng);
    const NumaLedger idle = ledger;
    std::vector<std::string> live;
    for (int step = 0; step < 60; ++step) {
      if (!live.empty() && rng.next_u64() % 3 == 0) {
        size_t k = rng.next_u64() % live.size();
        ledger.release(live[k]);
        live.erase(live.begin() + static_cast<long>(k));
        continue;
      }
      NumaRequest r{1 + static_cast<int64_t>(rng.next_u64() % 10),
                    static_cast<int64_t>(rng.next_u64() % 9000),
                    static_cast<int64_t>(rng.next_u64() % 3)};
      auto p = ledger.place(r);
      EXPECT_EQ(p, ledger.place(r));  // deterministic
      // Never exactly when the idle node cannot hold it.
      EXPECT_EQ(idle.place(r).has_value(), !ledger.never_fits(r).has_value());
      if (!p) {
        EXPECT_TRUE(ledger.not_now(r));
        continue;
      }
      EXPECT_EQ(static_cast<int64_t>(p->pus.size()), r.pus);
      EXPECT_EQ(static_cast<int64_t>(p->gpus.size()), r.gpus);
      int64_t memory = 0;
      for (const auto& [numa, mib] : p->memory_mib_by_numa) memory += mib;
      EXPECT_EQ(memory, r.memory_mib);
      // NUMA-local whenever one NUMA node has room for its PUs and memory.
      bool one_fits = false;
      for (const auto& n : ledger.numa_nodes()) {
        int64_t free_pus = 0;
        for (int pu : n.pus) {
          bool taken = false;
          for (const auto& h : ledger.holders())
            taken |= std::count(ledger.held(h)->pus.begin(), ledger.held(h)->pus.end(), pu) > 0;
          free_pus += !taken;
        }
        int64_t used = 0;
        for (const auto& h : ledger.holders())
          if (auto it = ledger.held(h)->memory_mib_by_numa.find(n.id);
              it != ledger.held(h)->memory_mib_by_numa.end())
            used += it->second;
        one_fits |= free_pus >= r.pus && n.memory_mib - used >= r.memory_mib;
      }
      if (one_fits) {
        EXPECT_EQ(p->numa_nodes.size(), 1u);
      }
      NumaLedger before = ledger;
      std::string id = "j" + std::to_string(step);
      ledger.reserve(id, *p);
      live.push_back(id);
      // Nothing given twice, memory within each NUMA node's capacity.
      std::multiset<int> pus, gpus;
      std::map<int, int64_t> memory_by_numa;
      for (const auto& h : ledger.holders()) {
        for (int x : ledger.held(h)->pus) pus.insert(x);
        for (int x : ledger.held(h)->gpus) gpus.insert(x);
        for (const auto& [numa, mib] : ledger.held(h)->memory_mib_by_numa)
          memory_by_numa[numa] += mib;
      }
      for (int x : pus) EXPECT_EQ(pus.count(x), 1u);
      for (int x : gpus) EXPECT_EQ(gpus.count(x), 1u);
      for (const auto& n : ledger.numa_nodes()) EXPECT_LE(memory_by_numa[n.id], n.memory_mib);
      // Release is the exact inverse of reserve.
      NumaLedger undone = ledger;
      undone.release(id);
      EXPECT_EQ(undone.free_pus(), before.free_pus());
      EXPECT_EQ(undone.free_memory_mib(), before.free_memory_mib());
      EXPECT_EQ(undone.free_gpus(), before.free_gpus());
      EXPECT_EQ(undone.place(r), before.place(r));
    }
  }
}

}  // namespace
}  // namespace helix::scheduler
