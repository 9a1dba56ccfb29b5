#include "common/json_reader.h"

#include <gtest/gtest.h>

namespace helix {
namespace {

TEST(JsonReaderTest, CollectsEveryProblemWithItsPath) {
  json body = json::parse(R"({"size": 1, "name": 7, "tags": {"a": "b", "c": 3}, "extra": true})");
  Problems problems;
  JsonReader r(body, "arrayProperties", problems);
  EXPECT_FALSE(r.optional_int("size", 2, 10000).has_value());
  EXPECT_FALSE(r.required_string("name").has_value());
  EXPECT_FALSE(r.optional_string_map("tags").has_value());
  EXPECT_FALSE(r.required_string("missing").has_value());
  r.reject_unknown();
  std::vector<std::string> want = {
      "arrayProperties.size: 1 is below the minimum of 2",
      "arrayProperties.name: must be a string, got an integer",
      "arrayProperties.tags.c: must be a string, got an integer",
      "arrayProperties.missing: is required",
      "arrayProperties.extra: unknown field",
  };
  std::vector<std::string> got;
  for (const auto& p : problems.list()) got.push_back(p.to_string());
  EXPECT_EQ(got, want);
}

TEST(JsonReaderTest, NullCountsAsAbsentAndIntegersMayBeWholeFloats) {
  json body = json::parse(R"({"a": null, "b": 3.0, "c": 3.5})");
  Problems problems;
  JsonReader r(body, "", problems);
  EXPECT_FALSE(r.optional_string("a").has_value());
  EXPECT_EQ(r.optional_int("b", 0, 10).value(), 3);
  EXPECT_FALSE(r.optional_int("c", 0, 10).has_value());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems.list()[0].to_string(), "c: must be an integer, got a number");
}

TEST(JsonReaderTest, NotAnObject) {
  json body = json::parse("[1,2]");
  Problems problems;
  JsonReader r(body, "", problems);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.required_string("x").has_value());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems.list()[0].to_string(), "request: must be a JSON object, got an array");
}

TEST(JsonReaderTest, UnsupportedFieldExplainsWhy) {
  json body = json::parse(R"({"volumes": []})");
  Problems problems;
  JsonReader r(body, "containerProperties", problems);
  r.unsupported("volumes", "volumes apply to container jobs, which helix does not run yet");
  r.unsupported("secrets", "never shown: absent");
  r.reject_unknown();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems.list()[0].path, "containerProperties.volumes");
}

}  // namespace
}  // namespace helix
