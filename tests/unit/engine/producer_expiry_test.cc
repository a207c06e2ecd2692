// tests/unit/engine/producer_expiry_test.cc: Options::producer_ttl over
// MemoryStorage and the manual clock: state unused for the TTL is dropped
// (in memory and in the store), so that producer starts again at seq 0;
// state in use is kept.
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "durablestreams/durablestreams.h"

namespace ds = durablestreams;

namespace {

constexpr int64_t kDay = 24 * 3600 * 1000;

struct Producers {
  std::shared_ptr<ds::ManualClock> clock = std::make_shared<ds::ManualClock>(1800000000000);
  std::shared_ptr<ds::MemoryStorage> storage = std::make_shared<ds::MemoryStorage>();
  std::unique_ptr<ds::StreamEngine> engine;

  Producers() {
    Open();
    ds::CreateCommand c;
    c.path = "s";
    c.content_type = "text/plain";
    std::promise<ds::CreateOutcome> p;
    engine->Create(c, [&p](ds::CreateOutcome o) { p.set_value(std::move(o)); });
    REQUIRE(!p.get_future().get().error);
  }
  void Open() {
    engine.reset();
    ds::Options o;
    o.storage = storage;
    o.clock = clock;
    o.producer_ttl = std::chrono::hours(24 * 7);
    auto opened = ds::StreamEngine::Open(o);
    REQUIRE(opened.ok());
    engine = std::move(opened).value();
  }
  // Producer `id`'s append of seq `seq`: the outcome's error code, or "ok".
  std::string Append(const std::string& id, int64_t seq) {
    ds::AppendCommand a;
    a.path = "s";
    a.content_type = "text/plain";
    a.body = id + std::to_string(seq) + "|";
    a.producer = ds::ProducerFields{id, 0, seq};
    std::promise<ds::AppendOutcome> p;
    engine->Append(a, [&p](ds::AppendOutcome o) { p.set_value(std::move(o)); });
    ds::AppendOutcome o = p.get_future().get();
    if (!o.error) return o.stored_with_producer ? "ok" : "duplicate";
    return std::string(ds::ErrorCodeName(o.error->code));
  }
  // Waits until two of the engine's sweeps (once a second) have committed
  // since now: the second began after the clock's last move.
  void AwaitSweeps() {
    int64_t before = storage->applied();
    for (int i = 0; i < 500 && storage->applied() < before + 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(storage->applied() >= before + 2);
  }
};

}  // namespace

TEST_CASE("producer state unused for the TTL is dropped; the producer starts again at 0",
          "[producer]") {
  Producers p;
  REQUIRE(p.Append("old", 0) == "ok");
  REQUIRE(p.Append("old", 1) == "ok");
  REQUIRE(p.Append("busy", 0) == "ok");
  p.clock->Advance(6 * kDay);
  REQUIRE(p.Append("busy", 1) == "ok");  // used: its 7 days start again
  p.clock->Advance(kDay + 1000);
  p.AwaitSweeps();
  // "old" is forgotten: seq 2 is a gap from 0, and seq 0 starts it afresh.
  CHECK(p.Append("old", 2) == "PRODUCER_SEQ_GAP");
  CHECK(p.Append("old", 0) == "ok");
  CHECK(p.Append("old", 0) == "duplicate");
  // "busy" is kept: its next seq is 2, a retry of 1 is a duplicate.
  CHECK(p.Append("busy", 1) == "duplicate");
  CHECK(p.Append("busy", 2) == "ok");

  // The store forgot it too: after a restart, and a week more, both expire.
  p.Open();
  CHECK(p.Append("old", 1) == "ok");
  p.clock->Advance(7 * kDay + 1000);
  p.AwaitSweeps();
  p.Open();
  CHECK(p.Append("busy", 3) == "PRODUCER_SEQ_GAP");
  CHECK(p.Append("old", 2) == "PRODUCER_SEQ_GAP");
  CHECK(p.Append("busy", 0) == "ok");
}
