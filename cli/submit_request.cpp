#include "cli/submit_request.h"

#include <cctype>
#include <set>

namespace helix::cli {

using nlohmann::json;

namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// KEY=VALUE pairs into `out` (an object for parameters, or an AWS
// environment list when as_list); records bad pairs under `flag`.
void parse_pairs(const std::vector<std::string>& pairs, const std::string& flag, bool as_list,
                 json& out, Problems& problems) {
  std::set<std::string> seen;
  for (const auto& pair : pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      problems.add(flag, "\"" + pair + "\" is not KEY=VALUE");
      continue;
    }
    std::string key = pair.substr(0, eq);
    std::string value = pair.substr(eq + 1);
    if (!seen.insert(key).second) {
      problems.add(flag, "\"" + key + "\" is given twice");
      continue;
    }
    if (as_list) {
      out.push_back({{"name", key}, {"value", value}});
    } else {
      out[key] = value;
    }
  }
}

}  // namespace

std::string job_name_from_command(const std::string& argv0) {
  std::string base = argv0;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (size_t slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
  std::string name;
  for (char c : base) {
    if (name.empty() && !std::isalnum(static_cast<unsigned char>(c))) continue;
    name.push_back(is_name_char(c) ? c : '_');
    if (name.size() == 128) break;
  }
  return name.empty() ? "job" : name;
}

std::string job_name_from_definition(const std::string& definition) {
  std::string name = definition;
  if (size_t slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (size_t colon = name.find(':'); colon != std::string::npos) name = name.substr(0, colon);
  return job_name_from_command(name);
}

Result<json> build_submit_request(const SubmitOptions& options) {
  Problems problems;
  if (options.command.empty() && !options.definition)
    problems.add("", "give a command after -- or a job definition with --definition");

  json body = json::object();
  std::string definition = options.definition.value_or(kCommandDefinition);
  if (options.name) {
    body["jobName"] = *options.name;
  } else if (!options.command.empty()) {
    body["jobName"] = job_name_from_command(options.command.front());
  } else {
    body["jobName"] = job_name_from_definition(definition);
  }
  body["jobQueue"] = options.queue;
  body["jobDefinition"] = definition;

  if (!options.parameters.empty()) {
    json parameters = json::object();
    parse_pairs(options.parameters, "--param", false, parameters, problems);
    body["parameters"] = parameters;
  }
  if (options.array_size) body["arrayProperties"] = {{"size", *options.array_size}};
  if (!options.depends_on.empty()) {
    json deps = json::array();
    for (const auto& dep : options.depends_on) {
      size_t eq = dep.find('=');
      std::string id = dep.substr(0, eq);
      if (id.empty()) {
        problems.add("--depends-on", "\"" + dep + "\" has no job id");
        continue;
      }
      json d = {{"jobId", id}};
      if (eq != std::string::npos) {
        std::string type = dep.substr(eq + 1);
        if (type != "N_TO_N" && type != "SEQUENTIAL") {
          problems.add("--depends-on",
                       "\"" + dep + "\": the type is N_TO_N or SEQUENTIAL, not \"" + type + "\"");
          continue;
        }
        d["type"] = type;
      }
      deps.push_back(d);
    }
    body["dependsOn"] = deps;
  }
  if (options.retries) body["retryStrategy"] = {{"attempts", *options.retries}};
  if (options.timeout_seconds)
    body["timeout"] = {{"attemptDurationSeconds", *options.timeout_seconds}};

  json overrides = json::object();
  if (!options.command.empty()) overrides["command"] = options.command;
  if (!options.environment.empty()) {
    json env = json::array();
    parse_pairs(options.environment, "--env", true, env, problems);
    overrides["environment"] = env;
  }
  json resources = json::array();
  auto add_resource = [&](const char* type, const std::optional<int64_t>& value) {
    if (value) resources.push_back({{"type", type}, {"value", std::to_string(*value)}});
  };
  add_resource("VCPU", options.vcpus);
  add_resource("MEMORY", options.memory_mib);
  add_resource("GPU", options.gpus);
  if (!resources.empty()) overrides["resourceRequirements"] = resources;
  if (!overrides.empty()) body["containerOverrides"] = overrides;

  if (!problems.empty()) return fail(problems.to_error());
  return body;
}

}  // namespace helix::cli
