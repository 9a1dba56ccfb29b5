// The seven AWS Batch job states ("Job states"): there is no CANCELLED; a
// cancelled or terminated job is FAILED with isCancelled / isTerminated.
#pragma once

#include <array>
#include <optional>
#include <string>

namespace helix::queues {

enum class JobStatus {
  kSubmitted,
  kPending,
  kRunnable,
  kStarting,
  kRunning,
  kSucceeded,
  kFailed,
};

inline constexpr std::array<JobStatus, 7> kAllJobStatuses = {
    JobStatus::kSubmitted, JobStatus::kPending,   JobStatus::kRunnable, JobStatus::kStarting,
    JobStatus::kRunning,   JobStatus::kSucceeded, JobStatus::kFailed};

// "SUBMITTED", ... as on the wire.
const char* job_status_name(JobStatus status);
std::optional<JobStatus> parse_job_status(const std::string& name);

inline bool is_terminal(JobStatus s) {
  return s == JobStatus::kSucceeded || s == JobStatus::kFailed;
}
// STARTING or RUNNING: an attempt holds resources on a node.
inline bool is_active_attempt(JobStatus s) {
  return s == JobStatus::kStarting || s == JobStatus::kRunning;
}

}  // namespace helix::queues
