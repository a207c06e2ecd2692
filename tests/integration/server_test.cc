// Integration tests: the real server binary, real HTTP on loopback, a real
// SQLite file; restarts, kill -9 and many live readers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "durablestreams/server/httplib_adapter.h"
#include "support/loopback.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

const std::string kServer = DS_SERVER_BINARY;

std::unique_ptr<httplib::Client> Connect(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_read_timeout(30, 0);
  c->set_connection_timeout(5, 0);
  return c;
}

std::string ReadAll(httplib::Client& c, const std::string& path) {
  std::string all;
  REQUIRE(dstest::ReadStream(c, path, &all));
  return all;
}

// A raw socket that sends one request and keeps the connection open.
int OpenRaw(int port, const std::string& request) {
  int fd = dstest::DialLoopback(port);
  if (fd < 0) return -1;
  if (send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST_CASE("a graceful restart keeps every append and the producer state") {
  dstest::TempDir dir;
  {
    dstest::ServerProcess s(kServer, dir.path());
    auto c = Connect(s.port());
    REQUIRE(c->Put("/v1/stream/r", "", "text/plain")->status == 201);
    httplib::Headers h = {{"Producer-Id", "p"}, {"Producer-Epoch", "0"}, {"Producer-Seq", "0"}};
    REQUIRE(c->Post("/v1/stream/r", h, "one", "text/plain")->status == 200);
    CHECK(WIFEXITED(s.Kill(SIGTERM)));
  }
  dstest::ServerProcess s(kServer, dir.path());
  auto c = Connect(s.port());
  httplib::Headers dup = {{"Producer-Id", "p"}, {"Producer-Epoch", "0"}, {"Producer-Seq", "0"}};
  CHECK(c->Post("/v1/stream/r", dup, "one", "text/plain")->status == 204);
  CHECK(ReadAll(*c, "/v1/stream/r") == "one");
}

TEST_CASE("kill -9 during concurrent appends loses no acknowledged append") {
  dstest::TempDir dir;
  constexpr int kWriters = 8;
  std::map<int, std::vector<int>> acked;  // writer -> acknowledged sequence numbers
  std::map<int, int> next_seq;
  std::mt19937 rng(12345);
  const int cycles = 3;
  {
    dstest::ServerProcess s(kServer, dir.path());
    auto c = Connect(s.port());
    REQUIRE(c->Put("/v1/stream/crash", "", "text/plain")->status == 201);
  }
  for (int cycle = 0; cycle < cycles; ++cycle) {
    dstest::ServerProcess s(kServer, dir.path());
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        auto c = Connect(s.port());
        c->set_read_timeout(5, 0);
        while (!stop) {
          int seq;
          {
            std::lock_guard<std::mutex> lock(mu);
            seq = next_seq[w]++;
          }
          // One line per append: "w<writer>:<seq>:<padding>|"
          std::string line = "w" + std::to_string(w) + ":" + std::to_string(seq) + ":" +
                             std::string(50 + (seq % 200), 'x') + "|\n";
          auto r = c->Post("/v1/stream/crash", line, "text/plain");
          if (r && r->status == 204) {
            std::lock_guard<std::mutex> lock(mu);
            acked[w].push_back(seq);
          } else if (!r) {
            return;  // the server is gone
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 400));
    s.Kill(SIGKILL);
    stop = true;
    for (auto& t : writers) t.join();
  }
  dstest::ServerProcess s(kServer, dir.path());
  auto c = Connect(s.port());
  std::string all = ReadAll(*c, "/v1/stream/crash");
  std::map<int, std::vector<int>> present;
  std::istringstream in(all);
  std::string line;
  size_t total_acked = 0;
  while (std::getline(in, line)) {
    // Whole or absent: every stored line is complete.
    REQUIRE(line.size() > 3);
    REQUIRE(line.back() == '|');
    int w = std::stoi(line.substr(1));
    int seq = std::stoi(line.substr(line.find(':') + 1));
    present[w].push_back(seq);
  }
  for (int w = 0; w < kWriters; ++w) {
    std::set<int> seen(present[w].begin(), present[w].end());
    CHECK(seen.size() == present[w].size());                         // no duplicates
    CHECK(std::is_sorted(present[w].begin(), present[w].end()));     // in order
    for (int seq : acked[w]) {
      CAPTURE(w, seq);
      CHECK(seen.count(seq) == 1);  // every acknowledged append is there
    }
    total_acked += acked[w].size();
  }
  CHECK(total_acked > 0);
}

TEST_CASE("500 SSE readers and 500 waiting long-polls do not starve appends and reads") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path(), {"--long-poll-timeout", "60s"});
  auto c = Connect(s.port());
  REQUIRE(c->Put("/v1/stream/busy", "", "text/plain")->status == 201);
  // The tail before the append, not `now`: a long-poll the server reaches
  // only after the append (a slow start under a sanitizer) is answered with
  // it at once instead of waiting for the next one.
  auto head = c->Head("/v1/stream/busy");
  REQUIRE(head);
  const std::string tail = head->get_header_value("Stream-Next-Offset");
  REQUIRE(!tail.empty());
  std::vector<int> fds;
  for (int i = 0; i < 500; ++i) {
    fds.push_back(OpenRaw(s.port(),
                          "GET /v1/stream/busy?offset=-1&live=sse HTTP/1.1\r\nHost: x\r\n\r\n"));
    fds.push_back(OpenRaw(s.port(), "GET /v1/stream/busy?offset=" + tail +
                                        "&live=long-poll HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (int fd : fds) REQUIRE(fd >= 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // With every live reader parked, a new client is still served at once.
  auto fresh = Connect(s.port());
  fresh->set_read_timeout(10, 0);
  auto put = fresh->Post("/v1/stream/busy", "hello", "text/plain");
  INFO("httplib error " << static_cast<int>(put.error()));
  REQUIRE(put);
  CHECK(put->status == 204);
  auto get = fresh->Get("/v1/stream/busy?offset=-1");
  REQUIRE(get);
  CHECK(get->body == "hello");
  // The parked long-polls were answered by that append.
  int answered = 0;
  for (size_t i = 1; i < fds.size(); i += 2) {
    timeval tv{10, 0};
    setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[512];
    ssize_t n = recv(fds[i], buf, sizeof buf, 0);
    if (n > 12 && std::string(buf, 12) == "HTTP/1.1 200") ++answered;
  }
  CHECK(answered == 500);
  for (int fd : fds) close(fd);
}

TEST_CASE("a body over --max-body is refused with 413 and a JSON error") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path(), {"--max-body", "1KiB"});
  auto c = Connect(s.port());
  REQUIRE(c->Put("/v1/stream/big", "", "text/plain")->status == 201);
  auto r = c->Post("/v1/stream/big", std::string(4096, 'x'), "text/plain");
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(r->body.find("\"code\":\"PAYLOAD_TOO_LARGE\"") != std::string::npos);
  auto c2 = Connect(s.port());
  CHECK(ReadAll(*c2, "/v1/stream/big").empty());
}

TEST_CASE("SIGTERM ends live readers cleanly and the server exits 0") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path());
  auto c = Connect(s.port());
  REQUIRE(c->Put("/v1/stream/bye", "x", "text/plain")->status == 201);
  std::atomic<bool> ended{false};
  std::string received;
  std::thread reader([&] {
    auto rc = Connect(s.port());
    rc->Get("/v1/stream/bye?offset=-1&live=sse", [&](const char* data, size_t n) {
      received.append(data, n);
      return true;
    });
    ended = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int status = s.Kill(SIGTERM);
  reader.join();
  CHECK(ended);
  CHECK(received.find("event: data") != std::string::npos);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("bad input gets a 4xx with a JSON error body and changes nothing") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path());
  auto c = Connect(s.port());
  REQUIRE(c->Put("/v1/stream/ok", "", "application/json")->status == 201);
  struct Case {
    std::string method, path, body, content_type;
    httplib::Headers headers;
    int status;
  };
  std::vector<Case> cases = {
      {"PUT", "/v1/stream/bad-ttl", "", "text/plain", {{"Stream-TTL", "-1"}}, 400},
      {"PUT", "/v1/stream/both", "", "text/plain",
       {{"Stream-TTL", "1"}, {"Stream-Expires-At", "2030-01-01T00:00:00Z"}}, 400},
      {"PUT", "/v1/stream/a/../b", "", "text/plain", {}, 400},
      {"POST", "/v1/stream/ok", "{", "application/json", {}, 400},
      {"POST", "/v1/stream/ok", "[]", "application/json", {}, 400},
      {"POST", "/v1/stream/ok", "1", "application/json", {{"Producer-Id", "x"}}, 400},
      {"POST", "/v1/stream/ok", "1", "text/plain", {}, 409},
      {"POST", "/v1/stream/missing", "1", "text/plain", {}, 404},
      {"GET", "/v1/stream/ok?offset=zzz", "", "", {}, 400},
      {"GET", "/v1/stream/ok?offset=-1&live=forever", "", "", {}, 400},
  };
  for (auto& k : cases) {
    CAPTURE(k.method, k.path, k.body);
    httplib::Result r = k.method == "PUT"    ? c->Put(k.path.c_str(), k.headers, k.body, k.content_type.c_str())
                        : k.method == "POST" ? c->Post(k.path.c_str(), k.headers, k.body, k.content_type.c_str())
                                             : c->Get(k.path.c_str(), k.headers);
    REQUIRE(r);
    CHECK(r->status == k.status);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    CHECK(r->body.find("\"code\":\"") == 1);
    CHECK(r->body.find("\"error\":\"") != std::string::npos);
  }
  CHECK(c->Head("/v1/stream/bad-ttl")->status == 404);
  CHECK(c->Head("/v1/stream/both")->status == 404);
  auto r = c->Get("/v1/stream/ok?offset=-1");
  CHECK(r->body == "[]");
}

