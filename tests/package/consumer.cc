// tests/package/consumer.cc: a user's program, built against an installed or
// embedded libdurablestreams. Creates a stream, appends, reads it back
// through the public API, and mounts the engine on an httplib server.
#include <durablestreams/durablestreams.h>
#include <durablestreams/server/httplib_adapter.h>

#include <cstdio>
#include <filesystem>

using namespace durablestreams;

static Response Call(StreamEngine& e, Method m, const char* body, const char* offset = nullptr) {
  Request r;
  r.method = m;
  r.path = "consumer/test";
  r.headers.Add("Content-Type", "text/plain");
  r.body = body;
  if (offset) r.query.emplace_back("offset", offset);
  return e.HandleAndWait(std::move(r));
}

int main() {
  auto dir = std::filesystem::temp_directory_path() / "ds-consumer-test";
  std::filesystem::remove_all(dir);
  Options options;
  options.default_storage.data_dir = dir.string();
  auto engine = StreamEngine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open failed: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  StreamEngine& e = **engine;
  if (Call(e, Method::kPut, "hello ").status != 201) return 1;
  if (Call(e, Method::kPost, "world").status != 204) return 1;
  Response r = Call(e, Method::kGet, "", "-1");
  if (r.status != 200 || r.body != "hello world") {
    std::fprintf(stderr, "read back %d '%s'\n", r.status, r.body.c_str());
    return 1;
  }
  httplib::Server server;
  Mount(server, e);
  std::printf("consumer ok: libdurablestreams %s read back '%s'\n", DURABLESTREAMS_VERSION_STRING,
              r.body.c_str());
  engine->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
