// lib/engine/engine.cc: opening and shutting down the engine, and the
// mutating commands as far as they are checked on the caller's thread
// (engine_impl.h says how the engine is put together).
#include <pthread.h>

#include <random>

#include "engine/engine_impl.h"
#include "protocol/headers.h"
#include "protocol/json_batch.h"
#include "protocol/request_decoder.h"

namespace durablestreams {

namespace engine {

namespace {

constexpr const char* kDefaultContentType = "application/octet-stream";
constexpr size_t kMaxProducerIdLength = 256;
constexpr size_t kMaxStreamSeqLength = 256;

}  // namespace

ErrorCode StorageErrorCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNoSpace: return ErrorCode::kStorageFull;
    case StatusCode::kBusy:
    case StatusCode::kUnavailable:
    case StatusCode::kShutdown: return ErrorCode::kUnavailable;
    default: return ErrorCode::kInternal;
  }
}

StreamError StorageError(const Status& s, std::string_view what) {
  return MakeError(StorageErrorCode(s), std::string(what) + ": " + s.message());
}

int64_t Jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(1, 3600)(rng);
}

std::string NewReaderKey() {
  thread_local std::random_device rd;  // the kernel's generator (libstdc++ on Linux)
  static const char kHex[] = "0123456789abcdef";
  std::string key;
  for (int i = 0; i < 4; ++i) {
    uint32_t v = rd();
    for (int k = 0; k < 8; ++k) key += kHex[(v >> (4 * k)) & 15];
  }
  return key;
}

Status EngineImpl::Start() {
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
    producers_[p.stream_id][p.producer_id] = {
        {p.epoch, p.last_seq}, p.updated_at_ms, std::nullopt};
  }
  for (const FanoutLink& l : state.links) {
    fanout_[l.source_id][l.target_id] = l.subscribed_at_ms;
    fanin_[l.target_id].insert(l.source_id);
  }
  RegisterMetrics();
  if (options_.read_cache_bytes) {
    coalescer_ = std::make_unique<ReadCoalescer>(options_.read_cache_bytes);
  }
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ds-commit");
    WriterLoop();
  });
  ScheduleSweep();
  return Status::OK();
}

void EngineImpl::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  ForgetMetrics();
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
      if (w->Claim()) w->done(UpToDateOutcome(*meta, w->client_cursor));
    }
    for (auto& r : readers) r->session->End();
  }
  // SSE responses still catching up are on no stream's list.
  std::vector<std::weak_ptr<SseSession>> sessions;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions.swap(sessions_);
  }
  for (auto& w : sessions) {
    if (auto s = w.lock()) s->End();
  }
}

bool EngineImpl::IsStopping() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return stopping_;
}

std::shared_ptr<Stream> EngineImpl::FindPublished(const std::string& path) {
  std::lock_guard<std::mutex> lock(map_mu_);
  auto it = streams_.find(path);
  return it == streams_.end() ? nullptr : it->second;
}

