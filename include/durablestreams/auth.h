// include/durablestreams/auth.h
//
// Authorization hooks, in the model of createStreamWorker({authorizeMutation,
// authorizeRead}): the engine asks before it does anything for a request.
// A hook returns an AuthDecision: allow (std::nullopt converts to one), or
// the Response to send instead (for example 401 with a WWW-Authenticate
// header, or 403). An allowed live read (long-poll or SSE) may be given a
// limit, for a credential that expires: the read ends by then.
//
// authorize_read is asked for GET and HEAD; authorize_mutation for PUT, POST
// and DELETE. Both see the whole Request (path, query, headers; the body is
// present for mutations). ProjectJwtAuth (project_auth.h) is one pair.
//
// Thread safety: hooks are called concurrently from many threads, never under
// an engine lock. They must not throw and should not block for long: the
// calling transport thread waits for them.
#ifndef DURABLESTREAMS_AUTH_H_
#define DURABLESTREAMS_AUTH_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "durablestreams/request.h"

namespace durablestreams {

struct AuthDecision {
  AuthDecision() = default;
  AuthDecision(std::nullopt_t) {}                           // NOLINT: allow, implicitly
  AuthDecision(Response deny) : denial(std::move(deny)) {}  // NOLINT
  AuthDecision(std::optional<Response> deny) : denial(std::move(deny)) {}  // NOLINT

  static AuthDecision AllowFor(std::chrono::milliseconds limit) {
    AuthDecision d;
    d.live_limit = limit;
    return d;
  }

  // Set: the request is refused with this response and nothing is done...
  std::optional<Response> denial;
  // ... for this reason, a short snake_case word counted in the metrics'
  // durable_streams_auth_failures_total{reason} (null: "denied").
  const char* reason = nullptr;
  // ... unless this is set, the request a read (GET, HEAD) and its stream
  // public (CreateCommand::public_read): then it is answered as usual. A
  // read of any other stream, or of none, gets `denial`.
  bool unless_public = false;
  // An allowed read of a stream that is not public, without the stream's
  // reader key (?rk=), is answered "Cache-Control: private, no-store" so
  // that no shared cache keeps what a credential let through.
  bool private_data = false;
  // A create that does not say ?public= makes a public stream if true.
  bool public_by_default = false;
  // Set on an allowed request: a long-poll or SSE read it starts ends after
  // at most this long (a long-poll as if it timed out, an SSE response as at
  // its maximum duration).
  std::optional<std::chrono::milliseconds> live_limit;
};

using AuthorizeFn = std::function<AuthDecision(const Request&)>;

// Asked for a request of a project's control APIs (its configuration, its
// subscriptions), with the project it is for.
using ControlAuthorizeFn = std::function<AuthDecision(const Request&, std::string_view project)>;

// Options::cors_origin: the Access-Control-Allow-Origin for a request.
using CorsOriginFn = std::function<std::optional<std::string>(const Request&)>;

// Builds a denial: `status` with the JSON error body {"code":..,"error":..}.
Response DenyResponse(int status, std::string_view code, std::string_view message);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_AUTH_H_
