#include "scheduler/controller/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace helix::controller {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("helix-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path() const { return (dir_ / "helix.db").string(); }

  static queues::Job job(const std::string& id, int64_t created_ms, queues::JobStatus status) {
    queues::Job j;
    j.id = id;
    j.name = "job-" + id;
    j.queue = "q";
    j.definition_name = "d";
    j.definition_revision = 1;
    j.status = status;
    j.created_at = from_epoch_ms(created_ms);
    j.container.command = {"true"};
    return j;
  }

  fs::path dir_;
};

TEST_F(StoreTest, CommittedJobsSurviveReopenAndUncommittedDoNot) {
  {
    auto store = Store::open(path());
    ASSERT_TRUE(store) << store.error().to_string();
    ASSERT_TRUE((*store)->begin());
    ASSERT_TRUE((*store)->put_job(job("a", 1, queues::JobStatus::kRunnable)));
    ASSERT_TRUE((*store)->put_job(job("b", 2, queues::JobStatus::kSucceeded)));
    ASSERT_TRUE((*store)->commit());
    ASSERT_TRUE((*store)->begin());
    ASSERT_TRUE((*store)->put_job(job("c", 3, queues::JobStatus::kRunnable)));
    (*store)->rollback();
  }
  auto store = Store::open(path());
  ASSERT_TRUE(store);
  auto unfinished = (*store)->load_unfinished_jobs();
  ASSERT_TRUE(unfinished);
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ(unfinished->front().id, "a");
  auto b = (*store)->get_job("b");
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((**b).status, queues::JobStatus::kSucceeded);
  EXPECT_FALSE(*(*store)->get_job("c"));
  auto facts = (*store)->job_facts("b");
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->status, queues::JobStatus::kSucceeded);
}

TEST_F(StoreTest, ListJobsPagesNewestFirstAndFiltersByStatusAndName) {
  auto store = Store::open(path());
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->begin());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE((*store)->put_job(job(std::to_string(i), 100 + i, queues::JobStatus::kRunning)));
  ASSERT_TRUE((*store)->put_job(job("x", 50, queues::JobStatus::kFailed)));
  ASSERT_TRUE((*store)->commit());
  JobQuery q;
  q.queue = "q";
  q.status = "RUNNING";
  q.limit = 2;
  std::vector<std::string> seen;
  for (;;) {
    auto page = (*store)->list_jobs(q);
    ASSERT_TRUE(page) << page.error().to_string();
    for (const auto& j : page->jobs) seen.push_back(j.id);
    if (page->next_token.empty()) break;
    q.after = page->next_token;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"4", "3", "2", "1", "0"}));
  JobQuery by_name;
  by_name.queue = "q";
  by_name.name_pattern = "JOB-X*";
  auto page = (*store)->list_jobs(by_name);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_EQ(page->jobs[0].id, "x");
}

TEST_F(StoreTest, RefusesAStoreFromANewerHelixd) {
  {
    auto store = Store::open(path());
    ASSERT_TRUE(store);
  }
  {
    auto db = Connection::open(path(), false);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'"));
  }
  auto store = Store::open(path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("newer than this helixd"), std::string::npos);
}

}  // namespace
}  // namespace helix::controller
