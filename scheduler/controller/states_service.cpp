#include "scheduler/controller/states_service.h"

#include <cstdio>

namespace helix::states {

protocol::HttpResponse StatesService::handle_http(const std::string& target,
                                                  const std::string& body, TimePoint now) {
  ApiReply reply;
  auto operation = operation_from_target(target);
  if (!operation) {
    reply = error_reply("UnknownOperationException", operation.error().to_string());
  } else {
    nlohmann::json request = body.empty()
                                 ? nlohmann::json::object()
                                 : nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      reply = error_reply("SerializationException", "the request body is not a JSON object");
    } else if (*operation == "ValidateStateMachineDefinition") {
      reply = validate_definition(request);  // needs no lock
    } else {
      std::lock_guard lock(mutex_);
      reply = catalog_.handle(*operation, request, now);
    }
  }
  protocol::HttpResponse response;
  response.status = reply.status;
  response.body = reply.body.dump();
  char request_id[40];
  std::snprintf(request_id, sizeof request_id, "states-%016llx",
                static_cast<unsigned long long>(++request_count_));
  response.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                      {"x-amzn-RequestId", request_id}};
  if (reply.status != 200 && reply.body.contains("__type")) {
    response.headers.emplace_back("x-amzn-ErrorType", reply.body["__type"].get<std::string>());
  }
  return response;
}

}  // namespace helix::states
