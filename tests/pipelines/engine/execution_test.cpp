// Unit tests of the interpreter for what the recorded corpus does not
// cover: retry timing (MaxDelaySeconds, FULL jitter), Catch inside Map and
// Parallel, task and heartbeat timeouts on a fake clock, history id
// chaining, stop, serialise/resume equality, and TestState's RoleArn
// (the corpus does not record whether a roleArn was sent).
#include <gtest/gtest.h>

#include <deque>

#include "pipelines/engine/execution.h"
#include "pipelines/engine/test_state.h"

namespace helix::asl {
namespace {

using std::chrono::seconds;

std::shared_ptr<const StateMachine> machine(const char* text) {
  auto m = parse_state_machine(Json::parse(text));
  EXPECT_TRUE(m.has_value());
  return *m;
}

const TimePoint kT0 = from_epoch_ms(1'700'000'000'000);

std::vector<std::string> types(const Effects& fx) {
  std::vector<std::string> out;
  for (const auto& e : fx.events) out.emplace_back(e.type);
  return out;
}

constexpr const char* kRetryTask = R"({
  "StartAt": "Work",
  "States": {"Work": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync",
    "Parameters": {"JobName.$": "$.name"},
    "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3,
               "MaxAttempts": 3, "MaxDelaySeconds": 10}],
    "End": true}}})";

TEST(AslExecution, RetryBacksOffAndCapsAtMaxDelaySeconds) {
  SeededRng rng(1);
  Execution e(machine(kRetryTask));
  Effects fx = e.start(Json{{"name", "j"}}, {}, kT0, rng);
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].parameters, (Json{{"JobName", "j"}}));
  EXPECT_TRUE(fx.tasks[0].is_sync);
  // Delays: 2 * 3^0 = 2 s, 2 * 3^1 = 6 s, 2 * 3^2 = 18 s capped to 10 s.
  const int64_t expected_delays[] = {2, 6, 10};
  TimePoint now = kT0;
  for (int64_t delay : expected_delays) {
    fx = e.task_failed(fx.tasks[0].task_id, "Boom", "it broke", now, rng);
    ASSERT_TRUE(fx.next_wake.has_value());
    EXPECT_EQ(*fx.next_wake - now, seconds(delay));
    now = *fx.next_wake;
    fx = e.timer_fired(now, rng);
    ASSERT_EQ(fx.tasks.size(), 1u);
    EXPECT_EQ(fx.events.front().type, "TaskScheduled");  // a retry does not re-enter the state
  }
  fx = e.task_failed(fx.tasks[0].task_id, "Boom", "still broken", now, rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kFailed);
  EXPECT_EQ(fx.error, "Boom");
  EXPECT_EQ(fx.cause, "still broken");
}

TEST(AslExecution, FullJitterDrawsBelowTheDelayAndRepeatsWithTheSeed) {
  const char* def = R"({"StartAt": "W", "States": {"W": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 8, "BackoffRate": 1,
               "MaxAttempts": 5, "JitterStrategy": "FULL"}], "End": true}}})";
  auto delays = [&](uint64_t seed) {
    SeededRng rng(seed);
    Execution e(machine(def));
    Effects fx = e.start(Json::object(), {}, kT0, rng);
    std::vector<int64_t> out;
    TimePoint now = kT0;
    for (int i = 0; i < 5; ++i) {
      fx = e.task_failed(fx.tasks[0].task_id, "X", "", now, rng);
      out.push_back((*fx.next_wake - now).count());
      now = *fx.next_wake;
      fx = e.timer_fired(now, rng);
    }
    return out;
  };
  auto a = delays(7), b = delays(7), c = delays(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  bool differ = false;
  for (int64_t d : a) {
    EXPECT_GE(d, 0);
    EXPECT_LT(d, 8'000'000);
    differ = differ || d != a[0];
  }
  EXPECT_TRUE(differ);
}

