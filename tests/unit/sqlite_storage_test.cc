// tests/unit/sqlite_storage_test.cc: the SQLite hot log on its own, below
// the engine.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "durablestreams/storage.h"
#include "support/temp_dir.h"

namespace ds = durablestreams;

namespace {

std::shared_ptr<ds::Storage> OpenStorage(const std::string& path) {
  ds::SqliteStorageOptions o;
  o.sync = ds::SyncMode::kOff;
  auto r = ds::OpenSqliteStorage(path, o);
  REQUIRE(r.ok());
  return std::move(r).value();
}

// Stores the row of a new stream `id` at `path`, tail 0, and returns it.
ds::StreamRecord CreateStream(ds::Storage& storage, int64_t id, const std::string& path) {
  ds::StreamRecord rec;
  rec.id = id;
  rec.path = path;
  rec.content_type = "application/octet-stream";
  ds::WriteBatch create;
  create.upsert_streams.push_back(rec);
  REQUIRE(storage.Apply(create).ok());
  return rec;
}

}  // namespace

// SQLite's own (passive) checkpoints start the WAL over only when one finds
// it fully copied with no reader in an older snapshot. Here two readers take
// turns so that one always is, each for a few milliseconds: the WAL must
// still start over (our checkpoints wait for such readers).
TEST_CASE("the WAL starts over while readers overlap every commit", "[sqlite]") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  auto storage = OpenStorage(db);
  ds::StreamRecord rec = CreateStream(*storage, 1, "/s");

  std::atomic<bool> stop{false};
  std::atomic<int> reader_errors{0};
  auto reader = [&](int phase_ms) {
    sqlite3* conn = nullptr;
    if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      ++reader_errors;
      sqlite3_close(conn);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(phase_ms));
    while (!stop) {
      // A snapshot held for 4 ms, then the next one.
      if (sqlite3_exec(conn, "BEGIN; SELECT count(*) FROM streams;", nullptr, nullptr, nullptr) !=
          SQLITE_OK) {
        ++reader_errors;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(4));
      sqlite3_exec(conn, "COMMIT", nullptr, nullptr, nullptr);
    }
    sqlite3_close(conn);
  };
  std::thread r1(reader, 0), r2(reader, 2);

  constexpr size_t kAppend = 3000;  // a WAL frame (page) each, and more for the indexes
  size_t largest = 0;
  for (int i = 0; i < 3000; ++i) {
    ds::WriteBatch b;
    ds::AppendRecord a;
    a.stream_id = 1;
    a.start = rec.tail;
    a.data.assign(kAppend, static_cast<char>('a' + i % 26));
    rec.tail += kAppend;
    b.appends.push_back(std::move(a));
    b.upsert_streams.push_back(rec);
    REQUIRE(storage->Apply(b).ok());
    if (i % 50 == 0) {
      std::error_code ec;
      largest = std::max<size_t>(largest, std::filesystem::file_size(db + "-wal", ec));
    }
  }
  stop = true;
  r1.join();
  r2.join();
  CHECK(reader_errors == 0);
  // A checkpoint every 1000 frames of 4 KiB; 3000 appends write over 3000.
  CHECK(largest < 8u * 1024 * 1024);
  std::vector<ds::StoredMessage> out;
  REQUIRE(storage->ReadMessages(1, 0, rec.tail, SIZE_MAX, &out).ok());
  CHECK(out.size() == 3000);
}

// The engine skips rewriting a stream's row when only its tail moved: Load()
// must find the tail where the last append ends, hot or sealed.
TEST_CASE("Load reports the tail of appends made without a record upsert", "[sqlite]") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  {
    auto storage = OpenStorage(db);
    CreateStream(*storage, 7, "/s");
    uint64_t pos = 0;
    for (int i = 0; i < 3; ++i) {
      ds::WriteBatch b;
      ds::AppendRecord a;
      a.stream_id = 7;
      a.start = pos;
      a.data = "abcde";
      pos += a.data.size();
      b.appends.push_back(std::move(a));
      REQUIRE(storage->Apply(b).ok());
    }
  }
  auto storage = OpenStorage(db);
  ds::LoadedState state;
  REQUIRE(storage->Load(&state).ok());
  REQUIRE(state.streams.size() == 1);
  CHECK(state.streams[0].tail == 15);
  std::vector<ds::StoredMessage> msgs;
  REQUIRE(storage->ReadMessages(7, 0, 15, 1 << 20, &msgs).ok());
  CHECK(msgs.size() == 3);
}
