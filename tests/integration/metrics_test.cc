// Operations against the real server, on both transports (DS_TEST_TRANSPORT):
// GET /metrics (exact counts after a known workload, promtool's check of a
// scrape taken under load, its protection under --auth jwt), the inspect
// API and Server-Timing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "support/eventually.h"
#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_projects.h"

namespace {

const std::string kServer = DS_SERVER_BINARY;
const dstest::Headers kText = {{"Content-Type", "text/plain"}};

// The value of the series `series` (name with its labels, as written) in a
// scrape; -1 when it is not there.
double Value(const std::string& scrape, const std::string& series) {
  size_t at = 0;
  while ((at = scrape.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || scrape[at - 1] == '\n') return std::stod(scrape.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

std::string Scrape(int port, const dstest::Headers& h = {}) {
  dstest::Reply r = dstest::Http(port, "GET", "/metrics", h);
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
  return r.body;
}

// promtool check metrics (Debian's prometheus package) on `scrape`: its
// output, "" when it found nothing, or "skip" without promtool.
std::string Promtool(const dstest::TempDir& dir, const std::string& scrape) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) return "skip";
  std::string file = dir.path() + "/scrape.txt";
  std::ofstream(file) << scrape;
  std::string out;
  FILE* p = popen(("promtool check metrics < " + file + " 2>&1").c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  int rc = p ? pclose(p) : -1;
  if (rc != 0 && out.empty()) out = "promtool failed";
  return out;
}

}  // namespace

TEST_CASE("metrics: exact counts after a known workload; promtool passes a scrape under load") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path() + "/data", {"--registry", "off"});
  int port = server.port();
  using dstest::Http;
  REQUIRE(Http(port, "PUT", "/v1/stream/m/a", kText).status == 201);
  REQUIRE(Http(port, "PUT", "/v1/stream/m/j", {{"Content-Type", "application/json"}}).status ==
          201);
  for (int i = 0; i < 8; ++i) {
    REQUIRE(Http(port, "POST", "/v1/stream/m/a", kText, "0123456789").status == 204);
  }
  dstest::Headers producer = {{"Content-Type", "text/plain"},
                              {"Producer-Id", "p"},
                              {"Producer-Epoch", "0"},
                              {"Producer-Seq", "0"}};
  REQUIRE(Http(port, "POST", "/v1/stream/m/a", producer, "abc").status == 200);
  REQUIRE(Http(port, "POST", "/v1/stream/m/a", producer, "abc").status == 204);  // duplicate
  REQUIRE(Http(port, "POST", "/v1/stream/m/j", {{"Content-Type", "application/json"}},
               "[1,2,3]")
              .status == 204);
  REQUIRE(Http(port, "POST", "/v1/stream/m/nope", kText, "x").status == 404);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(Http(port, "GET", "/v1/stream/m/a?offset=-1").status == 200);
  }
  REQUIRE(Http(port, "GET", "/v1/stream/m/nope?offset=-1").status == 404);

  std::string s = Scrape(port);
  INFO(s);
  // 8 plain appends, the producer's append and its duplicate, the JSON batch.
  CHECK(Value(s, "durable_streams_appends_total") == 11);
  CHECK(Value(s, "durable_streams_messages_appended_total") == 8 + 1 + 3);
  CHECK(Value(s, "durable_streams_appended_bytes_total") == 80 + 3 + 3);
  // Three identical reads: one storage read, two answered from it.
  CHECK(Value(s, "durable_streams_storage_reads_total") == 1);
  CHECK(Value(s, "durable_streams_reads_coalesced_total") == 2);
  CHECK(Value(s, "durable_streams_streams") == 2);
  CHECK(Value(s, "durable_streams_fanout_copies_total") == 0);
  CHECK(Value(s, "durable_streams_commit_failures_total") == 0);
  double commits = Value(s, "durable_streams_commits_total");
  CHECK(commits >= 1);
  CHECK(commits <= 2 + 10);  // creates and stored appends, some maybe grouped
  CHECK(Value(s, "durable_streams_commit_duration_seconds_count") == commits);
  CHECK(Value(s, "durable_streams_fsyncs_total") >= commits);  // --sync full
  CHECK(Value(s, "durable_streams_http_requests_total{method=\"PUT\",outcome=\"2xx\"}") == 2);
  CHECK(Value(s, "durable_streams_http_requests_total{method=\"POST\",outcome=\"2xx\"}") == 11);
  CHECK(Value(s, "durable_streams_http_requests_total{method=\"POST\",outcome=\"4xx\"}") == 1);
  CHECK(Value(s, "durable_streams_http_requests_total{method=\"GET\",outcome=\"2xx\"}") == 3);
  CHECK(Value(s, "durable_streams_http_requests_total{method=\"GET\",outcome=\"4xx\"}") == 1);
  CHECK(Value(s,
              "durable_streams_http_request_duration_seconds_count{method=\"POST\","
              "outcome=\"2xx\"}") == 11);
  CHECK(Value(s, "durable_streams_sse_readers") == 0);
  CHECK(Value(s, "durable_streams_long_polls_waiting") == 0);

  // Live readers are counted while they wait.
  std::thread poll([port] {
    Http(port, "GET", "/v1/stream/m/a?offset=now&live=long-poll");
  });
  CHECK(dstest::Eventually(
      [&] { return Value(Scrape(port), "durable_streams_long_polls_waiting") == 1; }));

  // A scrape under load passes promtool.
  std::atomic<bool> stop{false};
  std::thread load([&] {
    while (!stop) Http(port, "POST", "/v1/stream/m/a", kText, "load");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string busy = Scrape(port);
  stop = true;
  load.join();
  poll.join();
  std::string lint = Promtool(dir, busy);
  if (lint == "skip") {
    WARN("promtool is not installed: the scrape was not linted");
  } else {
    INFO(busy);
    CHECK(lint == "");
  }
}

TEST_CASE("metrics under --auth jwt: closed without a token, open with DS_METRICS_TOKEN") {
  dstest::TempDir dir;
  std::string data = dir.path() + "/data";
  dstest::TestProjects projects(data, {"demo"});
  {
    dstest::ServerProcess server(kServer, data, {"--auth", "jwt"});
    dstest::Reply r = dstest::Http(server.port(), "GET", "/metrics",
                                   projects.Bearer("demo", durablestreams::Scope::kManage));
    CHECK(r.status == 401);
    CHECK(r.body.find("\"code\"") != std::string::npos);
  }
  setenv("DS_METRICS_TOKEN", "s3cret", 1);  // the environment's token, out of `ps`
  dstest::ServerProcess server(kServer, data, {"--auth", "jwt"});
  unsetenv("DS_METRICS_TOKEN");
  int port = server.port();
  CHECK(dstest::Http(port, "GET", "/metrics").status == 401);
  CHECK(dstest::Http(port, "GET", "/metrics", {{"Authorization", "Bearer s3cre"}}).status == 401);
  // Refusals are counted by reason.
  CHECK(dstest::Http(port, "PUT", "/v1/stream/demo/a", kText).status == 401);
  CHECK(dstest::Http(port, "PUT", "/v1/stream/demo/a",
                     {{"Content-Type", "text/plain"}, {"Authorization", "Bearer x.y.z"}})
            .status == 401);
  dstest::Headers read_token = projects.Bearer("demo", durablestreams::Scope::kRead);
  read_token.push_back({"Content-Type", "text/plain"});
  CHECK(dstest::Http(port, "PUT", "/v1/stream/demo/a", read_token).status == 403);
  std::string s = Scrape(port, {{"Authorization", "Bearer s3cret"}});
  INFO(s);
  CHECK(Value(s, "durable_streams_auth_failures_total{reason=\"missing_token\"}") == 1);
  CHECK(Value(s, "durable_streams_auth_failures_total{reason=\"malformed\"}") +
            Value(s, "durable_streams_auth_failures_total{reason=\"signature\"}") + 1 ==
        1);  // one of the two, the other absent (-1)
  CHECK(Value(s, "durable_streams_auth_failures_total{reason=\"scope\"}") == 1);
}

TEST_CASE("inspect: metadata, hot and cold counts, segments, producers, readers; paging") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path() + "/data",
                               {"--segment-max-messages", "2", "--registry", "off"});
  int port = server.port();
  using dstest::Http;
  REQUIRE(Http(port, "PUT", "/v1/stream/i/a", kText).status == 201);
  for (int seq = 0; seq < 5; ++seq) {
    dstest::Headers h = {{"Content-Type", "text/plain"},
                         {"Producer-Id", "writer-1"},
                         {"Producer-Epoch", "2"},
                         {"Producer-Seq", std::to_string(seq)}};
    REQUIRE(Http(port, "POST", "/v1/stream/i/a", h, "abcd").status == 200);
  }
  for (const char* p : {"i/b", "i/c", "j/d"}) {
    REQUIRE(Http(port, "PUT", std::string("/v1/stream/") + p, kText).status == 201);
  }
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  // Rotation seals two segments of 2 messages; the fifth stays hot.
  REQUIRE(dstest::Eventually([&] {
    dstest::Reply r = Http(port, "GET", "/v1/inspect/i/a");
    if (r.status != 200 || parser.parse(r.body).get(e)) return false;
    simdjson::dom::array segs;
    return !e["segments"].get_array().get(segs) && segs.size() == 2;
  }));
  CHECK(std::string_view(e["path"]) == "i/a");
  CHECK(std::string_view(e["contentType"]) == "text/plain");
  CHECK(std::string_view(e["tailOffset"]) == "0000000000000000_0000000000000020");
  CHECK(int64_t(e["messages"]["hot"]) == 1);
  CHECK(int64_t(e["messages"]["cold"]) == 4);
  CHECK(int64_t(e["bytes"]["total"]) == 20);
  simdjson::dom::element seg = e["segments"].at(0);
  CHECK(std::string_view(seg["startOffset"]) == "0000000000000000_0000000000000000");
  CHECK(std::string_view(seg["endOffset"]) == "0000000000000000_0000000000000008");
  CHECK(int64_t(seg["messages"]) == 2);
  CHECK(std::string_view(seg["crc32c"]).size() == 8);
  CHECK(!std::string_view(seg["key"]).empty());
  simdjson::dom::element prod = e["producers"].at(0);
  CHECK(std::string_view(prod["id"]) == "writer-1");
  CHECK(int64_t(prod["epoch"]) == 2);
  CHECK(int64_t(prod["lastSeq"]) == 4);
  CHECK(std::string_view(prod["lastOffset"]) == "0000000000000000_0000000000000020");
  CHECK(bool(e["closed"]) == false);
  CHECK(e["forkedFrom"].is_null());

  // A long-poll waiting on it is seen.
  std::thread poll([port] { Http(port, "GET", "/v1/stream/i/a?offset=now&live=long-poll"); });
  CHECK(dstest::Eventually([&] {
    dstest::Reply r = Http(port, "GET", "/v1/inspect/i/a");
    return !parser.parse(r.body).get(e) && int64_t(e["readers"]["longPoll"]) == 1;
  }));
  REQUIRE(Http(port, "POST", "/v1/stream/i/a", kText, "wake").status == 204);
  poll.join();

  // Paging: sorted by path, `next` until the last page.
  dstest::Reply page = Http(port, "GET", "/v1/inspect?prefix=i/&limit=2");
  REQUIRE(page.status == 200);
  REQUIRE(!parser.parse(page.body).get(e));
  CHECK(int64_t(e["total"]) == 3);
  CHECK(std::string_view(e["streams"].at(0)["path"]) == "i/a");
  CHECK(std::string_view(e["streams"].at(1)["path"]) == "i/b");
  CHECK(std::string_view(e["next"]) == "i/b");
  page = Http(port, "GET", "/v1/inspect?prefix=i/&limit=2&after=i/b");
  REQUIRE(!parser.parse(page.body).get(e));
  CHECK(e["streams"].get_array().size() == 1);
  CHECK(std::string_view(e["streams"].at(0)["path"]) == "i/c");
  CHECK(e["next"].is_null());

  // Refusals: 4xx with a JSON error body, nothing changed.
  CHECK(Http(port, "GET", "/v1/inspect/i/none").status == 404);
  CHECK(Http(port, "GET", "/v1/inspect?limit=0").status == 400);
  CHECK(Http(port, "GET", "/v1/inspect?limit=x").status == 400);
  dstest::Reply post = Http(port, "POST", "/v1/inspect/i/a", kText, "x");
  CHECK(post.status == 405);
  CHECK(post.headers["allow"] == "GET, HEAD");
  CHECK(Http(port, "GET", "/v1/stream/i/a?offset=-1").body == "abcdabcdabcdabcdabcdwake");
}

