// lib/engine/timer.h
//
// One thread that runs callbacks at steady-clock deadlines: long-poll
// timeouts, SSE heartbeats and lifetimes, the expiry sweep. It never waits
// for data; it only sleeps until the next deadline.
//
// Thread safety: Schedule() and Cancel() may be called from any thread,
// including from inside a callback. Callbacks run on the timer thread, one at
// a time, with no timer lock held.
#ifndef DURABLESTREAMS_LIB_ENGINE_TIMER_H_
#define DURABLESTREAMS_LIB_ENGINE_TIMER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace durablestreams::engine {

class Timer {
 public:
  using SteadyClock = std::chrono::steady_clock;
  using Id = uint64_t;

  Timer();
  ~Timer();  // runs nothing further; joins the thread

  Id Schedule(std::chrono::milliseconds delay, std::function<void()> fn);
  // Returns true when the callback had not started and now never will.
  bool Cancel(Id id);
  // Stops the thread; pending callbacks are dropped.
  void Stop();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                   // guarded by mu_
  Id next_id_ = 1;                                      // guarded by mu_
  std::multimap<SteadyClock::time_point, Id> by_time_;        // guarded by mu_
  std::unordered_map<Id, std::pair<SteadyClock::time_point, std::function<void()>>> entries_;  // mu_
  std::thread thread_;
};

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_TIMER_H_
