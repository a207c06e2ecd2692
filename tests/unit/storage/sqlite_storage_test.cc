// tests/unit/storage/sqlite_storage_test.cc: the SQLite hot log on its own, below
// the engine.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
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

namespace {

// The byte at position `pos` of stream `id` in the log tests below.
char ByteAt(int64_t id, uint64_t pos) { return static_cast<char>('a' + (pos * 7 + id) % 26); }

// Appends `n` bytes (or, with `sizes`, that batch of messages) to `rec`'s
// stream in `b`, moving its tail.
void AddAppend(ds::WriteBatch* b, ds::StreamRecord* rec, size_t n,
               std::vector<uint32_t> sizes = {}) {
  ds::AppendRecord a;
  a.stream_id = rec->id;
  a.start = rec->tail;
  for (size_t i = 0; i < n; ++i) a.data.push_back(ByteAt(rec->id, rec->tail + i));
  a.sizes = std::move(sizes);
  rec->tail += n;
  b->appends.push_back(std::move(a));
}

int64_t CountRows(const std::string& db, const char* sql) {
  sqlite3* conn = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(conn, sql, -1, &q, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  int64_t n = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(conn);
  return n;
}

TEST_CASE("an exclusive store keeps the WAL index in memory and still serves this process",
          "[sqlite]") {
  for (bool exclusive : {true, false}) {
    CAPTURE(exclusive);
    dstest::TempDir dir;
    const std::string db = dir.path() + "/streams.db";
    ds::SqliteStorageOptions o;
    o.sync = ds::SyncMode::kOff;
    o.exclusive = exclusive;
    auto r = ds::OpenSqliteStorage(db, o);
    REQUIRE(r.ok());
    std::shared_ptr<ds::Storage> storage = std::move(r).value();
    CreateStream(*storage, 1, "/s");
    CHECK(std::filesystem::exists(db + "-shm") == !exclusive);
    // Another connection of this process (the default VFS) reads it either way.
    CHECK(CountRows(db, "SELECT count(*) FROM streams") == 1);
    storage.reset();
    // Written in one mode, the file opens in the other.
    o.exclusive = !exclusive;
    auto again = ds::OpenSqliteStorage(db, o);
    REQUIRE(again.ok());
    ds::LoadedState state;
    REQUIRE((*again)->Load(&state).ok());
    CHECK(state.streams.size() == 1);
  }
}

// Reads [from, tail) of `rec`'s stream and checks it: contiguous from
// `from`, every byte where it belongs, nothing past the tail.
void CheckRead(ds::Storage& storage, const ds::StreamRecord& rec, uint64_t from) {
  std::vector<ds::StoredMessage> out;
  REQUIRE(storage.ReadMessages(rec.id, from, rec.tail, SIZE_MAX, &out).ok());
  REQUIRE(!out.empty());
  CHECK(out.front().start <= from);
  CHECK(out.back().end == rec.tail);
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) REQUIRE(out[i].start == out[i - 1].end);
    REQUIRE(out[i].data.size() == out[i].end - out[i].start);
    for (size_t k = 0; k < out[i].data.size(); ++k) {
      REQUIRE(out[i].data[k] == ByteAt(rec.id, out[i].start + k));
    }
  }
  // ReadBytes, through SqliteStorage's own and through the default: the
  // bytes from `from` exactly, appended to what the body held.
  for (bool base : {false, true}) {
    std::string body = "#";
    uint64_t next = 0;
    ds::Status s =
        base ? storage.ds::Storage::ReadBytes(rec.id, from, rec.tail, SIZE_MAX, &body, &next)
             : storage.ReadBytes(rec.id, from, rec.tail, SIZE_MAX, &body, &next);
    REQUIRE(s.ok());
    CHECK(next == rec.tail);
    REQUIRE(body.size() == 1 + rec.tail - from);
    for (uint64_t k = 0; k < rec.tail - from; ++k) REQUIRE(body[1 + k] == ByteAt(rec.id, from + k));
  }
}

