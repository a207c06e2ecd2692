// lib/protocol/estuary_request.h
//
// The HTTP side of estuaries (estuary.h, docs/estuaries.md): what a request
// under /v1/estuary/ asks, and the JSON bodies of the answers.
//
//   POST   subscribe/{project}/{stream}   {"estuaryId":"..."}
//   DELETE subscribe/{project}/{stream}   {"estuaryId":"..."}
//   GET    {project}/{estuaryId}
//   DELETE {project}/{estuaryId}
//
// Stream paths: a stream of the project "_default" is at the root
// ({stream}), any other at {project}/{stream}, as project auth names them
// (project_auth.h).
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_ESTUARY_REQUEST_H_
#define DURABLESTREAMS_LIB_PROTOCOL_ESTUARY_REQUEST_H_

#include <optional>
#include <string>
#include <string_view>

#include "durablestreams/estuary.h"
#include "durablestreams/outcomes.h"
#include "durablestreams/request.h"

namespace durablestreams::protocol {

struct EstuaryRequest {
  enum class Kind { kSubscribe, kUnsubscribe, kInfo, kDelete };
  Kind kind = Kind::kInfo;
  std::string project;
  std::string estuary_id;
  std::string source_id;  // kSubscribe, kUnsubscribe: the stream in the project
  std::string source;     // its path from the stream root
  std::string estuary;    // the session stream's path from the stream root
};

// Whether `id` is an estuary id: 1 to 256 of [a-zA-Z0-9_\-:.], not "." or "..".
bool ValidEstuaryId(std::string_view id);

// Decodes `request` (path relative to /v1/estuary/), or says why not:
// 404 for no such route, 405 for a method the route does not take, 400 for
// a bad body or id.
std::optional<StreamError> DecodeEstuaryRequest(const Request& request, EstuaryRequest* out);

// The answers' bodies. `stream_root` is where streams are served
// ("/v1/stream/").
std::string SubscribeJson(const EstuaryRequest& r, const EstuarySubscribeOutcome& o,
                          std::string_view stream_root);
std::string EstuaryInfoJson(const EstuaryRequest& r, const EstuaryInfoOutcome& o,
                            std::string_view stream_root);

// `path` (a stream path) as a stream id in `project`: the path less the
// project's prefix.
std::string StreamIdInProject(std::string_view project, std::string_view path);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_ESTUARY_REQUEST_H_
