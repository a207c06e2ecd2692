// lib/engine/commit_pipeline.cc: the writer's side of the engine. Ops queue
// here; one writer at a time (the commit thread, or a lone caller) takes a
// batch, has apply_rules.cc decide each op, commits the batch in one storage
// transaction, publishes the new snapshots, answers the ops and hands the
// live readers to wake to live_readers.cc.
#include <algorithm>
#include <set>

#include "engine/engine_impl.h"

namespace durablestreams::engine {

namespace {

constexpr std::chrono::milliseconds kSweepInterval{1000};

// A batch takes no more ops once it holds this many appends: a publish to
// many session streams (fanout.cc) stages an append per subscriber, and
// max_batch_ops such publishes would hold them all in one transaction.
constexpr size_t kMaxBatchAppends = 65536;

// Whether the batch changed nothing of an existing stream's record but its
// tail (and last access, which matters only with a sliding TTL). Its row
// is then not rewritten: the storage derives the tail from the appends it
// holds (Storage::Load), which saves a page write per append.
bool OnlyTailMoved(const StagedStream& staged) {
  if (staged.created || !staged.base || staged.rec.ttl_seconds) return false;
  const StreamRecord& a = staged.base->rec;
  const StreamRecord& b = staged.rec;
  return a.id == b.id && a.path == b.path && a.content_type == b.content_type &&
         a.ttl_seconds == b.ttl_seconds && a.expires_at_ms == b.expires_at_ms &&
         a.created_at_ms == b.created_at_ms && a.closed == b.closed &&
         a.last_stream_seq == b.last_stream_seq && a.closed_by_producer == b.closed_by_producer &&
         a.closed_by_epoch == b.closed_by_epoch && a.closed_by_seq == b.closed_by_seq &&
         a.fork_source_id == b.fork_source_id && a.forked_from == b.forked_from &&
         a.fork_anchor == b.fork_anchor && a.fork_sub_offset == b.fork_sub_offset &&
         a.fork_offset == b.fork_offset && a.soft_deleted == b.soft_deleted;
}

}  // namespace

// Queues `op` for the commit thread, or commits it on the calling thread
// (see Options::commit_on_caller): an append that finds no commit running
// and none queued, while the last batch was a single op (a writer alone,
// so no batch to share), skips the two thread hand-offs.
void EngineImpl::Enqueue(std::unique_ptr<Op> op) {
  op->queued_at = std::chrono::steady_clock::now();
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
    op->Refuse(MakeError(ErrorCode::kUnavailable, "the server is shutting down"));
    op->Answer();
    return;
  }
  queue_cv_.notify_one();
}

// Ends a turn as the writer (the commit thread's or a caller's) that
// processed `ops` ops; the commit thread may be waiting for it.
void EngineImpl::ReleaseWriter(size_t ops) {
  bool queued;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    writer_busy_ = false;
    last_batch_single_ = ops == 1;
    queued = !queue_.empty() || stopping_;
  }
  if (queued) queue_cv_.notify_one();
}

void EngineImpl::EnqueueExpire(const std::string& path) {
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kExpire;
  op->path = path;
  Enqueue(std::move(op));
}

void EngineImpl::ScheduleSweep() {
  timer_.Schedule(kSweepInterval, [this] {
    auto op = std::make_unique<Op>();
    op->kind = Op::Kind::kSweep;
    Enqueue(std::move(op));
    ScheduleSweep();
  });
}

