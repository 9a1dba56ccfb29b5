// SWF (Standard Workload Format, Parallel Workloads Archive) reading. Pure:
// handed the file's bytes, plain or gzip (detected by the magic bytes).
//
// Owns: the header fields the simulator needs (MaxNodes, MaxProcs) and the
// six record fields it uses. A record must have 18 whitespace-separated
// numeric fields; anything else is InvalidInput naming the line number and
// the field ("line 12: field 4 (run time): 'x' is not a number").
// Numeric fields may be written with a fraction ("552.21"); they are
// truncated toward zero like int(float(x)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace helix::scheduler {

struct SwfRecord {
  int64_t job_id = 0;
  int64_t submit_s = 0;
  int64_t run_s = 0;            // field 4, -1 unknown
  int64_t allocated_procs = 0;  // field 5
  int64_t requested_procs = 0;  // field 8
  int64_t requested_s = 0;      // field 9, -1 unknown
};

struct SwfTrace {
  std::optional<int64_t> max_nodes;
  std::optional<int64_t> max_procs;
  std::vector<SwfRecord> records;
};

// gunzip when `bytes` starts with the gzip magic, else returns it as is.
Result<std::string> maybe_gunzip(std::string_view bytes);

Result<SwfTrace> parse_swf(std::string_view bytes);

}  // namespace helix::scheduler
