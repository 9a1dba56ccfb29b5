// MpiFabric: the controller's side of the MPI transport. `mpirun -np N+1
// helixd --mpi ...` makes rank 0 the controller and ranks 1..N node agents
// (run_mpi_agent). Each agent says hello with its topology; the controller
// then drives it through a NodeAgent proxy whose calls become messages
// (workers/agent_messages.h), and its ExecEvents come back to the same sink
// the embedded executor uses. Agents heartbeat; one that falls silent for
// `heartbeat_timeout` is declared down: every attempt it was running is
// reported kLost with a reason naming the node, so the controller retries
// them elsewhere under their retry strategy.
//
// MPI use: one communication thread per process makes every MPI call after
// MPI_Init_thread (MPI_THREAD_SERIALIZED is enough); messages are JSON text
// on one tag of MPI_COMM_WORLD, whose error handler is set to return errors
// so that a dead peer fails a call instead of aborting this process.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "workers/agent_messages.h"
#include "workers/node_agent.h"

namespace helix::workers {

struct MpiNode {
  int rank = 0;
  HelloMessage hello;
};

class MpiFabric {
 public:
  // On rank 0, after MPI_Init_thread. `sink` receives every agent's events
  // (from the fabric's thread); `on_down` is told the node's name when it is
  // declared down, before its attempts are reported lost.
  static Result<std::unique_ptr<MpiFabric>> start(ExecEventSink sink,
                                                  std::function<void(std::string)> on_down,
                                                  std::chrono::milliseconds heartbeat_timeout);
  // Tells every agent to shut down (their attempts keep running: they are
  // supervised by their shims) and stops the thread.
  ~MpiFabric();

  // Waits until every agent rank said hello or refused. Errors: Unavailable
  // listing the ranks that refused (with their reasons) or never answered.
  Result<std::vector<MpiNode>> wait_for_agents(std::chrono::milliseconds timeout);

  // The proxy of an agent that said hello; owned by the fabric.
  NodeAgent& agent(int rank);

  struct Impl;

 private:
  explicit MpiFabric(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct MpiAgentOptions {
  std::string state_dir;  // the agent's run records and logs live under it
  std::string shim_path;
  std::string node_name;            // empty: "<hostname>-<rank>"
  std::string compute_environment;  // empty: every compute environment
  // An emulated node: an hwloc synthetic description or an XML file instead
  // of this machine's topology. Its PU i runs on this machine's allowed PU
  // (i mod count), its NUMA node j binds to real NUMA node (j mod count).
  std::string topology;
  std::chrono::milliseconds heartbeat_interval{500};
};

// The agent's main loop on ranks >= 1; returns the process's exit status
// once the controller says shutdown (or is gone).
int run_mpi_agent(const MpiAgentOptions& options);

}  // namespace helix::workers
