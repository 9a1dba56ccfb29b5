// The Step Functions half of the store: state machines, execution
// documents and history events (schema migration 2).
#include "scheduler/controller/store_internal.h"

namespace helix::controller {

using nlohmann::json;

namespace {

Result<json> parse_doc(const std::string& text, const char* what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return fail(Error::corruption(std::string("a stored ") + what + " is not JSON"));
  return j;
}

Result<std::vector<json>> load_all(sqlite3* db, const char* sql, const char* what) {
  std::vector<json> out;
  Statement s(db, sql);
  while (s.step()) {
    auto doc = parse_doc(s.text(0), what);
    if (!doc) return fail(doc.error());
    out.push_back(std::move(*doc));
  }
  if (s.error()) return fail(*s.error());
  return out;
}

}  // namespace

Result<void> Store::put_state_machine(const std::string& name, const json& doc) {
  if (doc.is_null()) return writer_->delete_machine.bind(1, name).run();
  return writer_->put_machine.bind(1, name).bind(2, doc.dump()).run();
}

Result<void> Store::put_execution(const json& doc) {
  // The document (with the input, output and engine snapshot) may be large:
  // bound in place, it lives until run() returns.
  std::string text = doc.dump();
  return writer_->put_execution.bind(1, doc.at("executionArn").get_ref<const std::string&>())
      .bind(2, doc.at("stateMachineArn").get_ref<const std::string&>())
      .bind(3, doc.at("status").get_ref<const std::string&>())
      .bind(4, doc.at("startUs").get<int64_t>())
      .bind_unowned(5, text)
      .run();
}

Result<void> Store::put_execution_event(const std::string& arn, int64_t id,
                                        const std::string& wire) {
  // Every event of a Map comes through here: bind without copies (the
  // caller's strings outlive run()).
  return writer_->put_event.bind_unowned(1, arn).bind(2, id).bind_unowned(3, wire).run();
}

Result<std::vector<json>> Store::load_state_machines() {
  return load_all(writer_->db.raw(), "SELECT doc FROM state_machines ORDER BY name",
                  "state machine");
}

Result<void> Store::put_activity(const std::string& name, const json& doc) {
  if (doc.is_null()) return writer_->delete_activity.bind(1, name).run();
  return writer_->put_activity.bind(1, name).bind(2, doc.dump()).run();
}

Result<std::vector<json>> Store::load_activities() {
  return load_all(writer_->db.raw(), "SELECT doc FROM activities ORDER BY name", "activity");
}

Result<std::vector<json>> Store::load_running_executions() {
  return load_all(writer_->db.raw(),
                  "SELECT doc FROM executions WHERE status = 'RUNNING' ORDER BY start_us, arn",
                  "execution");
}

std::optional<json> Store::stored_execution(const std::string& arn) {
  auto& s = writer_->get_execution;
  s.bind(1, arn);
  std::optional<json> out;
  if (s.step()) {
    auto doc = parse_doc(s.text(0), "execution");
    if (doc) out = std::move(*doc);
  }
  s.reset();
  return out;
}

Result<std::optional<json>> Store::get_execution(const std::string& arn) {
  return readers_->with([&](Connection& c) -> Result<std::optional<json>> {
    Statement s(c.raw(), "SELECT doc FROM executions WHERE arn = ?");
    s.bind(1, arn);
    if (!s.step()) {
      if (s.error()) return fail(*s.error());
      return std::optional<json>();
    }
    auto doc = parse_doc(s.text(0), "execution");
    if (!doc) return fail(doc.error());
    return std::optional<json>(std::move(*doc));
  });
}

Result<ExecutionPage> Store::list_executions(const ExecutionQuery& q) {
  return readers_->with([&](Connection& c) -> Result<ExecutionPage> {
    std::string sql = "SELECT doc, start_us, arn FROM executions WHERE machine_arn = ?";
    if (q.status) sql += " AND status = ?";
    int64_t after_us = 0;
    std::string after_arn;
    if (auto colon = q.after.find(':'); !q.after.empty() && colon != std::string::npos) {
      after_us = std::stoll(q.after.substr(0, colon));
      after_arn = q.after.substr(colon + 1);
      sql += " AND (start_us, arn) < (?, ?)";
    }
    sql += " ORDER BY start_us DESC, arn DESC LIMIT ?";
    Statement s(c.raw(), sql.c_str());
    int i = 1;
    s.bind(i++, q.machine_arn);
    if (q.status) s.bind(i++, *q.status);
    if (!after_arn.empty()) {
      s.bind(i++, after_us);
      s.bind(i++, after_arn);
    }
    s.bind(i, static_cast<int64_t>(q.limit + 1));
    ExecutionPage page;
    std::string last;
    while (s.step()) {
      if (page.executions.size() == q.limit) {
        page.next_token = last;
        break;
      }
      auto doc = parse_doc(s.text(0), "execution");
      if (!doc) return fail(doc.error());
      page.executions.push_back(std::move(*doc));
      last = std::to_string(s.integer(1)) + ":" + s.text(2);
    }
    if (s.error()) return fail(*s.error());
    return page;
  });
}

Result<std::vector<std::string>> Store::execution_events(const std::string& arn, int64_t after,
                                                         size_t limit, bool reverse) {
  return readers_->with([&](Connection& c) -> Result<std::vector<std::string>> {
    const char* sql =
        reverse ? (after > 0 ? "SELECT doc FROM execution_events WHERE arn = ? AND id < ? "
                               "ORDER BY id DESC LIMIT ?"
                             : "SELECT doc FROM execution_events WHERE arn = ? AND id > ? "
                               "ORDER BY id DESC LIMIT ?")
                : "SELECT doc FROM execution_events WHERE arn = ? AND id > ? ORDER BY id LIMIT ?";
    Statement s(c.raw(), sql);
    s.bind(1, arn).bind(2, after).bind(3, static_cast<int64_t>(limit));
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    if (s.error()) return fail(*s.error());
    return out;
  });
}

}  // namespace helix::controller
