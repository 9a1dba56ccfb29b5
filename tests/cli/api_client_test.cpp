// ApiClient against helix's own HTTP server (protocol/http_server.h) on
// loopback: what arrives on the wire, whether its SigV4 signature verifies
// with the server's verify_request, and how error replies read.
#include "cli/api_client.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include "cli/commands.h"
#include "protocol/http_server.h"

namespace helix::cli {
namespace {

using nlohmann::json;
using protocol::HttpRequest;
using protocol::HttpResponse;
using protocol::HttpServer;
using protocol::HttpServerOptions;

const protocol::Credentials kKeys{"HLXTESTKEY0000000001", "secret/with+chars"};

// Records every request and answers with the next scripted reply (200 {}
// when the script runs out).
class Recorder {
 public:
  void script(std::vector<HttpResponse> replies) { replies_ = std::move(replies); }
  protocol::HttpHandler handler() {
    return [this](const HttpRequest& r) {
      std::lock_guard<std::mutex> lock(mutex_);
      seen_.push_back(r);
      if (next_ < replies_.size()) return replies_[next_++];
      HttpResponse ok;
      ok.body = "{}";
      return ok;
    };
  }
  std::vector<HttpRequest> seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::vector<HttpRequest> seen_;
  std::vector<HttpResponse> replies_;
  size_t next_ = 0;
};

HttpResponse json_reply(int status, const std::string& body,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

class OverTcp : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions options;
    options.tcp_port = 0;
    auto started = HttpServer::start(options, recorder_.handler());
    ASSERT_TRUE(started) << started.error().to_string();
    server_ = std::move(*started);
    Endpoint e;
    e.kind = Endpoint::Kind::kHttp;
    e.host = "127.0.0.1";
    e.port = server_->tcp_port();
    client_.emplace(e, Signer{kKeys, "eu-west-1"});
  }

  // The access key that signed `r`, or the reason verification failed.
  std::string verify(const HttpRequest& r) {
    auto verified = protocol::verify_request(
        r.wire,
        [](const std::string& key) -> std::optional<std::string> {
          if (key == kKeys.access_key_id) return kKeys.secret_access_key;
          return std::nullopt;
        },
        std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
    return verified ? *verified : "refused: " + verified.error().message;
  }

  Recorder recorder_;
  std::unique_ptr<HttpServer> server_;
  std::optional<ApiClient> client_;
};

TEST_F(OverTcp, BatchCallIsSignedAndSendsTheExactBody) {
  recorder_.script({json_reply(200, R"({"jobId":"j-1","jobName":"x"})")});
  json request = {{"jobName", "x"}, {"jobQueue", "default"}, {"jobDefinition", "helix-command"}};
  auto reply = client_->batch("submitjob", request);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ((*reply)["jobId"], "j-1");

  auto seen = recorder_.seen();
  ASSERT_EQ(seen.size(), 1u);
  const auto& wire = seen[0].wire;
  EXPECT_EQ(wire.method, "POST");
  EXPECT_EQ(wire.raw_path, "/v1/submitjob");
  EXPECT_EQ(wire.body, request.dump());
  EXPECT_EQ(wire.header("host"), "127.0.0.1:" + std::to_string(server_->tcp_port()));
  EXPECT_EQ(wire.header("content-type"), "application/json");
  ASSERT_TRUE(wire.header("authorization"));
  // Scope .../<region>/batch/aws4_request, with the region asked for.
  EXPECT_NE(wire.header("authorization")->find("/eu-west-1/batch/aws4_request"), std::string::npos)
      << *wire.header("authorization");
  EXPECT_EQ(verify(seen[0]), kKeys.access_key_id);
}

TEST_F(OverTcp, GetWithEncodedJobIdAndQueryVerifies) {
  recorder_.script({json_reply(200, R"({"jobId":"a:1","status":"RUNNING"})")});
  auto reply = client_->get_json("/helix/v1/jobs/a%3A1/wait", "timeoutSeconds=30");
  ASSERT_TRUE(reply) << reply.error().to_string();
  auto seen = recorder_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].wire.method, "GET");
  EXPECT_EQ(seen[0].wire.raw_path, "/helix/v1/jobs/a%3A1/wait");
  EXPECT_EQ(seen[0].path, "/helix/v1/jobs/a:1/wait");
  EXPECT_EQ(seen[0].wire.raw_query, "timeoutSeconds=30");
  EXPECT_TRUE(seen[0].wire.body.empty());
  EXPECT_EQ(verify(seen[0]), kKeys.access_key_id);
}

TEST_F(OverTcp, AwsErrorShapeBecomesTheServersMessage) {
  // What helixd sends for a caller mistake (shared/aws-wire/errors/
  // batch-clientexception-header-and-body.json).
  recorder_.script(
      {json_reply(
           400,
           R"({"__type":"ClientException","message":"jobQueue: Job Queue nope does not exist."})",
           {{"x-amzn-ErrorType", "ClientException"}}),
       json_reply(404, R"({"__type":"ClientException","message":"job j has no attempt yet"})")});
  auto bad = client_->batch("submitjob", json::object());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(bad.error().message(), "jobQueue: Job Queue nope does not exist.");

  auto missing = client_->send("GET", "/helix/v1/jobs/j/log", "offset=0", "");
  ASSERT_TRUE(missing) << missing.error().to_string();
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_from_reply(*missing).code(), ErrorCode::kNotFound);
}

