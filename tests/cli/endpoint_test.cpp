#include "cli/endpoint.h"

#include <gtest/gtest.h>

namespace helix::cli {
namespace {

TEST(ParseEndpoint, UnixUrlWithThreeSlashesNamesAnAbsoluteSocket) {
  auto e = parse_endpoint("unix:///var/lib/helix/helixd.sock");
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_TRUE(e->is_unix_socket());
  EXPECT_EQ(e->socket_path, "/var/lib/helix/helixd.sock");
  EXPECT_EQ(e->url(), "unix:///var/lib/helix/helixd.sock");
}

TEST(ParseEndpoint, AcceptsTheUnixFormHelixdPrints) {
  // helixd's first line: "listening on 127.0.0.1:PORT unix:DIR/helixd.sock".
  auto e = parse_endpoint("unix:/tmp/state/helixd.sock");
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->socket_path, "/tmp/state/helixd.sock");
}

TEST(ParseEndpoint, HttpUrlGivesHostPortAndTheHostHeader) {
  auto e = parse_endpoint("http://127.0.0.1:8470/");
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_FALSE(e->is_unix_socket());
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 8470);
  EXPECT_EQ(e->host_header(), "127.0.0.1:8470");

  auto no_port = parse_endpoint("http://localhost");
  ASSERT_TRUE(no_port);
  EXPECT_EQ(no_port->port, 80);
  EXPECT_EQ(no_port->host_header(), "localhost");

  auto v6 = parse_endpoint("http://[::1]:9000");
  ASSERT_TRUE(v6) << v6.error().to_string();
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 9000);
}

TEST(ParseEndpoint, RefusalsNameTheFieldAndTheFix) {
  struct Case {
    std::string url;
    std::string expected_message;
  };
  const Case cases[] = {
      {"unix://relative.sock",
       "--endpoint: \"unix://relative.sock\" needs an absolute socket path: "
       "unix:///path/to/helixd.sock"},
      {"https://127.0.0.1:1",
       "--endpoint: \"https://127.0.0.1:1\" uses https; helixd serves plain http on loopback (or "
       "use its unix socket)"},
      {"127.0.0.1:8470",
       "--endpoint: \"127.0.0.1:8470\" is not an endpoint URL: use unix:///path/to/helixd.sock or "
       "http://HOST:PORT"},
      {"http://h:0",
       "--endpoint: \"http://h:0\" has port \"0\"; a port is a number from 1 to 65535"},
      {"http://h:x1",
       "--endpoint: \"http://h:x1\" has port \"x1\"; a port is a number from 1 to 65535"},
      {"http://h:1/v1", "--endpoint: \"http://h:1/v1\" has a path; give only http://HOST:PORT"},
      {"http://:80", "--endpoint: \"http://:80\" has no host"},
  };
  for (const auto& c : cases) {
    auto e = parse_endpoint(c.url);
    ASSERT_FALSE(e) << c.url;
    EXPECT_EQ(e.error().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(e.error().message(), c.expected_message);
  }
}

TEST(ResolveEndpoint, FlagBeatsEnvironmentBeatsDefaultSocket) {
  auto env = fixed_environment(
      {{"HELIX_ENDPOINT", "http://127.0.0.1:2"}, {"HELIX_STATE_DIR", "/srv/helix"}});
  auto flag = resolve_endpoint(std::string("http://127.0.0.1:1"), env, 1000);
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->port, 1);

  auto from_env = resolve_endpoint(std::nullopt, env, 1000);
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->port, 2);

  auto fallback =
      resolve_endpoint(std::nullopt, fixed_environment({{"HELIX_STATE_DIR", "/srv/helix"}}), 1000);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->url(), "unix:///srv/helix/helixd.sock");
}

TEST(ResolveEndpoint, BadEnvironmentValueNamesTheVariable) {
  auto e = resolve_endpoint(std::nullopt, fixed_environment({{"HELIX_ENDPOINT", "nope"}}), 0);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message().rfind("HELIX_ENDPOINT: \"nope\"", 0), 0u) << e.error().message();
}

TEST(DefaultStateDir, MatchesHelixd) {
  EXPECT_EQ(default_state_dir(fixed_environment({{"HELIX_STATE_DIR", "/x"}}), 0), "/x");
  EXPECT_EQ(default_state_dir(fixed_environment({{"HOME", "/home/ada"}}), 0), "/var/lib/helix");
  EXPECT_EQ(default_state_dir(fixed_environment({{"HOME", "/home/ada"}}), 1000),
            "/home/ada/.local/state/helix");
  // An empty variable counts as unset.
  EXPECT_EQ(default_state_dir(fixed_environment({{"HELIX_STATE_DIR", ""}, {"HOME", "/h"}}), 5),
            "/h/.local/state/helix");
  EXPECT_EQ(default_state_dir(fixed_environment({}), 5), "/tmp/.local/state/helix");
}

}  // namespace
}  // namespace helix::cli
