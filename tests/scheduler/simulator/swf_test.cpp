#include <gtest/gtest.h>

#include "scheduler/simulator/replay.h"
#include "scheduler/simulator/swf.h"

namespace helix::scheduler {
namespace {

const char* kTrace =
    "; MaxNodes: 4\n; MaxProcs: 8\n"
    "1 0 -1 100 2 -1 -1 2 200 -1 1 1 1 -1 1 -1 -1 -1\n"
    "\n"
    "3 5 -1 0 1 -1 -1 1 50 -1 1 1 1 -1 1 -1 -1 -1\n"
    "2 3 -1 -1 3 -1 -1 1 -1 -1 1 1 1 -1 1 -1 -1 -1\n";

TEST(Swf, ParsesHeaderAndRecords) {
  auto trace = parse_swf(kTrace);
  ASSERT_TRUE(trace) << trace.error().to_string();
  EXPECT_EQ(trace->max_nodes, 4);
  EXPECT_EQ(trace->max_procs, 8);
  ASSERT_EQ(trace->records.size(), 3u);
  EXPECT_EQ(trace->records[2].job_id, 2);
  EXPECT_EQ(trace->records[2].run_s, -1);
}

TEST(Swf, MalformedLineNamesLineAndField) {
  auto trace = parse_swf("; x\n1 0 -1 abc 2 -1 -1 2 200 -1 1 1 1 -1 1 -1 -1 -1\n");
  ASSERT_FALSE(trace);
  EXPECT_NE(trace.error().to_string().find("line 2: field 4 (run time)"), std::string::npos)
      << trace.error().to_string();
  auto short_line = parse_swf("1 0 -1\n");
  ASSERT_FALSE(short_line);
  EXPECT_NE(short_line.error().to_string().find("line 1: expected 18 fields, found 3"),
            std::string::npos);
}

TEST(Swf, CorruptGzipIsAnError) {
  std::string bytes = "\x1f\x8b\x08\x00garbage";
  EXPECT_FALSE(parse_swf(bytes));
}

TEST(Swf, PrepareDropsZeroRunsRepairsNegativesAndSortsById) {
  auto trace = parse_swf(kTrace);
  ASSERT_TRUE(trace);
  auto jobs = prepare_jobs(*trace, EstimateSource::kRequested, Overrun::kRun);
  ASSERT_EQ(jobs.size(), 2u);  // job 3 has run time 0
  EXPECT_EQ(jobs[0].run_s, 100);
  EXPECT_EQ(jobs[0].estimate_s, 200);
  EXPECT_EQ(jobs[1].submit_s, 3);     // job 2
  EXPECT_EQ(jobs[1].run_s, 10);       // -1 -> 10
  EXPECT_EQ(jobs[1].procs, 3);        // max(3, 1)
  EXPECT_EQ(jobs[1].estimate_s, -1);  // request -1 falls back to the run time as written
  auto killed = prepare_jobs(*trace, EstimateSource::kActual, Overrun::kKill);
  EXPECT_EQ(killed[0].estimate_s, 100);
  EXPECT_EQ(killed[1].estimate_s, 10);  // kActual: the repaired run time
  auto machine = machine_for(*trace, 0);
  ASSERT_TRUE(machine);
  EXPECT_EQ(machine->nodes, 4);
  EXPECT_EQ(machine->procs_per_node, 2);
}

TEST(Swf, Windows) {
  auto w = parse_windows("1:2,30:40");
  ASSERT_TRUE(w);
  ASSERT_EQ(w->size(), 2u);
  EXPECT_EQ((*w)[1].start, 30u);
  EXPECT_EQ((*w)[1].length, 40u);
  EXPECT_FALSE(parse_windows("1-2"));
  EXPECT_FALSE(parse_windows("1:0"));
}

}  // namespace
}  // namespace helix::scheduler
