// lib/auth/authorizer.h
//
// The decisions of project auth (project_auth.h), shared by the stream hooks
// and the configuration API (project_config_api.h): a request's bearer
// token checked against a project's secrets, scope and stream.
//
// Thread safety: const methods, callable from any thread.
#ifndef DURABLESTREAMS_LIB_AUTH_AUTHORIZER_H_
#define DURABLESTREAMS_LIB_AUTH_AUTHORIZER_H_

#include <optional>
#include <string>
#include <string_view>

#include "durablestreams/project_auth.h"

namespace durablestreams::auth {

// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1): the one
// Authorization header, scheme matched without case, spaces around the
// token dropped; empty if there is none.
std::string_view BearerToken(const Request& req);

// 401 with the Bearer challenge; `invalid_token` adds error="invalid_token".
Response Unauthorized(bool invalid_token, std::string_view message);
Response Forbidden(std::string_view message);

class Authorizer {
 public:
  explicit Authorizer(ProjectJwtAuthOptions o);

  // A request for the stream at req.path.
  AuthDecision Check(const Request& req, Scope need) const;
  // A request for project `project` itself (no stream): a token limited to
  // one stream is refused.
  AuthDecision CheckProject(const Request& req, std::string_view project, Scope need) const;
  // Options::cors_origin for the stream at req.path.
  std::optional<std::string> CorsOrigin(const Request& req) const;

  const std::shared_ptr<ProjectStore>& projects() const { return o_.projects; }

 private:
  // The token's claims if it is valid for `project` and of scope `need`;
  // else the refusal, in *denial. *public_by_default: the project's.
  std::optional<TokenClaims> Verify(const Request& req, std::string_view project, Scope need,
                                    AuthDecision* denial, bool* public_by_default,
                                    int64_t* now_ms) const;

  ProjectJwtAuthOptions o_;
};

}  // namespace durablestreams::auth

#endif  // DURABLESTREAMS_LIB_AUTH_AUTHORIZER_H_
