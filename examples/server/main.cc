// examples/server/main.cc
//
// What it shows: the whole embedding of a Durable Streams server in an
// existing cpp-httplib program: open an engine, mount it, listen.
//
// Run:  ./build/examples/example_server 8080 ./example-data
//       curl -X PUT -H 'Content-Type: text/plain' localhost:8080/v1/stream/hello
//       curl -X POST -H 'Content-Type: text/plain' -d 'hi' localhost:8080/v1/stream/hello
//       curl 'localhost:8080/v1/stream/hello?offset=-1'
#include <cstdio>
#include <cstdlib>

#include "durablestreams/server/httplib_adapter.h"
#include "durablestreams/stream_engine.h"

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 8080;

  durablestreams::Options options;
  options.default_storage.data_dir = argc > 2 ? argv[2] : "./example-data";
  // Allow reads to everyone, but only let requests with a token write.
  options.authorize_mutation =
      [](const durablestreams::Request& req) -> std::optional<durablestreams::Response> {
    const char* token = std::getenv("EXAMPLE_TOKEN");
    const std::string* auth = req.headers.Get("Authorization");
    if (!token || (auth && *auth == std::string("Bearer ") + token)) return std::nullopt;
    return durablestreams::DenyResponse(401, "UNAUTHORIZED", "a bearer token is required");
  };

  auto engine = durablestreams::StreamEngine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return 1;
  }

  httplib::Server server;
  // One thread per connection, so waiting live readers never block others.
  server.new_task_queue = [] { return new durablestreams::GrowingThreadPool(1024); };
  durablestreams::Mount(server, **engine);

  // Your own routes live beside the streams.
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("streams are under /v1/stream/\n", "text/plain");
  });

  std::printf("listening on http://127.0.0.1:%d\n", port);
  server.listen("127.0.0.1", port);
  return 0;
}
