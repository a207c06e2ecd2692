// include/durablestreams/estuary_api.h
//
// The HTTP API of estuaries (estuary.h), served beside the streams under
// /v1/estuary/ (docs/estuaries.md has every route, body and error):
//
//   POST   /v1/estuary/subscribe/{project}/{stream}  {"estuaryId":"..."}
//   DELETE /v1/estuary/subscribe/{project}/{stream}  {"estuaryId":"..."}
//   GET    /v1/estuary/{project}/{estuaryId}
//   DELETE /v1/estuary/{project}/{estuaryId}
//
// The session stream of `estuaryId` is the stream {project}/{estuaryId}
// ({estuaryId} for the project "_default"), read like any other stream.
// Authorization is the engine's own hooks (Options::authorize_*), asked as
// for the streams concerned: subscribe and unsubscribe as a POST to the
// source stream (write), GET as a read of the session stream, DELETE as a
// delete of it. With project auth (project_auth.h) that is a token of the
// project with write scope (read for GET), or one limited to that stream.
//
// Thread safety: the handler may be called from any thread; it never
// blocks: `done` is called once, possibly on the engine's commit thread.
// Ownership: the handler keeps a reference to `engine`, which must outlive it.
#ifndef DURABLESTREAMS_ESTUARY_API_H_
#define DURABLESTREAMS_ESTUARY_API_H_

#include <functional>
#include <string>
#include <string_view>

#include "durablestreams/request.h"
#include "durablestreams/stream_engine.h"

namespace durablestreams {

inline constexpr std::string_view kEstuaryRoot = "/v1/estuary/";

struct EstuaryApiOptions {
  // Where the streams are served: estuaryStreamPath begins with it.
  std::string stream_root = "/v1/stream/";
};

// Serves one request under kEstuaryRoot (Request::path = the rest).
using AsyncHandler = std::function<void(Request, std::function<void(Response)>)>;
AsyncHandler EstuaryApi(StreamEngine& engine, EstuaryApiOptions options = {});

}  // namespace durablestreams

#endif  // DURABLESTREAMS_ESTUARY_API_H_
