// Unit tests of the interpreter for what the recorded corpus does not
// cover: retry timing (MaxDelaySeconds, FULL jitter), Catch inside Map and
// Parallel, task and heartbeat timeouts on a fake clock, history id
// chaining, stop, serialise/resume equality, TestState's RoleArn (the
// corpus does not record whether a roleArn was sent), and redrive (the
// corpus records no RedriveExecution).
#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "common/rng.h"
#include "pipelines/engine/execution.h"
#include "pipelines/engine/intrinsics.h"
#include "pipelines/engine/scope.h"
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

// Found by tests/fuzz/json_path_fuzz: an index past int64 made the path
// parser throw out of the definition parser. It is an invalid path now.
// A uint64 argument past 2^53 is no valid ArrayRange bound or step (it
// reached an int64 cast: undefined behaviour, found by intrinsic_fuzz in CI).
TEST(AslIntrinsics, ArrayRangeRefusesIntegersPastTwoToThe53) {
  const Json document = Json::object();
  helix::SeededRng rng(1);
  Scope scope;
  scope.input = &document;
  scope.context = [&]() -> const Json& { return document; };
  scope.variable = [](std::string_view) -> const Json* { return nullptr; };
  scope.rng = &rng;
  for (const char* text : {"States.ArrayRange(1, 2, 17777777777777777777)",
                           "States.ArrayRange(-9007199254740993, 2, 1)"}) {
    auto call = parse_intrinsic(text);
    ASSERT_TRUE(call) << text;
    EXPECT_FALSE(evaluate_intrinsic(*call, scope)) << text;
  }
  auto fine = parse_intrinsic("States.ArrayRange(1, 5, 2)");
  ASSERT_TRUE(fine);
  auto range = evaluate_intrinsic(*fine, scope);
  ASSERT_TRUE(range);
  EXPECT_EQ(*range, Json::parse("[1, 3, 5]"));
}

TEST(AslDefinition, IndexPastInt64IsAnInvalidPathNotACrash) {
  auto m = parse_state_machine(Json::parse(R"({"StartAt": "P", "States": {"P": {
    "Type": "Pass", "Parameters": {"x.$": "$.a[99999999999999999999999]"}, "End": true}}})"));
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(invalid_definition_message(m.error()).find("/States/P/Parameters"), std::string::npos)
      << invalid_definition_message(m.error());
}

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

// An activity: ActivityScheduled with the effective input; the heartbeat
// clock starts only when a worker takes the task; Activity* events, not Task*.
TEST(AslExecution, ActivityWaitsForAWorkerThenHeartbeatsCount) {
  const char* def = R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:us-east-1:123456789012:activity:align",
    "Parameters": {"sample.$": "$.s"}, "TimeoutSeconds": 100, "HeartbeatSeconds": 3,
    "Next": "Again"},
    "Again": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:align",
    "HeartbeatSeconds": 3, "End": true}}})";
  SeededRng rng(6);
  Execution e(machine(def));
  Effects fx = e.start(Json{{"s", "NA12878"}}, {}, kT0, rng);
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_TRUE(fx.tasks[0].is_activity);
  EXPECT_EQ(fx.tasks[0].parameters, (Json{{"sample", "NA12878"}}));
  EXPECT_EQ(types(fx), (std::vector<std::string>{"ExecutionStarted", "TaskStateEntered",
                                                 "ActivityScheduled"}));
  Json scheduled = fx.events.back().to_wire()["activityScheduledEventDetails"];
  EXPECT_EQ(scheduled["resource"], "arn:aws:states:us-east-1:123456789012:activity:align");
  EXPECT_EQ(scheduled["input"], R"({"sample":"NA12878"})");
  EXPECT_EQ(scheduled["heartbeatInSeconds"], 3);
  EXPECT_EQ(fx.next_wake, kT0 + seconds(100));  // no worker yet: only the timeout
  std::string id = fx.tasks[0].task_id;
  fx = e.task_started(id, "worker-1", kT0 + seconds(10), rng);
  EXPECT_EQ(types(fx), (std::vector<std::string>{"ActivityStarted"}));
  EXPECT_EQ(fx.events[0].to_wire()["activityStartedEventDetails"]["workerName"], "worker-1");
  EXPECT_EQ(fx.next_wake, kT0 + seconds(13));
  fx = e.task_succeeded(id, Json{{"bam", "x.bam"}}, kT0 + seconds(12), rng);
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(types(fx)[0], "ActivitySucceeded");
  // The second activity is taken and then left without heartbeats.
  std::string second = fx.tasks[0].task_id;
  fx = e.task_started(second, "worker-2", kT0 + seconds(20), rng);
  fx = e.timer_fired(kT0 + seconds(23), rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kFailed);
  EXPECT_EQ(types(fx), (std::vector<std::string>{"ActivityTimedOut", "ExecutionFailed"}));
  EXPECT_EQ(fx.cancelled_tasks, std::vector<std::string>{second});
}

