// lib/protocol/response_encoder.cc: outcome -> HTTP response
// (response_encoder.h), and ErrorResponse (request.h).
#include "protocol/response_encoder.h"

#include <algorithm>
#include <string>

#include "protocol/errors.h"
#include "protocol/headers.h"
#include "protocol/offset.h"

namespace durablestreams {

Response ErrorResponse(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = protocol::ErrorJson(code, message);
  // 503s are transient: the store or the server comes back.
  if (status == 503) r.headers.Set("Retry-After", "1");
  protocol::AddCommonHeaders(&r);
  return r;
}

namespace protocol {

namespace {

void SetTail(Response* r, uint64_t next_offset, bool closed) {
  r->headers.Set("Stream-Next-Offset", FormatPosition(next_offset));
  if (closed) r->headers.Set("Stream-Closed", "true");
}

}  // namespace

void AddCommonHeaders(Response* r) {
  r->headers.Set("X-Content-Type-Options", "nosniff");
  r->headers.Set("Cross-Origin-Resource-Policy", "cross-origin");
  r->headers.Set("Access-Control-Allow-Origin", "*");
  r->headers.Set("Access-Control-Expose-Headers",
                 "Stream-Next-Offset, Stream-Cursor, Stream-Up-To-Date, Stream-Closed, "
                 "Stream-TTL, Stream-Expires-At, Stream-SSE-Data-Encoding, Producer-Epoch, "
                 "Producer-Seq, Producer-Expected-Seq, Producer-Received-Seq, ETag, Location, "
                 "Content-Type, Stream-Reader-Key, WWW-Authenticate");
}

Response EncodeError(const StreamError& e) {
  Response r = ErrorResponse(HttpStatus(e.code), CodeName(e.code), e.message);
  if (e.current_epoch) r.headers.Set("Producer-Epoch", std::to_string(*e.current_epoch));
  if (e.expected_seq) r.headers.Set("Producer-Expected-Seq", std::to_string(*e.expected_seq));
  if (e.received_seq) r.headers.Set("Producer-Received-Seq", std::to_string(*e.received_seq));
  if (e.next_offset) SetTail(&r, *e.next_offset, e.code == ErrorCode::kStreamClosed);
  return r;
}

Response EncodeReadOnly(std::string message) {
  StreamError e;
  e.code = ErrorCode::kMethodNotAllowed;
  e.message = std::move(message);
  Response r = EncodeError(e);
  r.headers.Set("Allow", "GET, HEAD");
  return r;
}

Response Encode(const CreateOutcome& o) {
  if (o.error) return EncodeError(*o.error);
  Response r;
  r.status = o.created ? 201 : 200;
  r.headers.Set("Content-Type", o.stream.content_type);
  r.headers.Set("Stream-Next-Offset", FormatPosition(o.stream.next_offset));
  if (o.created && !o.location.empty()) r.headers.Set("Location", o.location);
  if (o.stream.closed) r.headers.Set("Stream-Closed", "true");
  if (!o.stream.reader_key.empty()) r.headers.Set("Stream-Reader-Key", o.stream.reader_key);
  AddCommonHeaders(&r);
  return r;
}

Response Encode(const AppendOutcome& o) {
  if (o.error) return EncodeError(*o.error);
  Response r;
  r.status = o.stored_with_producer ? 200 : 204;
  if (o.producer_epoch) r.headers.Set("Producer-Epoch", std::to_string(*o.producer_epoch));
  if (o.producer_seq) r.headers.Set("Producer-Seq", std::to_string(*o.producer_seq));
  SetTail(&r, o.next_offset, o.closed);
  AddCommonHeaders(&r);
  return r;
}

namespace {

// The Cache-Control of a read's data (see Encode(ReadOutcome, ...)).
std::string DataCacheControl(const ReadOutcome& o, std::string_view scope) {
  if (scope != "public" && scope != "private") return std::string(scope);
  // A catch-up read that reaches the tail is not kept: what it says of the
  // tail (Stream-Up-To-Date, the next offset, closure, the stream being
  // there at all) changes with the next append or delete. Data behind the
  // tail never does. A long-poll's answer is keyed by its cursor.
  if (!o.cacheable || (o.up_to_date && !o.long_poll)) return std::string(kNoStore);
  int64_t max_age = o.long_poll ? 20 : 60, stale = o.long_poll ? 0 : 300;
  if (o.ttl_left_seconds) {
    if (*o.ttl_left_seconds <= 0) return std::string(kNoStore);
    max_age = std::min(max_age, *o.ttl_left_seconds);
    stale = std::min(stale, *o.ttl_left_seconds - max_age);
  }
  std::string v(scope);
  v += ", max-age=" + std::to_string(max_age);
  if (stale > 0) v += ", stale-while-revalidate=" + std::to_string(stale);
  return v;
}

}  // namespace

Response Encode(ReadOutcome o, std::string_view cache_scope) {
  if (o.error) return EncodeError(*o.error);
  Response r;
  switch (o.kind) {
    case ReadOutcome::Kind::kData:
      r.status = 200;
      r.headers.Set("Content-Type", o.content_type);
      r.headers.Set("Stream-Next-Offset", FormatPosition(o.next_offset));
      if (o.up_to_date) r.headers.Set("Stream-Up-To-Date", "true");
      if (o.closed) r.headers.Set("Stream-Closed", "true");
      if (!o.cursor.empty()) r.headers.Set("Stream-Cursor", o.cursor);
      if (!o.etag.empty()) r.headers.Set("ETag", o.etag);
      r.headers.Set("Cache-Control", DataCacheControl(o, cache_scope));
      r.body = std::move(o.body);
      break;
    case ReadOutcome::Kind::kUpToDate:
      r.status = 204;
      r.headers.Set("Stream-Next-Offset", FormatPosition(o.next_offset));
      r.headers.Set("Stream-Up-To-Date", "true");
      if (o.closed) r.headers.Set("Stream-Closed", "true");
      if (!o.cursor.empty()) r.headers.Set("Stream-Cursor", o.cursor);
      r.headers.Set("Cache-Control", std::string(kNoStore));
      break;
    case ReadOutcome::Kind::kNotModified:
      r.status = 304;
      r.headers.Set("ETag", o.etag);
      r.headers.Set("Cache-Control", DataCacheControl(o, cache_scope));
      break;
    case ReadOutcome::Kind::kLive:
      r.status = 200;
      r.headers.Set("Content-Type", "text/event-stream");
      r.headers.Set("X-Accel-Buffering", "no");  // nginx: no buffering, events as they come
      r.headers.Set("Cache-Control", "no-cache");
      if (o.base64) r.headers.Set("Stream-SSE-Data-Encoding", "base64");
      r.live = std::move(o.live);
      break;
  }
  AddCommonHeaders(&r);
  return r;
}

Response Encode(const InfoOutcome& o) {
  if (o.error) return EncodeError(*o.error);
  Response r;
  r.status = 200;
  r.headers.Set("Content-Type", o.stream.content_type);
  r.headers.Set("Stream-Next-Offset", FormatPosition(o.stream.next_offset));
  if (o.stream.ttl_seconds) r.headers.Set("Stream-TTL", std::to_string(*o.stream.ttl_seconds));
  if (o.stream.expires_at_ms) {
    r.headers.Set("Stream-Expires-At", FormatRfc3339Millis(*o.stream.expires_at_ms));
  }
  if (o.stream.closed) r.headers.Set("Stream-Closed", "true");
  if (!o.stream.reader_key.empty()) r.headers.Set("Stream-Reader-Key", o.stream.reader_key);
  r.headers.Set("Cache-Control", std::string(kNoStore));
  AddCommonHeaders(&r);
  return r;
}

Response Encode(const DeleteOutcome& o) {
  if (o.error) return EncodeError(*o.error);
  Response r;
  r.status = 204;
  AddCommonHeaders(&r);
  return r;
}

Response EncodePreflight() {
  Response r;
  r.status = 204;
  r.headers.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE, OPTIONS");
  r.headers.Set("Access-Control-Allow-Headers",
                "Content-Type, Authorization, If-None-Match, Stream-TTL, Stream-Expires-At, "
                "Stream-Closed, Stream-Seq, Stream-Forked-From, Stream-Fork-Offset, "
                "Stream-Fork-Sub-Offset, Producer-Id, Producer-Epoch, Producer-Seq");
  r.headers.Set("Access-Control-Max-Age", "86400");
  AddCommonHeaders(&r);
  return r;
}

}  // namespace protocol
}  // namespace durablestreams
