// lib/storage/sqlite_side_db.cc: the small shared SQLite files
// (sqlite_side_db.h).
#include "storage/sqlite_side_db.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "storage/sqlite_stmt.h"

namespace durablestreams::storage {

Status SideDb::Open(const std::string& data_dir, const std::string& name, int version,
                    const char* schema) {
  name_ = name;
  if (::mkdir(data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::IOError("mkdir " + data_dir + ": " + std::strerror(errno));
  }
  std::string path = data_dir + "/" + name;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno));
  ::close(fd);
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "open " + path);
  sqlite3_busy_timeout(db_, 5000);
  Status s = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (!s.ok()) return s;
  return Transaction([&]() -> Status {
    Stmt v;
    Status st = v.Prepare(db_, "PRAGMA user_version");
    if (!st.ok()) return st;
    int have = sqlite3_step(v.get()) == SQLITE_ROW ? sqlite3_column_int(v.get(), 0) : 0;
    v.Reset();
    if (have > version) {
      return Status::Corruption(name_ + " has schema version " + std::to_string(have) +
                                ", newer than this build's");
    }
    if (have == version) return Status::OK();
    st = Exec(schema);
    if (!st.ok()) return st;
    return Exec(("PRAGMA user_version = " + std::to_string(version)).c_str());
  });
}

Status SideDb::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, name_ + ": " + msg);
  return Status::OK();
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, i))
           : std::string();
}

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

}  // namespace durablestreams::storage
