// Event-driven replay of a job trace on a manual clock, through the very
// same decide_backfill() the scheduler uses. Pure.
//
// Event order (chosen to match RLScheduler's HPCSim, so published figures
// can be reproduced): jobs arrive in trace order; the next arrival is taken
// before the next completion when its submit time <= that completion time;
// completions in order of (end, start order); the clock never goes back
// (an arrival whose submit time is earlier than now arrives now). After
// every single event (one arrival or one completion) the policy is asked
// once. The queue is ordered by (submit time, arrival order) (FCFS).
//
// Metrics per window: wait = start - submit; bounded slowdown =
// max(1, (wait + run) / max(run, 10)); utilisation = sum(run * procs) /
// (machine procs * (last end - first submit)). Across windows: jobs is the
// sum, mean_wait_s / mean_bsld / utilisation the mean of the window values,
// max_wait_s the max, makespan_s the sum of window makespans.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/error.h"
#include "scheduler/core/policy/backfill.h"
#include "scheduler/simulator/swf.h"

namespace helix::scheduler {

struct SimJob {
  PolicyJobId id = 0;
  int64_t submit_s = 0;
  int64_t run_s = 0;
  int64_t procs = 1;
  int64_t estimate_s = 0;  // requested time, or the run time (see prepare_jobs)
};

enum class EstimateSource { kRequested, kActual };
enum class Overrun { kRun, kKill };

// RLScheduler's preparation: drop run time 0; run time < 0 becomes 10 s;
// sort by job id (stable); procs = max(allocated, requested); estimate =
// requested time, or when the request is -1 the SWF run time as written
// (before the < 0 repair, so a job with both -1 keeps estimate -1, as
// RLScheduler's job.py reads it); kActual: the (repaired) run time.
// kKill: run = min(run, estimate).
std::vector<SimJob> prepare_jobs(const SwfTrace& trace, EstimateSource estimate, Overrun overrun);

struct Machine {
  int64_t nodes = 1;
  int64_t procs_per_node = 1;
};

// MaxNodes nodes of MaxProcs/MaxNodes processors (1 when MaxProcs absent);
// `procs_override` > 0: that many nodes of one processor.
Result<Machine> machine_for(const SwfTrace& trace, int64_t procs_override);

struct Window {
  size_t start = 0;
  size_t length = 0;
};

struct ReplayMetrics {
  int64_t jobs = 0;
  int64_t never = 0;  // jobs larger than the machine (dropped)
  double utilisation = 0;
  double mean_wait_s = 0;
  double max_wait_s = 0;
  double mean_bsld = 0;
  double makespan_s = 0;
  int64_t backfilled = 0;
};

// One window on an empty machine, starting at its first job's submit time.
ReplayMetrics replay_window(std::span<const SimJob> jobs, BackfillPolicy policy,
                            const Machine& machine);

// Windows clipped to the job list; an empty list means the whole list.
Result<ReplayMetrics> replay(std::span<const SimJob> jobs, std::span<const Window> windows,
                             BackfillPolicy policy, const Machine& machine);

// "START:LEN,START:LEN".
Result<std::vector<Window>> parse_windows(std::string_view text);

}  // namespace helix::scheduler
