// ExecutionService on its own: a Batch port that records what it was asked
// (the controller's is tested end to end in tests/integration), a fixed
// clock and a seeded Rng. The restart test rebuilds the service from the
// documents it asked to store, as helixd does after kill -9.
#include "scheduler/controller/execution_service.h"

#include <gtest/gtest.h>

namespace helix::states {
namespace {

using nlohmann::json;

class RecordingBatch final : public BatchPort {
 public:
  Result<json> submit_job(const json& body, const queues::Owner& owner) override {
    if (body.value("jobQueue", "") == "missing")
      return fail(Error::invalid("jobQueue", "Job Queue missing does not exist."));
    submitted.push_back(body);
    owners.push_back(owner);
    std::string id = "job-" + std::to_string(submitted.size());
    return json{{"jobArn", "arn:aws:batch:us-east-1:123456789012:job/" + id},
                {"jobName", body.value("jobName", "")},
                {"jobId", id}};
  }
  void terminate_job(const std::string& job_id, const std::string& reason) override {
    terminated.emplace_back(job_id, reason);
  }
  std::optional<json> stored_execution(const std::string& arn) override {
    auto it = stored.find(arn);
    if (it == stored.end()) return std::nullopt;
    return it->second;
  }
  std::vector<json> submitted;
  std::vector<queues::Owner> owners;
  std::vector<std::pair<std::string, std::string>> terminated;
  std::map<std::string, json> stored;
};

constexpr const char* kTwoJobs = R"({"StartAt":"One","States":{
  "One":{"Type":"Task","Resource":"arn:aws:states:::batch:submitJob.sync",
         "Parameters":{"JobName":"one","JobQueue":"default","JobDefinition":"d",
                       "Parameters":{"sampleName":"x"},
                       "ContainerOverrides":{"Command":["true"],
                                             "Environment":[{"Name":"A","Value":"1"}]}},
         "ResultSelector":{"Status.$":"$.Status"},"ResultPath":"$.one","Next":"Two"},
  "Two":{"Type":"Task","Resource":"arn:aws:states:::batch:submitJob.sync",
         "Parameters":{"JobName":"two","JobQueue":"default","JobDefinition":"d"},
         "ResultPath":null,"End":true}}})";

class ExecutionServiceTest : public ::testing::Test {
 protected:
  TimePoint now = from_epoch_ms(1700000000000);
  SeededRng rng{7};
  RecordingBatch batch;
  queues::Owner alice{1000, 1000, "alice"};

  std::string create(ExecutionService& s, const std::string& name, const std::string& def) {
    ApiReply r = s.handle("CreateStateMachine",
                          json{{"name", name}, {"definition", def}, {"roleArn", "r"}}, alice, now);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body.value("stateMachineArn", "");
  }
  std::string start(ExecutionService& s, const std::string& machine, const std::string& input) {
    ApiReply r = s.handle("StartExecution", json{{"stateMachineArn", machine}, {"input", input}},
                          alice, now);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body.value("executionArn", "");
  }
  // Persists like the controller: the documents and events of this step.
  void persist(ExecutionService& s, std::map<std::string, json>& docs, std::vector<json>& machines,
               std::vector<std::string>& events, std::vector<json>* activities = nullptr) {
    auto changes = s.take_changes();
    for (const auto& name : changes.machines) machines.push_back(s.machine_document(name));
    if (activities)
      for (const auto& name : changes.activities) activities->push_back(s.activity_document(name));
    for (const auto& arn : changes.executions) docs[arn] = s.execution_document(arn);
    for (const auto& e : changes.events) events.push_back(e.wire);
    s.forget_closed();
  }
};

