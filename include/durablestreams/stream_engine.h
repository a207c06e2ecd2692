// include/durablestreams/stream_engine.h
//
// StreamEngine owns durable, append-only byte streams and serves the Durable
// Streams protocol (PROTOCOL.md). Its core takes typed commands (commands.h)
// and answers typed outcomes (outcomes.h): Create, Append, Close, Read,
// Info, Delete; and the estuary operations (estuary.h). Handle() is the transport's entry: it decodes a
// transport-neutral Request into a command, runs it and encodes the outcome
// as a Response. The engine knows nothing of sockets or HTTP libraries.
//
// Thread safety: every method may be called from any thread without external
// synchronization. Appends to one stream are linearized; validation and
// append for one (stream, producer id) pair are serialized.
//
// Durability: when an append is acknowledged, its bytes, the producer state,
// the Stream-Seq and the closure were committed in one storage transaction
// (see SqliteStorageOptions::sync for what a power loss can take). Appends that arrive
// while a commit is in flight share the next commit (group commit).
//
// Live reads: the engine never blocks a thread waiting for data. A long-poll
// read registers a waiter and its callback runs when data arrives, the stream
// closes or is deleted, or the timeout passes (on an engine thread). An SSE
// read answers at once with an outcome whose `live` member yields the event
// stream (see live_stream.h).
//
// Ownership: the engine owns its threads and its storage reference. Destroying
// it (or Shutdown()) finishes queued appends, answers waiting long-polls with
// 204 and ends SSE streams; callbacks never run after the destructor returns.
#ifndef DURABLESTREAMS_STREAM_ENGINE_H_
#define DURABLESTREAMS_STREAM_ENGINE_H_

#include <functional>
#include <memory>

#include "durablestreams/commands.h"
#include "durablestreams/estuary.h"
#include "durablestreams/inspect.h"
#include "durablestreams/metrics.h"
#include "durablestreams/options.h"
#include "durablestreams/outcomes.h"
#include "durablestreams/request.h"
#include "durablestreams/status.h"
#include "durablestreams/stream_watch.h"

namespace durablestreams {

// Each callback is called exactly once; possibly on another thread and
// possibly before the call that took it returns. Must not throw; should not
// block.
using ResponseCallback = std::function<void(Response)>;
using CreateCallback = std::function<void(CreateOutcome)>;
using AppendCallback = std::function<void(AppendOutcome)>;
using ReadCallback = std::function<void(ReadOutcome)>;
using InfoCallback = std::function<void(InfoOutcome)>;
using DeleteCallback = std::function<void(DeleteOutcome)>;

class StreamEngine {
 public:
  // Opens the storage (options.storage, or OpenDefaultStorage of
  // options.default_storage), loads stream metadata and starts the engine's
  // threads.
  static Result<std::unique_ptr<StreamEngine>> Open(const Options& options);

  virtual ~StreamEngine() = default;
  StreamEngine(const StreamEngine&) = delete;
  StreamEngine& operator=(const StreamEngine&) = delete;

  // The core. Authorization hooks (Options::authorize_*) are not asked:
  // they judge HTTP requests, in Handle().
  virtual void Create(CreateCommand command, CreateCallback done) = 0;
  virtual void Append(AppendCommand command, AppendCallback done) = 0;
  void Close(CloseCommand command, AppendCallback done);
  // A long-poll at the tail answers when data arrives, the stream closes or
  // Options::long_poll_timeout passes.
  virtual void Read(ReadCommand command, ReadCallback done) = 0;
  virtual void Info(InfoCommand command, InfoCallback done) = 0;
  virtual void Delete(DeleteCommand command, DeleteCallback done) = 0;

  // Estuaries: session streams subscribed to source streams (estuary.h).
  // Each goes through the commit pipeline like an append, so its place in
  // commit order against every append is exact.
  virtual void Subscribe(EstuarySubscribeCommand command, EstuarySubscribeCallback done) = 0;
  virtual void Unsubscribe(EstuaryUnsubscribeCommand command,
                           EstuaryUnsubscribeCallback done) = 0;
  virtual void GetEstuary(EstuaryInfoCommand command, EstuaryInfoCallback done) = 0;
  virtual void DeleteEstuary(EstuaryDeleteCommand command, DeleteCallback done) = 0;

  // What the engine knows of one stream (inspect.h). Reads the store on
  // the calling thread.
  virtual void Inspect(InspectCommand command, InspectCallback done) = 0;

  // Serves one HTTP request for the stream `request.path`: decodes it into a
  // command, asks the authorization hook, runs the command and encodes its
  // outcome (lib/protocol/request_decoder.cc, response_encoder.cc).
  void Handle(Request request, ResponseCallback done);

  // Handle() for blocking transports: waits on the calling thread.
  Response HandleAndWait(Request request);

  // Stops taking new work, completes what is queued, answers live readers.
  // Idempotent; also done by the destructor.
  // The published streams whose path starts with `prefix` ("" for all),
  // unordered (stream_watch.h). Copies each under the engine's map lock:
  // meant for occasional scans (a subscription's backfill), not per request.
  virtual std::vector<StreamSummary> ListStreams(const std::string& prefix) = 0;

  virtual void Shutdown() = 0;

  // The options in force (with defaults filled in).
  virtual const Options& options() const = 0;

 protected:
  StreamEngine() = default;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_STREAM_ENGINE_H_
