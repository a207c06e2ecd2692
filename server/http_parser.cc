// server/http_parser.cc
#include "http_parser.h"

#include <cctype>
#include <charconv>
#include <cstring>
#include <system_error>

namespace durablestreams::http {

namespace {

bool IsTchar(unsigned char c) {
  return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Does the comma-separated header value contain `token` (case-insensitive)?
bool HasToken(std::string_view value, std::string_view token) {
  size_t at = 0;
  while (at <= value.size()) {
    size_t comma = value.find(',', at);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view part = value.substr(at, comma - at);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    if (EqualsIgnoreCase(part, token)) return true;
    at = comma + 1;
  }
  return false;
}

Parse Fail(ParseError* e, int status, const char* code, const char* message) {
  e->status = status;
  e->code = code;
  e->message = message;
  return Parse::kError;
}

// The next line of `in` from *at, without its CRLF (or bare LF).
bool NextLine(std::string_view in, size_t* at, std::string_view* line) {
  size_t nl = in.find('\n', *at);
  if (nl == std::string_view::npos) return false;
  size_t end = nl;
  if (end > *at && in[end - 1] == '\r') --end;
  *line = in.substr(*at, end - *at);
  *at = nl + 1;
  return true;
}

// Digits only (no sign, no spaces), at most 18 of them.
bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  auto [at, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && at == s.data() + s.size();
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Parse ParseHead(std::string_view in, size_t max_head, RequestHead* out, size_t* consumed,
                ParseError* error) {
  // Tolerate empty lines before a request (RFC 9112 §2.2).
  size_t at = 0;
  while (at < in.size() && (in[at] == '\r' || in[at] == '\n')) ++at;
  size_t end = in.find("\n\r\n", at);
  size_t end_lf = in.find("\n\n", at);
  size_t head_end;
  if (end != std::string_view::npos && (end_lf == std::string_view::npos || end < end_lf)) {
    head_end = end + 3;
  } else if (end_lf != std::string_view::npos) {
    head_end = end_lf + 2;
  } else {
    if (in.size() > max_head) return Fail(error, 431, "HEADERS_TOO_LARGE", "request head is too large");
    return Parse::kIncomplete;
  }
  if (head_end > max_head) return Fail(error, 431, "HEADERS_TOO_LARGE", "request head is too large");
  std::string_view head = in.substr(0, head_end);
  *out = RequestHead();

  std::string_view line;
  NextLine(head, &at, &line);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(error, 400, "BAD_REQUEST", "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty()) return Fail(error, 400, "BAD_REQUEST", "malformed request line");
  for (unsigned char c : method) {
    if (!IsTchar(c)) return Fail(error, 400, "BAD_REQUEST", "malformed method");
  }
  if (version == "HTTP/1.1") {
    out->minor_version = 1;
  } else if (version == "HTTP/1.0") {
    out->minor_version = 0;
    out->keep_alive = false;
  } else {
    return Fail(error, 505, "HTTP_VERSION_NOT_SUPPORTED", "only HTTP/1.0 and HTTP/1.1 are served");
  }
  if (target.size() > 8192) return Fail(error, 414, "URI_TOO_LONG", "request target is too long");
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) return Fail(error, 400, "BAD_REQUEST", "malformed request target");
  }
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target.empty() || (target[0] != '/' && target != "*")) {
    return Fail(error, 400, "BAD_REQUEST", "malformed request target");
  }
  out->method.assign(method);
  out->target.assign(target);

  bool have_length = false, have_te = false;
  while (NextLine(head, &at, &line)) {
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      return Fail(error, 400, "BAD_REQUEST", "obsolete header line folding");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Fail(error, 400, "BAD_REQUEST", "malformed header line");
    }
    std::string_view name = line.substr(0, colon);
    for (unsigned char c : name) {
      if (!IsTchar(c)) return Fail(error, 400, "BAD_REQUEST", "malformed header name");
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    for (unsigned char c : value) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return Fail(error, 400, "BAD_REQUEST", "control character in a header value");
      }
    }
    if (EqualsIgnoreCase(name, "Content-Length")) {
      uint64_t n;
      if (!ParseDecimal(value, &n) || (have_length && n != out->content_length)) {
        return Fail(error, 400, "BAD_REQUEST", "invalid Content-Length");
      }
      have_length = true;
      out->content_length = n;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (have_te || !EqualsIgnoreCase(value, "chunked")) {
        return Fail(error, 501, "NOT_IMPLEMENTED", "only Transfer-Encoding: chunked is supported");
      }
      have_te = true;
      out->chunked = true;
    } else if (EqualsIgnoreCase(name, "Connection")) {
      if (HasToken(value, "close")) out->keep_alive = false;
      if (HasToken(value, "keep-alive")) out->keep_alive = true;
    } else if (EqualsIgnoreCase(name, "Expect")) {
      if (!EqualsIgnoreCase(value, "100-continue")) {
        return Fail(error, 417, "EXPECTATION_FAILED", "only Expect: 100-continue is supported");
      }
      out->expect_continue = out->minor_version == 1;
    }
    out->headers.emplace_back(std::string(name), std::string(value));
  }
  if (have_length && have_te) {
    return Fail(error, 400, "BAD_REQUEST", "both Content-Length and Transfer-Encoding");
  }
  *consumed = head_end;
  return Parse::kDone;
}

