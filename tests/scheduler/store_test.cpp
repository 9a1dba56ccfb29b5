#include "scheduler/controller/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

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

// Events and execution documents are bound without copies: what is read
// back must be exactly what was written, row by row.
TEST_F(StoreTest, ExecutionEventsAndDocumentsReadBackAsWritten) {
  auto store = Store::open(path());
  ASSERT_TRUE(store) << store.error().to_string();
  const std::string arn = "arn:aws:states:us-east-1:123456789012:execution:m:run";
  nlohmann::json doc{{"executionArn", arn},
                     {"stateMachineArn", "arn:aws:states:us-east-1:123456789012:stateMachine:m"},
                     {"status", "SUCCEEDED"},
                     {"startUs", 1},
                     {"input", std::string(100000, 'i')}};
  std::vector<std::string> wires;
  for (int i = 1; i <= 2000; ++i)
    wires.push_back(R"({"id":)" + std::to_string(i) + R"(,"type":"PassStateEntered","pad":")" +
                    std::string(static_cast<size_t>(i % 300), 'x') + R"("})");
  ASSERT_TRUE((*store)->begin());
  ASSERT_TRUE((*store)->put_execution(doc));
  for (size_t i = 0; i < wires.size(); ++i)
    ASSERT_TRUE((*store)->put_execution_event(arn, static_cast<int64_t>(i + 1), wires[i]));
  ASSERT_TRUE((*store)->commit());
  auto events = (*store)->execution_events(arn, 0, wires.size() + 1, false);
  ASSERT_TRUE(events);
  EXPECT_EQ(*events, wires);
  auto stored = (*store)->get_execution(arn);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(**stored, doc);
}

// A new store takes 16 KiB pages; one made with 4 KiB pages keeps them
// (and opens as before).
TEST_F(StoreTest, NewStoresTakeSixteenKiBPagesOldOnesKeepTheirs) {
  auto read = [&](const std::string& file, const char* sql) {
    auto db = Connection::open(file, false);
    EXPECT_TRUE(db);
    Statement s(db->raw(), sql);
    return s.step() ? s.integer(0) : -1;
  };
  { ASSERT_TRUE(Store::open(path())); }
  EXPECT_EQ(read(path(), "PRAGMA page_size"), 16384);
  const std::string old_path = (dir_ / "old.db").string();
  {
    auto db = Connection::open(old_path, false);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA page_size=4096"));
    ASSERT_TRUE(db->exec("PRAGMA journal_mode=WAL"));
    ASSERT_TRUE(db->exec("CREATE TABLE t(x)"));
  }
  { ASSERT_TRUE(Store::open(old_path)); }
  EXPECT_EQ(read(old_path, "PRAGMA page_size"), 4096);
}

// The loop's commit no longer checkpoints: the checkpointer's thread copies
// the WAL into the database file once a commit leaves it past the threshold.
TEST_F(StoreTest, CheckpointerCopiesTheWalIntoTheDatabaseFile) {
  auto writer = Connection::open(path(), false);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->exec("PRAGMA journal_mode=WAL"));
  ASSERT_TRUE(writer->exec("CREATE TABLE t(x TEXT)"));
  auto checkpointer = WalCheckpointer::start(path(), 16);
  ASSERT_TRUE(checkpointer) << checkpointer.error().to_string();
  (*checkpointer)->attach(writer->raw());
  const auto size_before = fs::file_size(path());
  ASSERT_TRUE(writer->exec("BEGIN IMMEDIATE"));
  Statement insert(writer->raw(), "INSERT INTO t(x) VALUES(?)");
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(insert.bind(1, std::string(1000, 'x')).run());
  ASSERT_TRUE(writer->exec("COMMIT"));
  for (int i = 0; i < 500 && (*checkpointer)->checkpoints() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE((*checkpointer)->checkpoints(), 1);
  EXPECT_GT(fs::file_size(path()), size_before + 1'000'000);
  checkpointer->reset();  // detaches from the writer before it closes
}

}  // namespace
}  // namespace helix::controller
