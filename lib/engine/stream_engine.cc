// lib/engine/stream_engine.cc
//
// The engine. How it is put together:
//
//   - Stream metadata lives in memory. Each live stream has one `Stream`
//     object whose `meta` is an immutable snapshot (StreamMeta) replaced
//     after every commit that changes it. Readers copy the snapshot pointer
//     and read storage below its tail, so they never see uncommitted bytes
//     and never wait for a writer.
//   - Every mutation (create, append, close, delete, expiry) is an Op queued
//     to one commit thread. The thread takes every queued op (up to
//     max_batch_ops), validates each against the state as the batch has left
//     it, builds one WriteBatch, commits it, and only then publishes the new
//     snapshots, answers the ops and wakes live readers. Ops that wait while
//     a commit runs share the next one: group commit. One thread deciding
//     everything also serializes validation + append per (stream, producer).
//     A lone writer's append (none queued, none committing, the last batch a
//     single op) is processed the same way on the caller's thread instead,
//     which takes the writer's turn (writer_busy_) so that still only one
//     thread at a time decides and commits.
//   - Live readers register on their Stream under its mutex after checking
//     the snapshot's tail, and the commit thread swaps the snapshot under the
//     same mutex, so a reader either sees new data in the snapshot or is on
//     the list that the commit thread wakes. Woken readers get the batch's
//     new messages from memory: one broadcast encodes them once.
//   - A timer thread ends long-polls at their timeout and SSE responses at
//     their lifetime, sends SSE heartbeats, and sweeps expired streams.
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "durablestreams/live_stream.h"
#include "durablestreams/storage.h"
#include "durablestreams/stream_engine.h"
#include "engine/sse_session.h"
#include "engine/timer.h"
#include "protocol/cursor.h"
#include "protocol/errors.h"
#include "protocol/headers.h"
#include "protocol/json_batch.h"
#include "protocol/offset.h"
#include "protocol/path.h"
#include "protocol/producer.h"
#include "protocol/sse.h"
#include "storage/message_bytes.h"

namespace durablestreams {

namespace {

using protocol::ErrorCode;
using protocol::FormatPosition;

constexpr const char* kDefaultContentType = "application/octet-stream";
constexpr size_t kMaxProducerIdLength = 256;
constexpr size_t kMaxStreamSeqLength = 256;
constexpr std::chrono::milliseconds kSweepInterval{1000};
// SSE catch-up queues about this much before waiting for the transport.
constexpr size_t kSseCatchupBytes = 4 << 20;

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t Jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(1, 3600)(rng);
}

Response Error(ErrorCode code, std::string_view message) {
  Response r;
  r.status = protocol::HttpStatus(code);
  r.headers.Set("Content-Type", "application/json");
  r.body = protocol::ErrorJson(protocol::CodeName(code), message);
  // 503s are transient: the store or the server comes back.
  if (code == ErrorCode::kUnavailable) r.headers.Set("Retry-After", "1");
  return r;
}

ErrorCode StorageErrorCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNoSpace: return ErrorCode::kStorageFull;
    case StatusCode::kBusy:
    case StatusCode::kUnavailable:
    case StatusCode::kShutdown: return ErrorCode::kUnavailable;
    default: return ErrorCode::kInternal;
  }
}

// ---------------------------------------------------------------------------
// In-memory stream state

struct StreamMeta {
  StreamRecord rec;
  std::string media_type;
  bool json = false;
  bool text = false;
};

std::shared_ptr<const StreamMeta> MakeMeta(const StreamRecord& rec) {
  auto m = std::make_shared<StreamMeta>();
  m->rec = rec;
  m->media_type = protocol::MediaType(rec.content_type);
  m->json = protocol::IsJsonMediaType(m->media_type);
  m->text = protocol::IsTextMediaType(m->media_type);
  return m;
}

struct LongPollWaiter;
struct LiveReader;

struct Stream {
  Stream(int64_t id_in, std::string path_in) : id(id_in), path(std::move(path_in)) {}

  std::shared_ptr<const StreamMeta> Snapshot(bool* gone_out) {
    std::lock_guard<std::mutex> lock(mu);
    *gone_out = gone;
    return meta;
  }
  void Touch(int64_t now) {
    int64_t prev = last_access_ms.load();
    while (prev < now && !last_access_ms.compare_exchange_weak(prev, now)) {
    }
    touched = true;
  }

  const int64_t id;
  const std::string path;
  std::atomic<int64_t> last_access_ms{0};  // newest read or write
  std::atomic<bool> touched{false};        // a read moved last_access_ms

  std::mutex mu;
  std::shared_ptr<const StreamMeta> meta;                    // guarded by mu
  bool gone = false;                                         // guarded by mu
  std::vector<std::shared_ptr<LongPollWaiter>> waiters;      // guarded by mu
  std::vector<std::shared_ptr<LiveReader>> readers;          // guarded by mu
};

bool Expired(const StreamRecord& rec, const Stream* s, int64_t now) {
  if (rec.expires_at_ms && now >= *rec.expires_at_ms) return true;
  if (rec.ttl_seconds) {
    int64_t last = rec.last_access_ms;
    if (s) last = std::max(last, s->last_access_ms.load());
    if (now >= last + *rec.ttl_seconds * 1000) return true;
  }
  return false;
}

struct LongPollWaiter {
  std::shared_ptr<Stream> stream;
  uint64_t offset = 0;
  std::string client_cursor;
  ResponseCallback done;
  std::atomic<bool> fired{false};
  engine::Timer::Id timer = 0;
  bool Claim() { return !fired.exchange(true); }
};

struct LiveReader {
  std::shared_ptr<engine::SseSession> session;
  std::string client_cursor;
  bool base64 = false;
  bool json = false;
  uint64_t next_pos = 0;  // after registration: the writer only (writer_busy_)
  // While catching up: the snapshot being read (then null).
  std::shared_ptr<const StreamMeta> catchup_meta;
  bool sent_control = false;
  engine::Timer::Id lifetime_timer = 0;
  engine::Timer::Id heartbeat_timer = 0;
};

// ---------------------------------------------------------------------------
// Ops for the commit thread

struct ProducerTuple {
  std::string id;
  int64_t epoch = 0;
  int64_t seq = 0;
};

struct Op {
  enum class Kind { kCreate, kAppend, kDelete, kExpire, kSweep };
  Kind kind = Kind::kAppend;
  std::string path;
  std::string url;
  // kCreate
  bool content_type_given = false;
  std::optional<std::string> fork_from;    // a fork: the source's path
  std::optional<uint64_t> fork_anchor;     // Stream-Fork-Offset
  uint64_t fork_sub_offset = 0;
  std::string content_type;
  std::optional<int64_t> ttl_seconds;
  std::optional<int64_t> expires_at_ms;
  // kCreate and kAppend
  std::string media_type;              // of the request's Content-Type
  protocol::MessageList messages;      // the body, split (JSON) or whole
  bool has_body = false;
  bool close = false;
  // kAppend
  std::optional<ProducerTuple> producer;
  std::optional<std::string> stream_seq;
  bool json_body = false;              // the request said application/json
  protocol::JsonBatchError json_error = protocol::JsonBatchError::kNone;
  std::string json_error_message;

  ResponseCallback done;  // null for internal ops
  Response response;
};

// A stream as the current batch has left it.
struct Overlay {
  std::shared_ptr<Stream> stream;  // null: no live stream at this path now
  StreamRecord rec;
  std::shared_ptr<const StreamMeta> base;  // the published snapshot rec came from
  bool dirty = false;     // rec must be written
  bool created = false;   // the stream was created in this batch
  bool closed_now = false;
  bool soft_deleted_now = false;
  uint64_t published_tail = 0;  // tail before this batch
  std::vector<protocol::MessageList> appended;  // this batch's appends, in order
};

struct BatchCtx {
  int64_t now = 0;
  std::unordered_map<std::string, Overlay> by_path;
  std::vector<std::shared_ptr<Stream>> removed;   // deleted or expired in this batch
  std::set<int64_t> dropped_ids;                  // created and removed in this batch
  std::map<std::pair<int64_t, std::string>, protocol::ProducerState> producers;
  std::vector<AppendRecord> appends;
  std::unordered_map<int64_t, int64_t> children_delta;  // forks made (+) or removed (-)
  WriteBatch wb;
};

// ---------------------------------------------------------------------------

class EngineImpl final : public StreamEngine {
 public:
  EngineImpl(Options options, std::shared_ptr<Storage> storage)
      : options_(std::move(options)), storage_(std::move(storage)) {}

  ~EngineImpl() override { Shutdown(); }

