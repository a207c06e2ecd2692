// include/durablestreams/server/route.h
//
// A route a transport serves beside the streams, such as the project
// configuration API (project_config_api.h): a request whose percent-decoded
// path starts with `prefix` and goes on past it is handed to `handler` as a
// Request with `root` = prefix and `path` = the rest, and its Response is
// sent as it is. A route with `async_handler` set (the estuary API,
// estuary_api.h) is answered when that calls its callback instead, from
// any thread. The prefix is a whole path segment: it starts and ends
// with '/', so "/v1/config/" never matches "/v1/configx". A route with
// `exact` set answers its prefix alone (which then need not end with
// '/'), with `path` empty: "/metrics", "/admin/".
//
// Thread safety: handlers are called concurrently from the transport's
// threads; they should not block for long.
#ifndef DURABLESTREAMS_SERVER_ROUTE_H_
#define DURABLESTREAMS_SERVER_ROUTE_H_

#include <functional>
#include <string>

#include "durablestreams/request.h"

namespace durablestreams {

using RouteHandler = std::function<Response(const Request&)>;
using AsyncRouteHandler = std::function<void(Request, std::function<void(Response)>)>;

struct Route {
  std::string prefix;
  RouteHandler handler;
  AsyncRouteHandler async_handler;  // used instead of `handler` when set
  bool exact = false;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_ROUTE_H_
