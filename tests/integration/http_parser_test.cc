// The event transport's HTTP/1.1 parser on its own: what it accepts, what it
// refuses (with which status), and incremental input.
#include <catch2/catch.hpp>

#include "http_parser.h"

using namespace durablestreams::http;

namespace {

Parse Head(const std::string& in, RequestHead* h, ParseError* e, size_t* used = nullptr) {
  size_t u = 0;
  Parse p = ParseHead(in, 1024, h, &u, e);
  if (used) *used = u;
  return p;
}

}  // namespace

TEST_CASE("request heads parse, byte by byte too") {
  std::string req =
      "POST /v1/stream/a%20b?offset=-1&x=1+2 HTTP/1.1\r\nHost: h\r\nContent-Length:  5 \r\n"
      "Connection: close\r\nExpect: 100-continue\r\n\r\nhello";
  RequestHead h;
  ParseError e;
  for (size_t n = 0; n < req.size() - 5 - 1; ++n) {
    CHECK(Head(req.substr(0, n), &h, &e) == Parse::kIncomplete);
  }
  size_t used = 0;
  REQUIRE(Head(req, &h, &e, &used) == Parse::kDone);
  CHECK(used == req.size() - 5);
  CHECK(h.method == "POST");
  CHECK(h.target == "/v1/stream/a%20b?offset=-1&x=1+2");
  CHECK(h.content_length == 5);
  CHECK_FALSE(h.keep_alive);
  CHECK(h.expect_continue);
  CHECK(PercentDecode("/v1/stream/a%20b%zz%4", false) == "/v1/stream/a b%zz%4");
  auto q = ParseQuery("offset=-1&x=1+2&flag&e=%3D");
  REQUIRE(q.size() == 4);
  CHECK(q[1].second == "1 2");
  CHECK(q[2].first == "flag");
  CHECK(q[3].second == "=");
  REQUIRE(Head("GET http://host:1/v1/stream/x HTTP/1.0\r\n\r\n", &h, &e) == Parse::kDone);
  CHECK(h.target == "/v1/stream/x");
  CHECK_FALSE(h.keep_alive);
}

TEST_CASE("malformed or smuggling-prone heads are refused with the right status") {
  struct Case {
    const char* request;
    int status;
  } cases[] = {
      {"GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"GET /x HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nA: b\x01\r\n\r\n", 400},
      {"GET /x HTTP/2.0\r\n\r\n", 505},
      {"GET  /x HTTP/1.1\r\n\r\n", 400},
      {"G(T /x HTTP/1.1\r\n\r\n", 400},
      {"GET x HTTP/1.1\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417},
      {"GET /x HTTP/1.1\r\nNoColon\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    RequestHead h;
    ParseError e;
    INFO(c.request);
    CHECK(Head(c.request, &h, &e) == Parse::kError);
    CHECK(e.status == c.status);
  }
  RequestHead h;
  ParseError e;
  CHECK(Head("GET /x HTTP/1.1\r\nA: " + std::string(2000, 'a'), &h, &e) == Parse::kError);
  CHECK(e.status == 431);
}

TEST_CASE("chunked bodies decode, with extensions and trailers, and respect the limit") {
  std::string body;
  size_t used = 0;
  ParseError e;
  std::string in = "5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\nNEXT";
  for (size_t n = 0; n < in.size() - 4; ++n) {
    CHECK(ParseChunked(in.substr(0, n), 100, &body, &used, &e) == Parse::kIncomplete);
  }
  REQUIRE(ParseChunked(in, 100, &body, &used, &e) == Parse::kDone);
  CHECK(body == "hello0123456789");
  CHECK(in.substr(used) == "NEXT");
  CHECK(ParseChunked(in, 10, &body, &used, &e) == Parse::kError);
  CHECK(e.status == 413);
  CHECK(ParseChunked("zz\r\n", 100, &body, &used, &e) == Parse::kError);
  CHECK(ParseChunked("3\r\nabcX\r\n", 100, &body, &used, &e) == Parse::kError);
}
