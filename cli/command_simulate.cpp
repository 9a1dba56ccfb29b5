// helix simulate: replays an SWF trace through the scheduler's ordering and
// backfill code on a manual clock (scheduler/simulator) and prints
// `metric value unit` lines. Reads the file here; everything else is pure.
#include <fstream>
#include <iomanip>
#include <sstream>

#include "cli/commands.h"
#include "scheduler/simulator/replay.h"
#include "scheduler/simulator/swf.h"

namespace helix::cli {

int run_simulate(const SimulateOptions& options, std::ostream& out, std::ostream& err) {
  using namespace helix::scheduler;
  auto usage = [&](const std::string& message) {
    err << "helix: " << message << "\n";
    return 2;
  };
  auto policy = parse_backfill_policy(options.policy);
  if (!policy) return usage("--policy must be fcfs, easy or rlsched-backfill");
  if (options.estimate != "requested" && options.estimate != "actual")
    return usage("--estimate must be requested or actual");
  if (options.overrun != "run" && options.overrun != "kill")
    return usage("--overrun must be run or kill");
  std::vector<Window> windows;
  if (!options.windows.empty()) {
    auto parsed = parse_windows(options.windows);
    if (!parsed) return usage(parsed.error().to_string());
    windows = std::move(*parsed);
  }
  std::ifstream file(options.swf, std::ios::binary);
  if (!file) {
    err << "helix: cannot read " << options.swf << "\n";
    return 1;
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  auto trace = parse_swf(bytes.str());
  if (!trace) {
    err << "helix: " << options.swf << ": " << trace.error().to_string() << "\n";
    return 1;
  }
  auto machine = machine_for(*trace, options.procs);
  if (!machine) return usage(machine.error().to_string());
  const auto jobs = prepare_jobs(
      *trace, options.estimate == "actual" ? EstimateSource::kActual : EstimateSource::kRequested,
      options.overrun == "kill" ? Overrun::kKill : Overrun::kRun);
  auto result = replay(jobs, windows, *policy, *machine);
  if (!result) return usage(result.error().to_string());
  out << std::fixed << std::setprecision(2);
  out << "jobs " << result->jobs << " count\n";
  out << "utilisation " << result->utilisation << " ratio\n";
  out << "mean_wait_s " << result->mean_wait_s << " s\n";
  out << "max_wait_s " << result->max_wait_s << " s\n";
  out << "mean_bsld " << result->mean_bsld << " ratio\n";
  out << "makespan_s " << result->makespan_s << " s\n";
  out << "backfilled " << result->backfilled << " count\n";
  if (result->never > 0) out << "dropped_too_large " << result->never << " count\n";
  return 0;
}

}  // namespace helix::cli
