// The CLI's HTTP client for helixd: AWS Batch REST-JSON (POST /v1/<op>)
// and helix's extension endpoints (/helix/v1/...), over a Unix socket or
// SigV4-signed http:// on loopback.
//
// Owns: building the wire request (exact body bytes, host, content-type,
// signature), sending it with cpp-httplib, and turning an error reply into
// an Error carrying the server's message unchanged. Does not own: what the
// requests mean (the command files) or retries (there are none: helixd
// answers caller mistakes with 4xx, and the CLI reports a 5xx as it is).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/endpoint.h"
#include "common/error.h"
#include "protocol/sigv4.h"

namespace helix::cli {

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First header with this name, case-insensitive.
  std::optional<std::string> header(const std::string& name) const;
};

// The Error of a non-2xx reply, its message as the server wrote it:
// - the body's "message" (or "Message", as botocore also accepts) when the
//   body is a JSON object with one; the error type (x-amzn-ErrorType up to
//   its first ':', else the body's "__type" or "code") is not shown, since
//   helixd's messages already name the field;
// - otherwise "HTTP <status>: <body, first line>" or "HTTP <status>".
// The code is NotFound for 404, PermissionDenied for 401 and 403,
// InvalidInput for other 4xx, Unavailable for 5xx and anything else.
Error error_from_reply(const HttpReply& reply);

// How the CLI signs: credentials and region, for http:// endpoints.
struct Signer {
  protocol::Credentials credentials;
  std::string region;
};

class ApiClient {
 public:
  // `signer` is required for an http:// endpoint and ignored for a socket.
  ApiClient(Endpoint endpoint, std::optional<Signer> signer);

  const Endpoint& endpoint() const { return endpoint_; }

  // Sends one request. `path` and `raw_query` go on the wire exactly as given
  // (the caller percent-encodes; see protocol/percent_encoding.h); `body` is
  // sent, and signed, byte for byte, with content-type application/json when
  // not empty. Unavailable, naming the endpoint, when helixd cannot be
  // reached or does not answer within `timeout`. Any HTTP status is a reply.
  Result<HttpReply> send(const std::string& method, const std::string& path,
                         const std::string& raw_query, const std::string& body,
                         std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  // The same for the AWS JSON 1.0 protocol: POST / with X-Amz-Target,
  // content-type application/x-amz-json-1.0, signed for `service`.
  Result<HttpReply> send_target(const std::string& target, const std::string& service,
                                const std::string& body) const;

  // One Step Functions operation (AWSStepFunctions.<operation>).
  Result<nlohmann::json> states(const std::string& operation, const nlohmann::json& request) const;

  // POST /v1/<operation> with `request` as the body; the reply body parsed
  // as JSON when the status is 2xx, else error_from_reply(). Corruption when
  // a 2xx body is not JSON.
  Result<nlohmann::json> batch(const std::string& operation, const nlohmann::json& request) const;

  // GET `path`?`raw_query`, answered with a JSON body (whoami, wait).
  Result<nlohmann::json> get_json(const std::string& path, const std::string& raw_query,
                                  std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  // POST `path` on a helix extension endpoint with a JSON body.
  Result<nlohmann::json> post_json(const std::string& path, const nlohmann::json& request) const;

 private:
  struct JsonTarget {
    std::string target, service, content_type;
  };
  Result<HttpReply> send_with(const std::string& method, const std::string& path,
                              const std::string& raw_query, const std::string& body,
                              std::chrono::seconds timeout,
                              const std::optional<JsonTarget>& json_target) const;
  Result<nlohmann::json> parse_reply(Result<HttpReply> reply, const std::string& what) const;

  Endpoint endpoint_;
  std::optional<Signer> signer_;
};

// An ApiClient for the resolved endpoint, with credentials from
// resolve_credentials() when the endpoint is http://.
Result<ApiClient> make_api_client(const std::optional<std::string>& endpoint_flag,
                                  const EnvLookup& env, uid_t euid);

}  // namespace helix::cli
