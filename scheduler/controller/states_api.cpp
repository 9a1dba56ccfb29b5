#include "scheduler/controller/states_api.h"

#include <algorithm>

#include "pipelines/engine/definition.h"

namespace helix::states {
namespace {

using nlohmann::json;

constexpr std::string_view kTargetPrefix = "AWSStepFunctions.";
constexpr size_t kMaxDefinitionBytes = 1048576;

json describe_body(const StateMachineRecord& m) {
  return json{{"stateMachineArn", m.arn},
              {"name", m.name},
              {"status", "ACTIVE"},
              {"definition", m.definition},
              {"roleArn", m.role_arn},
              {"type", m.type},
              {"creationDate", epoch_seconds(m.creation_date)},
              {"revisionId", std::to_string(m.revision)},
              {"loggingConfiguration", {{"level", "OFF"}, {"includeExecutionData", false}}},
              {"tracingConfiguration", {{"enabled", false}}}};
}

// Parses the definition text; on failure the diagnostics in the engine's form.
tl::expected<void, std::vector<asl::Diagnostic>> check_definition(const std::string& text,
                                                                  bool is_express) {
  if (text.size() > kMaxDefinitionBytes) {
    return tl::unexpected(std::vector<asl::Diagnostic>{
        {"ERROR", "SCHEMA_VALIDATION_FAILED", "Definition is larger than 1048576 bytes", "/"}});
  }
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return tl::unexpected(std::vector<asl::Diagnostic>{
        {"ERROR", "INVALID_JSON_DESCRIPTION", "Definition is not valid JSON", ""}});
  }
  if (!parsed.is_object()) {
    return tl::unexpected(std::vector<asl::Diagnostic>{
        {"ERROR", "SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object", ""}});
  }
  asl::ParseOptions options;
  options.is_express = is_express;
  auto machine = asl::parse_state_machine(parsed, options);
  if (!machine) return tl::unexpected(machine.error());
  return {};
}

}  // namespace

ApiReply error_reply(std::string_view type, std::string message,
                     std::optional<std::string> reason) {
  ApiReply reply;
  reply.status = 400;
  reply.body = json{{"__type", std::string(type)}, {"message", std::move(message)}};
  if (reason) reply.body["reason"] = *reason;
  return reply;
}

Result<std::string> operation_from_target(std::string_view target) {
  if (target.size() <= kTargetPrefix.size() ||
      target.substr(0, kTargetPrefix.size()) != kTargetPrefix) {
    return fail(Error::invalid("X-Amz-Target",
                               "not an AWSStepFunctions operation: '" + std::string(target) + "'"));
  }
  std::string operation(target.substr(kTargetPrefix.size()));
  bool ok = std::all_of(operation.begin(), operation.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
  if (!ok) return fail(Error::invalid("X-Amz-Target", "bad operation name '" + operation + "'"));
  return operation;
}

std::string string_member(const json& request, const char* key) {
  auto it = request.find(key);
  if (it == request.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

ApiReply missing(const char* member) {
  return error_reply("ValidationException",
                     std::string("1 validation error detected: Value null at '") + member +
                         "' failed to satisfy constraint: Member must not be null");
}

std::optional<size_t> page_size(const json& request, ApiReply* refusal) {
  auto it = request.find("maxResults");
  if (it == request.end() || it->is_null()) return 100;
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1000) {
    *refusal = error_reply("ValidationException",
                           "1 validation error detected: Value '" + it->dump() +
                               "' at 'maxResults' failed to satisfy constraint: Member must have "
                               "value less than or equal to 1000");
    return std::nullopt;
  }
  int64_t n = it->get<int64_t>();
  return n == 0 ? 100 : static_cast<size_t>(n);
}

double epoch_seconds(TimePoint t) { return static_cast<double>(to_epoch_ms(t)) / 1000.0; }

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 80) return false;
  constexpr std::string_view kForbidden = " \t\n\r<>{}[]?*\"#%\\^|~`$&,;:/";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
    if (kForbidden.find(c) != std::string_view::npos) return false;
  }
  return true;
}

std::string state_machine_arn(const ArnScope& scope, std::string_view name) {
  return "arn:aws:states:" + scope.region + ":" + scope.account +
         ":stateMachine:" + std::string(name);
}

std::string execution_arn(const ArnScope& scope, std::string_view machine,
                          std::string_view execution) {
  return "arn:aws:states:" + scope.region + ":" + scope.account +
         ":execution:" + std::string(machine) + ":" + std::string(execution);
}

