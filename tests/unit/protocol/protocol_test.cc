// Unit tests of lib/protocol: pure functions, table-driven.
#include <catch2/catch.hpp>

#include "protocol/cursor.h"
#include "protocol/decimal.h"
#include "protocol/errors.h"
#include "protocol/headers.h"
#include "protocol/json_batch.h"
#include "protocol/offset.h"
#include "protocol/producer.h"
#include "protocol/sse.h"

using namespace durablestreams::protocol;

TEST_CASE("offsets format as two fixed-width fields that sort like numbers") {
  CHECK(FormatOffset({0, 0}) == "0000000000000000_0000000000000000");
  CHECK(FormatOffset({0, 42}) == "0000000000000000_0000000000000042");
  CHECK(FormatPosition(9) < FormatPosition(10));
  CHECK(FormatPosition(99999) < FormatPosition(100000));
  CHECK(FormatOffset({0, kMaxOffsetField}) < FormatOffset({1, 0}));
}

TEST_CASE("offset parsing accepts sentinels and tokens and rejects everything else") {
  using K = OffsetRequest::Kind;
  auto [text, ok, kind, pos] = GENERATE(table<std::string, bool, K, uint64_t>({
      {"-1", true, K::kStart, 0},
      {"now", true, K::kNow, 0},
      {"0000000000000000_0000000000000000", true, K::kAt, 0},
      {"0000000000000000_0000000000001234", true, K::kAt, 1234},
      {"", false, K::kStart, 0},
      {"0", false, K::kStart, 0},
      {"NOW", false, K::kStart, 0},
      {"-2", false, K::kStart, 0},
      {"0,1", false, K::kStart, 0},
      {"0 1", false, K::kStart, 0},
      {"0000000000000000-0000000000000000", false, K::kStart, 0},
      {"000000000000000_00000000000000000", false, K::kStart, 0},
      {"0000000000000000_000000000000000a", false, K::kStart, 0},
      {"0000000000000000_00000000000000000", false, K::kStart, 0},
  }));
  CAPTURE(text);
  auto r = ParseOffset(text);
  REQUIRE(r.ok() == ok);
  if (ok) {
    CHECK(r->kind == kind);
    CHECK(r->at.pos == pos);
  }
}

TEST_CASE("decimal integers are digits only, up to UINT64_MAX") {
  struct Row {
    const char* text;
    bool ok;
    uint64_t value;
  };
  const Row rows[] = {
      {"0", true, 0},
      {"007", true, 7},  // leading zeros are the caller's to refuse
      {"18446744073709551615", true, UINT64_MAX},
      {"18446744073709551616", false, 0},
      {"", false, 0},
      {"-1", false, 0},
      {"+1", false, 0},
      {" 1", false, 0},
      {"1 ", false, 0},
      {"1e3", false, 0},
      {"0x10", false, 0},
      {"\xd9\xa1", false, 0},  // a non-ASCII digit
  };
  for (const Row& row : rows) {
    INFO(row.text);
    uint64_t v = 42;
    CHECK(ParseDigits(row.text, &v) == row.ok);
    CHECK(v == (row.ok ? row.value : 42));
  }
}

TEST_CASE("Stream-TTL takes plain non-negative decimal integers only") {
  auto [text, ok, value] = GENERATE(table<std::string, bool, int64_t>({
      {"0", true, 0},
      {"1", true, 1},
      {"3600", true, 3600},
      {"03600", false, 0},
      {"+3600", false, 0},
      {"-1", false, 0},
      {"3600.0", false, 0},
      {"3.6e3", false, 0},
      {"", false, 0},
      {" 1", false, 0},
      {"abc", false, 0},
      {"99999999999999", false, 0},
  }));
  CAPTURE(text);
  auto r = ParseTtlSeconds(text);
  REQUIRE(r.ok() == ok);
  if (ok) CHECK(*r == value);
}