// ReadBytes with `max_bytes` stops where ReadMessages does: the same bytes,
// from `from`, and *next at the end of the last message read.
void CheckBoundedRead(ds::Storage& storage, const ds::StreamRecord& rec, uint64_t from,
                      size_t max_bytes) {
  std::vector<ds::StoredMessage> out;
  REQUIRE(storage.ReadMessages(rec.id, from, rec.tail, max_bytes, &out).ok());
  REQUIRE(!out.empty());
  std::string body;
  uint64_t next = 0;
  REQUIRE(storage.ReadBytes(rec.id, from, rec.tail, max_bytes, &body, &next).ok());
  CHECK(next == out.back().end);
  REQUIRE(body.size() == next - from);
  for (uint64_t k = 0; k < body.size(); ++k) REQUIRE(body[k] == ByteAt(rec.id, from + k));
}

}  // namespace

// Small appends go to the append log (docs/format.md), large ones of a
// stream with nothing in the log straight to `messages`; a read sees one
// stream either way, before and after the log is folded, and after a
// restart (which folds it).
TEST_CASE("reads span messages and the append log, across folds and restarts", "[sqlite]") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  ds::StreamRecord a, b;
  std::vector<uint64_t> offsets;
  {
    auto storage = OpenStorage(db);
    a = CreateStream(*storage, 1, "/a");
    b = CreateStream(*storage, 2, "/b");
    ds::WriteBatch w;
    AddAppend(&w, &b, 3000);  // large, nothing in the log yet: to `messages`
    AddAppend(&w, &a, 5);
    AddAppend(&w, &b, 7);     // small: to the log
    AddAppend(&w, &b, 2500);  // large, after log rows: to the log too
    REQUIRE(storage->Apply(w).ok());
    ds::WriteBatch w2;
    AddAppend(&w2, &a, 9, {2, 3, 4});  // a JSON batch row
    AddAppend(&w2, &b, 1);
    REQUIRE(storage->Apply(w2).ok());
    CHECK(CountRows(db, "SELECT count(*) FROM log") == 5);
    CHECK(CountRows(db, "SELECT count(*) FROM messages") == 1);
    offsets = {0, 3, 5, 6, 8, 13};  // 6 and 8: inside the batch row
    for (uint64_t from : offsets) {
      if (from < a.tail) CheckRead(*storage, a, from);
    }
    for (uint64_t from : {0, 2999, 3000, 3006, 3007, 5000}) CheckRead(*storage, b, from);

    // Enough small appends to fold the log (4096 rows) more than once.
    for (int i = 0; i < 100; ++i) {
      ds::WriteBatch more;
      for (int k = 0; k < 50; ++k) AddAppend(&more, k % 2 ? &a : &b, 1 + (i + k) % 5);
      REQUIRE(storage->Apply(more).ok());
    }
    CHECK(CountRows(db, "SELECT count(*) FROM log") < 4096);
    CHECK(CountRows(db, "SELECT count(*) FROM messages") > 0);
    for (uint64_t from : {uint64_t{0}, uint64_t{4}, a.tail / 2, a.tail - 1})
      CheckRead(*storage, a, from);
    for (uint64_t from : {uint64_t{0}, uint64_t{3005}, b.tail / 2, b.tail - 1})
      CheckRead(*storage, b, from);
  }
  auto storage = OpenStorage(db);
  CHECK(CountRows(db, "SELECT count(*) FROM log") == 0);
  ds::LoadedState state;
  REQUIRE(storage->Load(&state).ok());
  REQUIRE(state.streams.size() == 2);
  for (const ds::StreamRecord& r : state.streams) CHECK(r.tail == (r.id == 1 ? a.tail : b.tail));
  for (uint64_t from : {uint64_t{0}, uint64_t{7}, a.tail - 1}) CheckRead(*storage, a, from);
  for (uint64_t from : {uint64_t{0}, uint64_t{3000}, b.tail - 1}) CheckRead(*storage, b, from);
}

