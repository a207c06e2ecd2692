// Estuaries against the real server (docs/estuaries.md): every route and
// error as a table; copies of binary and JSON appends, in order, from the
// moment of subscribing; closed, deleted and expired session streams;
// links kept across kill -9; subscribe/unsubscribe racing a publisher; and
// the routes under project auth.
#include <simdjson.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/eventually.h"
#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_projects.h"

namespace {

using namespace std::chrono_literals;
using dstest::Http;
using dstest::Eventually;
using dstest::Reply;

const std::string kServer = DS_SERVER_BINARY;
const dstest::Headers kJson = {{"Content-Type", "application/json"}};
const dstest::Headers kText = {{"Content-Type", "text/plain"}};

std::string Code(const Reply& r) {
  simdjson::dom::parser parser;
  std::string_view code;
  if (parser.parse(r.body)["code"].get_string().get(code)) return {};
  return std::string(code);
}

std::string Body(const std::string& estuary_id) {
  return "{\"estuaryId\":\"" + estuary_id + "\"}";
}

// The whole stream at `path` from the beginning (one catch-up read).
std::string ReadAll(int port, const std::string& path) {
  return Http(port, "GET", path + "?offset=-1").body;
}

Reply Subscribe(int port, const std::string& project_stream, const std::string& id,
                const dstest::Headers& h = {}) {
  return Http(port, "POST", "/v1/estuary/subscribe/" + project_stream, h, Body(id));
}


}  // namespace

TEST_CASE("estuary: every route and error") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  REQUIRE(Http(port, "PUT", "/v1/stream/src", kJson).status == 201);
  REQUIRE(Http(port, "PUT", "/v1/stream/bin", kText).status == 201);
  REQUIRE(Http(port, "PUT", "/v1/stream/plain", kJson).status == 201);
  REQUIRE(Subscribe(port, "_default/src", "e1").status == 200);

  struct Row {
    const char* method;
    std::string target;
    std::string body;
    int status;
    const char* code;  // "" for a success
  };
  const std::string long_id(257, 'a');
  std::vector<Row> rows = {
      // subscribe
      {"POST", "/v1/estuary/subscribe/_default/src", Body("e1"), 200, ""},
      {"POST", "/v1/estuary/subscribe/_default/nope", Body("e1"), 404, "STREAM_NOT_FOUND"},
      {"POST", "/v1/estuary/subscribe/_default/src", "", 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", "[1]", 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", "{\"estuaryId\":7}", 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", Body(""), 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", Body("a/b"), 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", Body(".."), 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", Body("<script>"), 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", Body(long_id), 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", Body("plain"), 409, "STREAM_EXISTS"},
      {"POST", "/v1/estuary/subscribe/_default/bin", Body("e1"), 409, "CONTENT_TYPE_MISMATCH"},
      {"POST", "/v1/estuary/subscribe/_default/e1", Body("e2"), 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/subscribe/_default/src", Body("src"), 409, "STREAM_EXISTS"},
      {"PUT", "/v1/estuary/subscribe/_default/src", Body("e1"), 405, "METHOD_NOT_ALLOWED"},
      {"GET", "/v1/estuary/subscribe/_default/src", "", 405, "METHOD_NOT_ALLOWED"},
      {"POST", "/v1/estuary/subscribe/_default", Body("e1"), 404, "STREAM_NOT_FOUND"},
      {"POST", "/v1/estuary/subscribe/bad%20project/src", Body("e1"), 400, "BAD_REQUEST"},
      // unsubscribe
      {"DELETE", "/v1/estuary/subscribe/_default/src", Body("nope"), 404, "ESTUARY_NOT_FOUND"},
      {"DELETE", "/v1/estuary/subscribe/_default/src", Body("plain"), 404, "ESTUARY_NOT_FOUND"},
      {"DELETE", "/v1/estuary/subscribe/_default/src", "{", 400, "BAD_REQUEST"},
      {"DELETE", "/v1/estuary/subscribe/_default/nope", Body("e1"), 200, ""},
      // an estuary
      {"GET", "/v1/estuary/_default/e1", "", 200, ""},
      {"GET", "/v1/estuary/_default/nope", "", 404, "ESTUARY_NOT_FOUND"},
      {"GET", "/v1/estuary/_default/plain", "", 404, "ESTUARY_NOT_FOUND"},
      {"GET", "/v1/estuary/_default/a/b", "", 404, "STREAM_NOT_FOUND"},
      {"GET", "/v1/estuary/_default/%3Cx%3E", "", 400, "BAD_REQUEST"},
      {"POST", "/v1/estuary/_default/e1", "", 405, "METHOD_NOT_ALLOWED"},
      {"DELETE", "/v1/estuary/_default/plain", "", 404, "ESTUARY_NOT_FOUND"},
      {"DELETE", "/v1/estuary/_default/nope", "", 404, "ESTUARY_NOT_FOUND"},
      {"GET", "/v1/estuary/_default", "", 404, "STREAM_NOT_FOUND"},
  };
  for (const Row& row : rows) {
    INFO(row.method << " " << row.target << " " << row.body);
    Reply r = Http(port, row.method, row.target, kJson, row.body);
    CHECK(r.status == row.status);
    CHECK(r.headers["content-type"] == "application/json");
    if (*row.code) CHECK(Code(r) == row.code);
    // Nothing an attacker sends comes back unescaped.
    CHECK(r.body.find("<script>") == std::string::npos);
  }
  // The refused requests changed nothing: one link, no new streams.
  Reply info = Http(port, "GET", "/v1/estuary/_default/e1");
  CHECK(info.body.find("\"subscriptions\":[{\"streamId\":\"src\"") != std::string::npos);
  CHECK(info.body.find("\"contentType\":\"application/json\"") != std::string::npos);
  for (const char* p : {"/v1/stream/e2", "/v1/stream/nope", "/v1/stream/a"}) {
    CHECK(Http(port, "HEAD", p).status == 404);
  }
  CHECK(Http(port, "HEAD", "/v1/stream/plain").status == 200);
  // A DELETE of the estuary deletes its session stream.
  Reply del = Http(port, "DELETE", "/v1/estuary/_default/e1");
  CHECK(del.status == 200);
  CHECK(del.body == "{\"estuaryId\":\"e1\",\"deleted\":true}");
  CHECK(Http(port, "HEAD", "/v1/stream/e1").status == 404);
  // OPTIONS is a CORS preflight.
  CHECK(Http(port, "OPTIONS", "/v1/estuary/subscribe/_default/src").status == 204);
}

