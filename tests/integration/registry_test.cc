// The registry stream against the real server (docs/registry.md): creates
// and deletes racing over a few names leave a registry whose events replay
// to exactly the streams there are, before and after kill -9; one registry
// per project under project auth; --registry off.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_projects.h"

namespace {

using dstest::Http;
const std::string kServer = DS_SERVER_BINARY;

// Replays a registry body: the set of paths it says exist. Counts an insert
// of a path already there, or a delete of one not there, as a phantom.
std::set<std::string> Replay(const std::string& body, long* phantoms) {
  std::set<std::string> live;
  simdjson::dom::parser parser;
  simdjson::dom::array events;
  REQUIRE(!parser.parse(body).get_array().get(events));
  for (simdjson::dom::element e : events) {
    std::string_view key, op;
    REQUIRE(!e["key"].get_string().get(key));
    REQUIRE(!e["headers"]["operation"].get_string().get(op));
    if (op == "insert") {
      std::string_view path;
      REQUIRE(!e["value"]["path"].get_string().get(path));
      CHECK(path == key);
      *phantoms += live.insert(std::string(key)).second ? 0 : 1;
    } else {
      REQUIRE(op == "delete");
      *phantoms += live.erase(std::string(key)) ? 0 : 1;
    }
  }
  return live;
}

}  // namespace

TEST_CASE("registry: racing creates and deletes replay to the streams there are, after kill -9 too") {
  dstest::TempDir dir;
  constexpr int kNames = 40;
  auto existing = [&](int port) {
    std::set<std::string> out;
    for (int i = 0; i < kNames; ++i) {
      std::string path = "r/" + std::to_string(i);
      if (Http(port, "HEAD", "/v1/stream/" + path).status == 200) out.insert(path);
    }
    return out;
  };
  {
    dstest::ServerProcess server(kServer, dir.path());
    int port = server.port();
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([port, t] {
        std::mt19937 rng(t);
        for (int i = 0; i < 150; ++i) {
          std::string target = "/v1/stream/r/" + std::to_string(rng() % kNames);
          Http(port, rng() % 2 ? "PUT" : "DELETE", target, {{"Content-Type", "text/plain"}});
        }
      });
    }
    for (auto& t : threads) t.join();
    long phantoms = 0;
    std::set<std::string> replayed =
        Replay(Http(port, "GET", "/v1/stream/__registry__?offset=-1").body, &phantoms);
    CHECK(phantoms == 0);
    CHECK(replayed == existing(port));
    CHECK(!replayed.empty());
    // Clients cannot write it.
    CHECK(Http(port, "POST", "/v1/stream/__registry__", {{"Content-Type", "application/json"}},
               "{}").status == 405);
    CHECK(Http(port, "DELETE", "/v1/stream/__registry__").status == 405);
    server.Kill(SIGKILL);
  }
  dstest::ServerProcess server(kServer, dir.path());
  long phantoms = 0;
  std::set<std::string> replayed =
      Replay(Http(server.port(), "GET", "/v1/stream/__registry__?offset=-1").body, &phantoms);
  CHECK(phantoms == 0);
  CHECK(replayed == existing(server.port()));
}

TEST_CASE("registry: one per project under project auth; --registry off keeps none") {
  dstest::TempDir dir;
  dstest::TestProjects projects(dir.path(), {"a", "b"});
  auto token = [&](const std::string& project, durablestreams::Scope scope) {
    return projects.Bearer(project, scope);
  };
  using durablestreams::Scope;
  dstest::ServerProcess server(kServer, dir.path(), {"--auth", "jwt"});
  int port = server.port();
  REQUIRE(Http(port, "PUT", "/v1/stream/a/one", token("a", Scope::kWrite)).status == 201);
  REQUIRE(Http(port, "PUT", "/v1/stream/b/two", token("b", Scope::kWrite)).status == 201);
  long phantoms = 0;
  auto a = Replay(
      Http(port, "GET", "/v1/stream/a/__registry__?offset=-1", token("a", Scope::kRead)).body,
      &phantoms);
  CHECK(a == std::set<std::string>{"a/one"});
  CHECK(Http(port, "GET", "/v1/stream/a/__registry__?offset=-1", token("b", Scope::kRead))
            .status == 401);
  CHECK(Http(port, "POST", "/v1/stream/a/__registry__", token("a", Scope::kManage), "{}").status ==
        405);
  dstest::TempDir off_dir;
  dstest::ServerProcess off(kServer, off_dir.path(), {"--registry", "off"});
  REQUIRE(Http(off.port(), "PUT", "/v1/stream/x").status == 201);
  CHECK(Http(off.port(), "HEAD", "/v1/stream/__registry__").status == 404);
}
