// tests/unit/engine/estuary_test.cc: estuaries through the engine's typed
// API (estuary.h) over MemoryStorage and the manual clock: copies, links
// across a restart, a failed commit, expiry.
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "durablestreams/durablestreams.h"

namespace ds = durablestreams;
using ds::ErrorCode;

namespace {

struct Core {
  std::shared_ptr<ds::ManualClock> clock = std::make_shared<ds::ManualClock>(1800000000000);
  std::shared_ptr<ds::MemoryStorage> storage = std::make_shared<ds::MemoryStorage>();
  std::unique_ptr<ds::StreamEngine> engine;

  Core() { Open(); }
  void Open() {
    engine.reset();
    ds::Options o;
    o.storage = storage;
    o.clock = clock;
    o.estuary_ttl = std::chrono::seconds(60);
    auto opened = ds::StreamEngine::Open(o);
    REQUIRE(opened.ok());
    engine = std::move(opened).value();
  }

  template <typename Outcome, typename Command, typename Verb>
  Outcome Run(Verb verb, Command c) {
    std::promise<Outcome> p;
    auto f = p.get_future();
    (engine.get()->*verb)(std::move(c), [&p](Outcome o) { p.set_value(std::move(o)); });
    return f.get();
  }
  ds::EstuarySubscribeOutcome Subscribe(std::string source, std::string estuary) {
    return Run<ds::EstuarySubscribeOutcome>(&ds::StreamEngine::Subscribe,
                                            ds::EstuarySubscribeCommand{source, estuary});
  }
  ds::EstuaryUnsubscribeOutcome Unsubscribe(std::string source, std::string estuary) {
    return Run<ds::EstuaryUnsubscribeOutcome>(&ds::StreamEngine::Unsubscribe,
                                              ds::EstuaryUnsubscribeCommand{source, estuary});
  }
  ds::EstuaryInfoOutcome Info(std::string estuary) {
    return Run<ds::EstuaryInfoOutcome>(&ds::StreamEngine::GetEstuary,
                                       ds::EstuaryInfoCommand{estuary});
  }
  ds::AppendOutcome Append(std::string path, std::string body) {
    ds::AppendCommand a;
    a.path = std::move(path);
    a.content_type = "text/plain";
    a.body = std::move(body);
    return Run<ds::AppendOutcome>(&ds::StreamEngine::Append, std::move(a));
  }
  void Create(std::string path) {
    ds::CreateCommand c;
    c.path = std::move(path);
    c.content_type = "text/plain";
    auto o = Run<ds::CreateOutcome>(&ds::StreamEngine::Create, std::move(c));
    REQUIRE(!o.error);
  }
  std::string ReadAll(std::string path) {
    ds::ReadCommand r;
    r.path = std::move(path);
    auto o = Run<ds::ReadOutcome>(&ds::StreamEngine::Read, std::move(r));
    return o.error ? "<" + std::string(ds::ErrorCodeName(o.error->code)) + ">" : o.body;
  }
};

}  // namespace

TEST_CASE("typed estuaries: copies, info, unsubscribe and the links after a restart",
          "[estuary]") {
  Core core;
  core.Create("a");
  core.Create("b");
  REQUIRE(!core.Append("a", "before|").error);
  auto made = core.Subscribe("a", "e");
  REQUIRE(!made.error);
  CHECK(made.created);
  CHECK(made.content_type == "text/plain");
  CHECK(made.expires_at_ms == 1800000000000 + 60000);
  CHECK(!core.Subscribe("b", "e").created);
  REQUIRE(!core.Append("a", "a1|").error);
  REQUIRE(!core.Append("b", "b1|").error);
  CHECK(core.ReadAll("e") == "a1|b1|");
  auto info = core.Info("e");
  REQUIRE(info.sources.size() == 2);
  CHECK(info.sources[0].path == "a");
  CHECK(info.sources[1].path == "b");

  core.Open();  // a restart over the same store
  REQUIRE(!core.Append("b", "b2|").error);
  CHECK(core.ReadAll("e") == "a1|b1|b2|");
  CHECK(core.Unsubscribe("b", "e").removed);
  CHECK(!core.Unsubscribe("b", "e").removed);
  REQUIRE(!core.Append("b", "b3|").error);
  REQUIRE(!core.Append("a", "a2|").error);
  CHECK(core.ReadAll("e") == "a1|b1|b2|a2|");
  core.Open();
  REQUIRE(!core.Append("b", "b4|").error);
  CHECK(core.ReadAll("e") == "a1|b1|b2|a2|");
  CHECK(core.Info("e").sources.size() == 1);

  CHECK(core.Subscribe("nope", "e").error->code == ErrorCode::kNotFound);
  CHECK(core.Subscribe("e", "f").error->code == ErrorCode::kBadRequest);
  CHECK(core.Subscribe("a", "b").error->code == ErrorCode::kStreamExists);
  CHECK(core.Subscribe("a", "").error->code == ErrorCode::kInvalidPath);
  CHECK(core.Info("a").error->code == ErrorCode::kEstuaryNotFound);
  CHECK(core.Unsubscribe("a", "b").error->code == ErrorCode::kEstuaryNotFound);
}

TEST_CASE("typed estuaries: a failed commit subscribes and copies nothing", "[estuary]") {
  Core core;
  core.Create("a");
  REQUIRE(!core.Subscribe("a", "e").error);
  core.storage->FailApplies(ds::Status::IOError("disk away"));
  CHECK(core.Append("a", "lost|").error);
  CHECK(core.Subscribe("a", "f").error);
  core.storage->FailApplies(ds::Status::OK());
  CHECK(core.ReadAll("e").empty());
  CHECK(core.Info("f").error->code == ErrorCode::kEstuaryNotFound);
  REQUIRE(!core.Append("a", "kept|").error);
  CHECK(core.ReadAll("e") == "kept|");
  core.Open();
  CHECK(core.ReadAll("e") == "kept|");
}

TEST_CASE("typed estuaries: an expired session stream goes with its links", "[estuary]") {
  Core core;
  core.Create("a");
  REQUIRE(!core.Subscribe("a", "e").error);
  core.clock->Advance(30000);
  REQUIRE(!core.Subscribe("a", "e").error);  // renewed: 60 s from now
  core.clock->Advance(45000);
  REQUIRE(!core.Append("a", "x|").error);
  CHECK(core.ReadAll("e") == "x|");
  core.clock->Advance(20000);
  CHECK(core.ReadAll("e") == "<STREAM_NOT_FOUND>");
  // The expiry is committed by the engine's sweep (once a second).
  for (int i = 0; i < 300 && !core.Info("e").error; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(core.Info("e").error->code == ErrorCode::kEstuaryNotFound);
  REQUIRE(!core.Append("a", "y|").error);
  auto again = core.Subscribe("a", "e");
  CHECK(again.created);
  CHECK(core.ReadAll("e").empty());
}
