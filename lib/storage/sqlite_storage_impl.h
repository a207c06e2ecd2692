// lib/storage/sqlite_storage_impl.h: the SQLite hot log's class, for the
// files that define it (internal; the public face is storage.h).
//
// The SQLite hot log. One database file (streams.db) in WAL mode:
//   - one write connection, used by the engine's commit thread only; every
//     WriteBatch is one BEGIN IMMEDIATE .. COMMIT transaction;
//   - a pool of read-only connections for concurrent readers. In WAL mode a
//     reader sees the last committed snapshot and never waits for the writer;
//   - one connection of the checkpoint thread, which copies the WAL into the
//     database file beside the commits (CheckpointIfDue).
//
// Small appends go to the append log (`log`: commit order, no index but the
// rowid) and are folded into `messages` (ordered by stream) thousands at a
// time; readers find a stream's log rows through an index in memory that
// they check against `log_state.gen` in their snapshot (BeginRead).
//
// The schema, its version and what recovery does are written down in
// docs/format.md; keep the two in step.
//
// Torn writes: SQLite's WAL makes each transaction all-or-nothing. A commit
// torn by a crash or power loss is rolled back when the database is next
// opened, so a batch is either wholly present or wholly absent.
//
// The cold tier. With a SegmentStore, one rotation thread seals old hot
// messages into segments (segment_format.h). Rotating [a, b) of a stream:
//   1. read the rows and Put the segment under SegmentKey(path, id, a);
//   2. in one transaction: record it in `segments` and delete the rows.
// Both steps are idempotent. A crash after 1 leaves an object that the next
// rotation of the same stream overwrites (its key depends on `a` only), or
// that the cleanup of the stream removes. Readers read both tables in one
// snapshot, so they see the rows or the segment, never neither. Deleting a
// stream queues its key prefix in `segment_cleanup` in the same transaction;
// the rotation thread lists and deletes the objects, then the row.
//
// The class is one object with one set of locks; its members are defined by
// concern:
//   sqlite_storage.cc     opening (recovery), closing, Load(), prepared writes
//   sqlite_schema.cc      the schema and its migrations
//   sqlite_write.cc       Apply(): the write path, the append log and its folds
//   sqlite_checkpoint.cc  WAL checkpoints and the checkpoint thread
//   sqlite_read.cc        reads, across the log, `messages` and segments
//   sqlite_rotation.cc    the rotation thread: sealing, recording, clean-up
// and sqlite_stmt.h holds the statement wrapper they share.
//
// Thread safety: as Storage's contract (storage.h) says; which lock guards
// what is written beside each member below.
#ifndef DURABLESTREAMS_STORAGE_SQLITE_STORAGE_IMPL_H_
#define DURABLESTREAMS_STORAGE_SQLITE_STORAGE_IMPL_H_

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "durablestreams/storage.h"
#include "storage/segment_reader.h"
#include "storage/sqlite_stmt.h"

namespace durablestreams::storage {

struct ReadConn {
  ~ReadConn() {
    read.Finalize();
    log_row.Finalize();
    gen.Finalize();
    segments.Finalize();
    begin.Finalize();
    commit.Finalize();
    sqlite3_close(db);
  }
  sqlite3* db = nullptr;
  Stmt read;
  Stmt log_row;
  Stmt gen;
  Stmt segments;
  Stmt begin;
  Stmt commit;
};

// What the rotation thread knows of a stream's hot part.
struct HotState {
  std::string path;
  bool closed = false;
  uint64_t cold_end = 0;  // position where the hot rows begin
  uint64_t messages = 0;  // hot rows
  uint64_t bytes = 0;     // their data
};

// A segment in the store whose `segments` row is not written yet (step 2 of
// a rotation, docs/format.md): the next group commit records it.
struct SealedSegment {
  int64_t stream_id = 0;
  uint64_t start = 0, end = 0;
  std::string key;
  uint64_t object_size = 0;
  uint64_t messages = 0;
  uint32_t crc32c = 0;  // of the object
};

// A log row in the index in memory: where it ends and its `seq`.
struct LogEntry {
  uint64_t end = 0;
  int64_t seq = 0;
};

// What one transaction does to the log, published to the index in memory
// once it has committed.
struct LogChange {
  std::vector<std::pair<int64_t, LogEntry>> added;  // (stream id, row), in order
  std::vector<int64_t> dropped;                     // streams whose log rows went
  size_t bytes = 0;                                 // of the added rows
  bool folded = false;                              // every log row moved

