// lib/engine/cors.h
//
// CORS for the engine's HTTP entries (http_entry.cc, estuary_http.cc):
// Options::cors_origin's answer set on the response.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_ENGINE_CORS_H_
#define DURABLESTREAMS_LIB_ENGINE_CORS_H_

#include <string>

#include "durablestreams/stream_engine.h"

namespace durablestreams::engine {

// `done`, with the response's Access-Control-Allow-Origin set to `origin`
// ("": none).
ResponseCallback WithCorsOrigin(ResponseCallback done, std::string origin);

// `done`, with the CORS origin Options::cors_origin gives `request`, if any.
ResponseCallback WithCors(const Options& options, const Request& request, ResponseCallback done);

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_CORS_H_
