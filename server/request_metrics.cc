// server/request_metrics.cc: RequestMetrics (request_metrics.h).
#include "durablestreams/server/request_metrics.h"

#include <string>

namespace durablestreams {

namespace {

constexpr const char* kMethodNames[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "OTHER"};
constexpr const char* kOutcomeNames[] = {"2xx", "3xx", "4xx", "5xx"};

int MethodIndex(std::string_view m) {
  for (int i = 0; i < 6; ++i) {
    if (m == kMethodNames[i]) return i;
  }
  return 6;
}

}  // namespace

void RequestMetrics::Record(std::string_view method, int status, double seconds) {
  int m = MethodIndex(method);
  int o = status < 300 ? 0 : status < 400 ? 1 : status < 500 ? 2 : 3;
  Series& s = series_[m][o];
  Counter* count = s.count.load(std::memory_order_acquire);
  Histogram* latency = s.latency.load(std::memory_order_acquire);
  if (!count || !latency) {
    // Registration is idempotent: racing threads get the same series.
    std::string labels = Label("method", kMethodNames[m]) + "," + Label("outcome", kOutcomeNames[o]);
    count = &metrics_->AddCounter("durable_streams_http_requests_total",
                                  "HTTP requests answered, by method and status class.", labels);
    latency = &metrics_->AddHistogram("durable_streams_http_request_duration_seconds",
                                      "Time from a request's head to its answer.",
                                      LatencyBuckets(), labels);
    s.count.store(count, std::memory_order_release);
    s.latency.store(latency, std::memory_order_release);
  }
  count->Add();
  latency->Observe(seconds);
}

}  // namespace durablestreams