// Step Functions' history quota: past max_history_events the execution
// fails with States.Runtime; 0 lifts it.
TEST(AslExecution, HistoryQuotaFailsTheExecution) {
  const char* def = R"({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}})";
  Json items = Json::array();
  for (int i = 0; i < 30; ++i) items.push_back(i);
  SeededRng rng(9);
  ExecutionOptions limited;
  limited.max_history_events = 50;
  Execution e(machine(def), limited);
  Effects fx = e.start(items, {}, kT0, rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kFailed);
  EXPECT_EQ(fx.error, "States.Runtime");
  EXPECT_NE(fx.cause->find("maximum number of history events (50)"), std::string::npos);
  EXPECT_EQ(fx.events.back().type, "ExecutionFailed");
  ExecutionOptions unlimited;
  unlimited.max_history_events = 0;
  Execution free(machine(def), unlimited);
  fx = free.start(items, {}, kT0, rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_GT(fx.events.size(), 100u);
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

// The writer must give byte for byte what to_wire().dump() gives: stored
// histories are compared as text and served as they were written.
TEST(AslExecution, WireWriterMatchesToWireDump) {
  std::vector<HistoryEvent> events;
  auto state_event = [&](std::string_view type, std::string_view key, Json payload,
                         std::string name = "S") {
    HistoryEvent e;
    e.id = static_cast<int64_t>(events.size()) + 1;
    e.previous_event_id = e.id - 1;
    e.timestamp = kT0;
    e.type = type;
    e.state_name = std::move(name);
    e.payload_key = key;
    e.payload = std::move(payload);
    events.push_back(std::move(e));
  };
  state_event("PassStateEntered", "input", Json{{"i", 0}});
  state_event("PassStateExited", "output", Json{{"text", "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f"}});
  state_event("MapStateEntered", "input", "a plain \"string\" payload");
  state_event("TaskStateExited", "output", Json{{"name", "caf\xc3\xa9 \xe2\x82\xac"}}, "n\xc3\xa9");
  state_event("ChoiceStateEntered", "input", Json(), "tab\there");
  state_event("WaitStateExited", "output", Json::array({1, 2.5, -3, true, nullptr}));
  state_event("PassStateExited", "output", Json{{"i", 1}});
  events.back().details = Json{{"assignedVariables", {{"x", 1}, {"y", "s"}}}};
  auto other = [&](std::string_view type, Json details, TimePoint at) {
    HistoryEvent e;
    e.id = static_cast<int64_t>(events.size()) + 1;
    e.previous_event_id = 0;
    e.timestamp = at;
    e.type = type;
    e.details = std::move(details);
    events.push_back(std::move(e));
  };
  // Details members that sort before "id", between the fixed members and after "type".
  other("ActivityScheduled", Json{{"resource", "r"}, {"input", Json{{"a", 1}}}},
        kT0 + std::chrono::microseconds(123456));
  other("ExecutionStarted", Json{{"input", Json{{"k", "v"}}}, {"roleArn", "arn"}},
        kT0 + std::chrono::microseconds(1));
  other("MapIterationStarted", Json{{"name", "M"}, {"index", 3}}, kT0 + seconds(1));
  other("TaskScheduled", Json{{"parameters", Json{{"p", 1}}}}, from_epoch_us(0));
  other("WaitStateAborted", Json(), from_epoch_us(-1'500'000));
  other("ExecutionSucceeded", Json{{"output", "already text"}}, kT0);
  other("MapStateSucceeded", Json(), kT0);
  HistoryWireWriter writer;
  for (const auto& e : events) EXPECT_EQ(writer.render(e), e.to_wire().dump()) << e.type;
  // A payload that is not UTF-8 fails as dump() fails.
  HistoryEvent bad = events.front();
  bad.payload = std::string("\xff");
  EXPECT_THROW(bad.to_wire().dump(), Json::exception);
  EXPECT_THROW(writer.render(bad), Json::exception);
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

// ---- redrive ----------------------------------------------------------------

// Collects the history across calls, so continuity can be checked.
struct History {
  std::vector<HistoryEvent> events;
  const Effects& add(const Effects& fx) {
    events.insert(events.end(), fx.events.begin(), fx.events.end());
    return fx;
  }
  void expect_continuous() const {
    for (size_t i = 0; i < events.size(); ++i)
      EXPECT_EQ(events[i].id, static_cast<int64_t>(i + 1)) << events[i].type;
  }
};

size_t count_type(const Effects& fx, std::string_view type) {
  size_t n = 0;
  for (const auto& e : fx.events) n += e.type == type;
  return n;
}

Execution round_trip(const std::shared_ptr<const StateMachine>& m, const Execution& e) {
  auto restored = Execution::from_json(m, Json::parse(e.to_json().dump()));
  EXPECT_TRUE(restored.has_value());
  return std::move(*restored);
}

// A Task fails for good; the redrive enters it again with the same input,
// keeps the history going, restarts the retry counter and shows
// RedriveCount in $$.
TEST(AslExecution, RedriveFailedTaskContinuesWithTheSameInput) {
  auto m = machine(R"({"StartAt": "Prep", "States": {
    "Prep": {"Type": "Pass", "Result": {"x": 1}, "Next": "Work"},
    "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"x.$": "$.x", "rc.$": "$$.Execution.RedriveCount"},
      "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 1}],
      "End": true}}})");
  SeededRng rng(20);
  Execution e(m);
  History h;
  Effects fx = h.add(e.start(Json::object(), {}, kT0, rng));
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].parameters, (Json{{"x", 1}, {"rc", 0}}));
  fx = h.add(e.task_failed(fx.tasks[0].task_id, "Boom", "once", kT0, rng));
  fx = h.add(e.timer_fired(*fx.next_wake, rng));
  ASSERT_EQ(fx.tasks.size(), 1u);
  std::string old_id = fx.tasks[0].task_id, old_token = fx.tasks[0].task_token;
  fx = h.add(e.task_failed(old_id, "Boom", "twice", kT0 + seconds(2), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kFailed);
  int64_t failed_id = h.events.back().id;

  fx = h.add(e.redrive(kT0 + seconds(100), rng));
  EXPECT_EQ(fx.status, ExecutionStatus::kRunning);
  EXPECT_EQ(e.status(), ExecutionStatus::kRunning);
  ASSERT_FALSE(fx.events.empty());
  EXPECT_EQ(fx.events[0].type, "ExecutionRedriven");
  EXPECT_EQ(fx.events[0].id, failed_id + 1);
  EXPECT_EQ(fx.events[0].previous_event_id, failed_id);
  EXPECT_EQ(fx.events[0].to_wire()["executionRedrivenEventDetails"]["redriveCount"], 1);
  EXPECT_EQ(count_type(fx, "PassStateEntered"), 0u);  // Prep succeeded: not run again
  EXPECT_EQ(count_type(fx, "TaskStateEntered"), 1u);
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].parameters, (Json{{"x", 1}, {"rc", 1}}));
  EXPECT_NE(fx.tasks[0].task_id, old_id);
  EXPECT_NE(fx.tasks[0].task_token, old_token);

  // The retry counter starts again: Boom is retried once more.
  fx = h.add(e.task_failed(fx.tasks[0].task_id, "Boom", "again", kT0 + seconds(100), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kRunning);
  ASSERT_TRUE(fx.next_wake.has_value());
  fx = h.add(e.timer_fired(*fx.next_wake, rng));
  ASSERT_EQ(fx.tasks.size(), 1u);
  fx = h.add(e.task_succeeded(fx.tasks[0].task_id, Json{{"done", true}}, kT0 + seconds(102), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, (Json{{"done", true}}));
  EXPECT_EQ(h.events.back().type, "ExecutionSucceeded");
  h.expect_continuous();
  EXPECT_EQ(e.to_json()["context"]["redrive_count"], 1);
}

constexpr const char* kMapOfTasks = R"({"StartAt": "M", "States": {"M": {"Type": "Map",
  "ItemProcessor": {"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"n.$": "$"}, "End": true}}},
  "End": true}}})";

