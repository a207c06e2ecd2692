// tests/support/engine_fixture.h: an engine over a real SQLite file in a
// temporary directory, driven through Request values (no sockets), with a
// manual clock, for the unit tests.
#ifndef DURABLESTREAMS_TESTS_SUPPORT_ENGINE_FIXTURE_H_
#define DURABLESTREAMS_TESTS_SUPPORT_ENGINE_FIXTURE_H_

#include <catch2/catch.hpp>

#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "durablestreams/durablestreams.h"
#include "support/temp_dir.h"

namespace dstest {

using durablestreams::Method;
using durablestreams::Response;

struct EngineFixture {
  static constexpr int64_t kStart = 1800000000000;  // 2027-01-15

  TempDir dir;
  std::shared_ptr<durablestreams::ManualClock> clock =
      std::make_shared<durablestreams::ManualClock>(kStart);
  std::unique_ptr<durablestreams::StreamEngine> engine;
  durablestreams::Options options;

  explicit EngineFixture(durablestreams::Options o = durablestreams::Options()) {
    Open(std::move(o));
  }

  // (Re)opens the engine on the same directory: a restart.
  void Open(durablestreams::Options o) {
    engine.reset();
    o.default_storage.data_dir = dir.path();
    o.clock = clock;
    o.default_storage.sqlite.sync = durablestreams::SyncMode::kOff;
    options = o;
    auto r = durablestreams::StreamEngine::Open(o);
    REQUIRE(r.ok());
    engine = std::move(r).value();
  }
  void Open() { Open(options); }

  Response Do(Method m, std::string path, std::vector<std::pair<std::string, std::string>> headers = {},
              std::string body = "", std::vector<std::pair<std::string, std::string>> query = {}) {
    durablestreams::Request req;
    req.method = m;
    req.path = std::move(path);
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    req.body = std::move(body);
    req.query = std::move(query);
    return engine->HandleAndWait(std::move(req));
  }

  // Starts a long-poll at the tail of `path`; the future holds its answer.
  std::future<Response> LongPollAtTail(const std::string& path) {
    auto promise = std::make_shared<std::promise<Response>>();
    durablestreams::Request req;
    req.method = Method::kGet;
    req.path = path;
    req.query = {{"offset", "now"}, {"live", "long-poll"}};
    engine->Handle(std::move(req), [promise](Response r) { promise->set_value(std::move(r)); });
    return promise->get_future();
  }

  Response Read(const std::string& path, const std::string& offset = "-1") {
    return Do(Method::kGet, path, {}, "", {{"offset", offset}});
  }

  // The stream from `offset` to its tail, following Stream-Next-Offset; what
  // was read before a non-200 answer (whose status goes to *status).
  std::string ReadAll(const std::string& path, std::string offset = "-1", int* status = nullptr) {
    std::string out;
    for (;;) {
      Response r = Read(path, offset);
      if (status) *status = r.status;
      if (r.status != 200) return out;
      out += r.body;
      offset = *r.headers.Get("Stream-Next-Offset");
      if (r.headers.Get("Stream-Up-To-Date")) return out;
    }
  }
};

}  // namespace dstest

#endif  // DURABLESTREAMS_TESTS_SUPPORT_ENGINE_FIXTURE_H_
