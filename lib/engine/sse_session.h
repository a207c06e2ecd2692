// lib/engine/sse_session.h
//
// SseSession is the engine's LiveStream: a byte queue the engine pushes SSE
// events into and a transport drains. Pushing never blocks; bytes wait in the
// queue until the transport takes them.
//
// Thread safety: all methods are thread-safe. The notify callback runs on
// the pushing thread after the session lock is released.
#ifndef DURABLESTREAMS_LIB_ENGINE_SSE_SESSION_H_
#define DURABLESTREAMS_LIB_ENGINE_SSE_SESSION_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "durablestreams/live_stream.h"

namespace durablestreams::engine {

class SseSession final : public LiveStream {
 public:
  // `on_cancel` runs once, on the thread that calls Cancel(), so the engine
  // can forget the session.
  explicit SseSession(std::function<void()> on_cancel) : on_cancel_(std::move(on_cancel)) {}

  bool Take(std::string* out) override;
  bool WaitAndTake(std::string* out, std::chrono::milliseconds max_wait) override;
  void SetNotify(std::function<void()> fn) override;
  void Cancel() override;

  // Bytes a client may leave unread before its response is ended (memory
  // per stalled reader stays bounded; catch-up is paced far below this).
  static constexpr size_t kMaxQueuedBytes = 32 * 1024 * 1024;

  // Engine side. Push returns false once the session has ended, including
  // when `bytes` would take the queue past kMaxQueuedBytes.
  bool Push(std::string_view bytes, std::string_view more = {});
  // Backpressure for catch-up: if bytes are still queued, keeps `fn` to run
  // (on the transport's thread, no lock held) once the transport has taken
  // them, and returns true; if the queue is already empty returns false and
  // keeps nothing. End() and Cancel() drop a kept callback.
  bool CallWhenDrained(std::function<void()> fn);
  // Ends the stream after what is queued. Idempotent.
  void End();
  bool ended() const { return ended_.load(); }
  // Steady-clock milliseconds of the last push (for heartbeats).
  int64_t last_push_ms() const { return last_push_ms_.load(); }

 private:
  void Notify();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;            // guarded by mu_
  std::shared_ptr<const std::function<void()>> notify_;  // guarded by mu_
  std::function<void()> on_cancel_;  // guarded by mu_
  std::function<void()> on_drain_;   // guarded by mu_
  std::atomic<bool> ended_{false};
  std::atomic<int64_t> last_push_ms_{0};
};

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_SSE_SESSION_H_
