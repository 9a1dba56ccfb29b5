#include "cli/list_jobs.h"

#include <algorithm>
#include <cctype>

namespace helix::cli {

using nlohmann::json;

const std::vector<std::string>& job_statuses() {
  static const std::vector<std::string> statuses = {
      "SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"};
  return statuses;
}

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<std::vector<json>> list_jobs_requests(const JobsOptions& options, const std::string& queue) {
  Problems problems;
  std::optional<std::string> status;
  if (options.status) {
    status = upper(*options.status);
    const auto& all = job_statuses();
    if (std::find(all.begin(), all.end(), *status) == all.end()) {
      std::string list;
      for (const auto& s : all) list += (list.empty() ? "" : ", ") + s;
      problems.add("--status", "\"" + *options.status + "\" is not a job status (" + list + ")");
    }
  }
  if (options.limit && *options.limit < 1)
    problems.add("--limit", std::to_string(*options.limit) + " is below the minimum of 1");
  if (!problems.empty()) return fail(problems.to_error());

  if (options.array_job_id) {
    std::vector<json> bodies;
    for (const auto& s : status ? std::vector<std::string>{*status} : job_statuses())
      bodies.push_back({{"arrayJobId", *options.array_job_id}, {"jobStatus", s}});
    return bodies;
  }
  json body = {{"jobQueue", queue}};
  if (options.name_glob) {
    body["filters"] = json::array({{{"name", "JOB_NAME"}, {"values", {*options.name_glob}}}});
  } else if (status) {
    body["jobStatus"] = *status;
  } else {
    body["filters"] = json::array({{{"name", "AFTER_CREATED_AT"}, {"values", {"0"}}}});
  }
  return std::vector<json>{body};
}

bool glob_matches(const std::string& pattern, const std::string& text) {
  // Iterative matcher: on a mismatch, retry from the last '*' one character
  // further into the text. Linear in practice, no recursion.
  size_t p = 0, t = 0, star = std::string::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool summary_matches(const JobsOptions& options, const json& summary) {
  if (options.status && summary.value("status", "") != upper(*options.status)) return false;
  if (options.name_glob && !glob_matches(*options.name_glob, summary.value("jobName", "")))
    return false;
  return true;
}

std::vector<ListedJob> order_and_limit(std::vector<ListedJob> rows, std::optional<int64_t> limit) {
  auto key = [](const ListedJob& row) {
    return std::make_pair(row.summary.value("createdAt", int64_t{0}),
                          row.summary.value("jobId", std::string()));
  };
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const ListedJob& a, const ListedJob& b) { return key(a) < key(b); });
  if (limit && *limit >= 0 && rows.size() > static_cast<size_t>(*limit))
    rows.erase(rows.begin(), rows.end() - *limit);
  return rows;
}

}  // namespace helix::cli
