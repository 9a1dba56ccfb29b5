#include "workers/agent_messages.h"

namespace helix::workers {

using nlohmann::json;

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

const char* kind_name(ExecEvent::Kind kind) {
  switch (kind) {
    case ExecEvent::Kind::kStarted:
      return "started";
    case ExecEvent::Kind::kExited:
      return "exited";
    case ExecEvent::Kind::kStartFailed:
      return "startFailed";
    case ExecEvent::Kind::kLost:
      return "lost";
  }
  return "?";
}

json event_to_json(const ExecEvent& e) {
  json j = {{"kind", kind_name(e.kind)},
            {"task", e.task_id},
            {"pid", e.pid},
            {"userSeconds", e.usage.user_seconds},
            {"systemSeconds", e.usage.system_seconds},
            {"maxRssKiB", e.usage.max_rss_kib},
            {"oomKilled", e.oom_killed},
            {"startedAtMicros", to_epoch_us(e.started_at)},
            {"endedAtMicros", to_epoch_us(e.ended_at)},
            {"reason", e.reason}};
  if (e.exit_code) j["exitCode"] = *e.exit_code;
  if (e.term_signal) j["signal"] = *e.term_signal;
  return j;
}

ExecEvent event_from_json(const json& j) {
  ExecEvent e;
  std::string kind = j.at("kind").get<std::string>();
  if (kind == "started") {
    e.kind = ExecEvent::Kind::kStarted;
  } else if (kind == "exited") {
    e.kind = ExecEvent::Kind::kExited;
  } else if (kind == "startFailed") {
    e.kind = ExecEvent::Kind::kStartFailed;
  } else if (kind == "lost") {
    e.kind = ExecEvent::Kind::kLost;
  } else {
    throw std::invalid_argument("event.kind \"" + kind + "\" is not a known event kind");
  }
  e.task_id = j.at("task").get<std::string>();
  e.pid = j.at("pid").get<pid_t>();
  e.usage.user_seconds = j.at("userSeconds").get<double>();
  e.usage.system_seconds = j.at("systemSeconds").get<double>();
  e.usage.max_rss_kib = j.at("maxRssKiB").get<int64_t>();
  e.oom_killed = j.at("oomKilled").get<bool>();
  e.started_at = from_epoch_us(j.at("startedAtMicros").get<int64_t>());
  e.ended_at = from_epoch_us(j.at("endedAtMicros").get<int64_t>());
  e.reason = j.at("reason").get<std::string>();
  if (j.contains("exitCode")) e.exit_code = j["exitCode"].get<int>();
  if (j.contains("signal")) e.term_signal = j["signal"].get<int>();
  return e;
}

json spec_to_json(const LaunchSpec& s) {
  json j = {{"task", s.task_id},        {"argv", s.argv},    {"env", s.env},
            {"cwd", s.working_dir},     {"log", s.log_path}, {"cpus", s.cpus},
            {"numaNodes", s.numa_nodes}};
  if (s.uid) j["uid"] = *s.uid;
  if (s.gid) j["gid"] = *s.gid;
  if (s.memory_limit_mib) j["memoryLimitMib"] = *s.memory_limit_mib;
  if (s.container)
    j["container"] = {{"layout", s.container->layout},
                      {"tag", s.container->tag},
                      {"mounts", s.container->mounts}};
  return j;
}

LaunchSpec spec_from_json(const json& j) {
  LaunchSpec s;
  s.task_id = j.at("task").get<std::string>();
  s.argv = j.at("argv").get<std::vector<std::string>>();
  s.env = j.at("env").get<std::vector<std::string>>();
  s.working_dir = j.at("cwd").get<std::string>();
  s.log_path = j.at("log").get<std::string>();
  s.cpus = j.at("cpus").get<std::vector<int>>();
  s.numa_nodes = j.at("numaNodes").get<std::vector<int>>();
  if (j.contains("uid")) s.uid = j["uid"].get<uid_t>();
  if (j.contains("gid")) s.gid = j["gid"].get<gid_t>();
  if (j.contains("memoryLimitMib")) s.memory_limit_mib = j["memoryLimitMib"].get<int64_t>();
  if (j.contains("container"))
    s.container = ContainerLaunch{j["container"].at("layout").get<std::string>(),
                                  j["container"].at("tag").get<std::string>(),
                                  j["container"].at("mounts").get<std::vector<std::string>>()};
  return s;
}

const char* signal_type(SignalMessage::Kind kind) {
  switch (kind) {
    case SignalMessage::Kind::kTerminate:
      return "terminate";
    case SignalMessage::Kind::kKill:
      return "kill";
    case SignalMessage::Kind::kForget:
      return "forget";
  }
  return "?";
}

}  // namespace