TEST(AslExecution, CatchInsideMapIteration) {
  const char* def = R"({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
    "ItemProcessor": {"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Catch": [{"ErrorEquals": ["Bad"], "ResultPath": "$.err", "Next": "Fixed"}], "End": true},
      "Fixed": {"Type": "Pass", "Result": "fixed", "ResultPath": "$.note", "End": true}}},
    "End": true}}})";
  SeededRng rng(3);
  Execution e(machine(def));
  Effects fx = e.start(Json::array({Json{{"i", 0}}, Json{{"i", 1}}}), {}, kT0, rng);
  ASSERT_EQ(fx.tasks.size(), 1u);  // MaxConcurrency 1: one iteration at a time
  fx = e.task_succeeded(fx.tasks[0].task_id, Json{{"ok", 0}}, kT0, rng);
  ASSERT_EQ(fx.tasks.size(), 1u);
  fx = e.task_failed(fx.tasks[0].task_id, "Bad", "item 1", kT0, rng);
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  Json expected = Json::array(
      {Json{{"ok", 0}},
       Json{{"i", 1}, {"err", {{"Error", "Bad"}, {"Cause", "item 1"}}}, {"note", "fixed"}}});
  EXPECT_EQ(*fx.output, expected);
}

TEST(AslExecution, CatchOnParallelAbortsTheOtherBranch) {
  const char* def = R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [
      {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
      {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "branch 2"}}}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
    "Done": {"Type": "Succeed"}}})";
  SeededRng rng(4);
  Execution e(machine(def));
  Effects fx = e.start(Json::object(), {}, kT0, rng);
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, (Json{{"Error", "Nope"}, {"Cause", "branch 2"}}));
  ASSERT_EQ(fx.tasks.size(), 1u);
  ASSERT_EQ(fx.cancelled_tasks.size(), 1u);
  EXPECT_EQ(fx.cancelled_tasks[0], fx.tasks[0].task_id);
  auto t = types(fx);
  EXPECT_NE(std::find(t.begin(), t.end(), "TaskStateAborted"), t.end());
  EXPECT_NE(std::find(t.begin(), t.end(), "ParallelStateFailed"), t.end());
}

TEST(AslExecution, TaskTimeoutFailsWithStatesTimeout) {
  const char* def = R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::batch:submitJob.sync", "TimeoutSeconds": 5, "End": true}}})";
  SeededRng rng(5);
  Execution e(machine(def));
  Effects fx = e.start(Json::object(), {}, kT0, rng);
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].timeout_seconds, 5.0);
  ASSERT_EQ(fx.next_wake, kT0 + seconds(5));
  fx = e.timer_fired(kT0 + seconds(4), rng);  // early call: nothing due
  EXPECT_EQ(fx.status, ExecutionStatus::kRunning);
  fx = e.timer_fired(kT0 + seconds(5), rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kFailed);  // FAILED, not TIMED_OUT (states-semantics.md)
  EXPECT_EQ(fx.error, "States.Timeout");
  EXPECT_EQ(fx.cancelled_tasks.size(), 1u);
  EXPECT_EQ(types(fx), (std::vector<std::string>{"TaskTimedOut", "ExecutionFailed"}));
}

TEST(AslExecution, HeartbeatExtendsTheDeadline) {
  const char* def = R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "TimeoutSeconds": 100,
    "HeartbeatSeconds": 3, "End": true}}})";
  SeededRng rng(6);
  Execution e(machine(def));
  Effects fx = e.start(Json::object(), {}, kT0, rng);
  std::string id = fx.tasks[0].task_id;
  EXPECT_TRUE(fx.tasks[0].is_wait_for_task_token);
  EXPECT_FALSE(fx.tasks[0].task_token.empty());
  EXPECT_EQ(fx.next_wake, kT0 + seconds(3));
  fx = e.task_heartbeat(id, kT0 + seconds(2), rng);
  EXPECT_TRUE(fx.events.empty());  // SendTaskHeartbeat writes no history event
  EXPECT_EQ(fx.next_wake, kT0 + seconds(5));
  fx = e.timer_fired(kT0 + seconds(5), rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kFailed);
  EXPECT_EQ(fx.error, "States.Timeout");
}

TEST(AslExecution, HistoryIdsChainAsRecorded) {
  SeededRng rng(7);
  Execution e(machine(R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                          "B": {"Type": "Pass", "End": true}}})"));
  Effects fx = e.start(Json{{"x", 1}}, {}, kT0, rng);
  ASSERT_EQ(fx.events.size(), 6u);
  // ExecutionStarted(1<0) PassStateEntered(2<0) PassStateExited(3<2)
  // PassStateEntered(4<3) PassStateExited(5<4) ExecutionSucceeded(6<5)
  const int64_t prev[] = {0, 0, 2, 3, 4, 5};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(fx.events[i].id, static_cast<int64_t>(i + 1));
    EXPECT_EQ(fx.events[i].previous_event_id, prev[i]) << fx.events[i].type;
  }
  Json wire = fx.events[1].to_wire();
  EXPECT_EQ(wire["stateEnteredEventDetails"]["input"], "{\"x\":1}");
}

