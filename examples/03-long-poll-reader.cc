// examples/03-long-poll-reader.cc
//
// What it shows: a C++ long-poll reader over HTTP that follows a stream from
// its start, resuming from Stream-Next-Offset and echoing Stream-Cursor,
// until the stream is closed.
//
// Run:  ./build/durable-streams-server &            (port 4437)
//       ./build/examples/03-long-poll-reader demo
//       curl -X PUT -d '' -H 'Content-Type: text/plain' localhost:4437/v1/stream/demo
//       curl -X POST -d 'hello' -H 'Content-Type: text/plain' localhost:4437/v1/stream/demo
//       curl -X POST -H 'Stream-Closed: true' -d '' localhost:4437/v1/stream/demo
#include <httplib.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  std::string path = std::string("/v1/stream/") + (argc > 1 ? argv[1] : "demo");
  httplib::Client client("127.0.0.1", 4437);
  client.set_read_timeout(60, 0);  // longer than the server's long-poll timeout
  std::string offset = "-1", cursor;
  for (;;) {
    std::string url = path + "?live=long-poll&offset=" + offset;
    if (!cursor.empty()) url += "&cursor=" + cursor;
    auto res = client.Get(url.c_str());
    if (!res) {
      std::fprintf(stderr, "request failed; retrying\n");
      continue;
    }
    if (res->status == 404) {
      std::fprintf(stderr, "no stream at %s yet\n", path.c_str());
      return 1;
    }
    if (res->status != 200 && res->status != 204) {
      std::fprintf(stderr, "error %d: %s\n", res->status, res->body.c_str());
      return 1;
    }
    if (res->status == 200) std::printf("%s", res->body.c_str());
    std::fflush(stdout);
    offset = res->get_header_value("Stream-Next-Offset");
    cursor = res->get_header_value("Stream-Cursor");
    if (res->get_header_value("Stream-Closed") == "true") {
      std::printf("\n[closed at %s]\n", offset.c_str());
      return 0;
    }
  }
}