TEST_CASE("Stream-Expires-At takes RFC 3339 timestamps with a zone") {
  auto [text, ok, millis] = GENERATE(table<std::string, bool, int64_t>({
      {"1970-01-01T00:00:00Z", true, 0},
      {"1970-01-01T00:00:01.5Z", true, 1500},
      {"2025-01-01T00:00:00Z", true, 1735689600000},
      {"2025-01-01T02:00:00+02:00", true, 1735689600000},
      {"2024-12-31T23:00:00-01:00", true, 1735689600000},
      {"2024-02-29T00:00:00Z", true, 1709164800000},
      {"2023-02-29T00:00:00Z", false, 0},
      {"2025-01-01T00:00:00", false, 0},
      {"2025-01-01", false, 0},
      {"2025-13-01T00:00:00Z", false, 0},
      {"not a date", false, 0},
      {"2025-01-01T00:00:00.Z", false, 0},
      {"2025-01-01T00:00:00Zjunk", false, 0},
      {"0000-01-01T00:00:60+02:00", false, 0},  // year -1 in UTC (a fuzz finding)
      {"1970-01-01T00:00:00+00:01", false, 0},  // before the epoch
      {"9999-12-31T23:59:59-00:01", false, 0},  // year 10000 in UTC
      {"9999-12-31T23:59:59.999Z", true, 253402300799999},
  }));
  CAPTURE(text);
  auto r = ParseRfc3339Millis(text);
  REQUIRE(r.ok() == ok);
  if (ok) CHECK(*r == millis);
}

TEST_CASE("an RFC 3339 timestamp survives formatting and parsing") {
  int64_t ms = GENERATE(int64_t{0}, int64_t{1735689600123}, int64_t{4102444799999});
  auto back = ParseRfc3339Millis(FormatRfc3339Millis(ms));
  REQUIRE(back.ok());
  CHECK(*back == ms);
}

TEST_CASE("producer integers are digits from 0 to 2^53-1") {
  auto [text, ok] = GENERATE(table<std::string, bool>({
      {"0", true},
      {"9007199254740991", true},
      {"9007199254740992", false},
      {"-1", false},
      {"1.5", false},
      {"1e3", false},
      {"", false},
      {"abc", false},
  }));
  CAPTURE(text);
  CHECK(ParseProducerInteger(text).ok() == ok);
}

TEST_CASE("Stream-Closed counts only when it says true, in any case") {
  std::string t = "true", T = "TRUE", f = "false", one = "1", empty;
  CHECK(IsTrueFlag(&t));
  CHECK(IsTrueFlag(&T));
  CHECK_FALSE(IsTrueFlag(&f));
  CHECK_FALSE(IsTrueFlag(&one));
  CHECK_FALSE(IsTrueFlag(&empty));
  CHECK_FALSE(IsTrueFlag(nullptr));
}

TEST_CASE("media types compare without parameters and case") {
  CHECK(MediaType("Application/JSON; charset=utf-8") == "application/json");
  CHECK(MediaType(" text/plain ") == "text/plain");
  CHECK(IsTextMediaType("text/html"));
  CHECK(IsTextMediaType("application/json"));
  CHECK_FALSE(IsTextMediaType("application/octet-stream"));
  CHECK(IsValidMediaType("application/x-protobuf"));
  CHECK_FALSE(IsValidMediaType("nonsense"));
  CHECK_FALSE(IsValidMediaType("a/b c"));
}

TEST_CASE("the producer state machine follows PROTOCOL.md 5.2.1") {
  using V = ProducerVerdict;
  ProducerState s{2, 5};
  auto [epoch, seq, verdict, expected] = GENERATE(table<int64_t, int64_t, V, int64_t>({
      {1, 0, V::kStaleEpoch, 0},
      {1, 9, V::kStaleEpoch, 0},
      {3, 0, V::kAccept, 0},
      {3, 1, V::kEpochSeqNotZero, 0},
      {2, 4, V::kDuplicate, 0},
      {2, 5, V::kDuplicate, 0},
      {2, 6, V::kAccept, 0},
      {2, 8, V::kSeqGap, 6},
  }));
  CAPTURE(epoch, seq);
  ProducerCheck c = CheckProducer(&s, epoch, seq);
  CHECK(c.verdict == verdict);
  if (verdict == V::kSeqGap) CHECK(c.expected_seq == expected);
  if (verdict == V::kAccept) CHECK(c.next.epoch == epoch);
}

