// lib/storage/sqlite_storage.cc
//
// The SQLite hot log. One database file (streams.db) in WAL mode:
//   - one write connection, used by the engine's commit thread only; every
//     WriteBatch is one BEGIN IMMEDIATE .. COMMIT transaction;
//   - a pool of read-only connections for concurrent readers. In WAL mode a
//     reader sees the last committed snapshot and never waits for the writer.
//
// The schema, its version and what recovery does are written down in
// docs/format.md; keep the two in step.
//
// Torn writes: SQLite's WAL makes each transaction all-or-nothing. A commit
// torn by a crash or power loss is rolled back when the database is next
// opened, so a batch is either wholly present or wholly absent.
#include <sqlite3.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "durablestreams/storage.h"

namespace durablestreams {

namespace {

// Do not change existing values: they are stored in PRAGMA user_version.
constexpr int kSchemaVersion = 2;

const char* const kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS streams (
  id                 INTEGER PRIMARY KEY,
  path               TEXT    NOT NULL UNIQUE,
  content_type       TEXT    NOT NULL,
  ttl_seconds        INTEGER,
  expires_at_ms      INTEGER,
  created_at_ms      INTEGER NOT NULL,
  last_access_ms     INTEGER NOT NULL,
  closed             INTEGER NOT NULL DEFAULT 0,
  tail               INTEGER NOT NULL DEFAULT 0,
  last_stream_seq    TEXT    NOT NULL DEFAULT '',
  closed_by_producer TEXT,
  closed_by_epoch    INTEGER NOT NULL DEFAULT 0,
  closed_by_seq      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
  stream_id INTEGER NOT NULL,
  end_pos   INTEGER NOT NULL,
  data      BLOB    NOT NULL,
  PRIMARY KEY (stream_id, end_pos)
);
CREATE TABLE IF NOT EXISTS producers (
  stream_id     INTEGER NOT NULL,
  producer_id   TEXT    NOT NULL,
  epoch         INTEGER NOT NULL,
  last_seq      INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (stream_id, producer_id)
) WITHOUT ROWID;
)sql";

// Version 2: forks and append boundaries.
const char* const kMigrateV2 = R"sql(
ALTER TABLE streams ADD COLUMN fork_source_id INTEGER;
ALTER TABLE streams ADD COLUMN forked_from TEXT NOT NULL DEFAULT '';
ALTER TABLE streams ADD COLUMN fork_anchor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN fork_sub_offset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN fork_offset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN soft_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_in_append INTEGER NOT NULL DEFAULT 1;
)sql";

Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_FULL) return Status::NoSpace(msg);
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Status::Corruption(msg);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Busy(msg);
  return Status::IOError(msg);
}

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

void BindOptional(sqlite3_stmt* s, int i, const std::optional<int64_t>& v) {
  if (v) {
    sqlite3_bind_int64(s, i, *v);
  } else {
    sqlite3_bind_null(s, i);
  }
}

struct ReadConn {
  ~ReadConn() {
    read.Finalize();
    sqlite3_close(db);
  }
  sqlite3* db = nullptr;
  Stmt read;
};

class SqliteStorage final : public Storage {
 public:
  ~SqliteStorage() override {
    readers_.clear();
    stmts_.clear();
    if (db_) sqlite3_close(db_);
  }

