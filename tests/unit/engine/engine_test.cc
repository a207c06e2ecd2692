// Unit tests of the engine over a real SQLite file, driven through Request
// values (no sockets) with a manual clock (no sleeping for TTLs).
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "durablestreams/durablestreams.h"
#include "engine/sse_session.h"
#include "support/engine_fixture.h"
#include "support/temp_dir.h"

using namespace durablestreams;

namespace {

constexpr int64_t kStart = dstest::EngineFixture::kStart;
using Fixture = dstest::EngineFixture;

std::string H(const Response& r, const char* name) {
  const std::string* v = r.headers.Get(name);
  return v ? *v : std::string("<none>");
}

}  // namespace

TEST_CASE("a created stream reads back what was appended, in order") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "s", {{"Content-Type", "text/plain"}}, "a").status == 201);
  REQUIRE(f.Do(Method::kPost, "s", {{"Content-Type", "text/plain"}}, "bc").status == 204);
  Response r = f.Read("s");
  CHECK(r.status == 200);
  CHECK(r.body == "abc");
  CHECK(H(r, "Stream-Next-Offset") == "0000000000000000_0000000000000003");
  CHECK(H(r, "Stream-Up-To-Date") == "true");
}

TEST_CASE("a PUT whose JSON body is invalid leaves no stream behind") {
  Fixture f;
  Response r = f.Do(Method::kPut, "j", {{"Content-Type", "application/json"}}, "{nope");
  CHECK(r.status == 400);
  CHECK(r.body.find("\"code\":\"INVALID_JSON\"") != std::string::npos);
  CHECK(f.Do(Method::kHead, "j").status == 404);
}

TEST_CASE("a stream with a TTL expires after idling, and reads renew it") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "t", {{"Content-Type", "text/plain"}, {"Stream-TTL", "10"}}).status ==
          201);
  f.clock->Advance(9000);
  CHECK(f.Read("t").status == 200);  // renews: 10 s from now
  f.clock->Advance(9000);
  CHECK(f.Do(Method::kHead, "t").status == 200);  // HEAD does not renew
  f.clock->Advance(1500);
  CHECK(f.Do(Method::kHead, "t").status == 404);
  CHECK(f.Do(Method::kPost, "t", {{"Content-Type", "text/plain"}}, "x").status == 404);
}

TEST_CASE("Expires-At is absolute: reads do not extend it") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "e",
               {{"Content-Type", "text/plain"}, {"Stream-Expires-At", "2027-01-15T08:00:10Z"}})
              .status == 201);
  f.clock->Set(1800000000000 + 5000);  // 08:00:05
  CHECK(f.Read("e").status == 200);
  f.clock->Set(1800000000000 + 10000);
  CHECK(f.Read("e").status == 404);
}

TEST_CASE("a restart keeps data, closure and producer deduplication") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "p", {{"Content-Type", "text/plain"}}).status == 201);
  auto produce = [&](const char* seq, const char* body) {
    return f.Do(Method::kPost, "p",
                {{"Content-Type", "text/plain"}, {"Producer-Id", "w"}, {"Producer-Epoch", "3"},
                 {"Producer-Seq", seq}},
                body);
  };
  REQUIRE(produce("0", "a").status == 200);
  REQUIRE(produce("1", "b").status == 200);
  f.Open();
  CHECK(produce("1", "b").status == 204);  // duplicate after restart
  Response gap = produce("5", "x");
  CHECK(gap.status == 409);
  CHECK(H(gap, "Producer-Expected-Seq") == "2");
  REQUIRE(f.Do(Method::kPost, "p", {{"Stream-Closed", "true"}}).status == 204);
  f.Open();
  Response r = f.Read("p");
  CHECK(r.body == "ab");
  CHECK(H(r, "Stream-Closed") == "true");
}

TEST_CASE("a long-poll waiting at the tail is answered by the next append") {
  Options o;
  o.long_poll_timeout = std::chrono::seconds(30);
  Fixture f(o);
  REQUIRE(f.Do(Method::kPut, "lp", {{"Content-Type", "text/plain"}}).status == 201);
  auto fut = f.LongPollAtTail("lp");
  CHECK(fut.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  REQUIRE(f.Do(Method::kPost, "lp", {{"Content-Type", "text/plain"}}, "wake").status == 204);
  Response r = fut.get();
  CHECK(r.status == 200);
  CHECK(r.body == "wake");
  CHECK(H(r, "Stream-Cursor") != "<none>");
}

TEST_CASE("deleting a stream answers its long-poll waiters with 404 and ends SSE") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "d", {{"Content-Type", "text/plain"}}).status == 201);
  auto got = f.LongPollAtTail("d");
  Response sse = f.Do(Method::kGet, "d", {}, "", {{"offset", "-1"}, {"live", "sse"}});
  REQUIRE(sse.live);
  REQUIRE(f.Do(Method::kDelete, "d").status == 204);
  CHECK(got.get().status == 404);
  std::string bytes;
  while (sse.live->WaitAndTake(&bytes, std::chrono::seconds(5))) {
  }
  CHECK(bytes.find("event: control") != std::string::npos);
}

