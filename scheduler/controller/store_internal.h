// The store's private parts, shared by its source files (store.cpp for
// Batch, store_states.cpp for Step Functions). Not for other code.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "scheduler/controller/sqlite_db.h"
#include "scheduler/controller/store.h"

namespace helix::controller {

struct Store::Writer {
  Connection db;
  Statement put_job;
  Statement put_definition;
  Statement put_queue;
  Statement delete_queue;
  Statement put_ce;
  Statement delete_ce;
  Statement put_policy;
  Statement delete_policy;
  Statement put_user;
  Statement facts;
  Statement put_machine;
  Statement delete_machine;
  Statement put_execution;
  Statement put_event;
  Statement get_execution;
  Statement put_activity;
  Statement delete_activity;
  explicit Writer(Connection c)
      : db(std::move(c)),
        put_job(db.raw(),
                // An update keeps the row (and its rowid): only the indexes
                // whose columns changed are rewritten, where REPLACE
                // deleted and re-inserted the row in every index, several
                // pages per job per commit.
                "INSERT INTO jobs(id, parent_id, array_index, queue, name, status, "
                "status_reason, array_size, owner_uid, created_at, definition, revision, "
                "share_identifier, doc) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET parent_id = excluded.parent_id, "
                "array_index = excluded.array_index, queue = excluded.queue, "
                "name = excluded.name, status = excluded.status, "
                "status_reason = excluded.status_reason, array_size = excluded.array_size, "
                "owner_uid = excluded.owner_uid, created_at = excluded.created_at, "
                "definition = excluded.definition, revision = excluded.revision, "
                "share_identifier = excluded.share_identifier, doc = excluded.doc"),
        put_definition(db.raw(),
                       "INSERT OR REPLACE INTO job_definitions(name, revision, status, doc) "
                       "VALUES(?,?,?,?)"),
        put_queue(db.raw(), "INSERT OR REPLACE INTO job_queues(name, doc) VALUES(?,?)"),
        delete_queue(db.raw(), "DELETE FROM job_queues WHERE name = ?"),
        put_ce(db.raw(), "INSERT OR REPLACE INTO compute_environments(name, doc) VALUES(?,?)"),
        delete_ce(db.raw(), "DELETE FROM compute_environments WHERE name = ?"),
        put_policy(db.raw(), "INSERT OR REPLACE INTO scheduling_policies(name, doc) VALUES(?,?)"),
        delete_policy(db.raw(), "DELETE FROM scheduling_policies WHERE name = ?"),
        put_user(db.raw(),
                 "INSERT OR REPLACE INTO users(access_key_id, secret, uid, gid, user_name) "
                 "VALUES(?,?,?,?,?)"),
        facts(db.raw(), "SELECT status, status_reason, array_size FROM jobs WHERE id = ?"),
        put_machine(db.raw(), "INSERT OR REPLACE INTO state_machines(name, doc) VALUES(?,?)"),
        delete_machine(db.raw(), "DELETE FROM state_machines WHERE name = ?"),
        put_execution(db.raw(),
                      "INSERT OR REPLACE INTO executions(arn, machine_arn, status, start_us, doc) "
                      "VALUES(?,?,?,?,?)"),
        put_event(db.raw(), "INSERT OR REPLACE INTO execution_events(arn, id, doc) VALUES(?,?,?)"),
        get_execution(db.raw(), "SELECT doc FROM executions WHERE arn = ?"),
        put_activity(db.raw(), "INSERT OR REPLACE INTO activities(name, doc) VALUES(?,?)"),
        delete_activity(db.raw(), "DELETE FROM activities WHERE name = ?") {}
};

// Reader connections handed out one per call; more are opened on demand
// when all are busy, and up to `keep` are kept.
class Store::ReaderPool {
 public:
  ReaderPool(std::string path, size_t keep) : path_(std::move(path)), keep_(keep) {}

  template <class F>
  auto with(F f) -> decltype(f(std::declval<Connection&>())) {
    std::unique_ptr<Connection> c;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        c = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!c) {
      auto opened = Connection::open(path_, true);
      if (!opened) return fail(opened.error());
      c = std::make_unique<Connection>(std::move(*opened));
    }
    auto result = f(*c);
    std::lock_guard lock(mutex_);
    if (idle_.size() < keep_) idle_.push_back(std::move(c));
    return result;
  }

 private:
  std::string path_;
  size_t keep_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace helix::controller