TEST_CASE("inspect under --auth jwt needs a manage token of the project") {
  dstest::TempDir dir;
  std::string data = dir.path() + "/data";
  dstest::TestProjects projects(data, {"demo", "other"});
  dstest::ServerProcess server(kServer, data, {"--auth", "jwt"});
  int port = server.port();
  using durablestreams::Scope;
  dstest::Headers write = projects.Bearer("demo", Scope::kWrite);
  write.push_back({"Content-Type", "text/plain"});
  REQUIRE(dstest::Http(port, "PUT", "/v1/stream/demo/s", write).status == 201);
  CHECK(dstest::Http(port, "GET", "/v1/inspect/demo/s").status == 401);
  CHECK(dstest::Http(port, "GET", "/v1/inspect/demo/s", projects.Bearer("demo", Scope::kWrite))
            .status == 403);
  CHECK(dstest::Http(port, "GET", "/v1/inspect/demo/s", projects.Bearer("other", Scope::kManage))
            .status >= 401);
  CHECK(dstest::Http(port, "GET", "/v1/inspect/demo/s", projects.Bearer("demo", Scope::kManage))
            .status == 200);
  dstest::Reply list = dstest::Http(port, "GET", "/v1/inspect?project=demo",
                                    projects.Bearer("demo", Scope::kManage));
  CHECK(list.status == 200);
  CHECK(list.body.find("\"demo/s\"") != std::string::npos);
  CHECK(dstest::Http(port, "GET", "/v1/inspect?project=other",
                     projects.Bearer("demo", Scope::kManage))
            .status >= 401);
}

