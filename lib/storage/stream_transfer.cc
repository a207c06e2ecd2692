// lib/storage/stream_transfer.cc: ExportStream and AdoptStream
// (stream_transfer.h), straight on a stopped node's streams.db. The
// manifest's format is in docs/format.md ("Stream manifests").
#include "durablestreams/stream_transfer.h"

#include <sqlite3.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <vector>

#include "storage/crc32c.h"
#include "storage/segment_format.h"
#include "storage/sqlite_stmt.h"

namespace durablestreams {

namespace {

constexpr std::string_view kFormat = "durable-streams-stream/1";

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(60); }

// One connection, in one IMMEDIATE transaction until Commit().
class Db {
 public:
  ~Db() {
    if (db_) {
      if (open_tx_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(db_);
    }
  }
  Status Open(const std::string& path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) {
      return rc == SQLITE_CANTOPEN ? Status::NotFound("no database at " + path)
                                   : storage::SqliteError(db_, rc, "open " + path);
    }
    sqlite3_busy_timeout(db_, 0);
    rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      Status s = storage::SqliteError(db_, rc, "lock " + path);
      if (s.code() == StatusCode::kBusy) {
        return Status::Busy(path + " is in use: stop the node that serves it first");
      }
      return s;
    }
    open_tx_ = true;
    sqlite3_stmt* q = Query("PRAGMA user_version");
    int version = q && sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    sqlite3_finalize(q);
    if (version != storage::kSchemaVersion) {
      return Status::InvalidArgument(
          "streams.db is at schema version " + std::to_string(version) + ", not " +
          std::to_string(storage::kSchemaVersion) + ": start and stop this version of the server on it");
    }
    return Status::OK();
  }
  // A prepared statement the caller finalizes; null on error (see Error()).
  sqlite3_stmt* Query(const char* sql) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &q, nullptr) != SQLITE_OK) return nullptr;
    return q;
  }
  Status Error(const char* what) { return storage::SqliteError(db_, sqlite3_errcode(db_), what); }
  Status Exec(sqlite3_stmt* q, const char* what) {
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? Status::OK() : Error(what);
  }
  Status Commit() {
    int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return storage::SqliteError(db_, rc, "commit");
    open_tx_ = false;
    return Status::OK();
  }

 private:
  sqlite3* db_ = nullptr;
  bool open_tx_ = false;
};

