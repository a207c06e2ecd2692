// Unit tests of subscription patterns (lib/subscriptions/glob.h).
#include "subscriptions/glob.h"

#include <catch2/catch.hpp>

using durablestreams::subscriptions::Glob;

TEST_CASE("glob: * is one segment, ** any number, the rest literal") {
  auto row = GENERATE(table<const char*, const char*, bool>({
      {"events/*", "events/abc", true},
      {"events/*", "events", false},
      {"events/*", "events/a/b", false},
      {"events/**", "events", true},
      {"events/**", "events/a/b/c", true},
      {"**", "anything/at/all", true},
      {"**/end", "end", true},
      {"**/end", "a/b/end", true},
      {"**/end", "a/b/ending", false},
      {"a/**/b/**/c", "a/b/c", true},
      {"a/**/b/**/c", "a/x/b/y/z/c", true},
      {"a/**/b/**/c", "a/x/y/c", false},
      {"*/*", "a/b", true},
      {"*/*", "a", false},
      {"literal", "literal", true},
      {"literal", "literal2", false},
      {"a/*/c", "a//c", true},  // paths are checked elsewhere; a segment is a segment
  }));
  CAPTURE(std::get<0>(row), std::get<1>(row));
  auto g = Glob::Parse(std::get<0>(row));
  REQUIRE(g.ok());
  CHECK(g->Matches(std::get<1>(row)) == std::get<2>(row));
}

TEST_CASE("glob: a wildcard inside a segment, an empty segment or a huge pattern is refused") {
  for (const char* bad : {"", "user-*", "a/**b", "/a", "a/", "a//b", "***"}) {
    CAPTURE(bad);
    CHECK_FALSE(Glob::Parse(bad).ok());
  }
  std::string many;
  for (int i = 0; i < 65; ++i) many += i ? "/x" : "x";
  CHECK_FALSE(Glob::Parse(many).ok());
  CHECK_FALSE(Glob::Parse(std::string(1025, 'a')).ok());
}

TEST_CASE("glob: many ** stay linear") {
  std::string pattern, path;
  for (int i = 0; i < 30; ++i) pattern += "**/";
  pattern += "z";
  for (int i = 0; i < 60; ++i) path += "a/";
  path += "b";
  auto g = Glob::Parse(pattern);
  REQUIRE(g.ok());
  CHECK_FALSE(g->Matches(path));
  std::string many_stars;
  for (int i = 0; i < 20; ++i) many_stars += "**/x/";
  many_stars += "y";
  auto h = Glob::Parse(many_stars);
  REQUIRE(h.ok());
  std::string long_path;
  for (int i = 0; i < 500; ++i) long_path += "x/";
  long_path += "q";
  CHECK_FALSE(h->Matches(long_path));
}
