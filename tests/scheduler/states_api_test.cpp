#include "scheduler/controller/states_api.h"

#include <gtest/gtest.h>

namespace helix::states {
namespace {

using nlohmann::json;

constexpr const char* kPassMachine =
    R"({"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}})";

TimePoint at_ms(int64_t ms) { return from_epoch_ms(ms); }

TEST(StatesProtocolTest, TargetNamesTheOperation) {
  auto op = operation_from_target("AWSStepFunctions.StartExecution");
  ASSERT_TRUE(op.has_value());
  EXPECT_EQ(*op, "StartExecution");
  EXPECT_FALSE(operation_from_target("AWSBatchV20160810.SubmitJob").has_value());
  EXPECT_FALSE(operation_from_target("AWSStepFunctions.").has_value());
  EXPECT_FALSE(operation_from_target("AWSStepFunctions.Start/Execution").has_value());
}

TEST(StatesProtocolTest, ErrorShapeIsTypeMessageAndOptionalReason) {
  ApiReply plain = error_reply("ExecutionDoesNotExist", "Execution Does Not Exist: 'x'");
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(plain.body, (json{{"__type", "ExecutionDoesNotExist"},
                              {"message", "Execution Does Not Exist: 'x'"}}));
  ApiReply with_reason =
      error_reply("ValidationException", "1 validation error", "API_DOES_NOT_SUPPORT_LABELED_ARNS");
  EXPECT_EQ(with_reason.body["reason"], "API_DOES_NOT_SUPPORT_LABELED_ARNS");
}

TEST(StatesProtocolTest, TimestampsAreEpochSecondsWithFraction) {
  EXPECT_DOUBLE_EQ(epoch_seconds(at_ms(1700000000123)), 1700000000.123);
}

TEST(StatesProtocolTest, NameRules) {
  EXPECT_TRUE(is_valid_name("align-pipeline_2"));
  EXPECT_TRUE(is_valid_name(std::string(80, 'a')));
  EXPECT_FALSE(is_valid_name(std::string(81, 'a')));
  EXPECT_FALSE(is_valid_name(""));
  for (const char* bad : {"a b", "a:b", "a/b", "a*b", "a{b", "a$b", "a\x01"}) {
    EXPECT_FALSE(is_valid_name(bad)) << bad;
  }
}

TEST(StatesProtocolTest, ArnsRoundTrip) {
  ArnScope scope;
  std::string arn = state_machine_arn(scope, "align");
  EXPECT_EQ(arn, "arn:aws:states:us-east-1:123456789012:stateMachine:align");
  EXPECT_EQ(state_machine_name_from_arn(scope, arn), "align");
  EXPECT_EQ(state_machine_name_from_arn(scope, arn + ":3"), std::nullopt);
  EXPECT_EQ(state_machine_name_from_arn(scope, "arn:aws:states:eu-west-1:1:stateMachine:a"),
            std::nullopt);
  EXPECT_EQ(execution_arn(scope, "align", "run-1"),
            "arn:aws:states:us-east-1:123456789012:execution:align:run-1");
}

class CatalogTest : public ::testing::Test {
 protected:
  ApiReply create(const std::string& name, const std::string& definition, int64_t ms = 1000) {
    return catalog_.handle("CreateStateMachine",
                           json{{"name", name}, {"definition", definition}, {"roleArn", "r"}},
                           at_ms(ms));
  }
  StateMachineCatalog catalog_;
};

TEST_F(CatalogTest, CreateThenDescribe) {
  ApiReply created = create("align", kPassMachine, 1500);
  ASSERT_EQ(created.status, 200) << created.body.dump();
  std::string arn = created.body["stateMachineArn"];
  EXPECT_DOUBLE_EQ(created.body["creationDate"].get<double>(), 1.5);
  ApiReply described =
      catalog_.handle("DescribeStateMachine", json{{"stateMachineArn", arn}}, at_ms(2000));
  ASSERT_EQ(described.status, 200);
  EXPECT_EQ(described.body["name"], "align");
  EXPECT_EQ(described.body["definition"], kPassMachine);
  EXPECT_EQ(described.body["type"], "STANDARD");
  EXPECT_EQ(described.body["status"], "ACTIVE");
}

TEST_F(CatalogTest, CreateIsIdempotentOnDefinitionTextOnly) {
  ASSERT_EQ(create("align", kPassMachine, 1000).status, 200);
  ApiReply again = create("align", kPassMachine, 5000);
  EXPECT_EQ(again.status, 200);
  EXPECT_DOUBLE_EQ(again.body["creationDate"].get<double>(), 1.0);  // the original
  // The same JSON formatted differently is a different definition.
  std::string reformatted = json::parse(kPassMachine).dump(2);
  ApiReply conflict = create("align", reformatted);
  EXPECT_EQ(conflict.status, 400);
  EXPECT_EQ(conflict.body["__type"], "StateMachineAlreadyExists");
}

