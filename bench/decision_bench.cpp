// decision_bench: the cost of placement decisions in the scheduler's pure
// cores, on the synthetic cluster: 1,000 nodes of 2 packages x 2
// NUMA nodes x 16 cores (64 PUs, 256 GiB each), 10,000 pending jobs of 1-32
// vCPUs and 1-64 GiB (seeded). One decision is what the controller does
// for a job: every node's NodeLedger asked whether it fits now, the best
// fit chosen (NodeLedger::left_after), then its NumaLedger places the job
// on PUs, NUMA memory and GPUs and both ledgers reserve. Prints
// `metric value unit` lines:
//  - decision_median_us / decision_p99_us: per job while the 10,000 are
//    placed one after another until the cluster is full (a job that fits
//    nowhere still pays for asking every node);
//  - pass_1000_ms: a full pass over 1,000 runnable jobs on an empty cluster;
//  - the baseline in the same run: the same pass choosing the first node
//    that fits (first fit), as a ratio.
// Targets (issue #3): median under 50 us per placed job; a pass over
// 1,000 jobs under 50 ms. Not measured here: the controller's store writes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <vector>

#include "scheduler/core/node_ledger.h"
#include "scheduler/core/numa_ledger.h"
#include "scheduler/core/topology.h"

namespace {

using namespace helix;
using Clock = std::chrono::steady_clock;

struct Node {
  scheduler::NodeLedger ledger;
  scheduler::NumaLedger packer;
};

std::vector<Node> cluster(const std::vector<scheduler::NumaNodeSpec>& shape, int count) {
  int64_t pus = 0, memory = 0;
  for (const auto& numa : shape) {
    pus += static_cast<int64_t>(numa.pus.size());
    memory += numa.memory_mib;
  }
  std::vector<Node> nodes;
  nodes.reserve(count);
  for (int i = 0; i < count; ++i) {
    const std::string name = "n" + std::to_string(i);
    nodes.push_back(
        {scheduler::NodeLedger({name, pus, memory, 0, {}}), scheduler::NumaLedger(name, shape)});
  }
  return nodes;
}

std::vector<queues::ResourceRequest> jobs(int count, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> vcpus(1, 32), gib(1, 64);
  std::vector<queues::ResourceRequest> out;
  for (int i = 0; i < count; ++i) out.push_back({vcpus(rng), gib(rng) * 1024, 0});
  return out;
}

// One decision; true when the job was placed.
bool decide(std::vector<Node>& nodes, const queues::ResourceRequest& job, const std::string& id,
            bool best_fit) {
  std::optional<size_t> chosen;
  std::pair<int64_t, int64_t> chosen_left;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i].ledger.fits_now(job)) continue;
    const auto left = nodes[i].ledger.left_after(job);
    if (!chosen || left < chosen_left) {
      chosen = i;
      chosen_left = left;
    }
    if (!best_fit) break;
  }
  if (!chosen) return false;
  Node& node = nodes[*chosen];
  auto placement = node.packer.place({job.vcpus, job.memory_mib, job.gpus});
  if (!placement) return false;  // NUMA memory split short: counted as not placed
  node.packer.reserve(id, *placement);
  node.ledger.reserve(id, job, placement->pus);
  return true;
}

double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
}

double pass_ms(const std::vector<scheduler::NumaNodeSpec>& shape, bool best_fit) {
  auto nodes = cluster(shape, 1000);
  const auto runnable = jobs(1000, 7);
  const auto start = Clock::now();
  for (size_t j = 0; j < runnable.size(); ++j)
    decide(nodes, runnable[j], "p" + std::to_string(j), best_fit);
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main() {
  auto shape = scheduler::numa_from_synthetic("pack:2 group:2 [numa(memory=64GiB)] core:16 pu:1");
  if (!shape) {
    std::fprintf(stderr, "decision_bench: %s\n", shape.error().to_string().c_str());
    return 1;
  }
  auto nodes = cluster(*shape, 1000);
  const auto pending = jobs(10000, 42);
  std::vector<double> placed_us, all_us;
  for (size_t j = 0; j < pending.size(); ++j) {
    const auto start = Clock::now();
    const bool placed = decide(nodes, pending[j], "j" + std::to_string(j), true);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    all_us.push_back(us);
    if (placed) placed_us.push_back(us);
  }
  std::printf("nodes 1000 nodes\nnuma_nodes_per_node %zu numa\npending_jobs %zu jobs\n",
              shape->size(), pending.size());
  std::printf("placed_jobs %zu jobs\n", placed_us.size());
  std::printf("decision_median_us %.2f us\n", percentile(placed_us, 0.5));
  std::printf("decision_p99_us %.2f us\n", percentile(placed_us, 0.99));
  std::printf("decision_unplaced_median_us %.2f us\n", percentile(all_us, 0.5));
  const double best = pass_ms(*shape, true), first = pass_ms(*shape, false);
  std::printf("pass_1000_ms %.2f ms\n", best);
  std::printf("pass_1000_first_fit_ms %.2f ms\n", first);
  std::printf("best_fit_vs_first_fit_ratio %.2f x\n", best / first);
  return 0;
}
