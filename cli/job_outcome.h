// What `helix wait` and `helix logs` read from a job's DescribeJobs element:
// whether it has ended, the line to print, the exit code to leave with, and
// which attempt's log to follow. Pure.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace helix::cli {

// SUCCEEDED or FAILED: the job will not change again.
bool is_final_status(const std::string& status);

// "<id> SUCCEEDED", "<id> FAILED: <statusReason>" ("FAILED" alone without a
// reason), or "<id> <STATUS>" for a job that has not ended.
std::string wait_line(const nlohmann::json& job);

// 0 when every job SUCCEEDED. Otherwise the first failed job's (in the
// order given) last attempt's container.exitCode when it is 1..255, else 1
// (no attempt, killed by a signal, cancelled before it ran, not ended).
// Example: [SUCCEEDED, FAILED attempts exit 137 then 3, FAILED exit 2] -> 3.
int wait_exit_code(const std::vector<nlohmann::json>& jobs);

// The number of the job's latest attempt (1-based), the running one
// included: helix's "helix.attempt" extension while one runs, else the
// count of ended attempts; 0 when none has started.
int latest_attempt_number(const nlohmann::json& job);

}  // namespace helix::cli
