// lib/engine/engine_metrics.h
//
// The series the engine counts into Options::metrics (metrics.h), made
// once at Start(). Every pointer is null when metrics are off, so each
// count is one branch; the Count()/Observe() helpers take that branch.
// Gauges that a scrape can compute (streams, live readers, queue depth,
// the store's StorageStats) are callbacks registered by EngineImpl, and
// cost nothing between scrapes.
//
// Thread safety: the series are atomics; the struct is written once
// before the engine's threads start.
#ifndef DURABLESTREAMS_LIB_ENGINE_ENGINE_METRICS_H_
#define DURABLESTREAMS_LIB_ENGINE_ENGINE_METRICS_H_

#include "durablestreams/metrics.h"

namespace durablestreams::engine {

struct EngineMetrics {
  Counter* appends = nullptr;            // append requests acknowledged
  Counter* messages_appended = nullptr;  // messages written (copies and registry too)
  Counter* bytes_appended = nullptr;
  Counter* commits = nullptr;
  Counter* commit_failures = nullptr;
  Histogram* commit_ops = nullptr;      // ops decided per commit
  Histogram* commit_seconds = nullptr;  // Storage::Apply
  Counter* fanout_copies = nullptr;
  Counter* storage_reads = nullptr;
  Counter* reads_coalesced = nullptr;

  void Register(Metrics& m) {
    appends = &m.AddCounter("durable_streams_appends_total",
                            "Append requests acknowledged (closes with data included).");
    messages_appended = &m.AddCounter(
        "durable_streams_messages_appended_total",
        "Messages committed, including estuary copies and registry events.");
    bytes_appended = &m.AddCounter("durable_streams_appended_bytes_total",
                                   "Bytes of the messages committed.");
    commits = &m.AddCounter("durable_streams_commits_total",
                            "Group commits that committed a storage transaction.");
    commit_failures = &m.AddCounter("durable_streams_commit_failures_total",
                                    "Group commits the store refused (nothing written).");
    commit_ops = &m.AddHistogram("durable_streams_commit_ops",
                                 "Operations decided per group commit.", CountBuckets());
    commit_seconds = &m.AddHistogram("durable_streams_commit_duration_seconds",
                                     "Time of a group commit's storage transaction.",
                                     LatencyBuckets());
    fanout_copies = &m.AddCounter("durable_streams_fanout_copies_total",
                                  "Appends copied into estuary session streams.");
    storage_reads = &m.AddCounter("durable_streams_storage_reads_total",
                                  "Reads of stream data from the store.");
    reads_coalesced = &m.AddCounter(
        "durable_streams_reads_coalesced_total",
        "Catch-up reads answered from an identical read in flight or just made.");
  }
};

inline void Count(Counter* c, uint64_t n = 1) {
  if (c) c->Add(n);
}

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_ENGINE_METRICS_H_
