// lib/storage/sqlite_storage.cc
//
// The SQLite hot log. One database file (streams.db) in WAL mode:
//   - one write connection, used by the engine's commit thread only; every
//     WriteBatch is one BEGIN IMMEDIATE .. COMMIT transaction;
//   - a pool of read-only connections for concurrent readers. In WAL mode a
//     reader sees the last committed snapshot and never waits for the writer;
//   - one connection of the checkpoint thread, which copies the WAL into the
//     database file beside the commits (CheckpointIfDue).
//
// Small appends go to the append log (`log`: commit order, no index but the
// rowid) and are folded into `messages` (ordered by stream) thousands at a
// time; readers find a stream's log rows through an index in memory that
// they check against `log_state.gen` in their snapshot (BeginRead).
//
// The schema, its version and what recovery does are written down in
// docs/format.md; keep the two in step.
//
// Torn writes: SQLite's WAL makes each transaction all-or-nothing. A commit
// torn by a crash or power loss is rolled back when the database is next
// opened, so a batch is either wholly present or wholly absent.
//
// The cold tier. With a SegmentStore, one rotation thread seals old hot
// messages into segments (segment_format.h). Rotating [a, b) of a stream:
//   1. read the rows and Put the segment under SegmentKey(path, id, a);
//   2. in one transaction: record it in `segments` and delete the rows.
// Both steps are idempotent. A crash after 1 leaves an object that the next
// rotation of the same stream overwrites (its key depends on `a` only), or
// that the cleanup of the stream removes. Readers read both tables in one
// snapshot, so they see the rows or the segment, never neither. Deleting a
// stream queues its key prefix in `segment_cleanup` in the same transaction;
// the rotation thread lists and deletes the objects, then the row.
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "durablestreams/storage.h"
#include "storage/message_bytes.h"
#include "storage/segment_format.h"
#include "storage/segment_reader.h"

namespace durablestreams {

namespace {

// Do not change existing values: they are stored in PRAGMA user_version.
constexpr int kSchemaVersion = 5;

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

// Version 3: the cold tier.
const char* const kMigrateV3 = R"sql(
CREATE TABLE IF NOT EXISTS segments (
  stream_id   INTEGER NOT NULL,
  start_pos   INTEGER NOT NULL,
  end_pos     INTEGER NOT NULL,
  object_key  TEXT    NOT NULL,
  object_size INTEGER NOT NULL,
  messages    INTEGER NOT NULL,
  PRIMARY KEY (stream_id, end_pos)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segment_cleanup (
  prefix TEXT PRIMARY KEY
) WITHOUT ROWID;
)sql";

// Version 4: one row per append. A row with `sizes` holds several messages
// (a JSON batch) back to back in `data`; `sizes` is their lengths, 4 bytes
// each, little-endian. NULL: the row is one message.
const char* const kMigrateV4 = R"sql(
ALTER TABLE messages ADD COLUMN sizes BLOB;
)sql";

// Version 5: the append log. Small appends land in `log`, in commit order
// and with no index but its rowid, so a commit writes one or two pages of it
// however many streams it touches; `messages` has one index leaf per stream.
// A fold moves every log row into `messages` in one transaction, sorted by
// stream, and bumps `log_state.gen` (as does any other deletion of log rows).
// Readers find a stream's log rows through an index in memory, checked
// against `gen` in their snapshot (SqliteStorage::BeginRead).
const char* const kMigrateV5 = R"sql(
CREATE TABLE IF NOT EXISTS log (
  seq            INTEGER PRIMARY KEY,
  stream_id      INTEGER NOT NULL,
  end_pos        INTEGER NOT NULL,
  data           BLOB    NOT NULL,
  last_in_append INTEGER NOT NULL,
  sizes          BLOB
);
CREATE TABLE IF NOT EXISTS log_state (
  id  INTEGER PRIMARY KEY CHECK (id = 0),
  gen INTEGER NOT NULL
);
INSERT OR IGNORE INTO log_state (id, gen) VALUES (0, 0);
)sql";

// Test hook (docs/reliability.md): DS_FAULT_ROTATION=put:N or commit:N makes
// the process _exit(86) right after the Nth segment Put, or right after the
// Nth rotation commit, to check that a restart completes the rotation.
struct FaultPlan {
  int after_put = 0;
  int after_commit = 0;
  FaultPlan() {
    const char* v = std::getenv("DS_FAULT_ROTATION");
    if (!v) return;
    int n = 0;
    if (std::sscanf(v, "put:%d", &n) == 1) after_put = n;
    if (std::sscanf(v, "commit:%d", &n) == 1) after_commit = n;
  }
};

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
    log_row.Finalize();
    gen.Finalize();
    segments.Finalize();
    begin.Finalize();
    commit.Finalize();
    sqlite3_close(db);
  }
  sqlite3* db = nullptr;
  Stmt read;
  Stmt log_row;
  Stmt gen;
  Stmt segments;
  Stmt begin;
  Stmt commit;
};

// What the rotation thread knows of a stream's hot part.
struct HotState {
  std::string path;
  bool closed = false;
  uint64_t cold_end = 0;   // position where the hot rows begin
  uint64_t messages = 0;   // hot rows
  uint64_t bytes = 0;      // their data
};

// A segment in the store whose `segments` row is not written yet (step 2 of
// a rotation, docs/format.md): the next group commit records it.
struct SealedSegment {
  int64_t stream_id = 0;
  uint64_t start = 0, end = 0;
  std::string key;
  uint64_t object_size = 0;
  uint64_t messages = 0;
};

// A log row in the index in memory: where it ends and its `seq`.
struct LogEntry {
  uint64_t end = 0;
  int64_t seq = 0;
};

// What one transaction does to the log, published to the index in memory
// once it has committed.
struct LogChange {
  std::vector<std::pair<int64_t, LogEntry>> added;  // (stream id, row), in order
  std::vector<int64_t> dropped;                     // streams whose log rows went
  size_t bytes = 0;                                 // of the added rows
  bool folded = false;                              // every log row moved

  // Whether it removes log rows: then it writes a new log_state.gen.
  bool RemovesRows() const { return folded || !dropped.empty(); }
};

// The log is folded into `messages` once it holds this many rows or bytes.
constexpr size_t kFoldRows = 4096;
constexpr size_t kFoldBytes = 4 << 20;
// An append of this many bytes or more goes straight to `messages` when its
// stream has no log rows: its own pages outweigh one index leaf.
constexpr size_t kDirectBytes = 1024;

// WAL frames (pages) after which a checkpoint starts (SQLite's default).
constexpr int kCheckpointFrames = 1000;
// How many more frames commits may add while the checkpoint thread copies;
// past that, the next commit waits for the copy.
constexpr int kCheckpointLagFrames = 250;
// How long a checkpoint waits for readers of older snapshots, looking again
// every kCheckpointPoll.
constexpr auto kCheckpointWait = std::chrono::milliseconds(10);
constexpr auto kCheckpointPoll = std::chrono::microseconds(50);
// A checkpoint that could not start the WAL over is tried again after this
// many more frames.
constexpr int kCheckpointRetryFrames = 100;
constexpr int kBusyTimeoutMs = 5000;