  // Whether it removes log rows: then it writes a new log_state.gen.
  bool RemovesRows() const { return folded || !dropped.empty(); }
};

// The log is folded into `messages` once it holds this many rows or bytes.
constexpr size_t kFoldRows = 4096;
constexpr size_t kFoldBytes = 4 << 20;
// An append of this many bytes or more goes straight to `messages` when its
// stream has no log rows: its own pages outweigh one index leaf.
constexpr size_t kDirectBytes = 1024;

// WAL frames (pages) after which a checkpoint starts (SQLite's default).
constexpr int kCheckpointFrames = 1000;
// How many more frames commits may add while the checkpoint thread copies;
// past that, the next commit waits for the copy.
constexpr int kCheckpointLagFrames = 250;
// How long a checkpoint waits for readers of older snapshots, looking again
// every kCheckpointPoll.
constexpr auto kCheckpointWait = std::chrono::milliseconds(10);
constexpr auto kCheckpointPoll = std::chrono::microseconds(50);
// A checkpoint that could not start the WAL over is tried again after this
// many more frames.
constexpr int kCheckpointRetryFrames = 100;
constexpr int kBusyTimeoutMs = 5000;

class SqliteStorage final : public Storage {
 public:
  ~SqliteStorage() override;

  // Opens the database at `path` and recovers it (sqlite_storage.cc).
  Status Open(const std::string& path, const SqliteStorageOptions& options);

  // Storage.
  Status Load(LoadedState* out) override;
  Status Apply(const WriteBatch& b) override;
  Status ReadMessages(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                      std::vector<StoredMessage>* out) override;
  Status ReadBytes(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                   std::string* body, uint64_t* next) override;
  StorageStats Stats() override;
  Status Describe(int64_t stream_id, StreamStorageInfo* out) override;

 private:
  // ---- opening and closing (sqlite_storage.cc) -----------------------------
  Status Recover();
  Stmt* Prepare(const char* sql, Status* s);
  Status PrepareWriter();

  // ---- schema and migrations (sqlite_schema.cc) ----------------------------
  Result<int> UserVersion();
  Status Migrate();
  Status MigrationStep(const char* sql, int version);

  // ---- the write path and the append log (sqlite_write.cc) -----------------
  Status ExecSql(const std::string& sql);
  Status ApplyInTransaction(const WriteBatch& b, LogChange* log);
  bool HasLogRows(int64_t id, const LogChange& log) const;
  Status FoldInTransaction(LogChange* log);
  void PublishLog(const LogChange& log);
  Status BumpGen(const LogChange& log);
  Status Fold();

  // ---- WAL checkpoints (sqlite_checkpoint.cc) ------------------------------
  static int WalHook(void* arg, sqlite3* db, const char* schema, int frames);
  void CheckpointIfDue();
  int CheckpointNow(int mode);
  bool BackgroundCopyDone();
  static int CheckpointBusy(void* arg, int count);
  void CheckpointLoop();

