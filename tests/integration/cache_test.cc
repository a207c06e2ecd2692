// Cache semantics against the real server, on both transports: the
// Cache-Control, ETag and Vary of each case in docs/http.md's caching table.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_projects.h"

namespace {
const std::string kServer = DS_SERVER_BINARY;
const dstest::Headers kText = {{"Content-Type", "text/plain"}};
constexpr const char* kCatchUp = "public, max-age=60, stale-while-revalidate=300";
}  // namespace

TEST_CASE("cache: each case of the caching table") {
  dstest::TempDir dir;
  // Reads of at most 5 bytes: a read of the first message stops behind the tail.
  dstest::ServerProcess server(kServer, dir.path() + "/data",
                               {"--long-poll-timeout", "300ms", "--max-read-bytes", "5"});
  int port = server.port();
  using dstest::Http;
  REQUIRE(Http(port, "PUT", "/v1/stream/c/a", kText, "hello").status == 201);
  REQUIRE(Http(port, "POST", "/v1/stream/c/a", kText, " world").status == 204);
  dstest::Reply head = Http(port, "HEAD", "/v1/stream/c/a");
  std::string tail = head.headers["stream-next-offset"];
  CHECK(head.headers["cache-control"] == "no-store");

  // Data behind the tail: the same bytes forever.
  dstest::Reply data = Http(port, "GET", "/v1/stream/c/a?offset=-1");
  CHECK(data.body == "hello");
  CHECK(data.headers.count("stream-up-to-date") == 0);
  CHECK(data.headers["cache-control"] == kCatchUp);
  REQUIRE(!data.headers["etag"].empty());
  dstest::Reply again =
      Http(port, "GET", "/v1/stream/c/a?offset=-1", {{"If-None-Match", data.headers["etag"]}});
  CHECK(again.status == 304);
  CHECK(again.headers["cache-control"] == kCatchUp);
  CHECK(again.body.empty());

  // A read that reaches the tail (with data or without) is not kept.
  dstest::Reply rest = Http(port, "GET", "/v1/stream/c/a?offset=" + data.headers["stream-next-offset"]);
  CHECK(rest.body == " world");
  CHECK(rest.headers["cache-control"] == "no-store");
  dstest::Reply rest304 = Http(port, "GET", "/v1/stream/c/a?offset=" + data.headers["stream-next-offset"],
                               {{"If-None-Match", rest.headers["etag"]}});
  CHECK(rest304.status == 304);
  CHECK(rest304.headers["cache-control"] == "no-store");
  dstest::Reply empty = Http(port, "GET", "/v1/stream/c/a?offset=" + tail);
  CHECK(empty.status == 200);
  CHECK(empty.body.empty());
  CHECK(empty.headers["cache-control"] == "no-store");
  CHECK(Http(port, "GET", "/v1/stream/c/a?offset=now").headers["cache-control"] == "no-store");

  // Long-poll: a 204 is not stored, a 200 briefly.
  dstest::Reply timeout =
      Http(port, "GET", "/v1/stream/c/a?offset=" + tail + "&live=long-poll");
  CHECK(timeout.status == 204);
  CHECK(timeout.headers["cache-control"] == "no-store");
  std::thread writer([port] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Http(port, "POST", "/v1/stream/c/a", kText, "!");
  });
  dstest::Reply woken = Http(port, "GET", "/v1/stream/c/a?offset=" + tail + "&live=long-poll");
  writer.join();
  CHECK(woken.status == 200);
  CHECK(woken.body == "!");
  CHECK(woken.headers["cache-control"] == "public, max-age=20");
  CHECK(!woken.headers["etag"].empty());

  // SSE: no-cache.
  REQUIRE(Http(port, "POST", "/v1/stream/c/a", {{"Content-Type", "text/plain"},
                                                {"Stream-Closed", "true"}})
              .status == 204);
  dstest::Reply sse = Http(port, "GET", "/v1/stream/c/a?offset=-1&live=sse");
  CHECK(sse.headers["cache-control"] == "no-cache");
  CHECK(sse.headers["x-accel-buffering"] == "no");

  // A stream's time left caps the lifetimes.
  for (const char* ttl : {"30", "100"}) {
    std::string path = std::string("/v1/stream/c/ttl") + ttl;
    REQUIRE(Http(port, "PUT", path, {{"Content-Type", "text/plain"}, {"Stream-TTL", ttl}}, "abcde")
                .status == 201);
    REQUIRE(Http(port, "POST", path, kText, "f").status == 204);
  }
  CHECK(Http(port, "GET", "/v1/stream/c/ttl30?offset=-1").headers["cache-control"] ==
        "public, max-age=30");
  CHECK(Http(port, "GET", "/v1/stream/c/ttl100?offset=-1").headers["cache-control"] ==
        "public, max-age=60, stale-while-revalidate=40");

  // CORS: the answer depends on Origin.
  dstest::Reply cors = Http(port, "GET", "/v1/stream/c/ttl30?offset=-1", {{"Origin", "https://a.example"}});
  CHECK(cors.headers["access-control-allow-origin"] == "*");
}