void BindText(sqlite3_stmt* q, int i, std::string_view v) {
  sqlite3_bind_text(q, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
std::string ColumnText(sqlite3_stmt* q, int i) {
  const unsigned char* t = sqlite3_column_text(q, i);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(q, i)))
           : std::string();
}
std::optional<int64_t> ColumnOptional(sqlite3_stmt* q, int i) {
  if (sqlite3_column_type(q, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(q, i);
}

// What a manifest holds.
struct Manifest {
  std::string path, content_type, last_stream_seq, reader_key;
  std::optional<int64_t> ttl_seconds, expires_at_ms;
  int64_t created_at_ms = 0, last_access_ms = 0;
  bool closed = false, public_read = false;
  uint64_t tail = 0;
  std::optional<std::string> closed_by_producer;
  int64_t closed_by_epoch = 0, closed_by_seq = 0;
  struct Producer {
    std::string id;
    int64_t epoch = 0, last_seq = 0, updated_at_ms = 0;
  };
  std::vector<Producer> producers;
  std::vector<SegmentDescription> segments;
};

void JsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}
void JsonOptional(std::string* out, const std::optional<int64_t>& v) {
  *out += v ? std::to_string(*v) : "null";
}

std::string Encode(const Manifest& m) {
  std::string o = "{\"format\":";
  JsonString(&o, kFormat);
  o += ",\"path\":";
  JsonString(&o, m.path);
  o += ",\"contentType\":";
  JsonString(&o, m.content_type);
  o += ",\"ttlSeconds\":";
  JsonOptional(&o, m.ttl_seconds);
  o += ",\"expiresAtMs\":";
  JsonOptional(&o, m.expires_at_ms);
  o += ",\"createdAtMs\":" + std::to_string(m.created_at_ms);
  o += ",\"lastAccessMs\":" + std::to_string(m.last_access_ms);
  o += ",\"closed\":" + std::string(m.closed ? "true" : "false");
  o += ",\"tail\":" + std::to_string(m.tail);
  o += ",\"lastStreamSeq\":";
  JsonString(&o, m.last_stream_seq);
  o += ",\"closedByProducer\":";
  if (m.closed_by_producer) {
    JsonString(&o, *m.closed_by_producer);
  } else {
    o += "null";
  }
  o += ",\"closedByEpoch\":" + std::to_string(m.closed_by_epoch);
  o += ",\"closedBySeq\":" + std::to_string(m.closed_by_seq);
  o += ",\"publicRead\":" + std::string(m.public_read ? "true" : "false");
  o += ",\"readerKey\":";
  JsonString(&o, m.reader_key);
  o += ",\"producers\":[";
  for (size_t i = 0; i < m.producers.size(); ++i) {
    const Manifest::Producer& p = m.producers[i];
    o += i ? ",{\"id\":" : "{\"id\":";
    JsonString(&o, p.id);
    o += ",\"epoch\":" + std::to_string(p.epoch) + ",\"lastSeq\":" + std::to_string(p.last_seq) +
         ",\"updatedAtMs\":" + std::to_string(p.updated_at_ms) + "}";
  }
  o += "],\"segments\":[";
  for (size_t i = 0; i < m.segments.size(); ++i) {
    const SegmentDescription& s = m.segments[i];
    o += i ? ",{\"key\":" : "{\"key\":";
    JsonString(&o, s.key);
    o += ",\"start\":" + std::to_string(s.start) + ",\"end\":" + std::to_string(s.end) +
         ",\"objectBytes\":" + std::to_string(s.object_bytes) +
         ",\"messages\":" + std::to_string(s.messages) + ",\"crc32c\":";
    o += s.crc32c ? std::to_string(*s.crc32c) : "null";
    o += "}";
  }
  o += "]}\n";
  return o;
}

Status Decode(const std::string& text, Manifest* m) {
  using namespace simdjson;
  ondemand::parser parser;
  padded_string padded(text);
  auto bad = [](const char* what) {
    return Status::Corruption(std::string("the manifest's ") + what + " is missing or malformed");
  };
  ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return bad("JSON");
  ondemand::object root;
  if (doc.get_object().get(root)) return bad("object");
  auto str = [](ondemand::value v, std::string* out) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    *out = std::string(s);
    return true;
  };
  auto opt = [](ondemand::value v, std::optional<int64_t>* out) {
    bool is_null = false;
    if (v.is_null().get(is_null)) return false;
    if (is_null) {
      *out = std::nullopt;
      return true;
    }
    int64_t n;
    if (v.get_int64().get(n)) return false;
    *out = n;
    return true;
  };
  bool format_ok = false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad("keys");
    ondemand::value v;
    if (field.value().get(v)) return bad("values");
    bool ok = true;
    uint64_t u = 0;
    if (key == "format") {
      std::string f;
      ok = str(v, &f) && f == kFormat;
      format_ok = ok;
    } else if (key == "path") {
      ok = str(v, &m->path);
    } else if (key == "contentType") {
      ok = str(v, &m->content_type);
    } else if (key == "ttlSeconds") {
      ok = opt(v, &m->ttl_seconds);
    } else if (key == "expiresAtMs") {
      ok = opt(v, &m->expires_at_ms);
    } else if (key == "createdAtMs") {
      ok = !v.get_int64().get(m->created_at_ms);
    } else if (key == "lastAccessMs") {
      ok = !v.get_int64().get(m->last_access_ms);
    } else if (key == "closed") {
      ok = !v.get_bool().get(m->closed);
    } else if (key == "tail") {
      ok = !v.get_uint64().get(u);
      m->tail = u;
    } else if (key == "lastStreamSeq") {
      ok = str(v, &m->last_stream_seq);
    } else if (key == "closedByProducer") {
      bool is_null = false;
      ok = !v.is_null().get(is_null);
      if (ok && !is_null) {
        std::string p;
        ok = str(v, &p);
        m->closed_by_producer = p;
      }
    } else if (key == "closedByEpoch") {
      ok = !v.get_int64().get(m->closed_by_epoch);
    } else if (key == "closedBySeq") {
      ok = !v.get_int64().get(m->closed_by_seq);
    } else if (key == "publicRead") {
      ok = !v.get_bool().get(m->public_read);
    } else if (key == "readerKey") {
      ok = str(v, &m->reader_key);
    } else if (key == "producers" || key == "segments") {
      ondemand::array items;
      ok = !v.get_array().get(items);
      for (auto item_result : items) {
        ondemand::object item;
        if (!ok || item_result.get_object().get(item)) return bad(std::string(key).c_str());
        Manifest::Producer p;
        SegmentDescription s;
        bool has_key = false;
        for (auto f : item) {
          std::string_view k;
          ondemand::value iv;
          if (f.unescaped_key().get(k) || f.value().get(iv)) return bad(std::string(key).c_str());
          bool iok = true;
          if (k == "id" || k == "key") {
            iok = str(iv, k == "id" ? &p.id : &s.key);
            has_key = true;
          } else if (k == "epoch") {
            iok = !iv.get_int64().get(p.epoch);
          } else if (k == "lastSeq") {
            iok = !iv.get_int64().get(p.last_seq);
          } else if (k == "updatedAtMs") {
            iok = !iv.get_int64().get(p.updated_at_ms);
          } else if (k == "start") {
            iok = !iv.get_uint64().get(s.start);
          } else if (k == "end") {
            iok = !iv.get_uint64().get(s.end);
          } else if (k == "objectBytes") {
            iok = !iv.get_uint64().get(s.object_bytes);
          } else if (k == "messages") {
            iok = !iv.get_uint64().get(s.messages);
          } else if (k == "crc32c") {
            std::optional<int64_t> c;
            iok = opt(iv, &c);
            if (c) s.crc32c = static_cast<uint32_t>(*c);
          }
          if (!iok) return bad(std::string(key).c_str());
        }
        if (!has_key) return bad(std::string(key).c_str());
        if (key == "producers") {
          m->producers.push_back(std::move(p));
        } else {
          m->segments.push_back(std::move(s));
        }
      }
    }
    if (!ok) return bad(std::string(key).c_str());
  }
  if (!format_ok) return bad("format");
  // The segments must tile [0, tail).
  uint64_t at = 0;
  for (const SegmentDescription& s : m->segments) {
    if (s.start != at || s.end <= s.start) return bad("segments");
    at = s.end;
  }
  if (at != m->tail) return bad("segments");
  return Status::OK();
}