namespace {

int64_t CountRows(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  int64_t n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

// What SQLite answers this process (not the server's) for `sql` on db_path,
// waiting at most 100 ms for a lock.
int QueryCode(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 100);
    rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  }
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rc;
}

}  // namespace

TEST_CASE("the server keeps streams.db to itself unless started with --db-lock shared") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  {
    dstest::ServerProcess s(kServer, dir.path(), {"--registry", "off"});
    auto c = Connect(s.port());
    REQUIRE(c->Put("/v1/stream/a", "x", "text/plain")->status == 201);
    CHECK(QueryCode(db, "SELECT count(*) FROM streams") == SQLITE_BUSY);
    // A second server on the same directory gives up once its busy timeout
    // (5 s) has passed, and the first one goes on.
    CHECK_THROWS(dstest::ServerProcess(kServer, dir.path()));
    CHECK(c->Post("/v1/stream/a", "y", "text/plain")->status == 204);
    CHECK(ReadAll(*c, "/v1/stream/a") == "xy");
    s.Kill(SIGTERM);
  }
  {
    dstest::ServerProcess s(kServer, dir.path(), {"--db-lock", "shared", "--registry", "off"});
    auto c = Connect(s.port());
    REQUIRE(c->Post("/v1/stream/a", "z", "text/plain")->status == 204);
    CHECK(QueryCode(db, "SELECT count(*) FROM streams") == SQLITE_ROW);
    CHECK(CountRows(db, "SELECT count(*) FROM streams") == 1);
    CHECK(ReadAll(*c, "/v1/stream/a") == "xyz");
    s.Kill(SIGTERM);
  }
}

