// include/durablestreams/live_stream.h
//
// LiveStream is the body of a Server-Sent Events response: bytes the engine
// produces over time (data and control events, heartbeats) until the stream
// closes, the connection's time is up, or the stream is deleted.
//
// The engine never blocks a thread to wait for data. It pushes bytes into the
// LiveStream as they are committed; a transport pulls them:
//   - event-driven: SetNotify() a callback that schedules a write, then
//     Take() in that write;
//   - blocking (one thread per connection): loop on WaitAndTake().
//
// Thread safety: every method may be called from any thread. The notify
// callback is called without any engine lock held; it must not block.
//
// Ownership: shared by the engine and the transport (std::shared_ptr). The
// transport calls Cancel() when the client goes away so the engine can forget
// the reader early; dropping the last reference also works.
#ifndef DURABLESTREAMS_LIVE_STREAM_H_
#define DURABLESTREAMS_LIVE_STREAM_H_

#include <chrono>
#include <functional>
#include <string>

namespace durablestreams {

class LiveStream {
 public:
  virtual ~LiveStream() = default;

  // Appends every pending byte to *out. Returns false when the stream has
  // ended and nothing is pending any more: the transport then finishes the
  // response. Never blocks.
  virtual bool Take(std::string* out) = 0;

  // Like Take(), but first waits up to `max_wait` for bytes or the end.
  // For blocking transports; blocks only the calling thread.
  virtual bool WaitAndTake(std::string* out, std::chrono::milliseconds max_wait) = 0;

  // `fn` is called whenever Take() would return something new (bytes or the
  // end). Replaces an earlier callback; an empty function removes it.
  virtual void SetNotify(std::function<void()> fn) = 0;

  // The client went away. Idempotent.
  virtual void Cancel() = 0;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_LIVE_STREAM_H_