// Item 3 (index 2) of 5 fails; the redrive runs only that iteration.
void redrive_map_item(bool through_json) {
  auto m = machine(kMapOfTasks);
  SeededRng rng(21);
  Execution e(m);
  History h;
  Effects fx = h.add(e.start(Json::array({1, 2, 3, 4, 5}), {}, kT0, rng));
  ASSERT_EQ(fx.tasks.size(), 5u);
  std::vector<TaskRequest> tasks = fx.tasks;
  for (size_t i : {0u, 1u, 3u, 4u})
    h.add(e.task_succeeded(tasks[i].task_id, Json{{"r", tasks[i].parameters["n"]}}, kT0, rng));
  fx = h.add(e.task_failed(tasks[2].task_id, "Boom", "item 3", kT0, rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kFailed);
  if (through_json) e = round_trip(m, e);

  fx = h.add(e.redrive(kT0 + seconds(10), rng));
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].parameters, (Json{{"n", 3}}));
  EXPECT_EQ(count_type(fx, "MapIterationStarted"), 1u);
  if (through_json) e = round_trip(m, e);
  fx = h.add(e.task_succeeded(fx.tasks[0].task_id, Json{{"r", 3}}, kT0 + seconds(11), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, Json::array({Json{{"r", 1}}, Json{{"r", 2}}, Json{{"r", 3}}, Json{{"r", 4}},
                                     Json{{"r", 5}}}));
  h.expect_continuous();
}

