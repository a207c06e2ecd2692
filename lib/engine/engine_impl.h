// lib/engine/engine_impl.h
//
// EngineImpl, the StreamEngine. How it is put together:
//
//   - Stream metadata lives in memory. Each live stream has one `Stream`
//     object whose `meta` is an immutable snapshot (StreamMeta) replaced
//     after every commit that changes it. Readers copy the snapshot pointer
//     and read storage below its tail, so they never see uncommitted bytes
//     and never wait for a writer.
//   - Every mutation (create, append, close, delete, expiry) is an Op queued
//     to one commit thread. The thread takes every queued op (up to
//     max_batch_ops), decides each against the state as the batch has left
//     it, builds one WriteBatch, commits it, and only then publishes the new
//     snapshots, answers the ops and wakes live readers. Ops that wait while
//     a commit runs share the next one: group commit. One thread deciding
//     everything also serializes validation + append per (stream, producer).
//     A lone writer's append (none queued, none committing, the last batch a
//     single op) is processed the same way on the caller's thread instead,
//     which takes the writer's turn (writer_busy_) so that still only one
//     thread at a time decides and commits.
//   - Live readers register on their Stream under its mutex after checking
//     the snapshot's tail, and the writer swaps the snapshot under the same
//     mutex, so a reader either sees new data in the snapshot or is on the
//     list that the writer wakes. Woken readers get the batch's new messages
//     from memory: one broadcast encodes them once.
//   - A timer thread ends long-polls at their timeout and SSE responses at
//     their lifetime, sends SSE heartbeats, and sweeps expired streams.
//
// The files, one part each:
//   engine.cc           opening, shutdown, and the mutating commands checked
//                       on the caller's thread
//   commit_pipeline.cc  the queue, the writer's turn, commit and publish
//   apply_rules.cc      what each mutation does to the batch's state
//   fanout.cc           estuaries: subscribe, unsubscribe, and the copies of
//                       an append to the session streams subscribed to it
//   registry.cc         the registry stream's events of creates and deletes
//   inspect.cc          Inspect, and the metrics computed at a scrape
//   reads.cc            catch-up reads, long-polls, Info
//   live_readers.cc     SSE responses and waking live readers after a commit
//   http_entry.cc       StreamEngine::Handle: decode, authorize, run, encode
#ifndef DURABLESTREAMS_LIB_ENGINE_ENGINE_IMPL_H_
#define DURABLESTREAMS_LIB_ENGINE_ENGINE_IMPL_H_

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "durablestreams/storage.h"
#include "durablestreams/stream_engine.h"
#include "engine/batch.h"
#include "engine/engine_metrics.h"
#include "engine/read_coalescer.h"
#include "engine/sse_session.h"
#include "engine/stream_state.h"
#include "engine/timer.h"
#include "protocol/producer.h"

namespace durablestreams::engine {

// The error a failed storage call answers with (503 for a store that is
// busy or away, 507 for a full disk).
StreamError StorageError(const Status& s, std::string_view what);
ErrorCode StorageErrorCode(const Status& s);

// A random cursor jitter, 1 to 3600 seconds (PROTOCOL.md §8.1).
int64_t Jitter();

// A new stream's reader key: 128 bits from the system's random device, as
// 32 hex digits.
std::string NewReaderKey();

class EngineImpl final : public StreamEngine {
 public:
  EngineImpl(Options options, std::shared_ptr<Storage> storage)
      : options_(std::move(options)), storage_(std::move(storage)) {}
  ~EngineImpl() override { Shutdown(); }

  // Loads the stored streams and producers and starts the commit thread.
  Status Start();

