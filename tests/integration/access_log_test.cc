// The access log against the real server (access_log.h): a JSON line per
// request with its method, path (no query), status and bytes, on both
// transports (DS_TEST_TRANSPORT); nothing a client sends breaks a line.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {
const std::string kServer = DS_SERVER_BINARY;
}  // namespace

TEST_CASE("access log: a JSON line per request, the path escaped and without its query") {
  dstest::TempDir dir;
  const std::string file = dir.path() + "/access.log";
  {
    dstest::ServerProcess server(kServer, dir.path() + "/data", {"--access-log", file});
    int port = server.port();
    using dstest::Http;
    REQUIRE(Http(port, "PUT", "/v1/stream/log/a", {{"Content-Type", "text/plain"}}).status == 201);
    REQUIRE(Http(port, "POST", "/v1/stream/log/a", {{"Content-Type", "text/plain"}}, "hello")
                .status == 204);
    REQUIRE(Http(port, "GET", "/v1/stream/log/a?offset=-1&rk=secret-key").body == "hello");
    REQUIRE(Http(port, "HEAD", "/v1/stream/log/a").status == 200);
    // A quote, a backslash and a newline in the path, percent-encoded.
    Http(port, "GET", "/v1/stream/x%22y%5Cz%0A%7D?offset=-1");
    server.Kill(SIGTERM);
  }
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 5);
  struct Want {
    const char* method;
    const char* path;
    int64_t status;
    int64_t bytes;
  };
  const Want want[] = {{"PUT", "/v1/stream/log/a", 201, 0},
                       {"POST", "/v1/stream/log/a", 204, 0},
                       {"GET", "/v1/stream/log/a", 200, 5},
                       {"HEAD", "/v1/stream/log/a", 200, 0},
                       {"GET", "/v1/stream/x\"y\\z\n}", 0, -1}};
  simdjson::dom::parser parser;
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(lines[i].find("secret-key") == std::string::npos);
    simdjson::dom::element e;
    REQUIRE(!parser.parse(lines[i]).get(e));
    std::string_view method, path, time, project;
    int64_t status = 0, bytes = 0;
    double duration = -1;
    bool live = true;
    REQUIRE(!e["method"].get_string().get(method));
    REQUIRE(!e["path"].get_string().get(path));
    REQUIRE(!e["time"].get_string().get(time));
    REQUIRE(!e["status"].get_int64().get(status));
    REQUIRE(!e["bytes"].get_int64().get(bytes));
    REQUIRE(!e["duration_ms"].get_double().get(duration));
    REQUIRE(!e["project"].get_string().get(project));
    REQUIRE(!e["live"].get_bool().get(live));
    CHECK(method == want[i].method);
    CHECK(path == want[i].path);
    if (want[i].status) CHECK(status == want[i].status);
    if (want[i].bytes >= 0) CHECK(bytes == want[i].bytes);
    CHECK(status >= 200);
    CHECK(duration >= 0);
    CHECK(time.size() == 24);  // 2026-12-07T10:05:00.123Z
    CHECK(project.empty());
    CHECK(!live);
  }
}