TEST(AslExecution, RedriveMapRunsOnlyTheFailedIteration) { redrive_map_item(false); }

TEST(AslExecution, RedriveAfterSerialiseResume) { redrive_map_item(true); }

// MaxConcurrency 2: item 0 fails while item 1 runs (aborted); the redrive
// runs both again, then the items never started, two at a time.
TEST(AslExecution, RedriveMapRerunsAbortedIterationsWithinMaxConcurrency) {
  auto m = machine(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 2,
    "ItemProcessor": {"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"n.$": "$"}, "End": true}}},
    "End": true}}})");
  SeededRng rng(22);
  Execution e(m);
  History h;
  Effects fx = h.add(e.start(Json::array({1, 2, 3, 4}), {}, kT0, rng));
  ASSERT_EQ(fx.tasks.size(), 2u);
  fx = h.add(e.task_failed(fx.tasks[0].task_id, "Boom", "", kT0, rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kFailed);
  EXPECT_EQ(count_type(fx, "MapIterationAborted"), 1u);

  fx = h.add(e.redrive(kT0 + seconds(1), rng));
  ASSERT_EQ(fx.tasks.size(), 2u);
  EXPECT_EQ(fx.tasks[0].parameters, (Json{{"n", 1}}));
  EXPECT_EQ(fx.tasks[1].parameters, (Json{{"n", 2}}));
  std::deque<TaskRequest> open(fx.tasks.begin(), fx.tasks.end());
  size_t started = open.size();
  while (!open.empty()) {
    TaskRequest t = open.front();
    open.pop_front();
    fx = h.add(e.task_succeeded(t.task_id, t.parameters["n"], kT0 + seconds(2), rng));
    started += fx.tasks.size();
    for (auto& n : fx.tasks) open.push_back(n);
    EXPECT_LE(open.size(), 2u);
  }
  EXPECT_EQ(started, 4u);
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, Json::array({1, 2, 3, 4}));
  h.expect_continuous();
}

