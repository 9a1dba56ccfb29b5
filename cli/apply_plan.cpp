#include "cli/apply_plan.h"

#include <set>

#include "cli/resource_views.h"
#include "common/text.h"

namespace helix::cli {

using nlohmann::json;

namespace {

// The key that identifies each element of an unordered array of objects,
// or nullopt when the array is ordered (or mixed).
std::optional<std::string> identity_key(const json& a, const json& b) {
  for (const char* key : {"name", "type", "shareIdentifier"}) {
    bool all = true;
    for (const json* array : {&a, &b})
      for (const auto& e : *array) all = all && e.is_object() && e.contains(key);
    if (all) return std::string(key);
  }
  return std::nullopt;
}

// `array_key`: the key of the array `wanted` is an element of, if any.
bool same_values(const json& wanted, const json& existing, const std::string& array_key) {
  if (wanted.is_object()) {
    if (!existing.is_object()) return false;
    for (auto it = wanted.begin(); it != wanted.end(); ++it) {
      auto found = existing.find(it.key());
      if (found == existing.end()) return false;
      // evaluateOnExit's action is case-insensitive (AWS, and helix, take
      // "retry"); helixd answers "RETRY", which is the same value. Only
      // there: a parameter or tag named "action" keeps its case.
      if (array_key == "evaluateOnExit" && it.key() == "action" && it->is_string() &&
          found->is_string()) {
        if (ascii_lower(it->get<std::string>()) != ascii_lower(found->get<std::string>()))
          return false;
        continue;
      }
      if (!same_values(it.value(), *found, it->is_array() ? it.key() : std::string())) return false;
    }
    return true;
  }
  if (wanted.is_array()) {
    if (!existing.is_array() || wanted.size() != existing.size()) return false;
    if (auto key = identity_key(wanted, existing)) {
      std::set<json> used;
      for (const auto& w : wanted) {
        bool matched = false;
        for (const auto& e : existing)
          if (e[*key] == w[*key] && !used.count(e[*key]) && same_values(w, e, array_key)) {
            used.insert(e[*key]);
            matched = true;
            break;
          }
        if (!matched) return false;
      }
      return true;
    }
    for (size_t i = 0; i < wanted.size(); ++i)
      if (!same_values(wanted[i], existing[i], array_key)) return false;
    return true;
  }
  return wanted == existing;
}

}  // namespace

bool sets_same_values(const json& wanted, const json& existing) {
  return same_values(wanted, existing, "");
}

namespace {

// An update request with the listed fields the file sets; unchanged when
// `same` says each of them already holds.
template <class Same>
ApplyStep plan_update(const ApplyDocument& document, const json& existing,
                      const std::string& operation, json request,
                      std::initializer_list<const char*> updatable, Same same) {
  bool changed = false;
  for (const char* key : updatable) {
    if (!document.body.contains(key)) continue;
    request[key] = document.body[key];
    auto found = existing.find(key);
    if (found == existing.end() || !same(key, document.body[key], *found)) changed = true;
  }
  ApplyStep step;
  if (!changed) return step;
  step.action = ApplyStep::Action::kUpdate;
  step.operation = operation;
  step.request = std::move(request);
  return step;
}

ApplyStep create(const ApplyDocument& document, const std::string& operation) {
  ApplyStep step;
  step.action = ApplyStep::Action::kCreate;
  step.operation = operation;
  step.request = document.body;
  return step;
}

bool plain_same(const std::string&, const json& wanted, const json& existing) {
  return sets_same_values(wanted, existing);
}

// computeEnvironmentOrder as {order: compute environment name}.
std::set<std::pair<int64_t, std::string>> ce_order(const json& order) {
  std::set<std::pair<int64_t, std::string>> out;
  if (!order.is_array()) return out;
  for (const auto& o : order)
    if (o.is_object())
      out.emplace(o.value("order", int64_t{0}), name_of_arn(o.value("computeEnvironment", "")));
  return out;
}

}  // namespace

ApplyStep plan_compute_environment(const ApplyDocument& document, const json* existing) {
  if (!existing) return create(document, "createcomputeenvironment");
  return plan_update(
      document, *existing, "updatecomputeenvironment", {{"computeEnvironment", document.name}},
      {"state", "unmanagedvCpus", "computeResources", "serviceRole", "updatePolicy", "context"},
      plain_same);
}

ApplyStep plan_scheduling_policy(const ApplyDocument& document, const json* existing) {
  if (!existing) return create(document, "createschedulingpolicy");
  return plan_update(document, *existing, "updateschedulingpolicy",
                     {{"arn", existing->value("arn", "")}}, {"fairsharePolicy"}, plain_same);
}

ApplyStep plan_job_queue(const ApplyDocument& document, const json* existing) {
  if (!existing) return create(document, "createjobqueue");
  return plan_update(document, *existing, "updatejobqueue", {{"jobQueue", document.name}},
                     {"state", "priority", "computeEnvironmentOrder", "schedulingPolicyArn",
                      "jobStateTimeLimitActions"},
                     [](const std::string& key, const json& wanted, const json& have) {
                       if (key == "computeEnvironmentOrder")
                         return ce_order(wanted) == ce_order(have);
                       if (key == "schedulingPolicyArn")
                         return wanted.is_string() && have.is_string() &&
                                name_of_arn(wanted.get<std::string>()) ==
                                    name_of_arn(have.get<std::string>());
                       return sets_same_values(wanted, have);
                     });
}

ApplyStep plan_job_definition(const ApplyDocument& document, const json* latest_active) {
  ApplyStep step;
  if (latest_active) {
    json wanted = document.body;
    wanted.erase("jobDefinitionName");
    if (sets_same_values(wanted, *latest_active)) {
      step.unchanged_revision = latest_active->value("revision", int64_t{0});
      return step;
    }
  }
  step.action = ApplyStep::Action::kRegister;
  step.operation = "registerjobdefinition";
  step.request = document.body;
  return step;
}

std::string apply_result_line(const ApplyDocument& document, const ApplyStep& step,
                              const json& response) {
  std::string line = std::string(apply_kind_phrase(document.kind)) + " " + document.name + ": ";
  switch (step.action) {
    case ApplyStep::Action::kCreate:
      return line + "created";
    case ApplyStep::Action::kUpdate:
      return line + "updated";
    case ApplyStep::Action::kRegister: {
      auto revision = response.is_object() ? response.find("revision") : response.end();
      if (response.is_object() && revision != response.end())
        return line + "registered revision " + revision->dump();
      return line + "registered";
    }
    case ApplyStep::Action::kUnchanged:
      if (step.unchanged_revision)
        return line + "unchanged (revision " + std::to_string(*step.unchanged_revision) + ")";
      return line + "unchanged";
  }
  return line;
}

}  // namespace helix::cli
