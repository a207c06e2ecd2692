// lib/engine/apply_rules.cc: what each mutation does to the state of the
// batch it is in (PROTOCOL.md §4-§5): create or confirm, fork, append with
// producer and Stream-Seq rules, close, delete (soft while forks read from
// a stream), expiry. Each Apply* either refuses its op, changing nothing,
// or stages the change and sets the op's outcome; the commit pipeline
// commits the batch and answers.
#include <algorithm>

#include "engine/engine_impl.h"
#include "protocol/headers.h"
#include "protocol/json_batch.h"

namespace durablestreams::engine {

namespace {

// The configuration a create asks for, with what a fork inherits filled in
// (PROTOCOL.md §4.2: content type, and TTL / Expires-At when none is given).
struct RequestedConfig {
  std::string content_type;
  std::optional<int64_t> ttl_seconds;
  std::optional<int64_t> expires_at_ms;
};
RequestedConfig Requested(const Op& op, const StreamRecord* source) {
  RequestedConfig w{op.content_type, op.ttl_seconds, op.expires_at_ms};
  if (source) {
    if (!op.content_type_given) w.content_type = source->content_type;
    if (!op.ttl_seconds && !op.expires_at_ms) {
      w.ttl_seconds = source->ttl_seconds;
      w.expires_at_ms = source->expires_at_ms;
    }
  }
  return w;
}

}  // namespace

StagedStream& EngineImpl::StreamInBatch(Batch& batch, const std::string& path) {
  auto [it, inserted] = batch.by_path.try_emplace(path);
  StagedStream& staged = it->second;
  if (inserted) {
    if (auto s = FindPublished(path)) {
      bool gone;
      auto meta = s->Snapshot(&gone);
      if (!gone) {
        staged.stream = std::move(s);
        staged.rec = meta->rec;
        staged.published_tail = meta->rec.tail;
        staged.base = std::move(meta);
      }
    }
  }
  if (staged.stream && !staged.rec.soft_deleted &&
      Expired(staged.rec, staged.stream.get(), batch.now)) {
    Remove(batch, staged);
  }
  return staged;
}

// How many forks read from stream `id`, counting this batch's changes.
int64_t EngineImpl::Children(const Batch& batch, int64_t id) const {
  int64_t n = 0;
  if (auto it = children_.find(id); it != children_.end()) n += it->second;
  if (auto it = batch.children_delta.find(id); it != batch.children_delta.end()) n += it->second;
  return n;
}

// The path of stream `id` as the batch sees it ("" if it has none).
std::string EngineImpl::PathOf(Batch& batch, int64_t id) {
  for (auto& [path, staged] : batch.by_path) {
    if (staged.stream && staged.rec.id == id) return path;
  }
  auto s = FindById(id);
  return s ? s->path : std::string();
}

// Deletes the stream of `staged`. While forks read from it, the delete is soft:
// it answers 410 and keeps its data. Otherwise its rows go, and so does
// every soft-deleted source that only it kept (the cascade up the chain),
// all in this batch's transaction.
void EngineImpl::Remove(Batch& batch, StagedStream& staged) {
  DropLinks(batch, staged.rec.id);
  if (!staged.rec.soft_deleted) Announce(batch, staged.rec, false);
  if (Children(batch, staged.rec.id) > 0) {
    if (!staged.rec.soft_deleted) {
      staged.rec.soft_deleted = true;
      staged.soft_deleted_now = true;
      staged.dirty = true;
    }
    return;
  }
  std::optional<int64_t> parent = staged.rec.fork_source_id;
  if (staged.created) {
    batch.dropped_ids.insert(staged.rec.id);
  } else {
    batch.wb.delete_streams.push_back(staged.rec.id);
    batch.removed.push_back(staged.stream);
  }
  staged.stream = nullptr;
  staged.created = false;
  staged.dirty = false;
  staged.closed_now = false;
  staged.soft_deleted_now = false;
  staged.appended.clear();
  if (parent) {
    --batch.children_delta[*parent];
    std::string parent_path = PathOf(batch, *parent);
    if (parent_path.empty()) return;
    StagedStream& parent_staged = StreamInBatch(batch, parent_path);
    if (parent_staged.stream && parent_staged.rec.id == *parent && parent_staged.rec.soft_deleted &&
        Children(batch, *parent) == 0) {
      Remove(batch, parent_staged);
    }
  }
}

void EngineImpl::AppendMessages(Batch& batch, StagedStream& staged,
                                protocol::MessageList& messages) {
  if (!messages.empty()) {
    // One record (one row) for the whole append, however many messages.
    AppendRecord a;
    a.stream_id = staged.rec.id;
    a.start = staged.rec.tail;
    a.data = messages.data;
    if (messages.size() > 1) a.sizes = messages.sizes;
    staged.rec.tail += messages.data.size();
    batch.appends.push_back(std::move(a));
    staged.appended.push_back(std::move(messages));
  }
  staged.dirty = true;
}

const protocol::ProducerState* EngineImpl::FindProducer(Batch& batch, int64_t stream_id,
                                                        const std::string& id) {
  auto it = batch.producers.find({stream_id, id});
  if (it != batch.producers.end()) return &it->second;
  if (batch.expired_producers.count({stream_id, id})) return nullptr;
  auto s = producers_.find(stream_id);
  if (s == producers_.end()) return nullptr;
  auto p = s->second.find(id);
  return p == s->second.end() ? nullptr : &p->second.state;
}

// Resolves (anchor, sub-offset) on `source` to a position, or says why it
// cannot. Sub-offsets count bytes (binary) or flattened messages (JSON)
// past the anchor and may not pass the end of the append holding it.
std::optional<StreamError> EngineImpl::ResolveForkPoint(const StreamRecord& source, uint64_t anchor,
                                                        uint64_t sub, uint64_t* point) {
  if (anchor > source.tail) {
    return MakeError(ErrorCode::kInvalidFork, "Stream-Fork-Offset is beyond the source's tail");
  }
  *point = anchor;
  if (sub == 0) return std::nullopt;
  bool json = protocol::IsJsonMediaType(protocol::MediaType(source.content_type));
  std::vector<StoredMessage> msgs;
  Status s = ReadChain(source, anchor, source.tail, json ? options_.max_body_bytes + 1 : 1, &msgs);
  if (!s.ok()) return StorageError(s, "reading the fork source failed");
  auto overshoot = [] {
    return MakeError(ErrorCode::kInvalidFork,
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

void EngineImpl::ApplyCreate(Batch& batch, Op& op) {
  StagedStream& staged = StreamInBatch(batch, op.path);
  StagedStream* src = nullptr;
  if (op.fork) {
    StagedStream& source_staged = StreamInBatch(batch, op.fork->source);
    if (source_staged.stream) src = &source_staged;
  }
  if (staged.stream) {
    const StreamRecord& rec = staged.rec;
    if (rec.soft_deleted) {
      op.Refuse(MakeError(ErrorCode::kStreamExists,
                          "this path belongs to a deleted stream that forks still read"));
      return;
    }
    const StreamRecord* source = src && !src->rec.soft_deleted ? &src->rec : nullptr;
    RequestedConfig w = Requested(op, source);
    bool same = protocol::MediaType(rec.content_type) == protocol::MediaType(w.content_type) &&
                rec.ttl_seconds == w.ttl_seconds && rec.expires_at_ms == w.expires_at_ms &&
                rec.closed == op.close && rec.public_read == op.public_read;
    if (op.fork) {
      uint64_t anchor = op.fork->offset ? *op.fork->offset : (source ? source->tail : 0);
      same = same && rec.fork_source_id && rec.forked_from == op.fork->source &&
             rec.fork_anchor == anchor && rec.fork_sub_offset == op.fork->sub_offset;
    } else {
      same = same && !rec.fork_source_id;
    }
    if (!same) {
      op.Refuse(MakeError(ErrorCode::kStreamExists,
                          "a stream exists at this path with another configuration"));
      return;
    }
    op.created.stream = DescribeStream(rec);
    return;
  }
  uint64_t fork_point = 0;
  uint64_t anchor = 0;
  if (op.fork) {
    if (!src) {
      op.Refuse(MakeError(ErrorCode::kNotFound, "the fork source does not exist"));
      return;
    }
    if (src->rec.soft_deleted) {
      op.Refuse(MakeError(ErrorCode::kSourceGone, "the fork source was deleted"));
      return;
    }
    if (op.content_type_given && op.media_type != protocol::MediaType(src->rec.content_type)) {
      op.Refuse(MakeError(ErrorCode::kContentTypeMismatch,
                          "a fork has its source's Content-Type: " + src->rec.content_type));
      return;
    }
    anchor = op.fork->offset ? *op.fork->offset : src->rec.tail;
    if (auto bad = ResolveForkPoint(src->rec, anchor, op.fork->sub_offset, &fork_point)) {
      op.Refuse(std::move(*bad));
      return;
    }
  }
  RequestedConfig w = Requested(op, src ? &src->rec : nullptr);
  std::string media = protocol::MediaType(w.content_type);
  if (op.fork && !op.content_type_given && !op.messages.empty() &&
      protocol::IsJsonMediaType(media)) {
    // A fork's initial body in its inherited JSON mode: split it now.
    protocol::JsonBatch split = protocol::SplitJsonBatch(op.messages.data);
    if (split.error == protocol::JsonBatchError::kInvalidJson) {
      op.Refuse(MakeError(ErrorCode::kInvalidJson, split.message));
      return;
    }
    op.messages = std::move(split.messages);
  }
  StageNewStream(batch, staged, op.path, w.content_type);
  StreamRecord& rec = staged.rec;
  rec.ttl_seconds = w.ttl_seconds;
  rec.expires_at_ms = w.expires_at_ms;
  rec.public_read = op.public_read;
  rec.reader_key = std::move(op.reader_key);
  if (op.fork) {
    rec.fork_source_id = src->rec.id;
    rec.forked_from = op.fork->source;
    rec.fork_anchor = anchor;
    rec.fork_sub_offset = op.fork->sub_offset;
    rec.fork_offset = fork_point;
    rec.tail = fork_point;
    staged.published_tail = fork_point;
    ++batch.children_delta[src->rec.id];
  }
  AppendMessages(batch, staged, op.messages);
  rec.closed = op.close;
  staged.dirty = true;
  op.created.created = true;
  op.created.stream = DescribeStream(rec);
  op.created.location = op.location;
  Announce(batch, rec, true);
}

// Makes `staged` a new stream at `path`, created in this batch now: its
// record fresh but for id, path, content type and times.
void EngineImpl::StageNewStream(Batch& batch, StagedStream& staged, const std::string& path,
                                const std::string& content_type) {
  staged.stream = std::make_shared<Stream>(next_id_++, path);
  staged.stream->last_access_ms = batch.now;
  staged.created = true;
  staged.published_tail = 0;
  staged.appended.clear();
  staged.rec = StreamRecord();
  staged.rec.id = staged.stream->id;
  staged.rec.path = path;
  staged.rec.content_type = content_type;
  staged.rec.created_at_ms = batch.now;
  staged.rec.last_access_ms = batch.now;
}

// The staged stream at op.path if one lives there; otherwise refuses op
// with kNotFound (none) or kGone (soft-deleted) and returns null.
StagedStream* EngineImpl::LiveStreamInBatch(Batch& batch, Op& op) {
  StagedStream& staged = StreamInBatch(batch, op.path);
  if (!staged.stream) {
    op.Refuse(MakeError(ErrorCode::kNotFound, "stream not found"));
    return nullptr;
  }
  if (staged.rec.soft_deleted) {
    op.Refuse(MakeError(ErrorCode::kGone, "the stream was deleted"));
    return nullptr;
  }
  return &staged;
}

void EngineImpl::ApplyAppend(Batch& batch, Op& op) {
  StagedStream* found = LiveStreamInBatch(batch, op);
  if (!found) return;
  StagedStream& staged = *found;
  StreamRecord& rec = staged.rec;
  AppendOutcome& out = op.appended;
  // Every answer but a refusal says where the stream ends now.
  auto acknowledge = [&](std::optional<int64_t> epoch, std::optional<int64_t> seq) {
    out.next_offset = rec.tail;
    out.closed = rec.closed;
    out.producer_epoch = epoch;
    out.producer_seq = seq;
  };
  auto stale_epoch = [&](int64_t current) {
    StreamError e = MakeError(ErrorCode::kStaleEpoch, "a newer producer epoch exists");
    e.current_epoch = current;
    op.Refuse(std::move(e));
  };
  const protocol::ProducerState* pstate =
      op.producer ? FindProducer(batch, rec.id, op.producer->id) : nullptr;

  if (rec.closed) {
    if (op.producer && rec.closed_by_producer && *rec.closed_by_producer == op.producer->id &&
        rec.closed_by_epoch == op.producer->epoch && rec.closed_by_seq == op.producer->seq) {
      // The retry of the append that closed the stream.
      return acknowledge(op.producer->epoch, pstate ? pstate->last_seq : op.producer->seq);
    }
    if (op.producer && pstate && op.producer->epoch < pstate->epoch) {
      return stale_epoch(pstate->epoch);
    }
    if (!op.has_body && op.close) return acknowledge(std::nullopt, std::nullopt);
    StreamError e = MakeError(ErrorCode::kStreamClosed, "the stream is closed");
    e.next_offset = rec.tail;
    return op.Refuse(std::move(e));
  }
  if (op.has_body && op.media_type != protocol::MediaType(rec.content_type)) {
    return op.Refuse(MakeError(ErrorCode::kContentTypeMismatch,
                               "the stream's Content-Type is " + rec.content_type));
  }
  if (op.has_body && op.body_error) return op.Refuse(std::move(*op.body_error));
  protocol::ProducerState next_state;
  if (op.producer) {
    protocol::ProducerCheck c =
        protocol::CheckProducer(pstate, op.producer->epoch, op.producer->seq);
    switch (c.verdict) {
      case protocol::ProducerVerdict::kAccept: next_state = c.next; break;
      case protocol::ProducerVerdict::kDuplicate:
        return acknowledge(pstate->epoch, pstate->last_seq);
      case protocol::ProducerVerdict::kStaleEpoch: return stale_epoch(pstate->epoch);
      case protocol::ProducerVerdict::kEpochSeqNotZero:
        return op.Refuse(
            MakeError(ErrorCode::kEpochSeqNotZero, "a new producer epoch must start at seq 0"));
      case protocol::ProducerVerdict::kSeqGap: {
        StreamError e = MakeError(ErrorCode::kProducerSeqGap, "producer sequence gap");
        e.expected_seq = c.expected_seq;
        e.received_seq = op.producer->seq;
        return op.Refuse(std::move(e));
      }
    }
  }
  if (op.stream_seq && !rec.last_stream_seq.empty() && *op.stream_seq <= rec.last_stream_seq) {
    return op.Refuse(MakeError(ErrorCode::kSeqConflict, "Stream-Seq must increase"));
  }
  // Accepted: apply, with the copies to the session streams subscribed.
  CopyToTargets(batch, rec.id, op.messages);
  AppendMessages(batch, staged, op.messages);
  if (op.stream_seq) rec.last_stream_seq = *op.stream_seq;
  rec.last_access_ms = batch.now;
  if (op.close) {
    rec.closed = true;
    staged.closed_now = true;
    if (op.producer) {
      rec.closed_by_producer = op.producer->id;
      rec.closed_by_epoch = op.producer->epoch;
      rec.closed_by_seq = op.producer->seq;
    }
  }
  staged.dirty = true;
  if (!op.producer) return acknowledge(std::nullopt, std::nullopt);
  batch.producers[{rec.id, op.producer->id}] = next_state;
  batch.producer_tails[{rec.id, op.producer->id}] = rec.tail;
  acknowledge(next_state.epoch, next_state.last_seq);
  out.stored_with_producer = op.has_body;
}

void EngineImpl::ApplyDelete(Batch& batch, Op& op) {
  StagedStream* found = op.estuary_only ? EstuaryInBatch(batch, op) : LiveStreamInBatch(batch, op);
  if (found) Remove(batch, *found);
}

void EngineImpl::ApplySweep(Batch& batch) {
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
    if (Expired(meta->rec, s.get(), batch.now)) {
      StreamInBatch(batch, s->path);  // removes it
    } else if (s->touched.exchange(false)) {
      batch.wb.touches.emplace_back(s->id, s->last_access_ms.load());
    }
  }
  ExpireProducers(batch);
}

// Drops the state of producers whose last accepted append is older than
// Options::producer_ttl. Scans at most once a minute (of the engine's clock).
void EngineImpl::ExpireProducers(Batch& batch) {
  constexpr int64_t kScanEveryMs = 60000;
  int64_t ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.producer_ttl)
                       .count();
  if (ttl_ms <= 0 || batch.now - producers_checked_ms_ < kScanEveryMs) return;
  producers_checked_ms_ = batch.now;
  for (const auto& [stream_id, known] : producers_) {
    for (const auto& [id, p] : known) {
      if (batch.now - p.updated_at_ms < ttl_ms) continue;
      if (batch.producers.count({stream_id, id})) continue;  // used in this batch
      batch.expired_producers.insert({stream_id, id});
    }
  }
}

}  // namespace durablestreams::engine