TEST(AslExecution, StopAbortsWithPreviousEventZero) {
  SeededRng rng(8);
  Execution e(machine(
      R"({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}})"));
  Effects fx = e.start(Json::object(), {}, kT0, rng);
  EXPECT_EQ(fx.next_wake, kT0 + seconds(60));
  fx = e.stop(std::string("User"), std::nullopt, kT0 + seconds(1), rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kAborted);
  ASSERT_EQ(fx.events.size(), 1u);
  EXPECT_EQ(fx.events[0].type, "ExecutionAborted");
  EXPECT_EQ(fx.events[0].previous_event_id, 0);
}

// Drives an execution: tasks succeed echoing their parameters, timers fire
// at their wake time; optionally round-trips through JSON before each call.
Effects drive(const std::shared_ptr<const StateMachine>& m, bool round_trip,
              std::vector<std::string>& log) {
  SeededRng rng(9);
  auto e = std::make_unique<Execution>(m);
  TimePoint now = kT0;
  Effects fx = e->start(Json{{"items", {1, 2, 3}}, {"v", "x"}}, {}, now, rng);
  std::deque<TaskRequest> outstanding;
  for (int step = 0; step < 100 && fx.status == ExecutionStatus::kRunning; ++step) {
    for (const auto& ev : fx.events) log.push_back(std::to_string(ev.id) + std::string(ev.type));
    for (auto& t : fx.tasks) outstanding.push_back(std::move(t));
    if (round_trip) {
      auto restored = Execution::from_json(m, Json::parse(e->to_json().dump()));
      EXPECT_TRUE(restored.has_value());
      e = std::make_unique<Execution>(std::move(*restored));
    }
    if (!outstanding.empty()) {
      TaskRequest t = std::move(outstanding.front());
      outstanding.pop_front();
      fx = e->task_succeeded(t.task_id, t.parameters, now, rng);
    } else {
      now = *fx.next_wake;
      fx = e->timer_fired(now, rng);
    }
  }
  for (const auto& ev : fx.events) log.push_back(std::to_string(ev.id) + std::string(ev.type));
  return fx;
}

TEST(AslExecution, SerialiseResumeGivesTheSameRun) {
  auto m = machine(R"({"StartAt": "Set", "States": {
    "Set": {"Type": "Pass", "Assign": {"who.$": "$.v"}, "Next": "Fan"},
    "Fan": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
      "ItemSelector": {"n.$": "$$.Map.Item.Value", "who.$": "$who"},
      "ItemProcessor": {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
      "ResultPath": "$.out", "Next": "Nap"},
    "Nap": {"Type": "Wait", "Seconds": 3, "Next": "Done"},
    "Done": {"Type": "Pass", "End": true}}})");
  std::vector<std::string> plain_log, resumed_log;
  Effects plain = drive(m, false, plain_log);
  Effects resumed = drive(m, true, resumed_log);
  ASSERT_EQ(plain.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(resumed.status, plain.status);
  EXPECT_EQ(*resumed.output, *plain.output);
  EXPECT_EQ(resumed_log, plain_log);
  Json expected_out = Json::array(
      {Json{{"n", 1}, {"who", "x"}}, Json{{"n", 2}, {"who", "x"}}, Json{{"n", 3}, {"who", "x"}}});
  EXPECT_EQ((*plain.output)["out"], expected_out);
}

TEST(AslExecution, ExecutionTimeoutGivesTimedOut) {
  SeededRng rng(10);
  Execution e(machine(R"({"StartAt": "W", "TimeoutSeconds": 5,
    "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}})"));
  Effects fx = e.start(Json::object(), {}, kT0, rng);
  EXPECT_EQ(fx.next_wake, kT0 + seconds(5));
  fx = e.timer_fired(kT0 + seconds(5), rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kTimedOut);
}

TEST(AslExecution, OversizedTaskResultIsDataLimitExceeded) {
  SeededRng rng(11);
  Execution e(machine(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke", "End": true}}})"));
  Effects fx = e.start(Json::object(), {}, kT0, rng);
  fx = e.task_succeeded(fx.tasks[0].task_id, Json(std::string(300 * 1024, 'a')), kT0, rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kFailed);
  EXPECT_EQ(fx.error, "States.DataLimitExceeded");
}