TEST_CASE("a 3-deep fork chain reads byte-exact through deletes and restarts, then is collected") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  auto fork = [](httplib::Client& c, const std::string& path, const std::string& from,
                 const std::string& offset) {
    httplib::Headers h = {{"Stream-Forked-From", "/v1/stream/" + from}};
    if (!offset.empty()) h.emplace("Stream-Fork-Offset", offset);
    auto r = c.Put(("/v1/stream/" + path).c_str(), h, "", "text/plain");
    REQUIRE(r);
    REQUIRE(r->status == 201);
  };
  std::string a_mid, b_mid;
  {
    dstest::ServerProcess s(kServer, dir.path(), {"--registry", "off"});
    auto c = Connect(s.port());
    auto r = c->Put("/v1/stream/a", "a1,", "text/plain");
    a_mid = r->get_header_value("Stream-Next-Offset");
    REQUIRE(c->Post("/v1/stream/a", "a2,", "text/plain")->status == 204);
    fork(*c, "b", "a", a_mid);  // b = a1, + own
    REQUIRE(c->Post("/v1/stream/b", "b1,", "text/plain")->status == 204);
    b_mid = c->Head("/v1/stream/b")->get_header_value("Stream-Next-Offset");
    REQUIRE(c->Post("/v1/stream/b", "b2,", "text/plain")->status == 204);
    fork(*c, "c", "b", b_mid);  // c = a1, b1, + own
    REQUIRE(c->Post("/v1/stream/c", "c1", "text/plain")->status == 204);
    REQUIRE(c->Post("/v1/stream/a", "a3", "text/plain")->status == 204);

    // Delete the middle of the chain: b is soft-deleted, c still reads it.
    REQUIRE(c->Delete("/v1/stream/b")->status == 204);
    CHECK(c->Head("/v1/stream/b")->status == 410);
    CHECK(c->Put("/v1/stream/b", "", "text/plain")->status == 409);
    CHECK(ReadAll(*c, "/v1/stream/a") == "a1,a2,a3");
    CHECK(ReadAll(*c, "/v1/stream/c") == "a1,b1,c1");
    s.Kill(SIGKILL);
  }
  {
    dstest::ServerProcess s(kServer, dir.path(), {"--registry", "off"});
    auto c = Connect(s.port());
    CHECK(ReadAll(*c, "/v1/stream/a") == "a1,a2,a3");
    CHECK(ReadAll(*c, "/v1/stream/c") == "a1,b1,c1");
    CHECK(c->Get("/v1/stream/b?offset=-1")->status == 410);
    // Reads from any offset inside the stitched range are exact too.
    auto mid = c->Get(("/v1/stream/c?offset=" + a_mid).c_str());
    CHECK(mid->body == "b1,c1");
    // Delete the last fork: b (soft-deleted, now unreferenced) goes with it.
    REQUIRE(c->Delete("/v1/stream/c")->status == 204);
    CHECK(c->Head("/v1/stream/b")->status == 404);
    CHECK(c->Head("/v1/stream/c")->status == 404);
    CHECK(ReadAll(*c, "/v1/stream/a") == "a1,a2,a3");
    // b can be created afresh now.
    CHECK(c->Put("/v1/stream/b", "new", "text/plain")->status == 201);
    CHECK(ReadAll(*c, "/v1/stream/b") == "new");
    CHECK(c->Delete("/v1/stream/b")->status == 204);
    CHECK(c->Delete("/v1/stream/a")->status == 204);
    s.Kill(SIGTERM);
  }
  // Nothing of the chain is left in storage.
  CHECK(CountRows(db, "SELECT count(*) FROM streams") == 0);
  CHECK(CountRows(db, "SELECT count(*) FROM messages") == 0);
  CHECK(CountRows(db, "SELECT count(*) FROM log") == 0);
  CHECK(CountRows(db, "SELECT count(*) FROM producers") == 0);
}

