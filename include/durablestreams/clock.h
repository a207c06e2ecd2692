// include/durablestreams/clock.h
//
// Clock is where the engine reads wall-clock time: TTL and Expires-At checks,
// Stream-Cursor intervals. Tests inject a ManualClock to move time without
// sleeping. (Timeouts of live reads use the machine's steady clock; they do
// not depend on this clock.)
//
// Thread safety: implementations must be safe to call from any thread.
#ifndef DURABLESTREAMS_CLOCK_H_
#define DURABLESTREAMS_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <memory>

namespace durablestreams {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() = 0;
};

// The system's real-time clock.
std::shared_ptr<Clock> SystemClock();

// A clock that moves only when told to.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_millis) : now_(start_millis) {}
  int64_t NowMillis() override { return now_.load(); }
  void Advance(int64_t millis) { now_ += millis; }
  void Set(int64_t millis) { now_ = millis; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_CLOCK_H_
