// The real aws CLI v2 (Debian's /usr/bin/aws 2.9.19) against HttpServer
// with a handler that verifies SigV4: proves the server hands over the
// request exactly as signed (raw path, raw query, headers, body) and that
// verify_request accepts what the CLI sends. Skipped where the CLI is not
// installed. Uses the absolute path: a pyenv `aws` (v1) may come first on
// PATH.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include "protocol/http_server.h"
#include "protocol/sigv4.h"

namespace helix::protocol {
namespace {

constexpr char kAws[] = "/usr/bin/aws";
constexpr char kKeyId[] = "AKIDEXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Seen {
  HttpRequest request;
  tl::expected<std::string, AuthFailure> verified;
};

// Verifies every request with the example key and answers `reply` when it
// verifies, the AWS 403 error shape when not.
class VerifyingServer {
 public:
  explicit VerifyingServer(std::string reply) : reply_(std::move(reply)) {
    HttpServerOptions options;
    options.tcp_port = 0;
    auto started = HttpServer::start(options, [this](const HttpRequest& r) { return handle(r); });
    EXPECT_TRUE(started) << started.error().to_string();
    if (started) server_ = std::move(*started);
  }
  uint16_t port() const { return server_ ? server_->tcp_port() : 0; }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  HttpResponse handle(const HttpRequest& request) {
    TimePoint now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
    auto verified = verify_request(
        request.wire,
        [](const std::string& key) -> std::optional<std::string> {
          if (key == kKeyId) return kSecret;
          return std::nullopt;
        },
        now);
    HttpResponse response;
    response.headers = {{"Content-Type", "application/json"}, {"x-amzn-RequestId", "r-1"}};
    if (verified) {
      response.body = reply_;
    } else {
      response.status = 403;
      response.headers.emplace_back("x-amzn-ErrorType", verified.error().code);
      response.body = R"({"__type":")" + verified.error().code + R"(","message":"denied"})";
    }
    std::lock_guard lock(mutex_);
    seen_.push_back({request, verified});
    return response;
  }

  std::string reply_;
  std::mutex mutex_;
  std::vector<Seen> seen_;
  std::unique_ptr<HttpServer> server_;
};

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs the CLI with only the example credentials in its environment and
// config files that are empty, so nothing from the machine leaks in.
CliRun run_aws(const std::string& arguments, uint16_t port, const std::string& secret = kSecret) {
  std::string empty = (std::filesystem::temp_directory_path() / "helix-aws-empty").string();
  std::fclose(std::fopen(empty.c_str(), "w"));
  std::string command =
      "env -i PATH=/usr/bin:/bin HOME=/tmp AWS_ACCESS_KEY_ID=" + std::string(kKeyId) +
      " AWS_SECRET_ACCESS_KEY='" + secret +
      "' AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=" + empty +
      " AWS_SHARED_CREDENTIALS_FILE=" + empty + " AWS_PAGER= AWS_MAX_ATTEMPTS=1 " + kAws + " " +
      arguments + " --endpoint-url http://127.0.0.1:" + std::to_string(port) + " 2>&1";
  CliRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, n);
  int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class AwsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kAws, X_OK) != 0) GTEST_SKIP() << kAws << " is not installed";
  }
};

TEST_F(AwsCli, DescribeJobQueuesIsVerified) {
  VerifyingServer server(R"({"jobQueues":[]})");
  CliRun run = run_aws("batch describe-job-queues", server.port());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"jobQueues\": []"), std::string::npos) << run.output;
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].request.wire.method, "POST");
  EXPECT_EQ(seen[0].request.path, "/v1/describejobqueues");
  ASSERT_TRUE(seen[0].verified) << seen[0].verified.error().message;
  EXPECT_EQ(*seen[0].verified, kKeyId);
}

TEST_F(AwsCli, EncodedArnInPathAndRepeatedQueryAreVerified) {
  VerifyingServer server("{}");
  CliRun run = run_aws(
      "batch untag-resource --resource-arn "
      "arn:aws:batch:us-east-1:123456789012:job-queue/hpc-high --tag-keys a b",
      server.port());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  const HttpRequest& r = seen[0].request;
  EXPECT_EQ(r.wire.method, "DELETE");
  EXPECT_EQ(r.wire.raw_path,
            "/v1/tags/arn%3Aaws%3Abatch%3Aus-east-1%3A123456789012%3Ajob-queue%2Fhpc-high");
  EXPECT_EQ(r.path, "/v1/tags/arn:aws:batch:us-east-1:123456789012:job-queue/hpc-high");
  EXPECT_EQ(r.wire.raw_query, "tagKeys=a&tagKeys=b");
  ASSERT_TRUE(seen[0].verified) << seen[0].verified.error().message;
}

TEST_F(AwsCli, StepFunctionsTargetHeaderIsVerified) {
  VerifyingServer server(R"({"stateMachines":[]})");
  CliRun run = run_aws("stepfunctions list-state-machines", server.port());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].request.wire.header("x-amz-target"), "AWSStepFunctions.ListStateMachines");
  ASSERT_TRUE(seen[0].verified) << seen[0].verified.error().message;
}

TEST_F(AwsCli, WrongSecretIsRefusedAndTheCliPrintsTheCode) {
  VerifyingServer server(R"({"jobQueues":[]})");
  CliRun run = run_aws("batch describe-job-queues", server.port(),
                       "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz");
  EXPECT_EQ(run.exit_code, 254) << run.output;
  EXPECT_NE(run.output.find("(InvalidSignatureException)"), std::string::npos) << run.output;
  auto seen = server.seen();
  ASSERT_FALSE(seen.empty());
  ASSERT_FALSE(seen[0].verified);
  EXPECT_EQ(seen[0].verified.error().code, "InvalidSignatureException");
}

}  // namespace
}  // namespace helix::protocol
