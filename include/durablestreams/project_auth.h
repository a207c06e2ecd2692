// include/durablestreams/project_auth.h
//
// Project auth: the authorization hooks (auth.h) of a server whose streams
// belong to projects (projects.h) and whose clients present
// `Authorization: Bearer <JWT>` (jwt.h). One line for an embedder:
//
//   UseProjectJwtAuth(&options, {projects});
//
// Paths: the first segment of a stream path is its project
// (/v1/stream/{project}/{stream}); a path of one segment belongs to the
// project "_default" (/v1/stream/{stream}). "_default" is never written as
// a first segment: such a path is refused, so each stream has one name.
//
// Every request needs a token of the path's project (`sub`), signed with one
// of its current secrets, not expired (exp, nbf, with `clock_skew` either
// way), of a scope that allows the method (GET and HEAD need read; PUT, POST
// and DELETE write), and, if it names a `stream_id`, for this very stream.
// A create that forks also reads its source: the source must be in the same
// project, and a token limited to one stream cannot fork. A long-poll or SSE
// read ends when the token stops being accepted (exp plus the skew).
//
// The first segment of the path inside a project is never `__ds`: that is
// where the project's control APIs are (subscriptions.h), and such a path
// is refused as a stream.
//
// Public streams (created with `PUT ?public=true`, or in a project that
// makes its streams public by default) are read (GET, HEAD, live) without a
// token; writing them still needs one. Reads of other streams are answered
// "Cache-Control: private, no-store" unless they carry the stream's reader
// key (?rk=, from the Stream-Reader-Key header of create and HEAD).
//
// Refusals reveal nothing about streams: they are decided before any
// stream is looked up (a read refused is answered the same for a private
// stream and for none). No token, a malformed one, a bad signature, an
// unknown project, expiry: 401 with `WWW-Authenticate: Bearer`. A valid
// token without the right: 403.
//
// Thread safety: the hooks may be called from any thread (the store is
// thread-safe). Ownership: the hooks share the store.
#ifndef DURABLESTREAMS_PROJECT_AUTH_H_
#define DURABLESTREAMS_PROJECT_AUTH_H_

#include <chrono>
#include <memory>
#include <string_view>

#include "durablestreams/auth.h"
#include "durablestreams/clock.h"
#include "durablestreams/jwt.h"
#include "durablestreams/options.h"
#include "durablestreams/projects.h"

namespace durablestreams {

inline constexpr std::string_view kDefaultProject = "_default";

struct ProjectJwtAuthOptions {
  std::shared_ptr<ProjectStore> projects;  // required
  std::chrono::seconds clock_skew{60};
  std::shared_ptr<Clock> clock;  // SystemClock() when null
};

struct ProjectPath {
  std::string_view project;
  std::string_view stream;  // the path inside the project
};

// Splits a stream path (relative to the stream root) as above.
ProjectPath SplitProjectPath(std::string_view path);

struct ProjectJwtAuthHooks {
  AuthorizeFn authorize_read;
  AuthorizeFn authorize_mutation;
  // The project's CORS origins: an allowed Origin is echoed, "*" allows any,
  // and an origin not listed (or a project with none) gets no CORS headers.
  CorsOriginFn cors_origin;
  // The project's control APIs (subscriptions.h): a `manage` token of the
  // project, not limited to a stream.
  ControlAuthorizeFn authorize_control;
};

ProjectJwtAuthHooks ProjectJwtAuth(ProjectJwtAuthOptions options);

// Sets options->authorize_read, authorize_mutation and cors_origin to
// ProjectJwtAuth's.
void UseProjectJwtAuth(Options* options, ProjectJwtAuthOptions auth);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_PROJECT_AUTH_H_
