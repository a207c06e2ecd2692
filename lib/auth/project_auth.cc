// lib/auth/project_auth.cc: the decisions of project auth (authorizer.h)
// and the hooks built on them (project_auth.h).
#include "durablestreams/project_auth.h"

#include <algorithm>
#include <unordered_map>

#include "auth/authorizer.h"
#include "protocol/request_decoder.h"

namespace durablestreams {

namespace auth {

namespace {

bool IEqualsPrefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view BearerToken(const Request& req) {
  if (req.headers.Count("Authorization") != 1) return {};
  std::string_view v = *req.headers.Get("Authorization");
  if (!IEqualsPrefix(v, "bearer ")) return {};
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

namespace {

// Tokens this thread verified lately, by their bytes: a client sends the
// same token with every request, and HMAC and two JSON parses cost more
// than the rest of a small append. An entry holds while the projects' view
// it was verified against is current (a secret added or removed makes a new
// view; the entry keeps its view alive, so a new one never has its
// address); exp and nbf are checked again on every use.
class VerifiedTokens {
 public:
  const TokenClaims* Find(std::string_view token, const std::shared_ptr<const ProjectMap>& view,
                          std::string_view project) {
    auto it = entries_.find(std::string(token));
    if (it == entries_.end() || it->second.view != view || it->second.project != project) {
      return nullptr;
    }
    return &it->second.claims;
  }
  const TokenClaims* Add(std::string_view token, std::shared_ptr<const ProjectMap> view,
                         std::string_view project, TokenClaims claims) {
    if (entries_.size() >= kMaxEntries) entries_.clear();
    Entry& e = entries_[std::string(token)];
    e.view = std::move(view);
    e.project = std::string(project);
    e.claims = std::move(claims);
    return &e.claims;
  }

 private:
  static constexpr size_t kMaxEntries = 1024;
  struct Entry {
    std::shared_ptr<const ProjectMap> view;
    std::string project;
    TokenClaims claims;
  };
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace

Response Unauthorized(bool invalid_token, std::string_view message) {
  Response r = ErrorResponse(401, "UNAUTHORIZED", message);
  r.headers.Set("WWW-Authenticate",
                invalid_token ? "Bearer realm=\"durable-streams\", error=\"invalid_token\""
                              : "Bearer realm=\"durable-streams\"");
  return r;
}

Response Forbidden(std::string_view message) {
  return ErrorResponse(403, "FORBIDDEN", message);
}

AuthDecision Refusal(Response r, const char* reason) {
  AuthDecision d(std::move(r));
  d.reason = reason;
  return d;
}

Authorizer::Authorizer(ProjectJwtAuthOptions o) : o_(std::move(o)) {
  if (!o_.clock) o_.clock = SystemClock();
}

std::optional<TokenClaims> Authorizer::Verify(const Request& req, std::string_view project,
                                              Scope need, AuthDecision* denial,
                                              bool* public_by_default, int64_t* now_ms) const {
  std::string_view token = BearerToken(req);
  if (token.empty()) {
    *denial = Refusal(Unauthorized(false, "a bearer token is required"), "missing_token");
    return std::nullopt;
  }
  Result<std::shared_ptr<const ProjectMap>> projects = o_.projects->Current();
  if (!projects.ok()) {
    *denial = Refusal(ErrorResponse(503, "UNAVAILABLE", "the project store cannot be read"),
                      "project_store_unavailable");
    return std::nullopt;
  }
  auto it = (*projects)->find(project);
  if (it == (*projects)->end()) {
    *denial = Refusal(Unauthorized(true, "invalid token"), "unknown_project");
    return std::nullopt;
  }
  *now_ms = o_.clock->NowMillis();
  int64_t now_s = *now_ms / 1000, skew_s = static_cast<int64_t>(o_.clock_skew.count());
  auto refuse = [denial](TokenError e) {
    *denial = Refusal(
        Unauthorized(true, e == TokenError::kExpired ? "the token has expired" : "invalid token"),
        TokenErrorName(e));
  };
  thread_local VerifiedTokens verified;
  const TokenClaims* claims = verified.Find(token, *projects, project);
  if (claims) {
    if (std::optional<TokenError> late = CheckTokenTime(*claims, now_s, skew_s)) {
      refuse(*late);
      return std::nullopt;
    }
  } else {
    TokenCheck check = VerifyToken(token, it->second.secrets, now_s, skew_s);
    if (!check.claims) {
      refuse(check.error);
      return std::nullopt;
    }
    claims = verified.Add(token, *projects, project, std::move(*check.claims));
  }
  if (claims->sub != project) {
    *denial = Refusal(Forbidden("the token is for another project"), "wrong_project");
    return std::nullopt;
  }
  if (static_cast<int>(claims->scope) < static_cast<int>(need)) {
    *denial = Refusal(Forbidden("the token's scope does not allow this"), "scope");
    return std::nullopt;
  }
  *public_by_default = it->second.public_by_default;
  return *claims;
}

std::optional<std::string> Authorizer::CorsOrigin(const Request& req) const {
  const std::string* origin = req.headers.Get("Origin");
  Result<std::shared_ptr<const ProjectMap>> projects = o_.projects->Current();
  if (!origin || !projects.ok()) return std::string();
  auto it = (*projects)->find(SplitProjectPath(req.path).project);
  if (it == (*projects)->end()) return std::string();
  for (const std::string& allowed : it->second.cors_origins) {
    if (allowed == "*") return allowed;
    if (allowed == *origin) return *origin;
  }
  return std::string();
}

AuthDecision Authorizer::CheckProject(const Request& req, std::string_view project,
                                      Scope need) const {
  AuthDecision denial;
  bool public_by_default = false;
  int64_t now_ms = 0;
  std::optional<TokenClaims> claims =
      Verify(req, project, need, &denial, &public_by_default, &now_ms);
  if (!claims) return denial;
  if (claims->stream_id) return Refusal(Forbidden("the token is for one stream"), "wrong_stream");
  return std::nullopt;
}

AuthDecision Authorizer::Check(const Request& req, Scope need) const {
  ProjectPath at = SplitProjectPath(req.path);
  if (at.project == kDefaultProject && at.stream != req.path) {
    return Refusal(ErrorResponse(400, "INVALID_PATH",
                                 "streams of the _default project are named without it"),
                   "invalid_path");
  }
  if (at.stream == "__ds" || at.stream.substr(0, 5) == "__ds/") {
    return Refusal(ErrorResponse(400, "INVALID_PATH",
                                 "a project's __ds paths are reserved for its control APIs"),
                   "invalid_path");
  }
  AuthDecision denial;
  bool public_by_default = false;
  int64_t now_ms = 0;
  std::optional<TokenClaims> claims =
      Verify(req, at.project, need, &denial, &public_by_default, &now_ms);
  if (!claims) return denial;
  if (claims->stream_id && *claims->stream_id != at.stream) {
    return Refusal(Forbidden("the token is for another stream"), "wrong_stream");
  }
  if (req.method == Method::kPut && req.headers.Has("Stream-Forked-From")) {
    std::optional<std::string> source = protocol::ForkSourceOf(req);
    if (source) {
      ProjectPath from = SplitProjectPath(*source);
      if (from.project != at.project ||
          (from.project == kDefaultProject && from.stream != *source)) {
        return Refusal(Forbidden("a fork's source must be in the same project"), "wrong_project");
      }
      if (claims->stream_id) {
        return Refusal(Forbidden("a token for one stream cannot fork another"), "wrong_stream");
      }
    }
  }
  // Live reads last while the token is accepted: to exp plus the skew.
  int64_t until_ms = (claims->exp + static_cast<int64_t>(o_.clock_skew.count())) * 1000;
  int64_t left_ms = std::max<int64_t>(1, until_ms - now_ms);
  AuthDecision allow = AuthDecision::AllowFor(std::chrono::milliseconds(left_ms));
  allow.private_data = true;
  allow.public_by_default = public_by_default;
  return allow;
}

}  // namespace auth

ProjectPath SplitProjectPath(std::string_view path) {
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {kDefaultProject, path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

ProjectJwtAuthHooks ProjectJwtAuth(ProjectJwtAuthOptions options) {
  auto authorizer = std::make_shared<const auth::Authorizer>(std::move(options));
  ProjectJwtAuthHooks hooks;
  hooks.authorize_read = [authorizer](const Request& req) {
    AuthDecision d = authorizer->Check(req, Scope::kRead);
    d.unless_public = d.denial.has_value();  // public streams need no token
    return d;
  };
  hooks.authorize_mutation = [authorizer](const Request& req) {
    return authorizer->Check(req, Scope::kWrite);
  };
  hooks.cors_origin = [authorizer](const Request& req) { return authorizer->CorsOrigin(req); };
  hooks.authorize_control = [authorizer](const Request& req, std::string_view project) {
    return authorizer->CheckProject(req, project, Scope::kManage);
  };
  return hooks;
}

void UseProjectJwtAuth(Options* options, ProjectJwtAuthOptions auth) {
  ProjectJwtAuthHooks hooks = ProjectJwtAuth(std::move(auth));
  options->authorize_read = std::move(hooks.authorize_read);
  options->authorize_mutation = std::move(hooks.authorize_mutation);
  options->cors_origin = std::move(hooks.cors_origin);
}

}  // namespace durablestreams