std::string encode_message(const AgentMessage& message) {
  json j = std::visit(Overloaded{
                          [](const HelloMessage& m) {
                            return json{{"type", "hello"},
                                        {"node", m.node},
                                        {"pid", m.pid},
                                        {"computeEnvironment", m.compute_environment},
                                        {"topologyXml", m.topology_xml},
                                        {"vcpus", m.vcpus},
                                        {"memoryMib", m.memory_mib},
                                        {"gpus", m.gpus},
                                        {"pus", m.pus},
                                        {"host", m.host},
                                        {"realPus", m.real_pus}};
                          },
                          [](const RefusedMessage& m) {
                            return json{{"type", "refused"}, {"reason", m.reason}};
                          },
                          [](const EventMessage& m) {
                            return json{{"type", "event"}, {"event", event_to_json(m.event)}};
                          },
                          [](const RecoveredMessage& m) {
                            json events = json::array();
                            for (const auto& e : m.events) events.push_back(event_to_json(e));
                            return json{{"type", "recovered"}, {"events", events}};
                          },
                          [](const HeartbeatMessage&) {
                            return json{{"type", "heartbeat"}};
                          },
                          [](const LaunchMessage& m) {
                            return json{{"type", "launch"}, {"spec", spec_to_json(m.spec)}};
                          },
                          [](const SignalMessage& m) {
                            return json{{"type", signal_type(m.kind)}, {"task", m.task_id}};
                          },
                          [](const RecoverMessage& m) {
                            return json{{"type", "recover"}, {"tasks", m.task_ids}};
                          },
                          [](const ShutdownMessage&) {
                            return json{{"type", "shutdown"}};
                          },
                      },
                      message);
  j["v"] = kAgentSchemaVersion;
  return j.dump();
}

Result<AgentMessage> decode_message(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return fail(Error::invalid("", std::string("agent message is not JSON: ") + e.what()));
  }
  if (!j.is_object()) return fail(Error::invalid("", "agent message is not a JSON object"));
  if (!j.contains("v") || !j["v"].is_number_integer())
    return fail(Error::invalid("v", "agent message has no schema version"));
  if (j["v"].get<int>() != kAgentSchemaVersion)
    return fail(Error::invalid("v", "agent message schema version " + j["v"].dump() + " is not " +
                                        std::to_string(kAgentSchemaVersion) +
                                        ", the version this helixd speaks"));
  std::string type = j.value("type", "");
  try {
    if (type == "hello")
      return HelloMessage{j.at("node").get<std::string>(),
                          j.at("pid").get<int64_t>(),
                          j.at("computeEnvironment").get<std::string>(),
                          j.at("topologyXml").get<std::string>(),
                          j.at("vcpus").get<int64_t>(),
                          j.at("memoryMib").get<int64_t>(),
                          j.at("gpus").get<int64_t>(),
                          j.at("pus").get<std::vector<int>>(),
                          j.at("host").get<std::string>(),
                          j.at("realPus").get<std::vector<int>>()};
    if (type == "refused") return RefusedMessage{j.at("reason").get<std::string>()};
    if (type == "event") return EventMessage{event_from_json(j.at("event"))};
    if (type == "recovered") {
      RecoveredMessage m;
      for (const auto& e : j.at("events")) m.events.push_back(event_from_json(e));
      return m;
    }
    if (type == "heartbeat") return HeartbeatMessage{};
    if (type == "launch") return LaunchMessage{spec_from_json(j.at("spec"))};
    if (type == "terminate")
      return SignalMessage{SignalMessage::Kind::kTerminate, j.at("task").get<std::string>()};
    if (type == "kill")
      return SignalMessage{SignalMessage::Kind::kKill, j.at("task").get<std::string>()};
    if (type == "forget")
      return SignalMessage{SignalMessage::Kind::kForget, j.at("task").get<std::string>()};
    if (type == "recover") return RecoverMessage{j.at("tasks").get<std::set<std::string>>()};
    if (type == "shutdown") return ShutdownMessage{};
  } catch (const std::exception& e) {
    return fail(Error::invalid(type, "agent message \"" + type + "\": " + e.what()));
  }
  return fail(Error::invalid("type", "agent message type \"" + type + "\" is unknown"));
}

}  // namespace helix::workers