class SqliteStorage final : public Storage {
 public:
  ~SqliteStorage() override {
    {
      std::lock_guard<std::mutex> lock(tier_mu_);
      stopping_ = true;
    }
    tier_cv_.notify_all();
    if (rotator_.joinable()) rotator_.join();
    {
      std::lock_guard<std::mutex> lock(ckpt_mu_);
      ckpt_running_ = false;
    }
    ckpt_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    if (!sealed_.empty()) (void)RecordSealed(&sealed_);  // else a restart seals them again
    if (hooks_.leave_wal_on_close) {
      for (sqlite3* db : {db_, ckpt_db_}) {
        if (db) sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
      }
      for (auto& conn : readers_) {
        sqlite3_db_config(conn->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
      }
    }
    if (ckpt_db_) sqlite3_close(ckpt_db_);
    ckpt_db_ = nullptr;
    readers_.clear();
    stmts_.clear();
    if (db_) sqlite3_close(db_);
  }

  Status Open(const std::string& path, const SqliteStorageOptions& options) {
    hooks_ = options.test_hooks;
    // SQLite's "unix-excl" VFS takes a lock on the file for the whole process
    // the first time a connection reads it, and holds it until the last of
    // this process's connections closes. Connections within the process
    // share the WAL index in heap memory, so a commit takes no file locks
    // (about six fcntl calls with the default VFS).
    const char* vfs = options.exclusive ? "unix-excl" : nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "open " + path);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    sqlite3_extended_result_codes(db_, 1);
    const char* sync = options.sync == SyncMode::kFull     ? "FULL"
                       : options.sync == SyncMode::kNormal ? "NORMAL"
                                                           : "OFF";
    // journal_mode first: it is the first statement that reads the file, and
    // a file that is not a database fails here with SQLITE_NOTADB.
    Status s = ExecSql("PRAGMA journal_mode=WAL");
    if (s.code() == StatusCode::kBusy && options.exclusive) {
      return Status::Busy(path + " is in use by another process (" + s.message() + ")");
    }
    if (!s.ok()) return s;
    s = ExecSql(std::string("PRAGMA synchronous=") + sync);
    if (!s.ok()) return s;
    // The writer's page cache holds the pages every commit touches again
    // (the tables' right edges, each hot stream's index leaf); SQLite's
    // 2 MiB default sends it back to the file for them.
    s = ExecSql("PRAGMA cache_size=-16384");
    if (!s.ok()) return s;
    // Checkpoints that restart the WAL (WalHook, CheckpointIfDue) instead of SQLite's
    // passive ones.
    sqlite3_wal_hook(db_, &SqliteStorage::WalHook, this);
    s = ExecSql("PRAGMA foreign_keys=OFF");
    if (!s.ok()) return s;
    // Debian builds SQLite with SECURE_DELETE on: every page a rotation
    // frees would be zeroed and written to the WAL. FAST still zeroes
    // deleted data where that costs no extra write.
    s = ExecSql("PRAGMA secure_delete=FAST");
    if (!s.ok()) return s;
    s = Migrate();
    if (!s.ok()) return s;
    s = PrepareWriter();
    if (!s.ok()) return s;
    s = Recover();
    if (!s.ok()) return s;
    for (int i = 0; i < options.read_connections; ++i) {
      auto conn = std::make_unique<ReadConn>();
      rc = sqlite3_open_v2(path.c_str(), &conn->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                           vfs);
      if (rc != SQLITE_OK) return SqliteError(conn->db, rc, "open reader");
      sqlite3_busy_timeout(conn->db, kBusyTimeoutMs);
      s = conn->read.Prepare(conn->db,
                             "SELECT end_pos, data, last_in_append, sizes FROM messages WHERE stream_id=?1 AND "
                             "end_pos>?2 ORDER BY end_pos");
      if (s.ok()) {
        s = conn->log_row.Prepare(
            conn->db, "SELECT end_pos, data, last_in_append, sizes FROM log WHERE seq=?1");
      }
      if (s.ok()) s = conn->gen.Prepare(conn->db, "SELECT gen FROM log_state WHERE id=0");
      if (s.ok()) {
        s = conn->segments.Prepare(conn->db,
                                   "SELECT start_pos, end_pos, object_key, object_size, messages "
                                   "FROM segments WHERE stream_id=?1 AND end_pos>?2 ORDER BY end_pos");
      }
      if (s.ok()) s = conn->begin.Prepare(conn->db, "BEGIN");
      if (s.ok()) s = conn->commit.Prepare(conn->db, "COMMIT");
      if (!s.ok()) return s;
      free_readers_.push_back(conn.get());
      readers_.push_back(std::move(conn));
    }
    // The checkpoint thread's connection syncs as the writer's does: its
    // copies sync the WAL first (at NORMAL) and the database file after, and
    // the writer's RESTART that follows syncs nothing when nothing is left to
    // copy. It reads the database once, so that it has the WAL open: a
    // connection that never read does nothing on a checkpoint.
    rc = sqlite3_open_v2(path.c_str(), &ckpt_db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                         vfs);
    if (rc != SQLITE_OK) return SqliteError(ckpt_db_, rc, "open the checkpoint connection");
    sqlite3_busy_timeout(ckpt_db_, kBusyTimeoutMs);
    std::string setup = std::string("PRAGMA synchronous=") + sync +
                        "; SELECT count(*) FROM sqlite_master";
    if ((rc = sqlite3_exec(ckpt_db_, setup.c_str(), nullptr, nullptr, nullptr)) != SQLITE_OK) {
      return SqliteError(ckpt_db_, rc, setup);
    }
    {
      std::lock_guard<std::mutex> lock(ckpt_mu_);
      ckpt_running_ = true;
    }
    checkpointer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "ds-checkpoint");
      CheckpointLoop();
    });
    store_ = options.segment_store;
    max_messages_ = std::max<size_t>(1, options.segment_max_messages);
    max_bytes_ = std::max<size_t>(1, options.segment_max_bytes);
    if (store_) {
      segment_reader_ = std::make_unique<storage::SegmentReader>(store_, options.segment_cache_bytes);
      s = LoadHotState();
      if (!s.ok()) return s;
      rotator_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "ds-rotate");
        RotationLoop();
      });
    }
    return Status::OK();
  }

  Status Load(LoadedState* out) override {
    // The rotation thread is running already and shares the connection.
    std::lock_guard<std::mutex> write_lock(write_mu_);
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
    // The engine rewrites a stream's row only when more than its tail
    // changed: the tail is also where its last append (hot or sealed) ends.
    Stmt last;
    st = last.Prepare(db_,
                      "SELECT max("
                      "coalesce((SELECT max(end_pos) FROM messages WHERE stream_id = ?1), 0), "
                      "coalesce((SELECT max(end_pos) FROM segments WHERE stream_id = ?1), 0))");
    if (!st.ok()) return st;
    for (StreamRecord& r : out->streams) {
      sqlite3_bind_int64(last.get(), 1, r.id);
      rc = sqlite3_step(last.get());
      if (rc == SQLITE_ROW) {
        r.tail = std::max(r.tail, static_cast<uint64_t>(sqlite3_column_int64(last.get(), 0)));
      }
      last.Reset();
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, "load tails");
    }
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
    std::lock_guard<std::mutex> write_lock(write_mu_);
    Status s = begin_->Exec("begin");
    if (!s.ok()) return s;
    LogChange log;
    s = ApplyInTransaction(b, &log);
    if (s.ok() &&
        (log_rows_ + log.added.size() >= kFoldRows || log_bytes_ + log.bytes >= kFoldBytes)) {
      s = FoldInTransaction(&log);
    }
    // Segments the rotation thread has put ride along: their rows cost this
    // commit a few pages instead of a commit (and an fsync) each. A failure
    // there leaves them for later and does not fail the batch. At most
    // kSealedPerCommit, oldest first: one rotation pass can seal a hundred,
    // and recording them all held one commit for 5 to 8 ms.
    std::vector<SealedSegment> sealed;
    if (s.ok() && store_) {
      {
        std::lock_guard<std::mutex> lock(tier_mu_);
        if (sealed_.size() <= kSealedPerCommit) {
          sealed.swap(sealed_);
        } else {
          auto end = sealed_.begin() + kSealedPerCommit;
          sealed.assign(std::make_move_iterator(sealed_.begin()), std::make_move_iterator(end));
          sealed_.erase(sealed_.begin(), end);
        }
      }
      if (!sealed.empty() && !RecordSealedInSavepoint(sealed)) RequeueSealed(&sealed);
    }
    if (s.ok()) s = BumpGen(log);
    if (s.ok()) s = commit_->Exec("commit");
    if (!s.ok()) {
      // After SQLITE_FULL and some I/O errors SQLite rolls back by itself;
      // ROLLBACK then fails harmlessly.
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      RequeueSealed(&sealed);
      return s;
    }
    PublishLog(log);
    CheckpointIfDue();
    if (store_) {
      NoteApplied(b);
      if (!sealed.empty()) NoteRecorded(sealed.size());
    }
    return s;
  }

  Status ReadMessages(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                      std::vector<StoredMessage>* out) override {
    return Read(stream_id, from, to, max_bytes, out, nullptr, nullptr);
  }

  Status ReadBytes(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                   std::string* body, uint64_t* next) override {
    std::vector<StoredMessage> hot;
    size_t base = body->size();
    *next = from;
    // Most of a read's bytes go straight into the body: room for them at once
    // (a few bytes for a read at the tail, max_bytes for a catch-up, up to
    // 4 MiB; beyond that the string grows as it must).
    body->reserve(base + std::min<uint64_t>({to - from, max_bytes, uint64_t{4} << 20}));
    Status s = Read(stream_id, from, to, max_bytes, &hot, body, next);
    if (!s.ok()) {
      body->resize(base);
      *next = from;
      return s;
    }
    // What came from the hot rows follows what came from segments.
    storage::AppendMessageBytes(&hot, from, body, next);
    return s;
  }

 private:
  // ReadMessages(), or with `body` the first part of ReadBytes(): the bytes
  // of a read of hot rows alone, or of the segments of a read that needs
  // them, are appended to *body straight from SQLite's row or the segment
  // cache (and *next set); only hot messages after segments go to *out.
  Status Read(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
              std::vector<StoredMessage>* out, std::string* body, uint64_t* next) {
    ReadConn* conn = AcquireReader();
    size_t first = out->size();
    size_t bytes = 0;
    // One snapshot. Most reads are of the hot part: try it alone first. Hot
    // rows are contiguous, so when the first row starts at or before `from`
    // nothing before it matters; otherwise the range (or part of it) has
    // been rotated, and the segments are read first.
    std::vector<LogEntry> log;
    std::vector<storage::SegmentInfo> segments;
    Status status = BeginRead(conn, stream_id, from, &log);
    if (status.ok()) {
      status = ReadHot(conn, stream_id, from, to, max_bytes, log, out, &bytes, true, SIZE_MAX,
                       body, next);
      bool took = body ? *next != from : out->size() != first;
      if (status.ok() && !took) {
        status = ReadBothTiers(conn, stream_id, from, to, max_bytes, log, &segments, out, &bytes);
      }
      Status c = conn->commit.Exec("end read");
      if (status.ok()) status = c;
    }
    if (status.ok() && !segments.empty()) {
      // The hot rows read above follow the segments; fetch the segments
      // (outside the snapshot: objects never change) and put them first.
      std::vector<StoredMessage> hot(std::make_move_iterator(out->begin() + first),
                                     std::make_move_iterator(out->end()));
      out->resize(first);
      bytes = 0;
      status = ReadSegments(segments, from, to, max_bytes, out, body, next, &bytes);
      for (StoredMessage& m : hot) {
        if (!status.ok() || bytes >= max_bytes || m.start >= to) break;
        bytes += m.data.size();
        out->push_back(std::move(m));
      }
    }
    ReleaseReader(conn);
    if (!status.ok()) out->resize(first);
    return status;
  }

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

  // After each commit of the writer connection (its thread holds
  // write_mu_): notes how many frames the WAL holds; CheckpointIfDue() acts
  // on it once the commit is published (a checkpoint inside the commit would
  // hold back the log's index in memory, and readers wait for that).
  static int WalHook(void* arg, sqlite3* /*db*/, const char* /*schema*/, int frames) {
    static_cast<SqliteStorage*>(arg)->wal_frames_ = frames;
    return SQLITE_OK;
  }

  // After a commit and its PublishLog() (write_mu_ held). SQLite's own
  // checkpoint is PASSIVE: it copies the frames no reader still needs and
  // never waits, and the WAL starts over only when a checkpoint finds it
  // fully copied with no reader in it. Readers that overlap commits all the
  // time (rotation reads, catch-up, SSE) can keep that from ever happening:
  // the WAL then grows without end (580 MB after some 20 s of JSON appends in
  // one benchmark run), and every commit after the mark runs another
  // checkpoint. RESTART waits (briefly: the busy timeout is lowered for it)
  // for the readers of older snapshots, copies everything and lets the next
  // commit write from the start of the file. If readers keep it from that (a
  // new reader may take the place of one that left), what could be copied
  // was, and the next attempt comes a few commits later.
  //
  // A RESTART holds the write lock while it copies: copying 1000 frames and
  // syncing the database file took 3.5 ms at full sync and 7 ms at NORMAL,
  // with every commit waiting. So at the mark the checkpoint thread first
  // copies in the background (PASSIVE: no write lock), and the RESTART that
  // follows, at the first commit after it, copies only what was committed
  // meanwhile. Commits that outrun the copy (kCheckpointLagFrames) wait for
  // it, which keeps the WAL's size bounded. A RESTART that readers kept from
  // starting the WAL over had copied everything first: the next attempt
  // needs no background copy.
  //
  // Only a running checkpoint thread is waited for. Before it starts (the
  // recovery in Open()) and once it has stopped (the destructor), the
  // RESTART copies everything itself.
  void CheckpointIfDue() {
    if (wal_frames_ < checkpoint_at_ || hooks_.skip_checkpoints) return;
    if (!restart_retry_ && !BackgroundCopyDone()) return;
    int rc = CheckpointNow(SQLITE_CHECKPOINT_RESTART);
    checkpoint_at_ = rc == SQLITE_OK ? kCheckpointFrames : wal_frames_ + kCheckpointRetryFrames;
    restart_retry_ = rc != SQLITE_OK;
    if (rc == SQLITE_OK) wal_frames_ = 0;
  }

  // A checkpoint of the writer's connection in `mode` (RESTART, TRUNCATE)
  // that waits at most kCheckpointWait for readers of older snapshots.
  // SQLite's busy timeout sleeps 1, 2, 5, 10 ms in turn: a reader that left
  // after 0.1 ms would still cost the commits behind this 1 ms, often 3.
  int CheckpointNow(int mode) {
    ckpt_wait_until_ = std::chrono::steady_clock::now() + kCheckpointWait;
    sqlite3_busy_handler(db_, &SqliteStorage::CheckpointBusy, this);
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, mode, nullptr, nullptr);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    return rc;
  }

  // Whether CheckpointIfDue()'s RESTART may go ahead: the checkpoint thread
  // has copied the WAL, or is not running. Otherwise asks it for a copy, and
  // waits for that only once the commits have outrun it by
  // kCheckpointLagFrames.
  bool BackgroundCopyDone() {
    std::unique_lock<std::mutex> lock(ckpt_mu_);
    if (!ckpt_running_) return true;
    if (ckpt_state_ == CkptState::kIdle) {
      ckpt_state_ = CkptState::kWanted;
      ckpt_cv_.notify_all();
    }
    if (ckpt_state_ != CkptState::kCopied) {
      if (wal_frames_ < checkpoint_at_ + kCheckpointLagFrames) return false;
      ckpt_cv_.wait(lock, [&] { return ckpt_state_ == CkptState::kCopied || !ckpt_running_; });
    }
    ckpt_state_ = CkptState::kIdle;
    return true;
  }

  // The RESTART's busy handler: looks again every kCheckpointPoll until
  // ckpt_wait_until_.
  static int CheckpointBusy(void* arg, int /*count*/) {
    if (std::chrono::steady_clock::now() >= static_cast<SqliteStorage*>(arg)->ckpt_wait_until_) {
      return 0;
    }
    std::this_thread::sleep_for(kCheckpointPoll);
    return 1;
  }

  // The checkpoint thread: a PASSIVE checkpoint each time CheckpointIfDue()
  // asks for one. Its result does not matter: CheckpointIfDue()'s RESTART
  // copies whatever it left.
  void CheckpointLoop() {
    std::unique_lock<std::mutex> lock(ckpt_mu_);
    for (;;) {
      ckpt_cv_.wait(lock, [&] { return !ckpt_running_ || ckpt_state_ == CkptState::kWanted; });
      if (!ckpt_running_) return;
      ckpt_state_ = CkptState::kCopying;
      lock.unlock();
      (void)sqlite3_wal_checkpoint_v2(ckpt_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                      nullptr);
      lock.lock();
      ckpt_state_ = CkptState::kCopied;
      ckpt_cv_.notify_all();
    }
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
      st = MigrationStep(kSchemaV1, 1);
      if (!st.ok()) return st;
      *v = 1;
    }
    // To versions 2, 3, ...
    const char* const steps[] = {kMigrateV2, kMigrateV3, kMigrateV4, kMigrateV5};
    for (int to = *v + 1; to <= kSchemaVersion; ++to) {
      Status st = MigrationStep(steps[to - 2], to);
      if (!st.ok()) return st;
    }
    return Status::OK();
  }

  // Runs `sql` and sets user_version to `version` in one transaction.
  Status MigrationStep(const char* sql, int version) {
    Status st = ExecSql(std::string("BEGIN IMMEDIATE;") + sql + "PRAGMA user_version=" +
                        std::to_string(version) + "; COMMIT;");
    if (!st.ok()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
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
        // An update in place that leaves `path` (and so its index) alone: a
        // stream's path never changes. REPLACE would delete and reinsert the
        // row and its index entry on every append.
        "INSERT INTO streams (id, path, content_type, ttl_seconds, expires_at_ms, "
        "created_at_ms, last_access_ms, closed, tail, last_stream_seq, closed_by_producer, "
        "closed_by_epoch, closed_by_seq, fork_source_id, forked_from, fork_anchor, "
        "fork_sub_offset, fork_offset, soft_deleted) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19) "
        "ON CONFLICT(id) DO UPDATE SET content_type=excluded.content_type, "
        "ttl_seconds=excluded.ttl_seconds, expires_at_ms=excluded.expires_at_ms, "
        "created_at_ms=excluded.created_at_ms, last_access_ms=excluded.last_access_ms, "
        "closed=excluded.closed, tail=excluded.tail, last_stream_seq=excluded.last_stream_seq, "
        "closed_by_producer=excluded.closed_by_producer, closed_by_epoch=excluded.closed_by_epoch, "
        "closed_by_seq=excluded.closed_by_seq, fork_source_id=excluded.fork_source_id, "
        "forked_from=excluded.forked_from, fork_anchor=excluded.fork_anchor, "
        "fork_sub_offset=excluded.fork_sub_offset, fork_offset=excluded.fork_offset, "
        "soft_deleted=excluded.soft_deleted",
        &s);
    upsert_producer_ = Prepare(
        "INSERT OR REPLACE INTO producers (stream_id, producer_id, epoch, last_seq, "
        "updated_at_ms) VALUES (?1,?2,?3,?4,?5)",
        &s);
    insert_message_ =
        Prepare("INSERT INTO messages (stream_id, end_pos, data, last_in_append, sizes) "
                "VALUES (?1,?2,?3,?4,?5)", &s);
    touch_ = Prepare("UPDATE streams SET last_access_ms=?2 WHERE id=?1", &s);
    stream_path_ = Prepare("SELECT path FROM streams WHERE id=?1", &s);
    del_segments_ = Prepare("DELETE FROM segments WHERE stream_id=?1", &s);
    add_cleanup_ = Prepare("INSERT OR IGNORE INTO segment_cleanup (prefix) VALUES (?1)", &s);
    add_segment_ = Prepare(
        "INSERT OR REPLACE INTO segments (stream_id, start_pos, end_pos, object_key, "
        "object_size, messages) VALUES (?1,?2,?3,?4,?5,?6)",
        &s);
    drop_rotated_ = Prepare("DELETE FROM messages WHERE stream_id=?1 AND end_pos<=?2", &s);
    insert_log_ =
        Prepare("INSERT INTO log (stream_id, end_pos, data, last_in_append, sizes) "
                "VALUES (?1,?2,?3,?4,?5)", &s);
    del_log_row_ = Prepare("DELETE FROM log WHERE seq=?1", &s);
    fold_copy_ = Prepare(
        "INSERT INTO messages (stream_id, end_pos, data, last_in_append, sizes) "
        "SELECT stream_id, end_pos, data, last_in_append, sizes FROM log "
        "ORDER BY stream_id, end_pos",
        &s);
    fold_clear_ = Prepare("DELETE FROM log", &s);
    set_gen_ = Prepare("UPDATE log_state SET gen=?1 WHERE id=0", &s);
    list_cleanup_ = Prepare("SELECT prefix FROM segment_cleanup LIMIT 64", &s);
    del_cleanup_ = Prepare("DELETE FROM segment_cleanup WHERE prefix=?1", &s);
    return s;
  }

  Status ApplyInTransaction(const WriteBatch& b, LogChange* log) {
    Status s;
    std::string sizes;
    for (int64_t id : b.delete_streams) {
      // Queue the removal of its segments (and of any object a rotation
      // wrote but never recorded) before the row with its path goes.
      std::string path;
      sqlite3_bind_int64(stream_path_->get(), 1, id);
      if (sqlite3_step(stream_path_->get()) == SQLITE_ROW) {
        path = reinterpret_cast<const char*>(sqlite3_column_text(stream_path_->get(), 0));
      }
      stream_path_->Reset();
      sqlite3_bind_int64(del_segments_->get(), 1, id);
      s = del_segments_->Exec("delete segments");
      if (!s.ok()) return s;
      if (store_ || sqlite3_changes(db_) > 0) {
        std::string prefix = storage::SegmentKeyPrefix(path, id);
        sqlite3_bind_text(add_cleanup_->get(), 1, prefix.data(), static_cast<int>(prefix.size()),
                          SQLITE_TRANSIENT);
        s = add_cleanup_->Exec("queue segment cleanup");
        if (!s.ok()) return s;
      }
      for (Stmt* st : {del_stream_, del_messages_, del_producers_}) {
        sqlite3_bind_int64(st->get(), 1, id);
        s = st->Exec("delete stream");
        if (!s.ok()) return s;
      }
      if (auto it = log_index_.find(id); it != log_index_.end()) {
        for (const LogEntry& e : it->second) {
          sqlite3_bind_int64(del_log_row_->get(), 1, e.seq);
          s = del_log_row_->Exec("delete stream");
          if (!s.ok()) return s;
        }
        log->dropped.push_back(id);
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
      bool direct = a.data.size() >= kDirectBytes && !HasLogRows(a.stream_id, *log);
      Stmt* insert = direct ? insert_message_ : insert_log_;
      sqlite3_stmt* q = insert->get();
      sqlite3_bind_int64(q, 1, a.stream_id);
      sqlite3_bind_int64(q, 2, static_cast<int64_t>(a.start + a.data.size()));
      sqlite3_bind_blob(q, 3, a.data.data(), static_cast<int>(a.data.size()), SQLITE_STATIC);
      sqlite3_bind_int(q, 4, a.last_in_append ? 1 : 0);
      if (!a.sizes.empty()) {
        sizes.clear();
        for (uint32_t n : a.sizes) {
          for (int k = 0; k < 4; ++k) sizes.push_back(static_cast<char>((n >> (8 * k)) & 0xff));
        }
        sqlite3_bind_blob(q, 5, sizes.data(), static_cast<int>(sizes.size()), SQLITE_STATIC);
      }
      s = insert->Exec("append");
      if (!s.ok()) return s;
      if (!direct) {
        log->added.push_back(
            {a.stream_id, {a.start + a.data.size(), sqlite3_last_insert_rowid(db_)}});
        log->bytes += a.data.size();
      }
    }
    for (const auto& [id, at] : b.touches) {
      sqlite3_bind_int64(touch_->get(), 1, id);
      sqlite3_bind_int64(touch_->get(), 2, at);
      s = touch_->Exec("touch");
      if (!s.ok()) return s;
    }
    return s;
  }


  // ---- the log ---------------------------------------------------------------

  // Whether stream `id` has rows in the log, counting this transaction's
  // (write_mu_ held). Its rows in `messages` must all come before them.
  bool HasLogRows(int64_t id, const LogChange& log) const {
    for (const auto& added : log.added) {
      if (added.first == id) return true;
    }
    auto it = log_index_.find(id);
    return it != log_index_.end() && !it->second.empty();
  }

  // Moves every log row into `messages` (write_mu_ held, in a transaction).
  // Sorted by stream, each stream's rows land together: a few pages of
  // `messages` and its index per stream, where the appends one by one
  // would have cost a page each.
  Status FoldInTransaction(LogChange* log) {
    Status s = fold_copy_->Exec("fold the log");
    if (s.ok()) s = fold_clear_->Exec("fold the log");
    if (s.ok()) log->folded = true;
    return s;
  }

  // The index in memory after `log` committed (write_mu_ held). A change
  // that removed log rows also bumped log_state.gen in its transaction.
  void PublishLog(const LogChange& log) {
    std::lock_guard<std::mutex> lock(log_mu_);
    if (log.folded) {
      log_index_.clear();
      log_rows_ = log_bytes_ = 0;
    } else {
      for (int64_t id : log.dropped) {
        auto it = log_index_.find(id);
        log_rows_ -= it->second.size();
        log_index_.erase(it);
      }
      for (const auto& [id, entry] : log.added) log_index_[id].push_back(entry);
      log_rows_ += log.added.size();
      log_bytes_ += log.bytes;
    }
    if (log.RemovesRows()) ++log_gen_;
  }

  // In a transaction that removes log rows: the generation readers check.
  Status BumpGen(const LogChange& log) {
    if (!log.RemovesRows()) return Status::OK();
    sqlite3_bind_int64(set_gen_->get(), 1, log_gen_ + 1);
    return set_gen_->Exec("bump the log generation");
  }

  // Folds the log in a transaction of its own, if it has rows.
  Status Fold() {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    if (log_rows_ == 0) return Status::OK();
    LogChange log;
    Status s = begin_->Exec("begin fold");
    if (s.ok()) s = FoldInTransaction(&log);
    if (s.ok()) s = BumpGen(log);
    if (s.ok()) s = commit_->Exec("commit fold");
    if (!s.ok()) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
    PublishLog(log);
    CheckpointIfDue();
    return s;
  }

  // Recovery at open, before any thread of ours runs (so nothing here may
  // wait for one): SQLite has already rolled back a commit torn by a crash
  // and rebuilt its index of the WAL; this reads the log's generation, folds
  // the rows a crash left in the log (its index in memory is then empty
  // until appends come), and copies the WAL into the database and truncates
  // it, so that the server starts with an empty WAL. Its time is bounded by
  // the WAL's size and the log's (at most kFoldRows rows or kFoldBytes, plus
  // one batch), docs/reliability.md.
  Status Recover() {
    Stmt q;
    Status s =
        q.Prepare(db_, "SELECT (SELECT gen FROM log_state WHERE id=0), (SELECT count(*) FROM log)");
    if (!s.ok()) return s;
    int rc = sqlite3_step(q.get());
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "read the log state");
    log_gen_ = sqlite3_column_int64(q.get(), 0);
    log_rows_ = static_cast<size_t>(sqlite3_column_int64(q.get(), 1));
    q.Reset();
    s = Fold();
    if (!s.ok() || hooks_.skip_checkpoints) return s;
    // Another process may read the file (exclusive off) and keep the WAL
    // from being truncated; the commits' checkpoints then catch up.
    if (CheckpointNow(SQLITE_CHECKPOINT_TRUNCATE) == SQLITE_OK) {
      wal_frames_ = 0;
      checkpoint_at_ = kCheckpointFrames;
      restart_retry_ = false;
    }
    return Status::OK();
  }

  // Starts a read transaction on `conn` whose snapshot agrees with the index
  // in memory, and copies stream_id's log rows that end after `from`. A fold
  // or deletion that committed after the snapshot was taken, or before but
  // not yet published, shows as another generation: then start again.
  // Rows appended after the snapshot may be listed; they are not found in
  // it, and the read stops there.
  Status BeginRead(ReadConn* conn, int64_t stream_id, uint64_t from, std::vector<LogEntry>* rows) {
    for (;;) {
      Status s = conn->begin.Exec("begin read");
      if (!s.ok()) return s;
      int rc = sqlite3_step(conn->gen.get());
      int64_t gen = sqlite3_column_int64(conn->gen.get(), 0);
      conn->gen.Reset();
      if (rc != SQLITE_ROW) {
        s = SqliteError(conn->db, rc, "read the log generation");
        (void)conn->commit.Exec("end read");
        return s;
      }
      {
        std::lock_guard<std::mutex> lock(log_mu_);
        if (gen == log_gen_) {
          auto it = log_index_.find(stream_id);
          if (it != log_index_.end()) {
            auto first =
                std::upper_bound(it->second.begin(), it->second.end(), from,
                                 [](uint64_t pos, const LogEntry& e) { return pos < e.end; });
            rows->assign(first, it->second.end());
          }
          return Status::OK();
        }
      }
      s = conn->commit.Exec("end read");
      if (!s.ok()) return s;
      std::this_thread::yield();
    }
  }

  // ---- reads ---------------------------------------------------------------

  // Where a read of hot rows is, and where it stops.
  struct HotRead {
    HotRead(uint64_t from_, uint64_t to_, size_t max_bytes_, size_t max_count_, bool stop_at_gap_,
            std::vector<StoredMessage>* out_, size_t* bytes_)
        : from(from_), to(to_), max_bytes(max_bytes_), max_count(max_count_),
          stop_at_gap(stop_at_gap_), out(out_), bytes(bytes_) {}
    uint64_t from, to;
    size_t max_bytes, max_count;
    bool stop_at_gap;
    std::vector<StoredMessage>* out;
    size_t* bytes;
    // With `body`, the bytes from `from` on go there (and *next moves)
    // instead of messages to *out.
    std::string* body = nullptr;
    uint64_t* next = nullptr;
    size_t count = 0;       // messages taken
    uint64_t last_end = 0;  // the end of the last one
    bool stop = false;
    Status status;
  };

  // Takes the messages of one hot row (the row's messages are in order;
  // one unless it is a batch) that fall in the read's range.
  static void TakeRow(HotRead* r, sqlite3_stmt* q) {
    uint64_t end = static_cast<uint64_t>(sqlite3_column_int64(q, 0));
    const char* data = static_cast<const char*>(sqlite3_column_blob(q, 1));
    size_t len = static_cast<size_t>(sqlite3_column_bytes(q, 1));
    bool last_in_append = sqlite3_column_int(q, 2) != 0;
    const unsigned char* sizes = static_cast<const unsigned char*>(sqlite3_column_blob(q, 3));
    size_t nsizes = sizes ? static_cast<size_t>(sqlite3_column_bytes(q, 3)) / 4 : 1;
    if (len > end) {
      r->status = Status::Corruption("message longer than its end position");
      r->stop = true;
      return;
    }
    std::vector<StoredMessage>* out = r->out;
    uint64_t pos = end - len;
    size_t offset = 0;
    for (size_t i = 0; i < nsizes; ++i) {
      size_t n = len;
      if (sizes) {
        n = static_cast<size_t>(sizes[4 * i]) | static_cast<size_t>(sizes[4 * i + 1]) << 8 |
            static_cast<size_t>(sizes[4 * i + 2]) << 16 |
            static_cast<size_t>(sizes[4 * i + 3]) << 24;
        if (n == 0 || n > len - offset || (i + 1 == nsizes && offset + n != len)) {
          r->status = Status::Corruption("a batch row's sizes do not add up to its data");
          r->stop = true;
          return;
        }
      }
      uint64_t start = pos;
      pos += n;
      offset += n;
      if (pos <= r->from) continue;  // ends at or before `from`
      if (start >= r->to || (r->stop_at_gap && r->count == 0 && start > r->from)) {
        r->stop = true;
        return;
      }
      if (r->count > 0 && r->last_end != start) {
        r->status = Status::Corruption("hot rows are not contiguous");
        r->stop = true;
        return;
      }
      bool ends_append = i + 1 == nsizes ? last_in_append : false;
      if (r->body) {
        storage::AppendFrom(std::string_view(data + offset - n, n), start, r->from, r->body);
        *r->next = pos;
      } else {
        StoredMessage m;
        m.start = start;
        m.end = pos;
        m.data.assign(data + offset - n, n);
        m.last_in_append = ends_append;
        out->push_back(std::move(m));
      }
      *r->bytes += n;
      ++r->count;
      r->last_end = pos;
      if (*r->bytes >= r->max_bytes || (r->count >= r->max_count && ends_append)) {
        r->stop = true;
        return;
      }
    }
  }

  // The hot rows of [from, to): those in `messages`, then the log rows
  // `log` lists (BeginRead), in the caller's read transaction, or in one
  // statement's snapshot when `log` is empty. With `stop_at_gap`, returns
  // nothing when the first row starts after `from` (that part has been
  // rotated) rather than reading rows the caller drops. Stops after
  // `max_count` messages too, at the end of an append. With `body`, the
  // messages' bytes from `from` on are appended to *body (and *next set to
  // the end of the last) instead of messages to *out.
  Status ReadHot(ReadConn* conn, int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                 const std::vector<LogEntry>& log, std::vector<StoredMessage>* out, size_t* bytes,
                 bool stop_at_gap = true, size_t max_count = SIZE_MAX, std::string* body = nullptr,
                 uint64_t* next = nullptr) {
    HotRead r(from, to, max_bytes, max_count, stop_at_gap, out, bytes);
    r.body = body;
    r.next = next;
    sqlite3_stmt* q = conn->read.get();
    sqlite3_bind_int64(q, 1, stream_id);
    sqlite3_bind_int64(q, 2, static_cast<int64_t>(from));
    int rc = SQLITE_DONE;
    while (!r.stop && *bytes < max_bytes && (rc = sqlite3_step(q)) == SQLITE_ROW) TakeRow(&r, q);
    if (r.status.ok() && !r.stop && *bytes < max_bytes && rc != SQLITE_ROW && rc != SQLITE_DONE) {
      r.status = SqliteError(conn->db, rc, "read messages");
    }
    conn->read.Reset();
    // The log rows follow; one that is not in the snapshot ends it.
    q = conn->log_row.get();
    for (const LogEntry& e : log) {
      if (!r.status.ok() || r.stop || *bytes >= max_bytes) break;
      if (e.end <= from || (r.count > 0 && e.end <= r.last_end)) continue;
      sqlite3_bind_int64(q, 1, e.seq);
      rc = sqlite3_step(q);
      if (rc == SQLITE_ROW) {
        TakeRow(&r, q);
      } else if (rc != SQLITE_DONE) {
        r.status = SqliteError(conn->db, rc, "read the log");
      }
      conn->log_row.Reset();
      if (rc != SQLITE_ROW) break;
    }
    return r.status;
  }

  // In the caller's read transaction: the segments that cover [from, ...)
  // up to about max_bytes, then the hot rows after them.
  Status ReadBothTiers(ReadConn* conn, int64_t stream_id, uint64_t from, uint64_t to,
                       size_t max_bytes, const std::vector<LogEntry>& log,
                       std::vector<storage::SegmentInfo>* segments,
                       std::vector<StoredMessage>* out, size_t* bytes) {
    const size_t base = out->size();
    Status s;
    sqlite3_stmt* q = conn->segments.get();
    sqlite3_bind_int64(q, 1, stream_id);
    sqlite3_bind_int64(q, 2, static_cast<int64_t>(from));
    uint64_t covered = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      storage::SegmentInfo seg;
      seg.start = static_cast<uint64_t>(sqlite3_column_int64(q, 0));
      seg.end = static_cast<uint64_t>(sqlite3_column_int64(q, 1));
      seg.key = reinterpret_cast<const char*>(sqlite3_column_text(q, 2));
      seg.size = static_cast<uint64_t>(sqlite3_column_int64(q, 3));
      seg.messages = static_cast<uint64_t>(sqlite3_column_int64(q, 4));
      if (seg.start >= to) break;
      covered += seg.end - std::max(seg.start, from);
      segments->push_back(std::move(seg));
      if (covered >= max_bytes) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) s = SqliteError(conn->db, rc, "read segments");
    conn->segments.Reset();
    if (s.ok() && (segments->empty() || (covered < max_bytes && segments->back().end < to))) {
      uint64_t hot_from = segments->empty() ? from : segments->back().end;
      s = ReadHot(conn, stream_id, hot_from, to, max_bytes, log, out, bytes);
    }
    if (s.ok() && segments->empty() && out->size() == base) {
      s = Status::Corruption("no data for a position below the tail");
    }
    return s;
  }

  // Into *out, or with `body` as bytes into *body (see Read()).
  Status ReadSegments(const std::vector<storage::SegmentInfo>& segments, uint64_t from,
                      uint64_t to, size_t max_bytes, std::vector<StoredMessage>* out,
                      std::string* body, uint64_t* next, size_t* bytes) {
    if (!segment_reader_) {
      return Status::Unavailable("this stream's history is in segments, and no segment store "
                                 "is configured");
    }
    for (const storage::SegmentInfo& seg : segments) {
      if (*bytes >= max_bytes || seg.start >= to) break;
      Status s = body ? segment_reader_->ReadBytes(seg, from, to, max_bytes, body, next, bytes)
                      : segment_reader_->Read(seg, from, to, max_bytes, out, bytes);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  // ---- rotation ------------------------------------------------------------

  Status LoadHotState() {
    std::lock_guard<std::mutex> lock(tier_mu_);
    struct Query {
      const char* sql;
      int kind;
    };
    const Query queries[] = {
        {"SELECT id, path, closed FROM streams", 0},
        {"SELECT stream_id, sum(CASE WHEN sizes IS NULL THEN 1 ELSE length(sizes) / 4 END), "
         "sum(length(data)), min(end_pos - length(data)) "
         "FROM messages GROUP BY stream_id", 1},
        {"SELECT stream_id, max(end_pos) FROM segments GROUP BY stream_id", 2},
    };
    for (const Query& qq : queries) {
      Stmt st;
      Status s = st.Prepare(db_, qq.sql);
      if (!s.ok()) return s;
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        sqlite3_stmt* q = st.get();
        int64_t id = sqlite3_column_int64(q, 0);
        if (qq.kind == 0) {
          HotState& h = hot_[id];
          h.path = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
          h.closed = sqlite3_column_int(q, 2) != 0;
          continue;
        }
        auto it = hot_.find(id);
        if (it == hot_.end()) continue;
        if (qq.kind == 1) {
          it->second.messages = static_cast<uint64_t>(sqlite3_column_int64(q, 1));
          it->second.bytes = static_cast<uint64_t>(sqlite3_column_int64(q, 2));
          it->second.cold_end = static_cast<uint64_t>(sqlite3_column_int64(q, 3));
        } else {
          // A segment may end inside a batch row (a rotation capped by
          // size): the hot part begins where the segments end.
          uint64_t end = static_cast<uint64_t>(sqlite3_column_int64(q, 1));
          if (it->second.messages == 0 || end > it->second.cold_end) it->second.cold_end = end;
        }
      }
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "load the cold tier state");
    }
    return Status::OK();
  }

  bool NeedsRotation(const HotState& h) const {
    return h.messages >= max_messages_ || h.bytes >= max_bytes_ || (h.closed && h.messages > 0);
  }

  void NoteApplied(const WriteBatch& b) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(tier_mu_);
      for (int64_t id : b.delete_streams) hot_.erase(id);
      if (!b.delete_streams.empty()) wake = cleanup_pending_ = true;
      for (const StreamRecord& r : b.upsert_streams) {
        HotState& h = hot_[r.id];
        if (h.path.empty()) {
          h.path = r.path;
          h.cold_end = r.fork_source_id ? r.fork_offset : 0;
        }
        h.closed = r.closed;
        wake = wake || NeedsRotation(h);
      }
      for (const AppendRecord& a : b.appends) {
        auto it = hot_.find(a.stream_id);
        if (it == hot_.end()) continue;
        HotState& h = it->second;
        if (h.messages == 0) h.cold_end = a.start;
        h.messages += a.message_count();
        h.bytes += a.data.size();
        wake = wake || NeedsRotation(h);
      }
    }
    if (wake) tier_cv_.notify_one();
  }

  void RotationLoop() {
    std::chrono::milliseconds backoff(0);
    std::unique_lock<std::mutex> lock(tier_mu_);
    while (!stopping_) {
      if (backoff.count() > 0) {
        tier_cv_.wait_for(lock, backoff, [&] { return stopping_; });
        if (stopping_) break;
      }
      bool cleanup = cleanup_pending_;
      std::vector<std::pair<int64_t, HotState>> due;
      for (const auto& [sid, state] : hot_) {
        if (NeedsRotation(state)) due.emplace_back(sid, state);
      }
      auto has_work = [&] {
        if (stopping_ || cleanup_pending_) return true;
        for (const auto& entry : hot_) {
          if (NeedsRotation(entry.second)) return true;
        }
        return false;
      };
      if (!cleanup && due.empty() && !sealed_.empty()) {
        // Sealed segments wait for a group commit to record them; when
        // appends stop, none comes, and they are recorded here.
        backoff = std::chrono::milliseconds(0);
        if (tier_cv_.wait_for(lock, kSealedWait, [&] { return has_work() || sealed_.empty(); })) {
          continue;
        }
        std::vector<SealedSegment> sealed;
        sealed.swap(sealed_);
        lock.unlock();
        Status s = RecordSealed(&sealed);
        if (!s.ok()) RequeueSealed(&sealed);
        lock.lock();
        if (!s.ok()) {
          backoff = std::chrono::milliseconds(250);
          std::fprintf(stderr, "durablestreams: recording sealed segments deferred: %s\n",
                       s.ToString().c_str());
        }
        continue;
      }
      if (!cleanup && due.empty()) {
        backoff = std::chrono::milliseconds(0);
        tier_cv_.wait(lock, has_work);
        continue;
      }
      lock.unlock();
      Status s;
      if (cleanup) {
        bool more = false;
        s = CleanUp(&more);
        lock.lock();
        if (s.ok() && !more) cleanup_pending_ = false;
        lock.unlock();
      }
      if (s.ok() && !due.empty()) s = SealBatch(due);
      lock.lock();
      if (s.ok()) {
        backoff = std::chrono::milliseconds(0);
        // Let a busy stream's next segments gather, to be put together.
        if (!due.empty()) tier_cv_.wait_for(lock, kRotationPause, [&] { return stopping_; });
      } else {
        // The store is down or refusing: appends go on into the hot log;
        // try again later, backing off to 30 s.
        backoff = std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(30000),
            backoff.count() == 0 ? std::chrono::milliseconds(250) : backoff * 2);
        std::fprintf(stderr, "durablestreams: segment rotation deferred (retry in %lld ms): %s\n",
                     static_cast<long long>(backoff.count()), s.ToString().c_str());
      }
    }
  }

  // Seals the oldest hot messages of each stream in `due` into segments
  // (as many as are due, up to kSealBatchBytes in all), puts them in the
  // store together and queues their rows for the next group commit
  // (sealed_). The hot state moves past them at once, so the next segments
  // can follow before these are recorded; until then their rows stay
  // readable.
  Status SealBatch(const std::vector<std::pair<int64_t, HotState>>& due) {
    // Segments are cut from `messages` alone: fold the log first, so that
    // all the rows counted as due are there.
    Status folded = Fold();
    if (!folded.ok()) return folded;
    std::vector<SealedSegment> segs;
    std::vector<std::string> objects;
    size_t total = 0;
    for (auto [id, h] : due) {
      while (NeedsRotation(h) && total < kSealBatchBytes) {
        std::vector<StoredMessage> msgs;
        ReadConn* conn = AcquireReader();
        size_t bytes = 0;
        Status s = ReadHot(conn, id, h.cold_end, UINT64_MAX, max_bytes_, {}, &msgs, &bytes,
                           /*stop_at_gap=*/false, max_messages_);  // ends at an append's end
        ReleaseReader(conn);
        if (!s.ok()) return s;
        if (msgs.empty() || msgs.front().start != h.cold_end) {
          // Deleted meanwhile, or our count is off: recount from the database.
          std::lock_guard<std::mutex> lock(tier_mu_);
          auto it = hot_.find(id);
          if (it != hot_.end() && it->second.cold_end == h.cold_end) {
            if (msgs.empty()) {
              it->second.messages = it->second.bytes = 0;
            } else {
              it->second.cold_end = msgs.front().start;
            }
          }
          break;
        }
        SealedSegment seg;
        seg.stream_id = id;
        seg.start = msgs.front().start;
        seg.end = msgs.back().end;
        seg.messages = msgs.size();
        objects.push_back(storage::EncodeSegment(msgs));
        seg.object_size = objects.back().size();
        seg.key = storage::SegmentKey(h.path, id, seg.start);
        total += seg.object_size;
        MovePast(&h, seg);
        segs.push_back(std::move(seg));
      }
    }
    if (segs.empty()) return Status::OK();
    std::vector<SegmentObject> puts;
    for (size_t i = 0; i < segs.size(); ++i) puts.push_back({segs[i].key, objects[i]});
    Status s = store_->PutMany(puts, std::chrono::steady_clock::now() + std::chrono::seconds(60));
    if (!s.ok()) return s;
    if (faults_.after_put && (puts_ += static_cast<int>(segs.size())) >= faults_.after_put) {
      _exit(86);
    }
    std::lock_guard<std::mutex> lock(tier_mu_);
    for (SealedSegment& seg : segs) {
      auto it = hot_.find(seg.stream_id);
      if (it != hot_.end() && it->second.cold_end == seg.start) MovePast(&it->second, seg);
      sealed_.push_back(std::move(seg));
    }
    return Status::OK();
  }

  // The hot part of *h now begins after `seg`.
  static void MovePast(HotState* h, const SealedSegment& seg) {
    h->cold_end = seg.end;
    h->messages -= std::min<uint64_t>(h->messages, seg.messages);
    h->bytes -= std::min<uint64_t>(h->bytes, seg.end - seg.start);
  }

  // Step 2 of rotation inside the open transaction: the segments' rows in,
  // the rows they cover out. A stream deleted meanwhile is skipped: its
  // deletion queued the prefix for clean-up, which removes the object.
  Status RecordSealedInTransaction(const std::vector<SealedSegment>& sealed) {
    Status s;
    for (const SealedSegment& seg : sealed) {
      sqlite3_bind_int64(stream_path_->get(), 1, seg.stream_id);
      bool exists = sqlite3_step(stream_path_->get()) == SQLITE_ROW;
      stream_path_->Reset();
      if (!exists) continue;
      sqlite3_stmt* q = add_segment_->get();
      sqlite3_bind_int64(q, 1, seg.stream_id);
      sqlite3_bind_int64(q, 2, static_cast<int64_t>(seg.start));
      sqlite3_bind_int64(q, 3, static_cast<int64_t>(seg.end));
      sqlite3_bind_text(q, 4, seg.key.data(), static_cast<int>(seg.key.size()), SQLITE_STATIC);
      sqlite3_bind_int64(q, 5, static_cast<int64_t>(seg.object_size));
      sqlite3_bind_int64(q, 6, static_cast<int64_t>(seg.messages));
      s = add_segment_->Exec("record segment");
      if (!s.ok()) return s;
      sqlite3_bind_int64(drop_rotated_->get(), 1, seg.stream_id);
      sqlite3_bind_int64(drop_rotated_->get(), 2, static_cast<int64_t>(seg.end));
      s = drop_rotated_->Exec("drop rotated rows");
      if (!s.ok()) return s;
    }
    return s;
  }

  // The same inside Apply()'s transaction, undone alone if it fails.
  bool RecordSealedInSavepoint(const std::vector<SealedSegment>& sealed) {
    if (sqlite3_exec(db_, "SAVEPOINT seal", nullptr, nullptr, nullptr) != SQLITE_OK) return false;
    if (RecordSealedInTransaction(sealed).ok()) {
      return sqlite3_exec(db_, "RELEASE seal", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    sqlite3_exec(db_, "ROLLBACK TO seal", nullptr, nullptr, nullptr);
    sqlite3_exec(db_, "RELEASE seal", nullptr, nullptr, nullptr);
    return false;
  }

  // The rotation thread's own commit of *sealed, when no append brings one.
  Status RecordSealed(std::vector<SealedSegment>* sealed) {
    {
      std::lock_guard<std::mutex> write_lock(write_mu_);
      Status s = begin_->Exec("begin rotation");
      if (!s.ok()) return s;
      s = RecordSealedInTransaction(*sealed);
      if (s.ok()) s = commit_->Exec("commit rotation");
      if (!s.ok()) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return s;
      }
      CheckpointIfDue();
      NoteRecorded(sealed->size());
    }
    sealed->clear();
    return Status::OK();
  }

  // Puts *sealed back at the head of the queue (a commit failed).
  void RequeueSealed(std::vector<SealedSegment>* sealed) {
    if (sealed->empty()) return;
    std::lock_guard<std::mutex> lock(tier_mu_);
    sealed_.insert(sealed_.begin(), std::make_move_iterator(sealed->begin()),
                   std::make_move_iterator(sealed->end()));
    sealed->clear();
  }

  // After a commit that recorded n sealed segments (write_mu_ held).
  void NoteRecorded(size_t n) {
    if (faults_.after_commit && (commits_ += static_cast<int>(n)) >= faults_.after_commit) {
      _exit(86);
    }
    tier_cv_.notify_one();
  }

  // Removes the objects of deleted streams. *more: rows remain.
  Status CleanUp(bool* more) {
    std::vector<std::string> prefixes;
    {
      std::lock_guard<std::mutex> write_lock(write_mu_);
      int rc;
      while ((rc = sqlite3_step(list_cleanup_->get())) == SQLITE_ROW) {
        prefixes.emplace_back(
            reinterpret_cast<const char*>(sqlite3_column_text(list_cleanup_->get(), 0)));
      }
      list_cleanup_->Reset();
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "list segment cleanup");
    }
    *more = prefixes.size() == 64;
    for (const std::string& prefix : prefixes) {
      Deadline deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      std::vector<std::string> keys;
      Status s = store_->List(prefix, &keys, deadline);
      for (size_t i = 0; s.ok() && i < keys.size(); ++i) s = store_->Delete(keys[i], deadline);
      if (!s.ok()) return s;
      segment_reader_->Forget(prefix);
      std::lock_guard<std::mutex> write_lock(write_mu_);
      sqlite3_bind_text(del_cleanup_->get(), 1, prefix.data(), static_cast<int>(prefix.size()),
                        SQLITE_STATIC);
      s = del_cleanup_->Exec("finish segment cleanup");
      if (!s.ok()) return s;
    }
    return Status::OK();
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

  // The write connection: the commit thread's, and the rotation thread's
  // under write_mu_ (so everything after Open() takes write_mu_).
  sqlite3* db_ = nullptr;
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
  Stmt* stream_path_ = nullptr;
  Stmt* del_segments_ = nullptr;
  Stmt* add_cleanup_ = nullptr;
  Stmt* add_segment_ = nullptr;
  Stmt* drop_rotated_ = nullptr;
  Stmt* insert_log_ = nullptr;
  Stmt* del_log_row_ = nullptr;
  Stmt* fold_copy_ = nullptr;
  Stmt* fold_clear_ = nullptr;
  Stmt* set_gen_ = nullptr;
  Stmt* list_cleanup_ = nullptr;
  Stmt* del_cleanup_ = nullptr;

  std::vector<std::unique_ptr<ReadConn>> readers_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<ReadConn*> free_readers_;  // guarded by readers_mu_

  // Apply() and the rotation thread's transactions share the write
  // connection under write_mu_.
  std::mutex write_mu_;

  // The index in memory of the log: each stream's log rows in order. Changed
  // after a commit, under both write_mu_ and log_mu_; so a writer reads it
  // under write_mu_ alone, and a reader under log_mu_.
  std::mutex log_mu_;
  std::unordered_map<int64_t, std::vector<LogEntry>> log_index_;
  size_t log_rows_ = 0;   // in log_index_
  size_t log_bytes_ = 0;  // appended to the log since it was last folded
  int64_t log_gen_ = 0;   // log_state.gen as of the last commit

  // The cold tier (null store: none).
  std::shared_ptr<SegmentStore> store_;
  size_t max_messages_ = 1000;
  int checkpoint_at_ = kCheckpointFrames;  // WAL frames; write_mu_ (or Open)
  int wal_frames_ = 0;                      // after the last commit; write_mu_ (or Open)
  bool restart_retry_ = false;              // the last RESTART failed; write_mu_
  std::chrono::steady_clock::time_point ckpt_wait_until_;  // CheckpointBusy; write_mu_
  // The checkpoint thread and its connection (CheckpointIfDue).
  enum class CkptState { kIdle, kWanted, kCopying, kCopied };
  sqlite3* ckpt_db_ = nullptr;
  std::thread checkpointer_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  CkptState ckpt_state_ = CkptState::kIdle;  // guarded by ckpt_mu_
  // From just before the thread starts until the destructor stops it.
  bool ckpt_running_ = false;                // guarded by ckpt_mu_
  size_t max_bytes_ = 4 * 1024 * 1024;
  std::unique_ptr<storage::SegmentReader> segment_reader_;
  FaultPlan faults_;
  SqliteTestHooks hooks_;
  int puts_ = 0;     // rotation thread only
  int commits_ = 0;  // guarded by write_mu_
  std::thread rotator_;
  std::mutex tier_mu_;
  std::condition_variable tier_cv_;
  std::unordered_map<int64_t, HotState> hot_;  // guarded by tier_mu_
  bool cleanup_pending_ = true;                // guarded by tier_mu_
  std::vector<SealedSegment> sealed_;          // guarded by tier_mu_, oldest first
  // How long sealed segments wait for a group commit before the rotation
  // thread records them itself, and how many one group commit records.
  static constexpr std::chrono::milliseconds kSealedWait{20};
  static constexpr size_t kSealedPerCommit = 8;
  // The pause after a rotation pass, and the most one pass seals.
  static constexpr std::chrono::milliseconds kRotationPause{10};
  static constexpr size_t kSealBatchBytes = 32 << 20;
  bool stopping_ = false;                      // guarded by tier_mu_
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
