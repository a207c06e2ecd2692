// tests/unit/protocol/request_decoder_test.cc: HTTP requests decoded into
// commands, and outcomes encoded as responses (lib/protocol/).
#include <catch2/catch.hpp>

#include "protocol/request_decoder.h"
#include "protocol/response_encoder.h"

namespace ds = durablestreams;
namespace proto = durablestreams::protocol;
using ds::ErrorCode;
using ds::Method;

namespace {

ds::Request Req(Method m, std::vector<std::pair<std::string, std::string>> headers = {},
                std::vector<std::pair<std::string, std::string>> query = {}) {
  ds::Request r;
  r.method = m;
  r.path = "a/b";
  r.root = "/v1/stream/";
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  r.query = std::move(query);
  return r;
}

std::optional<ErrorCode> Refusal(ds::Request r) {
  proto::Command c;
  auto e = proto::DecodeCommand(std::move(r), &c);
  return e ? std::optional<ErrorCode>(e->code) : std::nullopt;
}

}  // namespace

TEST_CASE("the target is checked before anything else", "[decoder]") {
  CHECK(proto::CheckTarget(Req(Method::kOther))->code == ErrorCode::kMethodNotAllowed);
  ds::Request dots = Req(Method::kGet);
  dots.path = "a/../b";
  CHECK(proto::CheckTarget(dots)->code == ErrorCode::kInvalidPath);
  ds::Request reserved = Req(Method::kGet);
  reserved.path = "__ds/x";
  CHECK(proto::CheckTarget(reserved)->code == ErrorCode::kNotImplemented);
  CHECK_FALSE(proto::CheckTarget(Req(Method::kPost)));
}

TEST_CASE("protocol headers given twice are refused", "[decoder]") {
  CHECK(Refusal(Req(Method::kPut, {{"Stream-TTL", "1"}, {"stream-ttl", "2"}})) ==
        ErrorCode::kBadRequest);
  CHECK(Refusal(Req(Method::kPost, {{"Producer-Id", "a"}, {"Producer-Id", "b"}})) ==
        ErrorCode::kBadRequest);
  ds::Request big = Req(Method::kPost);
  big.body_too_large = true;
  CHECK(Refusal(std::move(big)) == ErrorCode::kPayloadTooLarge);
}

TEST_CASE("a create decodes its configuration and fork", "[decoder]") {
  proto::Command c;
  REQUIRE_FALSE(proto::DecodeCommand(
      Req(Method::kPut, {{"Content-Type", " text/plain "},
                         {"Stream-TTL", "60"},
                         {"Stream-Closed", "TRUE"},
                         {"Stream-Forked-From", "/v1/stream/src/x"},
                         {"Stream-Fork-Offset", "0000000000000000_0000000000000004"},
                         {"Stream-Fork-Sub-Offset", "2"}}),
      &c));
  auto& create = std::get<ds::CreateCommand>(c);
  CHECK(create.content_type == "text/plain");
  CHECK(create.ttl_seconds == 60);
  CHECK(create.close);
  REQUIRE(create.fork);
  CHECK(create.fork->source == "src/x");
  CHECK(create.fork->offset == 4u);
  CHECK(create.fork->sub_offset == 2);
  CHECK(Refusal(Req(Method::kPut, {{"Stream-Forked-From", "/elsewhere/x"}})) ==
        ErrorCode::kNotFound);
  CHECK(Refusal(Req(Method::kPut, {{"Stream-Fork-Offset", "-1"}})) == ErrorCode::kInvalidFork);
  CHECK(Refusal(Req(Method::kPut, {{"Stream-TTL", "1"}, {"Stream-Expires-At", "x"}})) ==
        ErrorCode::kTtlAndExpiresAt);
  CHECK(Refusal(Req(Method::kPut, {{"Stream-TTL", "01"}})) == ErrorCode::kInvalidTtl);
}

