#include "workers/node_resources.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

namespace helix::workers {
namespace {

TEST(DiscoverLocalNode, MatchesWhatTheKernelReports) {
  auto node = discover_local_node();
  ASSERT_TRUE(node) << node.error().to_string();
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(node->vcpus, CPU_COUNT(&set));
  int64_t physical_mib =
      static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / (1024 * 1024);
  EXPECT_GT(node->memory_mib, physical_mib * 9 / 10);
  EXPECT_LE(node->memory_mib, physical_mib + 1);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(node->hostname, host);
}

}  // namespace
}  // namespace helix::workers
