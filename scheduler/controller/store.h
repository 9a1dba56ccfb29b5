// Store: helixd's durable state in SQLite (WAL). Everything helixd knows is
// here, so a restart (even after kill -9) rebuilds it and loses nothing.
//
// One writer connection, used only by the controller's loop thread, which
// wraps each loop iteration's changes in one transaction (group commit);
// a small pool of reader connections serves describe/list calls from HTTP
// threads without going through the loop; a WalCheckpointer copies the WAL
// into the database file on its own thread, so commits never wait for a
// checkpoint. Schema changes are numbered migrations recorded in
// meta.schema_version.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "queues/compute_environment.h"
#include "queues/job.h"
#include "queues/job_book.h"
#include "queues/job_definition.h"
#include "scheduler/controller/sqlite_db.h"
#include "scheduler/controller/wal_checkpointer.h"

namespace helix::controller {

struct StoredUser {
  std::string access_key_id;
  std::string secret_access_key;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;
};

struct JobQuery {
  std::optional<std::string> queue;         // top-level jobs of a queue
  std::optional<std::string> array_parent;  // children of an array job
  std::optional<std::string> status;
  std::optional<std::string> name_pattern;  // case-insensitive, trailing '*' = prefix
  std::optional<std::string> definition;    // name (any revision) or name:revision
  std::optional<int64_t> created_after_ms;
  std::optional<int64_t> created_before_ms;
  std::optional<std::string> share_identifier;
  std::optional<uint32_t> owner_uid;  // non-admin callers see their own jobs
  size_t limit = 100;
  std::string after;  // the nextToken of the previous page
};

struct JobPage {
  std::vector<queues::Job> jobs;
  std::string next_token;  // empty on the last page
};

struct ExecutionQuery {
  std::string machine_arn;
  std::optional<std::string> status;
  size_t limit = 100;
  std::string after;  // nextToken: "<start_us>:<arn>" of the last item
};

struct ExecutionPage {
  std::vector<nlohmann::json> executions;  // stored documents, newest first
  std::string next_token;
};

struct Registry {
  std::vector<queues::JobDefinition> definitions;
  std::vector<queues::JobQueue> queues;
  std::vector<queues::ComputeEnvironment> compute_environments;
  std::vector<queues::SchedulingPolicy> policies;
  std::vector<StoredUser> users;
};

class Store {
 public:
  static constexpr int kSchemaVersion = 3;

  static Result<std::unique_ptr<Store>> open(const std::string& path, size_t readers = 4);
  ~Store();

  // --- writer (controller loop thread only) ---
  Result<void> begin();
  Result<void> commit();
  void rollback();
  Result<void> put_job(const queues::Job& job);
  Result<void> put_definition(const queues::JobDefinition& def);
  Result<void> put_queue(const queues::JobQueue& queue);
  Result<void> delete_queue(const std::string& name);
  Result<void> put_compute_environment(const queues::ComputeEnvironment& ce);
  Result<void> delete_compute_environment(const std::string& name);
  Result<void> put_policy(const queues::SchedulingPolicy& policy);
  Result<void> delete_policy(const std::string& name);
  Result<void> put_user(const StoredUser& user);
  // Facts of a stored job, on the writer connection (sees this transaction).
  std::optional<queues::JobFacts> job_facts(const std::string& id);
  Result<std::vector<queues::Job>> load_unfinished_jobs();
  // Step Functions (store_states.cpp). A null doc deletes the machine.
  Result<void> put_state_machine(const std::string& name, const nlohmann::json& doc);
  Result<void> put_execution(const nlohmann::json& doc);
  Result<void> put_execution_event(const std::string& arn, int64_t id, const std::string& wire);
  Result<std::vector<nlohmann::json>> load_state_machines();
  // Activities by name; a null doc deletes the activity.
  Result<void> put_activity(const std::string& name, const nlohmann::json& doc);
  Result<std::vector<nlohmann::json>> load_activities();
  Result<std::vector<nlohmann::json>> load_running_executions();
  // On the writer connection (sees this transaction).
  std::optional<nlohmann::json> stored_execution(const std::string& arn);
  Result<Registry> load_registry();

  // --- readers (any thread) ---
  Result<std::optional<queues::Job>> get_job(const std::string& id);
  Result<JobPage> list_jobs(const JobQuery& query);
  Result<Registry> read_registry();
  Result<std::optional<nlohmann::json>> get_execution(const std::string& arn);
  Result<ExecutionPage> list_executions(const ExecutionQuery& query);
  // History events (wire JSON text) with id > after (reverse: id < after,
  // newest first; after 0 means from the end), at most limit.
  Result<std::vector<std::string>> execution_events(const std::string& arn, int64_t after,
                                                    size_t limit, bool reverse);

 private:
  struct Writer;
  class ReaderPool;
  Store(std::unique_ptr<Writer> writer, std::unique_ptr<ReaderPool> readers,
        std::unique_ptr<WalCheckpointer> checkpointer);
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<ReaderPool> readers_;
  // Declared last: stopped before the writer it hooks closes.
  std::unique_ptr<WalCheckpointer> checkpointer_;
};

}  // namespace helix::controller
