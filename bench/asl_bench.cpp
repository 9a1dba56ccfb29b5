// ASL interpreter throughput: state transitions per second for a chain of
// 1,000 Pass states, and the time for a Map of 10,000 items over a Pass
// iterator. In memory, each runs with history events built (what the
// controller uses) and without (the bare interpreter); durable, each runs
// as helixd runs it: StartExecution through the ExecutionService, then its
// history events and execution document written to the SQLite store in one
// transaction (WAL, synchronous=NORMAL). Prints `metric value unit`.
// Targets (issue #4): >= 2,000,000 transitions/s in memory, Map under
// 50 ms; with the store >= 50,000 transitions/s.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "pipelines/engine/execution.h"
#include "scheduler/controller/execution_service.h"
#include "scheduler/controller/store.h"

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

// The Batch side is not used by Pass machines.
class NoBatch final : public helix::states::BatchPort {
 public:
  helix::Result<Json> submit_job(const Json&, const helix::queues::Owner&) override {
    return helix::fail(helix::Error::invalid("jobQueue", "no Batch in this benchmark"));
  }
  void terminate_job(const std::string&, const std::string&) override {}
  std::optional<Json> stored_execution(const std::string&) override { return std::nullopt; }
};

// One StartExecution as helixd's loop runs it, with its store transaction.
// Returns the number of history events written.
// Seconds spent in the store (the rest of a durable start is the service).
double store_seconds = 0;

size_t start_durably(helix::states::ExecutionService& service, helix::controller::Store& store,
                     const std::string& machine_arn, const Json& input, helix::TimePoint now) {
  auto reply = service.handle("StartExecution",
                              Json{{"stateMachineArn", machine_arn}, {"input", input.dump()}},
                              helix::queues::Owner{0, 0, "root"}, now);
  if (reply.status != 200) std::abort();
  auto changes = service.take_changes();
  auto t0 = std::chrono::steady_clock::now();
  if (!store.begin()) std::abort();
  for (const auto& arn : changes.executions)
    if (!store.put_execution(service.execution_document(arn))) std::abort();
  for (const auto& e : changes.events)
    if (!store.put_execution_event(e.execution_arn, e.id, e.wire)) std::abort();
  if (!store.commit()) std::abort();
  store_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  service.forget_closed();
  return changes.events.size();
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
    // The Map's 40,000 events pass Step Functions' 25,000-event quota; an
    // admin raises it (helixd --max-history-events) for such runs.
    options.max_history_events = 0;
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

  // Durable: the same machines through the ExecutionService and the store.
  char dir_template[] = "/tmp/asl-bench-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (!dir) return 1;
  auto store = helix::controller::Store::open(std::string(dir) + "/helix.db");
  if (!store) {
    std::fprintf(stderr, "asl_bench: %s\n", store.error().to_string().c_str());
    return 1;
  }
  NoBatch batch;
  helix::states::ExecutionService service(helix::states::ArnScope{}, batch, rng);
  service.set_max_history_events(0);
  auto create = [&](const char* name, const Json& definition) {
    auto r =
        service.handle("CreateStateMachine",
                       Json{{"name", name}, {"definition", definition.dump()}, {"roleArn", "r"}},
                       helix::queues::Owner{0, 0, "root"}, now);
    if (r.status != 200) std::abort();
    return r.body["stateMachineArn"].get<std::string>();
  };
  std::string chain_arn = create("chain", pass_chain(1000));
  std::string map_arn = create("map", map_machine());
  service.take_changes();
  size_t events = 0;
  const int durable_runs = 10;
  double chain_s = best_seconds(3, [&] {
    for (int r = 0; r < durable_runs; ++r)
      events = start_durably(service, **store, chain_arn, input, now);
  });
  std::printf("asl_pass_chain_transitions_per_s_durable %.0f transitions/s\n",
              1000.0 * durable_runs / chain_s);
  std::printf("asl_pass_chain_events_per_execution_durable %zu events\n", events);
  // The store's share of the fastest run: what batching writes could save.
  double map_s = 1e300, map_store_s = 0;
  for (int r = 0; r < 3; ++r) {
    store_seconds = 0;
    auto t0 = std::chrono::steady_clock::now();
    start_durably(service, **store, map_arn, map_input, now);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (took < map_s) {
      map_s = took;
      map_store_s = store_seconds;
    }
  }
  std::printf("asl_map_10000_store_share_durable %.2f ratio\n", map_store_s / map_s);
  std::printf("asl_map_10000_pass_ms_durable %.2f ms\n", map_s * 1000.0);
  std::printf("asl_map_10000_transitions_per_s_durable %.0f transitions/s\n", 10000.0 / map_s);
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
