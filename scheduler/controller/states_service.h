// StatesService: the Step Functions service inside helixd. Today it serves
// the state machine operations of states_api.h over HTTP (POST / with
// X-Amz-Target: AWSStepFunctions.<Operation>); executions are not yet run.
//
// Owns: the catalogue and its lock (handle is called from every HTTP
// connection thread). Does not own: authentication (batch_api.cpp verifies
// SigV4 or peer credentials before routing here), durability (in memory:
// state machines do not survive a restart yet).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/time.h"
#include "protocol/http_server.h"
#include "scheduler/controller/states_api.h"

namespace helix::states {

class StatesService {
 public:
  // Thread safe. `target` is the X-Amz-Target header; `body` the raw body.
  protocol::HttpResponse handle_http(const std::string& target, const std::string& body,
                                     TimePoint now);

 private:
  std::mutex mutex_;
  StateMachineCatalog catalog_;
  std::atomic<uint64_t> request_count_{0};
};

}  // namespace helix::states
