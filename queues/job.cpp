#include "queues/job.h"

namespace helix::queues {

using nlohmann::json;

std::optional<TimePoint> Job::started_at() const {
  if (current && current->started_at) return current->started_at;
  if (!attempts.empty()) return attempts.back().started_at;
  return std::nullopt;
}

std::optional<TimePoint> Job::stopped_at() const {
  if (current) return std::nullopt;
  if (!attempts.empty()) return attempts.back().stopped_at;
  return std::nullopt;
}

const char* dependency_type_name(DependencyType type) {
  switch (type) {
    case DependencyType::kPlain:
      return "";
    case DependencyType::kNToN:
      return "N_TO_N";
    case DependencyType::kSequential:
      return "SEQUENTIAL";
  }
  return "";
}

namespace {

// Times are stored as epoch microseconds, sent as epoch milliseconds.
void put_time(json& j, const char* key, const std::optional<TimePoint>& t) {
  if (t) j[key] = to_epoch_us(*t);
}
std::optional<TimePoint> get_time(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return from_epoch_us(j[key].get<int64_t>());
}
template <class T>
void put_opt(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
template <class T>
std::optional<T> get_opt(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return j[key].get<T>();
}

json attempt_to_store(const Attempt& a) {
  json j = {{"number", a.number},
            {"taskId", a.task_id},
            {"node", a.node},
            {"cpus", a.cpus},
            {"numaNodes", a.numa_nodes},
            {"gpus", a.gpus},
            {"nodes", a.nodes},
            {"nodeCpus", a.node_cpus},
            {"ce", a.compute_environment},
            {"logStream", a.log_stream},
            {"logPath", a.log_path},
            {"reason", a.reason},
            {"statusReason", a.status_reason},
            {"userSeconds", a.user_seconds},
            {"systemSeconds", a.system_seconds},
            {"maxRssKib", a.max_rss_kib},
            {"timedOut", a.timed_out}};
  put_time(j, "startedAt", a.started_at);
  put_time(j, "stoppedAt", a.stopped_at);
  put_time(j, "killAt", a.kill_at);
  put_opt(j, "exitCode", a.exit_code);
  return j;
}

Attempt attempt_from_store(const json& j) {
  Attempt a;
  a.number = j.at("number").get<int>();
  a.task_id = j.at("taskId").get<std::string>();
  a.node = j.value("node", "");
  a.cpus = j.value("cpus", std::vector<int>{});
  a.numa_nodes = j.value("numaNodes", std::vector<int>{});
  a.gpus = j.value("gpus", std::vector<int>{});
  a.nodes = j.value("nodes", std::vector<std::string>{});
  a.node_cpus = j.value("nodeCpus", std::vector<std::vector<int>>{});
  a.compute_environment = j.value("ce", "");
  a.log_stream = j.value("logStream", "");
  a.log_path = j.value("logPath", "");
  a.reason = j.value("reason", "");
  a.status_reason = j.value("statusReason", "");
  a.user_seconds = j.value("userSeconds", 0.0);
  a.system_seconds = j.value("systemSeconds", 0.0);
  a.max_rss_kib = j.value("maxRssKib", int64_t{0});
  a.timed_out = j.value("timedOut", false);
  a.started_at = get_time(j, "startedAt");
  a.stopped_at = get_time(j, "stoppedAt");
  a.kill_at = get_time(j, "killAt");
  a.exit_code = get_opt<int>(j, "exitCode");
  return a;
}

json dependencies_to_wire(const std::vector<Dependency>& deps) {
  json out = json::array();
  for (const auto& d : deps) {
    json e;
    if (!d.job_id.empty()) e["jobId"] = d.job_id;
    if (d.type != DependencyType::kPlain) e["type"] = dependency_type_name(d.type);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Dependency> dependencies_from_store(const json& array) {
  std::vector<Dependency> out;
  for (const auto& e : array) {
    Dependency d;
    d.job_id = e.value("jobId", "");
    std::string type = e.value("type", "");
    d.type = type == "N_TO_N"       ? DependencyType::kNToN
             : type == "SEQUENTIAL" ? DependencyType::kSequential
                                    : DependencyType::kPlain;
    out.push_back(std::move(d));
  }
  return out;
}

json container_to_store(const ContainerSpec& c) {
  json j = {{"command", c.command},
            {"environment", environment_to_wire(c.environment)},
            {"resourceRequirements", resource_requirements_to_wire(c.resources)}};
  put_opt(j, "user", c.user);
  container_image_to_wire(c, j);
  return j;
}

}  // namespace

json job_to_store(const Job& job) {
  json j;
  j["id"] = job.id;
  j["name"] = job.name;
  j["queue"] = job.queue;
  j["definitionName"] = job.definition_name;
  j["definitionRevision"] = job.definition_revision;
  j["owner"] = {{"uid", job.owner.uid}, {"gid", job.owner.gid}, {"user", job.owner.user}};
  put_opt(j, "runAsUser", job.run_as_user);
  j["status"] = job_status_name(job.status);
  j["statusReason"] = job.status_reason;
  j["createdAt"] = to_epoch_us(job.created_at);
  j["container"] = container_to_store(job.container);
  j["resources"] = resource_request_to_wire(job.resources);
  if (job.is_multinode()) {
    json nodes = json::array();
    for (const auto& c : job.node_containers) nodes.push_back(container_to_store(c));
    j["nodeContainers"] = nodes;
    j["mainNode"] = job.main_node;
  }
  j["parameters"] = job.parameters;
  j["retryStrategy"] = retry_strategy_to_wire(job.retry_strategy);
  put_opt(j, "timeoutSeconds", job.timeout_seconds);
  j["tags"] = job.tags;
  j["propagateTags"] = job.propagate_tags;
  put_opt(j, "schedulingPriority", job.scheduling_priority);
  put_opt(j, "shareIdentifier", job.share_identifier);
  j["dependsOn"] = dependencies_to_wire(job.depends_on);
  j["waitFor"] = job.wait_for;
  put_opt(j, "arraySize", job.array_size);
  put_opt(j, "arrayIndex", job.array_index);
  if (!job.parent_id.empty()) j["parentId"] = job.parent_id;
  if (job.is_array_parent()) j["childCounts"] = job.child_counts;
  put_time(j, "childCountsUpdatedAt", job.child_counts_updated_at);
  j["attempts"] = json::array();
  for (const auto& a : job.attempts) j["attempts"].push_back(attempt_to_store(a));
  if (job.current) j["current"] = attempt_to_store(*job.current);
  j["isCancelled"] = job.is_cancelled;
  j["isTerminated"] = job.is_terminated;
  put_opt(j, "terminateReason", job.terminate_reason);
  j["warnings"] = job.warnings;
  j["sequence"] = job.sequence;
  j["launches"] = job.launches;
  put_time(j, "waitingSince", job.waiting_since);
  put_time(j, "cancelWaitingAt", job.cancel_waiting_at);
  return j;
}

Result<Job> job_from_store(const json& j) {
  try {
    Job job;
    job.id = j.at("id").get<std::string>();
    job.name = j.at("name").get<std::string>();
    job.queue = j.at("queue").get<std::string>();
    job.definition_name = j.at("definitionName").get<std::string>();
    job.definition_revision = j.at("definitionRevision").get<int>();
    const json& o = j.at("owner");
    job.owner = {o.at("uid").get<uint32_t>(), o.value("gid", 0u), o.value("user", "")};
    job.run_as_user = get_opt<std::string>(j, "runAsUser");
    auto status = parse_job_status(j.at("status").get<std::string>());
    if (!status) return fail(Error::corruption("job " + job.id + " has an unknown status"));
    job.status = *status;
    job.status_reason = j.value("statusReason", "");
    job.created_at = from_epoch_us(j.at("createdAt").get<int64_t>());
    Problems problems;
    job.container = parse_container_spec(j.at("container"), "container", false, problems);
    if (!problems.empty())
      return fail(Error::corruption("job " + job.id + " container", problems.to_error().message()));
    const json& r = j.at("resources");
    for (const auto& e : r) {
      int64_t v = std::stoll(e.at("value").get<std::string>());
      std::string type = e.at("type").get<std::string>();
      if (type == "VCPU") job.resources.vcpus = v;
      if (type == "MEMORY") job.resources.memory_mib = v;
      if (type == "GPU") job.resources.gpus = v;
    }
    if (j.contains("nodeContainers")) {
      for (const auto& c : j["nodeContainers"]) {
        job.node_containers.push_back(parse_container_spec(c, "nodeContainers", false, problems));
        const auto& rr = job.node_containers.back().resources;
        job.node_resources.push_back(
            {rr.vcpus.value_or(1), rr.memory_mib.value_or(0), rr.gpus.value_or(0)});
      }
      job.main_node = j.value("mainNode", 0);
      if (!problems.empty())
        return fail(
            Error::corruption("job " + job.id + " node containers", problems.to_error().message()));
    }
    job.parameters = j.value("parameters", std::map<std::string, std::string>{});
    Limits lenient;
    job.retry_strategy =
        parse_retry_strategy(j.at("retryStrategy"), "retryStrategy", lenient, problems);
    job.timeout_seconds = get_opt<int64_t>(j, "timeoutSeconds");
    job.tags = j.value("tags", std::map<std::string, std::string>{});
    job.propagate_tags = j.value("propagateTags", false);
    job.scheduling_priority = get_opt<int64_t>(j, "schedulingPriority");
    job.share_identifier = get_opt<std::string>(j, "shareIdentifier");
    job.depends_on = dependencies_from_store(j.value("dependsOn", json::array()));
    job.wait_for = j.value("waitFor", std::vector<std::string>{});
    job.array_size = get_opt<int>(j, "arraySize");
    job.array_index = get_opt<int>(j, "arrayIndex");
    job.parent_id = j.value("parentId", "");
    if (j.contains("childCounts")) job.child_counts = j["childCounts"].get<std::array<int, 7>>();
    job.child_counts_updated_at = get_time(j, "childCountsUpdatedAt");
    for (const auto& a : j.value("attempts", json::array()))
      job.attempts.push_back(attempt_from_store(a));
    if (j.contains("current")) job.current = attempt_from_store(j["current"]);
    job.is_cancelled = j.value("isCancelled", false);
    job.is_terminated = j.value("isTerminated", false);
    job.terminate_reason = get_opt<std::string>(j, "terminateReason");
    job.warnings = j.value("warnings", std::vector<std::string>{});
    job.sequence = j.value("sequence", uint64_t{0});
    job.launches = j.value("launches", 0);
    job.waiting_since = get_time(j, "waitingSince");
    job.cancel_waiting_at = get_time(j, "cancelWaitingAt");
    return job;
  } catch (const json::exception& e) {
    return fail(Error::corruption("stored job does not parse", e.what()));
  }
}

namespace {

json attempt_to_wire(const Attempt& a) {
  json container = {{"logStreamName", a.log_stream}, {"networkInterfaces", json::array()}};
  if (a.exit_code) container["exitCode"] = *a.exit_code;
  if (!a.reason.empty()) container["reason"] = a.reason;
  json j = {{"container", container}, {"statusReason", a.status_reason}};
  if (a.started_at) j["startedAt"] = to_epoch_ms(*a.started_at);
  if (a.stopped_at) j["stoppedAt"] = to_epoch_ms(*a.stopped_at);
  return j;
}

json array_properties(const Job& job) {
  if (job.array_index) return {{"index", *job.array_index}};
  json summary = json::object();
  for (size_t i = 0; i < kAllJobStatuses.size(); ++i)
    summary[job_status_name(kAllJobStatuses[i])] = job.child_counts[i];
  json j = {{"size", *job.array_size}, {"statusSummary", summary}};
  if (job.child_counts_updated_at)
    j["statusSummaryLastUpdatedAt"] = to_epoch_ms(*job.child_counts_updated_at);
  return j;
}

}  // namespace

json job_to_detail(const Job& job, const ArnFormat& arns) {
  json j;
  j["jobArn"] = arns.job(job.id);
  j["jobName"] = job.name;
  j["jobId"] = job.id;
  j["jobQueue"] = arns.job_queue(job.queue);
  j["status"] = job_status_name(job.status);
  if (!job.status_reason.empty()) j["statusReason"] = job.status_reason;
  j["createdAt"] = to_epoch_ms(job.created_at);
  if (auto t = job.started_at()) j["startedAt"] = to_epoch_ms(*t);
  if (auto t = job.stopped_at()) j["stoppedAt"] = to_epoch_ms(*t);
  j["jobDefinition"] = arns.job_definition(job.definition_name, job.definition_revision);
  j["parameters"] = job.parameters;
  j["dependsOn"] = dependencies_to_wire(job.depends_on);
  j["retryStrategy"] = retry_strategy_to_wire(job.retry_strategy);
  if (job.timeout_seconds) j["timeout"] = {{"attemptDurationSeconds", *job.timeout_seconds}};
  j["tags"] = job.tags;
  j["propagateTags"] = job.propagate_tags;
  j["platformCapabilities"] = json::array({"EC2"});
  if (job.scheduling_priority) j["schedulingPriority"] = *job.scheduling_priority;
  if (job.share_identifier) j["shareIdentifier"] = *job.share_identifier;
  j["isCancelled"] = job.is_cancelled;
  j["isTerminated"] = job.is_terminated;
  j["attempts"] = json::array();
  for (const auto& a : job.attempts) j["attempts"].push_back(attempt_to_wire(a));
  if (job.is_array_parent() || job.array_index) j["arrayProperties"] = array_properties(job);
  if (job.is_multinode())
    j["nodeProperties"] = {{"numNodes", job.node_containers.size()},
                           {"mainNode", job.main_node},
                           {"isMainNode", true},
                           {"nodeIndex", job.main_node}};
  if (!job.is_array_parent()) {
    json c = container_to_store(job.container);
    c["resourceRequirements"] = resource_request_to_wire(job.resources);
    c["networkInterfaces"] = json::array();
    const Attempt* latest = job.current            ? &*job.current
                            : job.attempts.empty() ? nullptr
                                                   : &job.attempts.back();
    if (latest) {
      c["logStreamName"] = latest->log_stream;
      if (latest->exit_code) c["exitCode"] = *latest->exit_code;
      if (!latest->reason.empty()) c["reason"] = latest->reason;
    }
    j["container"] = std::move(c);
  }
  // helix extensions (the aws CLI and boto3 drop unknown members).
  json helix = {{"owner", job.owner.user},
                {"ownerUid", job.owner.uid},
                {"createdAtMicros", to_epoch_us(job.created_at)}};
  if (auto t = job.started_at()) helix["startedAtMicros"] = to_epoch_us(*t);
  if (job.current) {
    helix["node"] = job.current->node;
    helix["cpus"] = job.current->cpus;
    helix["numaNodes"] = job.current->numa_nodes;
    helix["gpus"] = job.current->gpus;
    if (!job.current->nodes.empty()) helix["nodes"] = job.current->nodes;
    helix["logPath"] = job.current->log_path;
    helix["attempt"] = job.current->number;
  } else if (!job.attempts.empty()) {
    helix["node"] = job.attempts.back().node;
    helix["cpus"] = job.attempts.back().cpus;
    helix["numaNodes"] = job.attempts.back().numa_nodes;
    helix["gpus"] = job.attempts.back().gpus;
    if (!job.attempts.back().nodes.empty()) helix["nodes"] = job.attempts.back().nodes;
    helix["logPath"] = job.attempts.back().log_path;
  }
  if (!job.warnings.empty()) helix["warnings"] = job.warnings;
  if (!job.attempts.empty()) {
    json usage = json::array();
    for (const auto& a : job.attempts)
      usage.push_back({{"userSeconds", a.user_seconds},
                       {"systemSeconds", a.system_seconds},
                       {"maxRssKiB", a.max_rss_kib}});
    helix["attemptUsage"] = std::move(usage);
  }
  j["helix"] = std::move(helix);
  return j;
}

json job_to_summary(const Job& job, const ArnFormat& arns) {
  json j;
  j["jobArn"] = arns.job(job.id);
  j["jobId"] = job.id;
  j["jobName"] = job.name;
  j["createdAt"] = to_epoch_ms(job.created_at);
  j["status"] = job_status_name(job.status);
  if (!job.status_reason.empty()) j["statusReason"] = job.status_reason;
  if (auto t = job.started_at()) j["startedAt"] = to_epoch_ms(*t);
  if (auto t = job.stopped_at()) j["stoppedAt"] = to_epoch_ms(*t);
  const Attempt* latest = job.attempts.empty() ? nullptr : &job.attempts.back();
  if (latest && !job.current) {
    json c = json::object();
    if (latest->exit_code) c["exitCode"] = *latest->exit_code;
    if (!latest->reason.empty()) c["reason"] = latest->reason;
    j["container"] = c;
  }
  if (job.array_size) j["arrayProperties"] = {{"size", *job.array_size}};
  if (job.array_index) j["arrayProperties"] = {{"index", *job.array_index}};
  j["jobDefinition"] = arns.job_definition(job.definition_name, job.definition_revision);
  if (job.share_identifier) j["shareIdentifier"] = *job.share_identifier;
  return j;
}

}  // namespace helix::queues
