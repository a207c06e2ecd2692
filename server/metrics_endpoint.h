// server/metrics_endpoint.h
//
// GET /metrics for durable-streams-server: the Metrics' text exposition
// (Content-Type text/plain; version=0.0.4), on the main listener as a
// route, or on a listener of its own (--metrics-listen) that serves
// nothing else. With a token (--metrics-token), the route wants
// `Authorization: Bearer <token>` (compared in constant time); under
// --auth jwt without a token or a listener of its own, the route refuses
// every scrape (401) rather than show a server's figures to anyone.
//
// Thread safety: the route's handler and the listener may be called from
// any thread. Ownership: both keep the Metrics alive.
#ifndef DURABLESTREAMS_SERVER_METRICS_ENDPOINT_H_
#define DURABLESTREAMS_SERVER_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "durablestreams/metrics.h"
#include "durablestreams/server/route.h"
#include "durablestreams/status.h"

namespace durablestreams {

inline constexpr const char* kMetricsPath = "/metrics";

// `token` empty and `closed` false: open to all.
Route MetricsRoute(std::shared_ptr<Metrics> metrics, std::string token, bool closed);

// A listener on host:port serving GET /metrics alone, on a thread of its
// own until the returned handle is destroyed.
class MetricsListener {
 public:
  static Result<std::unique_ptr<MetricsListener>> Start(std::shared_ptr<Metrics> metrics,
                                                        const std::string& host_port);
  virtual ~MetricsListener() = default;
  virtual int port() const = 0;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_METRICS_ENDPOINT_H_
