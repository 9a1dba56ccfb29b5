// ASL interpreter throughput, in memory: state transitions per second for a
// chain of 1,000 Pass states, and the time for a Map of 10,000 items over a
// Pass iterator. Each runs with history events built (what the controller
// uses) and without (the bare interpreter). Prints `metric value unit`.
// Targets (issue #4): >= 2,000,000 transitions/s, Map under 50 ms.
#include <chrono>
#include <cstdio>
#include <string>

#include "pipelines/engine/execution.h"

namespace {

using helix::asl::Json;

Json pass_chain(int n) {
  Json states = Json::object();
  for (int i = 0; i < n; ++i) {
    Json s{{"Type", "Pass"}};
    if (i + 1 < n)
      s["Next"] = "S" + std::to_string(i + 1);
    else
      s["End"] = true;
    states["S" + std::to_string(i)] = s;
  }
  return Json{{"StartAt", "S0"}, {"States", states}};
}

Json map_machine() {
  return Json::parse(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
    "End": true}}})");
}

template <class F>
double best_seconds(int repeats, F&& f) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    // The benchmark itself may read the clock; the engine never does.
    auto t0 = std::chrono::steady_clock::now();
    f();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main() {
  using namespace helix::asl;
  auto chain = parse_state_machine(pass_chain(1000));
  auto map = parse_state_machine(map_machine());
  if (!chain || !map) {
    std::fprintf(stderr, "asl_bench: definitions did not parse\n");
    return 1;
  }
  Json input{{"key", "value"}, {"n", 1}};
  Json items = Json::array();
  for (int i = 0; i < 10000; ++i) items.push_back(Json{{"i", i}});
  Json map_input{{"items", items}};
  helix::SeededRng rng(1);
  const helix::TimePoint now = helix::from_epoch_ms(1'700'000'000'000);

  for (bool history : {true, false}) {
    ExecutionOptions options;
    options.is_recording_history = history;
    const char* suffix = history ? "" : "_no_history";
    const int runs = 50;
    double chain_s = best_seconds(5, [&] {
      for (int r = 0; r < runs; ++r) {
        Execution e(*chain, options);
        Effects fx = e.start(input, {}, now, rng);
        if (fx.status != ExecutionStatus::kSucceeded) std::abort();
      }
    });
    std::printf("asl_pass_chain_transitions_per_s%s %.0f transitions/s\n", suffix,
                1000.0 * runs / chain_s);
    double map_s = best_seconds(5, [&] {
      Execution e(*map, options);
      Effects fx = e.start(map_input, {}, now, rng);
      if (fx.status != ExecutionStatus::kSucceeded || fx.output->size() != 10000) std::abort();
    });
    std::printf("asl_map_10000_pass_ms%s %.2f ms\n", suffix, map_s * 1000.0);
  }
  return 0;
}
