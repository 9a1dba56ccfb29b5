// WalCheckpointer: copies the store's WAL back into the database file on its
// own thread and connection, so the controller's loop never waits for a
// checkpoint (issue #4: its copy and its two syncs were a third of a
// durable 10,000-item Map). Durability is unchanged: a commit is durable
// once it is in the WAL, exactly as before (synchronous=NORMAL syncs the
// WAL at each checkpoint, not at each commit), and after kill -9 SQLite
// replays the WAL when the store is opened again.
//
// Owns its thread and connection. attach() replaces the writer
// connection's autocheckpoint with a WAL hook that wakes the thread when a
// commit leaves the WAL at or past the threshold; the thread then runs a
// PASSIVE checkpoint, which never blocks the writer or the readers. The
// destructor detaches the hook, stops and joins the thread.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "scheduler/controller/sqlite_db.h"

namespace helix::controller {

class WalCheckpointer {
 public:
  // Opens its connection to the store at `path` and starts the thread.
  static Result<std::unique_ptr<WalCheckpointer>> start(const std::string& path,
                                                        int64_t threshold_frames);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // On the writer's thread, before its next commit; `writer` must outlive
  // this object.
  void attach(sqlite3* writer);

  // Checkpoints run so far (for tests).
  int64_t checkpoints() const;

 private:
  // A WAL this many times the threshold is checkpointed by the writer.
  static constexpr int64_t kRunawayFactor = 16;
  WalCheckpointer(Connection db, int64_t threshold_frames);
  static int on_commit(void* self, sqlite3* db, const char* name, int frames);
  void run();

  Connection db_;
  const int64_t threshold_frames_;
  sqlite3* writer_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool is_due_ = false;       // guarded by mutex_
  bool is_stopping_ = false;  // guarded by mutex_
  int64_t checkpoints_ = 0;   // guarded by mutex_
  std::thread thread_;
};

}  // namespace helix::controller