TEST_F(ExecutionServiceTest, SyncJobsRunInOrderWithPascalCaseResults) {
  ExecutionService s(ArnScope{}, batch, rng);
  std::string arn = start(s, create(s, "m", kTwoJobs), R"({"k":1})");
  ASSERT_EQ(batch.submitted.size(), 1u);
  const json& body = batch.submitted[0];
  EXPECT_EQ(body["jobName"], "one");
  EXPECT_EQ(body["parameters"], (json{{"sampleName", "x"}}));  // map keys keep their case
  EXPECT_EQ(body["containerOverrides"]["command"], json::array({"true"}));
  const json& env = body["containerOverrides"]["environment"];
  EXPECT_EQ(env[0], (json{{"name", "A"}, {"value", "1"}}));
  EXPECT_EQ(env[1]["name"], "HELIX_TASK_TOKEN");
  EXPECT_EQ(batch.owners[0].user, "alice");  // jobs run as the execution's owner
  EXPECT_TRUE(s.is_tracking_job("job-1"));
  s.job_finished("job-1", json{{"jobId", "job-1"}, {"status", "SUCCEEDED"}}, true, now);
  ASSERT_EQ(batch.submitted.size(), 2u);  // the second state's job
  s.job_finished("job-2", json{{"jobId", "job-2"}, {"status", "SUCCEEDED"}}, true, now);
  EXPECT_EQ(s.running_count(), 0u);
  json doc = s.execution_document(arn);
  EXPECT_EQ(doc["status"], "SUCCEEDED");
  EXPECT_EQ(json::parse(doc["output"].get<std::string>()),
            (json{{"k", 1}, {"one", {{"Status", "SUCCEEDED"}}}}));
}

TEST_F(ExecutionServiceTest, FailedJobRaisesTaskFailedWithTheJobAsCause) {
  ExecutionService s(ArnScope{}, batch, rng);
  std::string arn = start(s, create(s, "m", kTwoJobs), "{}");
  s.job_finished("job-1", json{{"jobId", "job-1"}, {"status", "FAILED"}}, false, now);
  json doc = s.execution_document(arn);
  EXPECT_EQ(doc["status"], "FAILED");
  EXPECT_EQ(doc["error"], "States.TaskFailed");
  EXPECT_EQ(json::parse(doc["cause"].get<std::string>()),
            (json{{"JobId", "job-1"}, {"Status", "FAILED"}}));
  EXPECT_EQ(batch.submitted.size(), 1u);
}

TEST_F(ExecutionServiceTest, RefusedSubmitFailsWithBatchCodeAndAwsCause) {
  ExecutionService s(ArnScope{}, batch, rng);
  std::string def = kTwoJobs;
  def.replace(def.find("\"default\""), 9, "\"missing\"");
  std::string arn = start(s, create(s, "m", def), "{}");
  json doc = s.execution_document(arn);
  EXPECT_EQ(doc["status"], "FAILED");
  EXPECT_EQ(doc["error"], "Batch.ClientException");
  EXPECT_NE(doc["cause"].get<std::string>().find(
                "(Service: AWSBatch; Status Code: 400; Error Code: ClientException;"),
            std::string::npos);
}

TEST_F(ExecutionServiceTest, RestartFromStoredDocumentsSubmitsNoJobTwice) {
  std::map<std::string, json> docs;
  std::vector<json> machines;
  std::vector<std::string> events;
  std::string arn;
  {
    ExecutionService s(ArnScope{}, batch, rng);
    arn = start(s, create(s, "m", kTwoJobs), R"({"k":1})");
    persist(s, docs, machines, events);
  }  // helixd dies with job-1 running
  ASSERT_EQ(batch.submitted.size(), 1u);
  ExecutionService again(ArnScope{}, batch, rng);
  ASSERT_TRUE(again.restore(machines, {docs[arn]}).has_value());
  EXPECT_EQ(again.running_count(), 1u);
  EXPECT_EQ(batch.submitted.size(), 1u);  // restoring submits nothing
  EXPECT_EQ(again.tracked_jobs(), std::vector<std::string>{"job-1"});
  again.job_finished("job-1", json{{"status", "SUCCEEDED"}}, true, now);
  ASSERT_EQ(batch.submitted.size(), 2u);
  EXPECT_EQ(batch.submitted[1]["jobName"], "two");
  again.job_finished("job-2", json{{"status", "SUCCEEDED"}}, true, now);
  persist(again, docs, machines, events);
  EXPECT_EQ(docs[arn]["status"], "SUCCEEDED");
  // One history, ids 1..n without a gap or a repeat across the restart.
  for (size_t i = 0; i < events.size(); ++i)
    EXPECT_EQ(json::parse(events[i])["id"], static_cast<int64_t>(i + 1));
}

