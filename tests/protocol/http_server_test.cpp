#include "protocol/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

namespace helix::protocol {
namespace {

using namespace std::chrono_literals;

// Records every request the server hands over and answers 200 with the
// request's decoded path as the body.
class Recorder {
 public:
  HttpHandler handler() {
    return [this](const HttpRequest& request) {
      std::lock_guard lock(mutex_);
      seen_.push_back(request);
      HttpResponse response;
      response.headers = {{"Content-Type", "application/json"}, {"x-amzn-RequestId", "r-1"}};
      response.body = request.path;
      return response;
    };
  }
  std::vector<HttpRequest> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<HttpRequest> seen_;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "helix-http-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::unique_ptr<HttpServer> start_or_die(const HttpServerOptions& options, HttpHandler handler) {
  auto server = HttpServer::start(options, std::move(handler));
  EXPECT_TRUE(server) << server.error().to_string();
  return server ? std::move(*server) : nullptr;
}

// A plain TCP connection to 127.0.0.1:port speaking hand-written HTTP/1.1,
// so tests control the exact bytes and see whether the connection is reused.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    is_connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool is_connected() const { return is_connected_; }

  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // One response: headers, then Content-Length bytes of body. Empty when
  // the server closed the connection first.
  std::string read_response() {
    std::string& data = buffer_;
    size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return "";
    size_t length = 0;
    std::string headers = data.substr(0, header_end);
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      size_t at = headers.find(name);
      if (at != std::string::npos) length = std::stoul(headers.substr(at + std::strlen(name)));
    }
    while (data.size() < header_end + 4 + length)
      if (!fill()) return "";
    std::string response = data.substr(0, header_end + 4 + length);
    data.erase(0, response.size());
    return response;
  }

  // True when the server has closed its side (read returns end of file).
  bool is_closed_by_server() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool is_connected_ = false;
  std::string buffer_;
};

HttpServerOptions tcp_only() {
  HttpServerOptions options;
  options.tcp_port = 0;
  return options;
}

TEST(HttpServer, PortZeroListensOnAFreeLoopbackPort) {
  Recorder recorder;
  auto server = start_or_die(tcp_only(), recorder.handler());
  ASSERT_TRUE(server);
  EXPECT_NE(server->tcp_port(), 0);
  httplib::Client client("127.0.0.1", server->tcp_port());
  auto response = client.Get("/ping");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "/ping");
  EXPECT_EQ(response->get_header_value("x-amzn-RequestId"), "r-1");
}

TEST(HttpServer, TcpRequestArrivesWholeWithHeadersInWireOrder) {
  Recorder recorder;
  auto server = start_or_die(tcp_only(), recorder.handler());
  ASSERT_TRUE(server);
  RawConnection connection(server->tcp_port());
  ASSERT_TRUE(connection.is_connected());
  std::string body = R"({"jobQueues": ["hpc-high"]})";
  ASSERT_TRUE(
      connection.send("POST /v1/describejobqueues HTTP/1.1\r\n"
                      "Host: 127.0.0.1:8470\r\n"
                      "X-Zeta: 1\r\n"
                      "Content-Type: application/json\r\n"
                      "X-Alpha: two words\r\n"
                      "X-Zeta: 2\r\n"
                      "Content-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body));
  std::string response = connection.read_response();
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;

  auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 1u);
  const HttpRequest& r = seen[0];
  EXPECT_EQ(r.wire.method, "POST");
  EXPECT_EQ(r.wire.raw_path, "/v1/describejobqueues");
  EXPECT_EQ(r.wire.raw_query, "");
  EXPECT_EQ(r.wire.body, body);
  EXPECT_FALSE(r.peer);
  std::vector<std::pair<std::string, std::string>> want = {
      {"Host", "127.0.0.1:8470"}, {"X-Zeta", "1"}, {"Content-Type", "application/json"},
      {"X-Alpha", "two words"},   {"X-Zeta", "2"}, {"Content-Length", std::to_string(body.size())}};
  EXPECT_EQ(r.wire.headers, want);
}

TEST(HttpServer, RawPathAndQueryAreKeptAndDecodedSeparately) {
  Recorder recorder;
  auto server = start_or_die(tcp_only(), recorder.handler());
  ASSERT_TRUE(server);
  httplib::Client client("127.0.0.1", server->tcp_port());
  client.set_url_encode(false);  // send the target exactly as written here
  const std::string raw_path = "/v1/tags/arn%3Aaws%3Abatch%3Aus-east-1%3A1%3Ajob-queue%2Fhpc-high";
  const std::string raw_query = "tagKeys=a%20b&tagKeys=c%2Bd&flag&plus=x+y";
  auto response = client.Delete(raw_path + "?" + raw_query);
  ASSERT_TRUE(response) << httplib::to_string(response.error());

  auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 1u);
  const HttpRequest& r = seen[0];
  EXPECT_EQ(r.wire.method, "DELETE");
  EXPECT_EQ(r.wire.raw_path, raw_path);
  EXPECT_EQ(r.wire.raw_query, raw_query);
  EXPECT_EQ(r.path, "/v1/tags/arn:aws:batch:us-east-1:1:job-queue/hpc-high");
  std::vector<std::pair<std::string, std::string>> want = {
      {"tagKeys", "a b"}, {"tagKeys", "c+d"}, {"flag", ""}, {"plus", "x y"}};
  EXPECT_EQ(r.query, want);
  EXPECT_EQ(r.query_param("tagKeys"), "a b");
  EXPECT_EQ(r.query_param("absent"), std::nullopt);
}