TEST_CASE("a producer the stream has not seen must start at seq 0") {
  CHECK(CheckProducer(nullptr, 0, 0).verdict == ProducerVerdict::kAccept);
  CHECK(CheckProducer(nullptr, 7, 0).next.epoch == 7);
  auto gap = CheckProducer(nullptr, 0, 3);
  CHECK(gap.verdict == ProducerVerdict::kSeqGap);
  CHECK(gap.expected_seq == 0);
}

TEST_CASE("JSON batches flatten exactly one level and keep each value's bytes") {
  auto [body, messages] = GENERATE(table<std::string, std::vector<std::string>>({
      {R"({"event": "created"})", {R"({"event": "created"})"}},
      {R"([{"a":1}, {"b":2}])", {R"({"a":1})", R"({"b":2})"}},
      {R"([[1,2], [3,4]])", {"[1,2]", "[3,4]"}},
      {R"([[[1,2,3]]])", {"[[1,2,3]]"}},
      {R"( ["a,b", "c]", {"d":[1,{"e":"]"}]}] )", {R"("a,b")", R"("c]")", R"({"d":[1,{"e":"]"}]})"}},
      {R"(["\"quoted,\\"])", {R"("\"quoted,\\")"}},
      {"42", {"42"}},
      {"[123456789012345678901234567890, 1e400, -0.5e-999]",
       {"123456789012345678901234567890", "1e400", "-0.5e-999"}},  // beyond 64 bits: still JSON
      {"{\"big\": 18446744073709551616}", {"{\"big\": 18446744073709551616}"}},
      {"null", {"null"}},
  }));
  CAPTURE(body);
  JsonBatch b = SplitJsonBatch(body);
  REQUIRE(b.error == JsonBatchError::kNone);
  CHECK(b.messages.Strings() == messages);
}

TEST_CASE("invalid JSON and empty arrays are told apart") {
  CHECK(SplitJsonBatch("[]").error == JsonBatchError::kEmptyArray);
  CHECK(SplitJsonBatch(" [ ] ").error == JsonBatchError::kEmptyArray);
  CHECK(SplitJsonBatch("{").error == JsonBatchError::kInvalidJson);
  CHECK(SplitJsonBatch("[1,]").error == JsonBatchError::kInvalidJson);
  CHECK(SplitJsonBatch("").error == JsonBatchError::kInvalidJson);
  CHECK(SplitJsonBatch("{} {}").error == JsonBatchError::kInvalidJson);
  // Big numbers do not excuse bad grammar around them.
  CHECK(SplitJsonBatch("[1e400,]").error == JsonBatchError::kInvalidJson);
  CHECK(SplitJsonBatch("[1e400 2]").error == JsonBatchError::kInvalidJson);
  CHECK(SplitJsonBatch("{\"a\" 1e400}").error == JsonBatchError::kInvalidJson);
  CHECK(SplitJsonBatch("01e400").error == JsonBatchError::kInvalidJson);
  CHECK(SplitJsonBatch("[1e400, \"\\x\"]").error == JsonBatchError::kInvalidJson);
  // A number simdjson cannot hold sends the document to the grammar check,
  // which refuses lone surrogates as simdjson does (a fuzz finding: the
  // message "\uDDDD" alone would be refused, in the batch accepted).
  for (const char* bad : {R"([9e876,"]\uDDDD"])", R"([1e400,"\uD800"])",
                          R"([1e400,"\uD800\u0041"])", R"([1e400,"\uDC00\uD800"])",
                          R"([1e400,"\uD83D"])"}) {
    CAPTURE(bad);
    CHECK(SplitJsonBatch(bad).error == JsonBatchError::kInvalidJson);
    CHECK(SplitJsonBatch(std::string(bad).substr(7, std::string(bad).size() - 8)).error ==
          JsonBatchError::kInvalidJson);
  }
  JsonBatch pair = SplitJsonBatch(R"([1e400,"a\uD83D\uDE00b","\u00e9"])");
  CHECK(pair.error == JsonBatchError::kNone);
  CHECK(pair.messages.size() == 3);
  CHECK(SplitJsonBatch("[ 1e400 ]").messages.size() == 1);
}

