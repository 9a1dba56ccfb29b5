#include "protocol/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "protocol/percent_encoding.h"

// libmicrohttpd 0.9.75 notes, each of which a test pins:
// - The access handler's `url` is the path only, already unescaped, and MHD
//   parses the query into GET arguments, also unescaped. SigV4 needs both
//   exactly as sent, so the full request target is taken from the URI log
//   callback (called before MHD touches it) and the unescape callback is a
//   no-op (so MHD does no decoding work we throw away).
// - MHD binds nothing here: we create, bind and listen on both sockets
//   ourselves (better error messages, the Unix socket's mode) and hand them
//   over with MHD_OPTION_LISTEN_SOCKET; MHD closes them when it stops.
// - A response queued before the body has been read makes MHD discard the
//   rest of the request and close the connection after the reply; the
//   client, still writing, then fails with EPIPE or a reset and never reads
//   the reply. Hence oversize bodies are drained (kMaxDrainBytes).

namespace helix::protocol {

namespace {

// How long an idle keep-alive connection stays open. The aws CLI reuses a
// connection for its next request within a command; nothing needs longer.
// MHD also closes idle connections when it stops.
constexpr unsigned kIdleTimeoutSeconds = 60;
// An oversize body up to this size is read and dropped so that the client,
// still sending it, reads the 413; a larger one gets the 413 at once and the
// connection closed, which most clients report as a broken connection.
constexpr uint64_t kMaxDrainBytes = 64ull << 20;
// Request line and headers must fit (MHD's default is 32 KiB).
constexpr size_t kConnectionMemoryBytes = 64 * 1024;

// Per-request state, from the URI log callback to the completion callback.
struct RequestState {
  std::string target;  // "/v1/tags/arn%3A...?tagKeys=a", as sent
  std::string body;
  bool is_too_large = false;
  uint64_t dropped_bytes = 0;  // of an oversize body
  bool has_replied = false;    // an early 413 is queued
  bool has_started = false;    // the access handler has seen this request
};

std::string json_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The AWS REST-JSON error shape that botocore parses (x-amzn-ErrorType
// wins, the body's __type and message back it up).
HttpResponse aws_error(int status, const std::string& type, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", type}};
  r.body = "{\"__type\":\"" + type + "\",\"message\":\"" + json_escape(message) + "\"}";
  return r;
}

size_t keep_raw(void*, MHD_Connection*, char* text) { return std::strlen(text); }

void* on_uri(void*, const char* uri, MHD_Connection*) {
  auto* state = new RequestState;
  state->target = uri;
  return state;
}

void on_completed(void*, MHD_Connection*, void** context, MHD_RequestTerminationCode) {
  delete static_cast<RequestState*>(*context);
  *context = nullptr;
}

MHD_Result add_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
  static_cast<WireRequest*>(cls)->headers.emplace_back(key, value ? value : "");
  return MHD_YES;
}

std::vector<std::pair<std::string, std::string>> decode_query(const std::string& raw_query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < raw_query.size()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string::npos) end = raw_query.size();
    std::string_view pair(raw_query.data() + start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    out.emplace_back(percent_decode(pair.substr(0, eq), true),
                     eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true));
  }
  return out;
}

std::optional<PeerCredentials> peer_of(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info == nullptr) return std::nullopt;
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0)
    return std::nullopt;
  return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

MHD_Result send(MHD_Connection* connection, const HttpResponse& response) {
  MHD_Response* r = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  for (const auto& [name, value] : response.headers) {
    // MHD writes the framing headers itself and refuses duplicates.
    if (strcasecmp(name.c_str(), "Content-Length") == 0 ||
        strcasecmp(name.c_str(), "Transfer-Encoding") == 0)
      continue;
    MHD_add_response_header(r, name.c_str(), value.c_str());
  }
  MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(response.status), r);
  MHD_destroy_response(r);
  return queued;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::optional<std::string> HttpRequest::query_param(const std::string& name) const {
  for (const auto& [key, value] : query)
    if (key == name) return value;
  return std::nullopt;
}

struct HttpServer::Impl {
  // One MHD daemon per listening socket; `this` of the server for callbacks.
  struct Listener {
    Impl* server = nullptr;
    bool is_unix = false;
    MHD_Daemon* daemon = nullptr;
  };

  HttpServerOptions options;
  HttpHandler handler;
  uint16_t tcp_port = 0;
  Listener tcp;
  Listener unix_socket{nullptr, true, nullptr};
  // Set once the Unix socket is bound, so only a file we made is removed.
  bool owns_socket_file = false;

  ~Impl() {
    // Stopping joins every connection thread, so in-flight handlers finish.
    if (tcp.daemon != nullptr) MHD_stop_daemon(tcp.daemon);
    if (unix_socket.daemon != nullptr) MHD_stop_daemon(unix_socket.daemon);
    if (owns_socket_file) ::unlink(options.unix_socket_path.c_str());
  }

  HttpResponse call_handler(const HttpRequest& request) {
    try {
      return handler(request);
    } catch (const std::exception& e) {
      // A throwing handler is a bug; answering 500 keeps the daemon alive.
      return aws_error(500, "ServerException", std::string("internal error: ") + e.what());
    }
  }

