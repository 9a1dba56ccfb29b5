// Replays: a hand-worked schedule, and the published RLScheduler FCFS
// figures (tests/data/traces/README.md) under the conditions written there.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "scheduler/simulator/replay.h"

namespace helix::scheduler {
namespace {

TEST(Replay, HandWorkedFcfsAndEasy) {
  // 4 nodes. t=0: A (4 nodes, 100 s). t=1: B (4 nodes, 10 s). t=2: C (1
  // node, 50 s, estimate 50).
  // FCFS: A 0-100, B 100-110, C 110-160. waits 0, 99, 108.
  // EASY: B's shadow is 100; C fits only after A ends, so same schedule...
  // with A on 3 nodes instead, C backfills at t=2 (ends 52 <= 100): wait 0.
  std::vector<SimJob> jobs{{0, 0, 100, 4, 100}, {1, 1, 10, 4, 10}, {2, 2, 50, 1, 50}};
  Machine machine{4, 1};
  auto fcfs = replay_window(jobs, BackfillPolicy::kFcfs, machine);
  EXPECT_EQ(fcfs.jobs, 3);
  EXPECT_DOUBLE_EQ(fcfs.mean_wait_s, (0 + 99 + 108) / 3.0);
  EXPECT_DOUBLE_EQ(fcfs.max_wait_s, 108);
  EXPECT_DOUBLE_EQ(fcfs.makespan_s, 160);
  jobs[0].procs = 3;
  auto easy = replay_window(jobs, BackfillPolicy::kEasy, machine);
  EXPECT_EQ(easy.backfilled, 1);
  EXPECT_DOUBLE_EQ(easy.mean_wait_s, (0 + 99 + 0) / 3.0);
  // bsld: A 1, B (99+10)/10 = 10.9, C 1.
  EXPECT_DOUBLE_EQ(easy.mean_bsld, (1 + 10.9 + 1) / 3.0);
  auto fcfs3 = replay_window(jobs, BackfillPolicy::kFcfs, machine);
  EXPECT_EQ(fcfs3.backfilled, 0);
  EXPECT_DOUBLE_EQ(fcfs3.mean_wait_s, (0 + 99 + 108) / 3.0);
}

std::string read(const std::string& name) {
  std::ifstream f(std::string(HELIX_SOURCE_DIR) + "/tests/data/traces/" + name, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

double published_fcfs(const std::string& file) {
  auto trace = parse_swf(read(file));
  EXPECT_TRUE(trace) << trace.error().to_string();
  if (!trace) return -1;
  auto jobs = prepare_jobs(*trace, EstimateSource::kRequested, Overrun::kRun);
  std::vector<Window> windows;
  for (size_t start : {1981, 2756, 4299, 8850, 3316, 2714, 5228, 7762, 4022, 7085})
    windows.push_back({start, 1024});
  auto machine = machine_for(*trace, 0);
  EXPECT_TRUE(machine);
  auto m = replay(jobs, windows, BackfillPolicy::kFcfs, *machine);
  EXPECT_TRUE(m);
  EXPECT_EQ(m->jobs, 10240);
  return std::round(m->mean_bsld * 100) / 100;
}

TEST(Replay, ReproducesRLSchedulerFcfsLublin1) {
  EXPECT_DOUBLE_EQ(published_fcfs("lublin_256.swf.gz"), 7273.77);
}
TEST(Replay, ReproducesRLSchedulerFcfsHpc2n) {
  EXPECT_DOUBLE_EQ(published_fcfs("HPC2N-2002-2.2-cln.swf.gz"), 297.18);
}
TEST(Replay, ReproducesRLSchedulerFcfsLublin2) {
  EXPECT_DOUBLE_EQ(published_fcfs("lublin_256_new2.swf.gz"), 7842.47);
}

}  // namespace
}  // namespace helix::scheduler

namespace helix::scheduler {
namespace {

// On the Lublin-1 windows both backfilling policies must start jobs early
// and beat FCFS; EASY (reservation recomputed, rule (b)) must also beat the
// restricted policy there, since Lublin estimates are exact.
TEST(Replay, BackfillingBeatsFcfsOnLublin1) {
  auto trace = parse_swf(read("lublin_256.swf.gz"));
  ASSERT_TRUE(trace);
  auto jobs = prepare_jobs(*trace, EstimateSource::kRequested, Overrun::kRun);
  std::vector<Window> windows{{1981, 1024}, {2756, 1024}};
  auto machine = machine_for(*trace, 0);
  ASSERT_TRUE(machine);
  auto fcfs = replay(jobs, windows, BackfillPolicy::kFcfs, *machine);
  auto easy = replay(jobs, windows, BackfillPolicy::kEasy, *machine);
  auto restricted = replay(jobs, windows, BackfillPolicy::kRestrictedBackfill, *machine);
  ASSERT_TRUE(fcfs && easy && restricted);
  EXPECT_EQ(fcfs->backfilled, 0);
  EXPECT_GT(easy->backfilled, 0);
  EXPECT_GT(restricted->backfilled, 0);
  EXPECT_LT(easy->mean_bsld, fcfs->mean_bsld);
  EXPECT_LT(restricted->mean_bsld, fcfs->mean_bsld);
  EXPECT_LT(easy->mean_bsld, restricted->mean_bsld);
  EXPECT_EQ(easy->jobs, 2048);
}

}  // namespace
}  // namespace helix::scheduler