TEST(HttpServer, UnixSocketRequestCarriesThePeersCredentials) {
  TempDir dir;
  Recorder recorder;
  HttpServerOptions options;
  options.tcp_port = std::nullopt;
  options.unix_socket_path = dir.file("helixd.sock");
  options.unix_socket_mode = 0600;
  auto server = start_or_die(options, recorder.handler());
  ASSERT_TRUE(server);
  struct stat st {};
  ASSERT_EQ(::stat(options.unix_socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  httplib::Client client(options.unix_socket_path);
  client.set_address_family(AF_UNIX);
  auto response = client.Post("/v1/listjobs", R"({"jobQueue": "q"})", "application/json");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);

  auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(seen[0].peer);
  EXPECT_EQ(seen[0].peer->uid, ::getuid());
  EXPECT_EQ(seen[0].peer->gid, ::getgid());
  EXPECT_EQ(seen[0].peer->pid, ::getpid());
  EXPECT_EQ(seen[0].wire.body, R"({"jobQueue": "q"})");

  server.reset();
  EXPECT_FALSE(std::filesystem::exists(options.unix_socket_path)) << "socket file left behind";
}

TEST(HttpServer, StaleSocketFileIsReplacedButOtherFilesAreNot) {
  TempDir dir;
  std::string path = dir.file("helixd.sock");
  // What a killed helixd leaves: a bound socket file nobody listens on.
  int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(stale);

  Recorder recorder;
  HttpServerOptions options;
  options.tcp_port = std::nullopt;
  options.unix_socket_path = path;
  auto server = start_or_die(options, recorder.handler());
  ASSERT_TRUE(server);
  httplib::Client client(path);
  client.set_address_family(AF_UNIX);
  EXPECT_TRUE(client.Get("/after-restart"));
  server.reset();

  std::string regular = dir.file("not-a-socket");
  std::ofstream(regular) << "precious";
  options.unix_socket_path = regular;
  auto refused = HttpServer::start(options, recorder.handler());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().to_string().find(regular), std::string::npos)
      << refused.error().to_string();
  EXPECT_TRUE(std::filesystem::exists(regular));
}

TEST(HttpServer, BusyPortFailsNamingTheAddress) {
  Recorder recorder;
  auto first = start_or_die(tcp_only(), recorder.handler());
  ASSERT_TRUE(first);
  HttpServerOptions options;
  options.tcp_port = first->tcp_port();
  auto second = HttpServer::start(options, recorder.handler());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message().find("127.0.0.1:" + std::to_string(first->tcp_port())),
            std::string::npos)
      << second.error().to_string();
}

TEST(HttpServer, OversizedBodyGets413WithoutReachingTheHandler) {
  Recorder recorder;
  HttpServerOptions options = tcp_only();
  options.max_body_bytes = 1024;
  auto server = start_or_die(options, recorder.handler());
  ASSERT_TRUE(server);
  httplib::Client client("127.0.0.1", server->tcp_port());

  auto refused = client.Post("/v1/submitjob", std::string(1025, 'x'), "application/json");
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 413);
  EXPECT_EQ(refused->body,
            R"({"__type":"ClientException","message":"request body exceeds 1024 bytes"})");
  EXPECT_EQ(refused->get_header_value("x-amzn-ErrorType"), "ClientException");
  EXPECT_TRUE(recorder.seen().empty());

  // A chunked body declares no length; it is refused once it passes the limit.
  auto chunked = client.Post(
      "/v1/submitjob",
      [](size_t offset, httplib::DataSink& sink) {
        std::string piece(512, 'y');
        if (offset < 4096) {
          sink.write(piece.data(), piece.size());
        } else {
          sink.done();
        }
        return true;
      },
      "application/json");
  ASSERT_TRUE(chunked) << httplib::to_string(chunked.error());
  EXPECT_EQ(chunked->status, 413);
  EXPECT_TRUE(recorder.seen().empty());

  auto exact = client.Post("/v1/submitjob", std::string(1024, 'x'), "application/json");
  ASSERT_TRUE(exact) << httplib::to_string(exact.error());
  EXPECT_EQ(exact->status, 200);
  ASSERT_EQ(recorder.seen().size(), 1u);
  EXPECT_EQ(recorder.seen()[0].wire.body.size(), 1024u);
}

