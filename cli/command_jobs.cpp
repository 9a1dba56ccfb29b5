// helix submit, jobs, describe, logs, cancel/terminate and wait.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "cli/job_outcome.h"
#include "cli/resource_views.h"
#include "protocol/percent_encoding.h"

namespace helix::cli {

using nlohmann::json;
using std::chrono::steady_clock;

namespace {

void print_json(const CommandContext& ctx, const json& value) { ctx.out << value.dump(2) << "\n"; }

// "/helix/v1/jobs/<id>/<what>", the id as one encoded path segment (an array
// child's id holds a ':').
std::string job_path(const std::string& job_id, const std::string& what) {
  return "/helix/v1/jobs/" + protocol::uri_encode(job_id, false) + "/" + what;
}

Result<json> describe_one(const ApiClient& client, const std::string& job_id) {
  auto reply = client.batch("describejobs", {{"jobs", {job_id}}});
  if (!reply) return fail(reply.error());
  for (const auto& job : reply->value("jobs", json::array()))
    if (job.value("jobId", "") == job_id) return job;
  return fail(Error::not_found("job " + job_id + " does not exist"));
}

}  // namespace

int run_submit(const CommandContext& ctx, const SubmitOptions& options, bool wait) {
  auto request = build_submit_request(options);
  if (!request) return report(ctx, request.error(), /*usage=*/true);
  auto reply = ctx.client.batch("submitjob", *request);
  if (!reply) return report(ctx, reply.error());
  std::string job_id = reply->value("jobId", "");
  if (!wait) {
    if (ctx.output == OutputFormat::kJson) {
      print_json(ctx, *reply);
    } else {
      ctx.out << job_id << "\n";
    }
    return 0;
  }
  // With --wait, json output is wait's (the final job, which carries the id).
  if (ctx.output == OutputFormat::kText) ctx.out << job_id << std::endl;
  return run_wait(ctx, {job_id}, std::nullopt);
}

int run_jobs(const CommandContext& ctx, const JobsOptions& options) {
  if (auto check = list_jobs_requests(options, ""); !check)
    return report(ctx, check.error(), /*usage=*/true);
  std::vector<std::string> queues;
  if (options.array_job_id) {
    queues.push_back("");
  } else if (options.queue) {
    queues.push_back(*options.queue);
  } else {
    auto all = fetch_all_pages(ctx.client, "describejobqueues", json::object(), "jobQueues");
    if (!all) return report(ctx, all.error());
    for (const auto& q : *all) queues.push_back(q.value("jobQueueName", ""));
  }
  std::vector<ListedJob> rows;
  std::set<std::string> seen;  // an array job asked status by status never repeats, but be sure
  for (const auto& queue : queues) {
    auto requests = list_jobs_requests(options, queue);
    for (const auto& request : *requests) {
      auto page = fetch_all_pages(ctx.client, "listjobs", request, "jobSummaryList");
      if (!page) return report(ctx, page.error());
      for (auto& summary : *page) {
        if (!summary_matches(options, summary)) continue;
        if (!seen.insert(summary.value("jobId", "")).second) continue;
        rows.push_back({std::move(summary), queue});
      }
    }
  }
  rows = order_and_limit(std::move(rows), options.limit);
  if (ctx.output == OutputFormat::kJson) {
    json list = json::array();
    for (const auto& row : rows) list.push_back(row.summary);
    print_json(ctx, {{"jobSummaryList", list}});
  } else {
    ctx.out << render_jobs_table(rows);
  }
  return 0;
}

int run_describe(const CommandContext& ctx, const std::vector<std::string>& job_ids) {
  json jobs = json::array();
  // DescribeJobs takes at most 100 ids.
  for (size_t i = 0; i < job_ids.size(); i += 100) {
    std::vector<std::string> chunk(
        job_ids.begin() + static_cast<std::ptrdiff_t>(i),
        job_ids.begin() + static_cast<std::ptrdiff_t>(std::min(i + 100, job_ids.size())));
    auto reply = ctx.client.batch("describejobs", {{"jobs", chunk}});
    if (!reply) return report(ctx, reply.error());
    for (auto& job : reply->value("jobs", json::array())) jobs.push_back(std::move(job));
  }
  if (ctx.output == OutputFormat::kJson) {
    print_json(ctx, jobs);
  } else {
    for (size_t i = 0; i < jobs.size(); ++i)
      ctx.out << (i ? "\n" : "") << render_job_description(jobs[i]);
  }
  std::set<std::string> found;
  for (const auto& job : jobs) found.insert(job.value("jobId", ""));
  int status = 0;
  for (const auto& id : job_ids)
    if (!found.count(id)) status = report(ctx, Error::not_found("job " + id + " does not exist"));
  return status;
}

namespace {

constexpr auto kLogPoll = std::chrono::milliseconds(200);

// The attempt after `after` (the latest when `after` is 0), once the job
// has it; 0 when the job ended without another; -1 after reporting an
// error. Attempts are numbered without gaps, so one that came and went
// between two polls is still printed.
int next_attempt(const CommandContext& ctx, const std::string& job_id, int after) {
  for (;;) {
    auto job = describe_one(ctx.client, job_id);
    if (!job) {
      report(ctx, job.error());
      return -1;
    }
    const int latest = latest_attempt_number(*job);
    if (latest > after) return after == 0 ? latest : after + 1;
    if (is_final_status(job->value("status", ""))) return 0;
    std::this_thread::sleep_for(kLogPoll);
  }
}

// Prints attempt `attempt`'s log (0: the latest) from its start; with
// `follow`, until the attempt has ended and its log is read to the end.
int print_attempt_log(const CommandContext& ctx, const std::string& job_id, int attempt,
                      bool follow) {
  int64_t offset = 0;
  for (;;) {
    std::string query = attempt > 0 ? "attempt=" + std::to_string(attempt) + "&" : "";
    query += "offset=" + std::to_string(offset);
    auto reply = ctx.client.send("GET", job_path(job_id, "log"), query, "");
    if (!reply) return report(ctx, reply.error());
    if (reply->status == 404 && follow) {
      // The attempt helixd named a moment ago may not have a log yet.
      std::this_thread::sleep_for(kLogPoll);
      continue;
    }
    if (reply->status != 200) return report(ctx, error_from_reply(*reply));
    ctx.out << reply->body << std::flush;
    int64_t next = offset + static_cast<int64_t>(reply->body.size());
    if (auto header = reply->header("x-helix-next-offset")) {
      try {
        next = std::stoll(*header);
      } catch (const std::exception&) {
        return report(ctx, Error::corruption("helixd sent x-helix-next-offset \"" + *header +
                                             "\", not a number"));
      }
    }
    // Final: the attempt has ended and this reply reached the end of its log.
    if (reply->header("x-helix-log-final").value_or("") == "true") return 0;
    bool progressed = next != offset;
    offset = next;
    if (!progressed) {
      if (!follow) return 0;
      std::this_thread::sleep_for(kLogPoll);
    }
  }
}

}  // namespace

int run_logs(const CommandContext& ctx, const std::string& job_id, int attempt, bool follow) {
  if (!follow || attempt > 0) return print_attempt_log(ctx, job_id, attempt, follow);
  // Following without --attempt: every attempt in turn, retries included.
  // Each is pinned by number, so a retry starting while we read does not
  // splice another attempt's log in at the old offset.
  attempt = next_attempt(ctx, job_id, 0);
  if (attempt < 0) return 1;
  if (attempt == 0) {
    auto job = describe_one(ctx.client, job_id);
    if (!job) return report(ctx, job.error());
    return report(ctx, Error::not_found("job " + job_id + " ended without running: " +
                                        job->value("statusReason", "no reason given")));
  }
  for (;;) {
    if (int status = print_attempt_log(ctx, job_id, attempt, true); status != 0) return status;
    const int next = next_attempt(ctx, job_id, attempt);
    if (next <= 0) return next < 0 ? 1 : 0;
    ctx.err << "helix: job " << job_id << " is retried: attempt " << next << "\n" << std::flush;
    attempt = next;
  }
}

int run_cancel(const CommandContext& ctx, const std::string& job_id, const std::string& reason,
               bool terminate) {
  auto reply = ctx.client.batch(terminate ? "terminatejob" : "canceljob",
                                {{"jobId", job_id}, {"reason", reason}});
  if (!reply) return report(ctx, reply.error());
  if (ctx.output == OutputFormat::kJson) {
    print_json(ctx, *reply);
  } else {
    ctx.out << job_id << ": " << (terminate ? "terminate" : "cancel") << " requested\n";
  }
  return 0;
}

int run_wait(const CommandContext& ctx, const std::vector<std::string>& job_ids,
             std::optional<int64_t> timeout_seconds) {
  constexpr int64_t kServerCap = 30;  // helixd answers within 30 s at the latest
  std::optional<steady_clock::time_point> deadline;
  if (timeout_seconds) deadline = steady_clock::now() + std::chrono::seconds(*timeout_seconds);
  std::vector<json> finished;
  for (const auto& id : job_ids) {
    for (;;) {
      int64_t poll = kServerCap;
      if (deadline) {
        auto left = std::chrono::ceil<std::chrono::seconds>(*deadline - steady_clock::now());
        poll = std::clamp<int64_t>(left.count(), 0, kServerCap);
      }
      auto job = ctx.client.get_json(job_path(id, "wait"), "timeoutSeconds=" + std::to_string(poll),
                                     std::chrono::seconds(poll + 30));
      if (!job) return report(ctx, job.error());
      std::string status = job->value("status", "");
      if (is_final_status(status)) {
        if (ctx.output == OutputFormat::kText) ctx.out << wait_line(*job) << std::endl;
        finished.push_back(std::move(*job));
        break;
      }
      if (deadline && steady_clock::now() >= *deadline)
        return report(ctx, Error::unavailable("gave up after " + std::to_string(*timeout_seconds) +
                                              " s waiting for job " + id + " (" + status + ")"));
    }
  }
  if (ctx.output == OutputFormat::kJson) print_json(ctx, json(finished));
  return wait_exit_code(finished);
}

}  // namespace helix::cli
