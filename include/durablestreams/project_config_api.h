// include/durablestreams/project_config_api.h
//
// The configuration API of project auth, a route (server/route.h) under
// /v1/config/: `GET /v1/config/{project}` and `PUT /v1/config/{project}`,
// each with a `manage` token of that project (not limited to a stream).
//
// GET answers the project as JSON; secrets appear only by their first
// characters, never in full:
//
//   {"project":"demo","secrets":[{"prefix":"Zq3x9A"}],
//    "corsOrigins":["https://app.example"],"publicByDefault":false}
//
// PUT takes a JSON object of changes, all made together or none (a bad
// origin, a prefix that names no secret): every field is optional.
//
//   {"rotateSecret":true,          add a generated secret; the answer's
//                                  "newSecret" shows it, this once
//    "addSecret":"<43+ chars>",    add a secret of your own
//    "removeSecret":"<prefix>",    remove the one secret starting so
//    "corsOrigins":["*"],          replace the allowed origins
//    "publicByDefault":true}       new streams public unless ?public=false
//
// and answers as GET does (plus "newSecret"). Errors are the JSON error
// body: 400 for a body that is not such an object, 401/403 as for streams,
// 405 for another method.
//
// Thread safety: the handler may be called from any thread.
#ifndef DURABLESTREAMS_PROJECT_CONFIG_API_H_
#define DURABLESTREAMS_PROJECT_CONFIG_API_H_

#include <functional>

#include "durablestreams/project_auth.h"

namespace durablestreams {

inline constexpr std::string_view kConfigRoot = "/v1/config/";

// The handler of requests under kConfigRoot (Request::path = "{project}").
std::function<Response(const Request&)> ProjectConfigApi(ProjectJwtAuthOptions options);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_PROJECT_CONFIG_API_H_