  // ---- reads (sqlite_read.cc) ----------------------------------------------
  // Where a read of hot rows is, and where it stops.
  struct HotRead {
    HotRead(uint64_t from_, uint64_t to_, size_t max_bytes_, size_t max_count_, bool stop_at_gap_,
            std::vector<StoredMessage>* out_, size_t* bytes_)
        : from(from_),
          to(to_),
          max_bytes(max_bytes_),
          max_count(max_count_),
          stop_at_gap(stop_at_gap_),
          out(out_),
          bytes(bytes_) {}
    uint64_t from, to;
    size_t max_bytes, max_count;
    bool stop_at_gap;
    std::vector<StoredMessage>* out;
    size_t* bytes;
    // With `body`, the bytes from `from` on go there (and *next moves)
    // instead of messages to *out.
    std::string* body = nullptr;
    uint64_t* next = nullptr;
    size_t count = 0;       // messages taken
    uint64_t last_end = 0;  // the end of the last one
    bool stop = false;
    Status status;
  };
  Status Read(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
              std::vector<StoredMessage>* out, std::string* body, uint64_t* next);
  Status BeginRead(ReadConn* conn, int64_t stream_id, uint64_t from, std::vector<LogEntry>* rows);
  static void TakeRow(HotRead* r, sqlite3_stmt* q);
  Status ReadHot(ReadConn* conn, int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                 const std::vector<LogEntry>& log, std::vector<StoredMessage>* out, size_t* bytes,
                 bool stop_at_gap = true, size_t max_count = SIZE_MAX, std::string* body = nullptr,
                 uint64_t* next = nullptr);
  Status ReadBothTiers(ReadConn* conn, int64_t stream_id, uint64_t from, uint64_t to,
                       size_t max_bytes, const std::vector<LogEntry>& log,
                       std::vector<storage::SegmentInfo>* segments, std::vector<StoredMessage>* out,
                       size_t* bytes);
  Status ReadSegments(const std::vector<storage::SegmentInfo>& segments, uint64_t from, uint64_t to,
                      size_t max_bytes, std::vector<StoredMessage>* out, std::string* body,
                      uint64_t* next, size_t* bytes);
  ReadConn* AcquireReader();
  void ReleaseReader(ReadConn* c);

  // ---- rotation into the cold tier (sqlite_rotation.cc) --------------------
  Status LoadHotState();
  bool NeedsRotation(const HotState& h) const;
  void NoteApplied(const WriteBatch& b);
  void RotationLoop();
  Status SealBatch(const std::vector<std::pair<int64_t, HotState>>& due);
  static void MovePast(HotState* h, const SealedSegment& seg);
  Status RecordSealedInTransaction(const std::vector<SealedSegment>& sealed);
  bool RecordSealedInSavepoint(const std::vector<SealedSegment>& sealed);
  Status RecordSealed(std::vector<SealedSegment>* sealed);
  void RequeueSealed(std::vector<SealedSegment>* sealed);
  void NoteRecorded(size_t n);
  Status CleanUp(bool* more);

  // The write connection: the commit thread's, and the rotation thread's
  // under write_mu_ (so everything after Open() takes write_mu_).
  sqlite3* db_ = nullptr;
  std::vector<std::unique_ptr<Stmt>> stmts_;
  Stmt* begin_ = nullptr;
  Stmt* commit_ = nullptr;
  Stmt* del_stream_ = nullptr;
  Stmt* del_messages_ = nullptr;
  Stmt* del_producers_ = nullptr;
  Stmt* del_producer_ = nullptr;
  Stmt* del_links_from_ = nullptr;
  Stmt* del_links_to_ = nullptr;
  Stmt* del_link_ = nullptr;
  Stmt* add_link_ = nullptr;
  Stmt* upsert_stream_ = nullptr;
  Stmt* upsert_producer_ = nullptr;
  Stmt* insert_message_ = nullptr;
  Stmt* touch_ = nullptr;
  Stmt* stream_path_ = nullptr;
  Stmt* del_segments_ = nullptr;
  Stmt* segment_dirs_ = nullptr;  // the key prefixes a stream's segments are under
  Stmt* add_cleanup_ = nullptr;
  Stmt* add_segment_ = nullptr;
  Stmt* drop_rotated_ = nullptr;
  Stmt* insert_log_ = nullptr;
  Stmt* del_log_row_ = nullptr;
  Stmt* fold_copy_ = nullptr;
  Stmt* fold_clear_ = nullptr;
  Stmt* set_gen_ = nullptr;
  Stmt* list_cleanup_ = nullptr;
  Stmt* del_cleanup_ = nullptr;