  static MHD_Result on_request(void* cls, MHD_Connection* connection, const char*,
                               const char* method, const char*, const char* upload_data,
                               size_t* upload_data_size, void** context) {
    auto* listener = static_cast<Listener*>(cls);
    Impl* self = listener->server;
    auto* state = static_cast<RequestState*>(*context);
    const size_t limit = self->options.max_body_bytes;
    const std::string too_large_message =
        "request body exceeds " + std::to_string(limit) + " bytes";

    if (!state->has_started) {
      state->has_started = true;
      const char* length =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      uint64_t declared = length != nullptr ? std::strtoull(length, nullptr, 10) : 0;
      if (declared > limit) state->is_too_large = true;
      if (declared > kMaxDrainBytes) {
        state->has_replied = true;
        return send(connection, aws_error(413, "ClientException", too_large_message));
      }
      return MHD_YES;
    }
    if (*upload_data_size > 0) {
      // An oversize body is read and dropped rather than left unread: a
      // client still writing its body to a closed connection gets EPIPE
      // and never sees the 413 (httplib, urllib3 both do).
      if (!state->is_too_large && state->body.size() + *upload_data_size <= limit) {
        state->body.append(upload_data, *upload_data_size);
      } else {
        state->is_too_large = true;
        state->dropped_bytes += state->body.size() + *upload_data_size;
        state->body.clear();
        state->body.shrink_to_fit();
      }
      *upload_data_size = 0;
      // A chunked body has no declared length; past the drain limit the
      // 413 goes out early and MHD closes the connection after it.
      if (state->dropped_bytes > kMaxDrainBytes && !state->has_replied) {
        state->has_replied = true;
        return send(connection, aws_error(413, "ClientException", too_large_message));
      }
      return MHD_YES;
    }
    if (state->has_replied) return MHD_YES;
    if (state->is_too_large)
      return send(connection, aws_error(413, "ClientException", too_large_message));

    HttpRequest request;
    request.wire.method = method;
    size_t question = state->target.find('?');
    request.wire.raw_path = state->target.substr(0, question);
    if (question != std::string::npos) request.wire.raw_query = state->target.substr(question + 1);
    request.wire.body = std::move(state->body);
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &add_header, &request.wire);
    request.path = percent_decode(request.wire.raw_path);
    request.query = decode_query(request.wire.raw_query);
    if (listener->is_unix) {
      request.peer = peer_of(connection);
      // Identity on the Unix socket is the peer's uid; never guess it.
      if (!request.peer)
        return send(connection, aws_error(500, "ServerException",
                                          "cannot read the peer credentials of the connection: " +
                                              errno_text()));
    }
    return send(connection, self->call_handler(request));
  }

  Result<void> serve(Listener& listener, int fd, const std::string& address) {
    listener.server = this;
    listener.daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ITC,
        0, nullptr, nullptr, &Impl::on_request, &listener, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_URI_LOG_CALLBACK, &on_uri, nullptr, MHD_OPTION_UNESCAPE_CALLBACK, &keep_raw,
        nullptr, MHD_OPTION_NOTIFY_COMPLETED, &on_completed, nullptr, MHD_OPTION_CONNECTION_TIMEOUT,
        kIdleTimeoutSeconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemoryBytes,
        MHD_OPTION_END);
    if (listener.daemon == nullptr) {
      std::string why = errno_text();
      ::close(fd);
      return fail(Error::unavailable("cannot serve HTTP on " + address, "libmicrohttpd: " + why));
    }
    return {};
  }

  Result<void> listen_tcp(uint16_t port) {
    std::string address = "127.0.0.1:" + std::to_string(port);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(Error::unavailable("cannot listen on " + address, errno_text()));
    int one = 1;
    // A restarted helixd must rebind while old connections sit in TIME_WAIT.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, SOMAXCONN) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      std::string why = errno_text();
      ::close(fd);
      return fail(Error::unavailable("cannot listen on " + address, why));
    }
    tcp_port = ntohs(addr.sin_port);
    return serve(tcp, fd, "127.0.0.1:" + std::to_string(tcp_port));
  }

  Result<void> listen_unix(const std::string& path, unsigned mode) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
      return fail(Error::unavailable(
          "cannot listen on " + path,
          "the path is longer than " + std::to_string(sizeof addr.sun_path - 1) + " bytes"));
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    // A socket file left by a helixd that died; anything else is not ours.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode))
        return fail(Error::unavailable("cannot listen on " + path,
                                       "it exists and is not a socket; not replacing it"));
      ::unlink(path.c_str());
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(Error::unavailable("cannot listen on " + path, errno_text()));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::string why = errno_text();
      ::close(fd);
      return fail(Error::unavailable("cannot listen on " + path, why));
    }
    owns_socket_file = true;
    // The mode is set before listen(), so no client connects under the
    // umask's mode.
    if (::chmod(path.c_str(), mode) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      std::string why = errno_text();
      ::close(fd);
      return fail(Error::unavailable("cannot listen on " + path, why));
    }
    return serve(unix_socket, fd, path);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

uint16_t HttpServer::tcp_port() const { return impl_->tcp_port; }

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options,
                                                      HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  if (options.tcp_port) {
    auto listening = impl->listen_tcp(*options.tcp_port);
    if (!listening) return fail(listening.error());
  }
  if (!options.unix_socket_path.empty()) {
    auto listening = impl->listen_unix(options.unix_socket_path, options.unix_socket_mode);
    if (!listening) return fail(listening.error());
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace helix::protocol