TEST_CASE("estuary: copies from the tail at subscribe, in order, JSON messages kept whole") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  REQUIRE(Http(port, "PUT", "/v1/stream/p1/a", kJson, "[1]").status == 201);
  REQUIRE(Http(port, "PUT", "/v1/stream/p1/b", kJson).status == 201);
  Reply made = Subscribe(port, "p1/a", "sess");
  REQUIRE(made.status == 200);
  CHECK(made.body.find("\"estuaryStreamPath\":\"/v1/stream/p1/sess\"") != std::string::npos);
  CHECK(made.body.find("\"isNewEstuary\":true") != std::string::npos);
  CHECK(made.body.find("\"streamId\":\"a\"") != std::string::npos);
  Reply again = Subscribe(port, "p1/b", "sess");
  CHECK(again.body.find("\"isNewEstuary\":false") != std::string::npos);
  CHECK(Http(port, "POST", "/v1/stream/p1/a", kJson, "[2,3]").status == 204);
  CHECK(Http(port, "POST", "/v1/stream/p1/b", kJson, "{\"x\":\"y\"}").status == 204);
  CHECK(Http(port, "POST", "/v1/stream/p1/a", kJson, "4").status == 204);
  // [1] came before the subscribe: not copied.
  CHECK(ReadAll(port, "/v1/stream/p1/sess") == "[2,3,{\"x\":\"y\"},4]");
  // The session stream's messages keep their boundaries: offset after the
  // first copy reads the rest.
  Reply head = Http(port, "HEAD", "/v1/stream/p1/sess");
  CHECK(head.headers["content-type"] == "application/json");
  Reply info = Http(port, "GET", "/v1/estuary/p1/sess");
  CHECK(info.body.find("{\"streamId\":\"a\",\"subscribedAt\":") != std::string::npos);
  CHECK(info.body.find("{\"streamId\":\"b\",\"subscribedAt\":") != std::string::npos);

  // An idempotent producer's duplicate is not copied again.
  dstest::Headers prod = kJson;
  prod.push_back({"Producer-Id", "w"});
  prod.push_back({"Producer-Epoch", "0"});
  prod.push_back({"Producer-Seq", "0"});
  CHECK(Http(port, "POST", "/v1/stream/p1/b", prod, "5").status == 200);
  CHECK(Http(port, "POST", "/v1/stream/p1/b", prod, "5").status == 204);
  CHECK(ReadAll(port, "/v1/stream/p1/sess") == "[2,3,{\"x\":\"y\"},4,5]");

  // A live reader of the session stream sees a copy.
  std::thread publisher([&] {
    std::this_thread::sleep_for(200ms);
    Http(port, "POST", "/v1/stream/p1/a", kJson, "6");
  });
  Reply lp = Http(port, "GET", "/v1/stream/p1/sess?offset=" +
                                   Http(port, "HEAD", "/v1/stream/p1/sess")
                                       .headers["stream-next-offset"] +
                                   "&live=long-poll");
  publisher.join();
  CHECK(lp.status == 200);
  CHECK(lp.body == "[6]");

  // Unsubscribed: no more copies from b; a still copies.
  Reply un = Http(port, "DELETE", "/v1/estuary/subscribe/p1/b", {}, Body("sess"));
  CHECK(un.status == 200);
  CHECK(un.body.find("\"success\":true") != std::string::npos);
  CHECK(Http(port, "POST", "/v1/stream/p1/b", kJson, "7").status == 204);
  CHECK(Http(port, "POST", "/v1/stream/p1/a", kJson, "8").status == 204);
  CHECK(ReadAll(port, "/v1/stream/p1/sess") == "[2,3,{\"x\":\"y\"},4,5,6,8]");

  // Closed by its owner: takes no more copies; the source goes on.
  dstest::Headers close = {{"Stream-Closed", "true"}};
  CHECK(Http(port, "POST", "/v1/stream/p1/sess", close).status == 204);
  CHECK(Http(port, "POST", "/v1/stream/p1/a", kJson, "9").status == 204);
  CHECK(ReadAll(port, "/v1/stream/p1/sess") == "[2,3,{\"x\":\"y\"},4,5,6,8]");

  // Deleting the source removes it from the estuary's list.
  CHECK(Http(port, "DELETE", "/v1/stream/p1/a").status == 204);
  Reply after = Http(port, "GET", "/v1/estuary/p1/sess");
  CHECK(after.body.find("\"subscriptions\":[]") != std::string::npos);
  // A session stream is an ordinary stream: deleted by the stream API too.
  CHECK(Http(port, "DELETE", "/v1/stream/p1/sess").status == 204);
  CHECK(Http(port, "GET", "/v1/estuary/p1/sess").status == 404);
}