// A failed Parallel branch runs again; the succeeded branch keeps its output.
TEST(AslExecution, RedriveParallelRunsOnlyTheFailedBranch) {
  auto m = machine(R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [
      {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
      {"StartAt": "B", "States": {"B": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}],
    "End": true}}})");
  SeededRng rng(23);
  Execution e(m);
  History h;
  Effects fx = h.add(e.start(Json{{"in", 1}}, {}, kT0, rng));
  ASSERT_EQ(fx.tasks.size(), 1u);
  fx = h.add(e.task_failed(fx.tasks[0].task_id, "Boom", "", kT0, rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kFailed);

  fx = h.add(e.redrive(kT0 + seconds(5), rng));
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].parameters, (Json{{"in", 1}}));
  EXPECT_EQ(count_type(fx, "PassStateEntered"), 0u);
  EXPECT_EQ(count_type(fx, "TaskStateEntered"), 1u);
  fx = h.add(e.task_succeeded(fx.tasks[0].task_id, "b", kT0 + seconds(6), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, Json::array({"a", "b"}));
  h.expect_continuous();
}

// Map iterations that are Parallels: only the failed branch of the failed
// iteration runs again.
TEST(AslExecution, RedriveNestedParallelInsideMap) {
  auto m = machine(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [
      {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "p", "End": true}}},
      {"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}],
      "End": true}}},
    "End": true}}})");
  SeededRng rng(24);
  Execution e(m);
  History h;
  Effects fx = h.add(e.start(Json::array({0, 1}), {}, kT0, rng));
  ASSERT_EQ(fx.tasks.size(), 2u);
  std::vector<TaskRequest> tasks = fx.tasks;
  h.add(e.task_succeeded(tasks[0].task_id, "r0", kT0, rng));
  fx = h.add(e.task_failed(tasks[1].task_id, "Boom", "", kT0, rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kFailed);
  e = round_trip(m, e);

  fx = h.add(e.redrive(kT0 + seconds(1), rng));
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].parameters, 1);
  EXPECT_EQ(count_type(fx, "PassStateEntered"), 0u);
  fx = h.add(e.task_succeeded(fx.tasks[0].task_id, "r1", kT0 + seconds(2), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, Json::array({Json::array({"p", "r0"}), Json::array({"p", "r1"})}));
  h.expect_continuous();
}

TEST(AslExecution, RedriveOfSucceededOrRunningDoesNothing) {
  SeededRng rng(25);
  Execution done(machine(R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}})"));
  Effects fx = done.start(Json{{"x", 1}}, {}, kT0, rng);
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  fx = done.redrive(kT0 + seconds(1), rng);
  EXPECT_TRUE(fx.events.empty());
  EXPECT_TRUE(fx.tasks.empty());
  EXPECT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(done.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(done.to_json()["context"]["redrive_count"], 0);

  Execution running(machine(kMapOfTasks));
  fx = running.start(Json::array({1}), {}, kT0, rng);
  ASSERT_EQ(fx.status, ExecutionStatus::kRunning);
  fx = running.redrive(kT0 + seconds(1), rng);
  EXPECT_TRUE(fx.events.empty());
  EXPECT_TRUE(fx.tasks.empty());
  EXPECT_EQ(running.to_json()["context"]["redrive_count"], 0);
}

