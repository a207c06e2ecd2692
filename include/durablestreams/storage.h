// include/durablestreams/storage.h
//
// Storage is the durable home of streams: their metadata, their messages and
// their idempotent-producer state. The engine keeps the metadata in memory,
// decides everything, and hands Storage one WriteBatch per group commit.
//
// Contract for implementations:
//   - Apply() is atomic and durable: when it returns OK, every change in the
//     batch survives a restart (to the degree of the configured sync mode);
//     when it returns an error, none of the batch is visible, now or after a
//     restart.
//   - Apply() is called from one engine thread at a time. ReadMessages() and
//     ReadBytes() are called concurrently from many threads, also while
//     Apply() runs, and must not wait for it (readers never wait behind
//     writers).
//   - ReadMessages() and ReadBytes() only ever ask for positions below a tail
//     that an earlier Apply() returned OK for.
//   - A batch may append to a stream without upserting its record (when
//     nothing else of it changed). Load() must then report the tail as the
//     end of the stream's last stored append where that is past the stored
//     record's `tail`.
//   - Methods must not throw.
//
// Ownership: the engine holds the Storage through a std::shared_ptr.
#ifndef DURABLESTREAMS_STORAGE_H_
#define DURABLESTREAMS_STORAGE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "durablestreams/segment_store.h"
#include "durablestreams/status.h"

namespace durablestreams {

// How hard a commit pushes data to the disk before an append is acknowledged.
// Do not change existing values (they are accepted on the command line).
enum class SyncMode {
  // fsync on every commit (SQLite synchronous=FULL in WAL mode). An
  // acknowledged append survives a process crash and a power loss or kernel
  // panic. The default. Concurrent appends share commits (group commit), so
  // throughput still grows with concurrency.
  kFull,
  // No fsync on commit (WAL with synchronous=NORMAL): an acknowledged append
  // survives a crash of this process (kill -9), but a power loss or kernel
  // crash may lose the most recent commits (never corrupt the database).
  kNormal,
  // No fsync at all (synchronous=OFF). Survives a process crash only as far
  // as the OS has written pages; for tests and throwaway data.
  kOff,
};

// A stream's metadata row. Positions are byte counts from the start of the
// stream (for JSON streams: the sum of the stored messages' lengths).
struct StreamRecord {
  int64_t id = 0;             // engine-assigned, never reused
  std::string path;           // unique among live streams
  std::string content_type;   // as given at creation
  std::optional<int64_t> ttl_seconds;    // sliding TTL
  std::optional<int64_t> expires_at_ms;  // absolute expiry, ms since epoch
  int64_t created_at_ms = 0;
  int64_t last_access_ms = 0;  // last read or write (for the sliding TTL)
  bool closed = false;
  uint64_t tail = 0;           // position after the last byte (see Load())
  std::string last_stream_seq; // last Stream-Seq accepted ("" = none)
  // The producer tuple whose append closed the stream, if one did.
  std::optional<std::string> closed_by_producer;
  int64_t closed_by_epoch = 0;
  int64_t closed_by_seq = 0;
  // Forks (PROTOCOL.md §4.2). A fork reads [0, fork_offset) from its source
  // (which may be a fork too) and keeps its own messages at fork_offset and
  // after, in the same offset space.
  std::optional<int64_t> fork_source_id;  // the source stream's id
  std::string forked_from;                // the source's path, as requested
  uint64_t fork_anchor = 0;               // Stream-Fork-Offset (a position)
  uint64_t fork_sub_offset = 0;           // Stream-Fork-Sub-Offset
  uint64_t fork_offset = 0;               // the resolved divergence position
  // Deleted while forks still read from it: answers 410, keeps its data.
  bool soft_deleted = false;
  // Readable without credentials (project auth: `PUT ?public=true`).
  bool public_read = false;
  // A non-public stream's reader key (Stream-Reader-Key): a read that
  // carries it may be stored by a shared cache. Empty for public streams.
  std::string reader_key;
  // A session stream (estuary.h): made by a subscribe, it takes copies of
  // its sources' appends. Only such a stream may be subscribed to sources.
  bool estuary = false;
};

// A fan-out link (estuary.h): every append to stream `source_id` after the
// link was made is also appended, in the same commit, to `target_id`.
struct FanoutLink {
  int64_t source_id = 0;
  int64_t target_id = 0;
  int64_t subscribed_at_ms = 0;
};

struct ProducerRecord {
  int64_t stream_id = 0;
  std::string producer_id;
  int64_t epoch = 0;
  int64_t last_seq = 0;
  int64_t updated_at_ms = 0;
};

// One stored message: the bytes of one append (binary and text streams) or
// one flattened JSON value (JSON streams), at [start, end).
struct StoredMessage {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string data;
  // The last message of its append: false only inside a JSON batch. Fork
  // sub-offsets may not reach past the end of an append.
  bool last_in_append = true;
};

// One append: a single message, or (JSON batches) several messages stored
// together. `sizes` empty: `data` is one message. Otherwise `data` is the
// messages back to back and `sizes` their lengths, in order, none zero,
// summing to data.size(); the last one ends the append.
struct AppendRecord {
  int64_t stream_id = 0;
  uint64_t start = 0;  // == the stream's tail before this append
  std::string data;    // not empty
  std::vector<uint32_t> sizes;
  bool last_in_append = true;  // for the (last) message

