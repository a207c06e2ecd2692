// lib/auth/project_config_api.cc: GET and PUT /v1/config/{project}
// (project_config_api.h).
#include "durablestreams/project_config_api.h"

#include <simdjson.h>

#include "auth/authorizer.h"
#include "protocol/errors.h"
#include "protocol/response_encoder.h"

namespace durablestreams {

namespace {

Response Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Cache-Control", "no-store");
  r.body = std::move(body);
  return r;
}

Response BadRequest(std::string_view message) {
  return ErrorResponse(400, "BAD_REQUEST", message);
}

// A Status of the store as an answer: its own words for what the client
// asked wrong, nothing of the store's insides otherwise.
Response StoreError(const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument) return BadRequest(s.message());
  if (s.code() == StatusCode::kNotFound) return auth::Unauthorized(true, "invalid token");
  return ErrorResponse(503, "UNAVAILABLE", "the project store cannot be changed now");
}

std::string Describe(const Project& p, const std::vector<std::string>& new_secrets) {
  std::string out = "{\"project\":";
  protocol::AppendJsonString(p.id, &out);
  out += ",\"secrets\":[";
  for (size_t i = 0; i < p.secrets.size(); ++i) {
    if (i) out += ',';
    out += "{\"prefix\":";
    protocol::AppendJsonString(SecretPrefix(p.secrets[i]), &out);
    out += '}';
  }
  out += "],\"corsOrigins\":[";
  for (size_t i = 0; i < p.cors_origins.size(); ++i) {
    if (i) out += ',';
    protocol::AppendJsonString(p.cors_origins[i], &out);
  }
  out += "],\"publicByDefault\":";
  out += p.public_by_default ? "true" : "false";
  if (!new_secrets.empty()) {
    out += ",\"newSecret\":";
    protocol::AppendJsonString(new_secrets.back(), &out);
  }
  out += '}';
  return out;
}

// The body of a PUT as a change, or why it is not one.
std::optional<std::string> ParseChange(const std::string& body, ProjectChange* c) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(body).get_object().get(obj)) return "the body must be a JSON object";
  for (auto field : obj) {
    std::string_view key = field.key;
    std::string_view text;
    bool flag;
    if (key == "rotateSecret") {
      if (field.value.get_bool().get(flag)) return "rotateSecret must be true or false";
      c->new_secrets = flag ? 1 : 0;
    } else if (key == "addSecret") {
      if (field.value.get_string().get(text)) return "addSecret must be a string";
      c->add_secrets.emplace_back(text);
    } else if (key == "removeSecret") {
      if (field.value.get_string().get(text)) return "removeSecret must be a string";
      c->remove_secrets.emplace_back(text);
    } else if (key == "corsOrigins") {
      simdjson::dom::array list;
      if (field.value.get_array().get(list)) return "corsOrigins must be an array of strings";
      std::vector<std::string> origins;
      for (auto v : list) {
        if (v.get_string().get(text)) return "corsOrigins must be an array of strings";
        origins.emplace_back(text);
      }
      c->cors_origins = std::move(origins);
    } else if (key == "publicByDefault") {
      if (field.value.get_bool().get(flag)) return "publicByDefault must be true or false";
      c->public_by_default = flag;
    } else {
      return "unknown field: " + std::string(key.substr(0, 64));
    }
  }
  return std::nullopt;
}

Response Serve(const auth::Authorizer& authorizer, const Request& req) {
  if (req.method == Method::kOptions) {
    Response r = protocol::EncodePreflight();
    r.headers.Set("Access-Control-Allow-Methods", "GET, PUT, OPTIONS");
    return r;
  }
  const std::string& project = req.path;
  if (!IsProjectId(project)) return ErrorResponse(404, "NOT_FOUND", "no such route");
  if (req.method != Method::kGet && req.method != Method::kPut) {
    return ErrorResponse(405, "METHOD_NOT_ALLOWED", "GET or PUT");
  }
  AuthDecision d = authorizer.CheckProject(req, project, Scope::kManage);
  if (d.denial) return std::move(*d.denial);
  std::vector<std::string> made;
  if (req.method == Method::kPut) {
    ProjectChange change;
    if (auto bad = ParseChange(req.body, &change)) return BadRequest(*bad);
    Result<std::vector<std::string>> changed = authorizer.projects()->Change(project, change);
    if (!changed.ok()) return StoreError(changed.status());
    made = std::move(changed).value();
  }
  Result<std::shared_ptr<const ProjectMap>> projects = authorizer.projects()->Current();
  if (!projects.ok()) return StoreError(projects.status());
  auto it = (*projects)->find(project);
  if (it == (*projects)->end()) return auth::Unauthorized(true, "invalid token");
  return Json(200, Describe(it->second, made));
}

}  // namespace

std::function<Response(const Request&)> ProjectConfigApi(ProjectJwtAuthOptions options) {
  auto authorizer = std::make_shared<const auth::Authorizer>(std::move(options));
  return [authorizer](const Request& req) {
    Response r = Serve(*authorizer, req);
    protocol::AddCommonHeaders(&r);
    return r;
  };
}

}  // namespace durablestreams
