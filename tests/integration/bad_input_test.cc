// The bad-input matrix over real HTTP: every request here gets a clear 4xx
// (with a JSON error body where the request reached the protocol layer),
// changes nothing, and leaves the server up.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "durablestreams/server/httplib_adapter.h"
#include "support/loopback.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

const std::string kServer = DS_SERVER_BINARY;

std::unique_ptr<httplib::Client> Client(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_read_timeout(20, 0);
  return c;
}

int Connect(int port) { return dstest::DialLoopback(port); }

// Sends raw bytes, optionally half-closes, and returns what came back.
std::string Raw(int port, const std::string& bytes, bool shutdown_write = false) {
  int fd = Connect(port);
  if (fd < 0) return "";
  send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (shutdown_write) shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos && !shutdown_write) break;
  }
  close(fd);
  return out;
}

int StatusOf(const std::string& response) {
  if (response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string Body(httplib::Client& c, const std::string& path) {
  std::string out;
  return dstest::ReadStream(c, path, &out) ? out : "<no response>";
}

}  // namespace

TEST_CASE("malformed duplicated and oversized headers get a 4xx and change nothing") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path());
  auto c = Client(s.port());
  REQUIRE(c->Put("/v1/stream/h", "base", "text/plain")->status == 201);

  CHECK(StatusOf(Raw(s.port(), "GARBAGE\r\n\r\n")) == 400);
  CHECK(StatusOf(Raw(s.port(), "POST /v1/stream/h HTTP/1.1\r\nno colon here\r\n\r\n")) == 400);
  std::string huge = "POST /v1/stream/h HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'a') +
                     "\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nz";
  int big = StatusOf(Raw(s.port(), huge));
  CHECK(big >= 400);
  CHECK(big < 500);

  httplib::Headers dup_ttl = {{"Stream-TTL", "10"}, {"Stream-TTL", "20"}};
  auto r = c->Put("/v1/stream/dup", dup_ttl, "", "text/plain");
  CHECK(r->status == 400);
  CHECK(r->body.find("\"code\":\"BAD_REQUEST\"") != std::string::npos);
  CHECK(c->Head("/v1/stream/dup")->status == 404);
  httplib::Headers dup_producer = {{"Producer-Id", "a"}, {"Producer-Id", "b"},
                                   {"Producer-Epoch", "0"}, {"Producer-Seq", "0"}};
  CHECK(c->Post("/v1/stream/h", dup_producer, "x", "text/plain")->status == 400);
  CHECK(Body(*c, "/v1/stream/h") == "base");
}

TEST_CASE("a body shorter than its Content-Length or a cut chunked body stores nothing") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path());
  auto c = Client(s.port());
  REQUIRE(c->Put("/v1/stream/t", "base", "text/plain")->status == 201);
  Raw(s.port(),
      "POST /v1/stream/t HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
      "Content-Length: 100\r\n\r\nonly part",
      true);
  Raw(s.port(),
      "POST /v1/stream/t HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n20\r\ncut",
      true);
  CHECK(Body(*c, "/v1/stream/t") == "base");
  // A whole chunked body is fine.
  std::string ok = Raw(s.port(),
                       "POST /v1/stream/t HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n5\r\n+more\r\n0\r\n\r\n");
  CHECK(StatusOf(ok) == 204);
  CHECK(Body(*c, "/v1/stream/t") == "base+more");
}

TEST_CASE("invalid UTF-8 in a text stream keeps SSE well-formed") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path());
  auto c = Client(s.port());
  std::string bad = "ok\xff\xfe\xc3(\r\nevent: control\r\x80";
  REQUIRE(c->Put("/v1/stream/u", bad, "text/plain")->status == 201);
  REQUIRE(c->Post("/v1/stream/u", httplib::Headers{{"Stream-Closed", "true"}}, "", "text/plain")
              ->status == 204);
  std::string received;
  c->Get("/v1/stream/u?offset=-1&live=sse", [&](const char* d, size_t n) {
    received.append(d, n);
    return true;
  });
  // Exactly one data and one control event; every line is a field we write.
  size_t data_events = 0, control_events = 0, start = 0;
  while (start < received.size()) {
    size_t eol = received.find('\n', start);
    REQUIRE(eol != std::string::npos);
    std::string line = received.substr(start, eol - start);
    CHECK(line.find('\r') == std::string::npos);
    CHECK((line.empty() || line.rfind("event: ", 0) == 0 || line.rfind("data:", 0) == 0 ||
           line[0] == ':'));
    if (line == "event: data") ++data_events;
    if (line == "event: control") ++control_events;
    start = eol + 1;
  }
  CHECK(data_events == 1);
  CHECK(control_events == 1);
}

