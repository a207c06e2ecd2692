// include/durablestreams/auth.h
//
// Authorization hooks, in the model of createStreamWorker({authorizeMutation,
// authorizeRead}): the engine asks before it does anything for a request.
// A hook returns std::nullopt to allow, or the Response to send instead
// (for example 401 with a WWW-Authenticate header, or 403).
//
// authorize_read is asked for GET and HEAD; authorize_mutation for PUT, POST
// and DELETE. Both see the whole Request (path, query, headers; the body is
// present for mutations).
//
// Thread safety: hooks are called concurrently from many threads, never under
// an engine lock. They must not throw and should not block for long: the
// calling transport thread waits for them.
#ifndef DURABLESTREAMS_AUTH_H_
#define DURABLESTREAMS_AUTH_H_

#include <functional>
#include <optional>

#include "durablestreams/request.h"

namespace durablestreams {

using AuthorizeFn = std::function<std::optional<Response>(const Request&)>;

// Builds a denial: `status` with the JSON error body {"code":..,"error":..}.
Response DenyResponse(int status, std::string_view code, std::string_view message);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_AUTH_H_
