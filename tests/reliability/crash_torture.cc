// tests/reliability/crash_torture.cc
//
// Crash torture: concurrent writers against the real server, kill -9 at a
// random moment, restart on the same data directory, again and again; then
// check what survived.
//
//   crash_torture --server BIN [--cycles N] [--writers W] [--seed S] [--sync full|normal]
//                 [--segment-max-messages M] [--restart-bound-ms B]
//
// The server seals a segment every M hot messages (default 1000, the
// server's own default; 0 runs it without a cold tier) into a directory
// store, so kills also land between the steps of rotations and reads cross
// the cold tier. A small M rotates all the time, and every rotation folds
// the append log first: kills then rarely leave log rows for the restart to
// fold, which is why the default is the server's.
//
// Each cycle runs, until the kill (at a random moment 100-1500 ms in, or,
// in half the cycles, once the WAL is 1000-1300 frames long: while a
// checkpoint is due or copying, within the same deadline):
//   - always: W plain writers appending numbered lines to one stream; W
//     idempotent producers appending numbered lines to another (a batch
//     that got no answer is retried with the same (id, epoch, seq) after the
//     restart); a closer that creates a stream per cycle, appends and closes
//     it; a reader that follows the plain stream from its last offset;
//   - in some cycles (the load's shape varies with the seed): two writers
//     spreading small lines over 24 streams (many appends in the append log,
//     across streams); a writer of big appends (32-256 KiB: many WAL pages a
//     commit); three readers holding long catch-up reads of the big stream
//     (they keep checkpoints from starting the WAL over, so it grows).
// In a quarter of the cycles the restart is killed too, 0-100 ms after it
// starts, while it recovers (folds the log, checkpoints the WAL).
//
// Every restart must say it listens within the bound (default 10 s): one
// that does not is a failure, and the run stops there. After the last cycle
// it checks, and prints with the figures (the WAL's length at the kills,
// restart times: max and p99):
//   every acknowledged append is present exactly once and in order; producer
//   retries never duplicate; every stored line is whole (unacknowledged ones
//   are whole or absent); acknowledged offsets strictly increase; every
//   acknowledged close is still closed; the reader's bytes are a prefix of
//   the stream. Exit status 0 only if every check held.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "durablestreams/server/httplib_adapter.h"
#include "support/loopback.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

constexpr int kManyStreams = 24;
// WAL frames at which the server starts a checkpoint.
constexpr long kCheckpointMark = 1000;

struct Pending {
  bool has = false;
  int64_t seq = 0;
  std::string body;
};

// Line n of writer w, of kind p (plain), q (producer), m (many streams; w is
// the stream) or b (big appends).
std::string Line(char kind, int w, int64_t n) {
  size_t pad = kind == 'b' ? 32768 + (n * 7919) % 229376 : 20 + (n * 37) % 300;
  return std::string(1, kind) + std::to_string(w) + ":" + std::to_string(n) + ":" +
         std::string(pad, static_cast<char>('a' + (n % 26))) + "|\n";
}

std::string ManyPath(int i) { return "/v1/stream/torture-many-" + std::to_string(i); }

std::unique_ptr<httplib::Client> Client(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_connection_timeout(2, 0);
  c->set_read_timeout(5, 0);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  return c;
}

bool ReadAll(int port, const std::string& path, std::string* out, std::string* closed = nullptr) {
  return dstest::ReadStream(*Client(port), path, out, closed);
}

// The frames in the WAL that a restart would recover, read from the file
// without opening the database: the frames after the header whose salts are
// the header's (SQLite's WAL format). Frames left from before the WAL last
// started over carry other salts. Reads only the frame headers.
long WalFrames(const std::string& wal_path) {
  int fd = open(wal_path.c_str(), O_RDONLY);
  if (fd < 0) return 0;
  auto be32 = [](const unsigned char* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  };
  unsigned char header[32], frame[24];
  long frames = 0;
  if (pread(fd, header, 32, 0) == 32) {
    off_t step = 24 + static_cast<off_t>(be32(header + 8));  // frame header + page
    while (step > 24 + 511 && pread(fd, frame, 24, 32 + frames * step) == 24 &&
           std::memcmp(frame + 8, header + 16, 8) == 0) {
      ++frames;
    }
  }
  close(fd);
  return frames;
}

