// bench/sqlite_commit.cc: the bound one-commit-at-a-time appending allows.
//   sqlite_commit DIR SECONDS [full|normal [GAP_MS]]
// Inserts one 100-byte row per transaction into a WAL database with the
// given synchronous setting, as the hot log does, and prints commits/s and
// the median commit latency. With GAP_MS, waits that long between commits:
// the latency of a commit that finds the disk idle (as a long-poll round
// trip's append does), which can be longer than back to back.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string path = std::string(argv[1]) + "/commit-bench.db";
  double seconds = std::atof(argv[2]);
  std::string sync = argc > 3 ? argv[3] : "full";
  double gap_ms = argc > 4 ? std::atof(argv[4]) : 0;
  std::remove(path.c_str());
  sqlite3* db;
  // The VFS the hot log uses by default (SqliteStorageOptions::exclusive):
  // no file locks per transaction. BARE_VFS=unix measures the default VFS.
  const char* vfs = std::getenv("BARE_VFS") ? std::getenv("BARE_VFS") : "unix-excl";
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  sqlite3_exec(db, ("PRAGMA synchronous=" + sync).c_str(), nullptr, nullptr, nullptr);
  sqlite3_exec(db, "CREATE TABLE m(k INTEGER PRIMARY KEY, v BLOB)", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins;
  sqlite3_prepare_v2(db, "INSERT INTO m(v) VALUES (?1)", -1, &ins, nullptr);
  std::string row(100, 'x');
  long n = 0;
  std::vector<double> lat;
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
    if (gap_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(gap_ms));
    auto c0 = std::chrono::steady_clock::now();
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_blob(ins, 1, row.data(), static_cast<int>(row.size()), SQLITE_STATIC);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    lat.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c0).count());
    ++n;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  std::printf("result sqlite_commit rate=%.0f latency_ms=%.3f p50_ms=%.3f\n", n / s, s * 1000 / n,
              lat.empty() ? 0.0 : lat[lat.size() / 2]);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  std::remove(path.c_str());
  return 0;
}
