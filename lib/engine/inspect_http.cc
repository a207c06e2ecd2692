// lib/engine/inspect_http.cc: the inspect API (inspect_api.h): authorize
// with the control hook, run Inspect or list the streams, encode JSON.
#include <algorithm>
#include <charconv>
#include <memory>

#include "durablestreams/inspect_api.h"
#include "protocol/errors.h"
#include "protocol/offset.h"
#include "protocol/response_encoder.h"

namespace durablestreams {

namespace {

constexpr std::string_view kDefault = "_default";  // project_auth.h's kDefaultProject
constexpr size_t kDefaultLimit = 100, kMaxLimit = 1000;

Response Json(std::string body) {
  Response r;
  r.body = std::move(body);
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Cache-Control", std::string(protocol::kNoStore));
  protocol::AddCommonHeaders(&r);
  return r;
}

Response BadRequest(std::string_view message) {
  StreamError e;
  e.code = ErrorCode::kBadRequest;
  e.message = std::string(message);
  return protocol::EncodeError(e);
}

// The project of a stream path under project auth.
std::string_view ProjectOf(std::string_view path) {
  size_t slash = path.find('/');
  return slash == std::string_view::npos ? kDefault : path.substr(0, slash);
}

void Key(const char* key, std::string* out) {
  if (out->back() != '{' && out->back() != '[') *out += ',';
  *out += '"';
  *out += key;
  *out += "\":";
}
void Str(const char* key, std::string_view v, std::string* out) {
  Key(key, out);
  protocol::AppendJsonString(v, out);
}
void Num(const char* key, uint64_t v, std::string* out) {
  Key(key, out);
  *out += std::to_string(v);
}
void Int(const char* key, int64_t v, std::string* out) {
  Key(key, out);
  *out += std::to_string(v);
}
void Bool(const char* key, bool v, std::string* out) {
  Key(key, out);
  *out += v ? "true" : "false";
}
void Null(const char* key, std::string* out) {
  Key(key, out);
  *out += "null";
}

// "key":{"hot":H,"cold":C,"total":H+C}
void Split(const char* key, uint64_t hot, uint64_t cold, std::string* out) {
  Key(key, out);
  *out += "{";
  Num("hot", hot, out);
  Num("cold", cold, out);
  Num("total", hot + cold, out);
  *out += "}";
}

std::string InspectJson(const InspectOutcome& o) {
  const StreamRecord& r = o.record;
  std::string j = "{";
  Str("path", r.path, &j);
  Str("contentType", r.content_type, &j);
  Int("createdAt", r.created_at_ms, &j);
  if (r.ttl_seconds) {
    Int("ttlSeconds", *r.ttl_seconds, &j);
  } else {
    Null("ttlSeconds", &j);
  }
  if (r.expires_at_ms) {
    Int("expiresAt", *r.expires_at_ms, &j);
  } else {
    Null("expiresAt", &j);
  }
  Int("lastAccess", r.last_access_ms, &j);
  Bool("closed", r.closed, &j);
  Bool("softDeleted", r.soft_deleted, &j);
  Bool("public", r.public_read, &j);
  Bool("sessionStream", r.estuary, &j);
  if (r.fork_source_id) {
    Str("forkedFrom", r.forked_from, &j);
    Str("forkOffset", protocol::FormatPosition(r.fork_offset), &j);
  } else {
    Null("forkedFrom", &j);
    Null("forkOffset", &j);
  }
  Str("tailOffset", protocol::FormatPosition(r.tail), &j);
  uint64_t cold_messages = 0, cold_bytes = 0;
  for (const SegmentDescription& s : o.storage.segments) {
    cold_messages += s.messages;
    cold_bytes += s.end - s.start;
  }
  Split("messages", o.storage.hot_messages, cold_messages, &j);
  Split("bytes", o.storage.hot_bytes, cold_bytes, &j);
  if (o.storage_error) {
    Str("storageError", *o.storage_error, &j);
  }
  Key("segments", &j);
  j += "[";
  for (const SegmentDescription& s : o.storage.segments) {
    if (j.back() != '[') j += ',';
    j += "{";
    Str("key", s.key, &j);
    Str("startOffset", protocol::FormatPosition(s.start), &j);
    Str("endOffset", protocol::FormatPosition(s.end), &j);
    Num("objectBytes", s.object_bytes, &j);
    Num("messages", s.messages, &j);
    if (s.crc32c) {
      char hex[9];
      std::snprintf(hex, sizeof hex, "%08x", *s.crc32c);
      Str("crc32c", hex, &j);
    } else {
      Null("crc32c", &j);
    }
    j += "}";
  }
  j += "]";
  Key("producers", &j);
  j += "[";
  for (const ProducerInspection& p : o.producers) {
    if (j.back() != '[') j += ',';
    j += "{";
    Str("id", p.id, &j);
    Int("epoch", p.epoch, &j);
    Int("lastSeq", p.last_seq, &j);
    if (p.last_offset) {
      Str("lastOffset", protocol::FormatPosition(*p.last_offset), &j);
    } else {
      Null("lastOffset", &j);
    }
    Int("lastUpdated", p.updated_at_ms, &j);
    j += "}";
  }
  j += "]";
  Key("readers", &j);
  j += "{";
  Num("sse", o.sse_readers, &j);
  Num("longPoll", o.long_polls, &j);
  j += "}";
  Key("estuary", &j);
  j += "{";
  Num("subscribers", o.subscribers, &j);
  Num("sources", o.sources, &j);
  j += "}}";
  return j;
}

const std::string* QueryValue(const Request& r, std::string_view key) {
  for (const auto& [k, v] : r.query) {
    if (k == key) return &v;
  }
  return nullptr;
}

Response List(StreamEngine& engine, const Request& req, const InspectApiOptions& o) {
  const std::string* project = QueryValue(req, "project");
  const std::string* prefix_q = QueryValue(req, "prefix");
  const std::string* after_q = QueryValue(req, "after");
  const std::string* limit_q = QueryValue(req, "limit");
  size_t limit = kDefaultLimit;
  if (limit_q) {
    auto [at, ec] = std::from_chars(limit_q->data(), limit_q->data() + limit_q->size(), limit);
    if (ec != std::errc() || at != limit_q->data() + limit_q->size() || limit == 0 ||
        limit > kMaxLimit) {
      return BadRequest("limit must be a whole number from 1 to 1000");
    }
  }
  std::string prefix = prefix_q ? *prefix_q : "";
  bool default_project = false;
  if (o.projects) {
    std::string_view p = project && !project->empty() ? std::string_view(*project) : kDefault;
    if (p.find('/') != std::string_view::npos) return BadRequest("invalid project");
    default_project = p == kDefault;
    if (!default_project) prefix = std::string(p) + "/" + prefix;
  }
  std::vector<StreamSummary> all = engine.ListStreams(prefix);
  if (default_project) {
    all.erase(std::remove_if(all.begin(), all.end(),
                             [](const StreamSummary& s) {
                               return s.path.find('/') != std::string::npos;
                             }),
              all.end());
  }
  std::sort(all.begin(), all.end(),
            [](const StreamSummary& a, const StreamSummary& b) { return a.path < b.path; });
  auto from = all.begin();
  if (after_q) {
    from = std::upper_bound(all.begin(), all.end(), *after_q,
                            [](const std::string& key, const StreamSummary& s) {
                              return key < s.path;
                            });
  }
  std::string j = "{\"streams\":[";
  size_t n = 0;
  auto it = from;
  for (; it != all.end() && n < limit; ++it, ++n) {
    if (n) j += ',';
    j += "{";
    Str("path", it->path, &j);
    Str("tailOffset", protocol::FormatPosition(it->tail), &j);
    Int("createdAt", it->created_at_ms, &j);
    Bool("closed", it->closed, &j);
    j += "}";
  }
  j += "]";
  Num("total", all.size(), &j);
  if (it != all.end() && n > 0) {
    Str("next", std::prev(it)->path, &j);
  } else {
    Null("next", &j);
  }
  j += "}";
  return Json(std::move(j));
}

}  // namespace

std::function<void(Request, std::function<void(Response)>)> InspectApi(StreamEngine& engine,
                                                                       InspectApiOptions options) {
  auto o = std::make_shared<const InspectApiOptions>(std::move(options));
  return [&engine, o](Request req, std::function<void(Response)> done) {
    if (req.method != Method::kGet && req.method != Method::kHead) {
      return done(protocol::EncodeReadOnly("the inspect API is read-only"));
    }
    bool list = req.root == kInspectList;
    if (!list && req.path.empty()) return done(BadRequest("no stream path"));
    if (o->authorize_control) {
      std::string_view project = kDefault;
      if (list) {
        const std::string* p = QueryValue(req, "project");
        if (p && !p->empty()) project = *p;
      } else if (o->projects) {
        project = ProjectOf(req.path);
      }
      AuthDecision d = o->authorize_control(req, project);
      if (d.denial) {
        protocol::AddCommonHeaders(&*d.denial);
        return done(std::move(*d.denial));
      }
    }
    if (list) return done(List(engine, req, *o));
    engine.Inspect({req.path}, [done](InspectOutcome out) {
      if (out.error) return done(protocol::EncodeError(*out.error));
      done(Json(InspectJson(out)));
    });
  };
}

}  // namespace durablestreams
