// Binding and limits with real jobs: a job reads /proc/self/status and the
// test checks Cpus_allowed_list / Mems_allowed_list against the placement;
// a job that outgrows its memory limit is killed by the kernel and the
// event says so. The cgroup cases need root and a cgroup v1 memory
// hierarchy; elsewhere they are skipped with the reason.
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>

#include "tests/workers/executor_fixture.h"
#include "workers/job_cgroups.h"

namespace helix::workers::testing {
namespace {

using LimitsTest = ExecutorTest;

// "Cpus_allowed_list:\t0-1" -> "0-1"
std::string status_field(const std::string& status, const std::string& name) {
  std::smatch m;
  std::regex re(name + ":\\s*(\\S+)");
  return std::regex_search(status, m, re) ? m[1].str() : "";
}

std::vector<int> online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  std::getline(in, text);
  return parse_cpu_list(text).value_or(std::vector<int>{});
}

TEST(CpuListTest, FormatsAndParsesTheKernelListFormat) {
  EXPECT_EQ(format_cpu_list({3, 0, 1, 2, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(format_cpu_list({5}), "5");
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list(""), std::vector<int>{});
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("a"));
  EXPECT_FALSE(parse_cpu_list("1-"));
  EXPECT_FALSE(parse_cpu_list("1,,2"));
}

TEST_F(LimitsTest, JobRunsOnItsPlacementsProcessingUnitsAndNumaNodes) {
  auto cpus = online_cpus();
  ASSERT_FALSE(cpus.empty());
  int pu = cpus.back();  // not the first, so a default (unbound) job would differ
  auto s = spec("bound-pu", {"sh", "-c", "cat /proc/self/status; (cat /proc/self/status) > child"});
  s.cpus = {pu};
  s.numa_nodes = {0};
  executor_->launch(s);
  auto ended = events_.wait_end("bound-pu");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited) << ended.reason;
  std::string status = slurp(log_of("bound-pu"));
  EXPECT_EQ(status_field(status, "Cpus_allowed_list"), std::to_string(pu)) << status;
  EXPECT_EQ(status_field(status, "Mems_allowed_list"), "0") << status;
  // Inherited by the job's children.
  EXPECT_EQ(status_field(slurp(dir_ / "child"), "Cpus_allowed_list"), std::to_string(pu));
  executor_->forget("bound-pu");
}

TEST_F(LimitsTest, UnboundJobSeesEveryOnlineProcessingUnit) {
  executor_->launch(spec("free", {"cat", "/proc/self/status"}));
  ASSERT_EQ(events_.wait_end("free").kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(parse_cpu_list(status_field(slurp(log_of("free")), "Cpus_allowed_list")),
            online_cpus());
}

TEST_F(LimitsTest, HelixdThreadKeepsItsOwnBindingAfterALaunch) {
  std::string before = status_field(slurp("/proc/thread-self/status"), "Cpus_allowed_list");
  auto s = spec("bound-keep", {"true"});
  s.cpus = {online_cpus().front()};
  executor_->launch(s);
  events_.wait_end("bound-keep");
  EXPECT_EQ(status_field(slurp("/proc/thread-self/status"), "Cpus_allowed_list"), before);
  executor_->forget("bound-keep");
}

TEST_F(LimitsTest, BindingToAProcessingUnitThatDoesNotExistFailsTheStart) {
  auto s = spec("nowhere", {"true"});
  s.cpus = {4095};
  executor_->launch(s);
  auto ended = events_.wait_end("nowhere");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kStartFailed);
  EXPECT_NE(ended.reason.find("4095"), std::string::npos) << ended.reason;
}

class CgroupLimitsTest : public ExecutorTest {
 protected:
  void SetUp() override {
    std::string why;
    if (::geteuid() != 0) GTEST_SKIP() << "cgroup limits need root";
    if (!JobCgroups::detect(&why)) GTEST_SKIP() << why;
    ExecutorTest::SetUp();
  }
};

TEST_F(CgroupLimitsTest, JobOverItsMemoryLimitIsKilledAndReportedAsOutOfMemory) {
  EXPECT_NE(executor_->limits_description().find("cgroup v1"), std::string::npos);
  // 64 MiB allowed; tail looks for the last line of an endless file
  // without newlines and so keeps all of it in memory.
  auto s = spec("hog", {"tail", "/dev/zero"});
  s.memory_limit_mib = 64;
  executor_->launch(s);
  auto ended = events_.wait_end("hog", std::chrono::seconds(60));
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited) << ended.reason;
  EXPECT_TRUE(ended.oom_killed);
  EXPECT_EQ(ended.term_signal, SIGKILL);
  executor_->forget("hog");
}

TEST_F(CgroupLimitsTest, JobWithinItsLimitIsNotReportedAsOutOfMemory) {
  auto s = spec("small", {"sh", "-c", "head -c 10000000 /dev/zero | wc -c"});
  s.memory_limit_mib = 64;
  executor_->launch(s);
  auto ended = events_.wait_end("small");
  ASSERT_EQ(ended.kind, ExecEvent::Kind::kExited) << ended.reason;
  EXPECT_EQ(ended.exit_code, 0);
  EXPECT_FALSE(ended.oom_killed);
  EXPECT_EQ(slurp(log_of("small")), "10000000\n");
  executor_->forget("small");
}

TEST_F(CgroupLimitsTest, CpusetCgroupHoldsAJobThatTriesToWidenItsAffinity) {
  auto cpus = online_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two PUs";
  auto s = spec("pinned", {"sh", "-c",
                           "taskset -pc " + format_cpu_list(cpus) +
                               " $$ >/dev/null 2>&1; cat /proc/self/status"});
  s.cpus = {cpus.front()};
  s.memory_limit_mib = 64;
  executor_->launch(s);
  ASSERT_EQ(events_.wait_end("pinned").kind, ExecEvent::Kind::kExited);
  EXPECT_EQ(status_field(slurp(log_of("pinned")), "Cpus_allowed_list"),
            std::to_string(cpus.front()));
  executor_->forget("pinned");
}

TEST_F(CgroupLimitsTest, ForgetRemovesTheAttemptsCgroups) {
  std::string why;
  auto cgroups = JobCgroups::detect(&why);
  auto s = spec("gone", {"true"});
  s.memory_limit_mib = 32;
  executor_->launch(s);
  ASSERT_EQ(events_.wait_end("gone").kind, ExecEvent::Kind::kExited);
  std::string desc = cgroups->description();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(desc, m, std::regex("memory at (\\S+),")));
  fs::path dir = fs::path(m[1].str()) / "gone";
  EXPECT_TRUE(fs::exists(dir));
  executor_->forget("gone");
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace helix::workers::testing