TEST_CASE("SSE delivers appends live as data and control events") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "sse", {{"Content-Type", "application/json"}}, "[1]").status == 201);
  Response r = f.Do(Method::kGet, "sse", {}, "", {{"offset", "-1"}, {"live", "sse"}});
  REQUIRE(r.live);
  CHECK(H(r, "Content-Type") == "text/event-stream");
  REQUIRE(f.Do(Method::kPost, "sse", {{"Content-Type", "application/json"}, {"Stream-Closed", "true"}},
               "[2,3]")
              .status == 204);
  std::string bytes;
  while (r.live->WaitAndTake(&bytes, std::chrono::seconds(5))) {
  }
  CHECK(bytes.find("data:[1]") != std::string::npos);
  CHECK(bytes.find("data:[2,3]") != std::string::npos);
  CHECK(bytes.find("\"streamClosed\":true") != std::string::npos);
}

TEST_CASE("SSE readers that sent different cursors each get one past their own") {
  // One delivery shares a control event among readers that sent the same
  // cursor; a reader whose cursor differs must still get its own.
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "cur", {{"Content-Type", "text/plain"}}).status == 201);
  std::string future = "900000000000";
  std::vector<std::string> sent = {"", future, "", future};
  std::vector<Response> readers;
  for (const std::string& c : sent) {
    std::vector<std::pair<std::string, std::string>> q = {{"offset", "now"}, {"live", "sse"}};
    if (!c.empty()) q.push_back({"cursor", c});
    readers.push_back(f.Do(Method::kGet, "cur", {}, "", q));
    REQUIRE(readers.back().live);
  }
  REQUIRE(f.Do(Method::kPost, "cur", {{"Content-Type", "text/plain"}}, "hello").status == 204);
  std::vector<std::string> cursors;
  for (Response& r : readers) {
    std::string bytes;
    while (bytes.find("data:hello") == std::string::npos || bytes.rfind("\n\n") != bytes.size() - 2) {
      REQUIRE(r.live->WaitAndTake(&bytes, std::chrono::seconds(5)));
    }
    size_t at = bytes.rfind("\"streamCursor\":\"");
    REQUIRE(at != std::string::npos);
    at += 16;
    cursors.push_back(bytes.substr(at, bytes.find('"', at) - at));
    r.live->Cancel();
  }
  CHECK(cursors[0] == cursors[2]);
  CHECK(cursors[1].size() >= future.size());
  CHECK(std::stoll(cursors[1]) > std::stoll(future));
  CHECK(std::stoll(cursors[0]) < std::stoll(future));
}

TEST_CASE("the authorization hooks can refuse before anything happens") {
  Options o;
  o.authorize_mutation = [](const Request& req) -> std::optional<Response> {
    if (req.headers.Get("Authorization")) return std::nullopt;
    return DenyResponse(401, "UNAUTHORIZED", "token required");
  };
  Fixture f(o);
  CHECK(f.Do(Method::kPut, "a", {{"Content-Type", "text/plain"}}).status == 401);
  CHECK(f.Do(Method::kHead, "a").status == 404);
  CHECK(f.Do(Method::kPut, "a", {{"Content-Type", "text/plain"}, {"Authorization", "x"}}).status ==
        201);
}

TEST_CASE("concurrent appends to one stream all land exactly once") {
  // A lone append may commit on its caller's thread; concurrent ones share
  // the commit thread's batches. Both ways, and the commit thread alone.
  Options o;
  o.commit_on_caller = GENERATE(true, false);
  CAPTURE(o.commit_on_caller);
  Fixture f(o);
  REQUIRE(f.Do(Method::kPut, "c", {{"Content-Type", "application/json"}}).status == 201);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};  // Catch2 assertions are for the main thread only
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        Response r = f.Do(Method::kPost, "c", {{"Content-Type", "application/json"}},
                          std::to_string(t * 1000 + i));
        if (r.status != 204) ++failures;
        // Sometimes alone, so that some appends find the writer idle.
        if (i % 10 == t) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  std::string all;
  std::string offset = "-1";
  for (;;) {
    Response r = f.Read("c", offset);
    all += r.body;
    if (H(r, "Stream-Up-To-Date") == "true") break;
    offset = H(r, "Stream-Next-Offset");
  }
  // Every value exactly once: turn "[a,b][c]" into ",a,b,,c," and count.
  for (char& c : all) {
    if (c == '[' || c == ']') c = ',';
  }
  for (int t = 0; t < 8; ++t) {
    for (int i = 0; i < 50; ++i) {
      std::string v = "," + std::to_string(t * 1000 + i) + ",";
      size_t first = all.find(v);
      CAPTURE(v);
      REQUIRE(first != std::string::npos);
      CHECK(all.find(v, first + 1) == std::string::npos);
    }
  }
  // Each thread's appends land in the order it made them.
  for (int t = 0; t < 8; ++t) {
    size_t prev = 0;
    for (int i = 0; i < 50; ++i) {
      size_t at = all.find("," + std::to_string(t * 1000 + i) + ",");
      CHECK(at >= prev);
      prev = at;
    }
  }
}

