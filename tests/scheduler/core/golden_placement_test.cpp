// Golden placements: a fixed script of reservations and releases on each
// XML fixture (2-socket, 4-NUMA, GPU node), the NumaLedger's answer to each
// written out in tests/data/golden/placements_<fixture>.txt. A change in
// the placement rule shows up as a diff someone has to read and accept:
// rerun with HELIX_UPDATE_GOLDEN=1 to rewrite the files, then review them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scheduler/core/numa_ledger.h"
#include "scheduler/core/topology.h"

namespace helix::scheduler {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string list(const std::vector<int>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

// One step: "+name pus mib gpus" reserves, "-name" releases.
struct Step {
  std::string name;
  NumaRequest request;
  bool release = false;
};

// The same script on every fixture: small jobs that fit one NUMA node,
// one that needs two, GPU jobs, releases that open holes, and a job that
// does not fit.
const std::vector<Step> kScript = {
    {"a", {1, 100, 0}}, {"b", {2, 200, 0}}, {"c", {1, 100, 1}}, {"d", {3, 300, 0}},
    {"a", {}, true},    {"e", {1, 50, 1}},  {"f", {4, 400, 0}}, {"c", {}, true},
    {"g", {2, 100, 1}}, {"h", {64, 10, 0}}, {"b", {}, true},    {"i", {2, 2000, 0}},
};

std::string run_script(NumaLedger ledger) {
  std::string out;
  for (const auto& step : kScript) {
    if (step.release) {
      ledger.release(step.name);
      out += "-" + step.name + "\n";
      continue;
    }
    out += "+" + step.name + " pus=" + std::to_string(step.request.pus) +
           " mib=" + std::to_string(step.request.memory_mib) +
           " gpus=" + std::to_string(step.request.gpus) + " -> ";
    auto placement = ledger.place(step.request);
    if (!placement) {
      out += "waits: " + ledger.not_now(step.request).value_or("?") + "\n";
      continue;
    }
    ledger.reserve(step.name, *placement);
    out += "pus " + list(placement->pus) + " numa " + list(placement->numa_nodes) + " mib {";
    bool first = true;
    for (const auto& [numa, mib] : placement->memory_mib_by_numa) {
      out += (first ? "" : ",") + std::to_string(numa) + ":" + std::to_string(mib);
      first = false;
    }
    out += "} gpus " + list(placement->gpus) + "\n";
  }
  return out;
}

class GoldenPlacement : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenPlacement, MatchesTheWrittenOutPlacements) {
  const std::string fixture = GetParam();
  auto numa = numa_from_hwloc_xml(read(std::string(HELIX_TOPOLOGY_DIR) + "/" + fixture + ".xml"));
  ASSERT_TRUE(numa) << numa.error().to_string();
  const std::string got = run_script(NumaLedger(fixture, *numa));
  const std::string golden = std::string(HELIX_GOLDEN_DIR) + "/placements_" + fixture + ".txt";
  if (std::getenv("HELIX_UPDATE_GOLDEN") != nullptr) std::ofstream(golden) << got;
  EXPECT_EQ(got, read(golden)) << "placements changed; review and rerun with HELIX_UPDATE_GOLDEN=1";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenPlacement,
                         ::testing::Values("two_socket", "four_numa", "gpu_node"));

}  // namespace
}  // namespace helix::scheduler
