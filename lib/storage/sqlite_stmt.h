// lib/storage/sqlite_stmt.h: what the SQLite store's files share to talk
// to SQLite: a prepared statement that finalizes itself, and SQLite's result
// codes as a Status.
//
// Thread safety: a Stmt belongs to one connection and is used under that
// connection's lock.
#ifndef DURABLESTREAMS_STORAGE_SQLITE_STMT_H_
#define DURABLESTREAMS_STORAGE_SQLITE_STMT_H_

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

#include "durablestreams/status.h"

namespace durablestreams::storage {

// `what` failed with `rc` on `db` (null: SQLite's text for rc): kNoSpace for
// a full disk, kCorruption, kBusy, else kIOError.
Status SqliteError(sqlite3* db, int rc, const std::string& what);

// The schema version of streams.db this library writes (PRAGMA
// user_version; the migrations are in sqlite_schema.cc). Do not change
// existing values: they are stored.
constexpr int kSchemaVersion = 8;

class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { Finalize(); }
  void Finalize() {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status Prepare(sqlite3* db, const char* sql) {
    db_ = db;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc, "prepare");
    return Status::OK();
  }
  sqlite3_stmt* get() { return stmt_; }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  // Runs a statement that returns no rows.
  Status Exec(const char* what) {
    int rc = sqlite3_step(stmt_);
    Reset();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, what);
    return Status::OK();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Binds `v`, or NULL when it is empty, to parameter i of s.
void BindOptional(sqlite3_stmt* s, int i, const std::optional<int64_t>& v);

}  // namespace durablestreams::storage

#endif  // DURABLESTREAMS_STORAGE_SQLITE_STMT_H_
