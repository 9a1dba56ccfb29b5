#include "queues/job_status.h"

namespace helix::queues {

const char* job_status_name(JobStatus status) {
  switch (status) {
    case JobStatus::kSubmitted:
      return "SUBMITTED";
    case JobStatus::kPending:
      return "PENDING";
    case JobStatus::kRunnable:
      return "RUNNABLE";
    case JobStatus::kStarting:
      return "STARTING";
    case JobStatus::kRunning:
      return "RUNNING";
    case JobStatus::kSucceeded:
      return "SUCCEEDED";
    case JobStatus::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

std::optional<JobStatus> parse_job_status(const std::string& name) {
  for (JobStatus s : kAllJobStatuses) {
    if (name == job_status_name(s)) return s;
  }
  return std::nullopt;
}

}  // namespace helix::queues