// The hot messages of `id` from `from` on, as stored (log and messages).
Status ReadHot(Db& db, int64_t id, uint64_t from, std::vector<StoredMessage>* out) {
  sqlite3_stmt* q = db.Query(
      "SELECT end_pos, data, last_in_append, sizes FROM messages WHERE stream_id=?1 AND "
      "end_pos>?2 UNION ALL SELECT end_pos, data, last_in_append, sizes FROM log WHERE "
      "stream_id=?1 AND end_pos>?2 ORDER BY 1");
  if (!q) return db.Error("read hot rows");
  sqlite3_bind_int64(q, 1, id);
  sqlite3_bind_int64(q, 2, static_cast<int64_t>(from));
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    uint64_t end = static_cast<uint64_t>(sqlite3_column_int64(q, 0));
    const char* data = static_cast<const char*>(sqlite3_column_blob(q, 1));
    size_t len = static_cast<size_t>(sqlite3_column_bytes(q, 1));
    bool last = sqlite3_column_int(q, 2) != 0;
    std::vector<uint32_t> sizes;
    if (sqlite3_column_type(q, 3) != SQLITE_NULL) {
      const unsigned char* b = static_cast<const unsigned char*>(sqlite3_column_blob(q, 3));
      size_t n = static_cast<size_t>(sqlite3_column_bytes(q, 3)) / 4;
      for (size_t i = 0; i < n; ++i) {
        sizes.push_back(b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) |
                        (static_cast<uint32_t>(b[4 * i + 3]) << 24));
      }
    } else {
      sizes.push_back(static_cast<uint32_t>(len));
    }
    uint64_t pos = end - len;
    size_t offset = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      StoredMessage m;
      m.start = pos;
      m.end = pos + sizes[i];
      m.data.assign(data + offset, sizes[i]);
      m.last_in_append = i + 1 == sizes.size() ? last : false;
      pos = m.end;
      offset += sizes[i];
      if (m.end > from) out->push_back(std::move(m));
    }
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return db.Error("read hot rows");
  return Status::OK();
}

}  // namespace

