#include "common/error.h"

#include <gtest/gtest.h>

namespace helix {
namespace {

TEST(ErrorTest, InvalidJoinsEveryProblemInOrder) {
  Error e = Error::invalid(
      {{"jobName", "is required"}, {"arrayProperties.size", "1 is below the minimum of 2"}});
  EXPECT_EQ(e.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(e.message(), "jobName: is required; arrayProperties.size: 1 is below the minimum of 2");
  ASSERT_EQ(e.problems().size(), 2u);
  EXPECT_EQ(e.problems()[1].path, "arrayProperties.size");
}

TEST(ErrorTest, ToStringAppendsCause) {
  Error e = Error::unavailable("store: commit of job j-1 failed", "database is locked");
  EXPECT_EQ(e.to_string(), "store: commit of job j-1 failed: database is locked");
  EXPECT_STREQ(error_code_name(e.code()), "Unavailable");
}

TEST(ErrorTest, ProblemsAppendKeepsNestedProblems) {
  Problems p;
  p.add("a", "bad");
  p.append(Error::invalid({{"b", "worse"}, {"c", "worst"}}));
  p.append(Error::not_found("queue q does not exist"));
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p.list()[3].to_string(), "queue q does not exist");
}

}  // namespace
}  // namespace helix