std::optional<std::string> state_machine_name_from_arn(const ArnScope& scope,
                                                       std::string_view arn) {
  std::string prefix = state_machine_arn(scope, "");
  if (arn.size() <= prefix.size() || arn.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string name(arn.substr(prefix.size()));
  if (!is_valid_name(name)) return std::nullopt;  // also refuses ":version" / ":alias" suffixes
  return name;
}

bool StateMachineCatalog::handles(std::string_view operation) const {
  return operation == "CreateStateMachine" || operation == "DescribeStateMachine" ||
         operation == "ListStateMachines" || operation == "UpdateStateMachine" ||
         operation == "DeleteStateMachine" || operation == "ValidateStateMachineDefinition";
}

const StateMachineRecord* StateMachineCatalog::find_by_arn(std::string_view arn) const {
  auto name = state_machine_name_from_arn(scope_, arn);
  if (!name) return nullptr;
  auto it = machines_.find(*name);
  return it == machines_.end() ? nullptr : &it->second;
}

const StateMachineRecord* StateMachineCatalog::find_by_name(const std::string& name) const {
  auto it = machines_.find(name);
  return it == machines_.end() ? nullptr : &it->second;
}

void StateMachineCatalog::restore(StateMachineRecord record) {
  std::string name = record.name;
  machines_[name] = std::move(record);
}

json state_machine_to_store(const StateMachineRecord& m) {
  return json{{"name", m.name},
              {"arn", m.arn},
              {"type", m.type},
              {"definition", m.definition},
              {"roleArn", m.role_arn},
              {"creationUs", to_epoch_us(m.creation_date)},
              {"updateUs", to_epoch_us(m.update_date)},
              {"revision", m.revision}};
}

Result<StateMachineRecord> state_machine_from_store(const json& doc) {
  try {
    StateMachineRecord m;
    m.name = doc.at("name").get<std::string>();
    m.arn = doc.at("arn").get<std::string>();
    m.type = doc.at("type").get<std::string>();
    m.definition = doc.at("definition").get<std::string>();
    m.role_arn = doc.at("roleArn").get<std::string>();
    m.creation_date = from_epoch_us(doc.at("creationUs").get<int64_t>());
    m.update_date = from_epoch_us(doc.at("updateUs").get<int64_t>());
    m.revision = doc.at("revision").get<int>();
    return m;
  } catch (const json::exception& e) {
    return fail(Error::corruption("a stored state machine does not parse", e.what()));
  }
}

ApiReply StateMachineCatalog::handle(std::string_view operation, const json& request,
                                     TimePoint now) {
  if (!request.is_object()) {
    return error_reply("SerializationException", "request body must be a JSON object");
  }
  if (operation == "CreateStateMachine") return create(request, now);
  if (operation == "DescribeStateMachine") return describe(request);
  if (operation == "ListStateMachines") return list(request);
  if (operation == "UpdateStateMachine") return update(request, now);
  if (operation == "DeleteStateMachine") return remove(request);
  if (operation == "ValidateStateMachineDefinition") return validate_definition(request);
  return error_reply("UnknownOperationException", "Unknown operation " + std::string(operation));
}

ApiReply StateMachineCatalog::create(const json& request, TimePoint now) {
  std::string name = string_member(request, "name");
  if (!request.contains("name")) return missing("name");
  if (!request.contains("definition")) return missing("definition");
  if (!is_valid_name(name)) return error_reply("InvalidName", "Invalid Name: '" + name + "'");
  std::string type = request.contains("type") ? string_member(request, "type") : "STANDARD";
  if (type != "STANDARD" && type != "EXPRESS") {
    return error_reply("ValidationException",
                       "1 validation error detected: Value '" + type +
                           "' at 'type' failed to satisfy constraint: Member must satisfy enum "
                           "value set: [STANDARD, EXPRESS]");
  }
  std::string definition = string_member(request, "definition");
  if (auto checked = check_definition(definition, type == "EXPRESS"); !checked) {
    return error_reply("InvalidDefinition", asl::invalid_definition_message(checked.error()));
  }
  auto existing = machines_.find(name);
  if (existing != machines_.end()) {
    // Idempotent on name + definition text + type; role and tags are ignored.
    if (existing->second.definition == definition && existing->second.type == type) {
      return ApiReply{200, json{{"stateMachineArn", existing->second.arn},
                                {"creationDate", epoch_seconds(existing->second.creation_date)}}};
    }
    return error_reply("StateMachineAlreadyExists",
                       "State Machine Already Exists: '" + existing->second.arn + "'");
  }
  StateMachineRecord record;
  record.name = name;
  record.arn = state_machine_arn(scope_, name);
  record.type = type;
  record.definition = definition;
  record.role_arn = string_member(request, "roleArn");
  record.creation_date = now;
  record.update_date = now;
  auto& stored = machines_[name] = std::move(record);
  return ApiReply{200, json{{"stateMachineArn", stored.arn},
                            {"creationDate", epoch_seconds(stored.creation_date)}}};
}

ApiReply StateMachineCatalog::describe(const json& request) const {
  if (!request.contains("stateMachineArn")) return missing("stateMachineArn");
  std::string arn = string_member(request, "stateMachineArn");
  if (!state_machine_name_from_arn(scope_, arn)) {
    return error_reply("InvalidArn",
                       "Invalid Arn: 'Resource type not valid in this context: " + arn + "'");
  }
  const StateMachineRecord* m = find_by_arn(arn);
  if (m == nullptr) {
    return error_reply("StateMachineDoesNotExist", "State Machine Does Not Exist: '" + arn + "'");
  }
  return ApiReply{200, describe_body(*m)};
}

ApiReply StateMachineCatalog::list(const json& request) const {
  ApiReply refusal;
  auto max_results = page_size(request, &refusal);
  if (!max_results) return refusal;
  auto it = machines_.begin();
  if (std::string token = string_member(request, "nextToken"); !token.empty()) {
    // The token is the name of the first machine of the next page.
    it = machines_.lower_bound(token);
  }
  json items = json::array();
  for (; it != machines_.end() && items.size() < *max_results; ++it) {
    const auto& m = it->second;
    items.push_back(json{{"stateMachineArn", m.arn},
                         {"name", m.name},
                         {"type", m.type},
                         {"creationDate", epoch_seconds(m.creation_date)}});
  }
  json body{{"stateMachines", std::move(items)}};
  if (it != machines_.end()) body["nextToken"] = it->first;
  return ApiReply{200, std::move(body)};
}

ApiReply StateMachineCatalog::update(const json& request, TimePoint now) {
  if (!request.contains("stateMachineArn")) return missing("stateMachineArn");
  std::string arn = string_member(request, "stateMachineArn");
  auto name = state_machine_name_from_arn(scope_, arn);
  if (!name) {
    return error_reply("InvalidArn",
                       "Invalid Arn: 'Resource type not valid in this context: " + arn + "'");
  }
  auto found = machines_.find(*name);
  if (found == machines_.end()) {
    return error_reply("StateMachineDoesNotExist", "State Machine Does Not Exist: '" + arn + "'");
  }
  bool has_definition = request.contains("definition");
  bool has_role = request.contains("roleArn");
  if (!has_definition && !has_role && !request.contains("loggingConfiguration") &&
      !request.contains("tracingConfiguration")) {
    return error_reply("MissingRequiredParameter",
                       "Either the definition, the role ARN, the LoggingConfiguration, or the "
                       "TracingConfiguration must be specified");
  }
  StateMachineRecord& m = found->second;
  if (has_definition) {
    std::string definition = string_member(request, "definition");
    if (auto checked = check_definition(definition, m.type == "EXPRESS"); !checked) {
      return error_reply("InvalidDefinition", asl::invalid_definition_message(checked.error()));
    }
    m.definition = definition;
  }
  if (has_role) m.role_arn = string_member(request, "roleArn");
  m.update_date = now;
  ++m.revision;
  return ApiReply{
      200, json{{"updateDate", epoch_seconds(now)}, {"revisionId", std::to_string(m.revision)}}};
}

ApiReply StateMachineCatalog::remove(const json& request) {
  if (!request.contains("stateMachineArn")) return missing("stateMachineArn");
  std::string arn = string_member(request, "stateMachineArn");
  auto name = state_machine_name_from_arn(scope_, arn);
  if (!name) {
    return error_reply("InvalidArn",
                       "Invalid Arn: 'Resource type not valid in this context: " + arn + "'");
  }
  // DeleteStateMachine of a machine that does not exist succeeds (AWS does too).
  machines_.erase(*name);
  return ApiReply{200, json::object()};
}

ApiReply validate_definition(const json& request) {
  if (!request.is_object() || !request.contains("definition")) return missing("definition");
  std::string severity =
      request.contains("severity") ? string_member(request, "severity") : "ERROR";
  int max_results = 100;
  if (auto it = request.find("maxResults"); it != request.end() && it->is_number_integer()) {
    max_results = std::clamp(it->get<int>(), 0, 100);
    if (max_results == 0) max_results = 100;
  }
  bool is_express = string_member(request, "type") == "EXPRESS";
  auto checked = check_definition(string_member(request, "definition"), is_express);
  json diagnostics = json::array();
  bool has_error = false;
  bool truncated = false;
  if (!checked) {
    for (const auto& d : checked.error()) {
      if (d.severity == "ERROR") has_error = true;
      if (severity == "ERROR" && d.severity != "ERROR") continue;
      if (static_cast<int>(diagnostics.size()) >= max_results) {
        truncated = true;
        continue;
      }
      json entry{{"severity", d.severity}, {"code", d.code}, {"message", d.message}};
      if (!d.location.empty()) entry["location"] = d.location;
      diagnostics.push_back(std::move(entry));
    }
  }
  return ApiReply{200, json{{"result", has_error ? "FAIL" : "OK"},
                            {"diagnostics", std::move(diagnostics)},
                            {"truncated", truncated}}};
}

}  // namespace helix::states