TEST_CASE("an append decodes its producer all or nothing", "[decoder]") {
  CHECK(Refusal(Req(Method::kPost, {{"Producer-Id", "a"}, {"Producer-Epoch", "0"}})) ==
        ErrorCode::kInvalidProducer);
  CHECK(Refusal(Req(Method::kPost,
                    {{"Producer-Id", "a"}, {"Producer-Epoch", "x"}, {"Producer-Seq", "0"}})) ==
        ErrorCode::kInvalidProducer);
  proto::Command c;
  REQUIRE_FALSE(proto::DecodeCommand(
      Req(Method::kPost, {{"Producer-Id", " a "}, {"Producer-Epoch", "2"}, {"Producer-Seq", "7"},
                          {"Stream-Seq", ""}}),
      &c));
  auto& append = std::get<ds::AppendCommand>(c);
  REQUIRE(append.producer);
  CHECK(append.producer->id == "a");
  CHECK(append.producer->epoch == 2);
  CHECK(append.producer->seq == 7);
  CHECK_FALSE(append.stream_seq);  // empty: none
}

TEST_CASE("a read decodes offset, live mode and cursor", "[decoder]") {
  proto::Command c;
  REQUIRE_FALSE(proto::DecodeCommand(
      Req(Method::kGet, {}, {{"offset", "now"}, {"live", "sse"}, {"cursor", "c1"}}), &c));
  auto& read = std::get<ds::ReadCommand>(c);
  CHECK(read.from == ds::ReadCommand::From::kNow);
  CHECK(read.live == ds::LiveMode::kSse);
  CHECK(read.cursor == "c1");
  // A token of another numbering lies past every tail.
  REQUIRE_FALSE(proto::DecodeCommand(
      Req(Method::kGet, {}, {{"offset", "0000000000000001_0000000000000000"}}), &c));
  CHECK(std::get<ds::ReadCommand>(c).offset == UINT64_MAX);
  CHECK(Refusal(Req(Method::kGet, {}, {{"live", "long-poll"}})) == ErrorCode::kInvalidOffset);
  CHECK(Refusal(Req(Method::kGet, {}, {{"offset", "-1"}, {"live", "push"}})) ==
        ErrorCode::kBadRequest);
  CHECK(Refusal(Req(Method::kGet, {}, {{"offset", "-1"}, {"offset", "-1"}})) ==
        ErrorCode::kInvalidOffset);
  // HEAD is Info, whatever it asks of live.
  REQUIRE_FALSE(proto::DecodeCommand(Req(Method::kHead, {}, {{"live", "x"}}), &c));
  CHECK(std::holds_alternative<ds::InfoCommand>(c));
}

TEST_CASE("every error has one shape, escaped, with the common headers", "[encoder]") {
  ds::StreamError e;
  e.code = ErrorCode::kProducerSeqGap;
  e.message = "a \"quoted\" <b>\n";
  e.expected_seq = 3;
  e.received_seq = 9;
  ds::Response r = proto::EncodeError(e);
  CHECK(r.status == 409);
  CHECK(r.body == R"({"code":"PRODUCER_SEQ_GAP","error":"a \"quoted\" <b>\n"})");
  CHECK(*r.headers.Get("Producer-Expected-Seq") == "3");
  CHECK(*r.headers.Get("Producer-Received-Seq") == "9");
  CHECK(*r.headers.Get("X-Content-Type-Options") == "nosniff");
  // A transport's own error is the same shape.
  ds::Response t = ds::ErrorResponse(400, "BAD_REQUEST", "bad \"x\"");
  CHECK(t.body == R"({"code":"BAD_REQUEST","error":"bad \"x\""})");
  CHECK(*t.headers.Get("Access-Control-Allow-Origin") == "*");
  CHECK(*ds::ErrorResponse(503, "UNAVAILABLE", "later").headers.Get("Retry-After") == "1");
}

TEST_CASE("read outcomes encode their kind", "[encoder]") {
  ds::ReadOutcome up;
  up.kind = ds::ReadOutcome::Kind::kUpToDate;
  up.next_offset = 7;
  up.closed = true;
  ds::Response r = proto::Encode(up, "public, max-age=60");
  CHECK(r.status == 204);
  CHECK(*r.headers.Get("Stream-Next-Offset") == "0000000000000000_0000000000000007");
  CHECK(*r.headers.Get("Stream-Closed") == "true");
  CHECK(*r.headers.Get("Cache-Control") == "no-store");
  ds::ReadOutcome data;
  data.content_type = "text/plain";
  data.body = "x";
  data.etag = "\"e\"";
  data.cacheable = true;
  ds::Response d = proto::Encode(data, "public, max-age=60");
  CHECK(d.status == 200);
  CHECK(*d.headers.Get("Cache-Control") == "public, max-age=60");
  CHECK_FALSE(d.headers.Has("Stream-Up-To-Date"));
}