TEST_CASE("the event transport holds many live readers on a fixed set of threads") {
  const char* transport = std::getenv("DS_TEST_TRANSPORT");
  if (transport && std::string(transport) != "event") return;  // a thread per connection there
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path(), {"--threads", "2"});
  auto c = Connect(s.port());
  REQUIRE(c->Put("/v1/stream/many", "", "text/plain")->status == 201);
  constexpr int kReaders = 600;
  std::vector<int> fds;
  for (int i = 0; i < kReaders; ++i) {
    const char* live = i % 2 ? "sse" : "long-poll";
    int fd = OpenRaw(s.port(), std::string("GET /v1/stream/many?offset=now&live=") + live +
                                   " HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Threads: the engine's few and two loops, not one per reader.
  std::ifstream status("/proc/" + std::to_string(s.pid()) + "/status");
  int threads = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) threads = std::atoi(line.c_str() + 8);
  }
  CHECK(threads > 0);
  CHECK(threads < 24);
  REQUIRE(c->Post("/v1/stream/many", "ping", "text/plain")->status == 204);
  int got = 0;
  for (int fd : fds) {
    std::string in;
    char buf[4096];
    while (in.find("ping") == std::string::npos) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    if (in.find("ping") != std::string::npos) ++got;
    close(fd);
  }
  CHECK(got == kReaders);
}