  void Create(CreateCommand command, CreateCallback done) override;
  void Append(AppendCommand command, AppendCallback done) override;
  void Read(ReadCommand command, ReadCallback done) override;
  void Info(InfoCommand command, InfoCallback done) override;
  void Delete(DeleteCommand command, DeleteCallback done) override;
  void Subscribe(EstuarySubscribeCommand command, EstuarySubscribeCallback done) override;
  void Unsubscribe(EstuaryUnsubscribeCommand command, EstuaryUnsubscribeCallback done) override;
  void GetEstuary(EstuaryInfoCommand command, EstuaryInfoCallback done) override;
  void DeleteEstuary(EstuaryDeleteCommand command, DeleteCallback done) override;
  void Inspect(InspectCommand command, InspectCallback done) override;
  void Shutdown() override;
  std::vector<StreamSummary> ListStreams(const std::string& prefix) override;
  const Options& options() const override { return options_; }

 private:
  bool IsStopping();
  int64_t Now() { return options_.clock->NowMillis(); }
  std::shared_ptr<Stream> FindPublished(const std::string& path);
  std::shared_ptr<Stream> FindById(int64_t id);

  // commit_pipeline.cc
  void Enqueue(std::unique_ptr<Op> op);
  void ReleaseWriter(size_t ops);
  void EnqueueExpire(const std::string& path);
  void ScheduleSweep();
  void WriterLoop();
  void ProcessBatch(std::vector<std::unique_ptr<Op>>& ops);
  void CommitBatch(Batch& batch, std::vector<std::unique_ptr<Op>>& ops, size_t begin, size_t end);
  void CountCommit(const Batch& batch, std::vector<std::unique_ptr<Op>>& ops, size_t begin,
                   size_t end, bool ok, std::chrono::steady_clock::time_point applying,
                   std::chrono::steady_clock::time_point applied);
  void Publish(Batch& batch);
  void ReportChanges(const Batch& batch);
  void SwapSnapshots(Batch& batch, std::vector<Wakeup>* wakeups);

  // apply_rules.cc
  StagedStream& StreamInBatch(Batch& batch, const std::string& path);
  StagedStream* LiveStreamInBatch(Batch& batch, Op& op);
  void StageNewStream(Batch& batch, StagedStream& staged, const std::string& path,
                      const std::string& content_type);
  int64_t Children(const Batch& batch, int64_t id) const;
  std::string PathOf(Batch& batch, int64_t id);
  void Remove(Batch& batch, StagedStream& staged);
  void AppendMessages(Batch& batch, StagedStream& staged, protocol::MessageList& messages);
  const protocol::ProducerState* FindProducer(Batch& batch, int64_t stream_id,
                                              const std::string& id);
  std::optional<StreamError> ResolveForkPoint(const StreamRecord& source, uint64_t anchor,
                                              uint64_t sub, uint64_t* point);
  void ApplyCreate(Batch& batch, Op& op);
  void ApplyAppend(Batch& batch, Op& op);
  void ApplyDelete(Batch& batch, Op& op);
  void ApplySweep(Batch& batch);
  void ExpireProducers(Batch& batch);

  // inspect.cc
  void RegisterMetrics();
  void ForgetMetrics();

  // registry.cc
  void Announce(Batch& batch, const StreamRecord& rec, bool created);

  // fanout.cc
  std::vector<int64_t> TargetsOf(const Batch& batch, int64_t source) const;
  std::vector<std::pair<int64_t, int64_t>> SourcesOf(const Batch& batch, int64_t target) const;
  bool Linked(const Batch& batch, int64_t source, int64_t target) const;
  void DropLinks(Batch& batch, int64_t id);
  void CopyToTargets(Batch& batch, int64_t source, const protocol::MessageList& messages);
  StagedStream* EstuaryInBatch(Batch& batch, Op& op);
  void ApplySubscribe(Batch& batch, Op& op);
  void ApplyUnsubscribe(Batch& batch, Op& op);
  void ApplyEstuaryInfo(Batch& batch, Op& op);
  void ApplyInspect(Batch& batch, Op& op);
  void StageLinks(Batch& batch);
  void PublishLinks(const Batch& batch);

