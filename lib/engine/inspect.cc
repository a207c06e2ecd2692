// lib/engine/inspect.cc: Inspect (inspect.h), and the engine's metrics that
// a scrape computes (engine_metrics.h): streams, live readers, the commit
// queue and the store's own counters.
#include <algorithm>

#include "engine/engine_impl.h"

namespace durablestreams::engine {

void EngineImpl::Inspect(InspectCommand c, InspectCallback done) {
  // The store first, on this thread: the commit thread must not wait on it.
  auto storage = std::make_shared<StreamStorageInfo>();
  std::optional<std::string> storage_error;
  if (auto stream = FindPublished(c.path)) {
    Status s = storage_->Describe(stream->id, storage.get());
    if (!s.ok()) storage_error = s.ToString();
  }
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kInspect;
  op->path = std::move(c.path);
  op->on_inspect = [done = std::move(done), storage, storage_error](InspectOutcome out) {
    if (!out.error) {
      out.storage = std::move(*storage);
      out.storage_error = storage_error;
    }
    done(std::move(out));
  };
  Enqueue(std::move(op));
}

// On the writer: the stream as committed, its producers and readers.
void EngineImpl::ApplyInspect(Batch& batch, Op& op) {
  StagedStream& staged = StreamInBatch(batch, op.path);
  if (!staged.stream) return op.Refuse(MakeError(ErrorCode::kNotFound, "no such stream"));
  InspectOutcome& out = op.inspected;
  out.record = staged.base ? staged.base->rec : staged.rec;
  int64_t id = out.record.id;
  if (auto it = producers_.find(id); it != producers_.end()) {
    for (const auto& [pid, known] : it->second) {
      out.producers.push_back({pid, known.state.epoch, known.state.last_seq, known.last_offset,
                               known.updated_at_ms});
    }
    std::sort(out.producers.begin(), out.producers.end(),
              [](const ProducerInspection& a, const ProducerInspection& b) { return a.id < b.id; });
  }
  {
    std::lock_guard<std::mutex> lock(staged.stream->mu);
    out.sse_readers = staged.stream->readers.size();
    out.long_polls = staged.stream->waiters.size();
  }
  if (auto it = fanout_.find(id); it != fanout_.end()) out.subscribers = it->second.size();
  if (auto it = fanin_.find(id); it != fanin_.end()) out.sources = it->second.size();
}

void EngineImpl::RegisterMetrics() {
  if (!options_.metrics) return;
  Metrics& m = *options_.metrics;
  metrics_.Register(m);
  using Type = Metrics::Type;
  auto add = [&](const char* name, const char* help, Type type, std::function<double()> read) {
    m.AddCallback(name, help, type, std::move(read));
    metric_callbacks_.push_back(name);
  };
  add("durable_streams_streams", "Streams (including soft-deleted ones forks still read).",
      Type::kGauge, [this] {
        std::lock_guard<std::mutex> lock(map_mu_);
        return static_cast<double>(streams_.size());
      });
  // Live readers, counted over the streams at each scrape.
  auto live = [this](bool sse) {
    std::vector<std::shared_ptr<Stream>> all;
    {
      std::lock_guard<std::mutex> lock(map_mu_);
      all.reserve(streams_.size());
      for (auto& [path, s] : streams_) all.push_back(s);
    }
    size_t n = 0;
    for (auto& s : all) {
      std::lock_guard<std::mutex> lock(s->mu);
      n += sse ? s->readers.size() : s->waiters.size();
    }
    return static_cast<double>(n);
  };
  add("durable_streams_sse_readers", "SSE responses following a stream.", Type::kGauge,
      [live] { return live(true); });
  add("durable_streams_long_polls_waiting", "Long-poll reads waiting for data.", Type::kGauge,
      [live] { return live(false); });
  add("durable_streams_commit_queue_ops",
      "Operations queued for the commit thread (appends and their estuary fan-out "
      "wait here).",
      Type::kGauge, [this] {
        std::lock_guard<std::mutex> lock(queue_mu_);
        return static_cast<double>(queue_.size());
      });
  struct StoreSeries {
    const char* name;
    const char* help;
    Type type;
    uint64_t StorageStats::*field;
  };
  const StoreSeries store[] = {
      {"durable_streams_fsyncs_total",
       "File syncs of the hot log (one per commit with --sync full, two per checkpoint).",
       Type::kCounter, &StorageStats::fsyncs},
      {"durable_streams_wal_bytes", "Size of the hot log's write-ahead log file.", Type::kGauge,
       &StorageStats::wal_bytes},
      {"durable_streams_checkpoints_total", "Write-ahead log checkpoints.", Type::kCounter,
       &StorageStats::checkpoints},
      {"durable_streams_rotations_total", "Rotation passes that sealed segments.",
       Type::kCounter, &StorageStats::rotations},
      {"durable_streams_segments_uploaded_total", "Segment objects put in the cold store.",
       Type::kCounter, &StorageStats::segments_uploaded},
      {"durable_streams_segments_sealed_total",
       "Segments recorded in the hot log (their rows dropped).", Type::kCounter,
       &StorageStats::segments_sealed},
      {"durable_streams_cold_store_errors_total", "Cold store calls that failed.",
       Type::kCounter, &StorageStats::cold_errors},
  };
  for (const StoreSeries& ss : store) {
    add(ss.name, ss.help, ss.type, [this, field = ss.field] {
      return static_cast<double>(storage_->Stats().*field);
    });
  }
}

void EngineImpl::ForgetMetrics() {
  if (!options_.metrics) return;
  for (const std::string& name : metric_callbacks_) options_.metrics->Remove(name);
  metric_callbacks_.clear();
}

}  // namespace durablestreams::engine