  size_t message_count() const { return sizes.empty() ? 1 : sizes.size(); }
};

// Everything one group commit changes. Applied in this order: deletions,
// stream upserts, link removals, link additions, producer deletions,
// producer upserts, appends, touches.
struct WriteBatch {
  // With their messages, producers and every fan-out link from or to them.
  std::vector<int64_t> delete_streams;
  std::vector<StreamRecord> upsert_streams;   // insert or replace by id
  std::vector<FanoutLink> remove_links;       // by (source_id, target_id)
  std::vector<FanoutLink> add_links;          // insert or replace
  // (stream id, producer id): expired producer state.
  std::vector<std::pair<int64_t, std::string>> delete_producers;
  std::vector<ProducerRecord> upsert_producers;
  std::vector<AppendRecord> appends;
  // (stream id, last_access_ms) for streams whose only change is a read.
  std::vector<std::pair<int64_t, int64_t>> touches;

  bool empty() const {
    return delete_streams.empty() && upsert_streams.empty() && remove_links.empty() &&
           add_links.empty() && delete_producers.empty() && upsert_producers.empty() &&
           appends.empty() && touches.empty();
  }
};

struct LoadedState {
  std::vector<StreamRecord> streams;
  std::vector<ProducerRecord> producers;
  std::vector<FanoutLink> links;
};

// What a store counts of its own work since it was opened, for metrics
// (Options::metrics). A store that counts nothing leaves everything 0.
struct StorageStats {
  uint64_t commits = 0;            // Apply() calls that committed
  uint64_t fsyncs = 0;             // file syncs it asked for
  uint64_t checkpoints = 0;        // write-ahead log checkpoints
  uint64_t rotations = 0;          // rotation passes that sealed segments
  uint64_t segments_uploaded = 0;  // segment objects put in the cold store
  uint64_t segments_sealed = 0;    // segments recorded (their hot rows dropped)
  uint64_t cold_errors = 0;        // cold-store calls that failed
  uint64_t wal_bytes = 0;          // the write-ahead log's size now
};

// One segment of a stream in the cold tier.
struct SegmentDescription {
  std::string key;
  uint64_t start = 0, end = 0;  // stream positions it holds
  uint64_t object_bytes = 0;
  uint64_t messages = 0;
  std::optional<uint32_t> crc32c;  // of the whole object; unset for older segments
};

// Where a stream's own data is (a fork's inherited data is its source's).
struct StreamStorageInfo {
  uint64_t hot_messages = 0, hot_bytes = 0;
  std::vector<SegmentDescription> segments;  // oldest first
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Reads every stream, producer and link record (at engine start). A stream's
  // tail is the larger of its record's and the end of its last append.
  virtual Status Load(LoadedState* out) = 0;

  // Applies `batch` atomically and durably. A kNoSpace status means the disk
  // is full and nothing was written.
  virtual Status Apply(const WriteBatch& batch) = 0;

  // Appends to *out, in order, the messages of `stream_id` that end after
  // `from` and start before `to`, stopping once their total size reaches
  // `max_bytes` (at least one message is returned when any qualifies).
  virtual Status ReadMessages(int64_t stream_id, uint64_t from, uint64_t to,
                              size_t max_bytes, std::vector<StoredMessage>* out) = 0;