TEST(HttpServer, LargeOversizedBodyIsDrainedSoTheClientReadsThe413) {
  // Left unread, a body of megabytes fills the socket buffers and the
  // client, still writing when the server closes, fails with EPIPE instead
  // of reading the reply.
  Recorder recorder;
  auto server = start_or_die(tcp_only(), recorder.handler());  // limit 1 MiB
  ASSERT_TRUE(server);
  RawConnection connection(server->tcp_port());
  std::string body(3 << 20, 'z');
  ASSERT_TRUE(connection.send("POST /v1/submitjob HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body));
  std::string response = connection.read_response();
  EXPECT_EQ(response.rfind("HTTP/1.1 413", 0), 0u) << response.substr(0, 200);
  EXPECT_NE(response.find("request body exceeds 1048576 bytes"), std::string::npos);
  // The connection is still good for the next request.
  ASSERT_TRUE(connection.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(connection.read_response().rfind("HTTP/1.1 200", 0), 0u);
  ASSERT_EQ(recorder.seen().size(), 1u);
  EXPECT_EQ(recorder.seen()[0].path, "/next");
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  Recorder recorder;
  auto server = start_or_die(tcp_only(), recorder.handler());
  ASSERT_TRUE(server);
  RawConnection connection(server->tcp_port());
  ASSERT_TRUE(connection.is_connected());
  for (const char* path : {"/first", "/second", "/third"}) {
    ASSERT_TRUE(connection.send(std::string("POST ") + path +
                                " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
    std::string response = connection.read_response();
    EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << path << ": " << response;
    EXPECT_NE(response.find(path), std::string::npos) << response;
  }
  EXPECT_EQ(recorder.seen().size(), 3u);
}

TEST(HttpServer, StoppingClosesIdleKeepAliveConnections) {
  Recorder recorder;
  auto server = start_or_die(tcp_only(), recorder.handler());
  ASSERT_TRUE(server);
  RawConnection connection(server->tcp_port());
  ASSERT_TRUE(connection.send("GET /idle HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(connection.read_response(), "");
  // The connection stays open and idle; destruction must not wait for it.
  server.reset();
  EXPECT_TRUE(connection.is_closed_by_server());
}

TEST(HttpServer, SlowHandlersRunConcurrently) {
  // Each handler waits until all of them have started. With one thread per
  // connection they all start and finish; served one at a time, the first
  // would wait for the others and give up after the (generous) guard.
  constexpr int kClients = 4;
  std::mutex mutex;
  std::condition_variable changed;
  int started = 0;
  HttpHandler handler = [&](const HttpRequest&) {
    std::unique_lock lock(mutex);
    ++started;
    changed.notify_all();
    bool all = changed.wait_for(lock, 30s, [&] { return started >= kClients; });
    HttpResponse response;
    response.status = all ? 200 : 500;
    return response;
  };
  auto server = start_or_die(tcp_only(), handler);
  ASSERT_TRUE(server);
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", server->tcp_port());
      client.set_read_timeout(60, 0);
      auto response = client.Get("/v1/wait");
      statuses[i] = response ? response->status : -1;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(statuses, std::vector<int>(kClients, 200));
}

TEST(HttpServer, ThrowingHandlerGets500AndServerLivesOn) {
  int calls = 0;
  auto server = start_or_die(tcp_only(), [&](const HttpRequest&) -> HttpResponse {
    if (++calls == 1) throw std::runtime_error("boom");
    return HttpResponse{};
  });
  ASSERT_TRUE(server);
  httplib::Client client("127.0.0.1", server->tcp_port());
  auto failed = client.Get("/x");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->body, R"({"__type":"ServerException","message":"internal error: boom"})");
  auto ok = client.Get("/x");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

}  // namespace
}  // namespace helix::protocol