TEST_CASE("the server refuses a file that is not its database") {
  dstest::TempDir dir;
  FILE* fp = std::fopen((dir.path() + "/streams.db").c_str(), "w");
  std::fputs("this is not a database, but it is long enough to have a header of sorts......", fp);
  std::fclose(fp);
  Options o;
  o.default_storage.data_dir = dir.path();
  auto r = StreamEngine::Open(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kCorruption);
}

TEST_CASE("a version 1 database is migrated and keeps its streams") {
  dstest::TempDir dir;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((dir.path() + "/streams.db").c_str(), &db) == SQLITE_OK);
  // The version 1 schema, as docs/format.md describes it, with one stream.
  const char* v1 = R"sql(
    CREATE TABLE streams (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,
      content_type TEXT NOT NULL, ttl_seconds INTEGER, expires_at_ms INTEGER,
      created_at_ms INTEGER NOT NULL, last_access_ms INTEGER NOT NULL,
      closed INTEGER NOT NULL DEFAULT 0, tail INTEGER NOT NULL DEFAULT 0,
      last_stream_seq TEXT NOT NULL DEFAULT '', closed_by_producer TEXT,
      closed_by_epoch INTEGER NOT NULL DEFAULT 0, closed_by_seq INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE messages (stream_id INTEGER NOT NULL, end_pos INTEGER NOT NULL,
      data BLOB NOT NULL, PRIMARY KEY (stream_id, end_pos));
    CREATE TABLE producers (stream_id INTEGER NOT NULL, producer_id TEXT NOT NULL,
      epoch INTEGER NOT NULL, last_seq INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL,
      PRIMARY KEY (stream_id, producer_id)) WITHOUT ROWID;
    INSERT INTO streams (id, path, content_type, created_at_ms, last_access_ms, tail)
      VALUES (7, 'old', 'text/plain', 0, 0, 5);
    INSERT INTO messages VALUES (7, 5, 'hello');
    PRAGMA user_version=1;)sql";
  REQUIRE(sqlite3_exec(db, v1, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  Options o;
  o.default_storage.data_dir = dir.path();
  auto engine = StreamEngine::Open(o);
  REQUIRE(engine.ok());
  Request read;
  read.method = Method::kGet;
  read.path = "old";
  Response r = (*engine)->HandleAndWait(read);
  CHECK(r.body == "hello");
  Request append;
  append.method = Method::kPost;
  append.path = "old";
  append.headers.Add("Content-Type", "text/plain");
  append.body = " again";
  CHECK((*engine)->HandleAndWait(append).status == 204);
  CHECK((*engine)->HandleAndWait(read).body == "hello again");
}

TEST_CASE("readers during appends see each message whole or not at all") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "rw", {{"Content-Type", "text/plain"}}).status == 201);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        Response resp = f.Read("rw");
        // Every message is "<n copies of one letter>|": check each piece.
        size_t start = 0;
        while (start < resp.body.size()) {
          size_t bar = resp.body.find('|', start);
          if (bar == std::string::npos) {
            ++torn;
            break;
          }
          for (size_t i = start; i < bar; ++i) {
            if (resp.body[i] != resp.body[start]) ++torn;
          }
          start = bar + 1;
        }
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 60; ++i) {
        f.Do(Method::kPost, "rw", {{"Content-Type", "text/plain"}},
             std::string(100 + i * 7, static_cast<char>('a' + w)) + "|");
      }
    });
  }
  for (auto& t : writers) t.join();
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(torn == 0);
}