// What the writers were told, and what the reader saw (all under mu).
struct Ledger {
  std::mutex mu;
  std::map<int, std::vector<int64_t>> plain_acked;        // writer -> numbers
  std::map<int, std::vector<std::string>> plain_offsets;  // writer -> offsets acked
  std::map<int, int64_t> plain_next;
  std::map<int, std::set<int64_t>> prod_acked;  // producer -> seqs
  std::map<int, int64_t> prod_next;
  std::map<int, Pending> prod_pending;
  std::array<std::set<int64_t>, kManyStreams> many_acked;  // stream -> numbers
  std::array<int64_t, kManyStreams> many_next{};
  std::set<int64_t> big_acked;
  int64_t big_next = 0;
  std::vector<std::string> closes_acked;
  std::string reader_bytes, reader_offset = "-1";
  long requests_failed = 0;
};

// The checks over one stream's stored lines.
struct Tally {
  long lost = 0, duplicated = 0, torn = 0, disordered = 0;
  long acked_total = 0, stored_total = 0;

  // Reads `path` and checks its lines of `kind` against `acked` (writer or
  // stream -> numbers acknowledged).
  void Check(int port, const std::string& path, char kind,
             const std::map<int, std::set<int64_t>>& acked) {
    std::string all;
    if (!ReadAll(port, path, &all)) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      ++lost;
      return;
    }
    std::map<int, std::vector<int64_t>> present;
    std::istringstream in(all);
    std::string line;
    while (std::getline(in, line)) {
      ++stored_total;
      size_t c1 = line.find(':'), c2 = line.find(':', c1 + 1);
      if (line.size() < 4 || line[0] != kind || line.back() != '|' || c1 == std::string::npos ||
          c2 == std::string::npos) {
        ++torn;
        continue;
      }
      int w = std::atoi(line.c_str() + 1);
      int64_t n = std::atoll(line.c_str() + c1 + 1);
      if (Line(kind, w, n) != line + "\n") ++torn;  // the whole line, byte for byte
      present[w].push_back(n);
    }
    for (auto& [w, ns] : present) {
      std::set<int64_t> seen;
      for (size_t i = 0; i < ns.size(); ++i) {
        if (!seen.insert(ns[i]).second) ++duplicated;
        if (i > 0 && ns[i] <= ns[i - 1]) ++disordered;
      }
    }
    for (auto& [w, ns] : acked) {
      acked_total += static_cast<long>(ns.size());
      std::set<int64_t> seen(present[w].begin(), present[w].end());
      for (int64_t n : ns) lost += seen.count(n) ? 0 : 1;
    }
  }
};