  // reads.cc
  std::shared_ptr<Stream> FindReadable(const std::string& path,
                                       std::shared_ptr<const StreamMeta>* meta,
                                       std::optional<StreamError>* error, bool public_only = false);
  Status ReadRange(const StreamMeta& meta, uint64_t pos, std::string* body, uint64_t* next);
  Status ReadStored(const StreamMeta& meta, uint64_t pos, std::string* body, uint64_t* next);
  Status ReadChain(const StreamRecord& rec, uint64_t from, uint64_t to, size_t max_bytes,
                   std::vector<StoredMessage>* out);
  ReadOutcome DataOutcome(const StreamMeta& meta, uint64_t start, uint64_t next, std::string body,
                          const std::string* cursor);
  // ReadRange from `pos` as an outcome (or the storage's failure).
  ReadOutcome DataFrom(const StreamMeta& meta, uint64_t pos, const std::string* cursor);
  ReadOutcome UpToDateOutcome(const StreamMeta& meta, const std::string& client_cursor);
  void WaitForData(const std::shared_ptr<Stream>& stream, uint64_t pos, const std::string& cursor,
                   std::chrono::milliseconds timeout, bool shareable, ReadCallback done);
  void OnLongPollTimeout(const std::shared_ptr<LongPollWaiter>& w);

  // live_readers.cc
  void StartSse(const std::shared_ptr<Stream>& stream, std::shared_ptr<const StreamMeta> meta,
                uint64_t pos, const std::string& cursor, std::chrono::milliseconds duration,
                ReadCallback done);
  void ContinueSse(const std::weak_ptr<Stream>& weak_stream,
                   const std::shared_ptr<LiveReader>& reader);
  void PushDataAndControl(LiveReader& r, std::string_view payload, uint64_t next, bool up_to_date,
                          bool closed);
  void PushControl(LiveReader& r, uint64_t next, bool up_to_date, bool closed);
  void ScheduleHeartbeat(const std::shared_ptr<LiveReader>& reader);
  void ForgetReader(const std::shared_ptr<Stream>& stream,
                    const std::shared_ptr<LiveReader>& reader);
  void Wake(std::vector<Wakeup>& wakeups);
  void Deliver(const StreamMeta& meta, const StagedStream& staged,
               std::vector<std::shared_ptr<LongPollWaiter>>& waiters,
               std::vector<std::shared_ptr<LiveReader>>& readers);

  Options options_;
  std::shared_ptr<Storage> storage_;
  Timer timer_;
  EngineMetrics metrics_;  // all null without Options::metrics
  std::unique_ptr<ReadCoalescer> coalescer_;  // null: Options::read_cache_bytes 0
  std::vector<std::string> metric_callbacks_;  // names, removed at shutdown

  std::mutex sessions_mu_;
  std::vector<std::weak_ptr<SseSession>> sessions_;  // every SSE response; sessions_mu_

  std::mutex map_mu_;
  std::unordered_map<std::string, std::shared_ptr<Stream>> streams_;  // guarded by map_mu_
  std::unordered_map<int64_t, std::shared_ptr<Stream>> by_id_;        // guarded by map_mu_

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<Op>> queue_;  // guarded by queue_mu_
  bool stopping_ = false;                  // guarded by queue_mu_
  // Whether a thread is processing a batch: the commit thread, or a caller
  // committing its own append. Only one at a time; the members below are
  // theirs.
  bool writer_busy_ = false;       // guarded by queue_mu_
  bool last_batch_single_ = true;  // guarded by queue_mu_
  std::thread writer_;

  // The writer (see writer_busy_) only:
  int64_t next_id_ = 1;
  std::unordered_map<int64_t, int64_t> children_;  // stream id -> forks that read from it
  // Producer state, with the time of its last accepted append.
  struct KnownProducer {
    protocol::ProducerState state;
    int64_t updated_at_ms = 0;
    std::optional<uint64_t> last_offset;  // known for appends since Start()
  };
  std::unordered_map<int64_t, std::unordered_map<std::string, KnownProducer>> producers_;
  int64_t producers_checked_ms_ = 0;  // the last expiry scan (Options::producer_ttl)
  // Fan-out links: source -> (target -> subscribed at), and target -> sources.
  std::unordered_map<int64_t, std::map<int64_t, int64_t>> fanout_;
  std::unordered_map<int64_t, std::set<int64_t>> fanin_;
};

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_ENGINE_IMPL_H_