TEST_CASE("deleting a stream while live readers and writers race it is clean") {
  Fixture f;
  for (int round = 0; round < 5; ++round) {
    REQUIRE(f.Do(Method::kPut, "race", {{"Content-Type", "text/plain"}}).status == 201);
    std::vector<std::shared_ptr<LiveStream>> lives;
    std::vector<std::future<Response>> polls;
    for (int i = 0; i < 4; ++i) {
      lives.push_back(f.Do(Method::kGet, "race", {}, "", {{"offset", "-1"}, {"live", "sse"}}).live);
      polls.push_back(f.LongPollAtTail("race"));
    }
    std::atomic<int> odd{0};
    std::thread writer([&] {
      for (int i = 0; i < 50; ++i) {
        int st = f.Do(Method::kPost, "race", {{"Content-Type", "text/plain"}}, "x").status;
        if (st != 204 && st != 404 && st != 409) ++odd;  // 409: after the close
      }
    });
    std::thread closer([&] {
      int st = f.Do(Method::kPost, "race", {{"Stream-Closed", "true"}}).status;
      if (st != 204 && st != 404) ++odd;
    });
    std::thread deleter([&] {
      int st = f.Do(Method::kDelete, "race").status;
      if (st != 204) ++odd;
    });
    writer.join();
    closer.join();
    deleter.join();
    CHECK(odd == 0);
    for (auto& p : polls) {
      int st = p.get().status;
      CHECK((st == 200 || st == 204 || st == 404));
    }
    for (auto& l : lives) {
      std::string bytes;
      while (l->WaitAndTake(&bytes, std::chrono::seconds(5))) {
      }
    }
    CHECK(f.Do(Method::kHead, "race").status == 404);
  }
}

TEST_CASE("close racing appends: every append before the close is kept, none after") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "cr", {{"Content-Type", "text/plain"}}).status == 201);
  std::atomic<int> accepted{0}, refused{0}, other{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        int st = f.Do(Method::kPost, "cr", {{"Content-Type", "text/plain"}}, "m").status;
        if (st == 204) ++accepted;
        else if (st == 409) ++refused;
        else ++other;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(f.Do(Method::kPost, "cr", {{"Stream-Closed", "true"}}).status == 204);
  for (auto& t : writers) t.join();
  CHECK(other == 0);
  Response r = f.Read("cr");
  CHECK(r.body.size() == static_cast<size_t>(accepted.load()));
  CHECK(H(r, "Stream-Closed") == "true");
}

TEST_CASE("an SSE reader far behind gets its backlog in bounded steps") {
  Options o;
  o.max_body_bytes = 2 << 20;
  Fixture f(o);
  REQUIRE(f.Do(Method::kPut, "big", {{"Content-Type", "application/octet-stream"}}).status == 201);
  const size_t kChunk = 1 << 20;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(f.Do(Method::kPost, "big", {{"Content-Type", "application/octet-stream"}},
                 std::string(kChunk, static_cast<char>('A' + i)))
                .status == 204);
  }
  REQUIRE(f.Do(Method::kPost, "big", {{"Stream-Closed", "true"}}).status == 204);
  Response r = f.Do(Method::kGet, "big", {}, "", {{"offset", "-1"}, {"live", "sse"}});
  REQUIRE(r.live);
  std::string all, first;
  REQUIRE(r.live->Take(&first));
  // base64 makes 4 MiB of data about 5.4 MiB of events: far below 20 MiB.
  CHECK(first.size() < 8u << 20);
  CHECK(first.size() > 1u << 20);
  all = first;
  while (r.live->WaitAndTake(&all, std::chrono::seconds(5))) {
  }
  size_t data_events = 0, pos = 0;
  while ((pos = all.find("event: data\n", pos)) != std::string::npos) {
    ++data_events;
    ++pos;
  }
  CHECK(data_events == 20);
  CHECK(all.find("\"streamClosed\":true") != std::string::npos);
}

TEST_CASE("a JSON read from inside a message starts at the next message and moves on") {
  Fixture f;
  REQUIRE(f.Do(Method::kPut, "jm", {{"Content-Type", "application/json"}}, "[\"aaaa\",\"bb\"]")
              .status == 201);
  // "aaaa" (6 bytes with quotes) spans positions 0..6; 3 is inside it.
  Response r = f.Read("jm", "0000000000000000_0000000000000003");
  CHECK(r.status == 200);
  CHECK(r.body == "[\"bb\"]");
  CHECK(H(r, "Stream-Next-Offset") == "0000000000000000_0000000000000010");
}

TEST_CASE("an SSE response whose client stopped reading ends at a bounded queue") {
  engine::SseSession session([] {});
  std::string event(1024 * 1024, 'e');
  size_t pushed = 0;
  while (session.Push(event)) ++pushed;
  CHECK(pushed == engine::SseSession::kMaxQueuedBytes / event.size());
  CHECK(session.ended());
  std::string out;
  CHECK(session.Take(&out));  // what was queued is still delivered, whole
  CHECK(out.size() == pushed * event.size());
  out.clear();
  CHECK_FALSE(session.Take(&out));
}