TEST_CASE("a JSON read wraps messages in one array") {
  std::string out;
  AppendJsonArray({"1", "{\"a\":2}"}, &out);
  CHECK(out == "[1,{\"a\":2}]");
  out.clear();
  AppendJsonArray({}, &out);
  CHECK(out == "[]");
}

TEST_CASE("SSE framing splits payload lines so no payload byte can end an event") {
  auto [payload, expected] = GENERATE(table<std::string, std::string>({
      {"hello", "event: data\ndata:hello\n\n"},
      {"", "event: data\ndata:\n\n"},
      {"a\nb", "event: data\ndata:a\ndata:b\n\n"},
      {"a\r\nb", "event: data\ndata:a\ndata:b\n\n"},
      {"a\rb", "event: data\ndata:a\ndata:b\n\n"},
      {"a\n\nevent: control", "event: data\ndata:a\ndata:\ndata:event: control\n\n"},
      {"end\n", "event: data\ndata:end\ndata:\n\n"},
  }));
  CAPTURE(payload);
  std::string out;
  AppendSseEvent("data", payload, &out);
  CHECK(out == expected);
}

TEST_CASE("base64 follows RFC 4648 test vectors") {
  auto [in, out] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {std::string("\xff\xfe\x00", 3), "//4A"},
  }));
  std::string got;
  AppendBase64(in, &got);
  CHECK(got == out);
}

TEST_CASE("control events leave out false flags and an empty cursor") {
  CHECK(ControlJson({"0000000000000000_0000000000000005", "123", true, false}) ==
        R"({"streamNextOffset":"0000000000000000_0000000000000005","streamCursor":"123","upToDate":true})");
  CHECK(ControlJson({"x", "", true, true}) ==
        R"({"streamNextOffset":"x","upToDate":true,"streamClosed":true})");
}

TEST_CASE("the cursor is the 20-second interval since 2024-10-09") {
  CHECK(NextCursor(kCursorEpochMillis, "", 1) == "0");
  CHECK(NextCursor(kCursorEpochMillis + 20000 * 1000 + 5, "", 1) == "1000");
}

TEST_CASE("an echoed cursor that is not behind gets a strictly greater one") {
  int64_t now = kCursorEpochMillis + 20000 * 1000;  // interval 1000
  auto [client, jitter, expected] = GENERATE(table<std::string, int64_t, std::string>({
      {"999", 5, "1000"},     // behind: the current interval
      {"1000", 1, "1001"},    // equal: at least one interval more
      {"1000", 3600, "1180"}, // 3600 s = 180 intervals
      {"5000", 20, "5001"},   // ahead of the clock: still greater
      {"junk", 20, "1000"},   // not a number: ignored
  }));
  CAPTURE(client, jitter);
  CHECK(NextCursor(now, client, jitter) == expected);
}

TEST_CASE("error bodies are JSON with a code and an escaped message") {
  CHECK(ErrorJson("X", "a \"b\"\n") == R"({"code":"X","error":"a \"b\"\n"})");
  CHECK(HttpStatus(ErrorCode::kStreamClosed) == 409);
  CHECK(HttpStatus(ErrorCode::kStaleEpoch) == 403);
  CHECK(CodeName(ErrorCode::kStorageFull) == "STORAGE_FULL");
}