// One cycle's load against the server on `port`, until `stop`.
class Load {
 public:
  Load(Ledger* ledger, int port, int writers, int cycle, bool many, bool big)
      : l_(*ledger), port_(port) {
    for (int w = 0; w < writers; ++w) {
      threads_.emplace_back([this, w] { PlainWriter(w); });
      threads_.emplace_back([this, w] { Producer(w); });
    }
    threads_.emplace_back([this, cycle] { Closer(cycle); });
    threads_.emplace_back([this] { Reader(); });
    if (many) {
      for (int t = 0; t < 2; ++t) threads_.emplace_back([this, t] { ManyWriter(t); });
    }
    if (big) {
      threads_.emplace_back([this] { BigWriter(); });
      for (int t = 0; t < 3; ++t) threads_.emplace_back([this] { BigReader(); });
    }
  }
  // Call after the kill: every thread's requests then fail and it returns.
  void Join() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }

 private:
  void PlainWriter(int w) {
    auto c = Client(port_);
    while (!stop_) {
      int64_t n;
      {
        std::lock_guard<std::mutex> lock(l_.mu);
        n = l_.plain_next[w]++;
      }
      auto r = c->Post("/v1/stream/torture-plain", Line('p', w, n), "text/plain");
      std::lock_guard<std::mutex> lock(l_.mu);
      if (r && r->status == 204) {
        l_.plain_acked[w].push_back(n);
        l_.plain_offsets[w].push_back(r->get_header_value("Stream-Next-Offset"));
      } else {
        ++l_.requests_failed;
        if (!r) return;
      }
    }
  }

  void Producer(int w) {
    auto c = Client(port_);
    while (!stop_) {
      Pending p;
      {
        std::lock_guard<std::mutex> lock(l_.mu);
        Pending& pend = l_.prod_pending[w];
        if (!pend.has) {
          pend.has = true;
          pend.seq = l_.prod_next[w]++;
          pend.body = Line('q', w, pend.seq);
        }
        p = pend;
      }
      httplib::Headers h = {{"Producer-Id", "w" + std::to_string(w)},
                            {"Producer-Epoch", "0"},
                            {"Producer-Seq", std::to_string(p.seq)}};
      auto r = c->Post("/v1/stream/torture-prod", h, p.body, "text/plain");
      std::lock_guard<std::mutex> lock(l_.mu);
      if (r && (r->status == 200 || r->status == 204)) {
        l_.prod_acked[w].insert(p.seq);
        l_.prod_pending[w].has = false;
      } else if (!r) {
        return;  // keep it pending: retried after the restart
      } else {
        std::fprintf(stderr, "producer w%d seq %lld: unexpected %d %s\n", w,
                     static_cast<long long>(p.seq), r->status, r->body.c_str());
        ++l_.requests_failed;
        l_.prod_pending[w].has = false;
      }
    }
  }

  void Closer(int cycle) {
    auto c = Client(port_);
    std::string path = "/v1/stream/torture-close-" + std::to_string(cycle);
    auto r = c->Put(path.c_str(), "first|", "text/plain");
    if (!r || (r->status != 201 && r->status != 200)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    httplib::Headers h = {{"Stream-Closed", "true"}};
    r = c->Post(path.c_str(), h, "last|", "text/plain");
    if (r && r->status == 204) {
      std::lock_guard<std::mutex> lock(l_.mu);
      l_.closes_acked.push_back(path);
    }
  }

  // Follows the plain stream from its last offset.
  void Reader() {
    auto c = Client(port_);
    while (!stop_) {
      std::string offset;
      {
        std::lock_guard<std::mutex> lock(l_.mu);
        offset = l_.reader_offset;
      }
      auto r = c->Get(("/v1/stream/torture-plain?offset=" + offset).c_str());
      if (!r) return;
      if (r->status != 200) continue;
      std::lock_guard<std::mutex> lock(l_.mu);
      l_.reader_bytes += r->body;
      l_.reader_offset = r->get_header_value("Stream-Next-Offset");
    }
  }

  // Writer t of two: small lines, round robin over its half of the streams.
  void ManyWriter(int t) {
    auto c = Client(port_);
    for (int i = t; !stop_; i = (i + 2) % kManyStreams) {
      if (!AppendNext(*c, ManyPath(i), 'm', i, &l_.many_next[i], &l_.many_acked[i])) return;
    }
  }

  void BigWriter() {
    auto c = Client(port_);
    while (!stop_) {
      if (!AppendNext(*c, "/v1/stream/torture-big", 'b', 0, &l_.big_next, &l_.big_acked)) return;
    }
  }

  // Appends the next line (*next, under the ledger's lock) of (kind, w) to
  // `path`, into *acked if acknowledged. False once the server is gone.
  bool AppendNext(httplib::Client& c, const std::string& path, char kind, int w, int64_t* next,
                  std::set<int64_t>* acked) {
    int64_t n;
    {
      std::lock_guard<std::mutex> lock(l_.mu);
      n = (*next)++;
    }
    auto r = c.Post(path.c_str(), Line(kind, w, n), "text/plain");
    std::lock_guard<std::mutex> lock(l_.mu);
    if (r && r->status == 204) {
      acked->insert(n);
    } else {
      ++l_.requests_failed;
    }
    return static_cast<bool>(r);
  }

  // Reads the big stream from the start, over and over: long reads.
  void BigReader() {
    auto c = Client(port_);
    while (!stop_) {
      std::string body;
      if (!dstest::ReadStream(*c, "/v1/stream/torture-big", &body)) return;
    }
  }

  Ledger& l_;
  int port_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string server;
  int cycles = 10, writers = 4;
  unsigned seed = std::random_device{}();
  std::string sync = "full";
  std::string segment_max = "1000";
  long restart_bound_ms = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--server") server = argv[i + 1];
    else if (a == "--cycles") cycles = std::atoi(argv[i + 1]);
    else if (a == "--writers") writers = std::atoi(argv[i + 1]);
    else if (a == "--seed") seed = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (a == "--sync") sync = argv[i + 1];
    else if (a == "--segment-max-messages") segment_max = argv[i + 1];
    else if (a == "--restart-bound-ms") restart_bound_ms = std::atol(argv[i + 1]);
  }
  if (server.empty()) {
    std::fprintf(stderr,
                 "usage: crash_torture --server BIN [--cycles N] [--writers W] [--seed S] "
                 "[--sync full|normal] [--segment-max-messages M] [--restart-bound-ms B]\n");
    return 2;
  }
  std::printf("crash torture: seed %u, %d cycles, %d writers of each kind, --sync %s, "
              "--segment-max-messages %s\n", seed, cycles, writers, sync.c_str(), segment_max.c_str());
  std::mt19937 rng(seed);
  dstest::TempDir dir;
  std::vector<std::string> server_args = {"--sync", sync};
  if (segment_max == "0") {
    server_args.insert(server_args.end(), {"--segment-store", "none"});
  } else {
    server_args.insert(server_args.end(), {"--segment-max-messages", segment_max});
  }
  dstest::ServerProcess::Startup startup;
  startup.timeout = std::chrono::milliseconds(restart_bound_ms);

  Ledger ledger;
  const std::string wal = dir.path() + "/streams.db-wal";
  long kills = 0, recovery_kills = 0, many_cycles = 0, big_cycles = 0;
  long wal_max = 0, wal_past_mark = 0, last_frames = 0;  // frames in the WAL at the kills
  std::vector<double> restart_ms;  // every restart that said it listens
  bool restart_failed = false;

  {
    dstest::ServerProcess s(server, dir.path(), server_args);
    auto c = Client(s.port());
    std::vector<std::string> paths = {"/v1/stream/torture-plain", "/v1/stream/torture-prod",
                                      "/v1/stream/torture-big"};
    for (int i = 0; i < kManyStreams; ++i) paths.push_back(ManyPath(i));
    for (const std::string& path : paths) {
      if (c->Put(path.c_str(), "", "text/plain")->status != 201) {
        std::fprintf(stderr, "setup failed: PUT %s\n", path.c_str());
        return 1;
      }
    }
  }

  for (int cycle = 0; cycle < cycles && !restart_failed; ++cycle) {
    if (cycle > 0 && rng() % 4 == 0) {
      // Killed while it recovers from the last kill.
      startup.wait = false;
      dstest::ServerProcess early(server, dir.path(), server_args, startup);
      startup.wait = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 100));
      early.Kill(SIGKILL);
      ++recovery_kills;
    }
    std::unique_ptr<dstest::ServerProcess> s;
    try {
      s = std::make_unique<dstest::ServerProcess>(server, dir.path(), server_args, startup);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cycle %d: restart failed: %s\n", cycle, e.what());
      restart_failed = true;
      break;
    }
    restart_ms.push_back(s->startup_time().count() / 1000.0);
    bool many = rng() % 4 != 0, big = rng() % 4 != 0;
    many_cycles += many;
    big_cycles += big;
    Load load(&ledger, s->port(), writers, cycle, many, big);
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(100 + rng() % 1400);
    if (rng() % 2 == 0) {
      // At a checkpoint: once the WAL is past the mark (or at the deadline).
      long at = kCheckpointMark + static_cast<long>(rng() % 300);
      while (std::chrono::steady_clock::now() < deadline && WalFrames(wal) < at) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    } else {
      std::this_thread::sleep_until(deadline);
    }
    s->Kill(SIGKILL);
    ++kills;
    load.Join();
    last_frames = WalFrames(wal);
    wal_max = std::max(wal_max, last_frames);
    wal_past_mark += last_frames >= kCheckpointMark;
  }

  std::unique_ptr<dstest::ServerProcess> s;
  if (!restart_failed) {
    try {
      s = std::make_unique<dstest::ServerProcess>(server, dir.path(), server_args, startup);
      restart_ms.push_back(s->startup_time().count() / 1000.0);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "final restart failed: %s\n", e.what());
      restart_failed = true;
    }
  }
  std::sort(restart_ms.begin(), restart_ms.end());
  double max_ms = restart_ms.empty() ? 0 : restart_ms.back();
  double p99_ms = restart_ms.empty() ? 0 : restart_ms[(restart_ms.size() - 1) * 99 / 100];
  if (restart_failed) {
    std::printf("crash torture: %ld kill -9 cycles (%ld more during recovery); a restart did not "
                "say it listens within %ld ms, after a kill that left %ld frames in the WAL; "
                "restarts before it: max %.1f ms, p99 %.1f ms\n",
                kills, recovery_kills, restart_bound_ms, last_frames, max_ms, p99_ms);
    std::printf("0 passed, 1 failed\n");
    return 1;
  }

  // Let the producers' last unanswered batches through, then check.
  {
    auto c = Client(s->port());
    for (auto& [w, p] : ledger.prod_pending) {
      if (!p.has) continue;
      httplib::Headers h = {{"Producer-Id", "w" + std::to_string(w)},
                            {"Producer-Epoch", "0"},
                            {"Producer-Seq", std::to_string(p.seq)}};
      auto r = c->Post("/v1/stream/torture-prod", h, p.body, "text/plain");
      if (r && (r->status == 200 || r->status == 204)) ledger.prod_acked[w].insert(p.seq);
    }
  }
  int port = s->port();
  Tally t;
  std::map<int, std::set<int64_t>> plain_set;
  for (auto& [w, ns] : ledger.plain_acked) plain_set[w] = std::set<int64_t>(ns.begin(), ns.end());
  t.Check(port, "/v1/stream/torture-plain", 'p', plain_set);
  t.Check(port, "/v1/stream/torture-prod", 'q', ledger.prod_acked);
  for (int i = 0; i < kManyStreams; ++i) t.Check(port, ManyPath(i), 'm', {{i, ledger.many_acked[i]}});
  t.Check(port, "/v1/stream/torture-big", 'b', {{0, ledger.big_acked}});
  long offsets_bad = 0, closes_lost = 0;
  std::set<std::string> all_offsets;
  for (auto& [w, offs] : ledger.plain_offsets) {
    for (size_t i = 0; i < offs.size(); ++i) {
      if (i > 0 && offs[i] <= offs[i - 1]) ++offsets_bad;
      if (!all_offsets.insert(offs[i]).second) ++offsets_bad;
    }
  }
  for (const std::string& path : ledger.closes_acked) {
    std::string body, closed;
    if (!ReadAll(port, path, &body, &closed) || closed != "true" || body != "first|last|") {
      ++closes_lost;
    }
  }
  std::string full;
  ReadAll(port, "/v1/stream/torture-plain", &full);
  bool reader_ok = full.compare(0, ledger.reader_bytes.size(), ledger.reader_bytes) == 0;

  std::printf(
      "crash torture: %ld kill -9 cycles (%ld more during recovery; %ld with many streams, %ld "
      "with big appends), %ld acknowledged appends (%ld lines stored), %zu acknowledged closes; "
      "%ld lost, %ld duplicated, %ld torn, %ld out of order, %ld offset violations, %ld closes "
      "lost, reader %s (%zu bytes); %ld requests unanswered or refused; WAL at the kills: max "
      "%ld frames, %ld kills past the checkpoint mark; restart time max %.1f ms, p99 %.1f ms "
      "over %zu restarts (bound %ld ms)\n",
      kills, recovery_kills, many_cycles, big_cycles, t.acked_total, t.stored_total,
      ledger.closes_acked.size(), t.lost, t.duplicated, t.torn, t.disordered, offsets_bad,
      closes_lost, reader_ok ? "consistent" : "INCONSISTENT", ledger.reader_bytes.size(),
      ledger.requests_failed, wal_max, wal_past_mark, max_ms, p99_ms, restart_ms.size(),
      restart_bound_ms);
  bool ok = t.lost == 0 && t.duplicated == 0 && t.torn == 0 && t.disordered == 0 &&
            offsets_bad == 0 && closes_lost == 0 && reader_ok && t.acked_total > 0;
  std::printf("%s\n", ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return ok ? 0 : 1;
}
