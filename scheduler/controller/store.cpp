#include "scheduler/controller/store.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"
#include "scheduler/controller/store_internal.h"

namespace helix::controller {

using nlohmann::json;
using queues::Job;

namespace {

// Migration N brings the schema from version N-1 to N. Never edit a shipped
// migration; append a new one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE jobs(
  id TEXT PRIMARY KEY,
  parent_id TEXT,
  array_index INTEGER,
  queue TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT NOT NULL,
  array_size INTEGER,
  owner_uid INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  definition TEXT NOT NULL,
  revision INTEGER NOT NULL,
  share_identifier TEXT,
  doc TEXT NOT NULL);
CREATE INDEX jobs_by_queue ON jobs(queue, created_at) WHERE parent_id IS NULL;
CREATE INDEX jobs_by_parent ON jobs(parent_id, array_index) WHERE parent_id IS NOT NULL;
CREATE INDEX jobs_unfinished ON jobs(status) WHERE status NOT IN ('SUCCEEDED', 'FAILED');
CREATE TABLE job_definitions(
  name TEXT NOT NULL, revision INTEGER NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY(name, revision));
CREATE TABLE job_queues(name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE compute_environments(name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE scheduling_policies(name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE users(
  access_key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, uid INTEGER NOT NULL,
  gid INTEGER NOT NULL, user_name TEXT NOT NULL);
)sql",
    // 2: Step Functions (issue #4): state machines, executions (one
    // document each, with the engine snapshot while RUNNING) and history.
    R"sql(
CREATE TABLE state_machines(name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE executions(
  arn TEXT PRIMARY KEY,
  machine_arn TEXT NOT NULL,
  status TEXT NOT NULL,
  start_us INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX executions_by_machine ON executions(machine_arn, start_us);
CREATE INDEX executions_running ON executions(status) WHERE status = 'RUNNING';
CREATE TABLE execution_events(
  arn TEXT NOT NULL, id INTEGER NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY(arn, id)) WITHOUT ROWID;
)sql",
    // 3: Step Functions activities (GetActivityTask workers poll them).
    R"sql(
CREATE TABLE activities(name TEXT PRIMARY KEY, doc TEXT NOT NULL);
)sql",
};

Result<void> migrate(Connection& db) {
  if (auto ok =
          db.exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      !ok)
    return ok;
  int version = 0;
  {
    Statement s(db.raw(), "SELECT value FROM meta WHERE key = 'schema_version'");
    if (s.step()) version = std::stoi(s.text(0));
  }
  constexpr int kLatest = static_cast<int>(std::size(kMigrations));
  if (version > kLatest)
    return fail(Error::corruption("the store has schema version " + std::to_string(version) +
                                  ", newer than this helixd (" + std::to_string(kLatest) +
                                  "); upgrade helixd"));
  for (int v = version; v < kLatest; ++v) {
    if (auto ok = db.exec("BEGIN IMMEDIATE"); !ok) return ok;
    auto applied = db.exec(kMigrations[v]);
    if (applied) {
      Statement s(db.raw(), "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)");
      applied = s.bind(1, std::to_string(v + 1)).run();
    }
    if (!applied) {
      (void)db.exec("ROLLBACK");
      return fail(Error(applied.error().code(), "migration " + std::to_string(v + 1) +
                                                    " failed: " + applied.error().message()));
    }
    if (auto ok = db.exec("COMMIT"); !ok) return ok;
  }
  return {};
}

Result<Job> job_from_row(const std::string& doc) {
  try {
    return queues::job_from_store(json::parse(doc));
  } catch (const json::exception& e) {
    return fail(Error::corruption("a stored job is not JSON", e.what()));
  }
}

template <class T, class F>
Result<std::vector<T>> load_docs(sqlite3* db, const char* sql, F from_doc) {
  std::vector<T> out;
  Statement s(db, sql);
  try {
    while (s.step()) out.push_back(from_doc(json::parse(s.text(0))));
  } catch (const json::exception& e) {
    return fail(
        Error::corruption(std::string("stored object does not parse (") + sql + ")", e.what()));
  }
  if (s.error()) return fail(*s.error());
  return out;
}

Result<Registry> load_registry_from(sqlite3* db) {
  Registry r;
  auto defs = load_docs<queues::JobDefinition>(
      db, "SELECT doc FROM job_definitions ORDER BY name, revision", [](const json& doc) {
        auto def = queues::job_definition_from_store(doc);
        if (!def) throw json::other_error::create(501, def.error().to_string(), nullptr);
        return *def;
      });
  if (!defs) return fail(defs.error());
  r.definitions = std::move(*defs);
  auto qs = load_docs<queues::JobQueue>(db, "SELECT doc FROM job_queues ORDER BY name",
                                        queues::job_queue_from_store);
  if (!qs) return fail(qs.error());
  r.queues = std::move(*qs);
  auto ces = load_docs<queues::ComputeEnvironment>(
      db, "SELECT doc FROM compute_environments ORDER BY name",
      queues::compute_environment_from_store);
  if (!ces) return fail(ces.error());
  r.compute_environments = std::move(*ces);
  auto ps =
      load_docs<queues::SchedulingPolicy>(db, "SELECT doc FROM scheduling_policies ORDER BY name",
                                          queues::scheduling_policy_from_store);
  if (!ps) return fail(ps.error());
  r.policies = std::move(*ps);
  Statement users(db, "SELECT access_key_id, secret, uid, gid, user_name FROM users");
  while (users.step())
    r.users.push_back({users.text(0), users.text(1), static_cast<uint32_t>(users.integer(2)),
                       static_cast<uint32_t>(users.integer(3)), users.text(4)});
  if (users.error()) return fail(*users.error());
  return r;
}

}  // namespace

Store::Store(std::unique_ptr<Writer> writer, std::unique_ptr<ReaderPool> readers,
             std::unique_ptr<WalCheckpointer> checkpointer)
    : writer_(std::move(writer)),
      readers_(std::move(readers)),
      checkpointer_(std::move(checkpointer)) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& path, size_t readers) {
  auto db = Connection::open(path, false);
  if (!db) return fail(db.error());
  // WAL: readers never block the writer. synchronous=NORMAL: a committed
  // transaction survives any process crash (kill -9); only a power loss
  // may drop the last commits, which is the usual trade for a scheduler.
  // page_size 16 KiB (new stores only: it must precede WAL; existing files
  // keep theirs): a Map's tens of thousands of history events take a
  // quarter of the pages, splits and WAL frames that 4 KiB pages take.
  // Checkpoints (below) run on their own thread, after every 4 MiB of WAL
  // whatever the page size, as the default autocheckpoint of 1,000 pages
  // of 4 KiB did in the loop's commit.
  // cache_size 16 MiB: one loop iteration's dirty pages (a 10,000-item Map
  // writes ~12 MB) fit, so SQLite never spills them to the WAL mid-way and
  // reads them back (the default 2 MiB made inserts in the middle of the
  // events tree re-read pages on nearly every row, issue #4).
  for (const char* pragma :
       {"PRAGMA page_size=16384", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-16384"}) {
    if (auto ok = db->exec(pragma); !ok) return fail(ok.error());
  }
  int64_t page_bytes = 4096;
  {
    Statement s(db->raw(), "PRAGMA page_size");
    if (s.step()) page_bytes = std::max<int64_t>(s.integer(0), 512);
  }
  if (auto ok = migrate(*db); !ok) return fail(ok.error());
  constexpr int64_t kCheckpointBytes = 4 << 20;
  auto checkpointer = WalCheckpointer::start(path, kCheckpointBytes / page_bytes);
  if (!checkpointer) return fail(checkpointer.error());
  auto writer = std::make_unique<Writer>(std::move(*db));
  for (Statement* s :
       {&writer->put_job, &writer->put_definition, &writer->put_queue, &writer->delete_queue,
        &writer->put_ce, &writer->delete_ce, &writer->put_policy, &writer->delete_policy,
        &writer->put_user, &writer->facts, &writer->put_machine, &writer->delete_machine,
        &writer->put_execution, &writer->put_event, &writer->get_execution, &writer->put_activity,
        &writer->delete_activity}) {
    if (s->error()) return fail(*s->error());
  }
  (*checkpointer)->attach(writer->db.raw());
  return std::unique_ptr<Store>(new Store(
      std::move(writer), std::make_unique<ReaderPool>(path, readers), std::move(*checkpointer)));
}

Result<void> Store::begin() { return writer_->db.exec("BEGIN IMMEDIATE"); }
Result<void> Store::commit() { return writer_->db.exec("COMMIT"); }
void Store::rollback() { (void)writer_->db.exec("ROLLBACK"); }

Result<void> Store::put_job(const Job& job) {
  auto& s = writer_->put_job;
  s.bind(1, job.id)
      .bind(2, job.parent_id.empty() ? std::optional<std::string>() : job.parent_id)
      .bind(3, job.array_index ? std::optional<int64_t>(*job.array_index) : std::nullopt)
      .bind(4, job.queue)
      .bind(5, job.name)
      .bind(6, std::string(queues::job_status_name(job.status)))
      .bind(7, job.status_reason)
      .bind(8, job.array_size ? std::optional<int64_t>(*job.array_size) : std::nullopt)
      .bind(9, static_cast<int64_t>(job.owner.uid))
      .bind(10, to_epoch_us(job.created_at))
      .bind(11, job.definition_name)
      .bind(12, static_cast<int64_t>(job.definition_revision))
      .bind(13, job.share_identifier)
      .bind(14, queues::job_to_store(job).dump());
  return s.run();
}

Result<void> Store::put_definition(const queues::JobDefinition& def) {
  return writer_->put_definition.bind(1, def.name)
      .bind(2, static_cast<int64_t>(def.revision))
      .bind(3, std::string(def.active ? "ACTIVE" : "INACTIVE"))
      .bind(4, queues::job_definition_to_store(def).dump())
      .run();
}

Result<void> Store::put_queue(const queues::JobQueue& q) {
  return writer_->put_queue.bind(1, q.name).bind(2, queues::job_queue_to_store(q).dump()).run();
}
Result<void> Store::delete_queue(const std::string& name) {
  return writer_->delete_queue.bind(1, name).run();
}
Result<void> Store::put_compute_environment(const queues::ComputeEnvironment& ce) {
  return writer_->put_ce.bind(1, ce.name)
      .bind(2, queues::compute_environment_to_store(ce).dump())
      .run();
}
Result<void> Store::delete_compute_environment(const std::string& name) {
  return writer_->delete_ce.bind(1, name).run();
}
Result<void> Store::put_policy(const queues::SchedulingPolicy& p) {
  return writer_->put_policy.bind(1, p.name)
      .bind(2, queues::scheduling_policy_to_store(p).dump())
      .run();
}
Result<void> Store::delete_policy(const std::string& name) {
  return writer_->delete_policy.bind(1, name).run();
}
Result<void> Store::put_user(const StoredUser& u) {
  return writer_->put_user.bind(1, u.access_key_id)
      .bind(2, u.secret_access_key)
      .bind(3, static_cast<int64_t>(u.uid))
      .bind(4, static_cast<int64_t>(u.gid))
      .bind(5, u.user)
      .run();
}

std::optional<queues::JobFacts> Store::job_facts(const std::string& id) {
  auto& s = writer_->facts;
  s.bind(1, id);
  std::optional<queues::JobFacts> out;
  if (s.step()) {
    auto status = queues::parse_job_status(s.text(0));
    if (status) {
      out = queues::JobFacts{
          *status, s.text(1),
          s.is_null(2) ? std::nullopt : std::optional<int>(static_cast<int>(s.integer(2)))};
    }
  }
  s.reset();
  return out;
}

Result<std::vector<Job>> Store::load_unfinished_jobs() {
  std::vector<Job> out;
  Statement s(writer_->db.raw(),
              "SELECT doc FROM jobs WHERE status NOT IN ('SUCCEEDED', 'FAILED') "
              "ORDER BY created_at, id");
  while (s.step()) {
    auto job = job_from_row(s.text(0));
    if (!job) return fail(job.error());
    out.push_back(std::move(*job));
  }
  if (s.error()) return fail(*s.error());
  return out;
}

Result<Registry> Store::load_registry() { return load_registry_from(writer_->db.raw()); }

Result<std::optional<Job>> Store::get_job(const std::string& id) {
  return readers_->with([&](Connection& c) -> Result<std::optional<Job>> {
    Statement s(c.raw(), "SELECT doc FROM jobs WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) {
      if (s.error()) return fail(*s.error());
      return std::optional<Job>();
    }
    auto job = job_from_row(s.text(0));
    if (!job) return fail(job.error());
    return std::optional<Job>(std::move(*job));
  });
}

namespace {}  // namespace

Result<JobPage> Store::list_jobs(const JobQuery& q) {
  return readers_->with([&](Connection& c) -> Result<JobPage> {
    // Children are listed by index; top-level jobs newest first (AWS order).
    std::string sql = "SELECT doc, created_at, id, array_index FROM jobs WHERE ";
    std::vector<std::string> texts;
    std::vector<int64_t> ints;
    std::vector<std::pair<bool, size_t>> binds;  // (is_text, index)
    auto text_param = [&](std::string v) {
      texts.push_back(std::move(v));
      binds.emplace_back(true, texts.size() - 1);
    };
    auto int_param = [&](int64_t v) {
      ints.push_back(v);
      binds.emplace_back(false, ints.size() - 1);
    };
    bool children = q.array_parent.has_value();
    if (children) {
      sql += "parent_id = ?";
      text_param(*q.array_parent);
    } else {
      sql += "parent_id IS NULL AND queue = ?";
      text_param(q.queue.value_or(""));
    }
    if (q.status) {
      sql += " AND status = ?";
      text_param(*q.status);
    }
    if (q.name_pattern) {
      std::string p = ascii_lower(*q.name_pattern);
      if (!p.empty() && p.back() == '*') {
        sql += " AND substr(lower(name), 1, ?) = ?";
        int_param(static_cast<int64_t>(p.size() - 1));
        text_param(p.substr(0, p.size() - 1));
      } else {
        sql += " AND lower(name) = ?";
        text_param(p);
      }
    }
    if (q.definition) {
      auto colon = q.definition->rfind(':');
      if (colon != std::string::npos) {
        sql += " AND definition = ? AND revision = ?";
        text_param(q.definition->substr(0, colon));
        int_param(std::stoll(q.definition->substr(colon + 1)));
      } else if (!q.definition->empty() && q.definition->back() == '*') {
        sql += " AND substr(definition, 1, ?) = ?";
        int_param(static_cast<int64_t>(q.definition->size() - 1));
        text_param(q.definition->substr(0, q.definition->size() - 1));
      } else {
        sql += " AND definition = ?";
        text_param(*q.definition);
      }
    }
    if (q.created_after_ms) {
      sql += " AND created_at > ?";
      int_param(*q.created_after_ms * 1000);
    }
    if (q.created_before_ms) {
      sql += " AND created_at < ?";
      int_param(*q.created_before_ms * 1000);
    }
    if (q.share_identifier) {
      sql += " AND share_identifier = ?";
      text_param(*q.share_identifier);
    }
    if (q.owner_uid) {
      sql += " AND owner_uid = ?";
      int_param(*q.owner_uid);
    }
    if (!q.after.empty()) {
      auto colon = q.after.find(':');
      if (children) {
        sql += " AND array_index > ?";
        int_param(std::stoll(q.after));
      } else if (colon != std::string::npos) {
        sql += " AND (created_at, id) < (?, ?)";
        int_param(std::stoll(q.after.substr(0, colon)));
        text_param(q.after.substr(colon + 1));
      }
    }
    sql += children ? " ORDER BY array_index" : " ORDER BY created_at DESC, id DESC";
    sql += " LIMIT ?";
    int_param(static_cast<int64_t>(q.limit + 1));
    Statement s(c.raw(), sql.c_str());
    for (size_t i = 0; i < binds.size(); ++i) {
      int index = static_cast<int>(i + 1);
      if (binds[i].first) {
        s.bind(index, texts[binds[i].second]);
      } else {
        s.bind(index, ints[binds[i].second]);
      }
    }
    JobPage page;
    std::string last_token;
    while (s.step()) {
      if (page.jobs.size() == q.limit) {
        page.next_token = last_token;
        break;
      }
      auto job = job_from_row(s.text(0));
      if (!job) return fail(job.error());
      page.jobs.push_back(std::move(*job));
      last_token =
          children ? std::to_string(s.integer(3)) : std::to_string(s.integer(1)) + ":" + s.text(2);
    }
    if (s.error()) return fail(*s.error());
    return page;
  });
}

Result<Registry> Store::read_registry() {
  return readers_->with([](Connection& c) { return load_registry_from(c.raw()); });
}

}  // namespace helix::controller
