// A thin RAII layer over SQLite connections and prepared statements, so
// the store's SQL reads as SQL. Errors become helix::Error (Unavailable for
// busy/locked, Corruption for damaged files, Internal otherwise).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace helix::controller {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& value);
  // Binds without a copy (SQLITE_STATIC): `value` must stay alive and
  // unchanged until run() or reset(). For large texts on hot paths, such
  // as the tens of thousands of history events one Map writes.
  Statement& bind_unowned(int index, std::string_view value);
  Statement& bind(int index, int64_t value);
  Statement& bind_null(int index);
  Statement& bind(int index, const std::optional<std::string>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  Statement& bind(int index, const std::optional<int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Steps once: true when a row is available, false when done; throws
  // nothing, records the error for run()/error().
  bool step();
  Result<void> run();  // steps to completion, then resets for reuse
  void reset();

  std::string text(int column) const;
  int64_t integer(int column) const;
  bool is_null(int column) const;
  const std::optional<Error>& error() const { return error_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::optional<Error> error_;
};

class Connection {
 public:
  static Result<Connection> open(const std::string& path, bool read_only);
  Connection(Connection&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Connection& operator=(Connection&& other) noexcept;
  ~Connection();

  Result<void> exec(const std::string& sql);
  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

Error sqlite_error(sqlite3* db, int rc, const std::string& what);

}  // namespace helix::controller
