// `helix jobs`: the AWS ListJobs requests (POST /v1/listjobs) its flags
// stand for, and the client-side filtering that ListJobs cannot express.
//
// AWS ListJobs quirks this file absorbs (docs/batch-semantics.md):
// - a request names exactly one of jobQueue and arrayJobId, so without
//   --queue the CLI asks each queue in turn (DescribeJobQueues);
// - with no jobStatus and no filter AWS answers RUNNING jobs only, so
//   "every status" is asked as the filter AFTER_CREATED_AT 0;
// - filters do not apply to array children, so an array job without
//   --status is asked once per status;
// - a filter makes AWS ignore jobStatus and helixd takes one filter at a
//   time, so --name with --status sends the JOB_NAME filter and keeps the
//   status client side; JOB_NAME matches a trailing '*' only, so the full
//   glob is also applied client side.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace helix::cli {

struct JobsOptions {
  std::optional<std::string> queue;
  std::optional<std::string> status;  // SUBMITTED ... FAILED, any case
  std::optional<std::string> array_job_id;
  std::optional<std::string> name_glob;  // '*' and '?' wildcards
  std::optional<int64_t> limit;          // most recent N rows; none: all
};

// The seven AWS job statuses, in lifecycle order.
const std::vector<std::string>& job_statuses();

// The ListJobs bodies for one queue (or for the array job when
// options.array_job_id is set, and then `queue` is ignored), without
// nextToken. InvalidInput naming "--status" for an unknown status and
// "--limit" for a limit below 1.
//   {queue: hpc} -> [{"jobQueue":"hpc","filters":[{"name":"AFTER_CREATED_AT","values":["0"]}]}]
//   {queue: hpc, status: failed} -> [{"jobQueue":"hpc","jobStatus":"FAILED"}]
//   {queue: hpc, name: "align*"} ->
//   [{"jobQueue":"hpc","filters":[{"name":"JOB_NAME","values":["align*"]}]}] {array: A} ->
//   [{"arrayJobId":"A","jobStatus":"SUBMITTED"}, ... one per status]
Result<std::vector<nlohmann::json>> list_jobs_requests(const JobsOptions& options,
                                                       const std::string& queue);

// Shell-style match: '*' any run of characters, '?' one character.
bool glob_matches(const std::string& pattern, const std::string& text);

// Whether a jobSummaryList element passes the client-side part of the
// filters (status and the whole name glob).
bool summary_matches(const JobsOptions& options, const nlohmann::json& summary);

// One row of the jobs table: a ListJobs summary and the queue it was listed
// from (empty when listed by array job id, where it is not known).
struct ListedJob {
  nlohmann::json summary;
  std::string queue;
};

// Orders rows by createdAt, then job id, and keeps the `limit` most recent.
std::vector<ListedJob> order_and_limit(std::vector<ListedJob> rows, std::optional<int64_t> limit);

}  // namespace helix::cli
