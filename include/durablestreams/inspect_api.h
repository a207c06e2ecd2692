// include/durablestreams/inspect_api.h
//
// The inspect API (docs/operations.md), for operators and the admin page:
//
//   GET /v1/inspect/{path}
//       what the engine knows of the stream {path} (inspect.h), as JSON
//   GET /v1/inspect?project=&prefix=&limit=&after=
//       the streams whose path starts with `prefix`, sorted by path, at
//       most `limit` (default 100, at most 1000) after the path `after`;
//       `next` is the `after` of the next page (null on the last). Under
//       project auth the list is the project's (default "_default") and
//       paths are given as the stream API names them.
//
// Times are Unix milliseconds, offsets the protocol's offset tokens. Under
// project auth every request needs a `manage` token of the project
// (InspectApiOptions::authorize_control); without it, anyone may inspect.
//
// Thread safety: the handler may be called from any thread; `done` is
// called once, possibly on the engine's commit thread. The handler reads
// the store on the calling thread (Inspect). Ownership: it keeps a
// reference to `engine`, which must outlive it.
#ifndef DURABLESTREAMS_INSPECT_API_H_
#define DURABLESTREAMS_INSPECT_API_H_

#include <functional>
#include <string_view>

#include "durablestreams/auth.h"
#include "durablestreams/request.h"
#include "durablestreams/stream_engine.h"

namespace durablestreams {

// The list route (exact) and the prefix of the per-stream one.
inline constexpr std::string_view kInspectList = "/v1/inspect";
inline constexpr std::string_view kInspectRoot = "/v1/inspect/";

struct InspectApiOptions {
  ControlAuthorizeFn authorize_control;  // null: every request allowed
  bool projects = false;                 // stream paths begin with their project
};

// Serves a request whose Request::root is kInspectList or kInspectRoot.
std::function<void(Request, std::function<void(Response)>)> InspectApi(
    StreamEngine& engine, InspectApiOptions options = {});

}  // namespace durablestreams

#endif  // DURABLESTREAMS_INSPECT_API_H_
