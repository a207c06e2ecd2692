// tests/support/raw_http.h: one HTTP/1.1 request on its own loopback
// connection, sent byte for byte as given (no client normalizes the
// target), and the whole reply, for tests against the real server.
#ifndef DURABLESTREAMS_TESTS_SUPPORT_RAW_HTTP_H_
#define DURABLESTREAMS_TESTS_SUPPORT_RAW_HTTP_H_

#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/loopback.h"

namespace dstest {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Reply {
  int status = 0;
  std::string reason;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// The request and its whole reply (or what came of it within `timeout_s`,
// for a live read that does not end).
inline Reply Http(int port, const std::string& method, const std::string& target,
                  const Headers& headers = {}, const std::string& body = "", int timeout_s = 20) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  int fd = dstest::DialLoopback(port, timeout_s);
  Reply r;
  if (fd < 0) return r;
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return r;
  r.status = std::atoi(raw.c_str() + 9);
  r.reason = raw.substr(13, raw.find("\r\n") - 13);
  size_t line = raw.find("\r\n") + 2;
  while (line < end) {
    size_t eol = raw.find("\r\n", line);
    std::string h = raw.substr(line, eol - line);
    size_t colon = h.find(':');
    std::string name = h.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = colon + 1;
    while (v < h.size() && h[v] == ' ') ++v;
    r.headers[name] = h.substr(v);
    line = eol + 2;
  }
  r.body = raw.substr(end + 4);
  return r;
}

}  // namespace dstest

#endif  // DURABLESTREAMS_TESTS_SUPPORT_RAW_HTTP_H_
