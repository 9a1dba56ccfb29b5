#include "queues/job_definition.h"

#include <set>

#include "common/json_reader.h"
#include "queues/common_fields.h"
#include "queues/node_properties.h"

namespace helix::queues {

using nlohmann::json;

namespace {

Environment parse_environment(const json& array, const std::string& path, Problems& problems) {
  Environment env;
  if (!array.is_array()) {
    problems.add(path, "must be a list of {name, value}, got " + json_type_phrase(array));
    return env;
  }
  for (size_t i = 0; i < array.size(); ++i) {
    JsonReader r(array[i], json_path_index(path, i), problems);
    if (!r.ok()) continue;
    auto name = r.required_string("name");
    auto value = r.optional_string("value");
    r.reject_unknown();
    if (!name) continue;
    if (name->empty() || name->find('=') != std::string::npos) {
      problems.add(r.field_path("name"), "\"" + *name + "\" is not a valid variable name");
      continue;
    }
    if (name->rfind("AWS_BATCH", 0) == 0) {
      problems.add(r.field_path("name"),
                   "\"" + *name + "\": names beginning with AWS_BATCH are reserved");
      continue;
    }
    env.emplace_back(*name, value.value_or(""));
  }
  return env;
}

void check_command(const std::vector<std::string>& command, const std::string& path,
                   Problems& problems) {
  for (size_t i = 0; i < command.size(); ++i) {
    if (command[i].empty()) problems.add(json_path_index(path, i), "must not be an empty string");
  }
}

}  // namespace

ContainerSpec parse_container_spec(const json& value, const std::string& path, bool is_override,
                                   Problems& problems) {
  ContainerSpec spec;
  JsonReader r(value, path, problems);
  if (!r.ok()) return spec;
  if (auto command = r.optional_string_list("command")) {
    check_command(*command, r.field_path("command"), problems);
    spec.command = std::move(*command);
  }
  if (const json* env = r.get("environment")) {
    spec.environment = parse_environment(*env, r.field_path("environment"), problems);
  }
  if (const json* rr = r.optional_array("resourceRequirements")) {
    spec.resources =
        parse_resource_requirements(*rr, r.field_path("resourceRequirements"), problems);
  }
  // Legacy vcpus / memory: they never override values given through
  // resourceRequirements (batch-semantics.md section 6).
  if (auto vcpus = r.optional_int("vcpus", 1, 1'000'000); vcpus && !spec.resources.vcpus)
    spec.resources.vcpus = vcpus;
  if (auto memory = r.optional_int("memory", 4, int64_t{1} << 40);
      memory && !spec.resources.memory_mib)
    spec.resources.memory_mib = memory;
  r.unsupported("instanceType", "instance types do not exist on-prem; request vCPUs and memory");
  if (!is_override) {
    spec.user = r.optional_string("user");
    // IAM roles are accepted so AWS definitions register unchanged; on-prem
    // jobs run as Unix users, so they have no effect.
    r.get("jobRoleArn");
    r.get("executionRoleArn");
    if (auto image = r.optional_string("image")) {
      if (image->empty() || image->front() != '/')
        problems.add(
            r.field_path("image"),
            "\"" + *image + "\" is not an OCI image layout: give its absolute path, DIR[:TAG]");
      spec.image = *image;
    }
    std::map<std::string, std::string> volumes;  // name -> host path
    if (const json* vs = r.optional_array("volumes")) {
      for (size_t i = 0; i < vs->size(); ++i) {
        JsonReader vr((*vs)[i], json_path_index(r.field_path("volumes"), i), problems);
        if (!vr.ok()) continue;
        auto name = vr.required_string("name");
        std::optional<std::string> source;
        if (const json* host = vr.optional_object("host")) {
          JsonReader hr(*host, vr.field_path("host"), problems);
          source = hr.required_string("sourcePath");
          hr.reject_unknown();
        } else {
          problems.add(vr.field_path("host"), "is required: helix mounts host paths only");
        }
        vr.reject_unknown();
        if (name && source) volumes[*name] = *source;
      }
    }
    if (const json* ms = r.optional_array("mountPoints")) {
      for (size_t i = 0; i < ms->size(); ++i) {
        JsonReader mr((*ms)[i], json_path_index(r.field_path("mountPoints"), i), problems);
        if (!mr.ok()) continue;
        MountPoint m;
        auto volume = mr.required_string("sourceVolume");
        auto target = mr.required_string("containerPath");
        m.read_only = mr.optional_bool("readOnly").value_or(false);
        mr.reject_unknown();
        if (!volume || !target) continue;
        auto it = volumes.find(*volume);
        if (it == volumes.end()) {
          problems.add(mr.field_path("sourceVolume"), "\"" + *volume + "\" is not in volumes");
          continue;
        }
        if (target->empty() || target->front() != '/')
          problems.add(mr.field_path("containerPath"), "must be an absolute path");
        m.volume = *volume;
        m.source_path = it->second;
        m.container_path = *target;
        spec.mounts.push_back(std::move(m));
      }
    }
    const char* later = "is not supported yet";
    for (const char* key :
         {"ulimits", "privileged", "readonlyRootFilesystem", "linuxParameters", "logConfiguration",
          "secrets", "networkConfiguration", "fargatePlatformConfiguration", "ephemeralStorage",
          "runtimePlatform", "repositoryCredentials"}) {
      r.unsupported(key, later);
    }
  }
  r.reject_unknown();
  return spec;
}

json environment_to_wire(const Environment& env) {
  json out = json::array();
  for (const auto& [name, value] : env) out.push_back({{"name", name}, {"value", value}});
  return out;
}

Environment merge_environment(const Environment& base, const Environment& over) {
  Environment out = base;
  for (const auto& [name, value] : over) {
    bool replaced = false;
    for (auto& entry : out) {
      if (entry.first == name) {
        entry.second = value;
        replaced = true;
      }
    }
    if (!replaced) out.emplace_back(name, value);
  }
  return out;
}

std::vector<std::string> substitute_parameters(const std::vector<std::string>& command,
                                               const std::map<std::string, std::string>& params,
                                               std::vector<std::string>* unresolved) {
  std::vector<std::string> out;
  out.reserve(command.size());
  for (const auto& element : command) {
    if (element.rfind("Ref::", 0) == 0) {
      auto it = params.find(element.substr(5));
      if (it != params.end()) {
        out.push_back(it->second);
        continue;
      }
      if (unresolved) unresolved->push_back(element);
    }
    out.push_back(element);
  }
  return out;
}

void container_image_to_wire(const ContainerSpec& c, json& j) {
  if (c.image) j["image"] = *c.image;
  if (c.mounts.empty()) return;
  json volumes = json::array(), points = json::array();
  std::set<std::string> named;
  for (const auto& m : c.mounts) {
    if (named.insert(m.volume).second)
      volumes.push_back({{"name", m.volume}, {"host", {{"sourcePath", m.source_path}}}});
    points.push_back({{"sourceVolume", m.volume},
                      {"containerPath", m.container_path},
                      {"readOnly", m.read_only}});
  }
  j["volumes"] = volumes;
  j["mountPoints"] = points;
}

Result<JobDefinition> parse_job_definition(const json& body, const Limits& limits) {
  Problems problems;
  JobDefinition def;
  JsonReader r(body, "", problems);
  if (!r.ok()) return fail(problems.to_error());
  if (auto name = r.required_string("jobDefinitionName")) {
    check_name(*name, limits.max_name_length, false, r.field_path("jobDefinitionName"), problems);
    def.name = *name;
  }
  if (auto type = r.required_string("type")) {
    if (*type == "native" || *type == "multinode" || *type == "container") {
      def.type = *type;
    } else {
      problems.add("type", "\"" + *type + "\" must be native, container or multinode");
    }
  }
  if (auto params = r.optional_string_map("parameters")) def.parameters = std::move(*params);
  if (def.type == "multinode") {
    if (const json* np = r.optional_object("nodeProperties")) {
      def.node_properties =
          std::make_shared<NodeProperties>(parse_node_properties(*np, "nodeProperties", problems));
    } else {
      problems.add("nodeProperties", "is required for multinode jobs");
    }
    if (r.has("containerProperties"))
      problems.add("containerProperties",
                   "is not allowed for multinode jobs; give each node range a container");
  } else if (const json* cp = r.optional_object("containerProperties")) {
    def.container = parse_container_spec(*cp, "containerProperties", false, problems);
  } else if (def.type == "native" && problems.empty()) {
    problems.add("containerProperties", "is required for native jobs (it holds the command)");
  }
  if (def.type == "native" && def.container.image)
    problems.add("containerProperties.image",
                 "is only for type container; native jobs run a host command");
  if (def.type == "native" && !def.container.mounts.empty())
    problems.add("containerProperties.mountPoints", "is only for type container");
  if (def.type == "container" && !def.container.image && problems.empty())
    problems.add("containerProperties.image", "is required for container jobs");
  if (const json* rs = r.optional_object("retryStrategy")) {
    def.retry_strategy = parse_retry_strategy(*rs, "retryStrategy", limits, problems);
  }
  def.timeout_seconds = parse_timeout(r, limits);
  def.scheduling_priority = r.optional_int("schedulingPriority", 0, 9999);
  def.tags = parse_tags(r, limits);
  def.propagate_tags = r.optional_bool("propagateTags").value_or(false);
  if (auto caps = r.optional_string_list("platformCapabilities")) {
    for (size_t i = 0; i < caps->size(); ++i) {
      if ((*caps)[i] != "EC2")
        problems.add(json_path_index("platformCapabilities", i),
                     "\"" + (*caps)[i] + "\": only EC2 (meaning: your own nodes) is supported");
    }
  }
  if (def.type != "multinode" && r.has("nodeProperties"))
    problems.add("nodeProperties", "is only for type multinode");
  r.get("nodeProperties");
  r.unsupported("eksProperties", "EKS jobs do not exist on-prem");
  r.unsupported("ecsProperties", "ECS task properties are not supported; use containerProperties");
  r.reject_unknown();
  if (body.dump().size() > limits.max_definition_payload_bytes) {
    problems.add("", "the definition is " + std::to_string(body.dump().size()) +
                         " bytes, the maximum is " +
                         std::to_string(limits.max_definition_payload_bytes));
  }
  if (!problems.empty()) return fail(problems.to_error());
  return def;
}

namespace {

json definition_body(const JobDefinition& def) {
  json j;
  j["jobDefinitionName"] = def.name;
  j["revision"] = def.revision;
  j["status"] = def.active ? "ACTIVE" : "INACTIVE";
  j["type"] = def.type;
  j["parameters"] = def.parameters;
  if (def.node_properties) {
    j["nodeProperties"] = node_properties_to_wire(*def.node_properties);
  } else {
    json c;
    c["command"] = def.container.command;
    c["environment"] = environment_to_wire(def.container.environment);
    c["resourceRequirements"] = resource_requirements_to_wire(def.container.resources);
    if (def.container.user) c["user"] = *def.container.user;
    container_image_to_wire(def.container, c);
    j["containerProperties"] = std::move(c);
  }
  if (def.retry_strategy) j["retryStrategy"] = retry_strategy_to_wire(*def.retry_strategy);
  if (def.timeout_seconds) j["timeout"] = {{"attemptDurationSeconds", *def.timeout_seconds}};
  if (def.scheduling_priority) j["schedulingPriority"] = *def.scheduling_priority;
  j["tags"] = def.tags;
  j["propagateTags"] = def.propagate_tags;
  j["platformCapabilities"] = json::array({"EC2"});
  return j;
}

}  // namespace

json job_definition_to_wire(const JobDefinition& def, const ArnFormat& arns) {
  json j = definition_body(def);
  j["jobDefinitionArn"] = arns.job_definition(def.name, def.revision);
  return j;
}

json job_definition_to_store(const JobDefinition& def) { return definition_body(def); }

Result<JobDefinition> job_definition_from_store(const json& doc) {
  // The stored form is a valid registration body plus revision and status;
  // parsing it again keeps one definition of validity.
  json body = doc;
  int revision = body.value("revision", 0);
  bool active = body.value("status", "ACTIVE") == "ACTIVE";
  body.erase("revision");
  body.erase("status");
  Limits lenient;
  lenient.min_attempt_duration_seconds = 1;
  auto def = parse_job_definition(body, lenient);
  if (!def)
    return fail(Error::corruption("stored job definition does not parse", def.error().to_string()));
  def->revision = revision;
  def->active = active;
  return def;
}

}  // namespace helix::queues