TEST_CASE("coalescing: 1,000 concurrent identical reads make one storage read") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path() + "/data", {"--registry", "off"});
  int port = server.port();
  using dstest::Http;
  std::string body(100000, 'z');
  REQUIRE(Http(port, "PUT", "/v1/stream/big", kText, body).status == 201);
  std::atomic<int> ok{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 100; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        dstest::Reply r = Http(port, "GET", "/v1/stream/big?offset=-1");
        if (r.status == 200 && r.body == body) ++ok;
      }
    });
  }
  for (auto& t : readers) t.join();
  CHECK(ok == 1000);
  std::string m = Http(port, "GET", "/metrics").body;
  CHECK(m.find("\ndurable_streams_storage_reads_total 1\n") != std::string::npos);
  CHECK(m.find("\ndurable_streams_reads_coalesced_total 999\n") != std::string::npos);
  // New data is a new tail: the next read reaches the store.
  REQUIRE(Http(port, "POST", "/v1/stream/big", kText, "!").status == 204);
  CHECK(Http(port, "GET", "/v1/stream/big?offset=-1").body == body + "!");
  m = Http(port, "GET", "/metrics").body;
  CHECK(m.find("\ndurable_streams_storage_reads_total 2\n") != std::string::npos);
}

TEST_CASE("cache under --auth jwt: private unless public or read with the reader key") {
  dstest::TempDir dir;
  std::string data = dir.path() + "/data";
  dstest::TestProjects projects(data, {"p"});
  dstest::ServerProcess server(kServer, data, {"--auth", "jwt", "--max-read-bytes", "4"});
  int port = server.port();
  using dstest::Http;
  dstest::Headers write = projects.Bearer("p", durablestreams::Scope::kWrite);
  write.push_back({"Content-Type", "text/plain"});
  dstest::Reply priv = Http(port, "PUT", "/v1/stream/p/priv", write, "1234");
  REQUIRE(priv.status == 201);
  std::string key = priv.headers["stream-reader-key"];
  REQUIRE(!key.empty());
  REQUIRE(Http(port, "POST", "/v1/stream/p/priv", write, "5678").status == 204);
  REQUIRE(Http(port, "PUT", "/v1/stream/p/pub?public=true", write, "open").status == 201);
  REQUIRE(Http(port, "POST", "/v1/stream/p/pub", write, "more").status == 204);
  dstest::Headers read = projects.Bearer("p", durablestreams::Scope::kRead);
  CHECK(Http(port, "GET", "/v1/stream/p/priv?offset=-1", read).headers["cache-control"] ==
        "private, no-store");
  CHECK(Http(port, "GET", "/v1/stream/p/priv?offset=-1&rk=" + key, read)
            .headers["cache-control"] == kCatchUp);
  CHECK(Http(port, "GET", "/v1/stream/p/pub?offset=-1").headers["cache-control"] == kCatchUp);
  CHECK(Http(port, "GET", "/v1/stream/p/priv?offset=-1").status == 401);
}
