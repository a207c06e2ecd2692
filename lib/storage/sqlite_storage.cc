// lib/storage/sqlite_storage.cc: opening (with recovery) and closing the
// SQLite hot log, Load(), and the writer's prepared statements. The design
// is described in sqlite_storage_impl.h.
#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>

#include "storage/sqlite_storage_impl.h"

namespace durablestreams {
namespace storage {

SqliteStorage::~SqliteStorage() {
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

Status SqliteStorage::Open(const std::string& path, const SqliteStorageOptions& options) {
  hooks_ = options.test_hooks;
  wal_path_ = path + "-wal";
  sync_full_ = options.sync == SyncMode::kFull;
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
    rc = sqlite3_open_v2(path.c_str(), &conn->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, vfs);
    if (rc != SQLITE_OK) return SqliteError(conn->db, rc, "open reader");
    sqlite3_busy_timeout(conn->db, kBusyTimeoutMs);
    s = conn->read.Prepare(
        conn->db,
        "SELECT end_pos, data, last_in_append, sizes FROM messages WHERE stream_id=?1 AND "
        "end_pos>?2 ORDER BY end_pos");
    if (s.ok()) {
      s = conn->log_row.Prepare(
          conn->db, "SELECT end_pos, data, last_in_append, sizes FROM log WHERE seq=?1");
    }
    if (s.ok()) s = conn->gen.Prepare(conn->db, "SELECT gen FROM log_state WHERE id=0");
    if (s.ok()) {
      s = conn->segments.Prepare(
          conn->db,
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
  rc = sqlite3_open_v2(path.c_str(), &ckpt_db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc != SQLITE_OK) return SqliteError(ckpt_db_, rc, "open the checkpoint connection");
  sqlite3_busy_timeout(ckpt_db_, kBusyTimeoutMs);
  std::string setup =
      std::string("PRAGMA synchronous=") + sync + "; SELECT count(*) FROM sqlite_master";
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
  key_tag_ = options.segment_key_tag;
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

Status SqliteStorage::Load(LoadedState* out) {
  // The rotation thread is running already and shares the connection.
  std::lock_guard<std::mutex> write_lock(write_mu_);
  Stmt s;
  Status st =
      s.Prepare(db_,
                "SELECT id, path, content_type, ttl_seconds, expires_at_ms, "
                "created_at_ms, last_access_ms, closed, tail, last_stream_seq, "
                "closed_by_producer, closed_by_epoch, closed_by_seq, fork_source_id, forked_from, "
                "fork_anchor, fork_sub_offset, fork_offset, soft_deleted, public_read, reader_key, "
                "estuary FROM streams");
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
    r.public_read = sqlite3_column_int(q, 19) != 0;
    r.reader_key = reinterpret_cast<const char*>(sqlite3_column_text(q, 20));
    r.estuary = sqlite3_column_int(q, 21) != 0;
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
  Stmt l;
  st = l.Prepare(db_, "SELECT source_id, target_id, subscribed_at_ms FROM fanout");
  if (!st.ok()) return st;
  while ((rc = sqlite3_step(l.get())) == SQLITE_ROW) {
    FanoutLink link;
    link.source_id = sqlite3_column_int64(l.get(), 0);
    link.target_id = sqlite3_column_int64(l.get(), 1);
    link.subscribed_at_ms = sqlite3_column_int64(l.get(), 2);
    out->links.push_back(link);
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "load fan-out links");
  return Status::OK();
}

Stmt* SqliteStorage::Prepare(const char* sql, Status* s) {
  stmts_.push_back(std::make_unique<Stmt>());
  if (s->ok()) *s = stmts_.back()->Prepare(db_, sql);
  return stmts_.back().get();
}

Status SqliteStorage::PrepareWriter() {
  Status s;
  begin_ = Prepare("BEGIN IMMEDIATE", &s);
  commit_ = Prepare("COMMIT", &s);
  del_stream_ = Prepare("DELETE FROM streams WHERE id=?1", &s);
  del_messages_ = Prepare("DELETE FROM messages WHERE stream_id=?1", &s);
  del_producers_ = Prepare("DELETE FROM producers WHERE stream_id=?1", &s);
  del_producer_ = Prepare("DELETE FROM producers WHERE stream_id=?1 AND producer_id=?2", &s);
  del_links_from_ = Prepare("DELETE FROM fanout WHERE source_id=?1", &s);
  del_links_to_ = Prepare("DELETE FROM fanout WHERE target_id=?1", &s);
  del_link_ = Prepare("DELETE FROM fanout WHERE source_id=?1 AND target_id=?2", &s);
  add_link_ = Prepare(
      "INSERT OR REPLACE INTO fanout (source_id, target_id, subscribed_at_ms) VALUES (?1,?2,?3)",
      &s);
  upsert_stream_ = Prepare(
      // An update in place that leaves `path` (and so its index) alone: a
      // stream's path never changes. REPLACE would delete and reinsert the
      // row and its index entry on every append.
      "INSERT INTO streams (id, path, content_type, ttl_seconds, expires_at_ms, "
      "created_at_ms, last_access_ms, closed, tail, last_stream_seq, closed_by_producer, "
      "closed_by_epoch, closed_by_seq, fork_source_id, forked_from, fork_anchor, "
      "fork_sub_offset, fork_offset, soft_deleted, public_read, reader_key, estuary) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22) "
      "ON CONFLICT(id) DO UPDATE SET content_type=excluded.content_type, "
      "ttl_seconds=excluded.ttl_seconds, expires_at_ms=excluded.expires_at_ms, "
      "created_at_ms=excluded.created_at_ms, last_access_ms=excluded.last_access_ms, "
      "closed=excluded.closed, tail=excluded.tail, last_stream_seq=excluded.last_stream_seq, "
      "closed_by_producer=excluded.closed_by_producer, closed_by_epoch=excluded.closed_by_epoch, "
      "closed_by_seq=excluded.closed_by_seq, fork_source_id=excluded.fork_source_id, "
      "forked_from=excluded.forked_from, fork_anchor=excluded.fork_anchor, "
      "fork_sub_offset=excluded.fork_sub_offset, fork_offset=excluded.fork_offset, "
      "soft_deleted=excluded.soft_deleted, public_read=excluded.public_read, "
      "reader_key=excluded.reader_key, estuary=excluded.estuary",
      &s);
  upsert_producer_ = Prepare(
      "INSERT OR REPLACE INTO producers (stream_id, producer_id, epoch, last_seq, "
      "updated_at_ms) VALUES (?1,?2,?3,?4,?5)",
      &s);
  insert_message_ = Prepare(
      "INSERT INTO messages (stream_id, end_pos, data, last_in_append, sizes) "
      "VALUES (?1,?2,?3,?4,?5)",
      &s);
  touch_ = Prepare("UPDATE streams SET last_access_ms=?2 WHERE id=?1", &s);
  stream_path_ = Prepare("SELECT path FROM streams WHERE id=?1", &s);
  del_segments_ = Prepare("DELETE FROM segments WHERE stream_id=?1", &s);
  // A key ends in "<start, 20 digits>.dsseg" (26 bytes) after its prefix.
  segment_dirs_ = Prepare(
      "SELECT DISTINCT substr(object_key, 1, length(object_key) - 26) FROM segments "
      "WHERE stream_id=?1",
      &s);
  add_cleanup_ = Prepare("INSERT OR IGNORE INTO segment_cleanup (prefix) VALUES (?1)", &s);
  add_segment_ = Prepare(
      "INSERT OR REPLACE INTO segments (stream_id, start_pos, end_pos, object_key, "
      "object_size, messages, crc32c) VALUES (?1,?2,?3,?4,?5,?6,?7)",
      &s);
  drop_rotated_ = Prepare("DELETE FROM messages WHERE stream_id=?1 AND end_pos<=?2", &s);
  insert_log_ = Prepare(
      "INSERT INTO log (stream_id, end_pos, data, last_in_append, sizes) "
      "VALUES (?1,?2,?3,?4,?5)",
      &s);
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

// Recovery at open, before any thread of ours runs (so nothing here may
// wait for one): SQLite has already rolled back a commit torn by a crash
// and rebuilt its index of the WAL; this reads the log's generation, folds
// the rows a crash left in the log (its index in memory is then empty
// until appends come), and copies the WAL into the database and truncates
// it, so that the server starts with an empty WAL. Its time is bounded by
// the WAL's size and the log's (at most kFoldRows rows or kFoldBytes, plus
// one batch), docs/reliability.md.
Status SqliteStorage::Recover() {
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

StorageStats SqliteStorage::Stats() {
  StorageStats st;
  st.commits = commits_.load(std::memory_order_relaxed);
  st.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  st.checkpoints = checkpoints_.load(std::memory_order_relaxed);
  st.rotations = rotations_.load(std::memory_order_relaxed);
  st.segments_uploaded = segments_uploaded_.load(std::memory_order_relaxed);
  st.segments_sealed = segments_sealed_.load(std::memory_order_relaxed);
  st.cold_errors = cold_errors_.load(std::memory_order_relaxed);
  struct stat wal;
  if (::stat(wal_path_.c_str(), &wal) == 0) st.wal_bytes = static_cast<uint64_t>(wal.st_size);
  return st;
}

}  // namespace storage

Result<std::shared_ptr<Storage>> OpenSqliteStorage(const std::string& db_path,
                                                   const SqliteStorageOptions& options) {
  auto opened = std::make_shared<storage::SqliteStorage>();
  Status s = opened->Open(db_path, options);
  if (!s.ok()) return s;
  return std::shared_ptr<Storage>(std::move(opened));
}

}  // namespace durablestreams
