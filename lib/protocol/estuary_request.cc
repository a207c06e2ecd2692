// lib/protocol/estuary_request.cc: the estuary routes (estuary_request.h).
#include "protocol/estuary_request.h"

#include <simdjson.h>

#include "protocol/errors.h"

namespace durablestreams::protocol {

namespace {

constexpr std::string_view kDefaultProject = "_default";
constexpr std::string_view kSubscribe = "subscribe/";
constexpr size_t kMaxIdLength = 256;

StreamError Error(ErrorCode code, std::string message) {
  StreamError e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

std::string InProject(std::string_view project, std::string_view id) {
  if (project == kDefaultProject) return std::string(id);
  std::string path(project);
  path += '/';
  path += id;
  return path;
}

// The body's estuaryId, or why there is none.
std::optional<StreamError> BodyEstuaryId(const std::string& body, std::string* id) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(body).get_object().get(obj)) {
    return Error(ErrorCode::kBadRequest, "the body must be a JSON object {\"estuaryId\": \"...\"}");
  }
  std::string_view text;
  if (obj["estuaryId"].get_string().get(text)) {
    return Error(ErrorCode::kBadRequest, "the body needs \"estuaryId\", a string");
  }
  if (!ValidEstuaryId(text)) {
    return Error(ErrorCode::kBadRequest,
                 "estuaryId must be 1 to 256 characters of a-z, A-Z, 0-9, _, -, : and .");
  }
  *id = std::string(text);
  return std::nullopt;
}

}  // namespace

bool ValidEstuaryId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id == "." || id == "..") return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == ':' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<StreamError> DecodeEstuaryRequest(const Request& request, EstuaryRequest* out) {
  std::string_view path = request.path;
  bool subscribe = path.substr(0, kSubscribe.size()) == kSubscribe;
  if (subscribe) path.remove_prefix(kSubscribe.size());
  size_t slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == path.size()) {
    return Error(ErrorCode::kNotFound, "no such route: want /v1/estuary/{project}/{estuaryId} "
                                       "or /v1/estuary/subscribe/{project}/{stream}");
  }
  std::string_view project = path.substr(0, slash);
  std::string_view rest = path.substr(slash + 1);
  if (!ValidEstuaryId(project)) return Error(ErrorCode::kBadRequest, "bad project name");
  out->project = std::string(project);
  if (subscribe) {
    if (request.method == Method::kPost) {
      out->kind = EstuaryRequest::Kind::kSubscribe;
    } else if (request.method == Method::kDelete) {
      out->kind = EstuaryRequest::Kind::kUnsubscribe;
    } else {
      return Error(ErrorCode::kMethodNotAllowed, "subscribe takes POST and DELETE");
    }
    out->source_id = std::string(rest);
    out->source = InProject(project, rest);
    if (auto bad = BodyEstuaryId(request.body, &out->estuary_id)) return bad;
  } else {
    if (rest.find('/') != std::string_view::npos) {
      return Error(ErrorCode::kNotFound, "no such route: an estuary id has no '/'");
    }
    if (request.method == Method::kGet) {
      out->kind = EstuaryRequest::Kind::kInfo;
    } else if (request.method == Method::kDelete) {
      out->kind = EstuaryRequest::Kind::kDelete;
    } else {
      return Error(ErrorCode::kMethodNotAllowed, "an estuary takes GET and DELETE");
    }
    if (!ValidEstuaryId(rest)) {
      return Error(ErrorCode::kBadRequest,
                   "an estuary id is 1 to 256 characters of a-z, A-Z, 0-9, _, -, : and .");
    }
    out->estuary_id = std::string(rest);
  }
  out->estuary = InProject(project, out->estuary_id);
  return std::nullopt;
}

std::string StreamIdInProject(std::string_view project, std::string_view path) {
  if (project == kDefaultProject) return std::string(path);
  if (path.size() > project.size() && path.compare(0, project.size(), project) == 0 &&
      path[project.size()] == '/') {
    return std::string(path.substr(project.size() + 1));
  }
  return std::string(path);
}

std::string SubscribeJson(const EstuaryRequest& r, const EstuarySubscribeOutcome& o,
                          std::string_view stream_root) {
  std::string out = "{\"estuaryId\":";
  AppendJsonString(r.estuary_id, &out);
  out += ",\"streamId\":";
  AppendJsonString(r.source_id, &out);
  out += ",\"estuaryStreamPath\":";
  AppendJsonString(std::string(stream_root) + r.estuary, &out);
  out += ",\"expiresAt\":" + std::to_string(o.expires_at_ms);
  out += ",\"isNewEstuary\":";
  out += o.created ? "true" : "false";
  out += ",\"contentType\":";
  AppendJsonString(o.content_type, &out);
  out += '}';
  return out;
}

std::string EstuaryInfoJson(const EstuaryRequest& r, const EstuaryInfoOutcome& o,
                            std::string_view stream_root) {
  std::string out = "{\"estuaryId\":";
  AppendJsonString(r.estuary_id, &out);
  out += ",\"estuaryStreamPath\":";
  AppendJsonString(std::string(stream_root) + r.estuary, &out);
  out += ",\"subscriptions\":[";
  for (size_t i = 0; i < o.sources.size(); ++i) {
    if (i) out += ',';
    out += "{\"streamId\":";
    AppendJsonString(StreamIdInProject(r.project, o.sources[i].path), &out);
    out += ",\"subscribedAt\":" + std::to_string(o.sources[i].subscribed_at_ms) + '}';
  }
  out += "],\"contentType\":";
  AppendJsonString(o.content_type, &out);
  out += ",\"expiresAt\":" + std::to_string(o.expires_at_ms) + '}';
  return out;
}

}  // namespace durablestreams::protocol
