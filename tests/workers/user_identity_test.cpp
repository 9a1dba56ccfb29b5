// Resolving a job user's primary and supplementary groups.
#include "workers/user_identity.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>

#include <algorithm>

namespace helix::workers {
namespace {

bool contains(const std::vector<gid_t>& v, gid_t g) {
  return std::find(v.begin(), v.end(), g) != v.end();
}

TEST(UserIdentityCache, PrimaryGroupFromPasswdAndItsGroupList) {
  passwd* root = ::getpwuid(0);
  ASSERT_NE(root, nullptr);
  UserIdentityCache cache;
  auto id = cache.lookup(0, std::nullopt);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->gid, root->pw_gid);
  int count = 64;
  std::vector<gid_t> want(64);
  ASSERT_GE(::getgrouplist(root->pw_name, root->pw_gid, want.data(), &count), 0);
  want.resize(static_cast<size_t>(count));
  EXPECT_EQ(id->groups, want);
  // Cached: the same answer again.
  EXPECT_EQ(cache.lookup(0, std::nullopt)->groups, want);
}

TEST(UserIdentityCache, GivenGidIsPrimaryAndAmongTheGroups) {
  UserIdentityCache cache;
  auto id = cache.lookup(0, gid_t{4242});
  ASSERT_TRUE(id);
  EXPECT_EQ(id->gid, 4242u);
  EXPECT_TRUE(contains(id->groups, 4242));
  EXPECT_TRUE(contains(id->groups, ::getpwuid(0)->pw_gid));
}

TEST(UserIdentityCache, UnknownUidNeedsAGid) {
  const uid_t unknown = 3999999;
  ASSERT_EQ(::getpwuid(unknown), nullptr);
  UserIdentityCache cache;
  EXPECT_FALSE(cache.lookup(unknown, std::nullopt));
  auto id = cache.lookup(unknown, gid_t{3999999});
  ASSERT_TRUE(id);
  EXPECT_EQ(id->groups, std::vector<gid_t>{3999999});
}

}  // namespace
}  // namespace helix::workers
