// server/metrics_endpoint.cc: GET /metrics (metrics_endpoint.h).
#include "metrics_endpoint.h"

#include <httplib.h>

#include <charconv>
#include <thread>

namespace durablestreams {

namespace {

constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";

// Compares in time that depends on the length alone.
bool SameToken(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Response Scrape(const Metrics& metrics) {
  Response r;
  r.body = metrics.Text();
  r.headers.Set("Content-Type", kExpositionType);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

class Listener final : public MetricsListener {
 public:
  ~Listener() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const override { return port_; }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace

Route MetricsRoute(std::shared_ptr<Metrics> metrics, std::string token, bool closed) {
  Route route;
  route.prefix = kMetricsPath;
  route.exact = true;
  route.handler = [metrics, token, closed](const Request& req) {
    if (req.method != Method::kGet && req.method != Method::kHead) {
      Response r = ErrorResponse(405, "METHOD_NOT_ALLOWED", "metrics are read-only");
      r.headers.Set("Allow", "GET, HEAD");
      return r;
    }
    if (closed && token.empty()) {
      return ErrorResponse(401, "UNAUTHORIZED",
                           "metrics need --metrics-token or --metrics-listen under --auth jwt");
    }
    if (!token.empty()) {
      const std::string* auth = req.headers.Get("Authorization");
      std::string_view given = auth ? std::string_view(*auth) : std::string_view();
      constexpr std::string_view kBearer = "Bearer ";
      if (given.substr(0, kBearer.size()) != kBearer ||
          !SameToken(given.substr(kBearer.size()), token)) {
        Response r = ErrorResponse(401, "UNAUTHORIZED", "metrics need the metrics token");
        r.headers.Set("WWW-Authenticate", "Bearer");
        return r;
      }
    }
    return Scrape(*metrics);
  };
  return route;
}

Result<std::unique_ptr<MetricsListener>> MetricsListener::Start(std::shared_ptr<Metrics> metrics,
                                                                const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("--metrics-listen wants HOST:PORT");
  std::string host = host_port.substr(0, colon);
  std::string_view p = std::string_view(host_port).substr(colon + 1);
  int port = -1;
  auto [at, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || at != p.data() + p.size() || port < 0 || port > 65535) {
    return Status::InvalidArgument("--metrics-listen wants HOST:PORT");
  }
  auto l = std::make_unique<Listener>();
  l->server_.Get(kMetricsPath, [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(metrics->Text(), kExpositionType);
  });
  l->port_ = port == 0 ? l->server_.bind_to_any_port(host)
                       : (l->server_.bind_to_port(host, port) ? port : -1);
  if (l->port_ < 0) return Status::IOError("cannot listen on " + host_port + " for metrics");
  Listener* raw = l.get();
  l->thread_ = std::thread([raw] { raw->server_.listen_after_bind(); });
  return std::unique_ptr<MetricsListener>(std::move(l));
}

}  // namespace durablestreams
