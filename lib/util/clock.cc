// lib/util/clock.cc: the wall clock (clock.h).
#include "durablestreams/clock.h"

#include <chrono>

namespace durablestreams {

namespace {
class RealClock final : public Clock {
 public:
  int64_t NowMillis() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

std::shared_ptr<Clock> SystemClock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<RealClock>();
  return clock;
}

}  // namespace durablestreams
