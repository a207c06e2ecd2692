// tests/unit/engine/typed_api_test.cc: the engine's typed core (commands.h,
// outcomes.h) over MemoryStorage, as an embedder calls it: no HTTP, no
// files, no sleeps.
#include <algorithm>
#include <catch2/catch.hpp>
#include <future>
#include <memory>
#include <mutex>

#include "durablestreams/durablestreams.h"

namespace ds = durablestreams;
using ds::ErrorCode;

namespace {

struct Core {
  std::shared_ptr<ds::ManualClock> clock = std::make_shared<ds::ManualClock>(1800000000000);
  std::unique_ptr<ds::StreamEngine> engine;

  explicit Core(ds::StreamChangeFn on_change = nullptr) {
    ds::Options o;
    o.storage = std::make_shared<ds::MemoryStorage>();
    o.clock = clock;
    o.on_stream_change = std::move(on_change);
    auto opened = ds::StreamEngine::Open(o);
    REQUIRE(opened.ok());
    engine = std::move(opened).value();
  }

  // Runs one command and waits for its outcome.
  template <typename Outcome, typename Command, typename Verb>
  Outcome Run(Verb verb, Command c) {
    std::promise<Outcome> p;
    auto f = p.get_future();
    (engine.get()->*verb)(std::move(c), [&p](Outcome o) { p.set_value(std::move(o)); });
    return f.get();
  }
  ds::CreateOutcome Create(ds::CreateCommand c) {
    return Run<ds::CreateOutcome>(&ds::StreamEngine::Create, std::move(c));
  }
  ds::AppendOutcome Append(ds::AppendCommand c) {
    return Run<ds::AppendOutcome>(&ds::StreamEngine::Append, std::move(c));
  }
  ds::ReadOutcome Read(ds::ReadCommand c) {
    return Run<ds::ReadOutcome>(&ds::StreamEngine::Read, std::move(c));
  }
  ds::InfoOutcome Info(std::string path) {
    return Run<ds::InfoOutcome>(&ds::StreamEngine::Info, ds::InfoCommand{std::move(path)});
  }
  ds::DeleteOutcome Delete(std::string path) {
    return Run<ds::DeleteOutcome>(&ds::StreamEngine::Delete, ds::DeleteCommand{std::move(path)});
  }
};

ds::AppendCommand Text(std::string path, std::string body) {
  ds::AppendCommand a;
  a.path = std::move(path);
  a.content_type = "text/plain";
  a.body = std::move(body);
  return a;
}

ds::CreateCommand TextStream(std::string path) {
  ds::CreateCommand c;
  c.path = std::move(path);
  c.content_type = "text/plain";
  return c;
}

}  // namespace

TEST_CASE("typed commands create, append, read, close and delete", "[typed]") {
  Core core;
  ds::CreateCommand create = TextStream("a/b");
  create.location = "http://x/v1/stream/a/b";
  ds::CreateOutcome c = core.Create(create);
  REQUIRE_FALSE(c.error);
  CHECK(c.created);
  CHECK(c.location == "http://x/v1/stream/a/b");
  CHECK(c.stream.content_type == "text/plain");
  // The same configuration again confirms it; another refuses.
  CHECK_FALSE(core.Create(create).created);
  create.content_type = "application/json";
  REQUIRE(core.Create(create).error);
  CHECK(core.Create(create).error->code == ErrorCode::kStreamExists);

  ds::AppendOutcome a = core.Append(Text("a/b", "hello"));
  REQUIRE_FALSE(a.error);
  CHECK(a.next_offset == 5);
  CHECK_FALSE(a.stored_with_producer);

  ds::ReadCommand r;
  r.path = "a/b";
  ds::ReadOutcome read = core.Read(r);
  REQUIRE_FALSE(read.error);
  CHECK(read.kind == ds::ReadOutcome::Kind::kData);
  CHECK(read.body == "hello");
  CHECK(read.up_to_date);
  CHECK_FALSE(read.closed);
  CHECK(read.cacheable);
  // The ETag of unchanged data: not modified.
  r.if_none_match = read.etag;
  CHECK(core.Read(r).kind == ds::ReadOutcome::Kind::kNotModified);

  r.if_none_match.reset();
  r.from = ds::ReadCommand::From::kOffset;
  r.offset = 2;
  CHECK(core.Read(r).body == "llo");
  r.offset = 6;
  CHECK(core.Read(r).error->code == ErrorCode::kInvalidOffset);

  std::promise<ds::AppendOutcome> closed;
  core.engine->Close(ds::CloseCommand{"a/b", std::nullopt},
                     [&](ds::AppendOutcome o) { closed.set_value(std::move(o)); });
  ds::AppendOutcome cl = closed.get_future().get();
  REQUIRE_FALSE(cl.error);
  CHECK(cl.closed);
  ds::AppendOutcome late = core.Append(Text("a/b", "more"));
  REQUIRE(late.error);
  CHECK(late.error->code == ErrorCode::kStreamClosed);
  CHECK(late.error->next_offset == 5u);
  ds::InfoOutcome info = core.Info("a/b");
  CHECK(info.stream.closed);
  CHECK(info.stream.next_offset == 5);

  CHECK_FALSE(core.Delete("a/b").error);
  CHECK(core.Info("a/b").error->code == ErrorCode::kNotFound);
  CHECK(core.Delete("a/b").error->code == ErrorCode::kNotFound);
}