  Status Open(const std::string& path, const SqliteStorageOptions& options) {
    int rc = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "open " + path);
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
    const char* sync = options.sync == SyncMode::kFull     ? "FULL"
                       : options.sync == SyncMode::kNormal ? "NORMAL"
                                                           : "OFF";
    // journal_mode first: it is the first statement that reads the file, and
    // a file that is not a database fails here with SQLITE_NOTADB.
    Status s = ExecSql("PRAGMA journal_mode=WAL");
    if (!s.ok()) return s;
    s = ExecSql(std::string("PRAGMA synchronous=") + sync);
    if (!s.ok()) return s;
    s = ExecSql("PRAGMA foreign_keys=OFF");
    if (!s.ok()) return s;
    s = Migrate();
    if (!s.ok()) return s;
    s = PrepareWriter();
    if (!s.ok()) return s;
    for (int i = 0; i < options.read_connections; ++i) {
      auto conn = std::make_unique<ReadConn>();
      rc = sqlite3_open_v2(path.c_str(), &conn->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                           nullptr);
      if (rc != SQLITE_OK) return SqliteError(conn->db, rc, "open reader");
      sqlite3_busy_timeout(conn->db, 5000);
      s = conn->read.Prepare(conn->db,
                             "SELECT end_pos, data, last_in_append FROM messages WHERE stream_id=?1 AND "
                             "end_pos>?2 ORDER BY end_pos");
      if (!s.ok()) return s;
      free_readers_.push_back(conn.get());
      readers_.push_back(std::move(conn));
    }
    return Status::OK();
  }

  Status Load(LoadedState* out) override {
    Stmt s;
    Status st = s.Prepare(db_,
                          "SELECT id, path, content_type, ttl_seconds, expires_at_ms, "
                          "created_at_ms, last_access_ms, closed, tail, last_stream_seq, "
                          "closed_by_producer, closed_by_epoch, closed_by_seq, fork_source_id, forked_from, "
                          "fork_anchor, fork_sub_offset, fork_offset, soft_deleted FROM streams");
    if (!st.ok()) return st;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      sqlite3_stmt* q = s.get();
      StreamRecord r;
      r.id = sqlite3_column_int64(q, 0);
      r.path = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
      r.content_type = reinterpret_cast<const char*>(sqlite3_column_text(q, 2));
      if (sqlite3_column_type(q, 3) != SQLITE_NULL) r.ttl_seconds = sqlite3_column_int64(q, 3);
      if (sqlite3_column_type(q, 4) != SQLITE_NULL) r.expires_at_ms = sqlite3_column_int64(q, 4);
      r.created_at_ms = sqlite3_column_int64(q, 5);
      r.last_access_ms = sqlite3_column_int64(q, 6);
      r.closed = sqlite3_column_int(q, 7) != 0;
      r.tail = static_cast<uint64_t>(sqlite3_column_int64(q, 8));
      r.last_stream_seq = reinterpret_cast<const char*>(sqlite3_column_text(q, 9));
      if (sqlite3_column_type(q, 10) != SQLITE_NULL) {
        r.closed_by_producer = reinterpret_cast<const char*>(sqlite3_column_text(q, 10));
      }
      r.closed_by_epoch = sqlite3_column_int64(q, 11);
      r.closed_by_seq = sqlite3_column_int64(q, 12);
      if (sqlite3_column_type(q, 13) != SQLITE_NULL) r.fork_source_id = sqlite3_column_int64(q, 13);
      r.forked_from = reinterpret_cast<const char*>(sqlite3_column_text(q, 14));
      r.fork_anchor = static_cast<uint64_t>(sqlite3_column_int64(q, 15));
      r.fork_sub_offset = static_cast<uint64_t>(sqlite3_column_int64(q, 16));
      r.fork_offset = static_cast<uint64_t>(sqlite3_column_int64(q, 17));
      r.soft_deleted = sqlite3_column_int(q, 18) != 0;
      out->streams.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "load streams");
    Stmt p;
    st = p.Prepare(db_,
                   "SELECT stream_id, producer_id, epoch, last_seq, updated_at_ms FROM producers");
    if (!st.ok()) return st;
    while ((rc = sqlite3_step(p.get())) == SQLITE_ROW) {
      sqlite3_stmt* q = p.get();
      ProducerRecord r;
      r.stream_id = sqlite3_column_int64(q, 0);
      r.producer_id = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
      r.epoch = sqlite3_column_int64(q, 2);
      r.last_seq = sqlite3_column_int64(q, 3);
      r.updated_at_ms = sqlite3_column_int64(q, 4);
      out->producers.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "load producers");
    return Status::OK();
  }

  Status Apply(const WriteBatch& b) override {
    if (b.empty()) return Status::OK();
    Status s = begin_->Exec("begin");
    if (!s.ok()) return s;
    s = ApplyInTransaction(b);
    if (s.ok()) s = commit_->Exec("commit");
    if (!s.ok()) {
      // After SQLITE_FULL and some I/O errors SQLite rolls back by itself;
      // ROLLBACK then fails harmlessly.
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return s;
  }

  Status ReadMessages(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                      std::vector<StoredMessage>* out) override {
    ReadConn* conn = AcquireReader();
    sqlite3_stmt* q = conn->read.get();
    sqlite3_bind_int64(q, 1, stream_id);
    sqlite3_bind_int64(q, 2, static_cast<int64_t>(from));
    size_t bytes = 0;
    int rc;
    Status status;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      uint64_t end = static_cast<uint64_t>(sqlite3_column_int64(q, 0));
      const void* data = sqlite3_column_blob(q, 1);
      size_t len = static_cast<size_t>(sqlite3_column_bytes(q, 1));
      if (len > end) {
        status = Status::Corruption("message longer than its end position");
        break;
      }
      uint64_t start = end - len;
      if (start >= to) break;
      StoredMessage m;
      m.start = start;
      m.end = end;
      m.data.assign(static_cast<const char*>(data), len);
      m.last_in_append = sqlite3_column_int(q, 2) != 0;
      bytes += len;
      out->push_back(std::move(m));
      if (bytes >= max_bytes) break;
    }
    if (status.ok() && rc != SQLITE_ROW && rc != SQLITE_DONE) {
      status = SqliteError(conn->db, rc, "read messages");
    }
    conn->read.Reset();
    ReleaseReader(conn);
    return status;
  }

 private:
  Status ExecSql(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      // Same classification as SqliteError, with SQLite's own message once.
      Status s = SqliteError(nullptr, rc, sql);
      return Status(s.code(), sql + ": " + msg);
    }
    return Status::OK();
  }

  Result<int> UserVersion() {
    Stmt s;
    Status st = s.Prepare(db_, "PRAGMA user_version");
    if (!st.ok()) return st;
    int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "read schema version");
    return sqlite3_column_int(s.get(), 0);
  }

  // Brings the schema to kSchemaVersion, one step per version, each in its
  // own transaction. Version 0 is an empty file.
  Status Migrate() {
    Result<int> v = UserVersion();
    if (!v.ok()) return v.status();
    // (v is updated as each step completes.)
    if (*v > kSchemaVersion) {
      return Status::Corruption("database schema version " + std::to_string(*v) +
                                " is newer than this library understands (" +
                                std::to_string(kSchemaVersion) + ")");
    }
    if (*v == 0) {
      // An empty file, or somebody else's database: refuse the latter.
      Stmt s;
      Status st = s.Prepare(db_,
                            "SELECT count(*) FROM sqlite_master WHERE name NOT IN "
                            "('streams','messages','producers')");
      if (!st.ok()) return st;
      if (sqlite3_step(s.get()) == SQLITE_ROW && sqlite3_column_int(s.get(), 0) > 0) {
        return Status::Corruption("the database holds tables that are not ours");
      }
      st = ExecSql(std::string("BEGIN IMMEDIATE;") + kSchemaV1 +
                   "PRAGMA user_version=1; COMMIT;");
      if (!st.ok()) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return st;
      }
      *v = 1;
    }
    if (*v < 2) {
      Status st = ExecSql(std::string("BEGIN IMMEDIATE;") + kMigrateV2 +
                          "PRAGMA user_version=2; COMMIT;");
      if (!st.ok()) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return st;
      }
    }
    // Future versions: if (*v < 3) { ... PRAGMA user_version=3 ... }
    return Status::OK();
  }

  Stmt* Prepare(const char* sql, Status* s) {
    stmts_.push_back(std::make_unique<Stmt>());
    if (s->ok()) *s = stmts_.back()->Prepare(db_, sql);
    return stmts_.back().get();
  }

  Status PrepareWriter() {
    Status s;
    begin_ = Prepare("BEGIN IMMEDIATE", &s);
    commit_ = Prepare("COMMIT", &s);
    del_stream_ = Prepare("DELETE FROM streams WHERE id=?1", &s);
    del_messages_ = Prepare("DELETE FROM messages WHERE stream_id=?1", &s);
    del_producers_ = Prepare("DELETE FROM producers WHERE stream_id=?1", &s);
    upsert_stream_ = Prepare(
        "INSERT OR REPLACE INTO streams (id, path, content_type, ttl_seconds, expires_at_ms, "
        "created_at_ms, last_access_ms, closed, tail, last_stream_seq, closed_by_producer, "
        "closed_by_epoch, closed_by_seq, fork_source_id, forked_from, fork_anchor, "
        "fork_sub_offset, fork_offset, soft_deleted) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)",
        &s);
    upsert_producer_ = Prepare(
        "INSERT OR REPLACE INTO producers (stream_id, producer_id, epoch, last_seq, "
        "updated_at_ms) VALUES (?1,?2,?3,?4,?5)",
        &s);
    insert_message_ =
        Prepare("INSERT INTO messages (stream_id, end_pos, data, last_in_append) "
                "VALUES (?1,?2,?3,?4)", &s);
    touch_ = Prepare("UPDATE streams SET last_access_ms=?2 WHERE id=?1", &s);
    return s;
  }

  Status ApplyInTransaction(const WriteBatch& b) {
    Status s;
    for (int64_t id : b.delete_streams) {
      for (Stmt* st : {del_stream_, del_messages_, del_producers_}) {
        sqlite3_bind_int64(st->get(), 1, id);
        s = st->Exec("delete stream");
        if (!s.ok()) return s;
      }
    }
    for (const StreamRecord& r : b.upsert_streams) {
      sqlite3_stmt* q = upsert_stream_->get();
      sqlite3_bind_int64(q, 1, r.id);
      sqlite3_bind_text(q, 2, r.path.data(), static_cast<int>(r.path.size()), SQLITE_STATIC);
      sqlite3_bind_text(q, 3, r.content_type.data(), static_cast<int>(r.content_type.size()),
                        SQLITE_STATIC);
      BindOptional(q, 4, r.ttl_seconds);
      BindOptional(q, 5, r.expires_at_ms);
      sqlite3_bind_int64(q, 6, r.created_at_ms);
      sqlite3_bind_int64(q, 7, r.last_access_ms);
      sqlite3_bind_int(q, 8, r.closed ? 1 : 0);
      sqlite3_bind_int64(q, 9, static_cast<int64_t>(r.tail));
      sqlite3_bind_text(q, 10, r.last_stream_seq.data(),
                        static_cast<int>(r.last_stream_seq.size()), SQLITE_STATIC);
      if (r.closed_by_producer) {
        sqlite3_bind_text(q, 11, r.closed_by_producer->data(),
                          static_cast<int>(r.closed_by_producer->size()), SQLITE_STATIC);
      } else {
        sqlite3_bind_null(q, 11);
      }
      sqlite3_bind_int64(q, 12, r.closed_by_epoch);
      sqlite3_bind_int64(q, 13, r.closed_by_seq);
      BindOptional(q, 14, r.fork_source_id);
      sqlite3_bind_text(q, 15, r.forked_from.data(), static_cast<int>(r.forked_from.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(q, 16, static_cast<int64_t>(r.fork_anchor));
      sqlite3_bind_int64(q, 17, static_cast<int64_t>(r.fork_sub_offset));
      sqlite3_bind_int64(q, 18, static_cast<int64_t>(r.fork_offset));
      sqlite3_bind_int(q, 19, r.soft_deleted ? 1 : 0);
      s = upsert_stream_->Exec("upsert stream");
      if (!s.ok()) return s;
    }
    for (const ProducerRecord& p : b.upsert_producers) {
      sqlite3_stmt* q = upsert_producer_->get();
      sqlite3_bind_int64(q, 1, p.stream_id);
      sqlite3_bind_text(q, 2, p.producer_id.data(), static_cast<int>(p.producer_id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(q, 3, p.epoch);
      sqlite3_bind_int64(q, 4, p.last_seq);
      sqlite3_bind_int64(q, 5, p.updated_at_ms);
      s = upsert_producer_->Exec("upsert producer");
      if (!s.ok()) return s;
    }
    for (const AppendRecord& a : b.appends) {
      sqlite3_stmt* q = insert_message_->get();
      sqlite3_bind_int64(q, 1, a.stream_id);
      sqlite3_bind_int64(q, 2, static_cast<int64_t>(a.start + a.data.size()));
      sqlite3_bind_blob(q, 3, a.data.data(), static_cast<int>(a.data.size()), SQLITE_STATIC);
      sqlite3_bind_int(q, 4, a.last_in_append ? 1 : 0);
      s = insert_message_->Exec("append");
      if (!s.ok()) return s;
    }
    for (const auto& [id, at] : b.touches) {
      sqlite3_bind_int64(touch_->get(), 1, id);
      sqlite3_bind_int64(touch_->get(), 2, at);
      s = touch_->Exec("touch");
      if (!s.ok()) return s;
    }
    return s;
  }

  ReadConn* AcquireReader() {
    std::unique_lock<std::mutex> lock(readers_mu_);
    readers_cv_.wait(lock, [&] { return !free_readers_.empty(); });
    ReadConn* c = free_readers_.back();
    free_readers_.pop_back();
    return c;
  }
  void ReleaseReader(ReadConn* c) {
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      free_readers_.push_back(c);
    }
    readers_cv_.notify_one();
  }

  sqlite3* db_ = nullptr;  // the write connection: the commit thread only
  std::vector<std::unique_ptr<Stmt>> stmts_;
  Stmt* begin_ = nullptr;
  Stmt* commit_ = nullptr;
  Stmt* del_stream_ = nullptr;
  Stmt* del_messages_ = nullptr;
  Stmt* del_producers_ = nullptr;
  Stmt* upsert_stream_ = nullptr;
  Stmt* upsert_producer_ = nullptr;
  Stmt* insert_message_ = nullptr;
  Stmt* touch_ = nullptr;

  std::vector<std::unique_ptr<ReadConn>> readers_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<ReadConn*> free_readers_;  // guarded by readers_mu_
};

}  // namespace

Result<std::shared_ptr<Storage>> OpenSqliteStorage(const std::string& db_path,
                                                   const SqliteStorageOptions& options) {
  auto storage = std::make_shared<SqliteStorage>();
  Status s = storage->Open(db_path, options);
  if (!s.ok()) return s;
  return std::shared_ptr<Storage>(std::move(storage));
}

}  // namespace durablestreams
