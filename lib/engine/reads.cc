// lib/engine/reads.cc: reads (PROTOCOL.md §5.5-§5.7) from the published
// snapshot of a stream: catch-up reads, long-polls that wait at the tail
// (answered here on timeout, by live_readers.cc when data comes), and Info.
// Reads never take the writer's turn and never wait for it.
#include <algorithm>

#include "engine/engine_impl.h"
#include "protocol/cursor.h"
#include "protocol/json_batch.h"
#include "protocol/offset.h"
#include "storage/message_bytes.h"

namespace durablestreams::engine {

namespace {

template <typename Outcome>
Outcome Refused(ErrorCode code, std::string message) {
  Outcome o;
  o.error = MakeError(code, std::move(message));
  return o;
}

// Compares a reader key in time that does not depend on where it differs.
bool SameKey(const std::string& given, const std::string& key) {
  if (given.size() != key.size() || key.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ key[i]);
  return diff == 0;
}

}  // namespace

// Finds the stream of a read: published, not gone, not deleted, not expired
// (an expired one is queued for removal), and public if `public_only`. Null
// with *error set otherwise; a stream that is not public is "not found".
std::shared_ptr<Stream> EngineImpl::FindReadable(const std::string& path,
                                                 std::shared_ptr<const StreamMeta>* meta,
                                                 std::optional<StreamError>* error,
                                                 bool public_only) {
  if (IsStopping()) {
    *error = MakeError(ErrorCode::kUnavailable, "the server is shutting down");
    return nullptr;
  }
  std::shared_ptr<Stream> stream = FindPublished(path);
  bool gone = true;
  if (stream) *meta = stream->Snapshot(&gone);
  if (!stream || gone || (public_only && !(*meta)->rec.public_read)) {
    *error = MakeError(ErrorCode::kNotFound, "stream not found");
    return nullptr;
  }
  if ((*meta)->rec.soft_deleted) {
    *error = MakeError(ErrorCode::kGone, "the stream was deleted");
    return nullptr;
  }
  if (Expired((*meta)->rec, stream.get(), Now())) {
    EnqueueExpire(path);
    *error = MakeError(ErrorCode::kNotFound, "stream not found");
    return nullptr;
  }
  return stream;
}

void EngineImpl::Info(InfoCommand c, InfoCallback done) {
  std::shared_ptr<const StreamMeta> meta;
  InfoOutcome o;
  if (FindReadable(c.path, &meta, &o.error, c.public_only)) o.stream = DescribeStream(meta->rec);
  done(std::move(o));
}

void EngineImpl::Read(ReadCommand c, ReadCallback done) {
  std::shared_ptr<const StreamMeta> meta;
  std::optional<StreamError> error;
  std::shared_ptr<Stream> stream = FindReadable(c.path, &meta, &error, c.public_only);
  if (!stream) {
    ReadOutcome o;
    o.error = std::move(error);
    return done(std::move(o));
  }
  int64_t now = Now();
  if (meta->rec.ttl_seconds) stream->Touch(now);
  bool shareable = meta->rec.public_read || SameKey(c.reader_key, meta->rec.reader_key);

  uint64_t pos = 0;
  if (c.from == ReadCommand::From::kNow) {
    pos = meta->rec.tail;
  } else if (c.from == ReadCommand::From::kOffset) {
    if (c.offset > meta->rec.tail) {
      return done(
          Refused<ReadOutcome>(ErrorCode::kInvalidOffset, "offset is beyond the stream's tail"));
    }
    pos = c.offset;
  }

  // A live read lasts its mode's time, or less if the caller's credential
  // runs out sooner (commands.h).
  auto limit = [&c](std::chrono::milliseconds mode) {
    return c.live_limit ? std::min(mode, *c.live_limit) : mode;
  };
  if (c.live == LiveMode::kSse) {
    return StartSse(stream, meta, pos, c.cursor, limit(options_.sse_max_duration), std::move(done));
  }

  if (c.live == LiveMode::kNone && c.from == ReadCommand::From::kNow) {
    // Where the tail is, with no data: not an answer to cache.
    ReadOutcome o;
    o.content_type = meta->rec.content_type;
    o.next_offset = meta->rec.tail;
    o.up_to_date = true;
    o.closed = meta->rec.closed;
    o.body = meta->json ? "[]" : "";
    return done(std::move(o));
  }

  if (c.live == LiveMode::kLongPoll && pos >= meta->rec.tail) {
    if (meta->rec.closed) return done(UpToDateOutcome(*meta, c.cursor));
    return WaitForData(stream, pos, c.cursor, limit(options_.long_poll_timeout), shareable,
                       std::move(done));
  }

  std::string cursor;
  if (c.live == LiveMode::kLongPoll) cursor = protocol::NextCursor(now, c.cursor, Jitter());
  ReadOutcome o = DataFrom(*meta, pos, c.live == LiveMode::kLongPoll ? &cursor : nullptr);
  if (!o.error && c.if_none_match && c.live == LiveMode::kNone && *c.if_none_match == o.etag) {
    ReadOutcome nm;
    nm.kind = ReadOutcome::Kind::kNotModified;
    nm.etag = std::move(o.etag);
    nm.shareable = shareable;
    nm.cacheable = o.cacheable;  // cached as the data it validates
    nm.up_to_date = o.up_to_date;
    nm.ttl_left_seconds = o.ttl_left_seconds;
    return done(std::move(nm));
  }
  o.shareable = shareable;
  done(std::move(o));
}

// Reads messages in [pos, tail) (at most max_read_bytes) and encodes the
// body. Returns the position after the returned data in *next. Identical
// reads share one (read_coalescer.h).
Status EngineImpl::ReadRange(const StreamMeta& meta, uint64_t pos, std::string* body,
                             uint64_t* next) {
  if (!coalescer_ || pos >= meta.rec.tail) return ReadStored(meta, pos, body, next);
  bool shared = false;
  Status s = coalescer_->Read(
      meta.rec.id, pos, meta.rec.tail,
      [&](std::string* b, uint64_t* n) { return ReadStored(meta, pos, b, n); }, body, next,
      &shared);
  if (shared) Count(metrics_.reads_coalesced);
  return s;
}

// ReadRange from the store itself.
Status EngineImpl::ReadStored(const StreamMeta& meta, uint64_t pos, std::string* body,
                              uint64_t* next) {
  *next = pos;
  // Bytes with no fork source to clip: the storage appends them itself.
  bool as_bytes = !meta.json && (!meta.rec.fork_source_id || pos >= meta.rec.fork_offset);
  std::vector<StoredMessage> msgs;
  if (pos < meta.rec.tail) {
    Count(metrics_.storage_reads);
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
Status EngineImpl::ReadChain(const StreamRecord& rec, uint64_t from, uint64_t to, size_t max_bytes,
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

ReadOutcome EngineImpl::DataOutcome(const StreamMeta& meta, uint64_t start, uint64_t next,
                                    std::string body, const std::string* cursor) {
  ReadOutcome o;
  o.content_type = meta.rec.content_type;
  o.next_offset = next;
  o.up_to_date = next >= meta.rec.tail;
  o.closed = o.up_to_date && meta.rec.closed;
  if (cursor) o.cursor = *cursor;
  o.long_poll = cursor != nullptr;  // only long-polls carry a cursor here
  if (meta.rec.expires_at_ms || meta.rec.ttl_seconds) {
    int64_t left = INT64_MAX;
    if (meta.rec.expires_at_ms) left = (*meta.rec.expires_at_ms - Now()) / 1000;
    if (meta.rec.ttl_seconds) left = std::min(left, *meta.rec.ttl_seconds);
    o.ttl_left_seconds = left;
  }
  // The same range of the same stream is the same bytes forever, except
  // that a read reaching the tail learns of a closure later.
  o.etag = "\"" + std::to_string(meta.rec.id) + ":" + protocol::FormatPosition(start) + ":" +
           protocol::FormatPosition(next) + (o.closed ? ":c" : "") + "\"";
  o.cacheable = true;
  o.body = std::move(body);
  return o;
}

ReadOutcome EngineImpl::DataFrom(const StreamMeta& meta, uint64_t pos, const std::string* cursor) {
  std::string body;
  uint64_t next;
  Status s = ReadRange(meta, pos, &body, &next);
  if (!s.ok()) {
    ReadOutcome o;
    o.error = StorageError(s, "read failed");
    return o;
  }
  return DataOutcome(meta, pos, next, std::move(body), cursor);
}

ReadOutcome EngineImpl::UpToDateOutcome(const StreamMeta& meta, const std::string& client_cursor) {
  ReadOutcome o;
  o.kind = ReadOutcome::Kind::kUpToDate;
  o.next_offset = meta.rec.tail;
  o.up_to_date = true;
  o.closed = meta.rec.closed;
  if (!meta.rec.closed) o.cursor = protocol::NextCursor(Now(), client_cursor, Jitter());
  return o;
}

void EngineImpl::WaitForData(const std::shared_ptr<Stream>& stream, uint64_t pos,
                             const std::string& cursor, std::chrono::milliseconds timeout,
                             bool shareable, ReadCallback done) {
  auto w = std::make_shared<LongPollWaiter>();
  w->shareable = shareable;
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
      w->timer = timer_.Schedule(timeout, [this, w] { OnLongPollTimeout(w); });
      return;
    }
  }
  // The snapshot moved between the first look and now: answer from it.
  if (!w->Claim()) return;
  if (gone) {
    return w->done(meta && meta->rec.soft_deleted
                       ? Refused<ReadOutcome>(ErrorCode::kGone, "the stream was deleted")
                       : Refused<ReadOutcome>(ErrorCode::kNotFound, "stream not found"));
  }
  if (meta->rec.tail == pos) return w->done(UpToDateOutcome(*meta, cursor));
  std::string c = protocol::NextCursor(Now(), cursor, Jitter());
  ReadOutcome o = DataFrom(*meta, pos, &c);
  o.shareable = shareable;
  w->done(std::move(o));
}

void EngineImpl::OnLongPollTimeout(const std::shared_ptr<LongPollWaiter>& w) {
  std::shared_ptr<const StreamMeta> meta;
  {
    std::lock_guard<std::mutex> lock(w->stream->mu);
    auto& list = w->stream->waiters;
    list.erase(std::remove(list.begin(), list.end(), w), list.end());
    meta = w->stream->meta;
  }
  if (w->Claim()) w->done(UpToDateOutcome(*meta, w->client_cursor));
}

std::vector<StreamSummary> EngineImpl::ListStreams(const std::string& prefix) {
  std::vector<StreamSummary> out;
  std::lock_guard<std::mutex> lock(map_mu_);
  for (const auto& [path, stream] : streams_) {
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    bool gone = false;
    std::shared_ptr<const StreamMeta> meta = stream->Snapshot(&gone);
    if (gone || !meta || meta->rec.soft_deleted) continue;
    out.push_back({path, meta->rec.tail, meta->rec.created_at_ms, meta->rec.closed});
  }
  return out;
}

}  // namespace durablestreams::engine
