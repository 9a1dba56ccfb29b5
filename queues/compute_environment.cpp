#include "queues/compute_environment.h"

#include <algorithm>

#include "common/json_reader.h"
#include "queues/common_fields.h"

namespace helix::queues {

using nlohmann::json;

std::optional<bool> parse_state(const std::optional<std::string>& state, const std::string& path,
                                Problems& problems) {
  if (!state) return std::nullopt;
  if (*state == "ENABLED") return true;
  if (*state == "DISABLED") return false;
  problems.add(path, "\"" + *state + "\" must be ENABLED or DISABLED");
  return std::nullopt;
}

namespace {

void ce_fields_not_on_prem(JsonReader& r) {
  r.unsupported("computeResources",
                "helix runs on your own nodes; cloud computeResources do not apply (use type "
                "UNMANAGED)");
  r.unsupported("eksConfiguration", "EKS does not exist on-prem");
  r.get("serviceRole");  // accepted, no effect on-prem
}

}  // namespace

Result<ComputeEnvironment> parse_create_compute_environment(const json& body,
                                                            const Limits& limits) {
  Problems problems;
  JsonReader r(body, "", problems);
  ComputeEnvironment ce;
  if (!r.ok()) return fail(problems.to_error());
  if (auto name = r.required_string("computeEnvironmentName")) {
    check_name(*name, limits.max_name_length, false, r.field_path("computeEnvironmentName"),
               problems);
    ce.name = *name;
  }
  if (auto type = r.required_string("type"); type && *type != "UNMANAGED") {
    problems.add(
        "type", "\"" + *type + "\": helix compute environments are your own nodes, type UNMANAGED");
  }
  if (auto enabled = parse_state(r.optional_string("state"), "state", problems))
    ce.enabled = *enabled;
  ce.unmanaged_vcpus = r.optional_int("unmanagedvCpus", 0, 1'000'000'000);
  ce.tags = parse_tags(r, limits);
  ce_fields_not_on_prem(r);
  r.reject_unknown();
  if (!problems.empty()) return fail(problems.to_error());
  return ce;
}

Result<ComputeEnvironment> apply_compute_environment_update(ComputeEnvironment ce,
                                                            const json& body) {
  Problems problems;
  JsonReader r(body, "", problems);
  if (!r.ok()) return fail(problems.to_error());
  r.required_string("computeEnvironment");
  if (auto enabled = parse_state(r.optional_string("state"), "state", problems))
    ce.enabled = *enabled;
  if (auto v = r.optional_int("unmanagedvCpus", 0, 1'000'000'000)) ce.unmanaged_vcpus = v;
  ce_fields_not_on_prem(r);
  r.unsupported("updatePolicy", "helix nodes are not replaced by updates");
  r.reject_unknown();
  if (!problems.empty()) return fail(problems.to_error());
  return ce;
}

json compute_environment_to_store(const ComputeEnvironment& ce) {
  json j = {{"computeEnvironmentName", ce.name},
            {"type", "UNMANAGED"},
            {"state", ce.enabled ? "ENABLED" : "DISABLED"},
            {"tags", ce.tags}};
  if (ce.unmanaged_vcpus) j["unmanagedvCpus"] = *ce.unmanaged_vcpus;
  return j;
}

json compute_environment_to_wire(const ComputeEnvironment& ce, const ArnFormat& arns) {
  json j = compute_environment_to_store(ce);
  j["computeEnvironmentArn"] = arns.compute_environment(ce.name);
  j["status"] = "VALID";
  j["statusReason"] = "ComputeEnvironment Healthy";
  return j;
}

ComputeEnvironment compute_environment_from_store(const json& doc) {
  ComputeEnvironment ce;
  ce.name = doc.at("computeEnvironmentName").get<std::string>();
  ce.enabled = doc.value("state", "ENABLED") == "ENABLED";
  if (doc.contains("unmanagedvCpus")) ce.unmanaged_vcpus = doc["unmanagedvCpus"].get<int64_t>();
  ce.tags = doc.value("tags", std::map<std::string, std::string>{});
  return ce;
}

namespace {

std::vector<CeOrder> parse_ce_order(const json& array, const std::string& path,
                                    const Limits& limits, Problems& problems) {
  std::vector<CeOrder> out;
  if (array.empty()) problems.add(path, "must name at least one compute environment");
  if (array.size() > limits.max_compute_environments_per_queue)
    problems.add(path, std::to_string(array.size()) + " compute environments, the maximum is " +
                           std::to_string(limits.max_compute_environments_per_queue));
  for (size_t i = 0; i < array.size(); ++i) {
    JsonReader r(array[i], json_path_index(path, i), problems);
    if (!r.ok()) continue;
    auto order = r.required_int("order", 0, INT32_MAX);
    auto ce = r.required_string("computeEnvironment");
    r.reject_unknown();
    if (!order || !ce) continue;
    for (const auto& seen : out) {
      if (seen.order == *order)
        problems.add(r.field_path("order"), std::to_string(*order) + " is used twice");
    }
    out.push_back({static_cast<int>(*order), name_from_arn_or_name(*ce, "compute-environment")});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CeOrder& a, const CeOrder& b) { return a.order < b.order; });
  return out;
}

// jobStateTimeLimitActions: AWS's rules (API reference,
// JobStateTimeLimitAction): state RUNNABLE, action CANCEL, maxTimeSeconds
// 600 to 86,400, at most 5 entries, one of the three blocked reasons.
std::vector<JobStateTimeLimitAction> parse_time_limit_actions(const json& array,
                                                              Problems& problems) {
  const std::string path = "jobStateTimeLimitActions";
  std::vector<JobStateTimeLimitAction> out;
  if (array.size() > 5)
    problems.add(path, std::to_string(array.size()) + " actions, the maximum is 5");
  for (size_t i = 0; i < array.size(); ++i) {
    JsonReader r(array[i], json_path_index(path, i), problems);
    if (!r.ok()) continue;
    JobStateTimeLimitAction a;
    if (auto reason = r.required_string("reason")) {
      bool known = false;
      for (const char* k : kTimeLimitReasons) known = known || *reason == k;
      if (!known)
        problems.add(r.field_path("reason"),
                     "\"" + *reason +
                         "\" is not one of CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY, "
                         "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE, "
                         "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT");
      for (const auto& seen : out)
        if (seen.reason == *reason) problems.add(r.field_path("reason"), "is given twice");
      a.reason = *reason;
    }
    if (auto state = r.required_string("state"); state && *state != "RUNNABLE")
      problems.add(r.field_path("state"), "\"" + *state + "\" is not RUNNABLE, the only state");
    if (auto action = r.required_string("action"); action && *action != "CANCEL")
      problems.add(r.field_path("action"), "\"" + *action + "\" is not CANCEL, the only action");
    if (auto t = r.required_int("maxTimeSeconds", 600, 86400)) a.max_time_seconds = *t;
    r.reject_unknown();
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

Result<JobQueue> parse_create_job_queue(const json& body, const Limits& limits) {
  Problems problems;
  JsonReader r(body, "", problems);
  JobQueue q;
  if (!r.ok()) return fail(problems.to_error());
  if (auto name = r.required_string("jobQueueName")) {
    check_name(*name, limits.max_name_length, false, r.field_path("jobQueueName"), problems);
    q.name = *name;
  }
  if (auto enabled = parse_state(r.optional_string("state"), "state", problems))
    q.enabled = *enabled;
  if (auto p = r.required_int("priority", 0, 1000)) q.priority = *p;
  if (!r.has("computeEnvironmentOrder")) {
    problems.add("computeEnvironmentOrder", "is required");
  } else if (const json* order = r.optional_array("computeEnvironmentOrder")) {
    q.compute_environment_order =
        parse_ce_order(*order, "computeEnvironmentOrder", limits, problems);
  }
  if (auto policy = r.optional_string("schedulingPolicyArn"))
    q.scheduling_policy = name_from_arn_or_name(*policy, "scheduling-policy");
  q.tags = parse_tags(r, limits);
  if (const json* actions = r.optional_array("jobStateTimeLimitActions"))
    q.state_time_limit_actions = parse_time_limit_actions(*actions, problems);
  r.reject_unknown();
  if (!problems.empty()) return fail(problems.to_error());
  return q;
}

Result<JobQueue> apply_job_queue_update(JobQueue q, const json& body, const Limits& limits) {
  Problems problems;
  JsonReader r(body, "", problems);
  if (!r.ok()) return fail(problems.to_error());
  r.required_string("jobQueue");
  if (auto enabled = parse_state(r.optional_string("state"), "state", problems))
    q.enabled = *enabled;
  if (auto p = r.optional_int("priority", 0, 1000)) q.priority = *p;
  if (const json* order = r.optional_array("computeEnvironmentOrder"))
    q.compute_environment_order =
        parse_ce_order(*order, "computeEnvironmentOrder", limits, problems);
  if (auto policy = r.optional_string("schedulingPolicyArn")) {
    if (!q.scheduling_policy) {
      problems.add("schedulingPolicyArn",
                   "a FIFO queue (created without a scheduling policy) cannot gain one");
    } else {
      q.scheduling_policy = name_from_arn_or_name(*policy, "scheduling-policy");
    }
  }
  if (const json* actions = r.optional_array("jobStateTimeLimitActions"))
    q.state_time_limit_actions = parse_time_limit_actions(*actions, problems);
  r.reject_unknown();
  if (!problems.empty()) return fail(problems.to_error());
  return q;
}

const JobStateTimeLimitAction* JobQueue::time_limit_for(const std::string& status_reason) const {
  std::string code = status_reason.substr(0, status_reason.find(" - "));
  for (const auto& a : state_time_limit_actions)
    if (a.reason == code) return &a;
  return nullptr;
}

json job_queue_to_store(const JobQueue& q) {
  json order = json::array();
  for (const auto& o : q.compute_environment_order)
    order.push_back({{"order", o.order}, {"computeEnvironment", o.compute_environment}});
  json j = {{"jobQueueName", q.name},
            {"state", q.enabled ? "ENABLED" : "DISABLED"},
            {"priority", q.priority},
            {"computeEnvironmentOrder", order},
            {"tags", q.tags}};
  if (q.scheduling_policy) j["schedulingPolicyArn"] = *q.scheduling_policy;
  if (!q.state_time_limit_actions.empty()) {
    json actions = json::array();
    for (const auto& a : q.state_time_limit_actions)
      actions.push_back({{"reason", a.reason},
                         {"state", "RUNNABLE"},
                         {"maxTimeSeconds", a.max_time_seconds},
                         {"action", "CANCEL"}});
    j["jobStateTimeLimitActions"] = actions;
  }
  return j;
}

json job_queue_to_wire(const JobQueue& q, const ArnFormat& arns) {
  json j = job_queue_to_store(q);
  j["jobQueueArn"] = arns.job_queue(q.name);
  for (auto& o : j["computeEnvironmentOrder"])
    o["computeEnvironment"] = arns.compute_environment(o["computeEnvironment"].get<std::string>());
  if (q.scheduling_policy) j["schedulingPolicyArn"] = arns.scheduling_policy(*q.scheduling_policy);
  j["status"] = "VALID";
  j["statusReason"] = "JobQueue Healthy";
  return j;
}

JobQueue job_queue_from_store(const json& doc) {
  JobQueue q;
  q.name = doc.at("jobQueueName").get<std::string>();
  q.enabled = doc.value("state", "ENABLED") == "ENABLED";
  q.priority = doc.value("priority", int64_t{0});
  for (const auto& o : doc.at("computeEnvironmentOrder"))
    q.compute_environment_order.push_back(
        {o.at("order").get<int>(), o.at("computeEnvironment").get<std::string>()});
  if (doc.contains("schedulingPolicyArn"))
    q.scheduling_policy = doc["schedulingPolicyArn"].get<std::string>();
  q.tags = doc.value("tags", std::map<std::string, std::string>{});
  if (doc.contains("jobStateTimeLimitActions"))
    for (const auto& a : doc["jobStateTimeLimitActions"])
      q.state_time_limit_actions.push_back(
          {a.at("reason").get<std::string>(), a.at("maxTimeSeconds").get<int64_t>()});
  return q;
}

namespace {

void parse_fairshare(const json& value, SchedulingPolicy& policy, Problems& problems) {
  JsonReader r(value, "fairsharePolicy", problems);
  if (!r.ok()) return;
  if (auto d = r.optional_int("shareDecaySeconds", 0, 604800)) policy.share_decay_seconds = *d;
  if (auto c = r.optional_int("computeReservation", 0, 99)) policy.compute_reservation = *c;
  if (const json* dist = r.optional_array("shareDistribution")) {
    policy.share_distribution.clear();
    if (dist->size() > 500) problems.add(r.field_path("shareDistribution"), "more than 500 shares");
    for (size_t i = 0; i < dist->size(); ++i) {
      JsonReader sr((*dist)[i], json_path_index(r.field_path("shareDistribution"), i), problems);
      if (!sr.ok()) continue;
      ShareWeight w;
      if (auto id = sr.required_string("shareIdentifier")) {
        w.share_identifier = *id;
        if (id->empty() || id->size() > 255)
          problems.add(sr.field_path("shareIdentifier"), "must be 1 to 255 characters");
      }
      if (auto f = sr.optional_number("weightFactor", 0.0001, 999.9999)) w.weight_factor = *f;
      sr.reject_unknown();
      policy.share_distribution.push_back(std::move(w));
    }
  }
  r.reject_unknown();
}

}  // namespace

Result<SchedulingPolicy> parse_create_scheduling_policy(const json& body, const Limits& limits) {
  Problems problems;
  JsonReader r(body, "", problems);
  SchedulingPolicy policy;
  if (!r.ok()) return fail(problems.to_error());
  if (auto name = r.required_string("name")) {
    check_name(*name, limits.max_name_length, false, r.field_path("name"), problems);
    policy.name = *name;
  }
  if (const json* fs = r.optional_object("fairsharePolicy")) parse_fairshare(*fs, policy, problems);
  policy.tags = parse_tags(r, limits);
  r.reject_unknown();
  if (!problems.empty()) return fail(problems.to_error());
  return policy;
}

Result<SchedulingPolicy> apply_scheduling_policy_update(SchedulingPolicy policy, const json& body) {
  Problems problems;
  JsonReader r(body, "", problems);
  if (!r.ok()) return fail(problems.to_error());
  r.required_string("arn");
  if (const json* fs = r.optional_object("fairsharePolicy")) parse_fairshare(*fs, policy, problems);
  r.reject_unknown();
  if (!problems.empty()) return fail(problems.to_error());
  return policy;
}

json scheduling_policy_to_store(const SchedulingPolicy& p) {
  json dist = json::array();
  for (const auto& w : p.share_distribution)
    dist.push_back({{"shareIdentifier", w.share_identifier}, {"weightFactor", w.weight_factor}});
  return {{"name", p.name},
          {"fairsharePolicy",
           {{"shareDecaySeconds", p.share_decay_seconds},
            {"computeReservation", p.compute_reservation},
            {"shareDistribution", dist}}},
          {"tags", p.tags}};
}

json scheduling_policy_to_wire(const SchedulingPolicy& p, const ArnFormat& arns) {
  json j = scheduling_policy_to_store(p);
  j["arn"] = arns.scheduling_policy(p.name);
  return j;
}

SchedulingPolicy scheduling_policy_from_store(const json& doc) {
  SchedulingPolicy p;
  p.name = doc.at("name").get<std::string>();
  const json& fs = doc.at("fairsharePolicy");
  p.share_decay_seconds = fs.value("shareDecaySeconds", int64_t{0});
  p.compute_reservation = fs.value("computeReservation", int64_t{0});
  for (const auto& w : fs.value("shareDistribution", json::array()))
    p.share_distribution.push_back(
        {w.at("shareIdentifier").get<std::string>(), w.value("weightFactor", 1.0)});
  p.tags = doc.value("tags", std::map<std::string, std::string>{});
  return p;
}

}  // namespace helix::queues
