// server/http_parser.h
//
// HTTP/1.1 request parsing for the event-driven transport (RFC 9112): the
// request head and chunked bodies, incrementally over a connection's read
// buffer. Pure functions over bytes, fuzzed by tests/fuzz/fuzz_http.cc.
//
// Strict where leniency invites request smuggling: a message with both
// Content-Length and Transfer-Encoding, differing Content-Length values,
// obsolete line folding, or whitespace before a header's colon is refused.
#ifndef DURABLESTREAMS_SERVER_HTTP_PARSER_H_
#define DURABLESTREAMS_SERVER_HTTP_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace durablestreams::http {

struct RequestHead {
  std::string method;
  std::string target;   // origin-form: "/path?query" (absolute-form is reduced to it)
  int minor_version = 1;  // HTTP/1.x
  std::vector<std::pair<std::string, std::string>> headers;
  bool keep_alive = true;
  bool chunked = false;
  uint64_t content_length = 0;
  bool expect_continue = false;
};

enum class Parse { kIncomplete, kDone, kError };

struct ParseError {
  int status = 400;
  std::string code = "BAD_REQUEST";
  std::string message = "malformed request";
};

// Parses the request head at the start of `in`. kDone: *consumed is its
// length (up to and including the empty line). kIncomplete: more bytes are
// needed (and `in` is still below max_head). kError: *error says why.
Parse ParseHead(std::string_view in, size_t max_head, RequestHead* out, size_t* consumed,
                ParseError* error);

// Decodes a chunked body at the start of `in` (trailers are read and
// ignored). kDone: *body holds it and *consumed the bytes used. A body
// passing max_body is an error (413).
Parse ParseChunked(std::string_view in, size_t max_body, std::string* body, size_t* consumed,
                   ParseError* error);

// ASCII case-insensitive equality (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Percent-decodes %XX sequences (invalid ones stay as they are); with
// `plus_is_space`, '+' becomes ' ' (query strings).
std::string PercentDecode(std::string_view s, bool plus_is_space);

// Splits "a=1&b=2" into decoded pairs, in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view q);

}  // namespace durablestreams::http

#endif  // DURABLESTREAMS_SERVER_HTTP_PARSER_H_