TEST(AslExecution, ItemReaderCsvFromTheItemSourceAndResultWriterEffect) {
  const char* def = R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
      "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 2},
      "Parameters": {"Bucket": "data", "Key.$": "$.key"}},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P",
      "States": {"P": {"Type": "Pass", "End": true}}},
    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
      "Parameters": {"Bucket": "out", "Prefix": "runs"}},
    "End": true}}})";
  ExecutionOptions options;
  Json asked;
  options.item_source = [&](const std::string& resource,
                            const Json& parameters) -> tl::expected<std::string, std::string> {
    EXPECT_EQ(resource, "arn:aws:states:::s3:getObject");
    asked = parameters;
    return std::string("id,name\n1,\"a, b\"\n2,c\n3,d\n");
  };
  SeededRng rng(12);
  Execution e(machine(def), options);
  Effects fx = e.start(Json{{"key", "in.csv"}}, {}, kT0, rng);
  EXPECT_EQ(asked, (Json{{"Bucket", "data"}, {"Key", "in.csv"}}));
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  ASSERT_EQ(fx.result_writes.size(), 1u);
  // MaxItems 2 keeps the first two data rows; CSV values stay strings.
  Json expected =
      Json::array({Json{{"id", "1"}, {"name", "a, b"}}, Json{{"id", "2"}, {"name", "c"}}});
  EXPECT_EQ(fx.result_writes[0].results, expected);
  EXPECT_EQ(*fx.output, (Json{{"ResultWriterDetails", {{"Bucket", "out"}, {"Prefix", "runs"}}}}));
}

TEST(AslExecution, ItemReaderWithoutSourceIsACatchableError) {
  const char* def = R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}},
    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
    "Catch": [{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Done"}], "End": true},
    "Done": {"Type": "Pass", "End": true}}})";
  SeededRng rng(13);
  Execution e(machine(def));
  Effects fx = e.start(Json::object(), {}, kT0, rng);
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ((*fx.output)["Error"], "States.ItemReaderFailed");
}

TEST(AslExecution, HeartbeatSecondsPathSurvivesAResume) {
  auto m = machine(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "HeartbeatSecondsPath": "$.hb", "End": true}}})");
  SeededRng rng(14);
  Execution e(m);
  Effects fx = e.start(Json{{"hb", 4}}, {}, kT0, rng);
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].heartbeat_seconds, 4.0);
  std::string id = fx.tasks[0].task_id;
  auto resumed = Execution::from_json(m, e.to_json());
  ASSERT_TRUE(resumed.has_value());
  fx = resumed->task_heartbeat(id, kT0 + seconds(3), rng);
  EXPECT_EQ(fx.next_wake, kT0 + seconds(7));  // 3 s + the 4 s read from $.hb
  fx = resumed->task_succeeded(id, Json{{"done", true}}, kT0 + seconds(5), rng);
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, (Json{{"done", true}}));
}

// TestState's $$ is an express execution's; RoleArn is the roleArn sent, or
// null, and only states that can retry carry RetryCount.
TEST(AslExecution, TestStateContextRoleArnAndRetryCount) {
  TestStateRequest req;
  req.definition = Json::parse(R"({"Type": "Pass", "Parameters": {"c.$": "$$"}, "End": true})");
  SeededRng rng(15);
  Json out = test_state(req, kT0, rng);
  ASSERT_EQ(out["status"], "SUCCEEDED");
  const Json& c = out["output"]["c"];
  EXPECT_TRUE(c["Execution"]["RoleArn"].is_null());
  EXPECT_NE(c["Execution"]["Id"].get<std::string>().find(":express:"), std::string::npos);
  EXPECT_FALSE(c["Execution"].contains("RedriveCount"));
  EXPECT_FALSE(c["State"].contains("RetryCount"));
  EXPECT_EQ(c["State"]["Name"], "StateName");

  req.definition = Json::parse(R"({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "ResultSelector": {"c.$": "$$"}, "End": true})");
  req.mock = Json{{"result", "{}"}};
  req.role_arn = "arn:aws:iam::123456789012:role/tester";
  out = test_state(req, kT0, rng);
  ASSERT_EQ(out["status"], "SUCCEEDED");
  EXPECT_EQ(out["output"]["c"]["Execution"]["RoleArn"], "arn:aws:iam::123456789012:role/tester");
  EXPECT_EQ(out["output"]["c"]["State"]["RetryCount"], 0);
  EXPECT_FALSE(out["output"]["c"].contains("Task"));  // no token without .sync/.waitForTaskToken
}

}  // namespace
}  // namespace helix::asl