TEST_CASE("dot segments, encoded dots, NUL bytes and over-long paths are refused") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path());
  auto c = Client(s.port());
  for (std::string path : std::vector<std::string>{"/v1/stream/a/../b", "/v1/stream/a/%2e%2e/b", "/v1/stream/%2E%2E",
                           "/v1/stream/a%00b", "/v1/stream/./x",
                           "/v1/stream/" + std::string(2000, 'p')}) {
    CAPTURE(path);
    auto r = c->Put(path.c_str(), "", "text/plain");
    REQUIRE(r);
    CHECK(r->status >= 400);
    CHECK(r->status < 500);
    CHECK(r->body.find("\"code\":\"") != std::string::npos);
  }
  CHECK(c->Get("/health")->status == 200);
}

TEST_CASE("a slowloris does not keep others from being served") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path());
  std::vector<int> slow;
  for (int i = 0; i < 300; ++i) {
    int fd = Connect(s.port());
    REQUIRE(fd >= 0);
    std::string start = "POST /v1/stream/slow HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    send(fd, start.data(), start.size(), MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    for (int round = 0; round < 30 && !stop; ++round) {
      for (int fd : slow) send(fd, "a", 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto c = Client(s.port());
  c->set_read_timeout(5, 0);
  auto put = c->Put("/v1/stream/fast", "served", "text/plain");
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(Body(*c, "/v1/stream/fast") == "served");
  stop = true;
  drip.join();
  for (int fd : slow) close(fd);
}

TEST_CASE("ten thousand streams created quickly are all there and the server stays up") {
  dstest::TempDir dir;
  dstest::ServerProcess s(kServer, dir.path());
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client(s.port());
      for (int i = t; i < 10000; i += 16) {
        auto r = c->Put(("/v1/stream/many/" + std::to_string(i)).c_str(), "x", "text/plain");
        if (r && r->status == 201) ++created;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(created == 10000);
  auto c = Client(s.port());
  for (int i : {0, 4999, 9999}) {
    CHECK(Body(*c, "/v1/stream/many/" + std::to_string(i)) == "x");
  }
  CHECK(c->Get("/health")->status == 200);
}

TEST_CASE("a full disk answers 507, corrupts nothing, and service resumes when space returns") {
  dstest::TempDir dir;
  std::string mnt = dir.path() + "/small";
  mkdir(mnt.c_str(), 0755);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m") != 0) {
    WARN("cannot mount a small tmpfs here (needs root); the full-disk test is skipped");
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  std::string acked;
  {
    dstest::ServerProcess s(kServer, mnt);
    auto c = Client(s.port());
    REQUIRE(c->Put("/v1/stream/full", "", "application/octet-stream")->status == 201);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      std::string body(32 * 1024, static_cast<char>('a' + i % 26));
      auto r = c->Post("/v1/stream/full", body, "application/octet-stream");
      REQUIRE(r);
      status = r->status;
      if (status != 204) {
        CHECK(r->body.find("\"code\":\"STORAGE_FULL\"") != std::string::npos);
        break;
      }
      acked += body;
    }
    REQUIRE(status == 507);
    // Reads still work and hold exactly what was acknowledged.
    std::string got;
    std::string offset = "-1";
    for (;;) {
      auto r = c->Get(("/v1/stream/full?offset=" + offset).c_str());
      REQUIRE(r);
      REQUIRE(r->status == 200);
      got += r->body;
      if (r->get_header_value("Stream-Up-To-Date") == "true") break;
      offset = r->get_header_value("Stream-Next-Offset");
    }
    CHECK(got == acked);
    // Space returns: appends succeed again.
    REQUIRE(mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=64m") == 0);
    auto r = c->Post("/v1/stream/full", "after", "application/octet-stream");
    REQUIRE(r);
    CHECK(r->status == 204);
    acked += "after";
    s.Kill(SIGTERM);
  }
  // And a restart finds everything that was acknowledged, nothing else.
  dstest::ServerProcess s(kServer, mnt);
  auto c = Client(s.port());
  std::string got, offset = "-1";
  for (;;) {
    auto r = c->Get(("/v1/stream/full?offset=" + offset).c_str());
    REQUIRE(r);
    got += r->body;
    if (r->get_header_value("Stream-Up-To-Date") == "true") break;
    offset = r->get_header_value("Stream-Next-Offset");
  }
  CHECK(got == acked);
}