// kill -9 can leave a WAL past the checkpoint mark beside an unfolded append
// log. Open() folds the log before its background threads start, so nothing
// in it may wait for one of them: it must return promptly, with every
// acknowledged append readable and the WAL started over. The hooks leave the
// files as such a crash does, without relying on timing.
TEST_CASE("Open after a crash with a long WAL and an unfolded log returns promptly", "[sqlite]") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  ds::StreamRecord rec;
  {
    ds::SqliteStorageOptions o;
    o.sync = ds::SyncMode::kOff;
    o.test_hooks.skip_checkpoints = true;
    o.test_hooks.leave_wal_on_close = true;
    auto opened = ds::OpenSqliteStorage(db, o);
    REQUIRE(opened.ok());
    rec = CreateStream(**opened, 1, "/s");
    // One small append per commit: each a row in the log and a few frames
    // in the WAL.
    for (int i = 0; i < 1500; ++i) {
      ds::WriteBatch w;
      AddAppend(&w, &rec, 600);
      REQUIRE((*opened)->Apply(w).ok());
    }
  }
  // Past the checkpoint mark (1000 frames) and the lag the commits may run
  // ahead of the checkpoint thread (250 more) before they wait for it.
  REQUIRE(std::filesystem::file_size(db + "-wal") > 1250 * 4096);

  // On a thread of its own, so that a hang fails the test instead of
  // stalling the run (the thread is then left behind).
  using Opened = ds::Result<std::shared_ptr<ds::Storage>>;
  auto promise = std::make_shared<std::promise<Opened>>();
  std::future<Opened> future = promise->get_future();
  std::thread([promise, db] {
    ds::SqliteStorageOptions o;
    o.sync = ds::SyncMode::kOff;
    promise->set_value(ds::OpenSqliteStorage(db, o));
  }).detach();
  REQUIRE(future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  Opened opened = future.get();
  REQUIRE(opened.ok());
  ds::Storage& storage = **opened;
  CHECK(CountRows(db, "SELECT count(*) FROM log") == 0);
  CHECK(std::filesystem::file_size(db + "-wal") == 0);
  ds::LoadedState state;
  REQUIRE(storage.Load(&state).ok());
  REQUIRE(state.streams.size() == 1);
  CHECK(state.streams[0].tail == rec.tail);
  for (uint64_t from : {uint64_t{0}, uint64_t{599}, rec.tail / 2, rec.tail - 1}) {
    CheckRead(storage, rec, from);
  }
}

// Deleting a stream takes its log rows with it in the same commit: nothing
// of it is left behind, even for a row with the same id (storage does not
// rely on the engine never reusing one).
TEST_CASE("deleting a stream deletes its rows in the append log", "[sqlite]") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  auto storage = OpenStorage(db);
  ds::StreamRecord a = CreateStream(*storage, 1, "/a");
  ds::StreamRecord keep = CreateStream(*storage, 2, "/keep");
  ds::WriteBatch w;
  AddAppend(&w, &a, 4);
  AddAppend(&w, &keep, 4);
  AddAppend(&w, &a, 4);
  REQUIRE(storage->Apply(w).ok());
  REQUIRE(CountRows(db, "SELECT count(*) FROM log") == 3);
  ds::WriteBatch del;
  del.delete_streams.push_back(1);
  REQUIRE(storage->Apply(del).ok());
  CHECK(CountRows(db, "SELECT count(*) FROM log") == 1);
  a = CreateStream(*storage, 1, "/a");
  ds::WriteBatch again;
  AddAppend(&again, &a, 3);
  REQUIRE(storage->Apply(again).ok());
  CheckRead(*storage, a, 0);
  CheckRead(*storage, keep, 0);
  std::vector<ds::StoredMessage> out;
  REQUIRE(storage->ReadMessages(1, 0, a.tail, SIZE_MAX, &out).ok());
  CHECK(out.size() == 1);
}