TEST_F(ExecutionServiceTest, StopAbortsAndTerminatesTheRunningJob) {
  ExecutionService s(ArnScope{}, batch, rng);
  std::string arn = start(s, create(s, "m", kTwoJobs), "{}");
  ApiReply r = s.handle("StopExecution", json{{"executionArn", arn}}, alice, now);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(s.execution_document(arn)["status"], "ABORTED");
  ASSERT_EQ(batch.terminated.size(), 1u);
  EXPECT_EQ(batch.terminated[0].first, "job-1");
  EXPECT_FALSE(s.is_tracking_job("job-1"));
}

TEST_F(ExecutionServiceTest, CallbackTokensAnswerTheTask) {
  ExecutionService s(ArnScope{}, batch, rng);
  std::string machine = create(s, "cb", R"({"StartAt":"W","States":{"W":{"Type":"Task",
    "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "Parameters":{"MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}})");
  std::string arn = start(s, machine, "{}");
  auto changes = s.take_changes();
  std::string token;
  for (const auto& e : changes.events) {
    json ev = json::parse(e.wire);
    if (ev["type"] == "TaskScheduled")
      token = json::parse(
          ev["taskScheduledEventDetails"]["parameters"].get<std::string>())["MessageBody"]["token"];
  }
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(
      s.handle("SendTaskSuccess", json{{"taskToken", token}, {"output", "not json"}}, alice, now)
          .body["__type"],
      "InvalidOutput");
  EXPECT_EQ(
      s.handle("SendTaskSuccess", json{{"taskToken", token}, {"output", R"({"ok":1})"}}, alice, now)
          .status,
      200);
  EXPECT_EQ(s.execution_document(arn)["status"], "SUCCEEDED");
  EXPECT_EQ(s.handle("SendTaskSuccess", json{{"taskToken", token}, {"output", "{}"}}, alice, now)
                .body["__type"],
            "TaskDoesNotExist");
}

TEST_F(ExecutionServiceTest, HeartbeatTimeoutFiresOnTheTimer) {
  ExecutionService s(ArnScope{}, batch, rng);
  std::string machine = create(s, "hb", R"({"StartAt":"W","States":{"W":{"Type":"Task",
    "Resource":"arn:aws:states:::batch:submitJob.sync","HeartbeatSeconds":5,
    "Parameters":{"JobName":"j","JobQueue":"default","JobDefinition":"d"},"End":true}}})");
  std::string arn = start(s, machine, "{}");
  ASSERT_TRUE(s.next_wake().has_value());
  EXPECT_EQ(*s.next_wake(), now + std::chrono::seconds(5));
  s.tick(now + std::chrono::seconds(4));
  EXPECT_EQ(s.running_count(), 1u);
  s.tick(now + std::chrono::seconds(5));
  EXPECT_EQ(s.execution_document(arn)["status"], "FAILED");
  EXPECT_EQ(s.execution_document(arn)["error"], "States.Timeout");
  ASSERT_EQ(batch.terminated.size(), 1u);  // the timed-out job is terminated
}