  Status Start() {
    LoadedState state;
    Status s = storage_->Load(&state);
    if (!s.ok()) return s;
    for (StreamRecord& rec : state.streams) {
      next_id_ = std::max(next_id_, rec.id + 1);
      auto stream = std::make_shared<Stream>(rec.id, rec.path);
      stream->last_access_ms = rec.last_access_ms;
      stream->meta = MakeMeta(rec);
      if (rec.fork_source_id) ++children_[*rec.fork_source_id];
      by_id_[rec.id] = stream;
      streams_[rec.path] = std::move(stream);
    }
    for (ProducerRecord& p : state.producers) {
      producers_[p.stream_id][p.producer_id] = {p.epoch, p.last_seq};
    }
    writer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "ds-commit");
      WriterLoop();
    });
    ScheduleSweep();
    return Status::OK();
  }

  const Options& options() const override { return options_; }

  void Shutdown() override {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    timer_.Stop();
    // Answer every live reader.
    std::vector<std::shared_ptr<Stream>> all;
    {
      std::lock_guard<std::mutex> lock(map_mu_);
      for (auto& [path, s] : streams_) all.push_back(s);
    }
    for (auto& s : all) {
      std::vector<std::shared_ptr<LongPollWaiter>> waiters;
      std::vector<std::shared_ptr<LiveReader>> readers;
      std::shared_ptr<const StreamMeta> meta;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        waiters.swap(s->waiters);
        readers.swap(s->readers);
        meta = s->meta;
      }
      for (auto& w : waiters) {
        if (w->Claim()) w->done(Finish(TimeoutResponse(*meta, w->client_cursor)));
      }
      for (auto& r : readers) r->session->End();
    }
    // SSE responses still catching up are on no stream's list.
    std::vector<std::weak_ptr<engine::SseSession>> sessions;
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      sessions.swap(sessions_);
    }
    for (auto& w : sessions) {
      if (auto s = w.lock()) s->End();
    }
  }

  void Handle(Request req, ResponseCallback done) override {
    if (IsStopping()) {
      done(Finish(Error(ErrorCode::kUnavailable, "the server is shutting down")));
      return;
    }
    if (req.method == Method::kOptions) {
      Response r;
      r.status = 204;
      r.headers.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE, OPTIONS");
      r.headers.Set("Access-Control-Allow-Headers",
                    "Content-Type, Authorization, If-None-Match, Stream-TTL, Stream-Expires-At, "
                    "Stream-Closed, Stream-Seq, Stream-Forked-From, Stream-Fork-Offset, "
                    "Stream-Fork-Sub-Offset, Producer-Id, Producer-Epoch, Producer-Seq");
      r.headers.Set("Access-Control-Max-Age", "86400");
      done(Finish(std::move(r)));
      return;
    }
    if (req.method == Method::kOther) {
      done(Finish(Error(ErrorCode::kMethodNotAllowed, "method not allowed")));
      return;
    }
    if (auto bad = ValidatePath(req.path)) {
      done(Finish(std::move(*bad)));
      return;
    }
    bool is_read = req.method == Method::kGet || req.method == Method::kHead;
    const AuthorizeFn& auth = is_read ? options_.authorize_read : options_.authorize_mutation;
    if (auth) {
      std::optional<Response> denied = auth(req);
      if (denied) {
        done(Finish(std::move(*denied)));
        return;
      }
    }
    // A protocol header given twice is ambiguous (which TTL? which producer?):
    // refuse rather than pick one.
    static const char* const kSingle[] = {
        "Content-Type",       "Stream-TTL",         "Stream-Expires-At",  "Stream-Closed",
        "Stream-Seq",         "Producer-Id",        "Producer-Epoch",     "Producer-Seq",
        "Stream-Forked-From", "Stream-Fork-Offset", "Stream-Fork-Sub-Offset"};
    for (const char* name : kSingle) {
      if (req.headers.Count(name) > 1) {
        done(Finish(Error(ErrorCode::kBadRequest, std::string(name) + " is given more than once")));
        return;
      }
    }
    if (req.body_too_large) {
      done(Finish(Error(ErrorCode::kPayloadTooLarge, "request body is larger than the limit")));
      return;
    }
    switch (req.method) {
      case Method::kGet:
      case Method::kHead: HandleRead(req, std::move(done)); return;
      case Method::kPut: HandleCreate(std::move(req), std::move(done)); return;
      case Method::kPost: HandleAppend(std::move(req), std::move(done)); return;
      case Method::kDelete: {
        auto op = std::make_unique<Op>();
        op->kind = Op::Kind::kDelete;
        op->path = std::move(req.path);
        op->done = std::move(done);
        Enqueue(std::move(op));
        return;
      }
      default: done(Finish(Error(ErrorCode::kMethodNotAllowed, "method not allowed")));
    }
  }

 private:
  // -------------------------------------------------------------------------
  // Common pieces

  bool IsStopping() {
    std::lock_guard<std::mutex> lock(queue_mu_);
    return stopping_;
  }

  int64_t Now() { return options_.clock->NowMillis(); }

  // Headers every response carries (PROTOCOL.md §12.7 and CORS).
  static Response Finish(Response r) {
    r.headers.Set("X-Content-Type-Options", "nosniff");
    r.headers.Set("Cross-Origin-Resource-Policy", "cross-origin");
    r.headers.Set("Access-Control-Allow-Origin", "*");
    r.headers.Set("Access-Control-Expose-Headers",
                  "Stream-Next-Offset, Stream-Cursor, Stream-Up-To-Date, Stream-Closed, "
                  "Stream-TTL, Stream-Expires-At, Stream-SSE-Data-Encoding, Producer-Epoch, "
                  "Producer-Seq, Producer-Expected-Seq, Producer-Received-Seq, ETag, Location, "
                  "Content-Type");
    return r;
  }

  static std::optional<Response> ValidatePath(const std::string& path) {
    protocol::PathCheck check = protocol::CheckStreamPath(path);
    if (check == protocol::PathCheck::kOk) return std::nullopt;
    return Error(check == protocol::PathCheck::kReserved ? ErrorCode::kNotImplemented
                                                         : ErrorCode::kInvalidPath,
                 protocol::PathCheckMessage(check));
  }

  std::string CacheControlForData() const {
    switch (options_.cache_visibility) {
      case CacheVisibility::kPublic: return "public, max-age=60, stale-while-revalidate=300";
      case CacheVisibility::kPrivate: return "private, max-age=60, stale-while-revalidate=300";
      case CacheVisibility::kNoStore: return "no-store";
    }
    return "no-store";
  }

  std::shared_ptr<Stream> FindPublished(const std::string& path) {
    std::lock_guard<std::mutex> lock(map_mu_);
    auto it = streams_.find(path);
    return it == streams_.end() ? nullptr : it->second;
  }

  std::shared_ptr<Stream> FindById(int64_t id) {
    std::lock_guard<std::mutex> lock(map_mu_);
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
  }

  // Queues `op` for the commit thread, or commits it on the calling thread
  // (see Options::commit_on_caller): an append that finds no commit running
  // and none queued, while the last batch was a single op (a writer alone,
  // so no batch to share), skips the two thread hand-offs.
  void Enqueue(std::unique_ptr<Op> op) {
    bool here = false;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (!stopping_) {
        if (options_.commit_on_caller && op->kind == Op::Kind::kAppend && !writer_busy_ &&
            queue_.empty() && last_batch_single_) {
          writer_busy_ = true;
          here = true;
        } else {
          queue_.push_back(std::move(op));
          op = nullptr;
        }
      }
    }
    if (here) {
      std::vector<std::unique_ptr<Op>> ops;
      ops.push_back(std::move(op));
      ProcessBatch(ops);
      ReleaseWriter(1);
      return;
    }
    if (op) {
      if (op->done) op->done(Finish(Error(ErrorCode::kUnavailable, "the server is shutting down")));
      return;
    }
    queue_cv_.notify_one();
  }

  // Ends a turn as the writer (the commit thread's or a caller's) that
  // processed `ops` ops; the commit thread may be waiting for it.
  void ReleaseWriter(size_t ops) {
    bool queued;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      writer_busy_ = false;
      last_batch_single_ = ops == 1;
      queued = !queue_.empty() || stopping_;
    }
    if (queued) queue_cv_.notify_one();
  }

  void EnqueueExpire(const std::string& path) {
    auto op = std::make_unique<Op>();
    op->kind = Op::Kind::kExpire;
    op->path = path;
    Enqueue(std::move(op));
  }

  void ScheduleSweep() {
    timer_.Schedule(kSweepInterval, [this] {
      auto op = std::make_unique<Op>();
      op->kind = Op::Kind::kSweep;
      Enqueue(std::move(op));
      ScheduleSweep();
    });
  }

  // -------------------------------------------------------------------------
  // Reads

  struct ReadQuery {
    const std::string* offset = nullptr;
    int offset_count = 0;
    std::string live;
    bool has_live = false;
    std::string cursor;
  };

  // Reads messages in [pos, tail) (at most max_read_bytes) and encodes the
  // body. Returns the position after the returned data in *next.
  Status ReadRange(const StreamMeta& meta, uint64_t pos, std::string* body, uint64_t* next,
                   std::vector<std::string>* json_messages = nullptr) {
    *next = pos;
    // Bytes with no fork source to clip: the storage appends them itself.
    bool as_bytes = !meta.json && (!meta.rec.fork_source_id || pos >= meta.rec.fork_offset);
    std::vector<StoredMessage> msgs;
    if (pos < meta.rec.tail) {
      Status s = as_bytes ? storage_->ReadBytes(meta.rec.id, pos, meta.rec.tail,
                                                options_.max_read_bytes, body, next)
                          : ReadChain(meta.rec, pos, meta.rec.tail, options_.max_read_bytes, &msgs);
      if (!s.ok()) return s;
    }
    if (meta.json) {
      std::vector<std::string_view> views;
      for (auto& m : msgs) {
        *next = m.end;
        if (m.start < pos) continue;  // an offset inside a message: start at the next
        views.push_back(m.data);
      }
      if (json_messages) {
        for (auto v : views) json_messages->emplace_back(v);
      }
      protocol::AppendJsonArray(views, body);
    } else if (!as_bytes) {
      storage::AppendMessageBytes(&msgs, pos, body, next);
    }
    bool got = as_bytes ? *next != pos : !msgs.empty();
    if (!got && pos < meta.rec.tail) {
      return Status::Corruption("stored messages end before the stream's tail");
    }
    return Status::OK();
  }

  // Reads the messages of `rec` in [from, to) as ReadMessages does, through
  // the fork chain: positions before a fork's offset come from its source
  // (clipped at the fork offset), the rest from the stream itself.
  Status ReadChain(const StreamRecord& rec, uint64_t from, uint64_t to, size_t max_bytes,
                   std::vector<StoredMessage>* out) {
    size_t bytes = 0;
    if (rec.fork_source_id && from < rec.fork_offset) {
      std::shared_ptr<Stream> src = FindById(*rec.fork_source_id);
      if (!src) return Status::Corruption("the source of a fork is missing");
      bool gone;
      std::shared_ptr<const StreamMeta> src_meta = src->Snapshot(&gone);
      uint64_t src_to = std::min(to, rec.fork_offset);
      size_t first = out->size();
      Status s = ReadChain(src_meta->rec, from, src_to, max_bytes, out);
      if (!s.ok()) return s;
      if (out->size() > first && out->back().end > src_to) {
        StoredMessage& last = out->back();
        last.data.resize(last.data.size() - (last.end - src_to));
        last.end = src_to;
        last.last_in_append = true;  // the fork point is a boundary
      }
      for (size_t i = first; i < out->size(); ++i) bytes += (*out)[i].data.size();
      if (out->size() == first || out->back().end < src_to || bytes >= max_bytes) {
        return Status::OK();
      }
      from = rec.fork_offset;
    }
    if (from >= to) return Status::OK();
    return storage_->ReadMessages(rec.id, from, to, max_bytes - bytes, out);
  }

  Response DataResponse(const StreamMeta& meta, uint64_t start, uint64_t next, std::string body,
                        const std::string* cursor) {
    Response r;
    r.status = 200;
    r.headers.Set("Content-Type", meta.rec.content_type);
    r.headers.Set("Stream-Next-Offset", FormatPosition(next));
    bool at_tail = next >= meta.rec.tail;
    if (at_tail) r.headers.Set("Stream-Up-To-Date", "true");
    bool closed = at_tail && meta.rec.closed;
    if (closed) r.headers.Set("Stream-Closed", "true");
    if (cursor) r.headers.Set("Stream-Cursor", *cursor);
    std::string etag = "\"" + std::to_string(meta.rec.id) + ":" + FormatPosition(start) + ":" +
                       FormatPosition(next) + (closed ? ":c" : "") + "\"";
    r.headers.Set("ETag", etag);
    r.headers.Set("Cache-Control", CacheControlForData());
    r.body = std::move(body);
    return r;
  }

  Response TimeoutResponse(const StreamMeta& meta, const std::string& client_cursor) {
    Response r;
    r.status = 204;
    r.headers.Set("Stream-Next-Offset", FormatPosition(meta.rec.tail));
    r.headers.Set("Stream-Up-To-Date", "true");
    if (meta.rec.closed) {
      r.headers.Set("Stream-Closed", "true");
    } else {
      r.headers.Set("Stream-Cursor", protocol::NextCursor(Now(), client_cursor, Jitter()));
    }
    r.headers.Set("Cache-Control", "no-store");
    return r;
  }

  void HandleRead(const Request& req, ResponseCallback done) {
    ReadQuery q;
    for (const auto& [k, v] : req.query) {
      if (k == "offset") {
        q.offset = &v;
        ++q.offset_count;
      } else if (k == "live") {
        q.live = v;
        q.has_live = true;
      } else if (k == "cursor") {
        q.cursor = v;
      }
    }
    bool head = req.method == Method::kHead;
    if (q.offset_count > 1) {
      return done(Finish(Error(ErrorCode::kInvalidOffset, "offset is given more than once")));
    }
    protocol::OffsetRequest off;
    if (q.offset) {
      auto parsed = protocol::ParseOffset(*q.offset);
      if (!parsed.ok()) {
        return done(Finish(Error(ErrorCode::kInvalidOffset, parsed.status().message())));
      }
      off = *parsed;
    }
    enum class Live { kNone, kLongPoll, kSse } live = Live::kNone;
    if (!head && q.has_live) {
      if (q.live == "long-poll") {
        live = Live::kLongPoll;
      } else if (q.live == "sse") {
        live = Live::kSse;
      } else {
        return done(Finish(Error(ErrorCode::kBadRequest, "live must be long-poll or sse")));
      }
      if (!q.offset) {
        return done(Finish(Error(ErrorCode::kInvalidOffset, "live reads require an offset")));
      }
    }
    std::shared_ptr<Stream> stream = FindPublished(req.path);
    bool gone = true;
    std::shared_ptr<const StreamMeta> meta;
    if (stream) meta = stream->Snapshot(&gone);
    if (!stream || gone) {
      return done(Finish(Error(ErrorCode::kNotFound, "stream not found")));
    }
    if (meta->rec.soft_deleted) {
      return done(Finish(Error(ErrorCode::kGone, "the stream was deleted")));
    }
    int64_t now = Now();
    if (Expired(meta->rec, stream.get(), now)) {
      EnqueueExpire(req.path);
      return done(Finish(Error(ErrorCode::kNotFound, "stream not found")));
    }
    if (head) return done(Finish(HeadResponse(*meta)));
    if (meta->rec.ttl_seconds) stream->Touch(now);

    uint64_t pos = 0;
    if (off.kind == protocol::OffsetRequest::Kind::kNow) {
      pos = meta->rec.tail;
    } else if (off.kind == protocol::OffsetRequest::Kind::kAt) {
      if (off.at.read_seq != 0 || off.at.pos > meta->rec.tail) {
        return done(Finish(Error(ErrorCode::kInvalidOffset, "offset is beyond the stream's tail")));
      }
      pos = off.at.pos;
    }

    if (live == Live::kSse) return StartSse(stream, meta, pos, q.cursor, std::move(done));

    if (live == Live::kNone && off.kind == protocol::OffsetRequest::Kind::kNow) {
      Response r;
      r.status = 200;
      r.headers.Set("Content-Type", meta->rec.content_type);
      r.headers.Set("Stream-Next-Offset", FormatPosition(meta->rec.tail));
      r.headers.Set("Stream-Up-To-Date", "true");
      if (meta->rec.closed) r.headers.Set("Stream-Closed", "true");
      r.headers.Set("Cache-Control", "no-store");
      r.body = meta->json ? "[]" : "";
      return done(Finish(std::move(r)));
    }

    if (live == Live::kLongPoll && pos >= meta->rec.tail) {
      if (meta->rec.closed) {
        return done(Finish(TimeoutResponse(*meta, q.cursor)));
      }
      return WaitForData(stream, pos, q.cursor, std::move(done));
    }

    std::string body;
    uint64_t next;
    Status s = ReadRange(*meta, pos, &body, &next);
    if (!s.ok()) {
      return done(Finish(Error(StorageErrorCode(s), "read failed: " + s.message())));
    }
    std::string cursor;
    if (live == Live::kLongPoll) cursor = protocol::NextCursor(now, q.cursor, Jitter());
    Response r = DataResponse(*meta, pos, next, std::move(body),
                              live == Live::kLongPoll ? &cursor : nullptr);
    const std::string* inm = req.headers.Get("If-None-Match");
    if (inm && live == Live::kNone && *inm == *r.headers.Get("ETag")) {
      Response nm;
      nm.status = 304;
      nm.headers.Set("ETag", *inm);
      nm.headers.Set("Cache-Control", CacheControlForData());
      return done(Finish(std::move(nm)));
    }
    done(Finish(std::move(r)));
  }

  Response HeadResponse(const StreamMeta& meta) {
    Response r;
    r.status = 200;
    r.headers.Set("Content-Type", meta.rec.content_type);
    r.headers.Set("Stream-Next-Offset", FormatPosition(meta.rec.tail));
    if (meta.rec.ttl_seconds) r.headers.Set("Stream-TTL", std::to_string(*meta.rec.ttl_seconds));
    if (meta.rec.expires_at_ms) {
      r.headers.Set("Stream-Expires-At", protocol::FormatRfc3339Millis(*meta.rec.expires_at_ms));
    }
    if (meta.rec.closed) r.headers.Set("Stream-Closed", "true");
    r.headers.Set("Cache-Control", "no-store");
    return r;
  }

  void WaitForData(const std::shared_ptr<Stream>& stream, uint64_t pos, const std::string& cursor,
                   ResponseCallback done) {
    auto w = std::make_shared<LongPollWaiter>();
    w->stream = stream;
    w->offset = pos;
    w->client_cursor = cursor;
    w->done = std::move(done);
    std::shared_ptr<const StreamMeta> meta;
    bool gone;
    {
      std::lock_guard<std::mutex> lock(stream->mu);
      meta = stream->meta;
      gone = stream->gone || meta->rec.soft_deleted;
      if (!gone && meta->rec.tail == pos && !meta->rec.closed) {
        stream->waiters.push_back(w);
        // Under the lock so the writer (commit thread or caller) cannot fire the waiter before
        // its timer id is set.
        w->timer = timer_.Schedule(options_.long_poll_timeout, [this, w] { OnLongPollTimeout(w); });
        return;
      }
    }
    // The snapshot moved between the first look and now: answer from it.
    if (!w->Claim()) return;
    if (gone) {
      return w->done(Finish(meta && meta->rec.soft_deleted
                                ? Error(ErrorCode::kGone, "the stream was deleted")
                                : Error(ErrorCode::kNotFound, "stream not found")));
    }
    if (meta->rec.tail == pos) return w->done(Finish(TimeoutResponse(*meta, cursor)));
    std::string body;
    uint64_t next;
    Status s = ReadRange(*meta, pos, &body, &next);
    if (!s.ok()) return w->done(Finish(Error(StorageErrorCode(s), s.message())));
    std::string c = protocol::NextCursor(Now(), cursor, Jitter());
    w->done(Finish(DataResponse(*meta, pos, next, std::move(body), &c)));
  }

  void OnLongPollTimeout(const std::shared_ptr<LongPollWaiter>& w) {
    std::shared_ptr<const StreamMeta> meta;
    {
      std::lock_guard<std::mutex> lock(w->stream->mu);
      auto& list = w->stream->waiters;
      list.erase(std::remove(list.begin(), list.end(), w), list.end());
      meta = w->stream->meta;
    }
    if (w->Claim()) w->done(Finish(TimeoutResponse(*meta, w->client_cursor)));
  }

  // -------------------------------------------------------------------------
  // SSE

  // A data event and the control event after it go in one Push, so a
  // session ended for a stalled client never holds data without its offset.
  void PushDataAndControl(LiveReader& r, std::string_view payload, uint64_t next, bool up_to_date,
                          bool closed) {
    std::string ev;
    if (r.base64) {
      std::string b64;
      protocol::AppendBase64(payload, &b64);
      protocol::AppendSseEvent("data", b64, &ev);
    } else {
      protocol::AppendSseEvent("data", payload, &ev);
    }
    AppendControl(r, next, up_to_date, closed, &ev);
    r.session->Push(ev);
  }

  void PushControl(LiveReader& r, uint64_t next, bool up_to_date, bool closed) {
    std::string ev;
    AppendControl(r, next, up_to_date, closed, &ev);
    r.session->Push(ev);
  }

  void AppendControl(LiveReader& r, uint64_t next, bool up_to_date, bool closed, std::string* ev) {
    AppendControlAt(Now(), Jitter(), r.client_cursor, next, up_to_date, closed, ev);
  }

  static void AppendControlAt(int64_t now, int64_t jitter, const std::string& client_cursor,
                              uint64_t next, bool up_to_date, bool closed, std::string* ev) {
    protocol::ControlFields f;
    f.next_offset = FormatPosition(next);
    if (!closed) f.cursor = protocol::NextCursor(now, client_cursor, jitter);
    f.up_to_date = up_to_date || closed;
    f.closed = closed;
    protocol::AppendSseEvent("control", protocol::ControlJson(f), ev);
  }

  void StartSse(const std::shared_ptr<Stream>& stream, std::shared_ptr<const StreamMeta> meta,
                uint64_t pos, const std::string& cursor, ResponseCallback done) {
    if (pos < meta->rec.tail) {
      // Once the 200 is out, a failed read can only end the response; find a
      // store that is down (a cold segment unreachable) before sending it.
      std::vector<StoredMessage> probe;
      Status s = ReadChain(meta->rec, pos, meta->rec.tail, 1, &probe);
      if (!s.ok()) return done(Finish(Error(StorageErrorCode(s), "read failed: " + s.message())));
    }
    auto reader = std::make_shared<LiveReader>();
    std::weak_ptr<Stream> weak_stream = stream;
    std::weak_ptr<LiveReader> weak_reader = reader;
    reader->session = std::make_shared<engine::SseSession>([this, weak_stream, weak_reader] {
      ForgetReader(weak_stream.lock(), weak_reader.lock());
    });
    reader->client_cursor = cursor;
    reader->base64 = !meta->text;
    reader->json = meta->json;

    Response r;
    r.status = 200;
    r.headers.Set("Content-Type", "text/event-stream");
    r.headers.Set("Cache-Control", "no-cache");
    if (reader->base64) r.headers.Set("Stream-SSE-Data-Encoding", "base64");
    r.live = reader->session;

    reader->next_pos = pos;
    reader->catchup_meta = std::move(meta);
    reader->lifetime_timer = timer_.Schedule(options_.sse_max_duration, [this, weak_stream,
                                                                         weak_reader] {
      auto rd = weak_reader.lock();
      if (!rd) return;
      ForgetReader(weak_stream.lock(), rd);
      rd->session->End();
    });
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      if (sessions_.size() >= 1024 && sessions_.size() % 1024 == 0) {
        sessions_.erase(std::remove_if(sessions_.begin(), sessions_.end(),
                                       [](auto& w) { return w.expired(); }),
                        sessions_.end());
      }
      sessions_.push_back(reader->session);
    }
    ContinueSse(weak_stream, reader);
    done(Finish(std::move(r)));
  }

  // Pushes catch-up events until about kSseCatchupBytes are queued or the
  // reader reaches the tail. Stopped early, it continues when the transport
  // has taken the queued bytes (so a reader far behind never has the whole
  // backlog in memory). At the tail it registers for live events, or ends
  // the response of a closed stream.
  void ContinueSse(const std::weak_ptr<Stream>& weak_stream,
                   const std::shared_ptr<LiveReader>& reader) {
    std::shared_ptr<Stream> stream = weak_stream.lock();
    if (!stream || IsStopping()) {
      reader->session->End();
      return;
    }
    std::shared_ptr<const StreamMeta> meta = reader->catchup_meta;
    uint64_t pos = reader->next_pos;
    size_t queued = 0;
    for (;;) {
      // Catch up to the snapshot's tail.
      while (pos < meta->rec.tail) {
        if (queued >= kSseCatchupBytes) {
          reader->next_pos = pos;
          reader->catchup_meta = meta;
          // The callback owns the reader: nothing else does while it catches
          // up. End() and Cancel() drop the callback, and the lifetime timer
          // always ends the session, so this never outlives sse_max_duration.
          if (reader->session->CallWhenDrained(
                  [this, weak_stream, reader] { ContinueSse(weak_stream, reader); })) {
            return;
          }
          if (reader->session->ended()) return;
          queued = 0;  // the transport already took it all
        }
        std::string body;
        uint64_t next;
        Status s = ReadRange(*meta, pos, &body, &next);
        if (!s.ok()) {
          reader->session->End();
          return;
        }
        queued += body.size();
        pos = next;
        bool at_tail = pos >= meta->rec.tail;
        PushDataAndControl(*reader, body, pos, at_tail, at_tail && meta->rec.closed);
        reader->sent_control = true;
      }
      if (meta->rec.closed) {
        if (!reader->sent_control) PushControl(*reader, pos, true, true);
        reader->session->End();
        return;
      }
      // At the tail: register, unless the snapshot moved meanwhile.
      bool gone;
      {
        std::lock_guard<std::mutex> lock(stream->mu);
        gone = stream->gone || stream->meta->rec.soft_deleted;
        if (!gone && stream->meta->rec.tail == pos && !stream->meta->rec.closed) {
          if (!reader->sent_control) PushControl(*reader, pos, true, false);
          reader->next_pos = pos;
          reader->catchup_meta = nullptr;
          stream->readers.push_back(reader);
          if (options_.sse_heartbeat.count() > 0) ScheduleHeartbeat(reader);
          return;
        }
        meta = stream->meta;
      }
      if (gone) {
        reader->session->End();
        return;
      }
    }
  }

  void ScheduleHeartbeat(const std::shared_ptr<LiveReader>& reader) {
    std::weak_ptr<LiveReader> weak = reader;
    reader->heartbeat_timer = timer_.Schedule(options_.sse_heartbeat, [this, weak] {
      auto rd = weak.lock();
      if (!rd || rd->session->ended()) return;
      int64_t idle = SteadyMillis() - rd->session->last_push_ms();
      if (idle >= options_.sse_heartbeat.count() / 2) {
        std::string hb;
        protocol::AppendSseHeartbeat(&hb);
        rd->session->Push(hb);
      }
      ScheduleHeartbeat(rd);
    });
  }

  void ForgetReader(const std::shared_ptr<Stream>& stream,
                    const std::shared_ptr<LiveReader>& reader) {
    if (!reader) return;
    if (stream) {
      std::lock_guard<std::mutex> lock(stream->mu);
      auto& list = stream->readers;
      list.erase(std::remove(list.begin(), list.end(), reader), list.end());
    }
    timer_.Cancel(reader->lifetime_timer);
    timer_.Cancel(reader->heartbeat_timer);
  }

  // -------------------------------------------------------------------------
  // Mutations: parsing on the caller's thread

  void HandleCreate(Request req, ResponseCallback done) {
    auto op = std::make_unique<Op>();
    op->kind = Op::Kind::kCreate;
    op->path = std::move(req.path);
    op->url = std::move(req.url);
    const std::string* from = req.headers.Get("Stream-Forked-From");
    const std::string* fork_offset = req.headers.Get("Stream-Fork-Offset");
    const std::string* sub_offset = req.headers.Get("Stream-Fork-Sub-Offset");
    if (!from && (fork_offset || sub_offset)) {
      return done(Finish(Error(ErrorCode::kInvalidFork,
                               "Stream-Fork-Offset and Stream-Fork-Sub-Offset need Stream-Forked-From")));
    }
    if (from) {
      std::string_view src = protocol::TrimWhitespace(*from);
      if (!req.root.empty() && src.substr(0, req.root.size()) == req.root) {
        src.remove_prefix(req.root.size());
      } else if (!req.root.empty() && !src.empty() && src[0] == '/') {
        return done(Finish(Error(ErrorCode::kNotFound, "the fork source is not a stream here")));
      }
      op->fork_from = std::string(src);
      if (auto bad = ValidatePath(*op->fork_from)) return done(Finish(std::move(*bad)));
      if (fork_offset) {
        auto parsed = protocol::ParseOffset(protocol::TrimWhitespace(*fork_offset));
        if (!parsed.ok() || parsed->kind != protocol::OffsetRequest::Kind::kAt ||
            parsed->at.read_seq != 0) {
          return done(Finish(Error(ErrorCode::kInvalidFork,
                                   "Stream-Fork-Offset must be an offset returned by the server")));
        }
        op->fork_anchor = parsed->at.pos;
      }
      if (sub_offset) {
        auto parsed = protocol::ParseDecimal(protocol::TrimWhitespace(*sub_offset),
                                             protocol::kMaxOffsetField);
        if (!parsed.ok()) {
          return done(Finish(Error(ErrorCode::kInvalidFork,
                                   "Stream-Fork-Sub-Offset must be a non-negative integer")));
        }
        op->fork_sub_offset = *parsed;
        if (op->fork_sub_offset > 0 && !op->fork_anchor) {
          return done(Finish(Error(ErrorCode::kInvalidFork,
                                   "Stream-Fork-Sub-Offset needs Stream-Fork-Offset")));
        }
      }
    }
    const std::string* ct = req.headers.Get("Content-Type");
    op->content_type_given = ct && !protocol::TrimWhitespace(*ct).empty();
    op->content_type = op->content_type_given ? std::string(protocol::TrimWhitespace(*ct))
                                              : kDefaultContentType;
    op->media_type = protocol::MediaType(op->content_type);
    if (!protocol::IsValidMediaType(op->media_type)) {
      return done(Finish(Error(ErrorCode::kInvalidContentType, "Content-Type is not a media type")));
    }
    const std::string* ttl = req.headers.Get("Stream-TTL");
    const std::string* exp = req.headers.Get("Stream-Expires-At");
    if (ttl && exp) {
      return done(Finish(Error(ErrorCode::kTtlAndExpiresAt,
                               "give Stream-TTL or Stream-Expires-At, not both")));
    }
    if (ttl) {
      auto v = protocol::ParseTtlSeconds(*ttl);
      if (!v.ok()) return done(Finish(Error(ErrorCode::kInvalidTtl, v.status().message())));
      op->ttl_seconds = *v;
    }
    if (exp) {
      auto v = protocol::ParseRfc3339Millis(protocol::TrimWhitespace(*exp));
      if (!v.ok()) return done(Finish(Error(ErrorCode::kInvalidExpiresAt, v.status().message())));
      op->expires_at_ms = *v;
    }
    op->close = protocol::IsTrueFlag(req.headers.Get("Stream-Closed"));
    if (!req.body.empty()) {
      op->has_body = true;
      if (op->fork_from && !op->content_type_given) {
        // The type comes from the source: split on the commit thread.
        op->messages = protocol::MessageList::One(std::move(req.body));
      } else if (protocol::IsJsonMediaType(op->media_type)) {
        protocol::JsonBatch batch = protocol::SplitJsonBatch(req.body);
        if (batch.error == protocol::JsonBatchError::kInvalidJson) {
          return done(Finish(Error(ErrorCode::kInvalidJson, batch.message)));
        }
        op->messages = std::move(batch.messages);  // [] creates an empty stream
      } else {
        op->messages = protocol::MessageList::One(std::move(req.body));
      }
    }
    op->done = std::move(done);
    Enqueue(std::move(op));
  }

  void HandleAppend(Request req, ResponseCallback done) {
    auto op = std::make_unique<Op>();
    op->kind = Op::Kind::kAppend;
    op->path = std::move(req.path);
    op->close = protocol::IsTrueFlag(req.headers.Get("Stream-Closed"));
    op->has_body = !req.body.empty();
    if (!op->has_body && !op->close) {
      return done(Finish(Error(ErrorCode::kEmptyBody,
                               "an append needs a body (or Stream-Closed: true to close)")));
    }
    const std::string* pid = req.headers.Get("Producer-Id");
    const std::string* pepoch = req.headers.Get("Producer-Epoch");
    const std::string* pseq = req.headers.Get("Producer-Seq");
    int present = (pid != nullptr) + (pepoch != nullptr) + (pseq != nullptr);
    if (present != 0 && present != 3) {
      return done(Finish(Error(ErrorCode::kInvalidProducer,
                               "Producer-Id, Producer-Epoch and Producer-Seq go together")));
    }
    if (present == 3) {
      std::string_view id = protocol::TrimWhitespace(*pid);
      if (id.empty() || id.size() > kMaxProducerIdLength) {
        return done(Finish(Error(ErrorCode::kInvalidProducer,
                                 "Producer-Id must be 1 to 256 bytes")));
      }
      auto epoch = protocol::ParseProducerInteger(protocol::TrimWhitespace(*pepoch));
      auto seq = protocol::ParseProducerInteger(protocol::TrimWhitespace(*pseq));
      if (!epoch.ok() || !seq.ok()) {
        return done(Finish(Error(ErrorCode::kInvalidProducer,
                                 !epoch.ok() ? epoch.status().message() : seq.status().message())));
      }
      op->producer = ProducerTuple{std::string(id), *epoch, *seq};
    }
    if (const std::string* sseq = req.headers.Get("Stream-Seq")) {
      if (sseq->size() > kMaxStreamSeqLength) {
        return done(Finish(Error(ErrorCode::kBadRequest, "Stream-Seq is longer than 256 bytes")));
      }
      if (!sseq->empty()) op->stream_seq = *sseq;
    }
    if (op->has_body) {
      const std::string* ct = req.headers.Get("Content-Type");
      if (!ct || protocol::TrimWhitespace(*ct).empty()) {
        return done(Finish(Error(ErrorCode::kMissingContentType,
                                 "an append with a body needs a Content-Type")));
      }
      op->media_type = protocol::MediaType(*ct);
      if (protocol::IsJsonMediaType(op->media_type)) {
        op->json_body = true;
        protocol::JsonBatch batch = protocol::SplitJsonBatch(req.body);
        op->json_error = batch.error;
        op->json_error_message = std::move(batch.message);
        op->messages = std::move(batch.messages);
      } else {
        op->messages = protocol::MessageList::One(std::move(req.body));
      }
    }
    op->done = std::move(done);
    Enqueue(std::move(op));
  }

  // -------------------------------------------------------------------------
  // The commit thread

  void WriterLoop() {
    for (;;) {
      std::vector<std::unique_ptr<Op>> ops;
      {
        std::unique_lock<std::mutex> lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return (!queue_.empty() || stopping_) && !writer_busy_; });
        if (queue_.empty()) return;  // stopping, and everything is done
        size_t n = std::min(queue_.size(), std::max<size_t>(1, options_.max_batch_ops));
        ops.reserve(n);
        for (size_t i = 0; i < n; ++i) {
          ops.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        writer_busy_ = true;
      }
      ProcessBatch(ops);
      ReleaseWriter(ops.size());
    }
  }

  Overlay& Slot(BatchCtx& ctx, const std::string& path) {
    auto [it, inserted] = ctx.by_path.try_emplace(path);
    Overlay& ov = it->second;
    if (inserted) {
      if (auto s = FindPublished(path)) {
        bool gone;
        auto meta = s->Snapshot(&gone);
        if (!gone) {
          ov.stream = std::move(s);
          ov.rec = meta->rec;
          ov.published_tail = meta->rec.tail;
          ov.base = std::move(meta);
        }
      }
    }
    if (ov.stream && !ov.rec.soft_deleted && Expired(ov.rec, ov.stream.get(), ctx.now)) {
      Remove(ctx, ov);
    }
    return ov;
  }

  // How many forks read from stream `id`, counting this batch's changes.
  int64_t Children(const BatchCtx& ctx, int64_t id) const {
    int64_t n = 0;
    if (auto it = children_.find(id); it != children_.end()) n += it->second;
    if (auto it = ctx.children_delta.find(id); it != ctx.children_delta.end()) n += it->second;
    return n;
  }

  // The path of stream `id` as the batch sees it ("" if it has none).
  std::string PathOf(BatchCtx& ctx, int64_t id) {
    for (auto& [path, ov] : ctx.by_path) {
      if (ov.stream && ov.rec.id == id) return path;
    }
    auto s = FindById(id);
    return s ? s->path : std::string();
  }

  // Deletes the stream of `ov`. While forks read from it, the delete is soft:
  // it answers 410 and keeps its data. Otherwise its rows go, and so does
  // every soft-deleted source that only it kept (the cascade up the chain),
  // all in this batch's transaction.
  void Remove(BatchCtx& ctx, Overlay& ov) {
    if (Children(ctx, ov.rec.id) > 0) {
      if (!ov.rec.soft_deleted) {
        ov.rec.soft_deleted = true;
        ov.soft_deleted_now = true;
        ov.dirty = true;
      }
      return;
    }
    std::optional<int64_t> parent = ov.rec.fork_source_id;
    if (ov.created) {
      ctx.dropped_ids.insert(ov.rec.id);
    } else {
      ctx.wb.delete_streams.push_back(ov.rec.id);
      ctx.removed.push_back(ov.stream);
    }
    ov.stream = nullptr;
    ov.created = false;
    ov.dirty = false;
    ov.closed_now = false;
    ov.soft_deleted_now = false;
    ov.appended.clear();
    if (parent) {
      --ctx.children_delta[*parent];
      std::string parent_path = PathOf(ctx, *parent);
      if (parent_path.empty()) return;
      Overlay& pov = Slot(ctx, parent_path);
      if (pov.stream && pov.rec.id == *parent && pov.rec.soft_deleted &&
          Children(ctx, *parent) == 0) {
        Remove(ctx, pov);
      }
    }
  }

  void AppendMessages(BatchCtx& ctx, Overlay& ov, protocol::MessageList& messages) {
    if (!messages.empty()) {
      // One record (one row) for the whole append, however many messages.
      AppendRecord a;
      a.stream_id = ov.rec.id;
      a.start = ov.rec.tail;
      a.data = messages.data;
      if (messages.size() > 1) a.sizes = messages.sizes;
      ov.rec.tail += messages.data.size();
      ctx.appends.push_back(std::move(a));
      ov.appended.push_back(std::move(messages));
    }
    ov.dirty = true;
  }

  const protocol::ProducerState* FindProducer(BatchCtx& ctx, int64_t stream_id,
                                              const std::string& id) {
    auto it = ctx.producers.find({stream_id, id});
    if (it != ctx.producers.end()) return &it->second;
    auto s = producers_.find(stream_id);
    if (s == producers_.end()) return nullptr;
    auto p = s->second.find(id);
    return p == s->second.end() ? nullptr : &p->second;
  }

  // The configuration a create asks for, with what a fork inherits filled in
  // (PROTOCOL.md §4.2: content type, and TTL / Expires-At when none is given).
  struct WantedConfig {
    std::string content_type;
    std::optional<int64_t> ttl_seconds;
    std::optional<int64_t> expires_at_ms;
  };
  WantedConfig Wanted(const Op& op, const StreamRecord* source) {
    WantedConfig w{op.content_type, op.ttl_seconds, op.expires_at_ms};
    if (source) {
      if (!op.content_type_given) w.content_type = source->content_type;
      if (!op.ttl_seconds && !op.expires_at_ms) {
        w.ttl_seconds = source->ttl_seconds;
        w.expires_at_ms = source->expires_at_ms;
      }
    }
    return w;
  }

  // Resolves (anchor, sub-offset) on `source` to a position, or an error
  // response. Sub-offsets count bytes (binary) or flattened messages (JSON)
  // past the anchor and may not pass the end of the append holding it.
  std::optional<Response> ResolveForkPoint(const StreamRecord& source, uint64_t anchor,
                                           uint64_t sub, uint64_t* point) {
    if (anchor > source.tail) {
      return Error(ErrorCode::kInvalidFork, "Stream-Fork-Offset is beyond the source's tail");
    }
    *point = anchor;
    if (sub == 0) return std::nullopt;
    bool json = protocol::IsJsonMediaType(protocol::MediaType(source.content_type));
    std::vector<StoredMessage> msgs;
    Status s = ReadChain(source, anchor, source.tail, json ? options_.max_body_bytes + 1 : 1, &msgs);
    if (!s.ok()) return Error(StorageErrorCode(s), "reading the fork source failed: " + s.message());
    auto overshoot = [] {
      return Error(ErrorCode::kInvalidFork,
                   "Stream-Fork-Sub-Offset reaches past the end of the append at the offset");
    };
    if (msgs.empty()) return overshoot();
    if (!json) {
      if (anchor + sub > msgs.front().end) return overshoot();
      *point = anchor + sub;
      return std::nullopt;
    }
    uint64_t counted = 0;
    for (const StoredMessage& m : msgs) {
      if (m.start < anchor) {
        if (m.last_in_append) return overshoot();  // the anchor is inside the last message
        continue;
      }
      ++counted;
      if (counted == sub) {
        *point = m.end;
        return std::nullopt;
      }
      if (m.last_in_append) break;
    }
    return overshoot();
  }

  void ApplyCreate(BatchCtx& ctx, Op& op) {
    Overlay& ov = Slot(ctx, op.path);
    Overlay* src = nullptr;
    if (op.fork_from) {
      Overlay& so = Slot(ctx, *op.fork_from);
      if (so.stream) src = &so;
    }
    if (ov.stream) {
      const StreamRecord& rec = ov.rec;
      if (rec.soft_deleted) {
        op.response = Error(ErrorCode::kStreamExists,
                            "this path belongs to a deleted stream that forks still read");
        return;
      }
      const StreamRecord* source = src && !src->rec.soft_deleted ? &src->rec : nullptr;
      WantedConfig w = Wanted(op, source);
      bool same = protocol::MediaType(rec.content_type) == protocol::MediaType(w.content_type) &&
                  rec.ttl_seconds == w.ttl_seconds && rec.expires_at_ms == w.expires_at_ms &&
                  rec.closed == op.close;
      if (op.fork_from) {
        uint64_t anchor = op.fork_anchor ? *op.fork_anchor : (source ? source->tail : 0);
        same = same && rec.fork_source_id && rec.forked_from == *op.fork_from &&
               rec.fork_anchor == anchor && rec.fork_sub_offset == op.fork_sub_offset;
      } else {
        same = same && !rec.fork_source_id;
      }
      if (!same) {
        op.response = Error(ErrorCode::kStreamExists,
                            "a stream exists at this path with another configuration");
        return;
      }
      Response r;
      r.status = 200;
      r.headers.Set("Content-Type", rec.content_type);
      r.headers.Set("Stream-Next-Offset", FormatPosition(rec.tail));
      if (rec.closed) r.headers.Set("Stream-Closed", "true");
      op.response = std::move(r);
      return;
    }
    uint64_t fork_point = 0;
    uint64_t anchor = 0;
    if (op.fork_from) {
      if (!src) {
        op.response = Error(ErrorCode::kNotFound, "the fork source does not exist");
        return;
      }
      if (src->rec.soft_deleted) {
        op.response = Error(ErrorCode::kSourceGone, "the fork source was deleted");
        return;
      }
      if (op.content_type_given &&
          op.media_type != protocol::MediaType(src->rec.content_type)) {
        op.response = Error(ErrorCode::kContentTypeMismatch,
                            "a fork has its source's Content-Type: " + src->rec.content_type);
        return;
      }
      anchor = op.fork_anchor ? *op.fork_anchor : src->rec.tail;
      if (auto bad = ResolveForkPoint(src->rec, anchor, op.fork_sub_offset, &fork_point)) {
        op.response = std::move(*bad);
        return;
      }
    }
    WantedConfig w = Wanted(op, src ? &src->rec : nullptr);
    std::string media = protocol::MediaType(w.content_type);
    if (op.fork_from && !op.content_type_given && !op.messages.empty() &&
        protocol::IsJsonMediaType(media)) {
      // A fork's initial body in its inherited JSON mode: split it now.
      protocol::JsonBatch batch = protocol::SplitJsonBatch(op.messages.data);
      if (batch.error == protocol::JsonBatchError::kInvalidJson) {
        op.response = Error(ErrorCode::kInvalidJson, batch.message);
        return;
      }
      op.messages = std::move(batch.messages);
    }
    ov.stream = std::make_shared<Stream>(next_id_++, op.path);
    ov.created = true;
    ov.published_tail = 0;
    ov.appended.clear();
    StreamRecord& rec = ov.rec;
    rec = StreamRecord();
    rec.id = ov.stream->id;
    rec.path = op.path;
    rec.content_type = w.content_type;
    rec.ttl_seconds = w.ttl_seconds;
    rec.expires_at_ms = w.expires_at_ms;
    rec.created_at_ms = ctx.now;
    rec.last_access_ms = ctx.now;
    if (op.fork_from) {
      rec.fork_source_id = src->rec.id;
      rec.forked_from = *op.fork_from;
      rec.fork_anchor = anchor;
      rec.fork_sub_offset = op.fork_sub_offset;
      rec.fork_offset = fork_point;
      rec.tail = fork_point;
      ov.published_tail = fork_point;
      ++ctx.children_delta[src->rec.id];
    }
    ov.stream->last_access_ms = ctx.now;
    AppendMessages(ctx, ov, op.messages);
    rec.closed = op.close;
    ov.dirty = true;
    Response r;
    r.status = 201;
    r.headers.Set("Content-Type", rec.content_type);
    r.headers.Set("Stream-Next-Offset", FormatPosition(rec.tail));
    if (!op.url.empty()) r.headers.Set("Location", op.url);
    if (rec.closed) r.headers.Set("Stream-Closed", "true");
    op.response = std::move(r);
  }

  // The overlay of op.path if a stream lives there; otherwise answers op with
  // 404 (none) or 410 (soft-deleted) and returns null.
  Overlay* LiveSlot(BatchCtx& ctx, Op& op) {
    Overlay& ov = Slot(ctx, op.path);
    if (!ov.stream) {
      op.response = Error(ErrorCode::kNotFound, "stream not found");
      return nullptr;
    }
    if (ov.rec.soft_deleted) {
      op.response = Error(ErrorCode::kGone, "the stream was deleted");
      return nullptr;
    }
    return &ov;
  }

  void ApplyAppend(BatchCtx& ctx, Op& op) {
    Overlay* found = LiveSlot(ctx, op);
    if (!found) return;
    Overlay& ov = *found;
    StreamRecord& rec = ov.rec;
    auto with_offset = [&](Response r) {
      r.headers.Set("Stream-Next-Offset", FormatPosition(rec.tail));
      if (rec.closed) r.headers.Set("Stream-Closed", "true");
      return r;
    };
    const protocol::ProducerState* pstate =
        op.producer ? FindProducer(ctx, rec.id, op.producer->id) : nullptr;

    if (rec.closed) {
      if (op.producer && rec.closed_by_producer && *rec.closed_by_producer == op.producer->id &&
          rec.closed_by_epoch == op.producer->epoch && rec.closed_by_seq == op.producer->seq) {
        Response r;
        r.status = 204;
        r.headers.Set("Producer-Epoch", std::to_string(op.producer->epoch));
        r.headers.Set("Producer-Seq", std::to_string(pstate ? pstate->last_seq : op.producer->seq));
        op.response = with_offset(std::move(r));
        return;
      }
      if (op.producer && pstate && op.producer->epoch < pstate->epoch) {
        Response r = Error(ErrorCode::kStaleEpoch, "a newer producer epoch exists");
        r.headers.Set("Producer-Epoch", std::to_string(pstate->epoch));
        op.response = std::move(r);
        return;
      }
      if (!op.has_body && op.close) {
        Response r;
        r.status = 204;
        op.response = with_offset(std::move(r));
        return;
      }
      op.response = with_offset(Error(ErrorCode::kStreamClosed, "the stream is closed"));
      return;
    }
    if (op.has_body && op.media_type != protocol::MediaType(rec.content_type)) {
      op.response = Error(ErrorCode::kContentTypeMismatch,
                          "the stream's Content-Type is " + rec.content_type);
      return;
    }
    if (op.has_body && op.json_body) {
      if (op.json_error == protocol::JsonBatchError::kInvalidJson) {
        op.response = Error(ErrorCode::kInvalidJson, op.json_error_message);
        return;
      }
      if (op.json_error == protocol::JsonBatchError::kEmptyArray) {
        op.response = Error(ErrorCode::kEmptyJsonArray, op.json_error_message);
        return;
      }
    }
    protocol::ProducerState next_state;
    if (op.producer) {
      protocol::ProducerCheck c =
          protocol::CheckProducer(pstate, op.producer->epoch, op.producer->seq);
      switch (c.verdict) {
        case protocol::ProducerVerdict::kAccept: next_state = c.next; break;
        case protocol::ProducerVerdict::kDuplicate: {
          Response r;
          r.status = 204;
          r.headers.Set("Producer-Epoch", std::to_string(pstate->epoch));
          r.headers.Set("Producer-Seq", std::to_string(pstate->last_seq));
          op.response = with_offset(std::move(r));
          return;
        }
        case protocol::ProducerVerdict::kStaleEpoch: {
          Response r = Error(ErrorCode::kStaleEpoch, "a newer producer epoch exists");
          r.headers.Set("Producer-Epoch", std::to_string(pstate->epoch));
          op.response = std::move(r);
          return;
        }
        case protocol::ProducerVerdict::kEpochSeqNotZero:
          op.response = Error(ErrorCode::kEpochSeqNotZero, "a new producer epoch must start at seq 0");
          return;
        case protocol::ProducerVerdict::kSeqGap: {
          Response r = Error(ErrorCode::kProducerSeqGap, "producer sequence gap");
          r.headers.Set("Producer-Expected-Seq", std::to_string(c.expected_seq));
          r.headers.Set("Producer-Received-Seq", std::to_string(op.producer->seq));
          op.response = std::move(r);
          return;
        }
      }
    }
    if (op.stream_seq && !rec.last_stream_seq.empty() && *op.stream_seq <= rec.last_stream_seq) {
      op.response = Error(ErrorCode::kSeqConflict, "Stream-Seq must increase");
      return;
    }
    // Accepted: apply.
    AppendMessages(ctx, ov, op.messages);
    if (op.stream_seq) rec.last_stream_seq = *op.stream_seq;
    rec.last_access_ms = ctx.now;
    if (op.close) {
      rec.closed = true;
      ov.closed_now = true;
      if (op.producer) {
        rec.closed_by_producer = op.producer->id;
        rec.closed_by_epoch = op.producer->epoch;
        rec.closed_by_seq = op.producer->seq;
      }
    }
    ov.dirty = true;
    Response r;
    r.status = 204;
    if (op.producer) {
      ctx.producers[{rec.id, op.producer->id}] = next_state;
      r.status = op.has_body ? 200 : 204;
      r.headers.Set("Producer-Epoch", std::to_string(next_state.epoch));
      r.headers.Set("Producer-Seq", std::to_string(next_state.last_seq));
    }
    op.response = with_offset(std::move(r));
  }

  void ApplyDelete(BatchCtx& ctx, Op& op) {
    Overlay* found = LiveSlot(ctx, op);
    if (!found) return;
    Overlay& ov = *found;
    Remove(ctx, ov);
    Response r;
    r.status = 204;
    op.response = std::move(r);
  }

  void ApplySweep(BatchCtx& ctx) {
    std::vector<std::shared_ptr<Stream>> all;
    {
      std::lock_guard<std::mutex> lock(map_mu_);
      all.reserve(streams_.size());
      for (auto& [path, s] : streams_) all.push_back(s);
    }
    for (auto& s : all) {
      bool gone;
      auto meta = s->Snapshot(&gone);
      if (gone) continue;
      if (Expired(meta->rec, s.get(), ctx.now)) {
        Slot(ctx, s->path);  // removes it
      } else if (s->touched.exchange(false)) {
        ctx.wb.touches.emplace_back(s->id, s->last_access_ms.load());
      }
    }
  }

  // Applies the ops in order, committing as few times as possible. A fork of
  // a stream that this batch already changed reads that stream's data, so
  // what came before it is committed first.
  void ProcessBatch(std::vector<std::unique_ptr<Op>>& ops) {
    size_t begin = 0;
    while (begin < ops.size()) {
      BatchCtx ctx;
      ctx.now = Now();
      size_t i = begin;
      for (; i < ops.size(); ++i) {
        Op& op = *ops[i];
        if (i > begin && op.kind == Op::Kind::kCreate && op.fork_from) {
          auto it = ctx.by_path.find(*op.fork_from);
          if (it != ctx.by_path.end() && (it->second.dirty || !it->second.stream)) break;
        }
        switch (op.kind) {
          case Op::Kind::kCreate: ApplyCreate(ctx, op); break;
          case Op::Kind::kAppend: ApplyAppend(ctx, op); break;
          case Op::Kind::kDelete: ApplyDelete(ctx, op); break;
          case Op::Kind::kExpire: Slot(ctx, op.path); break;
          case Op::Kind::kSweep: ApplySweep(ctx); break;
        }
      }
      CommitBatch(ctx, ops, begin, i);
      begin = i;
    }
  }

  // Whether the batch changed nothing of an existing stream's record but its
  // tail (and last access, which matters only with a sliding TTL). Its row
  // is then not rewritten: the storage derives the tail from the appends it
  // holds (Storage::Load), which saves a page write per append.
  static bool OnlyTailMoved(const Overlay& ov) {
    if (ov.created || !ov.base || ov.rec.ttl_seconds) return false;
    const StreamRecord& a = ov.base->rec;
    const StreamRecord& b = ov.rec;
    return a.id == b.id && a.path == b.path && a.content_type == b.content_type &&
           a.ttl_seconds == b.ttl_seconds && a.expires_at_ms == b.expires_at_ms &&
           a.created_at_ms == b.created_at_ms && a.closed == b.closed &&
           a.last_stream_seq == b.last_stream_seq && a.closed_by_producer == b.closed_by_producer &&
           a.closed_by_epoch == b.closed_by_epoch && a.closed_by_seq == b.closed_by_seq &&
           a.fork_source_id == b.fork_source_id && a.forked_from == b.forked_from &&
           a.fork_anchor == b.fork_anchor && a.fork_sub_offset == b.fork_sub_offset &&
           a.fork_offset == b.fork_offset && a.soft_deleted == b.soft_deleted;
  }

  void CommitBatch(BatchCtx& ctx, std::vector<std::unique_ptr<Op>>& ops, size_t begin,
                   size_t end) {
    // Streams removed in this batch take no writes after their deletion.
    std::set<int64_t> gone(ctx.dropped_ids.begin(), ctx.dropped_ids.end());
    gone.insert(ctx.wb.delete_streams.begin(), ctx.wb.delete_streams.end());
    for (auto& [path, ov] : ctx.by_path) {
      if (!ov.stream || !ov.dirty) continue;
      ov.rec.last_access_ms = std::max(ov.rec.last_access_ms, ov.stream->last_access_ms.load());
      if (OnlyTailMoved(ov)) continue;
      ctx.wb.upsert_streams.push_back(ov.rec);
    }
    for (auto& [key, st] : ctx.producers) {
      if (gone.count(key.first)) continue;
      ProducerRecord p;
      p.stream_id = key.first;
      p.producer_id = key.second;
      p.epoch = st.epoch;
      p.last_seq = st.last_seq;
      p.updated_at_ms = ctx.now;
      ctx.wb.upsert_producers.push_back(std::move(p));
    }
    for (auto& a : ctx.appends) {
      if (!gone.count(a.stream_id)) ctx.wb.appends.push_back(std::move(a));
    }
    Status s = storage_->Apply(ctx.wb);
    if (!s.ok()) {
      // Nothing of the batch is stored: answer every op with the failure.
      ErrorCode code = StorageErrorCode(s);
      std::string msg = code == ErrorCode::kStorageFull
                            ? "the disk is full; nothing was written"
                            : "storage failed; nothing was written: " + s.message();
      for (size_t i = begin; i < end; ++i) {
        if (ops[i]->done) ops[i]->done(Finish(Error(code, msg)));
      }
      return;
    }
    Publish(ctx);
    std::vector<Wakeup> wakeups;
    SwapSnapshots(ctx, &wakeups);
    for (size_t i = begin; i < end; ++i) {
      if (ops[i]->done) ops[i]->done(Finish(std::move(ops[i]->response)));
    }
    Wake(wakeups);
  }

  // Makes the batch visible. Runs after a successful commit.
  void Publish(BatchCtx& ctx) {
    {
      std::lock_guard<std::mutex> lock(map_mu_);
      for (auto& s : ctx.removed) {
        auto it = streams_.find(s->path);
        if (it != streams_.end() && it->second == s) streams_.erase(it);
        by_id_.erase(s->id);
      }
      for (auto& [path, ov] : ctx.by_path) {
        if (!ov.stream || !ov.created) continue;
        {
          // Nobody can see the stream yet; give it a snapshot before it is.
          std::lock_guard<std::mutex> slock(ov.stream->mu);
          ov.stream->meta = MakeMeta(ov.rec);
        }
        streams_[path] = ov.stream;
        by_id_[ov.stream->id] = ov.stream;
      }
    }
    for (auto& [id, delta] : ctx.children_delta) {
      if (ctx.dropped_ids.count(id)) continue;
      int64_t& n = children_[id];
      n += delta;
      if (n <= 0) children_.erase(id);
    }
    for (auto& s : ctx.removed) children_.erase(s->id);
    for (auto& s : ctx.removed) producers_.erase(s->id);
    for (auto& [key, st] : ctx.producers) {
      if (!ctx.dropped_ids.count(key.first)) producers_[key.first][key.second] = st;
    }
  }

  // What a commit owes live readers, collected while publishing and handed
  // out after the ops are answered.
  struct Wakeup {
    std::shared_ptr<const StreamMeta> meta;
    const Overlay* ov = nullptr;
    ErrorCode gone_code = ErrorCode::kNotFound;  // for a stream that is gone
    std::vector<std::shared_ptr<LongPollWaiter>> waiters;
    std::vector<std::shared_ptr<LiveReader>> readers;
  };

  // Swaps in the new snapshots (so that an answered append is visible to the
  // client's next read) and takes the live readers that must be woken.
  void SwapSnapshots(BatchCtx& ctx, std::vector<Wakeup>* wakeups) {
    for (auto& s : ctx.removed) {
      Wakeup w;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        s->gone = true;
        w.waiters.swap(s->waiters);
        w.readers.swap(s->readers);
      }
      wakeups->push_back(std::move(w));
    }
    for (auto& [path, ov] : ctx.by_path) {
      if (!ov.stream || !ov.dirty) continue;
      Wakeup w;
      w.meta = MakeMeta(ov.rec);
      w.ov = &ov;
      if (ov.soft_deleted_now) {
        Wakeup gone;
        gone.gone_code = ErrorCode::kGone;
        {
          std::lock_guard<std::mutex> lock(ov.stream->mu);
          ov.stream->meta = w.meta;
          gone.waiters.swap(ov.stream->waiters);
          gone.readers.swap(ov.stream->readers);
        }
        wakeups->push_back(std::move(gone));
        continue;
      }
      bool changed = !ov.appended.empty() || ov.closed_now;
      {
        std::lock_guard<std::mutex> lock(ov.stream->mu);
        ov.stream->meta = w.meta;
        if (changed) {
          w.waiters.swap(ov.stream->waiters);
          if (ov.closed_now) {
            w.readers.swap(ov.stream->readers);
          } else {
            w.readers = ov.stream->readers;
          }
        }
      }
      if (ov.stream->last_access_ms.load() < ov.rec.last_access_ms) {
        ov.stream->last_access_ms = ov.rec.last_access_ms;
      }
      if (!w.waiters.empty() || !w.readers.empty()) wakeups->push_back(std::move(w));
    }
  }

  void Wake(std::vector<Wakeup>& wakeups) {
    for (Wakeup& w : wakeups) {
      if (w.ov) {
        Deliver(*w.meta, *w.ov, w.waiters, w.readers);
        continue;
      }
      // The stream is gone.
      for (auto& lp : w.waiters) {
        timer_.Cancel(lp->timer);
        if (lp->Claim()) lp->done(Finish(Error(w.gone_code, "stream was deleted")));
      }
      for (auto& r : w.readers) {
        timer_.Cancel(r->lifetime_timer);
        timer_.Cancel(r->heartbeat_timer);
        r->session->End();
      }
    }
  }

  void Deliver(const StreamMeta& meta, const Overlay& ov,
               std::vector<std::shared_ptr<LongPollWaiter>>& waiters,
               std::vector<std::shared_ptr<LiveReader>>& readers) {
    // Encode the new messages once for everybody.
    std::string body;
    if (!ov.appended.empty()) {
      if (meta.json) {
        std::vector<std::string_view> views;
        for (auto& list : ov.appended) list.ForEach([&](std::string_view m) { views.push_back(m); });
        protocol::AppendJsonArray(views, &body);
      } else {
        for (auto& list : ov.appended) body.append(list.data);
      }
    }
    uint64_t tail = meta.rec.tail;
    uint64_t from = ov.published_tail;
    for (auto& w : waiters) {
      timer_.Cancel(w->timer);
      if (!w->Claim()) continue;
      if (ov.appended.empty()) {
        w->done(Finish(TimeoutResponse(meta, w->client_cursor)));
      } else {
        std::string c = protocol::NextCursor(Now(), w->client_cursor, Jitter());
        w->done(Finish(DataResponse(meta, from, tail, body, &c)));
      }
    }
    if (readers.empty()) return;
    std::string data_event;
    if (!ov.appended.empty()) {
      if (meta.text) {
        protocol::AppendSseEvent("data", body, &data_event);
      } else {
        std::string b64;
        protocol::AppendBase64(body, &b64);
        protocol::AppendSseEvent("data", b64, &data_event);
      }
    }
    // The control event depends on the reader only through the cursor it
    // sent: readers that sent the same one (most often none) share one, with
    // one time and one jitter for the whole delivery.
    int64_t now = Now(), jitter = Jitter();
    std::string control;
    const std::string* control_cursor = nullptr;
    for (auto& r : readers) {
      if (!control_cursor || *control_cursor != r->client_cursor) {
        control.clear();
        AppendControlAt(now, jitter, r->client_cursor, tail, true, meta.rec.closed, &control);
        control_cursor = &r->client_cursor;
      }
      // The shared data event and the control event, in one Push.
      r->session->Push(data_event, control);
      r->next_pos = tail;
      if (meta.rec.closed) {
        timer_.Cancel(r->lifetime_timer);
        timer_.Cancel(r->heartbeat_timer);
        r->session->End();
      }
    }
  }

  Options options_;
  std::shared_ptr<Storage> storage_;
  engine::Timer timer_;

  std::mutex sessions_mu_;
  std::vector<std::weak_ptr<engine::SseSession>> sessions_;  // every SSE response; sessions_mu_

  std::mutex map_mu_;
  std::unordered_map<std::string, std::shared_ptr<Stream>> streams_;  // guarded by map_mu_
  std::unordered_map<int64_t, std::shared_ptr<Stream>> by_id_;        // guarded by map_mu_

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<Op>> queue_;  // guarded by queue_mu_
  bool stopping_ = false;                  // guarded by queue_mu_
  // Whether a thread is processing a batch: the commit thread, or a caller
  // committing its own append. Only one at a time; the members below are
  // theirs.
  bool writer_busy_ = false;               // guarded by queue_mu_
  bool last_batch_single_ = true;          // guarded by queue_mu_
  std::thread writer_;

  // The writer (see writer_busy_) only:
  int64_t next_id_ = 1;
  std::unordered_map<int64_t, int64_t> children_;  // stream id -> forks that read from it
  std::unordered_map<int64_t, std::unordered_map<std::string, protocol::ProducerState>> producers_;
};

}  // namespace

