// examples/04-sse-reader.cc
//
// What it shows: a C++ Server-Sent Events reader: prints data events, keeps
// the offset of each control event, reconnects from it when the server ends
// the response (every 60 s), and stops at streamClosed.
//
// Run:  ./build/durable-streams-server &
//       ./build/examples/04-sse-reader demo     (then append as in example 03)
#include <httplib.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  std::string path = std::string("/v1/stream/") + (argc > 1 ? argv[1] : "demo");
  httplib::Client client("127.0.0.1", 4437);
  client.set_read_timeout(120, 0);
  std::string offset = "-1";
  bool closed = false;
  while (!closed) {
    std::string pending, event;
    auto res = client.Get((path + "?live=sse&offset=" + offset).c_str(),
                          [&](const char* data, size_t n) {
      pending.append(data, n);
      size_t eol;
      while ((eol = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, eol);
        pending.erase(0, eol + 1);
        if (line.rfind("event: ", 0) == 0) {
          event = line.substr(7);
        } else if (line.rfind("data:", 0) == 0 && event == "data") {
          std::printf("%s\n", line.c_str() + 5);
        } else if (line.rfind("data:", 0) == 0 && event == "control") {
          size_t at = line.find("\"streamNextOffset\":\"");
          if (at != std::string::npos) offset = line.substr(at + 20, 33);
          closed = line.find("\"streamClosed\":true") != std::string::npos;
        }
      }
      return true;
    });
    if (!res || res->status != 200) {
      std::fprintf(stderr, "request failed (%d)\n", res ? res->status : -1);
      return 1;
    }
  }
  std::printf("[closed at %s]\n", offset.c_str());
  return 0;
}