TEST_F(ExecutionServiceTest, NestedSyncExecutionReturnsTheChildsOutput) {
  ExecutionService s(ArnScope{}, batch, rng);
  std::string child = create(s, "child", R"({"StartAt":"P","States":{"P":{"Type":"Pass",
    "Result":{"x":1},"End":true}}})");
  std::string parent = create(s, "parent",
                              R"({"StartAt":"R","States":{"R":{"Type":"Task",
    "Resource":"arn:aws:states:::states:startExecution.sync","Parameters":{"StateMachineArn":")" +
                                  child + R"("},"End":true}}})");
  std::string arn = start(s, parent, "{}");
  json doc = s.execution_document(arn);
  ASSERT_EQ(doc["status"], "SUCCEEDED") << doc.dump();
  json out = json::parse(doc["output"].get<std::string>());
  EXPECT_EQ(out["Status"], "SUCCEEDED");
  EXPECT_EQ(out["Output"], R"({"x":1})");  // .sync: Output stays a JSON string
}

// The second job fails; the execution is stored FAILED with its engine
// state. A redrive after a restart (from the stored document alone) submits
// only the second job again; the first job's result is kept.
TEST_F(ExecutionServiceTest, RedriveFromTheStoredDocumentRerunsOnlyTheFailedState) {
  std::map<std::string, json> docs;
  std::vector<json> machines;
  std::vector<std::string> events;
  std::string arn;
  {
    ExecutionService s(ArnScope{}, batch, rng);
    arn = start(s, create(s, "m", kTwoJobs), R"({"k":1})");
    s.job_finished("job-1", json{{"jobId", "job-1"}, {"status", "SUCCEEDED"}}, true, now);
    s.job_finished("job-2", json{{"jobId", "job-2"}, {"status", "FAILED"}}, false, now);
    persist(s, docs, machines, events);
  }
  ASSERT_EQ(docs[arn]["status"], "FAILED");
  json described = describe_execution_body(docs[arn]);
  EXPECT_EQ(described["redriveStatus"], "REDRIVABLE");
  batch.stored = docs;
  ExecutionService s(ArnScope{}, batch, rng);
  ASSERT_TRUE(s.restore(machines, {}).has_value());
  TimePoint later = now + std::chrono::seconds(60);
  ApiReply r = s.handle("RedriveExecution", json{{"executionArn", arn}}, alice, later);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_DOUBLE_EQ(r.body["redriveDate"].get<double>(), epoch_seconds(later));
  ASSERT_EQ(batch.submitted.size(), 3u);  // only "two" again
  EXPECT_EQ(batch.submitted[2]["jobName"], "two");
  // Redriving a RUNNING execution is refused, and nothing changes.
  ApiReply again = s.handle("RedriveExecution", json{{"executionArn", arn}}, alice, later);
  EXPECT_EQ(again.body["__type"], "ExecutionNotRedrivable");
  s.job_finished("job-3", json{{"jobId", "job-3"}, {"status", "SUCCEEDED"}}, true, later);
  persist(s, docs, machines, events);
  json doc = docs[arn];
  EXPECT_EQ(doc["status"], "SUCCEEDED");
  EXPECT_EQ(doc["redriveCount"], 1);
  EXPECT_EQ(json::parse(doc["output"].get<std::string>()),
            (json{{"k", 1}, {"one", {{"Status", "SUCCEEDED"}}}}));
  json after = describe_execution_body(doc);
  EXPECT_EQ(after["redriveStatus"], "NOT_REDRIVABLE");
  EXPECT_EQ(after["redriveStatusReason"], "Execution is SUCCEEDED and cannot be redriven");
  EXPECT_DOUBLE_EQ(after["redriveDate"].get<double>(), epoch_seconds(later));
  bool saw_redriven = false;
  for (const auto& e : events)
    if (json::parse(e)["type"] == "ExecutionRedriven") saw_redriven = true;
  EXPECT_TRUE(saw_redriven);
  // A SUCCEEDED one is refused with the reason.
  batch.stored = docs;
  ApiReply done = s.handle("RedriveExecution", json{{"executionArn", arn}}, alice, later);
  EXPECT_EQ(done.body["__type"], "ExecutionNotRedrivable");
  ApiReply none = s.handle("RedriveExecution", json{{"executionArn", arn + "x"}}, alice, later);
  EXPECT_EQ(none.body["__type"], "ExecutionDoesNotExist");
}