std::string TransferManifestKey(std::string_view path) {
  // The segment prefix's encoding of the path: "streams/<enc>/0/" -> <enc>.
  std::string prefix = storage::SegmentKeyPrefix(path, 0);
  std::string enc = prefix.substr(8, prefix.size() - 8 - 3);
  return "moves/" + enc + ".json";
}

Result<TransferSummary> ExportStream(const TransferOptions& options, std::string_view path) {
  if (!options.store) return Status::InvalidArgument("moving a stream needs the shared segment store");
  Db db;
  Status s = db.Open(options.db_path);
  if (!s.ok()) return s;
  Manifest m;
  m.path = std::string(path);
  int64_t id = 0;
  {
    sqlite3_stmt* q = db.Query(
        "SELECT id, content_type, ttl_seconds, expires_at_ms, created_at_ms, last_access_ms, "
        "closed, tail, last_stream_seq, closed_by_producer, closed_by_epoch, closed_by_seq, "
        "fork_source_id, soft_deleted, public_read, reader_key, estuary, "
        "(SELECT count(*) FROM streams f WHERE f.fork_source_id = streams.id), "
        "(SELECT count(*) FROM fanout WHERE source_id = streams.id OR target_id = streams.id) "
        "FROM streams WHERE path=?1");
    if (!q) return db.Error("find the stream");
    BindText(q, 1, path);
    if (sqlite3_step(q) != SQLITE_ROW) {
      sqlite3_finalize(q);
      return Status::NotFound("no stream " + std::string(path) + " here");
    }
    id = sqlite3_column_int64(q, 0);
    m.content_type = ColumnText(q, 1);
    m.ttl_seconds = ColumnOptional(q, 2);
    m.expires_at_ms = ColumnOptional(q, 3);
    m.created_at_ms = sqlite3_column_int64(q, 4);
    m.last_access_ms = sqlite3_column_int64(q, 5);
    m.closed = sqlite3_column_int(q, 6) != 0;
    m.tail = static_cast<uint64_t>(sqlite3_column_int64(q, 7));
    m.last_stream_seq = ColumnText(q, 8);
    if (sqlite3_column_type(q, 9) != SQLITE_NULL) m.closed_by_producer = ColumnText(q, 9);
    m.closed_by_epoch = sqlite3_column_int64(q, 10);
    m.closed_by_seq = sqlite3_column_int64(q, 11);
    bool fork = sqlite3_column_type(q, 12) != SQLITE_NULL;
    bool deleted = sqlite3_column_int(q, 13) != 0;
    m.public_read = sqlite3_column_int(q, 14) != 0;
    m.reader_key = ColumnText(q, 15);
    bool estuary = sqlite3_column_int(q, 16) != 0;
    int64_t forks = sqlite3_column_int64(q, 17), links = sqlite3_column_int64(q, 18);
    sqlite3_finalize(q);
    if (deleted) return Status::NotFound("stream " + std::string(path) + " is deleted");
    if (fork || forks > 0) {
      return Status::InvalidArgument("a fork and the streams forks read from stay on their node");
    }
    if (estuary || links > 0) {
      return Status::InvalidArgument("a stream linked to estuaries stays on its node");
    }
  }
  {
    sqlite3_stmt* q = db.Query(
        "SELECT start_pos, end_pos, object_key, object_size, messages, crc32c FROM segments "
        "WHERE stream_id=?1 ORDER BY end_pos");
    if (!q) return db.Error("read segments");
    sqlite3_bind_int64(q, 1, id);
    while (sqlite3_step(q) == SQLITE_ROW) {
      SegmentDescription d;
      d.start = static_cast<uint64_t>(sqlite3_column_int64(q, 0));
      d.end = static_cast<uint64_t>(sqlite3_column_int64(q, 1));
      d.key = ColumnText(q, 2);
      d.object_bytes = static_cast<uint64_t>(sqlite3_column_int64(q, 3));
      d.messages = static_cast<uint64_t>(sqlite3_column_int64(q, 4));
      if (auto c = ColumnOptional(q, 5)) d.crc32c = static_cast<uint32_t>(*c);
      m.segments.push_back(std::move(d));
    }
    sqlite3_finalize(q);
  }
  uint64_t cold_end = m.segments.empty() ? 0 : m.segments.back().end;
  std::vector<StoredMessage> hot;
  s = ReadHot(db, id, cold_end, &hot);
  if (!s.ok()) return s;
  if (!hot.empty() && hot.front().start != cold_end) {
    return Status::Corruption("the hot rows of " + std::string(path) + " do not follow its segments");
  }
  uint64_t end = hot.empty() ? cold_end : hot.back().end;
  if (end < m.tail) {
    return Status::Corruption("stream " + std::string(path) + " has less data than its tail");
  }
  m.tail = end;
  if (!hot.empty()) {
    // The whole hot tail as one segment (the rotation keeps it small).
    SegmentDescription d;
    std::string object = storage::EncodeSegment(hot);
    d.key = storage::SegmentKey(path, id, cold_end, options.segment_key_tag);
    d.start = cold_end;
    d.end = end;
    d.object_bytes = object.size();
    d.messages = hot.size();
    d.crc32c = storage::Crc32c(0, object.data(), object.size());
    s = options.store->Put(d.key, object, Soon());
    if (!s.ok()) return s;
    m.segments.push_back(std::move(d));
  }
  {
    sqlite3_stmt* q = db.Query(
        "SELECT producer_id, epoch, last_seq, updated_at_ms FROM producers WHERE stream_id=?1 "
        "ORDER BY producer_id");
    if (!q) return db.Error("read producers");
    sqlite3_bind_int64(q, 1, id);
    while (sqlite3_step(q) == SQLITE_ROW) {
      m.producers.push_back({ColumnText(q, 0), sqlite3_column_int64(q, 1),
                             sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3)});
    }
    sqlite3_finalize(q);
  }
  TransferSummary summary;
  summary.manifest_key = TransferManifestKey(path);
  summary.tail = m.tail;
  summary.segments = m.segments.size();
  summary.producers = m.producers.size();
  s = options.store->Put(summary.manifest_key, Encode(m), Soon());
  if (!s.ok()) return s;
  // Gone from here, its objects left to the manifest: no segment_cleanup.
  for (const char* sql :
       {"DELETE FROM messages WHERE stream_id=?1", "DELETE FROM log WHERE stream_id=?1",
        "DELETE FROM producers WHERE stream_id=?1", "DELETE FROM segments WHERE stream_id=?1",
        "DELETE FROM streams WHERE id=?1"}) {
    sqlite3_stmt* q = db.Query(sql);
    if (!q) return db.Error("remove the stream");
    sqlite3_bind_int64(q, 1, id);
    s = db.Exec(q, "remove the stream");
    if (!s.ok()) return s;
  }
  // Log rows went: readers' index of the log is rebuilt when the node opens
  // the database, and the generation moves on as for any such commit.
  sqlite3_stmt* q = db.Query("UPDATE log_state SET gen = gen + 1");
  if (!q) return db.Error("bump the log generation");
  s = db.Exec(q, "bump the log generation");
  if (!s.ok()) return s;
  s = db.Commit();
  if (!s.ok()) return s;
  return summary;
}

