// Text views of AWS Batch responses: the jobs, queues and definitions
// tables and the `helix describe` page of one job. Times in local time
// (local_time.h). Pure but for the time zone.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/list_jobs.h"

namespace helix::cli {

// The name at the end of an ARN ("arn:...:job-queue/hpc" -> "hpc"), or the
// text itself when it has no '/'.
std::string name_of_arn(const std::string& arn_or_name);

// Columns JOB ID, NAME, STATUS, QUEUE, CREATED, STARTED, STOPPED, EXIT,
// REASON (cut to 40). QUEUE is left out when no row knows its queue. EXIT is
// container.exitCode; REASON is statusReason, else container.reason.
std::string render_jobs_table(const std::vector<ListedJob>& rows);

// DescribeJobQueues' jobQueues: NAME, STATE, STATUS, PRIORITY, COMPUTE
// ENVIRONMENTS (names in computeEnvironmentOrder order, comma separated).
std::string render_queues_table(const nlohmann::json& job_queues);

// DescribeJobDefinitions' jobDefinitions sorted by name then revision: NAME,
// REVISION, STATUS, TYPE.
std::string render_definitions_table(const nlohmann::json& job_definitions);

// The describe page of one DescribeJobs element: a header line with id and
// name, then status (and reason), queue, definition, times, one line per
// attempt, the array summary and the dependencies; each only when known.
std::string render_job_description(const nlohmann::json& job);

}  // namespace helix::cli
