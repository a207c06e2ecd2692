// lib/engine/batch.h
//
// What the commit pipeline works on: an Op (one mutation, queued to the
// writer), the state of a stream as the current batch has left it
// (StagedStream), and the Batch that collects one commit's writes.
//
// Thread safety: none. Ops are built on a caller's thread and handed over
// whole; a Batch belongs to the writer (EngineImpl's writer_busy_ turn).
#ifndef DURABLESTREAMS_LIB_ENGINE_BATCH_H_
#define DURABLESTREAMS_LIB_ENGINE_BATCH_H_

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "durablestreams/commands.h"
#include "durablestreams/outcomes.h"
#include "durablestreams/storage.h"
#include "durablestreams/stream_engine.h"
#include "engine/stream_state.h"
#include "protocol/message_list.h"
#include "protocol/producer.h"

namespace durablestreams::engine {

inline StreamError MakeError(ErrorCode code, std::string message) {
  StreamError e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

// One mutation for the writer, checked on the caller's thread as far as it
// can be without the stream (Create/Append in engine.cc), and answered once
// its batch is committed or has failed.
struct Op {
  enum class Kind {
    kCreate,
    kAppend,
    kDelete,
    kExpire,
    kSweep,
    kSubscribe,
    kUnsubscribe,
    kEstuaryInfo,
    kInspect
  };
  Kind kind = Kind::kAppend;
  std::string path;  // kSubscribe, kUnsubscribe: the source
  // kSubscribe, kUnsubscribe, kEstuaryInfo; kDelete of a session stream only
  std::string estuary;
  bool estuary_only = false;  // kDelete: refuse a stream that is not a session stream
  // kCreate
  std::string location;
  bool content_type_given = false;
  std::string content_type;  // as given, or the default
  std::optional<ForkPoint> fork;
  std::optional<int64_t> ttl_seconds;
  std::optional<int64_t> expires_at_ms;
  bool public_read = false;
  std::string reader_key;  // a new private stream's
  // kCreate and kAppend
  std::string media_type;          // of the command's content type
  protocol::MessageList messages;  // the body, split (JSON) or whole
  bool has_body = false;
  bool close = false;
  // kAppend
  std::optional<ProducerFields> producer;
  std::optional<std::string> stream_seq;
  // A JSON body that did not split (invalid, or an empty array). It is
  // refused after the stream's own checks (404, 410, closed, type), which
  // only the writer can make.
  std::optional<StreamError> body_error;
  std::chrono::steady_clock::time_point queued_at;  // set by Enqueue()

  // The answer; which one is read depends on `kind`. Internal ops (expiry,
  // sweep) have no callback.
  CreateOutcome created;
  AppendOutcome appended;
  DeleteOutcome deleted;
  EstuarySubscribeOutcome subscribed;
  EstuaryUnsubscribeOutcome unsubscribed;
  EstuaryInfoOutcome estuary_info;
  InspectOutcome inspected;
  CreateCallback on_create;
  AppendCallback on_append;
  DeleteCallback on_delete;
  EstuarySubscribeCallback on_subscribe;
  EstuaryUnsubscribeCallback on_unsubscribe;
  EstuaryInfoCallback on_estuary_info;
  InspectCallback on_inspect;

  void Refuse(StreamError e) {
    switch (kind) {
      case Kind::kCreate: created.error = std::move(e); break;
      case Kind::kAppend: appended.error = std::move(e); break;
      case Kind::kDelete: deleted.error = std::move(e); break;
      case Kind::kSubscribe: subscribed.error = std::move(e); break;
      case Kind::kUnsubscribe: unsubscribed.error = std::move(e); break;
      case Kind::kEstuaryInfo: estuary_info.error = std::move(e); break;
      case Kind::kInspect: inspected.error = std::move(e); break;
      default: break;
    }
  }
  // Calls the callback with the outcome. Once.
  void Answer() {
    if (on_create) std::exchange(on_create, nullptr)(std::move(created));
    if (on_append) std::exchange(on_append, nullptr)(std::move(appended));
    if (on_delete) std::exchange(on_delete, nullptr)(std::move(deleted));
    if (on_subscribe) std::exchange(on_subscribe, nullptr)(std::move(subscribed));
    if (on_unsubscribe) std::exchange(on_unsubscribe, nullptr)(std::move(unsubscribed));
    if (on_estuary_info) std::exchange(on_estuary_info, nullptr)(std::move(estuary_info));
    if (on_inspect) std::exchange(on_inspect, nullptr)(std::move(inspected));
  }
};

// A stream as the current batch has left it.
struct StagedStream {
  std::shared_ptr<Stream> stream;  // null: no live stream at this path now
  StreamRecord rec;
  std::shared_ptr<const StreamMeta> base;  // the published snapshot rec came from
  bool dirty = false;                      // rec must be written
  bool created = false;                    // the stream was created in this batch
  bool closed_now = false;
  bool soft_deleted_now = false;
  uint64_t published_tail = 0;                  // tail before this batch
  std::vector<protocol::MessageList> appended;  // this batch's appends, in order
};

// One commit's worth of decisions and writes.
struct Batch {
  int64_t now = 0;
  std::chrono::steady_clock::time_point started;  // when the writer took it
  size_t copies = 0;                              // estuary copies staged
  // The stream's tail after each producer's accepted append in this batch.
  std::map<std::pair<int64_t, std::string>, uint64_t> producer_tails;
  std::unordered_map<std::string, StagedStream> by_path;
  std::vector<std::shared_ptr<Stream>> removed;  // deleted or expired in this batch
  std::set<int64_t> dropped_ids;                 // created and removed in this batch
  std::map<std::pair<int64_t, std::string>, protocol::ProducerState> producers;
  std::set<std::pair<int64_t, std::string>> expired_producers;  // dropped by this batch
  std::vector<AppendRecord> appends;
  std::unordered_map<int64_t, int64_t> children_delta;  // forks made (+) or removed (-)
  // Fan-out links made (the time of the subscribe) or removed (none), by
  // (source, target); and the paths of session streams made in this batch.
  std::map<std::pair<int64_t, int64_t>, std::optional<int64_t>> link_changes;
  std::unordered_map<int64_t, std::string> new_paths;
  WriteBatch wb;
};

// What a commit owes live readers, collected while publishing and handed
// out after the ops are answered.
struct Wakeup {
  std::shared_ptr<const StreamMeta> meta;
  const StagedStream* staged = nullptr;        // null: the stream is gone
  ErrorCode gone_code = ErrorCode::kNotFound;  // for a stream that is gone
  std::vector<std::shared_ptr<LongPollWaiter>> waiters;
  std::vector<std::shared_ptr<LiveReader>> readers;
};

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_BATCH_H_
