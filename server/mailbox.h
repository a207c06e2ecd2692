// server/mailbox.h
//
// A loop's mailbox: work posted to an event loop's thread from any other
// thread (engine callbacks, SSE sessions with new bytes), woken through an
// eventfd the loop polls.
//
// Thread safety: Post, PostLive and Close from any thread; Take on the
// loop's thread. Ownership: the mailbox owns its eventfd.
#ifndef DURABLESTREAMS_SERVER_MAILBOX_H_
#define DURABLESTREAMS_SERVER_MAILBOX_H_

#include <unistd.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace durablestreams::event {

struct Conn;  // event_server.cc

// A live pump: a connection whose SSE session has new bytes, for the request
// of generation `gen` (a later request on the connection ignores it).
struct LivePump {
  std::weak_ptr<Conn> conn;
  uint64_t gen = 0;
};

// Work for a loop's thread, posted from any thread. Shared with engine
// callbacks, which may outlive the loop: once closed, posts are dropped.
// Two queues: answers to requests (and control work) run as soon as the loop
// looks; live pumps (an SSE reader has new bytes) may be many after one
// append, and the loop works through them in turns between its I/O, so a
// broadcast to thousands of readers does not hold up the next request.
class Mailbox {
 public:
  explicit Mailbox(int evfd) : evfd_(evfd) {}
  ~Mailbox() { ::close(evfd_); }
  int fd() const { return evfd_; }

  void Post(std::function<void()> fn) { Push(&tasks_, std::move(fn)); }
  void PostLive(LivePump p) { Push(&live_, std::move(p)); }

  // Moves what is queued out: answers into *tasks, live pumps onto the end
  // of *live.
  void Take(std::vector<std::function<void()>>* tasks, std::deque<LivePump>* live) {
    uint64_t v;
    ssize_t n = ::read(evfd_, &v, sizeof v);
    (void)n;
    std::lock_guard<std::mutex> lock(mu_);
    tasks->swap(tasks_);
    for (auto& p : live_) live->push_back(std::move(p));
    live_.clear();
  }

  // Drops what is queued and every later post.
  void Close() {
    std::vector<std::function<void()>> dropped;
    std::vector<LivePump> dropped_live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      dropped.swap(tasks_);
      dropped_live.swap(live_);
    }
  }

 private:
  template <typename T>
  void Push(std::vector<T>* queue, T item) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    bool wake = tasks_.empty() && live_.empty();
    queue->push_back(std::move(item));
    if (wake) {
      uint64_t one = 1;
      ssize_t n = ::write(evfd_, &one, sizeof one);
      (void)n;
    }
  }

  const int evfd_;
  std::mutex mu_;
  std::vector<std::function<void()>> tasks_;  // guarded by mu_
  std::vector<LivePump> live_;                // guarded by mu_
  bool closed_ = false;                       // guarded by mu_
};

}  // namespace durablestreams::event

#endif  // DURABLESTREAMS_SERVER_MAILBOX_H_
