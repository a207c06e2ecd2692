// examples/02-idempotent-producer.cc
//
// What it shows: an idempotent producer (Producer-Id / Epoch / Seq). A retry
// of a batch the server already has is answered 204 and stored once; a
// zombie with an old epoch is fenced with 403.
//
// Run:  ./build/examples/02-idempotent-producer
#include <cstdio>

#include "durablestreams/durablestreams.h"

using namespace durablestreams;

Response Append(StreamEngine& e, const char* epoch, const char* seq, const char* body) {
  Request req;
  req.method = Method::kPost;
  req.path = "examples/orders";
  req.headers.Add("Content-Type", "text/plain");
  req.headers.Add("Producer-Id", "order-service-1");
  req.headers.Add("Producer-Epoch", epoch);
  req.headers.Add("Producer-Seq", seq);
  req.body = body;
  return e.HandleAndWait(std::move(req));
}

int main() {
  Options options;
  options.default_storage.data_dir = "./example-data";
  auto opened = StreamEngine::Open(options);
  if (!opened.ok()) return 1;
  StreamEngine& e = **opened;

  Request reset{Method::kDelete, "examples/orders"};
  e.HandleAndWait(reset);
  Request create{Method::kPut, "examples/orders"};
  create.headers.Add("Content-Type", "text/plain");
  e.HandleAndWait(create);

  std::printf("seq 0        -> %d\n", Append(e, "0", "0", "order 1\n").status);  // 200
  std::printf("seq 1        -> %d\n", Append(e, "0", "1", "order 2\n").status);  // 200
  std::printf("retry seq 1  -> %d\n", Append(e, "0", "1", "order 2\n").status);  // 204
  Response gap = Append(e, "0", "3", "order 4\n");                             // 409
  std::printf("seq 3 (gap)  -> %d, expected %s\n", gap.status,
              gap.headers.Get("Producer-Expected-Seq")->c_str());
  std::printf("epoch 1      -> %d\n", Append(e, "1", "0", "order 3\n").status);  // 200
  Response zombie = Append(e, "0", "2", "stale\n");                            // 403
  std::printf("zombie       -> %d, current epoch %s\n", zombie.status,
              zombie.headers.Get("Producer-Epoch")->c_str());

  Request read{Method::kGet, "examples/orders"};
  std::printf("stream:\n%s", e.HandleAndWait(read).body.c_str());
  return 0;
}
