#include "cli/aws_identity.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace helix::cli {
namespace {

// A fresh directory with HOME/.aws/credentials and STATE/credentials
// written on demand; removed at the end.
class CredentialsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/helix-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    std::filesystem::create_directories(root_ + "/home/.aws");
    std::filesystem::create_directories(root_ + "/state");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void write(const std::string& relative, const std::string& text) {
    std::ofstream(root_ + "/" + relative) << text;
  }
  EnvLookup env(std::map<std::string, std::string> extra = {}) {
    extra.emplace("HOME", root_ + "/home");
    extra.emplace("HELIX_STATE_DIR", root_ + "/state");
    return fixed_environment(std::move(extra));
  }

  std::string root_;
};

TEST_F(CredentialsFiles, EnvironmentKeysComeFirst) {
  write("home/.aws/credentials",
        "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n");
  auto c = resolve_credentials(env({{"AWS_ACCESS_KEY_ID", "ENV"}, {"AWS_SECRET_ACCESS_KEY", "e"}}),
                               1000);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ENV");
  EXPECT_EQ(c->secret_access_key, "e");
}

TEST_F(CredentialsFiles, HalfAnEnvironmentPairIsAnError) {
  auto c = resolve_credentials(env({{"AWS_ACCESS_KEY_ID", "ENV"}}), 1000);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(), "AWS_SECRET_ACCESS_KEY: is not set but AWS_ACCESS_KEY_ID is");
}

TEST_F(CredentialsFiles, NamedProfileIsUsedAndNeverSkipped) {
  write("home/.aws/credentials",
        "[default]\naws_access_key_id = D\naws_secret_access_key = d\n"
        "[lab]\naws_access_key_id = L\naws_secret_access_key = l\n");
  auto lab = resolve_credentials(env({{"AWS_PROFILE", "lab"}}), 1000);
  ASSERT_TRUE(lab) << lab.error().to_string();
  EXPECT_EQ(lab->access_key_id, "L");

  auto missing = resolve_credentials(env({{"AWS_PROFILE", "nope"}}), 1000);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("nope"), std::string::npos) << missing.error().message();
}

TEST_F(CredentialsFiles, DefaultProfileThenHelixProfile) {
  write("home/.aws/credentials", "[helix]\naws_access_key_id = H\naws_secret_access_key = h\n");
  auto helix = resolve_credentials(env(), 1000);
  ASSERT_TRUE(helix) << helix.error().to_string();
  EXPECT_EQ(helix->access_key_id, "H");

  write("home/.aws/credentials",
        "[helix]\naws_access_key_id = H\naws_secret_access_key = h\n"
        "[default]\naws_access_key_id = D\naws_secret_access_key = d\n");
  auto d = resolve_credentials(env(), 1000);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->access_key_id, "D");
}

TEST_F(CredentialsFiles, SharedFileLocationComesFromTheEnvironment) {
  write("other", "[default]\naws_access_key_id = O\naws_secret_access_key = o\n");
  auto c = resolve_credentials(env({{"AWS_SHARED_CREDENTIALS_FILE", root_ + "/other"}}), 1000);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "O");
}

TEST_F(CredentialsFiles, StateDirectoryFileIsTheLastResort) {
  // What helixd writes for the user it runs as.
  write("state/credentials", "[helix]\naws_access_key_id = S\naws_secret_access_key = s\n");
  auto c = resolve_credentials(env(), 1000);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "S");
}

TEST_F(CredentialsFiles, NothingAnywhereSaysWhereItLooked) {
  auto c = resolve_credentials(env(), 1000);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.error().message().find(root_ + "/home/.aws/credentials"), std::string::npos);
  EXPECT_NE(c.error().message().find(root_ + "/state/credentials"), std::string::npos);
}

TEST_F(CredentialsFiles, BrokenFileIsReportedNotSkipped) {
  write("home/.aws/credentials", "aws_access_key_id = before any section\n");
  auto c = resolve_credentials(env(), 1000);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidInput);
}

TEST(ResolveRegion, DefaultRegionThenRegionThenUsEast1) {
  EXPECT_EQ(resolve_region(fixed_environment(
                {{"AWS_DEFAULT_REGION", "eu-west-1"}, {"AWS_REGION", "ap-south-1"}})),
            "eu-west-1");
  EXPECT_EQ(resolve_region(fixed_environment({{"AWS_REGION", "ap-south-1"}})), "ap-south-1");
  EXPECT_EQ(resolve_region(fixed_environment({})), "us-east-1");
}

}  // namespace
}  // namespace helix::cli
