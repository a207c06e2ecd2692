// server/response_writer.cc: HTTP/1.1 response bytes (response_writer.h).
#include "response_writer.h"

#include "http_parser.h"

namespace durablestreams::event {

namespace {

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Status";
  }
}

}  // namespace

void AppendResponseHead(const Response& r, bool keep_alive, std::string* out) {
  std::string& o = *out;
  o += "HTTP/1.1 ";
  o += std::to_string(r.status);
  o += ' ';
  o += Reason(r.status);
  o += "\r\n";
  bool has_length = false;
  for (const auto& [k, v] : r.headers.fields()) {
    if (http::EqualsIgnoreCase(k, "Transfer-Encoding") || http::EqualsIgnoreCase(k, "Connection")) {
      continue;
    }
    if (http::EqualsIgnoreCase(k, "Content-Length")) {
      if (r.live) continue;
      has_length = true;
    }
    o += k;
    o += ": ";
    o += v;
    o += "\r\n";
  }
  if (r.live) {
    o += "Transfer-Encoding: chunked\r\n";
  } else if (!has_length && !(r.status == 204 || r.status == 304 || r.status < 200)) {
    o += "Content-Length: ";
    o += std::to_string(r.body.size());
    o += "\r\n";
  }
  if (!keep_alive) o += "Connection: close\r\n";
  o += "\r\n";
}

void AppendChunk(std::string_view data, std::string* out) {
  // The chunk's size in hex, then CRLF (no printf: this runs per reader per
  // event).
  char size[20];
  char* end = size + sizeof size;
  char* p = end;
  *--p = '\n';
  *--p = '\r';
  size_t v = data.size();
  do {
    *--p = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  out->append(p, static_cast<size_t>(end - p));
  out->append(data);
  *out += "\r\n";
}

}  // namespace durablestreams::event
