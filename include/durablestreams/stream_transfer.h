// include/durablestreams/stream_transfer.h
//
// Moving a stream from one node's SQLite hot log to another's through the
// segment store they share (docs/operations.md, "Moving a stream"):
//
//   ExportStream  on the old owner's data directory: seals the stream's hot
//                 tail into a segment in the store, writes a manifest of the
//                 stream (its record, producers and every segment's key)
//                 to the store, and removes the stream from this hot log
//                 without removing its objects, which now belong to the
//                 manifest;
//   AdoptStream   on the new owner's: reads the manifest, records the
//                 stream with the same offsets, producers and segments
//                 (pointing at the objects where they are), then deletes
//                 the manifest.
//
// The data is never copied: only the hot tail is written, once. Offsets,
// content, closure, TTL, idempotent-producer state and the reader key carry
// over; a fork, a stream that forks read from, and a stream linked to
// estuaries are refused (they live with their relatives on one node).
//
// Both work on a stopped node: the database is opened with an exclusive
// lock, so a node that runs with the default --db-lock exclusive makes
// them fail with kBusy; with --db-lock shared, stop it first.
//
// Thread safety: each call opens and closes its own connection.
// Ownership: the store is shared with the caller.
#ifndef DURABLESTREAMS_STREAM_TRANSFER_H_
#define DURABLESTREAMS_STREAM_TRANSFER_H_

#include <memory>
#include <string>
#include <string_view>

#include "durablestreams/segment_store.h"
#include "durablestreams/status.h"

namespace durablestreams {

struct TransferOptions {
  std::string db_path;                  // the node's streams.db
  std::shared_ptr<SegmentStore> store;  // the store the nodes share
  std::string segment_key_tag;          // the node's --node name (storage.h)
};

struct TransferSummary {
  std::string manifest_key;  // where the manifest is (was, after adopting)
  uint64_t tail = 0;         // the stream's next offset, as a position
  size_t segments = 0;       // segments the stream is made of
  size_t producers = 0;
};

// The manifest's key in the store: "moves/<encoded path>.json".
std::string TransferManifestKey(std::string_view path);

Result<TransferSummary> ExportStream(const TransferOptions& options, std::string_view path);
Result<TransferSummary> AdoptStream(const TransferOptions& options, std::string_view path);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_STREAM_TRANSFER_H_