  // The same read for a byte stream, whose readers see bytes, not messages:
  // appends to *body the bytes from `from` to the end of the messages
  // ReadMessages() would return (none before `from`, so a read may start
  // inside a message), and sets *next to the position after them (`from`
  // when there are none). The default calls ReadMessages() and
  // concatenates; an implementation may append straight from its own pages
  // or caches and save a copy of every byte.
  virtual Status ReadBytes(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                           std::string* body, uint64_t* next);

  // Counters for metrics; may be called from any thread. Default: zeros.
  virtual StorageStats Stats() { return {}; }

  // Where `stream_id`'s data is, for inspection (not for serving reads).
  // The default counts ReadMessages() from 0 as hot.
  virtual Status Describe(int64_t stream_id, StreamStorageInfo* out);
};

// Test hooks of the SQLite store: they let a test leave the files exactly as
// a crash at a chosen moment would, without relying on timing. Never set in
// production.
struct SqliteTestHooks {
  // No checkpoints: the WAL keeps every frame, as when readers keep every
  // checkpoint from starting it over.
  bool skip_checkpoints = false;
  // Closing leaves the WAL file as it is, not copied into the database, as
  // kill -9 would (SQLite otherwise checkpoints it when the last connection
  // closes). The append log is left unfolded either way.
  bool leave_wal_on_close = false;
  // Called by the rotation thread right after each upload of sealed
  // segments, with how many segments the store has uploaded since it opened;
  // and right after each commit that records sealed segments (the writer's
  // lock held), with how many it has recorded. A test's function may end the
  // process there (_exit), to check that a restart completes the rotation.
  std::function<void(int segments_put)> after_segment_put;
  std::function<void(int segments_recorded)> after_rotation_commit;
};

struct SqliteStorageOptions {
  SyncMode sync = SyncMode::kFull;
  // Read connections kept open for concurrent readers.
  int read_connections = 8;

  // Whether this process keeps the database to itself while the storage is
  // open (the default). Another process that opens the file then waits for
  // its lock (5 s) and fails with kBusy: two servers on one data directory,
  // each with its own idea of the streams in memory, cannot both write to it.
  // SQLite then also keeps its WAL index in this process's memory (no
  // `-shm` file), which saves the file locks it takes and drops on every
  // commit: some 7 µs of a commit at SyncMode::kNormal. False lets other
  // processes open the database while it is in use, for example for an
  // online backup with `sqlite3 streams.db .backup ...`
  // (docs/operations.md). Connections of this process may open it either
  // way.
  bool exclusive = true;

  // The cold tier (segment_store.h). When set, a background thread seals a
  // stream's oldest hot messages into one immutable segment once there are
  // segment_max_messages of them or segment_max_bytes, and all of them when
  // the stream is closed; it records the segment in the hot log and drops
  // those rows. Reads span both tiers. Null: everything stays in SQLite
  // (segments already recorded then read as kUnavailable).
  std::shared_ptr<SegmentStore> segment_store;
  size_t segment_max_messages = 1000;
  size_t segment_max_bytes = 4 * 1024 * 1024;
  // Decoded segment data kept in memory for readers.
  size_t segment_cache_bytes = 64 * 1024 * 1024;
  // Added to the stream id in the keys of the segments this store seals
  // ("streams/<path>/<id>.<tag>/...", docs/format.md): the server sets its
  // cluster node name (--node), so nodes that share one bucket never write
  // or clean up under each other's keys. [A-Za-z0-9_-] only; "" for none.
  std::string segment_key_tag;

  SqliteTestHooks test_hooks;
};

// The storage the engine opens when Options::storage is unset (from
// Options::default_storage): the SQLite
// hot log at `data_dir`/streams.db, the directory created if missing, and,
// with `cold_tier`, the segment store `sqlite.segment_store` or, when that is
// null, a directory store in `data_dir`/segments.
struct DefaultStorageOptions {
  std::string data_dir = "./data";
  bool cold_tier = true;
  SqliteStorageOptions sqlite;
};
Result<std::shared_ptr<Storage>> OpenDefaultStorage(const DefaultStorageOptions& options);

// Opens (creating if needed) the SQLite hot log at `db_path`, migrating an
// older schema, and starts its rotation thread when a segment store is set.
// Fails with kCorruption when the file is not a database of ours or fails its
// integrity check.
Result<std::shared_ptr<Storage>> OpenSqliteStorage(const std::string& db_path,
                                                   const SqliteStorageOptions& options);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_STORAGE_H_
