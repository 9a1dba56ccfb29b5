// The messages between the controller and a node agent, one schema for
// every transport (MPI today; the embedded agent calls LocalExecutor
// directly and needs none). Each message is one JSON object with "v" (the
// schema version), "type" and the type's fields. A message of another
// version or an unknown type is refused with the reason, never guessed at.
//
//   agent -> controller: hello {node, pid, computeEnvironment, topologyXml, vcpus, memoryMib, gpus}
//                        refused {reason}        (the agent cannot join)
//                        event {event}           (an ExecEvent)
//                        recovered {events}      (the answer to recover)
//                        heartbeat {}
//   controller -> agent: launch {spec}, terminate {task}, kill {task},
//                        forget {task}, recover {tasks}, shutdown {}
#pragma once

#include <set>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "workers/exec_types.h"

namespace helix::workers {

inline constexpr int kAgentSchemaVersion = 1;

struct HelloMessage {
  std::string node;
  int64_t pid = 0;                  // the agent process, for admins and tests
  std::string compute_environment;  // empty: serves every compute environment
  std::string topology_xml;
  int64_t vcpus = 0;
  int64_t memory_mib = 0;
  int64_t gpus = 0;
  std::vector<int> pus;  // OS indexes jobs may be bound to (emulated ones for an emulated node)
  // Where MPI reaches this node (its hostname) and, per entry of `pus`, the
  // real OS index it runs on (the same list unless the node is emulated):
  // what a multi-node job's rankfile needs.
  std::string host;
  std::vector<int> real_pus;
};
struct RefusedMessage {
  std::string reason;
};
struct EventMessage {
  ExecEvent event;
};
struct RecoveredMessage {
  std::vector<ExecEvent> events;
};
struct HeartbeatMessage {};
struct LaunchMessage {
  LaunchSpec spec;
};
struct SignalMessage {
  enum class Kind { kTerminate, kKill, kForget } kind;
  std::string task_id;
};
struct RecoverMessage {
  std::set<std::string> task_ids;
};
struct ShutdownMessage {};

using AgentMessage =
    std::variant<HelloMessage, RefusedMessage, EventMessage, RecoveredMessage, HeartbeatMessage,
                 LaunchMessage, SignalMessage, RecoverMessage, ShutdownMessage>;

std::string encode_message(const AgentMessage& message);

// Errors: InvalidInput naming the problem (not JSON, another version,
// unknown type, a missing or mistyped field).
Result<AgentMessage> decode_message(const std::string& text);

}  // namespace helix::workers
