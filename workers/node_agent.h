// NodeAgent: what the controller sees of one node's worker, whether it runs
// inside helixd (LocalExecutor, the embedded default) or on another node
// behind the MPI transport (workers/mpi_fabric.h). The controller drives
// every node through this interface and receives ExecEvents (tagged with
// their task id, unique across nodes) through the sink it gave.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "workers/exec_types.h"

namespace helix::workers {

class NodeAgent {
 public:
  virtual ~NodeAgent() = default;

  // As LocalExecutor::recover: one event per id, at start-up only.
  virtual std::vector<ExecEvent> recover(const std::set<std::string>& task_ids) = 0;
  virtual void launch(const LaunchSpec& spec) = 0;
  virtual void terminate(const std::string& task_id) = 0;
  virtual void kill(const std::string& task_id) = 0;
  virtual void forget(const std::string& task_id) = 0;
};

}  // namespace helix::workers