TEST_CASE("typed commands are checked as HTTP requests are", "[typed]") {
  Core core;
  CHECK(core.Create(TextStream("")).error->code == ErrorCode::kInvalidPath);
  CHECK(core.Create(TextStream("__ds/x")).error->code == ErrorCode::kNotImplemented);
  ds::CreateCommand both = TextStream("t");
  both.ttl_seconds = 10;
  both.expires_at_ms = 1;
  CHECK(core.Create(both).error->code == ErrorCode::kTtlAndExpiresAt);
  ds::CreateCommand bad_type = TextStream("t");
  bad_type.content_type = "not a type";
  CHECK(core.Create(bad_type).error->code == ErrorCode::kInvalidContentType);
  ds::CreateCommand sub = TextStream("t");
  sub.fork = ds::ForkPoint{"src", std::nullopt, 3};
  CHECK(core.Create(sub).error->code == ErrorCode::kInvalidFork);
  // Nothing was created by the refusals.
  CHECK(core.Info("t").error->code == ErrorCode::kNotFound);

  REQUIRE_FALSE(core.Create(TextStream("t")).error);
  CHECK(core.Append(Text("t", "")).error->code == ErrorCode::kEmptyBody);
  ds::AppendCommand untyped = Text("t", "x");
  untyped.content_type = "";
  CHECK(core.Append(untyped).error->code == ErrorCode::kMissingContentType);
  ds::AppendCommand no_id = Text("t", "x");
  no_id.producer = ds::ProducerFields{"", 0, 0};
  CHECK(core.Append(no_id).error->code == ErrorCode::kInvalidProducer);
  CHECK(core.Append(Text("missing", "x")).error->code == ErrorCode::kNotFound);
  CHECK(core.Info("t").stream.next_offset == 0);
}

TEST_CASE("a producer's outcomes carry its state", "[typed]") {
  Core core;
  REQUIRE_FALSE(core.Create(TextStream("p")).error);
  ds::AppendCommand a = Text("p", "one");
  a.producer = ds::ProducerFields{"writer", 1, 0};
  ds::AppendOutcome first = core.Append(a);
  REQUIRE_FALSE(first.error);
  CHECK(first.stored_with_producer);
  CHECK(first.producer_epoch == 1);
  CHECK(first.producer_seq == 0);
  // The retry is a duplicate: acknowledged, nothing stored.
  ds::AppendOutcome dup = core.Append(a);
  REQUIRE_FALSE(dup.error);
  CHECK_FALSE(dup.stored_with_producer);
  CHECK(dup.next_offset == 3);

  a.producer->seq = 5;
  ds::AppendOutcome gap = core.Append(a);
  REQUIRE(gap.error);
  CHECK(gap.error->code == ErrorCode::kProducerSeqGap);
  CHECK(gap.error->expected_seq == 1);
  CHECK(gap.error->received_seq == 5);

  a.producer = ds::ProducerFields{"writer", 0, 0};
  ds::AppendOutcome stale = core.Append(a);
  REQUIRE(stale.error);
  CHECK(stale.error->code == ErrorCode::kStaleEpoch);
  CHECK(stale.error->current_epoch == 1);
  CHECK(core.Info("p").stream.next_offset == 3);
}

TEST_CASE("a typed long-poll at the tail is answered by the next append", "[typed]") {
  Core core;
  REQUIRE_FALSE(core.Create(TextStream("lp")).error);
  ds::ReadCommand r;
  r.path = "lp";
  r.from = ds::ReadCommand::From::kNow;
  r.live = ds::LiveMode::kLongPoll;
  std::promise<ds::ReadOutcome> answer;
  auto future = answer.get_future();
  core.engine->Read(r, [&](ds::ReadOutcome o) { answer.set_value(std::move(o)); });
  CHECK(future.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  REQUIRE_FALSE(core.Append(Text("lp", "news")).error);
  ds::ReadOutcome o = future.get();  // woken by the append's commit
  REQUIRE_FALSE(o.error);
  CHECK(o.kind == ds::ReadOutcome::Kind::kData);
  CHECK(o.body == "news");
  CHECK_FALSE(o.cursor.empty());
}

TEST_CASE("typed core: streams are listed by prefix, and each commit reports what it changed") {
  std::mutex mu;
  std::vector<ds::StreamSummary> seen;
  Core core([&](const std::vector<ds::StreamSummary>& changed) {
    std::lock_guard<std::mutex> lock(mu);
    seen.insert(seen.end(), changed.begin(), changed.end());
  });
  REQUIRE_FALSE(core.Create(TextStream("events/a")).error);
  REQUIRE_FALSE(core.Create(TextStream("events/b")).error);
  REQUIRE_FALSE(core.Create(TextStream("other")).error);
  REQUIRE_FALSE(core.Append(Text("events/a", "hello")).error);
  // A create that changes nothing (the same again) and a refused append report nothing.
  core.Create(TextStream("events/a"));
  core.Append(Text("missing", "x"));
  {
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(seen.size() == 4);
    CHECK(seen[0].path == "events/a");
    CHECK(seen[0].tail == 0);
    CHECK(seen[0].created_at_ms == 1800000000000);
    CHECK(seen[3].path == "events/a");
    CHECK(seen[3].tail == 5);
  }
  std::vector<ds::StreamSummary> listed = core.engine->ListStreams("events/");
  std::sort(listed.begin(), listed.end(),
            [](const auto& x, const auto& y) { return x.path < y.path; });
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].path == "events/a");
  CHECK(listed[0].tail == 5);
  CHECK(listed[1].path == "events/b");
  CHECK(core.engine->ListStreams("").size() == 3);
  REQUIRE_FALSE(core.Delete("events/b").error);
  CHECK(core.engine->ListStreams("events/").size() == 1);
}
