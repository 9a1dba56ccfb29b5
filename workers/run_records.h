// The files helix-shim leaves in the run directory, read back by the
// executor: "<task>.pid" ("<shim pid> <start ticks>" or "claimed") and
// "<task>.exit" (one line of key=value pairs, or exec_error=TEXT).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "workers/local_executor.h"

namespace helix::workers {

struct PidRecord {
  bool claimed = false;  // recovery's claim: the attempt must never start
  pid_t pid = 0;
  unsigned long long start_ticks = 0;
};

std::optional<PidRecord> parse_pid_record(const std::string& text);
// The exit record as an event (kExited, or kStartFailed for exec errors).
std::optional<ExecEvent> parse_exit_record(const std::string& task_id, const std::string& text);
// The start time of a live process in clock ticks since boot, or nullopt.
std::optional<unsigned long long> process_start_ticks(pid_t pid);
std::optional<std::string> read_small_file(const std::string& path);

}  // namespace helix::workers
