// tests/support/eventually.h: waiting for a condition in a test that
// drives a real server, with a bound so that a regression fails instead of
// hanging.
#ifndef DURABLESTREAMS_TESTS_SUPPORT_EVENTUALLY_H_
#define DURABLESTREAMS_TESTS_SUPPORT_EVENTUALLY_H_

#include <chrono>
#include <thread>

namespace dstest {

// Whether `pred` holds within `within`, asking every 20 ms.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds within = std::chrono::seconds(20)) {
  auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace dstest

#endif  // DURABLESTREAMS_TESTS_SUPPORT_EVENTUALLY_H_