TEST_CASE("estuary: binary copies, links kept across kill -9, expiry after --estuary-ttl") {
  dstest::TempDir dir;
  {
    dstest::ServerProcess server(kServer, dir.path());
    int port = server.port();
    REQUIRE(Http(port, "PUT", "/v1/stream/bin", kText).status == 201);
    REQUIRE(Subscribe(port, "_default/bin", "s1").status == 200);
    REQUIRE(Subscribe(port, "_default/bin", "s2").status == 200);
    CHECK(Http(port, "POST", "/v1/stream/bin", kText, "one|").status == 204);
    server.Kill(SIGKILL);
  }
  {
    dstest::ServerProcess server(kServer, dir.path(), {"--estuary-ttl", "2s"});
    int port = server.port();
    CHECK(Http(port, "POST", "/v1/stream/bin", kText, "two|").status == 204);
    CHECK(ReadAll(port, "/v1/stream/s1") == "one|two|");
    CHECK(ReadAll(port, "/v1/stream/s2") == "one|two|");
    // s1 is renewed (2 s from now); s2 keeps its 24 h.
    Reply renewed = Subscribe(port, "_default/bin", "s1");
    CHECK(renewed.body.find("\"isNewEstuary\":false") != std::string::npos);
    CHECK(Eventually([&] { return Http(port, "HEAD", "/v1/stream/s1").status == 404; }, 10s));
    CHECK(Http(port, "GET", "/v1/estuary/_default/s1").status == 404);
    CHECK(Http(port, "POST", "/v1/stream/bin", kText, "three|").status == 204);
    CHECK(ReadAll(port, "/v1/stream/s2") == "one|two|three|");
    // A new subscribe makes a new, empty session stream.
    Reply fresh = Subscribe(port, "_default/bin", "s1");
    CHECK(fresh.body.find("\"isNewEstuary\":true") != std::string::npos);
    CHECK(ReadAll(port, "/v1/stream/s1").empty());
  }
}