TEST_F(CatalogTest, InvalidDefinitionNamesTheProblem) {
  ApiReply refused = create("bad", R"({"States":{}})");
  ASSERT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body["__type"], "InvalidDefinition");
  std::string message = refused.body["message"];
  EXPECT_NE(message.find("Invalid State Machine Definition"), std::string::npos) << message;
  EXPECT_NE(message.find("StartAt"), std::string::npos) << message;

  ApiReply not_json = create("bad", "not a definition");
  EXPECT_EQ(not_json.body["__type"], "InvalidDefinition");
}

TEST_F(CatalogTest, InvalidNameAndArn) {
  EXPECT_EQ(create("has space", kPassMachine).body["__type"], "InvalidName");
  ApiReply bad_arn =
      catalog_.handle("DescribeStateMachine", json{{"stateMachineArn", "nope"}}, at_ms(0));
  EXPECT_EQ(bad_arn.body["__type"], "InvalidArn");
  ApiReply missing = catalog_.handle(
      "DescribeStateMachine",
      json{{"stateMachineArn", state_machine_arn(catalog_.scope(), "ghost")}}, at_ms(0));
  EXPECT_EQ(missing.body["__type"], "StateMachineDoesNotExist");
  ApiReply no_member = catalog_.handle("DescribeStateMachine", json::object(), at_ms(0));
  EXPECT_EQ(no_member.body["__type"], "ValidationException");
}

TEST_F(CatalogTest, ListPagesInNameOrder) {
  for (const char* name : {"c", "a", "e", "b", "d"})
    ASSERT_EQ(create(name, kPassMachine).status, 200);
  std::vector<std::string> seen;
  json request{{"maxResults", 2}};
  int pages = 0;
  while (true) {
    ApiReply page = catalog_.handle("ListStateMachines", request, at_ms(0));
    ASSERT_EQ(page.status, 200);
    ++pages;
    for (const auto& m : page.body["stateMachines"]) seen.push_back(m["name"]);
    if (!page.body.contains("nextToken")) break;
    request["nextToken"] = page.body["nextToken"];
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST_F(CatalogTest, UpdateValidatesAndBumpsRevision) {
  std::string arn = create("align", kPassMachine).body["stateMachineArn"];
  ApiReply nothing =
      catalog_.handle("UpdateStateMachine", json{{"stateMachineArn", arn}}, at_ms(0));
  EXPECT_EQ(nothing.body["__type"], "MissingRequiredParameter");
  ApiReply bad = catalog_.handle("UpdateStateMachine",
                                 json{{"stateMachineArn", arn}, {"definition", "{}"}}, at_ms(0));
  EXPECT_EQ(bad.body["__type"], "InvalidDefinition");
  std::string next = R"({"StartAt":"B","States":{"B":{"Type":"Succeed"}}})";
  ApiReply ok = catalog_.handle("UpdateStateMachine",
                                json{{"stateMachineArn", arn}, {"definition", next}}, at_ms(3000));
  ASSERT_EQ(ok.status, 200) << ok.body.dump();
  EXPECT_DOUBLE_EQ(ok.body["updateDate"].get<double>(), 3.0);
  EXPECT_EQ(catalog_.find_by_arn(arn)->definition, next);
  EXPECT_EQ(catalog_.find_by_arn(arn)->revision, 2);
}

TEST_F(CatalogTest, DeleteRemoves) {
  std::string arn = create("align", kPassMachine).body["stateMachineArn"];
  EXPECT_EQ(catalog_.handle("DeleteStateMachine", json{{"stateMachineArn", arn}}, at_ms(0)).status,
            200);
  EXPECT_EQ(catalog_.find_by_arn(arn), nullptr);
}

TEST_F(CatalogTest, UnknownOperation) {
  ApiReply reply = catalog_.handle("FlyToTheMoon", json::object(), at_ms(0));
  EXPECT_EQ(reply.body["__type"], "UnknownOperationException");
}

TEST(ValidateDefinitionTest, AlwaysOkOrFailWith200) {
  ApiReply ok = validate_definition(json{{"definition", kPassMachine}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body["result"], "OK");
  EXPECT_TRUE(ok.body["diagnostics"].empty());

  ApiReply fail_reply = validate_definition(json{{"definition", R"({"States":{}})"}});
  EXPECT_EQ(fail_reply.status, 200);
  EXPECT_EQ(fail_reply.body["result"], "FAIL");
  ASSERT_FALSE(fail_reply.body["diagnostics"].empty());
  EXPECT_EQ(fail_reply.body["diagnostics"][0]["code"], "SCHEMA_VALIDATION_FAILED");

  ApiReply blank = validate_definition(json{{"definition", ""}});
  EXPECT_EQ(blank.body["result"], "FAIL");
}

}  // namespace
}  // namespace helix::states