std::shared_ptr<Stream> EngineImpl::FindById(int64_t id) {
  std::lock_guard<std::mutex> lock(map_mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

void EngineImpl::Create(CreateCommand c, CreateCallback done) {
  auto refuse = [&](StreamError e) {
    CreateOutcome o;
    o.error = std::move(e);
    done(std::move(o));
  };
  if (auto bad = protocol::CheckPath(c.path)) return refuse(std::move(*bad));
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kCreate;
  op->path = std::move(c.path);
  op->location = std::move(c.location);
  if (c.fork) {
    if (auto bad = protocol::CheckPath(c.fork->source)) return refuse(std::move(*bad));
    if (c.fork->sub_offset > 0 && !c.fork->offset) {
      return refuse(
          MakeError(ErrorCode::kInvalidFork, "Stream-Fork-Sub-Offset needs Stream-Fork-Offset"));
    }
    op->fork = std::move(c.fork);
  }
  op->content_type_given = c.content_type && !c.content_type->empty();
  op->content_type = op->content_type_given ? std::move(*c.content_type) : kDefaultContentType;
  op->media_type = protocol::MediaType(op->content_type);
  if (!protocol::IsValidMediaType(op->media_type)) {
    return refuse(MakeError(ErrorCode::kInvalidContentType, "Content-Type is not a media type"));
  }
  if (c.ttl_seconds && c.expires_at_ms) {
    return refuse(
        MakeError(ErrorCode::kTtlAndExpiresAt, "give Stream-TTL or Stream-Expires-At, not both"));
  }
  if (c.ttl_seconds && *c.ttl_seconds < 0) {
    return refuse(MakeError(ErrorCode::kInvalidTtl, "Stream-TTL must not be negative"));
  }
  op->ttl_seconds = c.ttl_seconds;
  op->expires_at_ms = c.expires_at_ms;
  op->public_read = c.public_read.value_or(false);
  if (!op->public_read) op->reader_key = NewReaderKey();
  op->close = c.close;
  if (!c.body.empty()) {
    op->has_body = true;
    if (op->fork && !op->content_type_given) {
      // The type comes from the source: split on the commit thread.
      op->messages = protocol::MessageList::One(std::move(c.body));
    } else if (protocol::IsJsonMediaType(op->media_type)) {
      protocol::JsonBatch batch = protocol::SplitJsonBatch(c.body);
      if (batch.error == protocol::JsonBatchError::kInvalidJson) {
        return refuse(MakeError(ErrorCode::kInvalidJson, batch.message));
      }
      op->messages = std::move(batch.messages);  // [] creates an empty stream
    } else {
      op->messages = protocol::MessageList::One(std::move(c.body));
    }
  }
  op->on_create = std::move(done);
  Enqueue(std::move(op));
}

void EngineImpl::Append(AppendCommand c, AppendCallback done) {
  auto refuse = [&](StreamError e) {
    AppendOutcome o;
    o.error = std::move(e);
    done(std::move(o));
  };
  if (auto bad = protocol::CheckPath(c.path)) return refuse(std::move(*bad));
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kAppend;
  op->path = std::move(c.path);
  op->close = c.close;
  op->has_body = !c.body.empty();
  if (!op->has_body && !op->close) {
    return refuse(MakeError(ErrorCode::kEmptyBody,
                            "an append needs a body (or Stream-Closed: true to close)"));
  }
  if (c.producer) {
    if (c.producer->id.empty() || c.producer->id.size() > kMaxProducerIdLength) {
      return refuse(MakeError(ErrorCode::kInvalidProducer, "Producer-Id must be 1 to 256 bytes"));
    }
    if (c.producer->epoch < 0 || c.producer->seq < 0) {
      return refuse(MakeError(ErrorCode::kInvalidProducer,
                              "Producer-Epoch and Producer-Seq must not be negative"));
    }
    op->producer = std::move(c.producer);
  }
  if (c.stream_seq) {
    if (c.stream_seq->size() > kMaxStreamSeqLength) {
      return refuse(MakeError(ErrorCode::kBadRequest, "Stream-Seq is longer than 256 bytes"));
    }
    if (!c.stream_seq->empty()) op->stream_seq = std::move(c.stream_seq);
  }
  if (op->has_body) {
    if (protocol::TrimWhitespace(c.content_type).empty()) {
      return refuse(
          MakeError(ErrorCode::kMissingContentType, "an append with a body needs a Content-Type"));
    }
    op->media_type = protocol::MediaType(c.content_type);
    if (protocol::IsJsonMediaType(op->media_type)) {
      protocol::JsonBatch batch = protocol::SplitJsonBatch(c.body);
      if (batch.error == protocol::JsonBatchError::kInvalidJson) {
        op->body_error = MakeError(ErrorCode::kInvalidJson, std::move(batch.message));
      } else if (batch.error == protocol::JsonBatchError::kEmptyArray) {
        op->body_error = MakeError(ErrorCode::kEmptyJsonArray, std::move(batch.message));
      }
      op->messages = std::move(batch.messages);
    } else {
      op->messages = protocol::MessageList::One(std::move(c.body));
    }
  }
  op->on_append = std::move(done);
  Enqueue(std::move(op));
}

void EngineImpl::Delete(DeleteCommand c, DeleteCallback done) {
  if (auto bad = protocol::CheckPath(c.path)) {
    DeleteOutcome o;
    o.error = std::move(bad);
    return done(std::move(o));
  }
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kDelete;
  op->path = std::move(c.path);
  op->on_delete = std::move(done);
  Enqueue(std::move(op));
}

}  // namespace engine

Result<std::unique_ptr<StreamEngine>> StreamEngine::Open(const Options& in) {
  Options options = in;
  if (!options.clock) options.clock = SystemClock();
  std::shared_ptr<Storage> storage = options.storage;
  if (!storage) {
    auto opened = OpenDefaultStorage(options.default_storage);
    if (!opened.ok()) return opened.status();
    storage = *opened;
  }
  auto engine = std::make_unique<engine::EngineImpl>(std::move(options), std::move(storage));
  Status s = engine->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<StreamEngine>(std::move(engine));
}

}  // namespace durablestreams
