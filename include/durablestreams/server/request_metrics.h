// include/durablestreams/server/request_metrics.h
//
// The HTTP request metrics a transport counts into a Metrics (metrics.h),
// when given one (EventServerOptions, HttplibAdapterOptions;
// durable-streams-server does unless --metrics off):
//
//   durable_streams_http_requests_total{method,outcome}
//   durable_streams_http_request_duration_seconds{method,outcome}
//
// `method` is GET, HEAD, POST, PUT, DELETE, OPTIONS or OTHER; `outcome` the
// status class (2xx, 3xx, 4xx, 5xx). The duration runs from the request's
// head read to its answer; for an SSE response, to when its head goes out
// (event transport) or it ends (httplib transport), as in the access log.
// A series appears when its first request is counted.
//
// Thread safety: Record() may be called from any thread; it is lock-free
// once a series exists. Ownership: the Metrics must outlive this.
#ifndef DURABLESTREAMS_SERVER_REQUEST_METRICS_H_
#define DURABLESTREAMS_SERVER_REQUEST_METRICS_H_

#include <atomic>
#include <memory>
#include <string_view>

#include "durablestreams/metrics.h"

namespace durablestreams {

class RequestMetrics {
 public:
  explicit RequestMetrics(std::shared_ptr<Metrics> metrics) : metrics_(std::move(metrics)) {}

  void Record(std::string_view method, int status, double seconds);

 private:
  static constexpr int kMethods = 7, kOutcomes = 4;
  struct Series {
    std::atomic<Counter*> count{nullptr};
    std::atomic<Histogram*> latency{nullptr};
  };
  std::shared_ptr<Metrics> metrics_;
  Series series_[kMethods][kOutcomes];
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_REQUEST_METRICS_H_
