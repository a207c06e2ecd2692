// examples/01-embedded-engine.cc
//
// What it shows: the engine embedded without any HTTP. Create a JSON stream,
// append a batch, read it back from the start, close it.
//
// Run:  ./build/examples/01-embedded-engine
#include <cstdio>

#include "durablestreams/durablestreams.h"

using namespace durablestreams;

Response Call(StreamEngine& engine, Method method, std::string body = "",
              std::vector<std::pair<std::string, std::string>> query = {}) {
  Request req;
  req.method = method;
  req.path = "examples/chat-1";  // the stream's path, as after /v1/stream/
  req.headers.Add("Content-Type", "application/json");
  req.body = std::move(body);
  req.query = std::move(query);
  return engine.HandleSync(std::move(req));  // blocks this thread only
}

int main() {
  Options options;
  options.data_dir = "./example-data";
  auto opened = StreamEngine::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  StreamEngine& engine = **opened;

  Call(engine, Method::kDelete);  // start afresh
  Response created = Call(engine, Method::kPut);
  std::printf("PUT  -> %d\n", created.status);

  // One POST of an array stores each element as its own message.
  Response appended = Call(engine, Method::kPost, R"([{"role":"user","text":"hi"},
                                                      {"role":"bot","text":"hello"}])");
  std::printf("POST -> %d, next offset %s\n", appended.status,
              appended.headers.Get("Stream-Next-Offset")->c_str());

  Response read = Call(engine, Method::kGet, "", {{"offset", "-1"}});
  std::printf("GET  -> %d %s\n", read.status, read.body.c_str());

  Request close;
  close.method = Method::kPost;
  close.path = "examples/chat-1";
  close.headers.Add("Stream-Closed", "true");
  std::printf("close -> %d\n", engine.HandleSync(std::move(close)).status);
  return 0;
}
