// StatesService: the Step Functions HTTP front of helixd. Decodes
// `X-Amz-Target: AWSStepFunctions.<Operation>` requests (POST /), answers
// ValidateStateMachineDefinition and TestState itself, serves the reads of executions
// (DescribeExecution, ListExecutions, GetExecutionHistory) from the store's
// reader connections, and hands every other operation to the controller's
// loop (ExecutionService) through `on_loop`.
//
// Owns: the JSON 1.0 framing of replies and the read operations. Does not
// own: authentication (batch_api.cpp verifies SigV4 or peer credentials
// before routing here) or any state (the loop and the store do).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "protocol/http_server.h"
#include "queues/job.h"
#include "scheduler/controller/states_api.h"
#include "scheduler/controller/store.h"

namespace helix::states {

class StatesService {
 public:
  using OnLoop = std::function<ApiReply(const std::string& operation, const nlohmann::json& request,
                                        const queues::Owner& caller)>;
  // Blocks until the controller commits a loop iteration after
  // *generation (updating it) or the deadline passes; false when helixd is
  // stopping. GetActivityTask long-polls with it.
  using WaitForCommit =
      std::function<bool(uint64_t* generation, std::chrono::steady_clock::time_point deadline)>;
  StatesService(controller::Store& store, OnLoop on_loop, WaitForCommit wait_for_commit,
                ArnScope scope = {})
      : store_(store),
        on_loop_(std::move(on_loop)),
        wait_for_commit_(std::move(wait_for_commit)),
        scope_(std::move(scope)) {}

  // Thread safe. `target` is the X-Amz-Target header; `body` the raw body.
  protocol::HttpResponse handle_http(const std::string& target, const std::string& body,
                                     const queues::Owner& caller);

 private:
  ApiReply describe_execution(const nlohmann::json& request);
  ApiReply list_executions(const nlohmann::json& request);
  ApiReply get_execution_history(const nlohmann::json& request);
  ApiReply test_state(const nlohmann::json& request);
  ApiReply get_activity_task(const nlohmann::json& request, const queues::Owner& caller);
  ApiReply start_sync_execution(const nlohmann::json& request, const queues::Owner& caller);

  controller::Store& store_;
  OnLoop on_loop_;
  WaitForCommit wait_for_commit_;
  ArnScope scope_;
  std::atomic<uint64_t> request_count_{0};
};

}  // namespace helix::states
