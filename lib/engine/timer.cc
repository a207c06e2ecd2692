#include "engine/timer.h"

#include <pthread.h>

namespace durablestreams::engine {

Timer::Timer()
    : thread_([this] {
        pthread_setname_np(pthread_self(), "ds-timer");
        Run();
      }) {}

Timer::~Timer() { Stop(); }

void Timer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    by_time_.clear();
    entries_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Timer::Id Timer::Schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto when = SteadyClock::now() + delay;
  Id id;
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return 0;
    id = next_id_++;
    entries_.emplace(id, std::make_pair(when, std::move(fn)));
    auto it = by_time_.emplace(when, id);
    first = it == by_time_.begin();
  }
  if (first) cv_.notify_one();
  return id;
}

bool Timer::Cancel(Id id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  auto range = by_time_.equal_range(it->second.first);
  for (auto t = range.first; t != range.second; ++t) {
    if (t->second == id) {
      by_time_.erase(t);
      break;
    }
  }
  entries_.erase(it);
  return true;
}

void Timer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (by_time_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = by_time_.begin();
    // A copy: the entry may be cancelled (and freed) while we wait.
    const SteadyClock::time_point due = first->first;
    if (due > SteadyClock::now()) {
      cv_.wait_until(lock, due);
      continue;
    }
    Id id = first->second;
    by_time_.erase(first);
    auto it = entries_.find(id);
    std::function<void()> fn = std::move(it->second.second);
    entries_.erase(it);
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace durablestreams::engine
