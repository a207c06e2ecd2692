// server/read_pool.h
//
// ReadPool: the threads that run reads for the event loops.
//
// Thread safety: Run from any thread. Ownership: the pool owns its threads;
// destroying it runs what is queued and joins them.
#ifndef DURABLESTREAMS_SERVER_READ_POOL_H_
#define DURABLESTREAMS_SERVER_READ_POOL_H_

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace durablestreams::event {

// Threads that run reads. A read may wait for storage (SQLite, or a cold
// segment in object storage), and an event loop must never wait: GET and
// HEAD requests are handed to these, their answers posted back. Mutations
// only queue work for the engine's commit thread, so they stay on the loop.
class ReadPool {
 public:
  explicit ReadPool(int threads) {
    for (int i = 0; i < threads; ++i) {
      workers_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "ds-read");
        Work();
      });
    }
  }
  ~ReadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  void Run(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left
      std::function<void()> fn = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace durablestreams::event

#endif  // DURABLESTREAMS_SERVER_READ_POOL_H_
