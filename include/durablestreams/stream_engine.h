// include/durablestreams/stream_engine.h
//
// StreamEngine owns durable, append-only byte streams and speaks the Durable
// Streams protocol (PROTOCOL.md) over transport-neutral Request/Response
// values. It knows nothing of sockets or HTTP libraries: a transport turns
// what it received into a Request, calls Handle(), and writes the Response.
//
// Thread safety: every method may be called from any thread without external
// synchronization. Appends to one stream are linearized; validation and
// append for one (stream, producer id) pair are serialized.
//
// Durability: when an append is acknowledged, its bytes, the producer state,
// the Stream-Seq and the closure were committed in one storage transaction
// (see Options::sync for what a power loss can take). Appends that arrive
// while a commit is in flight share the next commit (group commit).
//
// Live reads: the engine never blocks a thread waiting for data. A long-poll
// read registers a waiter and its callback runs when data arrives, the stream
// closes or is deleted, or the timeout passes (on an engine thread). An SSE
// read answers at once with a Response whose `live` member yields the event
// stream (see live_stream.h).
//
// Ownership: the engine owns its threads and its storage reference. Destroying
// it (or Shutdown()) finishes queued appends, answers waiting long-polls with
// 204 and ends SSE streams; callbacks never run after the destructor returns.
#ifndef DURABLESTREAMS_STREAM_ENGINE_H_
#define DURABLESTREAMS_STREAM_ENGINE_H_

#include <functional>
#include <memory>

#include "durablestreams/options.h"
#include "durablestreams/request.h"
#include "durablestreams/status.h"

namespace durablestreams {

// Called exactly once with the response; possibly on another thread and
// possibly before Handle() returns. Must not throw; should not block.
using ResponseCallback = std::function<void(Response)>;

class StreamEngine {
 public:
  // Opens the storage (SQLite in options.data_dir unless options.storage is
  // set), loads stream metadata and starts the engine's threads.
  static Result<std::unique_ptr<StreamEngine>> Open(const Options& options);

  virtual ~StreamEngine() = default;
  StreamEngine(const StreamEngine&) = delete;
  StreamEngine& operator=(const StreamEngine&) = delete;

  // Serves one protocol request for the stream `request.path`.
  virtual void Handle(Request request, ResponseCallback done) = 0;

  // Handle() for blocking transports: waits on the calling thread.
  Response HandleSync(Request request);

  // Stops taking new work, completes what is queued, answers live readers.
  // Idempotent; also done by the destructor.
  virtual void Shutdown() = 0;

  // The options in force (with defaults filled in).
  virtual const Options& options() const = 0;

 protected:
  StreamEngine() = default;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_STREAM_ENGINE_H_