TEST_F(OverTcp, RawReplyKeepsHelixLogHeaders) {
  HttpResponse log;
  log.body = std::string("line 1\n\0binary", 14);
  log.headers = {{"x-helix-next-offset", "14"}, {"x-helix-log-final", "true"}};
  recorder_.script({log});
  auto reply = client_->send("GET", "/helix/v1/jobs/j/log", "attempt=1&offset=0", "");
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, log.body);
  EXPECT_EQ(reply->header("X-Helix-Next-Offset"), "14");
  EXPECT_EQ(reply->header("x-helix-log-final"), "true");
}

TEST_F(OverTcp, FetchAllPagesFollowsNextToken) {
  recorder_.script({json_reply(200, R"({"jobSummaryList":[{"jobId":"a"}],"nextToken":"t1"})"),
                    json_reply(200, R"({"jobSummaryList":[{"jobId":"b"}]})")});
  auto all = fetch_all_pages(*client_, "listjobs", {{"jobQueue", "q"}}, "jobSummaryList");
  ASSERT_TRUE(all) << all.error().to_string();
  EXPECT_EQ(*all, json::parse(R"([{"jobId":"a"},{"jobId":"b"}])"));
  auto seen = recorder_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(json::parse(seen[0].wire.body), json::parse(R"({"jobQueue":"q"})"));
  EXPECT_EQ(json::parse(seen[1].wire.body), json::parse(R"({"jobQueue":"q","nextToken":"t1"})"));
}

TEST_F(OverTcp, FetchAllPagesStopsOnARepeatedToken) {
  recorder_.script({json_reply(200, R"({"jobQueues":[],"nextToken":"same"})"),
                    json_reply(200, R"({"jobQueues":[],"nextToken":"same"})")});
  auto all = fetch_all_pages(*client_, "describejobqueues", json::object(), "jobQueues");
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().message(),
            "helixd answered describejobqueues with the same nextToken twice");
}

TEST_F(OverTcp, NonJsonSuccessIsCorruption) {
  recorder_.script({json_reply(200, "not json")});
  auto reply = client_->batch("describejobs", {{"jobs", {"x"}}});
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code(), ErrorCode::kCorruption);
}

TEST(OverUnixSocket, UnsignedAndCarriesPeerCredentials) {
  char pattern[] = "/tmp/helix-cli-sock-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string dir = pattern;
  Recorder recorder;
  HttpServerOptions options;
  options.tcp_port = std::nullopt;
  options.unix_socket_path = dir + "/helixd.sock";
  auto server = HttpServer::start(options, recorder.handler());
  ASSERT_TRUE(server) << server.error().to_string();

  auto endpoint = parse_endpoint("unix://" + options.unix_socket_path);
  ASSERT_TRUE(endpoint);
  ApiClient client(*endpoint, std::nullopt);
  auto reply = client.post_json("/helix/v1/credentials", {{"userName", "ada"}});
  ASSERT_TRUE(reply) << reply.error().to_string();
  auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(seen[0].peer);
  EXPECT_EQ(seen[0].peer->uid, ::getuid());
  EXPECT_FALSE(seen[0].wire.header("authorization"));
  EXPECT_EQ(seen[0].wire.body, R"({"userName":"ada"})");
  server->reset();
  std::filesystem::remove_all(dir);
}

TEST(Unreachable, NamesTheEndpoint) {
  auto endpoint = parse_endpoint("unix:///nonexistent/helix-cli-test/helixd.sock");
  ASSERT_TRUE(endpoint);
  ApiClient client(*endpoint, std::nullopt);
  auto reply = client.batch("describejobqueues", json::object());
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(reply.error().message().rfind(
                "cannot reach helixd at unix:///nonexistent/helix-cli-test/helixd.sock", 0),
            0u)
      << reply.error().message();
}

TEST(ErrorFromReply, MessageVariantsBotocoreAccepts) {
  struct Case {
    int status;
    std::string body;
    ErrorCode code;
    std::string message;
  };
  const Case cases[] = {
      {400, R"({"__type":"ClientException","Message":"capital M message"})",
       ErrorCode::kInvalidInput, "capital M message"},
      {400, "Bad Request", ErrorCode::kInvalidInput, "HTTP 400: Bad Request"},
      {403, R"({"__type":"InvalidSignatureException","message":"Signature expired"})",
       ErrorCode::kPermissionDenied, "Signature expired"},
      {500, R"({"__type":"ServerException","message":"store: commit failed"})",
       ErrorCode::kUnavailable, "store: commit failed"},
      {502, "", ErrorCode::kUnavailable, "HTTP 502"},
  };
  for (const auto& c : cases) {
    HttpReply reply;
    reply.status = c.status;
    reply.body = c.body;
    Error e = error_from_reply(reply);
    EXPECT_EQ(e.code(), c.code) << c.body;
    EXPECT_EQ(e.message(), c.message);
  }
}

}  // namespace
}  // namespace helix::cli