Result<std::unique_ptr<StreamEngine>> StreamEngine::Open(const Options& in) {
  Options options = in;
  if (!options.clock) options.clock = SystemClock();
  std::shared_ptr<Storage> storage = options.storage;
  if (!storage) {
    DefaultStorageOptions so;
    so.data_dir = options.data_dir;
    so.cold_tier = options.cold_tier;
    so.sqlite.sync = options.sync;
    so.sqlite.exclusive = options.exclusive_database;
    so.sqlite.segment_store = options.segment_store;
    so.sqlite.segment_max_messages = options.segment_max_messages;
    so.sqlite.segment_max_bytes = options.segment_max_bytes;
    so.sqlite.segment_cache_bytes = options.segment_cache_bytes;
    so.sqlite.test_hooks = options.storage_test_hooks;
    auto opened = OpenDefaultStorage(so);
    if (!opened.ok()) return opened.status();
    storage = *opened;
  }
  auto engine = std::make_unique<EngineImpl>(std::move(options), std::move(storage));
  Status s = engine->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<StreamEngine>(std::move(engine));
}

Response StreamEngine::HandleSync(Request request) {
  auto promise = std::make_shared<std::promise<Response>>();
  auto future = promise->get_future();
  Handle(std::move(request), [promise](Response r) { promise->set_value(std::move(r)); });
  return future.get();
}

}  // namespace durablestreams
