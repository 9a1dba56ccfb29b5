// The records helix-shim (workers/shim/helix_shim.c) and the executor share
// in the run directory, one pair per attempt:
//   <task>.pid   "<shim pid> <start ticks>\n" written by the shim, or
//                "claimed\n" written by recovery (the attempt must never
//                start). Always created exclusively and complete, so the
//                file's existence alone decides whether the shim or recovery
//                won, and a reader never sees it half written.
//   <task>.exit  one line written atomically by the shim: "code=N" or
//                "signal=N" with pid, times and usage as key=value pairs, or
//                "exec_error=TEXT" when the command never ran.
// Temporaries: <task>.exit.tmp, and <task>.pid.<pid>.tmp on file systems
// without O_TMPFILE. Does not own the directory's lifecycle (LocalExecutor).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "workers/local_executor.h"

namespace helix::workers {

// helix-shim's exit statuses besides 0 (exit record written); kept in sync
// with the enum at the top of helix_shim.c.
inline constexpr int kShimExitClaimed = 2;     // recovery claimed the attempt: nothing ran
inline constexpr int kShimExitNoClaim = 125;   // no pid record could be made: nothing ran
inline constexpr int kShimExitNoRecord = 126;  // the exit record could not be written

struct PidRecord {
  bool is_claim = false;  // recovery's claim: the attempt must never start
  pid_t pid = 0;
  unsigned long long start_ticks = 0;
};

std::optional<PidRecord> parse_pid_record(const std::string& text);

// The exit record as an event: kExited, or kStartFailed for "exec_error=".
// nullopt when the text is not a record (no outcome, malformed pair).
std::optional<ExecEvent> parse_exit_record(const std::string& task_id, const std::string& text);

// The task id a run-directory file belongs to ("a.1.pid" -> "a.1"), or
// nullopt for names that are not records or their temporaries.
std::optional<std::string> task_of_record_file(const std::string& file_name);

// The start time of a live (not zombie) process in clock ticks since boot,
// from /proc/<pid>/stat, or nullopt.
std::optional<unsigned long long> process_start_ticks(pid_t pid);

std::optional<std::string> read_small_file(const std::string& path);

// Creates `path` (in directory `dir`) holding `text`, exclusively and
// complete, as the shim does. Returns 0 or an errno value (EEXIST: it exists).
int create_exclusive(const std::string& dir, const std::string& path, const std::string& text);

}  // namespace helix::workers
