// tests/unit/engine/memory_storage_test.cc: the engine over MemoryStorage, the
// in-memory Storage for unit tests: no files, no sleeps.
#include <catch2/catch.hpp>

#include <memory>

#include "durablestreams/durablestreams.h"
#include "support/engine_fixture.h"

namespace ds = durablestreams;
using ds::Method;

namespace {

// An engine over `storage`, with the fixture's fake clock.
dstest::EngineFixture OverMemory(const std::shared_ptr<ds::MemoryStorage>& storage) {
  ds::Options o;
  o.storage = storage;
  return dstest::EngineFixture(o);
}

}  // namespace

TEST_CASE("the engine over MemoryStorage finds what it committed when reopened", "[memory]") {
  auto storage = std::make_shared<ds::MemoryStorage>();
  dstest::EngineFixture f = OverMemory(storage);
  REQUIRE(f.Do(Method::kPut, "/t", {{"Content-Type", "text/plain"}}).status == 201);
  REQUIRE(f.Do(Method::kPost, "/t", {{"Content-Type", "text/plain"}}, "ab").status == 204);
  std::vector<std::pair<std::string, std::string>> producer = {
      {"Content-Type", "text/plain"}, {"Producer-Id", "p"}, {"Producer-Epoch", "0"},
      {"Producer-Seq", "0"}};
  REQUIRE(f.Do(Method::kPost, "/t", producer, "cd").status == 200);
  REQUIRE(f.Do(Method::kPut, "/j", {{"Content-Type", "application/json"}}).status == 201);
  REQUIRE(f.Do(Method::kPost, "/j", {{"Content-Type", "application/json"}}, "[1,[2],{\"a\":3}]")
              .status == 204);
  CHECK(storage->applied() > 0);

  f.Open();  // a restart over the same storage
  auto t = f.Do(Method::kGet, "/t", {}, "", {{"offset", "-1"}});
  CHECK(t.status == 200);
  CHECK(t.body == "abcd");
  // The producer's state was committed too: its retry is a duplicate.
  CHECK(f.Do(Method::kPost, "/t", producer, "cd").status == 204);
  CHECK(f.Do(Method::kGet, "/t", {}, "", {{"offset", "-1"}}).body == "abcd");
  auto j = f.Do(Method::kGet, "/j", {}, "", {{"offset", "-1"}});
  CHECK(j.body == "[1,[2],{\"a\":3}]");
}

TEST_CASE("a commit MemoryStorage fails answers 507 and changes nothing", "[memory]") {
  auto storage = std::make_shared<ds::MemoryStorage>();
  dstest::EngineFixture f = OverMemory(storage);
  REQUIRE(f.Do(Method::kPut, "/t", {{"Content-Type", "text/plain"}}).status == 201);
  REQUIRE(f.Do(Method::kPost, "/t", {{"Content-Type", "text/plain"}}, "a").status == 204);
  auto head = f.Do(Method::kHead, "/t");
  REQUIRE(head.headers.Get("Stream-Next-Offset") != nullptr);
  const std::string before = *head.headers.Get("Stream-Next-Offset");

  storage->FailApplies(ds::Status::NoSpace("the test says the disk is full"));
  auto r = f.Do(Method::kPost, "/t", {{"Content-Type", "text/plain"}}, "b");
  CHECK(r.status == 507);
  CHECK(r.body.find("STORAGE_FULL") != std::string::npos);
  CHECK(f.Do(Method::kPut, "/u", {{"Content-Type", "text/plain"}}).status == 507);
  head = f.Do(Method::kHead, "/t");
  CHECK(*head.headers.Get("Stream-Next-Offset") == before);
  CHECK(f.Do(Method::kHead, "/u").status == 404);

  storage->FailApplies(ds::Status::OK());
  CHECK(f.Do(Method::kPost, "/t", {{"Content-Type", "text/plain"}}, "c").status == 204);
  f.Open();
  CHECK(f.Do(Method::kGet, "/t", {}, "", {{"offset", "-1"}}).body == "ac");
  CHECK(f.Do(Method::kHead, "/u").status == 404);
}
