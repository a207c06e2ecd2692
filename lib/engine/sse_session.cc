#include "engine/sse_session.h"

#include <chrono>

namespace durablestreams::engine {

namespace {
int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

bool SseSession::Take(std::string* out) {
  std::function<void()> drained;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty()) return !ended_.load();
    if (out->empty()) {
      out->swap(pending_);
    } else {
      out->append(pending_);
    }
    pending_.clear();
    drained.swap(on_drain_);
  }
  if (drained) drained();
  return true;
}

bool SseSession::WaitAndTake(std::string* out, std::chrono::milliseconds max_wait) {
  std::function<void()> drained;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, max_wait, [&] { return !pending_.empty() || ended_.load(); });
    if (pending_.empty()) return !ended_.load();
    out->append(pending_);
    pending_.clear();
    drained.swap(on_drain_);
  }
  if (drained) drained();
  return true;
}

bool SseSession::CallWhenDrained(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.empty() || ended_.load()) return false;
  on_drain_ = std::move(fn);
  return true;
}

void SseSession::SetNotify(std::function<void()> fn) {
  bool fire;
  {
    std::lock_guard<std::mutex> lock(mu_);
    notify_ = fn ? std::make_shared<const std::function<void()>>(std::move(fn)) : nullptr;
    fire = notify_ && (!pending_.empty() || ended_.load());
  }
  if (fire) Notify();
}

void SseSession::Cancel() {
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    pending_.clear();
    hook = std::move(on_cancel_);
    on_cancel_ = nullptr;
    on_drain_ = nullptr;
  }
  cv_.notify_all();
  if (hook) hook();
}

bool SseSession::Push(std::string_view bytes, std::string_view more) {
  std::shared_ptr<const std::function<void()>> fn;
  bool queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_.load()) return false;
    queued = pending_.size() + bytes.size() + more.size() <= kMaxQueuedBytes;
    if (queued) {
      pending_.append(bytes);
      pending_.append(more);
    } else {
      // The client stopped reading: end after what it has queued (whole
      // events, each data event followed by its control event), and it
      // resumes from the last offset it saw when it reconnects.
      ended_ = true;
      on_drain_ = nullptr;
    }
    fn = notify_;
  }
  if (queued) last_push_ms_ = SteadyMillis();
  cv_.notify_all();
  if (fn) (*fn)();
  return queued;
}

void SseSession::End() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_.exchange(true)) return;
    on_cancel_ = nullptr;
    on_drain_ = nullptr;
  }
  cv_.notify_all();
  Notify();
}

void SseSession::Notify() {
  std::shared_ptr<const std::function<void()>> fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn = notify_;
  }
  if (fn) (*fn)();
}

}  // namespace durablestreams::engine
