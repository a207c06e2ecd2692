// server/routing.h
//
// What both transports (event_server.cc, httplib_adapter.cc) agree on about
// routes: the protocol's Method for an HTTP method name, the public URL of
// a request (the Location of a created stream), and the health answer.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_SERVER_ROUTING_H_
#define DURABLESTREAMS_SERVER_ROUTING_H_

#include <string>
#include <string_view>

#include "durablestreams/request.h"

namespace durablestreams {

inline Method ToMethod(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "HEAD") return Method::kHead;
  if (m == "PUT") return Method::kPut;
  if (m == "POST") return Method::kPost;
  if (m == "DELETE") return Method::kDelete;
  if (m == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

// scheme://host/path for a request to `raw_path` (as sent, without the
// query). Behind a TLS-terminating proxy the public scheme is the proxy's,
// so X-Forwarded-Proto "https" makes it https; anything else is http.
inline std::string PublicUrl(std::string_view host, std::string_view forwarded_proto,
                             std::string_view raw_path) {
  std::string url = forwarded_proto == "https" ? "https://" : "http://";
  url += host;
  url += raw_path;
  return url;
}

// The path GET /health answers on (when enabled), and its answer.
inline constexpr std::string_view kHealthPath = "/health";
inline Response HealthResponse() {
  Response r;
  r.headers.Set("Content-Type", "application/json");
  r.body = "{\"status\":\"ok\"}";
  return r;
}

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_ROUTING_H_