// Readers check the generation of the log in their snapshot against the
// index in memory, so a fold committing during a read cannot hide rows
// from it: every read from below the tail the writer has published gets
// data, contiguous and right, up to at least that tail.
TEST_CASE("reads racing folds of the append log see every published byte", "[sqlite]") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  auto storage = OpenStorage(db);
  constexpr int kStreams = 4;
  std::vector<ds::StreamRecord> recs;
  std::vector<std::atomic<uint64_t>> published(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    recs.push_back(CreateStream(*storage, i + 1, "/s" + std::to_string(i)));
    published[i] = 0;
  }
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  auto reader = [&](unsigned seed) {
    while (!stop) {
      seed = seed * 1103515245 + 12345;
      int i = static_cast<int>((seed >> 16) % kStreams);
      uint64_t tail = published[i];
      if (tail == 0) continue;
      uint64_t from = (seed >> 8) % tail;
      bool ok;
      if (seed & 0x1000) {  // half the reads as bytes
        std::string body;
        uint64_t next = 0;
        ds::Status s = storage->ReadBytes(i + 1, from, UINT64_MAX, SIZE_MAX, &body, &next);
        ok = s.ok() && next >= tail && body.size() == next - from;
        for (uint64_t k = 0; ok && k < body.size(); ++k) ok = body[k] == ByteAt(i + 1, from + k);
      } else {
        std::vector<ds::StoredMessage> out;
        ds::Status s = storage->ReadMessages(i + 1, from, UINT64_MAX, SIZE_MAX, &out);
        ok = s.ok() && !out.empty() && out.front().start <= from && out.back().end >= tail;
        for (size_t k = 0; ok && k < out.size(); ++k) {
          ok = (k == 0 || out[k].start == out[k - 1].end) &&
               out[k].data.size() == out[k].end - out[k].start &&
               out[k].data.back() == ByteAt(i + 1, out[k].end - 1);
        }
      }
      if (!ok) ++bad;
      ++reads;
    }
  };
  std::thread r1(reader, 1u), r2(reader, 2u), r3(reader, 3u);
  for (int n = 0; n < 8000; ++n) {
    ds::WriteBatch w;
    for (int k = 0; k < 1 + n % 80; ++k) AddAppend(&w, &recs[(n + k) % kStreams], 1 + k % 3);
    REQUIRE(storage->Apply(w).ok());
    for (int i = 0; i < kStreams; ++i) published[i] = recs[i].tail;
  }
  stop = true;
  r1.join();
  r2.join();
  r3.join();
  CHECK(bad == 0);
  CHECK(reads > 0);
}

// With a segment store, ReadBytes appends the segments' bytes straight from
// the segment cache and then the hot rows': the same bytes as ReadMessages,
// from every kind of position (in a segment, inside a message, at the
// boundary of the tiers, in the hot rows), bounded or not.
TEST_CASE("ReadBytes reads segments and hot rows as ReadMessages does", "[sqlite]") {
  dstest::TempDir dir;
  const std::string db = dir.path() + "/streams.db";
  ds::SqliteStorageOptions o;
  o.sync = ds::SyncMode::kOff;
  auto store = ds::OpenDirectorySegmentStore(dir.path() + "/segments");
  REQUIRE(store.ok());
  o.segment_store = *store;
  o.segment_max_messages = 4;
  auto opened = ds::OpenSqliteStorage(db, o);
  REQUIRE(opened.ok());
  std::shared_ptr<ds::Storage> storage = std::move(opened).value();
  ds::StreamRecord a = CreateStream(*storage, 1, "/a");
  for (int i = 0; i < 42; ++i) {
    ds::WriteBatch w;
    AddAppend(&w, &a, 1 + (i * 5) % 11);
    REQUIRE(storage->Apply(w).ok());
  }
  // Rotation seals 10 segments of 4 messages and leaves 2 hot; it records
  // the segments itself when no commit comes.
  for (int i = 0; i < 500 && CountRows(db, "SELECT count(*) FROM segments") < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(CountRows(db, "SELECT count(*) FROM segments") == 10);
  REQUIRE(CountRows(db, "SELECT count(*) FROM messages") +
              CountRows(db, "SELECT count(*) FROM log") > 0);
  for (uint64_t from = 0; from < a.tail; ++from) {
    CheckRead(*storage, a, from);
    for (size_t max_bytes : {1, 7, 30}) CheckBoundedRead(*storage, a, from, max_bytes);
  }
}