// Stopped while its Task ran: the redrive schedules the task again; a late
// report for the old task is ignored.
TEST(AslExecution, RedriveAfterStopSchedulesTheTaskAgain) {
  SeededRng rng(26);
  Execution e(machine(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::batch:submitJob.sync", "Parameters": {"j.$": "$.j"},
    "End": true}}})"));
  History h;
  Effects fx = h.add(e.start(Json{{"j", "x"}}, {}, kT0, rng));
  ASSERT_EQ(fx.tasks.size(), 1u);
  TaskRequest old = fx.tasks[0];
  fx = h.add(e.stop(std::string("User"), std::nullopt, kT0 + seconds(1), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kAborted);
  ASSERT_EQ(fx.cancelled_tasks.size(), 1u);

  fx = h.add(e.redrive(kT0 + seconds(2), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kRunning);
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_NE(fx.tasks[0].task_id, old.task_id);
  EXPECT_NE(fx.tasks[0].task_token, old.task_token);
  EXPECT_EQ(fx.tasks[0].parameters, (Json{{"j", "x"}}));
  TaskRequest fresh = fx.tasks[0];
  fx = h.add(e.task_succeeded(old.task_id, "late", kT0 + seconds(3), rng));
  EXPECT_EQ(fx.status, ExecutionStatus::kRunning);
  EXPECT_TRUE(fx.events.empty());
  fx = h.add(e.task_succeeded(fresh.task_id, "ok", kT0 + seconds(4), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, "ok");
  h.expect_continuous();
}

// TIMED_OUT inside a Map: the running iterations start again and the
// execution's TimeoutSeconds counts from the redrive.
TEST(AslExecution, RedriveAfterExecutionTimeoutRestartsTheDeadline) {
  auto m = machine(R"({"StartAt": "M", "TimeoutSeconds": 5, "States": {"M": {"Type": "Map",
    "ItemProcessor": {"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
    "End": true}}})");
  SeededRng rng(27);
  Execution e(m);
  History h;
  Effects fx = h.add(e.start(Json::array({1, 2}), {}, kT0, rng));
  ASSERT_EQ(fx.tasks.size(), 2u);
  h.add(e.task_succeeded(fx.tasks[0].task_id, "one", kT0, rng));
  fx = h.add(e.timer_fired(kT0 + seconds(5), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kTimedOut);
  e = round_trip(m, e);

  fx = h.add(e.redrive(kT0 + seconds(100), rng));
  EXPECT_EQ(fx.next_wake, kT0 + seconds(105));
  ASSERT_EQ(fx.tasks.size(), 1u);
  EXPECT_EQ(fx.tasks[0].parameters, 2);
  fx = h.add(e.task_succeeded(fx.tasks[0].task_id, "two", kT0 + seconds(101), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, Json::array({"one", "two"}));
  h.expect_continuous();
}

// Failures that were caught or tolerated leave nothing kept for a redrive.
TEST(AslExecution, HandledFailuresKeepNoRedriveState) {
  SeededRng rng(28);
  Execution caught(machine(R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [
      {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
      {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope"}}}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
    "Done": {"Type": "Succeed"}}})"));
  Effects fx = caught.start(Json::object(), {}, kT0, rng);
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(caught.to_json()["frames"].size(), 1u);

  Execution tolerated(machine(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ToleratedFailureCount": 1,
    "ItemProcessor": {"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
    "End": true}}})"));
  fx = tolerated.start(Json::array({1, 2}), {}, kT0, rng);
  std::vector<TaskRequest> tasks = fx.tasks;
  ASSERT_EQ(tasks.size(), 2u);
  fx = tolerated.task_failed(tasks[0].task_id, "Boom", "", kT0, rng);
  EXPECT_EQ(fx.status, ExecutionStatus::kRunning);
  fx = tolerated.task_succeeded(tasks[1].task_id, 2, kT0, rng);
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(tolerated.to_json()["frames"].size(), 1u);
}

// Past ToleratedFailureCount the Map fails; the redrive reruns every failed
// iteration, the tolerated one included, and keeps the succeeded one.
TEST(AslExecution, RedriveMapPastToleratedFailures) {
  auto m = machine(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ToleratedFailureCount": 1,
    "ItemProcessor": {"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
    "End": true}}})");
  SeededRng rng(29);
  Execution e(m);
  History h;
  Effects fx = h.add(e.start(Json::array({1, 2, 3}), {}, kT0, rng));
  std::vector<TaskRequest> tasks = fx.tasks;
  ASSERT_EQ(tasks.size(), 3u);
  h.add(e.task_failed(tasks[0].task_id, "Boom", "", kT0, rng));
  h.add(e.task_succeeded(tasks[1].task_id, 20, kT0, rng));
  fx = h.add(e.task_failed(tasks[2].task_id, "Boom", "", kT0, rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kFailed);
  EXPECT_EQ(fx.error, "States.ExceedToleratedFailureThreshold");

  fx = h.add(e.redrive(kT0 + seconds(1), rng));
  ASSERT_EQ(fx.tasks.size(), 2u);
  EXPECT_EQ(fx.tasks[0].parameters, 1);
  EXPECT_EQ(fx.tasks[1].parameters, 3);
  tasks = fx.tasks;
  h.add(e.task_succeeded(tasks[0].task_id, 10, kT0 + seconds(2), rng));
  fx = h.add(e.task_succeeded(tasks[1].task_id, 30, kT0 + seconds(2), rng));
  ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*fx.output, Json::array({10, 20, 30}));
  h.expect_continuous();
}

// Random task failures, stops and JSON round trips over nested Maps and
// Parallels: redriving until the run succeeds always gives the same output,
// with one unbroken history.
TEST(AslExecution, RandomFailuresAndRedrivesConverge) {
  auto m = machine(R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [
      {"StartAt": "M1", "States": {"M1": {"Type": "Map", "ItemsPath": "$.items",
        "MaxConcurrency": 2,
        "ItemProcessor": {"StartAt": "T1", "States": {
          "T1": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"n.$": "$"},
                 "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                 "Next": "Echo"},
          "Echo": {"Type": "Pass", "End": true}}},
        "End": true}}},
      {"StartAt": "T2", "States": {
        "T2": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
               "Parameters": {"list": [1, 2]}, "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 1, "Next": "M2"},
        "M2": {"Type": "Map", "ItemsPath": "$.list",
          "ItemProcessor": {"StartAt": "Q", "States": {"Q": {"Type": "Parallel", "Branches": [
            {"StartAt": "T3", "States": {"T3": {"Type": "Task",
              "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"m.$": "$"},
              "End": true}}},
            {"StartAt": "C", "States": {"C": {"Type": "Pass", "Result": "p", "End": true}}}],
            "End": true}}},
          "End": true}}}],
    "End": true}}})");
  const Json expected = Json::parse(R"([[{"n": 1}, {"n": 2}, {"n": 3}],
                                        [[{"m": 1}, "p"], [{"m": 2}, "p"]]])");
  int total_redrives = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    SeededRng rng(seed);
    std::mt19937 gen(seed);
    Execution e(m);
    History h;
    TimePoint now = kT0;
    Effects fx = h.add(e.start(Json{{"items", {1, 2, 3}}}, {}, now, rng));
    std::vector<TaskRequest> open;
    for (int step = 0; step < 3000 && fx.status != ExecutionStatus::kSucceeded; ++step) {
      for (const auto& t : fx.tasks) open.push_back(t);
      for (const auto& c : fx.cancelled_tasks)
        std::erase_if(open, [&](const TaskRequest& t) { return t.task_id == c; });
      if (fx.status != ExecutionStatus::kRunning) {
        open.clear();
        if (gen() % 2) e = round_trip(m, e);
        fx = h.add(e.redrive(now, rng));
        ASSERT_EQ(fx.status, ExecutionStatus::kRunning);
        ++total_redrives;
        continue;
      }
      uint32_t r = gen() % 100;
      if (!open.empty() && r < 85) {
        size_t i = gen() % open.size();
        TaskRequest t = open[i];
        open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
        uint32_t how = gen() % 100;
        if (how < 75)
          fx = h.add(e.task_succeeded(t.task_id, t.parameters, now, rng));
        else if (how < 90)
          fx = h.add(e.task_failed(t.task_id, "Boom", "", now, rng));
        else
          fx = h.add(e.task_failed(t.task_id, "Flaky", "", now, rng));
      } else if (r < 88) {
        fx = h.add(e.stop(std::string("User"), std::nullopt, now, rng));
      } else if (fx.next_wake) {
        now = std::max(now, *fx.next_wake);
        fx = h.add(e.timer_fired(now, rng));
      } else if (!open.empty()) {
        TaskRequest t = open.front();
        open.erase(open.begin());
        fx = h.add(e.task_succeeded(t.task_id, t.parameters, now, rng));
      } else {
        FAIL() << "running with nothing to wait for";
      }
      if (gen() % 5 == 0) e = round_trip(m, e);
    }
    ASSERT_EQ(fx.status, ExecutionStatus::kSucceeded);
    EXPECT_EQ(*fx.output, expected);
    h.expect_continuous();
  }
  EXPECT_GT(total_redrives, 40);
}

}  // namespace
}  // namespace helix::asl