TEST_CASE("estuary: subscribe and unsubscribe racing a publisher") {
  // Every message published while subscribed (from the subscribe's answer
  // to the unsubscribe's request) is in the session stream; none published
  // wholly outside a subscription (from the unsubscribe's answer to the
  // next subscribe's request) is; each copy once, in order.
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  REQUIRE(Http(port, "PUT", "/v1/stream/race", kText).status == 201);
  using Clock = std::chrono::steady_clock;
  struct Span {
    Clock::time_point sent, answered;
  };
  std::vector<Span> published;  // message i
  std::vector<std::pair<Span, Span>> windows;  // (subscribe, unsubscribe)
  std::atomic<bool> stop{false};
  std::atomic<bool> refused{false};
  std::thread publisher([&] {
    for (int i = 0; !stop; ++i) {
      Span s;
      s.sent = Clock::now();
      Reply r = Http(port, "POST", "/v1/stream/race", kText, std::to_string(i) + "\n");
      s.answered = Clock::now();
      if (r.status != 204) {
        refused = true;
        return;
      }
      published.push_back(s);
    }
  });
  for (int k = 0; k < 30; ++k) {
    Span sub, unsub;
    sub.sent = Clock::now();
    REQUIRE(Subscribe(port, "_default/race", "racer").status == 200);
    sub.answered = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(k % 7));
    unsub.sent = Clock::now();
    REQUIRE(Http(port, "DELETE", "/v1/estuary/subscribe/_default/race", {}, Body("racer")).status ==
            200);
    unsub.answered = Clock::now();
    windows.push_back({sub, unsub});
    std::this_thread::sleep_for(std::chrono::milliseconds(k % 5));
  }
  stop = true;
  publisher.join();
  REQUIRE(!refused);
  std::vector<int> copies;
  {
    std::string all = ReadAll(port, "/v1/stream/racer");
    size_t at = 0;
    while (at < all.size()) {
      size_t nl = all.find('\n', at);
      copies.push_back(std::stoi(all.substr(at, nl - at)));
      at = nl + 1;
    }
  }
  for (size_t i = 1; i < copies.size(); ++i) REQUIRE(copies[i] > copies[i - 1]);
  std::set<int> present(copies.begin(), copies.end());
  long must = 0, must_not = 0;
  for (size_t i = 0; i < published.size(); ++i) {
    const Span& p = published[i];
    bool inside = false, overlaps = false;
    for (const auto& [sub, unsub] : windows) {
      if (sub.answered <= p.sent && p.answered <= unsub.sent) inside = true;
      if (sub.sent <= p.answered && p.sent <= unsub.answered) overlaps = true;
    }
    INFO("message " << i);
    if (inside) {
      ++must;
      CHECK(present.count(static_cast<int>(i)) == 1);
    }
    if (!overlaps) {
      ++must_not;
      CHECK(present.count(static_cast<int>(i)) == 0);
    }
  }
  CHECK(must > 0);
  CHECK(must_not > 0);
}

TEST_CASE("estuary: under project auth, write on the source and read of the session stream") {
  dstest::TempDir dir;
  dstest::TestProjects projects(dir.path(), {"a", "b"});
  using durablestreams::Scope;
  auto token = [&](const std::string& project, Scope scope, const std::string& stream = "") {
    return projects.Bearer(project, scope, stream);
  };
  dstest::ServerProcess server(kServer, dir.path(), {"--auth", "jwt"});
  int port = server.port();
  REQUIRE(Http(port, "PUT", "/v1/stream/a/src", token("a", Scope::kWrite)).status == 201);
  const std::string sub = "a/src";
  CHECK(Subscribe(port, sub, "s").status == 401);
  CHECK(Subscribe(port, sub, "s", token("b", Scope::kWrite)).status == 401);
  CHECK(Subscribe(port, sub, "s", token("a", Scope::kRead)).status == 403);
  CHECK(Subscribe(port, sub, "s", token("a", Scope::kWrite, "other")).status == 403);
  CHECK(Http(port, "HEAD", "/v1/stream/a/s", token("a", Scope::kRead)).status == 404);
  CHECK(Subscribe(port, sub, "s", token("a", Scope::kWrite, "src")).status == 200);
  CHECK(Http(port, "POST", "/v1/stream/a/src", [&] {
          auto h = token("a", Scope::kWrite);
          h.push_back({"Content-Type", "application/octet-stream"});
          return h;
        }(), "x").status == 204);
  CHECK(Http(port, "GET", "/v1/estuary/a/s").status == 401);
  CHECK(Http(port, "GET", "/v1/estuary/a/s", token("b", Scope::kRead)).status == 401);
  CHECK(Http(port, "GET", "/v1/estuary/a/s", token("a", Scope::kRead)).status == 200);
  CHECK(Http(port, "GET", "/v1/stream/a/s?offset=-1", token("a", Scope::kRead)).body == "x");
  CHECK(Http(port, "GET", "/v1/stream/a/s?offset=-1").status == 401);  // never public
  CHECK(Http(port, "DELETE", "/v1/estuary/a/s", token("a", Scope::kRead)).status == 403);
  CHECK(Http(port, "DELETE", "/v1/estuary/subscribe/a/src", token("a", Scope::kRead), Body("s"))
            .status == 403);
  CHECK(Http(port, "DELETE", "/v1/estuary/a/s", token("a", Scope::kWrite)).status == 200);
}
