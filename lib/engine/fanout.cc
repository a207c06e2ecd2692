// lib/engine/fanout.cc: estuaries (estuary.h) in the commit pipeline.
//
// A fan-out link (source, target) says: every append to the source is also
// appended to the session stream `target`. The links live in memory
// (fanout_, fanin_: the writer's) and in the store (WriteBatch::add_links,
// remove_links). An accepted append to a source stages its copies in the
// same batch, so they commit in the same transaction as the append: no
// outbox to drain, nothing to deduplicate after a crash, and the copies
// come in the source's commit order. Subscribing, unsubscribing and reading
// an estuary's links are ops like appends, decided in commit order.
#include <algorithm>
#include <functional>
#include <initializer_list>
#include <limits>

#include "engine/engine_impl.h"
#include "protocol/headers.h"
#include "protocol/request_decoder.h"

namespace durablestreams::engine {

namespace {

constexpr int64_t kMinId = std::numeric_limits<int64_t>::min();

// Answers `done` with the refusal of the first path that is not a stream
// path, if one is not; says whether it did.
template <typename Outcome>
bool RefusedPath(const std::function<void(Outcome)>& done,
                 std::initializer_list<const std::string*> paths) {
  for (const std::string* p : paths) {
    if (auto bad = protocol::CheckPath(*p)) {
      Outcome o;
      o.error = std::move(bad);
      done(std::move(o));
      return true;
    }
  }
  return false;
}

}  // namespace

// The targets of `source` as the batch has left them, in id order.
std::vector<int64_t> EngineImpl::TargetsOf(const Batch& batch, int64_t source) const {
  std::vector<int64_t> out;
  if (auto it = fanout_.find(source); it != fanout_.end()) {
    out.reserve(it->second.size());
    for (const auto& [target, at] : it->second) out.push_back(target);
  }
  auto c = batch.link_changes.lower_bound({source, kMinId});
  if (c == batch.link_changes.end() || c->first.first != source) return out;
  for (; c != batch.link_changes.end() && c->first.first == source; ++c) {
    auto at = std::lower_bound(out.begin(), out.end(), c->first.second);
    bool present = at != out.end() && *at == c->first.second;
    if (c->second && !present) out.insert(at, c->first.second);
    if (!c->second && present) out.erase(at);
  }
  return out;
}

// The sources of `target` with the time each was subscribed, as the batch
// has left them.
std::vector<std::pair<int64_t, int64_t>> EngineImpl::SourcesOf(const Batch& batch,
                                                               int64_t target) const {
  std::map<int64_t, int64_t> sources;
  if (auto it = fanin_.find(target); it != fanin_.end()) {
    for (int64_t source : it->second) {
      auto f = fanout_.find(source);
      int64_t at = 0;
      if (f != fanout_.end()) {
        if (auto t = f->second.find(target); t != f->second.end()) at = t->second;
      }
      sources[source] = at;
    }
  }
  for (const auto& [key, at] : batch.link_changes) {
    if (key.second != target) continue;
    if (at) {
      sources[key.first] = *at;
    } else {
      sources.erase(key.first);
    }
  }
  return {sources.begin(), sources.end()};
}

bool EngineImpl::Linked(const Batch& batch, int64_t source, int64_t target) const {
  if (auto c = batch.link_changes.find({source, target}); c != batch.link_changes.end()) {
    return c->second.has_value();
  }
  auto it = fanout_.find(source);
  return it != fanout_.end() && it->second.count(target) > 0;
}

// Removes every link from or to stream `id` (deleted, soft-deleted or
// expired in this batch).
void EngineImpl::DropLinks(Batch& batch, int64_t id) {
  for (int64_t target : TargetsOf(batch, id)) batch.link_changes[{id, target}] = std::nullopt;
  for (const auto& [source, at] : SourcesOf(batch, id)) {
    batch.link_changes[{source, id}] = std::nullopt;
  }
}

// Stages the copies of an accepted append to `source` in every session
// stream subscribed to it. A closed session stream takes none.
void EngineImpl::CopyToTargets(Batch& batch, int64_t source,
                               const protocol::MessageList& messages) {
  if (messages.empty()) return;
  if (fanout_.empty() && batch.link_changes.empty()) return;
  for (int64_t target : TargetsOf(batch, source)) {
    std::string path;
    if (auto it = batch.new_paths.find(target); it != batch.new_paths.end()) {
      path = it->second;
    } else if (auto s = FindById(target)) {
      path = s->path;
    } else {
      continue;
    }
    StagedStream& staged = StreamInBatch(batch, path);  // may expire it
    if (!staged.stream || staged.rec.id != target || staged.rec.soft_deleted ||
        staged.rec.closed) {
      continue;
    }
    protocol::MessageList copy = messages;
    AppendMessages(batch, staged, copy);
    ++batch.copies;
  }
}

// The session stream at op.estuary, or null with op refused.
StagedStream* EngineImpl::EstuaryInBatch(Batch& batch, Op& op) {
  StagedStream& staged = StreamInBatch(batch, op.estuary);
  if (!staged.stream || !staged.rec.estuary || staged.rec.soft_deleted) {
    op.Refuse(MakeError(ErrorCode::kEstuaryNotFound, "no session stream at this path"));
    return nullptr;
  }
  return &staged;
}

void EngineImpl::ApplySubscribe(Batch& batch, Op& op) {
  StagedStream* source = LiveStreamInBatch(batch, op);
  if (!source) return;
  if (source->rec.estuary) {
    return op.Refuse(MakeError(ErrorCode::kBadRequest, "a session stream cannot be a source"));
  }
  if (options_.registry_path && options_.registry_path(op.estuary) == op.estuary) {
    return op.Refuse(MakeError(ErrorCode::kStreamExists, "that path is the registry's"));
  }
  StagedStream& target = StreamInBatch(batch, op.estuary);
  if (target.stream) {
    if (!target.rec.estuary || target.rec.soft_deleted) {
      return op.Refuse(
          MakeError(ErrorCode::kStreamExists, "a stream that is not a session stream is there"));
    }
    if (protocol::MediaType(target.rec.content_type) !=
        protocol::MediaType(source->rec.content_type)) {
      return op.Refuse(MakeError(ErrorCode::kContentTypeMismatch,
                                 "the session stream's Content-Type is " +
                                     target.rec.content_type + ", the source's " +
                                     source->rec.content_type));
    }
  } else {
    StageNewStream(batch, target, op.estuary, source->rec.content_type);
    StreamRecord& rec = target.rec;
    rec.reader_key = std::move(op.reader_key);
    rec.estuary = true;
    batch.new_paths[rec.id] = op.estuary;
    op.subscribed.created = true;
    Announce(batch, rec, true);
  }
  target.rec.expires_at_ms =
      batch.now + std::chrono::duration_cast<std::chrono::milliseconds>(options_.estuary_ttl)
                      .count();
  target.dirty = true;
  if (!Linked(batch, source->rec.id, target.rec.id)) {
    batch.link_changes[{source->rec.id, target.rec.id}] = batch.now;
  }
  op.subscribed.expires_at_ms = *target.rec.expires_at_ms;
  op.subscribed.content_type = target.rec.content_type;
}

void EngineImpl::ApplyUnsubscribe(Batch& batch, Op& op) {
  StagedStream* target = EstuaryInBatch(batch, op);
  if (!target) return;
  int64_t target_id = target->rec.id;
  StagedStream& source = StreamInBatch(batch, op.path);
  if (source.stream && Linked(batch, source.rec.id, target_id)) {
    batch.link_changes[{source.rec.id, target_id}] = std::nullopt;
    op.unsubscribed.removed = true;
  }
}

void EngineImpl::ApplyEstuaryInfo(Batch& batch, Op& op) {
  StagedStream* target = EstuaryInBatch(batch, op);
  if (!target) return;
  EstuaryInfoOutcome& out = op.estuary_info;
  out.content_type = target->rec.content_type;
  out.expires_at_ms = target->rec.expires_at_ms.value_or(0);
  for (const auto& [source, at] : SourcesOf(batch, target->rec.id)) {
    std::string path = PathOf(batch, source);
    if (!path.empty()) out.sources.push_back({std::move(path), at});
  }
  std::sort(out.sources.begin(), out.sources.end(),
            [](const EstuarySource& a, const EstuarySource& b) { return a.path < b.path; });
}

// Puts the batch's link changes into its WriteBatch (before the commit).
void EngineImpl::StageLinks(Batch& batch) {
  for (const auto& [key, at] : batch.link_changes) {
    FanoutLink l;
    l.source_id = key.first;
    l.target_id = key.second;
    if (at) {
      l.subscribed_at_ms = *at;
      batch.wb.add_links.push_back(l);
    } else {
      batch.wb.remove_links.push_back(l);
    }
  }
}

// Makes the batch's link changes the writer's (after the commit).
void EngineImpl::PublishLinks(const Batch& batch) {
  for (const auto& [key, at] : batch.link_changes) {
    auto [source, target] = key;
    if (at) {
      fanout_[source][target] = *at;
      fanin_[target].insert(source);
      continue;
    }
    if (auto it = fanout_.find(source); it != fanout_.end()) {
      it->second.erase(target);
      if (it->second.empty()) fanout_.erase(it);
    }
    if (auto it = fanin_.find(target); it != fanin_.end()) {
      it->second.erase(source);
      if (it->second.empty()) fanin_.erase(it);
    }
  }
}

void EngineImpl::Subscribe(EstuarySubscribeCommand c, EstuarySubscribeCallback done) {
  if (RefusedPath(done, {&c.source, &c.estuary})) return;
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kSubscribe;
  op->path = std::move(c.source);
  op->estuary = std::move(c.estuary);
  op->reader_key = NewReaderKey();
  op->on_subscribe = std::move(done);
  Enqueue(std::move(op));
}

void EngineImpl::Unsubscribe(EstuaryUnsubscribeCommand c, EstuaryUnsubscribeCallback done) {
  if (RefusedPath(done, {&c.source, &c.estuary})) return;
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kUnsubscribe;
  op->path = std::move(c.source);
  op->estuary = std::move(c.estuary);
  op->on_unsubscribe = std::move(done);
  Enqueue(std::move(op));
}

void EngineImpl::GetEstuary(EstuaryInfoCommand c, EstuaryInfoCallback done) {
  if (RefusedPath(done, {&c.estuary})) return;
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kEstuaryInfo;
  op->estuary = std::move(c.estuary);
  op->on_estuary_info = std::move(done);
  Enqueue(std::move(op));
}

void EngineImpl::DeleteEstuary(EstuaryDeleteCommand c, DeleteCallback done) {
  if (RefusedPath(done, {&c.estuary})) return;
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kDelete;
  op->path = c.estuary;
  op->estuary = std::move(c.estuary);
  op->estuary_only = true;
  op->on_delete = std::move(done);
  Enqueue(std::move(op));
}

}  // namespace durablestreams::engine