// An activity task waits for a worker; after a restart it is still there to
// take; the worker's token answers it. A missing activity fails the task.
TEST_F(ExecutionServiceTest, ActivityTasksWaitForAWorkerAcrossARestart) {
  std::map<std::string, json> docs;
  std::vector<json> machines, activities;
  std::vector<std::string> events;
  std::string arn, activity;
  {
    ExecutionService s(ArnScope{}, batch, rng);
    ApiReply created = s.handle("CreateActivity", json{{"name", "align"}}, alice, now);
    ASSERT_EQ(created.status, 200) << created.body.dump();
    activity = created.body["activityArn"];
    EXPECT_EQ(activity, "arn:aws:states:us-east-1:123456789012:activity:align");
    std::string machine = create(s, "m", R"({"StartAt":"A","States":{"A":{"Type":"Task",
      "Resource":")" + activity + R"(","Parameters":{"s.$":"$.sample"},"End":true}}})");
    arn = start(s, machine, R"({"sample":"NA12878"})");
    persist(s, docs, machines, events, &activities);
  }  // helixd dies before any worker polled
  ExecutionService s(ArnScope{}, batch, rng);
  std::vector<json> running{docs[arn]};
  ASSERT_TRUE(s.restore(machines, running, activities).has_value());
  ApiReply described = s.handle("DescribeActivity", json{{"activityArn", activity}}, alice, now);
  EXPECT_EQ(described.body["name"], "align");
  ApiReply task = s.handle("GetActivityTask", json{{"activityArn", activity}, {"workerName", "w1"}},
                           alice, now);
  ASSERT_EQ(task.status, 200) << task.body.dump();
  ASSERT_TRUE(task.body.contains("taskToken")) << task.body.dump();
  EXPECT_EQ(json::parse(task.body["input"].get<std::string>()), (json{{"s", "NA12878"}}));
  // Taken once: a second poll finds nothing.
  ApiReply empty = s.handle("GetActivityTask", json{{"activityArn", activity}}, alice, now);
  EXPECT_EQ(empty.body, json::object());
  ApiReply answered =
      s.handle("SendTaskSuccess",
               json{{"taskToken", task.body["taskToken"]}, {"output", R"({"bam":1})"}}, alice, now);
  ASSERT_EQ(answered.status, 200) << answered.body.dump();
  json doc = s.execution_document(arn);
  EXPECT_EQ(doc["status"], "SUCCEEDED");
  EXPECT_EQ(json::parse(doc["output"].get<std::string>()), (json{{"bam", 1}}));
  auto changes = s.take_changes();
  std::vector<std::string> types;
  for (const auto& e : changes.events) types.push_back(json::parse(e.wire)["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"ActivityStarted", "ActivitySucceeded",
                                             "TaskStateExited", "ExecutionSucceeded"}));
  // Polling an activity that does not exist, and a Task naming one.
  ApiReply ghost =
      s.handle("GetActivityTask", json{{"activityArn", activity + "-ghost"}}, alice, now);
  EXPECT_EQ(ghost.body["__type"], "ActivityDoesNotExist");
  std::string bad = create(s, "bad", R"({"StartAt":"A","States":{"A":{"Type":"Task",
    "Resource":")" + activity + R"(-ghost","End":true}}})");
  std::string failed = start(s, bad, "{}");
  EXPECT_EQ(s.execution_document(failed)["status"], "FAILED");
  EXPECT_EQ(s.execution_document(failed)["error"], "States.Runtime");
}

}  // namespace
}  // namespace helix::states
