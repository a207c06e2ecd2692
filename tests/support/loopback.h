// tests/support/loopback.h: raw loopback connections and whole-stream reads
// for tests that talk to the real server.
#ifndef DURABLESTREAMS_TESTS_SUPPORT_LOOPBACK_H_
#define DURABLESTREAMS_TESTS_SUPPORT_LOOPBACK_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "durablestreams/server/httplib_adapter.h"

namespace dstest {

// A blocking TCP connection to 127.0.0.1:port (receives time out after
// recv_timeout_s), or -1.
inline int DialLoopback(int port, int recv_timeout_s = 10) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{recv_timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads a stream from -1 to its tail, following Stream-Next-Offset. Returns
// false if a request failed; *closed gets the last Stream-Closed value.
inline bool ReadStream(httplib::Client& c, const std::string& path, std::string* out,
                       std::string* closed = nullptr) {
  std::string offset = "-1";
  for (;;) {
    auto r = c.Get((path + "?offset=" + offset).c_str());
    if (!r || r->status != 200) return false;
    out->append(r->body);
    if (closed) *closed = r->get_header_value("Stream-Closed");
    if (r->get_header_value("Stream-Up-To-Date") == "true") return true;
    offset = r->get_header_value("Stream-Next-Offset");
  }
}

}  // namespace dstest

#endif