Parse ParseChunked(std::string_view in, size_t max_body, std::string* body, size_t* consumed,
                   ParseError* error) {
  body->clear();
  size_t at = 0;
  std::string_view line;
  for (;;) {
    size_t line_start = at;
    if (!NextLine(in, &at, &line)) {
      if (in.size() - line_start > 1024) return Fail(error, 400, "BAD_REQUEST", "malformed chunk size");
      return Parse::kIncomplete;
    }
    std::string_view size_text = line.substr(0, line.find(';'));  // chunk extensions ignored
    while (!size_text.empty() && (size_text.back() == ' ' || size_text.back() == '\t')) {
      size_text.remove_suffix(1);
    }
    if (size_text.empty() || size_text.size() > 15) {
      return Fail(error, 400, "BAD_REQUEST", "malformed chunk size");
    }
    uint64_t size = 0;
    for (char c : size_text) {
      int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : (c >= 'a' && c <= 'f')                   ? c - 'a' + 10
              : (c >= 'A' && c <= 'F')                   ? c - 'A' + 10
                                                         : -1;
      if (d < 0) return Fail(error, 400, "BAD_REQUEST", "malformed chunk size");
      size = size * 16 + static_cast<uint64_t>(d);
    }
    if (size == 0) break;
    if (body->size() + size > max_body) {
      return Fail(error, 413, "PAYLOAD_TOO_LARGE", "request body is larger than the limit");
    }
    if (in.size() - at < size + 2) return Parse::kIncomplete;
    body->append(in.data() + at, size);
    at += size;
    if (in[at] == '\r') ++at;
    if (in[at] != '\n') return Fail(error, 400, "BAD_REQUEST", "chunk not followed by CRLF");
    ++at;
  }
  // Trailer fields, then the empty line.
  for (;;) {
    size_t line_start = at;
    if (!NextLine(in, &at, &line)) {
      if (in.size() - line_start > 8192) return Fail(error, 431, "HEADERS_TOO_LARGE", "trailers too large");
      return Parse::kIncomplete;
    }
    if (line.empty()) break;
  }
  *consumed = at;
  return Parse::kDone;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t at = 0;
  while (at < q.size()) {
    size_t amp = q.find('&', at);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view item = q.substr(at, amp - at);
    if (!item.empty()) {
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(PercentDecode(item, true), "");
      } else {
        out.emplace_back(PercentDecode(item.substr(0, eq), true),
                         PercentDecode(item.substr(eq + 1), true));
      }
    }
    at = amp + 1;
  }
  return out;
}

}  // namespace durablestreams::http
