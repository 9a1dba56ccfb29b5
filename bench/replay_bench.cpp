// replay_bench: replay time of the whole HPC2N trace (202,871 jobs, 240
// nodes, estimates = requested time, overruns run to the end) with EASY
// backfilling, beside the same replay with FCFS (the baseline) in the same
// run. Prints `metric value unit` lines. Target: EASY under 30 s.
//   replay_bench [PATH_TO_SWF]   (default: tests/data/traces/HPC2N...)
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "scheduler/simulator/replay.h"

int main(int argc, char** argv) {
  using namespace helix::scheduler;
  const std::string path =
      argc > 1 ? argv[1]
               : std::string(HELIX_SOURCE_DIR) + "/tests/data/traces/HPC2N-2002-2.2-cln.swf.gz";
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::cerr << "replay_bench: cannot read " << path << "\n";
    return 1;
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  auto t0 = std::chrono::steady_clock::now();
  auto trace = parse_swf(bytes.str());
  if (!trace) {
    std::cerr << "replay_bench: " << trace.error().to_string() << "\n";
    return 1;
  }
  auto jobs = prepare_jobs(*trace, EstimateSource::kRequested, Overrun::kRun);
  auto machine = machine_for(*trace, 0);
  const double parse_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto time_policy = [&](BackfillPolicy policy, ReplayMetrics& out) {
    auto start = std::chrono::steady_clock::now();
    out = replay_window(jobs, policy, *machine);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  ReplayMetrics fcfs, easy;
  const double fcfs_s = time_policy(BackfillPolicy::kFcfs, fcfs);
  const double easy_s = time_policy(BackfillPolicy::kEasy, easy);
  std::cout << "jobs " << jobs.size() << " count\n";
  std::cout << "parse_s " << parse_s << " s\n";
  std::cout << "replay_fcfs_s " << fcfs_s << " s\n";
  std::cout << "replay_easy_s " << easy_s << " s\n";
  std::cout << "easy_over_fcfs " << easy_s / fcfs_s << " ratio\n";
  std::cout << "easy_jobs_per_s " << static_cast<double>(jobs.size()) / easy_s << " jobs/s\n";
  std::cout << "easy_mean_bsld " << easy.mean_bsld << " ratio\n";
  std::cout << "fcfs_mean_bsld " << fcfs.mean_bsld << " ratio\n";
  std::cout << "easy_backfilled " << easy.backfilled << " count\n";
  return 0;
}
