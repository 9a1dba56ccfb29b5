// HttpServer: helixd's HTTP listeners (libmicrohttpd), one on a TCP port of
// 127.0.0.1 and one on a Unix socket. Every request is handed whole (raw
// path and query for SigV4, headers, body) to one handler, with the peer's
// credentials when it came over the Unix socket (SO_PEERCRED), which is how
// helixd knows which local user submitted a job.
//
// Threading: one thread per connection, so a handler may block (long-poll
// endpoints such as `helix wait`); the handler must be thread safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "protocol/sigv4.h"

namespace helix::protocol {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct HttpRequest {
  WireRequest wire;
  std::string path;                                        // raw_path percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::optional<PeerCredentials> peer;                     // set for Unix-socket requests

  std::optional<std::string> query_param(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // TCP port on 127.0.0.1; 0 picks a free one (see HttpServer::tcp_port()).
  // nullopt: no TCP listener.
  std::optional<uint16_t> tcp_port = 0;
  // Unix socket path; empty: none. A stale socket file is replaced.
  std::string unix_socket_path;
  // File mode of the socket (0666 lets every local user reach helixd;
  // identity comes from SO_PEERCRED, not from the mode).
  unsigned unix_socket_mode = 0666;
  // Bodies larger than this get 413 with the AWS error shape
  // ({"__type":"ClientException","message":"request body exceeds N bytes"},
  // x-amzn-ErrorType: ClientException) and never reach the handler. They are
  // read and dropped, not kept, so the client sees the reply; past 64 MiB
  // the reply goes out at once and the connection is closed.
  size_t max_body_bytes = 1 << 20;
};

class HttpServer {
 public:
  // Binds and starts serving; fails with Unavailable when a listener cannot
  // be bound, naming the address.
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options,
                                                   HttpHandler handler);
  ~HttpServer();  // stops listening and waits for in-flight requests

  uint16_t tcp_port() const;

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace helix::protocol
