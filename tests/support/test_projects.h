// tests/support/test_projects.h: projects made in a data directory before
// its server starts (project auth), and tokens of theirs, for the tests of
// the real server under --auth jwt.
#ifndef DURABLESTREAMS_TESTS_SUPPORT_TEST_PROJECTS_H_
#define DURABLESTREAMS_TESTS_SUPPORT_TEST_PROJECTS_H_

#include <catch2/catch.hpp>
#include <chrono>
#include <initializer_list>
#include <map>
#include <string>

#include "durablestreams/jwt.h"
#include "durablestreams/projects.h"
#include "support/raw_http.h"

namespace dstest {

struct TestProjects {
  std::map<std::string, std::string> secret;  // project -> its first secret

  TestProjects(const std::string& data_dir, std::initializer_list<const char*> names) {
    auto store = durablestreams::ProjectStore::Open(data_dir);
    REQUIRE(store.ok());
    for (const char* p : names) {
      auto made = (*store)->Create(p);
      REQUIRE(made.ok());
      secret[p] = made->secrets[0];
    }
  }

  // A token of `project` with `scope`, valid for an hour; for one stream if
  // `stream` is not empty.
  std::string Token(const std::string& project, durablestreams::Scope scope,
                    const std::string& stream = "") {
    durablestreams::TokenClaims c;
    c.sub = project;
    c.scope = scope;
    if (!stream.empty()) c.stream_id = stream;
    c.exp = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count() +
            3600;
    return durablestreams::MintToken(c, secret[project]);
  }

  // The same as an Authorization header.
  Headers Bearer(const std::string& project, durablestreams::Scope scope,
                 const std::string& stream = "") {
    return {{"Authorization", "Bearer " + Token(project, scope, stream)}};
  }
};

}  // namespace dstest

#endif  // DURABLESTREAMS_TESTS_SUPPORT_TEST_PROJECTS_H_
