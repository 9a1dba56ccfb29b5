// The controller <-> agent schema: every message survives a round trip
// with every field, and what is not a message of this version is refused
// with the reason.
#include "workers/agent_messages.h"

#include <gtest/gtest.h>

namespace helix::workers {
namespace {

ExecEvent full_event() {
  ExecEvent e;
  e.kind = ExecEvent::Kind::kExited;
  e.task_id = "job-1_0.2";
  e.pid = 4242;
  e.exit_code = 137;
  e.term_signal = 9;
  e.usage = {1.5, 0.25, 20480};
  e.oom_killed = true;
  e.started_at = from_epoch_us(1'700'000'000'123'456);
  e.ended_at = from_epoch_us(1'700'000'001'000'001);
  e.reason = "because";
  return e;
}

void expect_same(const ExecEvent& a, const ExecEvent& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.task_id, b.task_id);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.term_signal, b.term_signal);
  EXPECT_EQ(a.usage.user_seconds, b.usage.user_seconds);
  EXPECT_EQ(a.usage.system_seconds, b.usage.system_seconds);
  EXPECT_EQ(a.usage.max_rss_kib, b.usage.max_rss_kib);
  EXPECT_EQ(a.oom_killed, b.oom_killed);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.ended_at, b.ended_at);
  EXPECT_EQ(a.reason, b.reason);
}

template <class T>
T round_trip(const AgentMessage& m) {
  auto decoded = decode_message(encode_message(m));
  EXPECT_TRUE(decoded) << decoded.error().to_string();
  EXPECT_TRUE(std::holds_alternative<T>(*decoded));
  return std::get<T>(*decoded);
}

TEST(AgentMessages, LaunchKeepsEveryField) {
  LaunchSpec s;
  s.task_id = "t.1";
  s.argv = {"sh", "-c", "echo \"hi\"\n"};
  s.env = {"A=1", "B=two words"};
  s.working_dir = "/home/ann";
  s.uid = 1000;
  s.gid = 1001;
  s.log_path = "/var/log/t.1.log";
  s.cpus = {0, 1, 17};
  s.numa_nodes = {1};
  s.memory_limit_mib = 2048;
  auto got = round_trip<LaunchMessage>(LaunchMessage{s}).spec;
  EXPECT_EQ(got.task_id, s.task_id);
  EXPECT_EQ(got.argv, s.argv);
  EXPECT_EQ(got.env, s.env);
  EXPECT_EQ(got.working_dir, s.working_dir);
  EXPECT_EQ(got.uid, s.uid);
  EXPECT_EQ(got.gid, s.gid);
  EXPECT_EQ(got.log_path, s.log_path);
  EXPECT_EQ(got.cpus, s.cpus);
  EXPECT_EQ(got.numa_nodes, s.numa_nodes);
  EXPECT_EQ(got.memory_limit_mib, s.memory_limit_mib);
  // Absent optionals stay absent.
  LaunchSpec bare;
  bare.task_id = "b";
  auto plain = round_trip<LaunchMessage>(LaunchMessage{bare}).spec;
  EXPECT_FALSE(plain.uid);
  EXPECT_FALSE(plain.memory_limit_mib);
}

TEST(AgentMessages, EventsHelloAndSignalsRoundTrip) {
  expect_same(round_trip<EventMessage>(EventMessage{full_event()}).event, full_event());
  auto recovered = round_trip<RecoveredMessage>(RecoveredMessage{{full_event(), full_event()}});
  ASSERT_EQ(recovered.events.size(), 2u);
  expect_same(recovered.events[1], full_event());
  auto hello = round_trip<HelloMessage>(
      HelloMessage{"n2", 77, "gpu-ce", "<topology/>", 16, 64000, 2, {0, 2}, "h2", {4, 6}});
  EXPECT_EQ(hello.node, "n2");
  EXPECT_EQ(hello.pid, 77);
  EXPECT_EQ(hello.compute_environment, "gpu-ce");
  EXPECT_EQ(hello.topology_xml, "<topology/>");
  EXPECT_EQ(hello.vcpus, 16);
  EXPECT_EQ(hello.memory_mib, 64000);
  EXPECT_EQ(hello.gpus, 2);
  EXPECT_EQ(hello.pus, (std::vector<int>{0, 2}));
  EXPECT_EQ(hello.host, "h2");
  EXPECT_EQ(hello.real_pus, (std::vector<int>{4, 6}));
  for (auto kind : {SignalMessage::Kind::kTerminate, SignalMessage::Kind::kKill,
                    SignalMessage::Kind::kForget}) {
    auto sig = round_trip<SignalMessage>(SignalMessage{kind, "t.3"});
    EXPECT_EQ(sig.kind, kind);
    EXPECT_EQ(sig.task_id, "t.3");
  }
  EXPECT_EQ(round_trip<RecoverMessage>(RecoverMessage{{"a", "b"}}).task_ids,
            (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(round_trip<RefusedMessage>(RefusedMessage{"bad topology"}).reason, "bad topology");
  round_trip<HeartbeatMessage>(HeartbeatMessage{});
  round_trip<ShutdownMessage>(ShutdownMessage{});
}

TEST(AgentMessages, RefusesWhatIsNotAMessageOfThisVersion) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"not json", "agent message is not JSON"},
      {"[1]", "is not a JSON object"},
      {R"({"type":"heartbeat"})", "has no schema version"},
      {R"({"v":2,"type":"heartbeat"})", "schema version 2 is not 1"},
      {R"({"v":1,"type":"reboot"})", "type \"reboot\" is unknown"},
      {R"({"v":1,"type":"kill"})", "agent message \"kill\""},
      {R"({"v":1,"type":"event","event":{"kind":"exploded"}})", "not a known event kind"},
  };
  for (const auto& c : cases) {
    auto r = decode_message(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().to_string().find(c.expected), std::string::npos)
        << c.text << " gave: " << r.error().to_string();
  }
}

}  // namespace
}  // namespace helix::workers
