// lib/storage/sqlite_side_db.h
//
// A small SQLite file beside the hot log that more than one process may
// open (projects.db, subscriptions.db): created with mode 0600 before
// SQLite touches it (these files hold secrets), WAL with synchronous=FULL,
// a busy timeout for the CLI and the server sharing it, and a schema
// version in PRAGMA user_version that only goes up.
//
// Thread safety: none; the owner serializes use (its own mutex).
// Ownership: owns the connection; statements prepared on db() must be
// finalized before the SideDb is destroyed.
#ifndef DURABLESTREAMS_STORAGE_SQLITE_SIDE_DB_H_
#define DURABLESTREAMS_STORAGE_SQLITE_SIDE_DB_H_

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "durablestreams/status.h"

namespace durablestreams::storage {

class SideDb {
 public:
  SideDb() = default;
  ~SideDb() { sqlite3_close_v2(db_); }
  SideDb(const SideDb&) = delete;
  SideDb& operator=(const SideDb&) = delete;

  // Opens DATA_DIR/NAME (making the directory and file if need be) and
  // brings its schema to `version` by running `schema` (idempotent DDL) on
  // a file of a lower version; a file of a higher version is refused.
  Status Open(const std::string& data_dir, const std::string& name, int version,
              const char* schema);

  sqlite3* db() const { return db_; }
  const std::string& name() const { return name_; }

  // Runs SQL text with no parameters.
  Status Exec(const char* sql);

  // Runs `body` in one IMMEDIATE transaction: committed if it returns OK,
  // rolled back otherwise.
  template <typename F>
  Status Transaction(F body) {
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    s = body();
    if (s.ok()) s = Exec("COMMIT");
    if (!s.ok()) (void)Exec("ROLLBACK");
    return s;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string name_;
};

// Text column i of s ("" for NULL), and a text parameter (copied).
std::string ColumnText(sqlite3_stmt* s, int i);
void BindText(sqlite3_stmt* s, int i, std::string_view v);

}  // namespace durablestreams::storage

#endif  // DURABLESTREAMS_STORAGE_SQLITE_SIDE_DB_H_
