#include "cli/apply_documents.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace helix::cli {
namespace {

TEST(ClassifyApplyDocument, EachKindByItsKeys) {
  struct Case {
    std::string text;
    ApplyKind kind;
    std::string name;
  };
  const Case cases[] = {
      {R"({"computeEnvironmentName":"onprem","type":"UNMANAGED"})", ApplyKind::kComputeEnvironment,
       "onprem"},
      {R"({"name":"fair","fairsharePolicy":{"shareDecaySeconds":3600}})",
       ApplyKind::kSchedulingPolicy, "fair"},
      {R"({"jobQueueName":"hpc","priority":1,"computeEnvironmentOrder":[]})", ApplyKind::kJobQueue,
       "hpc"},
      {R"({"jobDefinitionName":"bwa","type":"native"})", ApplyKind::kJobDefinition, "bwa"},
  };
  for (const auto& c : cases) {
    auto doc = classify_apply_document("f.json", c.text);
    ASSERT_TRUE(doc) << c.text << ": " << doc.error().to_string();
    EXPECT_EQ(doc->kind, c.kind) << c.text;
    EXPECT_EQ(doc->name, c.name);
    EXPECT_EQ(doc->source, "f.json");
    EXPECT_EQ(doc->body, nlohmann::json::parse(c.text));
  }
}

TEST(ClassifyApplyDocument, RefusalsNameTheFile) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"[1]", "f.json: must hold one JSON object (an AWS request body), not array"},
      {R"({"name":"fair"})",
       "f.json: is of no known kind: expected computeEnvironmentName, jobQueueName, "
       "jobDefinitionName, or name with fairsharePolicy"},
      {R"({"jobQueueName":"q","jobDefinitionName":"d"})",
       "f.json: is both a job queue and a job definition; give one object per file"},
      {R"({"jobQueueName":""})", "f.json: jobQueueName must be a non-empty string"},
      {R"({"jobDefinitionName":3})", "f.json: jobDefinitionName must be a non-empty string"},
  };
  for (const auto& c : cases) {
    auto doc = classify_apply_document("f.json", c.text);
    ASSERT_FALSE(doc) << c.text;
    EXPECT_EQ(doc.error().message(), c.message);
  }
  auto not_json = classify_apply_document("f.json", "{nope");
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().message().rfind("f.json: is not valid JSON: parse error at line 1", 0),
            0u)
      << not_json.error().message();
}

ApplyDocument doc(std::string source, ApplyKind kind, std::string name) {
  return {std::move(source), kind, std::move(name), nlohmann::json::object()};
}

TEST(OrderApplyDocuments, DependenciesFirstThenAsGiven) {
  auto ordered = order_apply_documents({
      doc("d.json", ApplyKind::kJobDefinition, "d"),
      doc("q2.json", ApplyKind::kJobQueue, "q2"),
      doc("p.json", ApplyKind::kSchedulingPolicy, "p"),
      doc("q1.json", ApplyKind::kJobQueue, "q1"),
      doc("ce.json", ApplyKind::kComputeEnvironment, "ce"),
  });
  ASSERT_TRUE(ordered);
  std::vector<std::string> sources;
  for (const auto& d : *ordered) sources.push_back(d.source);
  EXPECT_EQ(sources,
            (std::vector<std::string>{"ce.json", "p.json", "q2.json", "q1.json", "d.json"}));
}

TEST(OrderApplyDocuments, TheSameObjectTwiceIsRefused) {
  auto ordered = order_apply_documents({
      doc("a.json", ApplyKind::kJobQueue, "hpc"), doc("b.json", ApplyKind::kJobQueue, "hpc"),
      doc("c.json", ApplyKind::kJobDefinition, "hpc"),  // another kind: fine
  });
  ASSERT_FALSE(ordered);
  EXPECT_EQ(ordered.error().message(), "b.json: defines job queue hpc, as a.json does");
}

class ApplyDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/helix-apply-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(root_ + "/" + name) << text;
  }
  std::string root_;
};

TEST_F(ApplyDirectory, DirectoryGivesItsJsonFilesSortedThenInApplyOrder) {
  write("b-queue.json", R"({"jobQueueName":"hpc"})");
  write("a-def.json", R"({"jobDefinitionName":"bwa"})");
  write("c-ce.json", R"({"computeEnvironmentName":"onprem"})");
  write("notes.txt", "not json, not read");
  std::filesystem::create_directory(root_ + "/sub.json");  // a directory is not a file
  auto docs = load_apply_documents({root_});
  ASSERT_TRUE(docs) << docs.error().to_string();
  std::vector<std::string> sources;
  for (const auto& d : *docs) sources.push_back(d.source.substr(root_.size() + 1));
  EXPECT_EQ(sources, (std::vector<std::string>{"c-ce.json", "b-queue.json", "a-def.json"}));
}

TEST_F(ApplyDirectory, EveryBadFileIsListedBeforeAnythingIsSent) {
  write("good.json", R"({"jobQueueName":"hpc"})");
  write("bad.json", R"({"colour":"blue"})");
  write("broken.json", "{");
  auto docs = load_apply_documents({root_, root_ + "/missing.json"});
  ASSERT_FALSE(docs);
  const auto& problems = docs.error().problems();
  ASSERT_EQ(problems.size(), 3u) << docs.error().message();
  EXPECT_EQ(problems[0].path, root_ + "/bad.json");
  EXPECT_EQ(problems[1].path, root_ + "/broken.json");
  EXPECT_EQ(problems[2].path, root_ + "/missing.json");
  EXPECT_EQ(problems[2].message, "cannot be read: No such file or directory");
}

TEST_F(ApplyDirectory, EmptyDirectoryIsRefused) {
  auto docs = load_apply_documents({root_});
  ASSERT_FALSE(docs);
  EXPECT_EQ(docs.error().message(), root_ + ": holds no *.json file");
}

}  // namespace
}  // namespace helix::cli
