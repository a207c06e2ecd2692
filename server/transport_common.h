// server/transport_common.h: what both transports (event_server.cc,
// httplib_adapter.cc) share: the protocol's Method for an HTTP method name,
// and the answer to a request that never reached the engine.
#ifndef DURABLESTREAMS_SERVER_TRANSPORT_COMMON_H_
#define DURABLESTREAMS_SERVER_TRANSPORT_COMMON_H_

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

// A transport's own error (malformed request, unknown route, body over the
// limit): the engine's JSON error shape and its security headers. Codes and
// messages are fixed ASCII strings, so nothing needs escaping.
inline Response TransportError(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("X-Content-Type-Options", "nosniff");
  r.headers.Set("Cross-Origin-Resource-Policy", "cross-origin");
  r.headers.Set("Access-Control-Allow-Origin", "*");
  r.body = "{\"code\":\"" + std::string(code) + "\",\"error\":\"" + std::string(message) + "\"}";
  return r;
}

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_TRANSPORT_COMMON_H_
