// tests/unit/util/node_ring_test.cc: NodeRing (node_ring.h) picks the node
// nginx's `hash $key consistent` picks. The expected owners were read off
// nginx 1.22 (Debian 12) with three upstream servers that answer their own
// names, for the same keys (percent-decoded, as nginx's $uri is).
#include <catch2/catch.hpp>
#include <map>

#include "durablestreams/node_ring.h"

namespace ds = durablestreams;

namespace {

ds::NodeRing Ring(std::string_view self = "n1") {
  auto nodes = ds::NodeRing::Parse("n1=127.0.0.1:18101,n2=127.0.0.1:18102,n3=127.0.0.1:18103");
  REQUIRE(nodes.ok());
  auto ring = ds::NodeRing::Make(*nodes, self);
  REQUIRE(ring.ok());
  return std::move(ring).value();
}

}  // namespace

TEST_CASE("node ring: CRC-32 is the IEEE one") {
  CHECK(ds::NodeRing::Crc32("123456789") == 0xCBF43926u);
  CHECK(ds::NodeRing::Crc32("") == 0u);
}

TEST_CASE("node ring: owners as nginx picks them") {
  const std::map<std::string, std::string> nginx = {
      {"a", "n2"},          {"b", "n1"},          {"c", "n1"},
      {"chat/42", "n3"},    {"chat/room-1", "n2"}, {"p/stream 1", "n1"},
      {"_default/x", "n2"}, {"\xC3\xA9t\xC3\xA9", "n2"}, {"0", "n1"},
      {"1", "n3"},          {"2", "n1"},          {"3", "n3"},
      {"4", "n3"},          {"5", "n1"},          {"6", "n1"},
      {"7", "n2"},          {"8", "n1"},          {"9", "n1"},
      {"orders/2026/12", "n1"},
      {"very/long/path/with/many/segments/and/more", "n2"},
  };
  ds::NodeRing ring = Ring();
  for (const auto& [key, owner] : nginx) {
    INFO(key);
    CHECK(ring.OwnerOf(key).name == owner);
    CHECK(ring.Owns(key) == (owner == "n1"));
  }
  CHECK(Ring("n3").Owns("chat/42"));
}

TEST_CASE("node ring: keys spread, and a new node takes keys only for itself") {
  ds::NodeRing three = Ring();
  auto nodes = ds::NodeRing::Parse(
      "n1=127.0.0.1:18101,n2=127.0.0.1:18102,n3=127.0.0.1:18103,n4=127.0.0.1:18104");
  REQUIRE(nodes.ok());
  auto four = ds::NodeRing::Make(*nodes, "n4");
  REQUIRE(four.ok());
  std::map<std::string, int> counts;
  int moved = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string key = "stream/" + std::to_string(i);
    const std::string& before = three.OwnerOf(key).name;
    const std::string& after = four->OwnerOf(key).name;
    counts[before]++;
    if (before != after) {
      CHECK(after == "n4");
      ++moved;
    }
  }
  for (const auto& [name, n] : counts) {
    INFO(name);
    CHECK(n > 6000);  // a third each would be 10,000
  }
  CHECK(moved > 3000);
  CHECK(moved < 12000);
}

TEST_CASE("node ring: bad lists are refused") {
  CHECK_FALSE(ds::NodeRing::Parse("n1").ok());
  CHECK_FALSE(ds::NodeRing::Parse("=127.0.0.1:1").ok());
  CHECK_FALSE(ds::NodeRing::Parse("n1=").ok());
  auto make = [](std::string_view list, std::string_view self) {
    auto nodes = ds::NodeRing::Parse(list);
    return nodes.ok() && ds::NodeRing::Make(*nodes, self).ok();
  };
  CHECK(make("n1=h:1", "n1"));
  CHECK_FALSE(make("", "n1"));
  CHECK_FALSE(make("n1=h:1", "n2"));
  CHECK_FALSE(make("n1=h:1,n1=h:2", "n1"));
  CHECK_FALSE(make("n1=h:1,n2=h:1", "n1"));
  CHECK_FALSE(make("n 1=h:1", "n 1"));
  CHECK_FALSE(make("n1/x=h:1", "n1/x"));
}
