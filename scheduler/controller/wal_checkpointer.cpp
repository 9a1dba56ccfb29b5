#include "scheduler/controller/wal_checkpointer.h"

#include <spdlog/spdlog.h>

namespace helix::controller {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::string& path,
                                                                int64_t threshold_frames) {
  auto db = Connection::open(path, false);
  if (!db) return fail(db.error());
  // A connection that has never read the database has no WAL open, and
  // SQLite's checkpoint then copies nothing: read the schema once.
  if (auto ok = db->exec("SELECT count(*) FROM sqlite_schema"); !ok) return fail(ok.error());
  std::unique_ptr<WalCheckpointer> c(new WalCheckpointer(std::move(*db), threshold_frames));
  c->thread_ = std::thread([raw = c.get()] { raw->run(); });
  return c;
}

WalCheckpointer::WalCheckpointer(Connection db, int64_t threshold_frames)
    : db_(std::move(db)), threshold_frames_(threshold_frames) {}

WalCheckpointer::~WalCheckpointer() {
  if (writer_) sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mutex_);
    is_stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::attach(sqlite3* writer) {
  writer_ = writer;
  sqlite3_wal_hook(writer, &WalCheckpointer::on_commit, this);
}

int64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

// Runs on the writer's thread inside its commit: wakes the thread. The WAL
// only restarts from its beginning when a checkpoint has copied all of it
// before the next commit; under a burst of large commits the thread may
// never catch up, so past kRunawayFactor times the threshold the writer
// checkpoints itself, as SQLite's own autocheckpoint would, which bounds
// the WAL (and readers' cost of searching it).
int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* name, int frames) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (frames < c->threshold_frames_) return SQLITE_OK;
  if (frames >= kRunawayFactor * c->threshold_frames_)
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  {
    std::lock_guard lock(c->mutex_);
    c->is_due_ = true;
  }
  c->wake_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return is_due_ || is_stopping_; });
    if (is_stopping_) return;
    is_due_ = false;
    lock.unlock();
    int log_frames = 0, copied_frames = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                       &copied_frames);
    // A failed checkpoint loses nothing (the WAL keeps every commit); the
    // next commit past the threshold tries again.
    if (rc != SQLITE_OK)
      spdlog::warn("store: WAL checkpoint failed: {}",
                   sqlite_error(db_.raw(), rc, "checkpoint").to_string());
    lock.lock();
    ++checkpoints_;
  }
}

}  // namespace helix::controller
