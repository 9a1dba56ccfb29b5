#include "cli/resource_views.h"

#include <algorithm>

#include "cli/local_time.h"
#include "cli/table.h"

namespace helix::cli {

using nlohmann::json;

namespace {

std::string string_of(const json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump();
}

const json& member(const json& object, const std::string& key) {
  static const json empty = json::object();
  auto it = object.find(key);
  return it == object.end() || !it->is_object() ? empty : *it;
}

}  // namespace

std::string name_of_arn(const std::string& arn_or_name) {
  size_t slash = arn_or_name.rfind('/');
  return slash == std::string::npos ? arn_or_name : arn_or_name.substr(slash + 1);
}

std::string render_jobs_table(const std::vector<ListedJob>& rows) {
  bool any_queue =
      std::any_of(rows.begin(), rows.end(), [](const ListedJob& r) { return !r.queue.empty(); });
  std::vector<Column> columns = {{"JOB ID"}, {"NAME", 32}, {"STATUS"}};
  if (any_queue) columns.push_back({"QUEUE"});
  columns.insert(columns.end(), {{"CREATED"}, {"STARTED"}, {"STOPPED"}, {"EXIT"}, {"REASON", 40}});
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : rows) {
    const json& s = row.summary;
    const json& container = member(s, "container");
    std::vector<std::string> line = {string_of(s, "jobId"), string_of(s, "jobName"),
                                     string_of(s, "status")};
    if (any_queue) line.push_back(row.queue);
    std::string reason = string_of(s, "statusReason");
    if (reason.empty()) reason = string_of(container, "reason");
    line.insert(line.end(),
                {short_time_of(s, "createdAt"), short_time_of(s, "startedAt"),
                 short_time_of(s, "stoppedAt"), string_of(container, "exitCode"), reason});
    cells.push_back(std::move(line));
  }
  return render_table(columns, cells);
}

std::string render_queues_table(const json& job_queues) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& q : job_queues) {
    std::vector<std::pair<int64_t, std::string>> order;
    for (const auto& o : q.value("computeEnvironmentOrder", json::array()))
      order.emplace_back(o.value("order", int64_t{0}),
                         name_of_arn(o.value("computeEnvironment", "")));
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string ces;
    for (const auto& [n, name] : order) ces += (ces.empty() ? "" : ",") + name;
    cells.push_back({string_of(q, "jobQueueName"), string_of(q, "state"), string_of(q, "status"),
                     string_of(q, "priority"), ces});
  }
  return render_table({{"NAME"}, {"STATE"}, {"STATUS"}, {"PRIORITY"}, {"COMPUTE ENVIRONMENTS"}},
                      cells);
}

std::string render_definitions_table(const json& job_definitions) {
  std::vector<json> defs(job_definitions.begin(), job_definitions.end());
  std::stable_sort(defs.begin(), defs.end(), [](const json& a, const json& b) {
    return std::make_pair(a.value("jobDefinitionName", ""), a.value("revision", int64_t{0})) <
           std::make_pair(b.value("jobDefinitionName", ""), b.value("revision", int64_t{0}));
  });
  std::vector<std::vector<std::string>> cells;
  for (const auto& d : defs)
    cells.push_back({string_of(d, "jobDefinitionName"), string_of(d, "revision"),
                     string_of(d, "status"), string_of(d, "type")});
  return render_table({{"NAME"}, {"REVISION"}, {"STATUS"}, {"TYPE"}}, cells);
}

namespace {

std::string iso_time_of(const json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return "";
  return format_local_iso(it->get<int64_t>());
}

void add_line(std::string& out, const std::string& label, const std::string& value) {
  if (value.empty()) return;
  std::string padded = label + ":";
  padded.resize(std::max<size_t>(padded.size() + 1, 13), ' ');
  out += "  " + padded + value + "\n";
}

std::string attempt_line(const json& attempt) {
  const json& container = member(attempt, "container");
  std::vector<std::string> parts;
  if (container.contains("exitCode")) parts.push_back("exit " + string_of(container, "exitCode"));
  std::string reason = string_of(container, "reason");
  if (reason.empty()) reason = string_of(attempt, "statusReason");
  if (!reason.empty()) parts.push_back(reason);
  std::string started = iso_time_of(attempt, "startedAt");
  std::string stopped = iso_time_of(attempt, "stoppedAt");
  if (!started.empty() || !stopped.empty())
    parts.push_back(started + " -> " + (stopped.empty() ? std::string("...") : stopped));
  std::string log = string_of(container, "logStreamName");
  if (!log.empty()) parts.push_back("log " + log);
  std::string line;
  for (const auto& p : parts) line += (line.empty() ? "" : ", ") + p;
  return line.empty() ? "-" : line;
}

}  // namespace

std::string render_job_description(const json& job) {
  std::string out = "job " + string_of(job, "jobId");
  std::string name = string_of(job, "jobName");
  if (!name.empty()) out += "  " + name;
  out += "\n";
  std::string status = string_of(job, "status");
  std::string reason = string_of(job, "statusReason");
  add_line(out, "status", reason.empty() ? status : status + " (" + reason + ")");
  add_line(out, "queue", name_of_arn(string_of(job, "jobQueue")));
  add_line(out, "definition", name_of_arn(string_of(job, "jobDefinition")));
  add_line(out, "created", iso_time_of(job, "createdAt"));
  add_line(out, "started", iso_time_of(job, "startedAt"));
  add_line(out, "stopped", iso_time_of(job, "stoppedAt"));
  const json attempts = job.value("attempts", json::array());
  for (size_t i = 0; i < attempts.size(); ++i)
    add_line(out, "attempt " + std::to_string(i + 1), attempt_line(attempts[i]));
  const json& array = member(job, "arrayProperties");
  if (array.contains("size")) {
    std::string summary = "size " + string_of(array, "size");
    const json& counts = member(array, "statusSummary");
    std::string listed;
    for (const auto& s : job_statuses()) {
      auto it = counts.find(s);
      if (it != counts.end() && it->is_number_integer() && it->get<int64_t>() > 0)
        listed += (listed.empty() ? "" : ", ") + s + " " + it->dump();
    }
    if (!listed.empty()) summary += ": " + listed;
    add_line(out, "array", summary);
  } else if (array.contains("index")) {
    add_line(out, "array index", string_of(array, "index"));
  }
  std::string deps;
  for (const auto& d : job.value("dependsOn", json::array())) {
    std::string dep = string_of(d, "jobId");
    if (std::string type = string_of(d, "type"); !type.empty()) dep += " (" + type + ")";
    deps += (deps.empty() ? "" : ", ") + dep;
  }
  add_line(out, "depends on", deps);
  return out;
}

}  // namespace helix::cli