TEST_CASE("Server-Timing: on request, or on every response with --server-timing") {
  dstest::TempDir dir;
  {
    dstest::ServerProcess server(kServer, dir.path() + "/data");
    int port = server.port();
    dstest::Headers ask = {{"Content-Type", "text/plain"}, {"X-Debug-Timing", "1"}};
    dstest::Reply put = dstest::Http(port, "PUT", "/v1/stream/t", ask);
    REQUIRE(put.status == 201);
    const std::string& timing = put.headers["server-timing"];
    INFO(timing);
    for (const char* phase : {"parse;dur=", "auth;dur=", "queue;desc=\"queue wait\";dur=",
                              "commit;dur=", "encode;dur="}) {
      CHECK(timing.find(phase) != std::string::npos);
    }
    dstest::Reply get = dstest::Http(port, "GET", "/v1/stream/t?offset=-1", ask);
    CHECK(get.headers["server-timing"].find("read;dur=") != std::string::npos);
    CHECK(get.headers["server-timing"].find("commit") == std::string::npos);
    CHECK(dstest::Http(port, "GET", "/v1/stream/t?offset=-1").headers.count("server-timing") == 0);
  }
  dstest::ServerProcess server(kServer, dir.path() + "/data", {"--server-timing"});
  dstest::Reply head = dstest::Http(server.port(), "HEAD", "/v1/stream/t");
  CHECK(head.headers["server-timing"].find("read;dur=") != std::string::npos);
}

TEST_CASE("metrics: --metrics-listen serves /metrics alone on a port of its own") {
  // A free port: bound, read and let go (the server binds it next).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  int metrics_port = ntohs(addr.sin_port);
  ::close(fd);
  dstest::TempDir dir;
  dstest::ServerProcess server(
      kServer, dir.path() + "/data",
      {"--auth", "jwt", "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)});
  CHECK(dstest::Http(server.port(), "GET", "/metrics").status == 404);
  dstest::Reply r;
  REQUIRE(dstest::Eventually([&] {
    r = dstest::Http(metrics_port, "GET", "/metrics");
    return r.status == 200;
  }));
  CHECK(r.body.find("# TYPE durable_streams_streams gauge") != std::string::npos);
  CHECK(dstest::Http(metrics_port, "GET", "/v1/stream/x?offset=-1").status == 404);
}
