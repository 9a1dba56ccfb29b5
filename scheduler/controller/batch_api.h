// BatchApi: the AWS Batch REST-JSON wire protocol (POST /v1/<operation>)
// and helix's extension endpoints (/helix/v1/...) over the controller.
// Authenticates every request (Unix peer credentials or SigV4), maps
// helix::Error to the AWS error shape, and serves describe/list calls from
// the store's readers without touching the controller's loop.
#pragma once

#include "common/clock.h"
#include "protocol/http_server.h"
#include "scheduler/controller/controller.h"

namespace helix::controller {

class BatchApi {
 public:
  BatchApi(Controller& controller, Clock& clock) : controller_(controller), clock_(clock) {}
  // Thread safe: called from every HTTP connection thread.
  protocol::HttpResponse handle(const protocol::HttpRequest& request);

 private:
  Controller& controller_;
  Clock& clock_;
};

}  // namespace helix::controller
