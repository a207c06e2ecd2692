// lib/storage/sqlite_stmt.cc
#include "storage/sqlite_stmt.h"

namespace durablestreams::storage {

Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_FULL) return Status::NoSpace(msg);
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Status::Corruption(msg);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Busy(msg);
  return Status::IOError(msg);
}

void BindOptional(sqlite3_stmt* s, int i, const std::optional<int64_t>& v) {
  if (v) {
    sqlite3_bind_int64(s, i, *v);
  } else {
    sqlite3_bind_null(s, i);
  }
}

}  // namespace durablestreams::storage
