#include "queues/submit.h"

#include <charconv>

#include "common/json_reader.h"
#include "queues/common_fields.h"
#include "queues/ids.h"

namespace helix::queues {

using nlohmann::json;

Result<DefinitionRef> parse_definition_ref(const std::string& text) {
  std::string ref = name_from_arn_or_name(text, "job-definition");
  DefinitionRef out;
  auto colon = ref.rfind(':');
  if (colon == std::string::npos) {
    out.name = ref;
    return out;
  }
  int revision = 0;
  const char* first = ref.data() + colon + 1;
  const char* last = ref.data() + ref.size();
  auto [ptr, ec] = std::from_chars(first, last, revision);
  if (ec != std::errc() || ptr != last || revision < 1)
    return fail(
        Error::invalid("jobDefinition", "\"" + text + "\" is not name, name:revision or an ARN"));
  out.name = ref.substr(0, colon);
  out.revision = revision;
  return out;
}

Result<SubmitRequest> parse_submit_request(const json& body, size_t raw_size,
                                           const Limits& limits) {
  Problems problems;
  SubmitRequest req;
  if (raw_size > limits.max_submit_payload_bytes) {
    return fail(Error::invalid("", "the request is " + std::to_string(raw_size) +
                                       " bytes, the SubmitJob maximum is " +
                                       std::to_string(limits.max_submit_payload_bytes)));
  }
  JsonReader r(body, "", problems);
  if (!r.ok()) return fail(problems.to_error());
  if (auto name = r.required_string("jobName")) {
    check_name(*name, limits.max_name_length, true, "jobName", problems);
    req.job_name = *name;
  }
  if (auto q = r.required_string("jobQueue"))
    req.job_queue = name_from_arn_or_name(*q, "job-queue");
  if (auto d = r.required_string("jobDefinition")) req.job_definition = *d;
  if (const json* ap = r.optional_object("arrayProperties")) {
    JsonReader ar(*ap, "arrayProperties", problems);
    if (auto size = ar.optional_int("size", 2, limits.max_array_size))
      req.array_size = static_cast<int>(*size);
    ar.reject_unknown();
  }
  if (const json* deps = r.optional_array("dependsOn")) {
    if (deps->size() > limits.max_dependencies)
      problems.add("dependsOn", std::to_string(deps->size()) + " dependencies, the maximum is " +
                                    std::to_string(limits.max_dependencies));
    for (size_t i = 0; i < deps->size(); ++i) {
      JsonReader dr((*deps)[i], json_path_index("dependsOn", i), problems);
      if (!dr.ok()) continue;
      Dependency d;
      auto id = dr.optional_string("jobId");
      auto type = dr.optional_string("type");
      dr.reject_unknown();
      if (type) {
        if (*type == "N_TO_N") {
          d.type = DependencyType::kNToN;
        } else if (*type == "SEQUENTIAL") {
          d.type = DependencyType::kSequential;
        } else {
          problems.add(dr.field_path("type"), "\"" + *type + "\" must be N_TO_N or SEQUENTIAL");
          continue;
        }
      }
      if (id) d.job_id = *id;
      if (d.type != DependencyType::kSequential && d.job_id.empty()) {
        problems.add(dr.field_path("jobId"), "is required (only SEQUENTIAL goes without one)");
        continue;
      }
      req.depends_on.push_back(std::move(d));
    }
  }
  if (auto params = r.optional_string_map("parameters")) req.parameters = std::move(*params);
  if (const json* co = r.optional_object("containerOverrides"))
    req.overrides = parse_container_spec(*co, "containerOverrides", true, problems);
  if (const json* rs = r.optional_object("retryStrategy"))
    req.retry_strategy = parse_retry_strategy(*rs, "retryStrategy", limits, problems);
  req.timeout_seconds = parse_timeout(r, limits);
  req.tags = parse_tags(r, limits);
  req.propagate_tags = r.optional_bool("propagateTags");
  req.share_identifier = r.optional_string("shareIdentifier");
  req.scheduling_priority_override = r.optional_int("schedulingPriorityOverride", 0, 9999);
  if (const json* no = r.optional_object("nodeOverrides"))
    req.node_overrides = parse_node_overrides(*no, problems);
  r.unsupported("eksPropertiesOverride", "EKS jobs do not exist on-prem");
  r.unsupported("ecsPropertiesOverride", "ECS task properties are not supported");
  r.reject_unknown();
  for (const auto& d : req.depends_on) {
    if (d.type == DependencyType::kSequential && !req.array_size)
      problems.add("dependsOn", "SEQUENTIAL applies only to array jobs (arrayProperties.size)");
    if (d.type == DependencyType::kNToN && !req.array_size)
      problems.add("dependsOn", "N_TO_N applies only to array jobs (arrayProperties.size)");
  }
  if (!problems.empty()) return fail(problems.to_error());
  return req;
}

namespace {

ResourceRequest resolve_resources(const ResourceRequirements& r) {
  ResourceRequest out;
  out.vcpus = r.vcpus.value_or(1);
  out.memory_mib = r.memory_mib.value_or(0);
  out.gpus = r.gpus.value_or(0);
  return out;
}

}  // namespace

Result<std::vector<Job>> resolve_submission(
    const SubmitRequest& req, const JobDefinition& def, const JobQueue& queue, const Owner& owner,
    const std::string& id, TimePoint now,
    const std::map<std::string, std::optional<int>>& dependency_array_size) {
  Problems problems;
  if (queue.scheduling_policy && !req.share_identifier)
    problems.add("shareIdentifier", "is required: job queue " + queue.name +
                                        " has the fair-share policy " + *queue.scheduling_policy);
  if (!queue.scheduling_policy && req.share_identifier)
    problems.add("shareIdentifier",
                 "is allowed only on a queue with a scheduling policy; " + queue.name + " is FIFO");
  for (const auto& d : req.depends_on) {
    if (d.type != DependencyType::kNToN) continue;
    auto it = dependency_array_size.find(d.job_id);
    std::optional<int> size = it == dependency_array_size.end() ? std::nullopt : it->second;
    if (!size) {
      problems.add("dependsOn", "N_TO_N dependency " + d.job_id + " is not an array job");
    } else if (*size != *req.array_size) {
      problems.add("dependsOn", "N_TO_N dependency " + d.job_id + " has " + std::to_string(*size) +
                                    " children, this job " + std::to_string(*req.array_size));
    }
  }

  Job job;
  job.id = id;
  job.name = req.job_name;
  job.queue = queue.name;
  job.definition_name = def.name;
  job.definition_revision = def.revision;
  job.owner = owner;
  job.run_as_user = def.container.user;
  job.created_at = now;
  job.parameters = def.parameters;
  for (const auto& [k, v] : req.parameters) job.parameters[k] = v;
  const auto& command =
      req.overrides.command.empty() ? def.container.command : req.overrides.command;
  if (command.empty() && !def.node_properties)
    problems.add("containerOverrides.command",
                 "is required: job definition " + def.name + " has no command");
  std::vector<std::string> unresolved;
  job.container.command = substitute_parameters(command, job.parameters, &unresolved);
  for (const auto& u : unresolved)
    job.warnings.push_back("command element " + u + " has no parameter value; left as is");
  if (def.node_properties) {
    // MNP: one container per node; the job's own container is the main
    // node's (AWS reports the main node's exit code and reason).
    if (req.array_size) problems.add("arrayProperties", "multinode jobs cannot be arrays");
    if (!req.overrides.command.empty() || !req.overrides.environment.empty())
      problems.add("containerOverrides", "multinode jobs take nodeOverrides instead");
    auto nodes =
        resolve_node_containers(*def.node_properties, req.node_overrides.value_or(NodeOverrides{}));
    if (!nodes) {
      for (const auto& p : nodes.error().problems()) problems.add(p.path, p.message);
    } else {
      for (auto& c : *nodes) {
        std::vector<std::string> missing;
        c.command = substitute_parameters(c.command, job.parameters, &missing);
        if (c.command.empty())
          problems.add("nodeProperties", "a node range of " + def.name + " has no command");
        job.node_resources.push_back(resolve_resources(c.resources));
      }
      job.node_containers = std::move(*nodes);
      job.main_node = def.node_properties->main_node;
      if (!job.node_containers.empty()) {
        const auto& main = job.node_containers[static_cast<size_t>(job.main_node)];
        job.container.command = main.command;
        job.container.environment = main.environment;
        job.container.resources = main.resources;
      }
    }
  } else if (req.node_overrides) {
    problems.add("nodeOverrides", "job definition " + def.name + " is not multinode");
  }
  if (!def.node_properties)
    job.container.environment =
        merge_environment(def.container.environment, req.overrides.environment);
  if (!def.node_properties)
    job.container.resources = def.container.resources.overridden_by(req.overrides.resources);
  job.container.user = def.container.user;
  job.container.image = def.container.image;
  job.container.mounts = def.container.mounts;
  job.resources = resolve_resources(job.container.resources);
  if (!job.node_resources.empty())
    job.resources = job.node_resources[static_cast<size_t>(job.main_node)];
  job.retry_strategy =
      req.retry_strategy ? *req.retry_strategy : def.retry_strategy.value_or(RetryStrategy{});
  job.timeout_seconds = req.timeout_seconds ? req.timeout_seconds : def.timeout_seconds;
  job.tags = req.tags;
  job.propagate_tags = req.propagate_tags.value_or(def.propagate_tags);
  job.scheduling_priority =
      req.scheduling_priority_override ? req.scheduling_priority_override : def.scheduling_priority;
  job.share_identifier = req.share_identifier;
  job.depends_on = req.depends_on;
  job.array_size = req.array_size;
  if (!problems.empty()) return fail(problems.to_error());

  std::vector<Job> out;
  if (!req.array_size) {
    for (const auto& d : req.depends_on) job.wait_for.push_back(d.job_id);
    out.push_back(std::move(job));
    return out;
  }
  // The parent waits for nothing itself: its children carry the dependencies.
  Job parent = job;
  parent.child_counts[0] = *req.array_size;  // all SUBMITTED
  parent.child_counts_updated_at = now;
  out.reserve(static_cast<size_t>(*req.array_size) + 1);
  out.push_back(std::move(parent));
  for (int i = 0; i < *req.array_size; ++i) {
    Job child = job;
    child.id = array_child_id(JobId(id), i).str();
    child.array_size.reset();
    child.array_index = i;
    child.parent_id = id;
    child.depends_on.clear();  // AWS shows dependsOn on the parent
    for (const auto& d : req.depends_on) {
      switch (d.type) {
        case DependencyType::kPlain:
          child.wait_for.push_back(d.job_id);
          break;
        case DependencyType::kNToN:
          child.wait_for.push_back(array_child_id(JobId(d.job_id), i).str());
          break;
        case DependencyType::kSequential:
          if (i > 0) child.wait_for.push_back(array_child_id(JobId(id), i - 1).str());
          break;
      }
    }
    out.push_back(std::move(child));
  }
  return out;
}

}  // namespace helix::queues
