#include "cli/api_client.h"

#include <sys/socket.h>

#include <strings.h>

#include <httplib.h>

#include "cli/aws_identity.h"

namespace helix::cli {

using nlohmann::json;

std::optional<std::string> HttpReply::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  return std::nullopt;
}

Error error_from_reply(const HttpReply& reply) {
  std::string message;
  json body = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    for (const char* key : {"message", "Message"})
      if (body.contains(key) && body[key].is_string()) {
        message = body[key].get<std::string>();
        break;
      }
  }
  if (message.empty()) {
    message = "HTTP " + std::to_string(reply.status);
    std::string first_line = reply.body.substr(0, reply.body.find('\n'));
    if (!first_line.empty()) message += ": " + first_line.substr(0, 200);
  }
  if (reply.status == 404) return Error::not_found(message);
  if (reply.status == 401 || reply.status == 403) return Error::permission_denied(message);
  if (reply.status >= 400 && reply.status < 500) return Error(ErrorCode::kInvalidInput, message);
  return Error::unavailable(message);
}

ApiClient::ApiClient(Endpoint endpoint, std::optional<Signer> signer)
    : endpoint_(std::move(endpoint)), signer_(std::move(signer)) {}

Result<HttpReply> ApiClient::send(const std::string& method, const std::string& path,
                                  const std::string& raw_query, const std::string& body,
                                  std::chrono::seconds timeout) const {
  return send_with(method, path, raw_query, body, timeout, {});
}

Result<HttpReply> ApiClient::send_target(const std::string& target, const std::string& service,
                                         const std::string& body) const {
  return send_with("POST", "/", "", body, std::chrono::seconds(60),
                   JsonTarget{target, service, "application/x-amz-json-1.0"});
}

Result<json> ApiClient::states(const std::string& operation, const json& request) const {
  return parse_reply(send_target("AWSStepFunctions." + operation, "states", request.dump()),
                     operation);
}

Result<HttpReply> ApiClient::send_with(const std::string& method, const std::string& path,
                                       const std::string& raw_query, const std::string& body,
                                       std::chrono::seconds timeout,
                                       const std::optional<JsonTarget>& json_target) const {
  const std::string content_type =
      json_target ? json_target->content_type : std::string("application/json");
  const std::string service = json_target ? json_target->service : std::string("batch");
  std::optional<httplib::Client> client;
  if (endpoint_.is_unix_socket()) {
    client.emplace(endpoint_.socket_path);
    client->set_address_family(AF_UNIX);
  } else {
    client.emplace(endpoint_.host, endpoint_.port);
  }
  // The path is already encoded, and its bytes are what was signed.
  client->set_url_encode(false);
  client->set_connection_timeout(std::chrono::seconds(5));
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);

  httplib::Headers headers;
  if (!endpoint_.is_unix_socket()) {
    if (!signer_)
      return fail(Error::internal("no credentials to sign a request to " + endpoint_.url()));
    protocol::WireRequest wire;
    wire.method = method;
    wire.raw_path = path;
    wire.raw_query = raw_query;
    wire.headers.emplace_back("host", endpoint_.host_header());
    if (!body.empty()) wire.headers.emplace_back("content-type", content_type);
    if (json_target) wire.headers.emplace_back("x-amz-target", json_target->target);
    wire.body = body;
    protocol::sign_request(
        wire, signer_->credentials, signer_->region, service,
        std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
    // content-type travels as httplib's content_type argument below, once.
    for (const auto& [name, value] : wire.headers)
      if (strcasecmp(name.c_str(), "content-type") != 0) headers.emplace(name, value);
  } else if (json_target) {
    headers.emplace("X-Amz-Target", json_target->target);
  }
  std::string target = raw_query.empty() ? path : path + "?" + raw_query;
  httplib::Result result = [&] {
    if (method == "GET") return client->Get(target, headers);
    return client->Post(target, headers, body, body.empty() ? "" : content_type.c_str());
  }();
  if (!result) {
    return fail(Error::unavailable("cannot reach helixd at " + endpoint_.url() + " (" +
                                   httplib::to_string(result.error()) + "); is helixd running?"));
  }
  HttpReply reply;
  reply.status = result->status;
  reply.body = result->body;
  for (const auto& [name, value] : result->headers) reply.headers.emplace_back(name, value);
  return reply;
}

Result<json> ApiClient::parse_reply(Result<HttpReply> reply, const std::string& what) const {
  if (!reply) return fail(reply.error());
  if (reply->status < 200 || reply->status > 299) return fail(error_from_reply(*reply));
  json parsed = json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    return fail(Error::corruption("helixd answered " + what + " with a body that is not JSON"));
  return parsed;
}

Result<json> ApiClient::batch(const std::string& operation, const json& request) const {
  return parse_reply(send("POST", "/v1/" + operation, "", request.dump()), operation);
}

Result<json> ApiClient::get_json(const std::string& path, const std::string& raw_query,
                                 std::chrono::seconds timeout) const {
  return parse_reply(send("GET", path, raw_query, "", timeout), path);
}

Result<json> ApiClient::post_json(const std::string& path, const json& request) const {
  return parse_reply(send("POST", path, "", request.dump()), path);
}

Result<ApiClient> make_api_client(const std::optional<std::string>& endpoint_flag,
                                  const EnvLookup& env, uid_t euid) {
  auto endpoint = resolve_endpoint(endpoint_flag, env, euid);
  if (!endpoint) return fail(endpoint.error());
  if (endpoint->is_unix_socket()) return ApiClient(*endpoint, std::nullopt);
  auto credentials = resolve_credentials(env, euid);
  if (!credentials) return fail(credentials.error());
  return ApiClient(*endpoint, Signer{*credentials, resolve_region(env)});
}

}  // namespace helix::cli
