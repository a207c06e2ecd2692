// lib/storage/sqlite_read.cc: reads of a stream's messages across
// the append log, `messages` and the segments of the cold tier.
#include <algorithm>

#include "storage/message_bytes.h"
#include "storage/segment_format.h"
#include "storage/sqlite_storage_impl.h"

namespace durablestreams::storage {

Status SqliteStorage::ReadMessages(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                                   std::vector<StoredMessage>* out) {
  return Read(stream_id, from, to, max_bytes, out, nullptr, nullptr);
}

Status SqliteStorage::ReadBytes(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                                std::string* body, uint64_t* next) {
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

// ReadMessages(), or with `body` the first part of ReadBytes(): the bytes
// of a read of hot rows alone, or of the segments of a read that needs
// them, are appended to *body straight from SQLite's row or the segment
// cache (and *next set); only hot messages after segments go to *out.
Status SqliteStorage::Read(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
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
    status =
        ReadHot(conn, stream_id, from, to, max_bytes, log, out, &bytes, true, SIZE_MAX, body, next);
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

// Starts a read transaction on `conn` whose snapshot agrees with the index
// in memory, and copies stream_id's log rows that end after `from`. A fold
// or deletion that committed after the snapshot was taken, or before but
// not yet published, shows as another generation: then start again.
// Rows appended after the snapshot may be listed; they are not found in
// it, and the read stops there.
Status SqliteStorage::BeginRead(ReadConn* conn, int64_t stream_id, uint64_t from,
                                std::vector<LogEntry>* rows) {
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

// Takes the messages of one hot row (the row's messages are in order;
// one unless it is a batch) that fall in the read's range.
void SqliteStorage::TakeRow(HotRead* r, sqlite3_stmt* q) {
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
          static_cast<size_t>(sizes[4 * i + 2]) << 16 | static_cast<size_t>(sizes[4 * i + 3]) << 24;
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
Status SqliteStorage::ReadHot(ReadConn* conn, int64_t stream_id, uint64_t from, uint64_t to,
                              size_t max_bytes, const std::vector<LogEntry>& log,
                              std::vector<StoredMessage>* out, size_t* bytes, bool stop_at_gap,
                              size_t max_count, std::string* body, uint64_t* next) {
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
Status SqliteStorage::ReadBothTiers(ReadConn* conn, int64_t stream_id, uint64_t from, uint64_t to,
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
Status SqliteStorage::ReadSegments(const std::vector<storage::SegmentInfo>& segments, uint64_t from,
                                   uint64_t to, size_t max_bytes, std::vector<StoredMessage>* out,
                                   std::string* body, uint64_t* next, size_t* bytes) {
  if (!segment_reader_) {
    return Status::Unavailable(
        "this stream's history is in segments, and no segment store "
        "is configured");
  }
  for (const storage::SegmentInfo& seg : segments) {
    if (*bytes >= max_bytes || seg.start >= to) break;
    Status s = body ? segment_reader_->ReadBytes(seg, from, to, max_bytes, body, next, bytes)
                    : segment_reader_->Read(seg, from, to, max_bytes, out, bytes);
    if (!s.ok()) {
      cold_errors_.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
  }
  return Status::OK();
}

// Counts the stream's hot rows (in `messages` and the log) and lists its
// segments, in one read transaction of a reader connection.
Status SqliteStorage::Describe(int64_t stream_id, StreamStorageInfo* out) {
  *out = StreamStorageInfo();
  ReadConn* conn = AcquireReader();
  struct Release {
    SqliteStorage* self;
    ReadConn* c;
    ~Release() {
      sqlite3_exec(c->db, "ROLLBACK", nullptr, nullptr, nullptr);
      self->ReleaseReader(c);
    }
  } release{this, conn};
  Status s = conn->begin.Exec("begin");
  if (!s.ok()) return s;
  const char* const counts[] = {
      "SELECT count(*), coalesce(sum(CASE WHEN sizes IS NULL THEN 1 ELSE length(sizes) / 4 END), "
      "0), coalesce(sum(length(data)), 0) FROM messages WHERE stream_id=?1",
      "SELECT count(*), coalesce(sum(CASE WHEN sizes IS NULL THEN 1 ELSE length(sizes) / 4 END), "
      "0), coalesce(sum(length(data)), 0) FROM log WHERE stream_id=?1",
  };
  for (const char* sql : counts) {
    Stmt q;
    s = q.Prepare(conn->db, sql);
    if (!s.ok()) return s;
    sqlite3_bind_int64(q.get(), 1, stream_id);
    int rc = sqlite3_step(q.get());
    if (rc != SQLITE_ROW) return SqliteError(conn->db, rc, "count hot rows");
    out->hot_messages += static_cast<uint64_t>(sqlite3_column_int64(q.get(), 1));
    out->hot_bytes += static_cast<uint64_t>(sqlite3_column_int64(q.get(), 2));
  }
  Stmt q;
  s = q.Prepare(conn->db,
                "SELECT start_pos, end_pos, object_key, object_size, messages, crc32c "
                "FROM segments WHERE stream_id=?1 ORDER BY end_pos");
  if (!s.ok()) return s;
  sqlite3_bind_int64(q.get(), 1, stream_id);
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    SegmentDescription d;
    d.start = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 0));
    d.end = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 1));
    d.key = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 2));
    d.object_bytes = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 3));
    d.messages = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 4));
    if (sqlite3_column_type(q.get(), 5) != SQLITE_NULL) {
      d.crc32c = static_cast<uint32_t>(sqlite3_column_int64(q.get(), 5));
    }
    out->segments.push_back(std::move(d));
  }
  if (rc != SQLITE_DONE) return SqliteError(conn->db, rc, "list segments");
  return Status::OK();
}

ReadConn* SqliteStorage::AcquireReader() {
  std::unique_lock<std::mutex> lock(readers_mu_);
  readers_cv_.wait(lock, [&] { return !free_readers_.empty(); });
  ReadConn* c = free_readers_.back();
  free_readers_.pop_back();
  return c;
}

void SqliteStorage::ReleaseReader(ReadConn* c) {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    free_readers_.push_back(c);
  }
  readers_cv_.notify_one();
}

}  // namespace durablestreams::storage