void EngineImpl::WriterLoop() {
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

// Applies the ops in order, committing as few times as possible. A fork of
// a stream that this batch already changed reads that stream's data, so
// what came before it is committed first; a batch of kMaxBatchAppends
// appends is committed before it takes more.
void EngineImpl::ProcessBatch(std::vector<std::unique_ptr<Op>>& ops) {
  size_t begin = 0;
  while (begin < ops.size()) {
    Batch batch;
    batch.now = Now();
    batch.started = std::chrono::steady_clock::now();
    size_t i = begin;
    for (; i < ops.size(); ++i) {
      Op& op = *ops[i];
      if (i > begin && batch.appends.size() >= kMaxBatchAppends) break;
      if (i > begin && op.kind == Op::Kind::kCreate && op.fork) {
        auto it = batch.by_path.find(op.fork->source);
        if (it != batch.by_path.end() && (it->second.dirty || !it->second.stream)) break;
      }
      switch (op.kind) {
        case Op::Kind::kCreate: ApplyCreate(batch, op); break;
        case Op::Kind::kAppend: ApplyAppend(batch, op); break;
        case Op::Kind::kDelete: ApplyDelete(batch, op); break;
        case Op::Kind::kExpire: StreamInBatch(batch, op.path); break;
        case Op::Kind::kSweep: ApplySweep(batch); break;
        case Op::Kind::kSubscribe: ApplySubscribe(batch, op); break;
        case Op::Kind::kUnsubscribe: ApplyUnsubscribe(batch, op); break;
        case Op::Kind::kEstuaryInfo: ApplyEstuaryInfo(batch, op); break;
        case Op::Kind::kInspect: ApplyInspect(batch, op); break;
      }
    }
    CommitBatch(batch, ops, begin, i);
    begin = i;
  }
}

void EngineImpl::CommitBatch(Batch& batch, std::vector<std::unique_ptr<Op>>& ops, size_t begin,
                             size_t end) {
  // Streams removed in this batch take no writes after their deletion.
  std::set<int64_t> gone(batch.dropped_ids.begin(), batch.dropped_ids.end());
  gone.insert(batch.wb.delete_streams.begin(), batch.wb.delete_streams.end());
  for (auto& [path, staged] : batch.by_path) {
    if (!staged.stream || !staged.dirty) continue;
    staged.rec.last_access_ms =
        std::max(staged.rec.last_access_ms, staged.stream->last_access_ms.load());
    if (OnlyTailMoved(staged)) continue;
    batch.wb.upsert_streams.push_back(staged.rec);
  }
  for (const auto& key : batch.expired_producers) {
    if (!gone.count(key.first)) batch.wb.delete_producers.push_back(key);
  }
  for (auto& [key, st] : batch.producers) {
    if (gone.count(key.first)) continue;
    ProducerRecord p;
    p.stream_id = key.first;
    p.producer_id = key.second;
    p.epoch = st.epoch;
    p.last_seq = st.last_seq;
    p.updated_at_ms = batch.now;
    batch.wb.upsert_producers.push_back(std::move(p));
  }
  for (auto& a : batch.appends) {
    if (!gone.count(a.stream_id)) batch.wb.appends.push_back(std::move(a));
  }
  StageLinks(batch);
  auto applying = std::chrono::steady_clock::now();
  Status s = storage_->Apply(batch.wb);
  auto applied = std::chrono::steady_clock::now();
  CountCommit(batch, ops, begin, end, s.ok(), applying, applied);
  if (!s.ok()) {
    // Nothing of the batch is stored: answer every op with the failure.
    ErrorCode code = StorageErrorCode(s);
    std::string msg = code == ErrorCode::kStorageFull
                          ? "the disk is full; nothing was written"
                          : "storage failed; nothing was written: " + s.message();
    for (size_t i = begin; i < end; ++i) {
      ops[i]->Refuse(MakeError(code, msg));
      ops[i]->Answer();
    }
    return;
  }
  Publish(batch);
  std::vector<Wakeup> wakeups;
  SwapSnapshots(batch, &wakeups);
  // Told before the ops are answered: whatever a client does after its
  // append is acknowledged comes after the hook has heard of the append.
  if (options_.on_stream_change) ReportChanges(batch);
  for (size_t i = begin; i < end; ++i) {
    ops[i]->Answer();
  }
  Wake(wakeups);
}

// Gives each op of the batch its CommitTiming, and counts the commit into
// the metrics (when on).
void EngineImpl::CountCommit(const Batch& batch, std::vector<std::unique_ptr<Op>>& ops,
                             size_t begin, size_t end, bool ok,
                             std::chrono::steady_clock::time_point applying,
                             std::chrono::steady_clock::time_point applied) {
  using Ms = std::chrono::duration<double, std::milli>;
  double commit_ms = Ms(applied - batch.started).count();
  for (size_t i = begin; i < end; ++i) {
    Op& op = *ops[i];
    CommitTiming t{Ms(batch.started - op.queued_at).count(), commit_ms};
    switch (op.kind) {
      case Op::Kind::kCreate: op.created.timing = t; break;
      case Op::Kind::kAppend:
        op.appended.timing = t;
        if (ok && !op.appended.error && op.on_append) Count(metrics_.appends);
        break;
      case Op::Kind::kDelete: op.deleted.timing = t; break;
      default: break;
    }
  }
  if (!metrics_.commits || batch.wb.empty()) return;
  if (!ok) return Count(metrics_.commit_failures);
  Count(metrics_.commits);
  metrics_.commit_ops->Observe(static_cast<double>(end - begin));
  metrics_.commit_seconds->Observe(std::chrono::duration<double>(applied - applying).count());
  uint64_t messages = 0, bytes = 0;
  for (const AppendRecord& a : batch.wb.appends) {
    messages += a.message_count();
    bytes += a.data.size();
  }
  Count(metrics_.messages_appended, messages);
  Count(metrics_.bytes_appended, bytes);
  Count(metrics_.fanout_copies, batch.copies);
}

// Tells Options::on_stream_change what the batch created or appended to.
void EngineImpl::ReportChanges(const Batch& batch) {
  std::vector<StreamSummary> changed;
  for (const auto& [path, staged] : batch.by_path) {
    if (!staged.stream || !staged.dirty || staged.soft_deleted_now) continue;
    if (!staged.created && staged.appended.empty()) continue;
    if (batch.dropped_ids.count(staged.rec.id)) continue;
    changed.push_back({path, staged.rec.tail, staged.rec.created_at_ms, staged.rec.closed});
  }
  if (!changed.empty()) options_.on_stream_change(changed);
}

// Makes the batch visible. Runs after a successful commit.
void EngineImpl::Publish(Batch& batch) {
  {
    std::lock_guard<std::mutex> lock(map_mu_);
    for (auto& s : batch.removed) {
      auto it = streams_.find(s->path);
      if (it != streams_.end() && it->second == s) streams_.erase(it);
      by_id_.erase(s->id);
    }
    for (auto& [path, staged] : batch.by_path) {
      if (!staged.stream || !staged.created) continue;
      {
        // Nobody can see the stream yet; give it a snapshot before it is.
        std::lock_guard<std::mutex> slock(staged.stream->mu);
        staged.stream->meta = MakeMeta(staged.rec);
      }
      streams_[path] = staged.stream;
      by_id_[staged.stream->id] = staged.stream;
    }
  }
  for (auto& [id, delta] : batch.children_delta) {
    if (batch.dropped_ids.count(id)) continue;
    int64_t& n = children_[id];
    n += delta;
    if (n <= 0) children_.erase(id);
  }
  for (auto& s : batch.removed) children_.erase(s->id);
  for (auto& s : batch.removed) producers_.erase(s->id);
  PublishLinks(batch);
  for (const auto& [stream_id, producer_id] : batch.expired_producers) {
    auto it = producers_.find(stream_id);
    if (it == producers_.end()) continue;
    it->second.erase(producer_id);
    if (it->second.empty()) producers_.erase(it);
  }
  for (auto& [key, st] : batch.producers) {
    if (batch.dropped_ids.count(key.first)) continue;
    std::optional<uint64_t> tail;
    if (auto it = batch.producer_tails.find(key); it != batch.producer_tails.end()) {
      tail = it->second;
    }
    producers_[key.first][key.second] = {st, batch.now, tail};
  }
}

// Swaps in the new snapshots (so that an answered append is visible to the
// client's next read) and takes the live readers that must be woken.
void EngineImpl::SwapSnapshots(Batch& batch, std::vector<Wakeup>* wakeups) {
  for (auto& s : batch.removed) {
    Wakeup w;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->gone = true;
      w.waiters.swap(s->waiters);
      w.readers.swap(s->readers);
    }
    wakeups->push_back(std::move(w));
  }
  for (auto& [path, staged] : batch.by_path) {
    if (!staged.stream || !staged.dirty) continue;
    Wakeup w;
    w.meta = MakeMeta(staged.rec);
    w.staged = &staged;
    if (staged.soft_deleted_now) {
      Wakeup gone;
      gone.gone_code = ErrorCode::kGone;
      {
        std::lock_guard<std::mutex> lock(staged.stream->mu);
        staged.stream->meta = w.meta;
        gone.waiters.swap(staged.stream->waiters);
        gone.readers.swap(staged.stream->readers);
      }
      wakeups->push_back(std::move(gone));
      continue;
    }
    bool changed = !staged.appended.empty() || staged.closed_now;
    {
      std::lock_guard<std::mutex> lock(staged.stream->mu);
      staged.stream->meta = w.meta;
      if (changed) {
        w.waiters.swap(staged.stream->waiters);
        if (staged.closed_now) {
          w.readers.swap(staged.stream->readers);
        } else {
          w.readers = staged.stream->readers;
        }
      }
    }
    if (staged.stream->last_access_ms.load() < staged.rec.last_access_ms) {
      staged.stream->last_access_ms = staged.rec.last_access_ms;
    }
    if (!w.waiters.empty() || !w.readers.empty()) wakeups->push_back(std::move(w));
  }
}

}  // namespace durablestreams::engine