  std::vector<std::unique_ptr<ReadConn>> readers_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<ReadConn*> free_readers_;  // guarded by readers_mu_

  // Apply() and the rotation thread's transactions share the write
  // connection under write_mu_.
  std::mutex write_mu_;

  // The index in memory of the log: each stream's log rows in order. Changed
  // after a commit, under both write_mu_ and log_mu_; so a writer reads it
  // under write_mu_ alone, and a reader under log_mu_.
  std::mutex log_mu_;
  std::unordered_map<int64_t, std::vector<LogEntry>> log_index_;
  size_t log_rows_ = 0;   // in log_index_
  size_t log_bytes_ = 0;  // appended to the log since it was last folded
  int64_t log_gen_ = 0;   // log_state.gen as of the last commit

  // The cold tier (null store: none).
  std::shared_ptr<SegmentStore> store_;
  std::string key_tag_;  // SqliteStorageOptions::segment_key_tag
  size_t max_messages_ = 1000;
  int checkpoint_at_ = kCheckpointFrames;  // WAL frames; write_mu_ (or Open)
  int wal_frames_ = 0;                     // after the last commit; write_mu_ (or Open)
  bool restart_retry_ = false;             // the last RESTART failed; write_mu_
  std::chrono::steady_clock::time_point ckpt_wait_until_;  // CheckpointBusy; write_mu_
  // The checkpoint thread and its connection (CheckpointIfDue).
  enum class CkptState { kIdle, kWanted, kCopying, kCopied };
  sqlite3* ckpt_db_ = nullptr;
  std::thread checkpointer_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  CkptState ckpt_state_ = CkptState::kIdle;  // guarded by ckpt_mu_
  // From just before the thread starts until the destructor stops it.
  bool ckpt_running_ = false;  // guarded by ckpt_mu_
  size_t max_bytes_ = 4 * 1024 * 1024;
  std::unique_ptr<storage::SegmentReader> segment_reader_;
  SqliteTestHooks hooks_;
  int puts_ = 0;      // segments uploaded; rotation thread only
  std::string wal_path_;  // the database's -wal file
  // Stats(), counted where the work is done.
  std::atomic<uint64_t> commits_{0}, fsyncs_{0}, checkpoints_{0}, rotations_{0},
      segments_uploaded_{0}, segments_sealed_{0}, cold_errors_{0};
  bool sync_full_ = false;
  int recorded_ = 0;  // segments recorded; guarded by write_mu_
  std::thread rotator_;
  std::mutex tier_mu_;
  std::condition_variable tier_cv_;
  std::unordered_map<int64_t, HotState> hot_;  // guarded by tier_mu_
  bool cleanup_pending_ = true;                // guarded by tier_mu_
  std::vector<SealedSegment> sealed_;          // guarded by tier_mu_, oldest first
  // How long sealed segments wait for a group commit before the rotation
  // thread records them itself, and how many one group commit records.
  static constexpr std::chrono::milliseconds kSealedWait{20};
  static constexpr size_t kSealedPerCommit = 8;
  // The pause after a rotation pass, and the most one pass seals.
  static constexpr std::chrono::milliseconds kRotationPause{10};
  static constexpr size_t kSealBatchBytes = 32 << 20;
  bool stopping_ = false;  // guarded by tier_mu_
};

}  // namespace durablestreams::storage

#endif  // DURABLESTREAMS_STORAGE_SQLITE_STORAGE_IMPL_H_
