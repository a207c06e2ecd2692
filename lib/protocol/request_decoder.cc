// lib/protocol/request_decoder.cc: HTTP request -> command (request_decoder.h).
#include "protocol/request_decoder.h"

#include <string>

#include "protocol/headers.h"
#include "protocol/offset.h"
#include "protocol/path.h"

namespace durablestreams::protocol {

namespace {

StreamError Refuse(ErrorCode code, std::string message) {
  StreamError e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

// Protocol headers that may appear once: given twice they are ambiguous
// (which TTL? which producer?), so they are refused rather than one picked.
constexpr const char* kSingleHeaders[] = {
    "Content-Type",       "Stream-TTL",         "Stream-Expires-At",     "Stream-Closed",
    "Stream-Seq",         "Producer-Id",        "Producer-Epoch",        "Producer-Seq",
    "Stream-Forked-From", "Stream-Fork-Offset", "Stream-Fork-Sub-Offset"};

std::optional<StreamError> DecodeFork(const Request& req, CreateCommand* c) {
  const std::string* from = req.headers.Get("Stream-Forked-From");
  const std::string* fork_offset = req.headers.Get("Stream-Fork-Offset");
  const std::string* sub_offset = req.headers.Get("Stream-Fork-Sub-Offset");
  if (!from) {
    if (fork_offset || sub_offset) {
      return Refuse(ErrorCode::kInvalidFork,
                    "Stream-Fork-Offset and Stream-Fork-Sub-Offset need Stream-Forked-From");
    }
    return std::nullopt;
  }
  std::optional<std::string> src = ForkSourceOf(req);
  if (!src) return Refuse(ErrorCode::kNotFound, "the fork source is not a stream here");
  ForkPoint fork;
  fork.source = std::string(*src);
  if (fork_offset) {
    auto parsed = ParseOffset(TrimWhitespace(*fork_offset));
    if (!parsed.ok() || parsed->kind != OffsetRequest::Kind::kAt || parsed->at.read_seq != 0) {
      return Refuse(ErrorCode::kInvalidFork,
                    "Stream-Fork-Offset must be an offset returned by the server");
    }
    fork.offset = parsed->at.pos;
  }
  if (sub_offset) {
    auto parsed = ParseDecimal(TrimWhitespace(*sub_offset), kMaxOffsetField);
    if (!parsed.ok()) {
      return Refuse(ErrorCode::kInvalidFork,
                    "Stream-Fork-Sub-Offset must be a non-negative integer");
    }
    fork.sub_offset = *parsed;
  }
  c->fork = std::move(fork);
  return std::nullopt;
}

std::optional<StreamError> DecodeCreate(Request& req, Command* out) {
  CreateCommand c;
  c.path = std::move(req.path);
  c.location = std::move(req.url);
  if (auto bad = DecodeFork(req, &c)) return bad;
  if (const std::string* ct = req.headers.Get("Content-Type")) {
    std::string_view v = TrimWhitespace(*ct);
    if (!v.empty()) c.content_type = std::string(v);
  }
  const std::string* ttl = req.headers.Get("Stream-TTL");
  const std::string* exp = req.headers.Get("Stream-Expires-At");
  if (ttl && exp) {
    return Refuse(ErrorCode::kTtlAndExpiresAt, "give Stream-TTL or Stream-Expires-At, not both");
  }
  if (ttl) {
    auto v = ParseTtlSeconds(*ttl);
    if (!v.ok()) return Refuse(ErrorCode::kInvalidTtl, v.status().message());
    c.ttl_seconds = *v;
  }
  if (exp) {
    auto v = ParseRfc3339Millis(TrimWhitespace(*exp));
    if (!v.ok()) return Refuse(ErrorCode::kInvalidExpiresAt, v.status().message());
    c.expires_at_ms = *v;
  }
  c.close = IsTrueFlag(req.headers.Get("Stream-Closed"));
  for (const auto& [k, v] : req.query) {
    if (k != "public") continue;
    if (c.public_read) return Refuse(ErrorCode::kBadRequest, "public is given more than once");
    if (v != "true" && v != "false")
      return Refuse(ErrorCode::kBadRequest, "public must be true or false");
    c.public_read = v == "true";
  }
  c.body = std::move(req.body);
  *out = std::move(c);
  return std::nullopt;
}

std::optional<StreamError> DecodeAppend(Request& req, Command* out) {
  AppendCommand c;
  c.path = std::move(req.path);
  c.close = IsTrueFlag(req.headers.Get("Stream-Closed"));
  const std::string* pid = req.headers.Get("Producer-Id");
  const std::string* pepoch = req.headers.Get("Producer-Epoch");
  const std::string* pseq = req.headers.Get("Producer-Seq");
  int present = (pid != nullptr) + (pepoch != nullptr) + (pseq != nullptr);
  if (present != 0 && present != 3) {
    return Refuse(ErrorCode::kInvalidProducer,
                  "Producer-Id, Producer-Epoch and Producer-Seq go together");
  }
  if (present == 3) {
    auto epoch = ParseProducerInteger(TrimWhitespace(*pepoch));
    auto seq = ParseProducerInteger(TrimWhitespace(*pseq));
    if (!epoch.ok() || !seq.ok()) {
      return Refuse(ErrorCode::kInvalidProducer,
                    !epoch.ok() ? epoch.status().message() : seq.status().message());
    }
    c.producer = ProducerFields{std::string(TrimWhitespace(*pid)), *epoch, *seq};
  }
  if (const std::string* sseq = req.headers.Get("Stream-Seq")) {
    if (!sseq->empty()) c.stream_seq = *sseq;
  }
  if (const std::string* ct = req.headers.Get("Content-Type")) c.content_type = *ct;
  c.body = std::move(req.body);
  *out = std::move(c);
  return std::nullopt;
}

// GET and HEAD: ?offset=, ?live=, ?cursor=, ?rk= and If-None-Match.
std::optional<StreamError> DecodeRead(Request& req, Command* out) {
  const std::string* offset = nullptr;
  int offset_count = 0;
  const std::string* live = nullptr;
  ReadCommand c;
  for (const auto& [k, v] : req.query) {
    if (k == "offset") {
      offset = &v;
      ++offset_count;
    } else if (k == "live") {
      live = &v;
    } else if (k == "cursor") {
      c.cursor = v;
    } else if (k == "rk") {
      c.reader_key = v;
    }
  }
  if (offset_count > 1) return Refuse(ErrorCode::kInvalidOffset, "offset is given more than once");
  if (offset) {
    auto parsed = ParseOffset(*offset);
    if (!parsed.ok()) return Refuse(ErrorCode::kInvalidOffset, parsed.status().message());
    switch (parsed->kind) {
      case OffsetRequest::Kind::kStart: c.from = ReadCommand::From::kBeginning; break;
      case OffsetRequest::Kind::kNow: c.from = ReadCommand::From::kNow; break;
      case OffsetRequest::Kind::kAt:
        c.from = ReadCommand::From::kOffset;
        // A token of another numbering is past every tail this server has.
        c.offset = parsed->at.read_seq == 0 ? parsed->at.pos : UINT64_MAX;
        break;
    }
  }
  if (req.method == Method::kHead) {
    *out = InfoCommand{std::move(req.path)};
    return std::nullopt;
  }
  if (live) {
    if (*live == "long-poll") {
      c.live = LiveMode::kLongPoll;
    } else if (*live == "sse") {
      c.live = LiveMode::kSse;
    } else {
      return Refuse(ErrorCode::kBadRequest, "live must be long-poll or sse");
    }
    if (!offset) return Refuse(ErrorCode::kInvalidOffset, "live reads require an offset");
  }
  if (const std::string* inm = req.headers.Get("If-None-Match")) c.if_none_match = *inm;
  c.path = std::move(req.path);
  *out = std::move(c);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ForkSourceOf(const Request& req) {
  const std::string* from = req.headers.Get("Stream-Forked-From");
  if (!from) return std::nullopt;
  // The source is named by its URL path ("/v1/stream/a/b") or relative to
  // the stream root ("a/b").
  std::string_view src = TrimWhitespace(*from);
  if (!req.root.empty() && src.substr(0, req.root.size()) == req.root) {
    src.remove_prefix(req.root.size());
  } else if (!req.root.empty() && !src.empty() && src[0] == '/') {
    return std::nullopt;
  }
  std::string decoded;
  decoded.reserve(src.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] != '%') {
      decoded.push_back(src[i]);
      continue;
    }
    int hi = i + 2 < src.size() ? hex(src[i + 1]) : -1;
    int lo = hi >= 0 ? hex(src[i + 2]) : -1;
    if (lo < 0) return std::nullopt;
    decoded.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return decoded;
}

std::optional<StreamError> CheckPath(std::string_view path) {
  PathCheck check = CheckStreamPath(path);
  if (check == PathCheck::kOk) return std::nullopt;
  return Refuse(
      check == PathCheck::kReserved ? ErrorCode::kNotImplemented : ErrorCode::kInvalidPath,
      PathCheckMessage(check));
}

std::optional<StreamError> CheckTarget(const Request& req) {
  if (req.method == Method::kOther || req.method == Method::kOptions) {
    return Refuse(ErrorCode::kMethodNotAllowed, "method not allowed");
  }
  return CheckPath(req.path);
}

std::optional<StreamError> DecodeCommand(Request req, Command* command) {
  for (const char* name : kSingleHeaders) {
    if (req.headers.Count(name) > 1) {
      return Refuse(ErrorCode::kBadRequest, std::string(name) + " is given more than once");
    }
  }
  if (req.body_too_large) {
    return Refuse(ErrorCode::kPayloadTooLarge, "request body is larger than the limit");
  }
  switch (req.method) {
    case Method::kGet:
    case Method::kHead: return DecodeRead(req, command);
    case Method::kPut: return DecodeCreate(req, command);
    case Method::kPost: return DecodeAppend(req, command);
    case Method::kDelete: *command = DeleteCommand{std::move(req.path)}; return std::nullopt;
    default: return Refuse(ErrorCode::kMethodNotAllowed, "method not allowed");
  }
}

}  // namespace durablestreams::protocol