Result<TransferSummary> AdoptStream(const TransferOptions& options, std::string_view path) {
  if (!options.store) return Status::InvalidArgument("moving a stream needs the shared segment store");
  TransferSummary summary;
  summary.manifest_key = TransferManifestKey(path);
  std::string text;
  Status s = options.store->Get(summary.manifest_key, 0, SegmentStore::kToEnd, &text, Soon());
  if (s.code() == StatusCode::kNotFound) {
    return Status::NotFound("no manifest for " + std::string(path) + " in " +
                            options.store->Describe() + ": export it first");
  }
  if (!s.ok()) return s;
  Manifest m;
  s = Decode(text, &m);
  if (!s.ok()) return s;
  if (m.path != path) return Status::Corruption("the manifest is for " + m.path);
  // Every object is where the manifest says.
  std::set<std::string> dirs, keys;
  for (const SegmentDescription& d : m.segments) dirs.insert(d.key.substr(0, d.key.rfind('/') + 1));
  for (const std::string& dir : dirs) {
    std::vector<std::string> listed;
    s = options.store->List(dir, &listed, Soon());
    if (!s.ok()) return s;
    keys.insert(listed.begin(), listed.end());
  }
  for (const SegmentDescription& d : m.segments) {
    if (!keys.count(d.key)) return Status::Unavailable("segment " + d.key + " is not in the store");
  }
  Db db;
  s = db.Open(options.db_path);
  if (!s.ok()) return s;
  sqlite3_stmt* q = db.Query("SELECT count(*), coalesce(max(id), 0) FROM streams WHERE path=?1 "
                             "UNION ALL SELECT 0, coalesce(max(id), 0) FROM streams");
  if (!q) return db.Error("find the stream");
  BindText(q, 1, path);
  int64_t exists = 0, max_id = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    exists += sqlite3_column_int64(q, 0);
    max_id = std::max<int64_t>(max_id, sqlite3_column_int64(q, 1));
  }
  sqlite3_finalize(q);
  if (exists) return Status::InvalidArgument("a stream " + std::string(path) + " is already here");
  int64_t id = max_id + 1;
  q = db.Query(
      "INSERT INTO streams (id, path, content_type, ttl_seconds, expires_at_ms, created_at_ms, "
      "last_access_ms, closed, tail, last_stream_seq, closed_by_producer, closed_by_epoch, "
      "closed_by_seq, public_read, reader_key) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
  if (!q) return db.Error("record the stream");
  sqlite3_bind_int64(q, 1, id);
  BindText(q, 2, m.path);
  BindText(q, 3, m.content_type);
  storage::BindOptional(q, 4, m.ttl_seconds);
  storage::BindOptional(q, 5, m.expires_at_ms);
  sqlite3_bind_int64(q, 6, m.created_at_ms);
  sqlite3_bind_int64(q, 7, m.last_access_ms);
  sqlite3_bind_int(q, 8, m.closed ? 1 : 0);
  sqlite3_bind_int64(q, 9, static_cast<int64_t>(m.tail));
  BindText(q, 10, m.last_stream_seq);
  if (m.closed_by_producer) BindText(q, 11, *m.closed_by_producer);
  sqlite3_bind_int64(q, 12, m.closed_by_epoch);
  sqlite3_bind_int64(q, 13, m.closed_by_seq);
  sqlite3_bind_int(q, 14, m.public_read ? 1 : 0);
  BindText(q, 15, m.reader_key);
  s = db.Exec(q, "record the stream");
  if (!s.ok()) return s;
  for (const SegmentDescription& d : m.segments) {
    q = db.Query(
        "INSERT INTO segments (stream_id, start_pos, end_pos, object_key, object_size, messages, "
        "crc32c) VALUES (?1,?2,?3,?4,?5,?6,?7)");
    if (!q) return db.Error("record a segment");
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, static_cast<int64_t>(d.start));
    sqlite3_bind_int64(q, 3, static_cast<int64_t>(d.end));
    BindText(q, 4, d.key);
    sqlite3_bind_int64(q, 5, static_cast<int64_t>(d.object_bytes));
    sqlite3_bind_int64(q, 6, static_cast<int64_t>(d.messages));
    if (d.crc32c) sqlite3_bind_int64(q, 7, *d.crc32c);
    s = db.Exec(q, "record a segment");
    if (!s.ok()) return s;
  }
  for (const Manifest::Producer& p : m.producers) {
    q = db.Query(
        "INSERT INTO producers (stream_id, producer_id, epoch, last_seq, updated_at_ms) "
        "VALUES (?1,?2,?3,?4,?5)");
    if (!q) return db.Error("record a producer");
    sqlite3_bind_int64(q, 1, id);
    BindText(q, 2, p.id);
    sqlite3_bind_int64(q, 3, p.epoch);
    sqlite3_bind_int64(q, 4, p.last_seq);
    sqlite3_bind_int64(q, 5, p.updated_at_ms);
    s = db.Exec(q, "record a producer");
    if (!s.ok()) return s;
  }
  s = db.Commit();
  if (!s.ok()) return s;
  summary.tail = m.tail;
  summary.segments = m.segments.size();
  summary.producers = m.producers.size();
  // Adopted: the manifest goes, so no second node can adopt the stream.
  s = options.store->Delete(summary.manifest_key, Soon());
  if (!s.ok()) {
    return Status::IOError("adopted " + m.path + ", but the manifest " + summary.manifest_key +
                           " could not be deleted (" + s.ToString() + "): delete it by hand");
  }
  return summary;
}

}  // namespace durablestreams
