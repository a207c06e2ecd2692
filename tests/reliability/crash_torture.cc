// tests/reliability/crash_torture.cc
//
// Crash torture: concurrent writers against the real server, kill -9 at a
// random moment, restart on the same data directory, again and again; then
// check what survived.
//
//   crash_torture --server BIN [--cycles N] [--writers W] [--seed S] [--sync full|normal]
//                 [--segment-max-messages M]
//
// The server seals segments every M hot messages (default 64) into a
// directory store, so kills also land between the steps of rotations and
// reads cross the cold tier.
// Each cycle runs, until the kill:
//   - W plain writers appending numbered lines to one stream;
//   - W idempotent producers appending numbered lines to another; a batch
//     that got no answer is retried with the same (id, epoch, seq) after the
//     restart;
//   - a closer that creates a stream per cycle, appends and closes it;
//   - a reader that follows the plain stream from its last offset.
// After the last cycle it checks, and prints with the figures:
//   every acknowledged append is present exactly once and in order; producer
//   retries never duplicate; every stored line is whole (unacknowledged ones
//   are whole or absent); acknowledged offsets strictly increase; every
//   acknowledged close is still closed; the reader's bytes are a prefix of
//   the stream. Exit status 0 only if every check held.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "durablestreams/httplib_adapter.h"
#include "support/loopback.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

struct Pending {
  bool has = false;
  int64_t seq = 0;
  std::string body;
};

std::string Line(char kind, int w, int64_t n) {
  std::string pad(20 + (n * 37) % 300, static_cast<char>('a' + (n % 26)));
  return std::string(1, kind) + std::to_string(w) + ":" + std::to_string(n) + ":" + pad + "|\n";
}

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

}  // namespace

int main(int argc, char** argv) {
  std::string server;
  int cycles = 10, writers = 4;
  unsigned seed = std::random_device{}();
  std::string sync = "full";
  std::string segment_max = "64";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--server") server = argv[i + 1];
    else if (a == "--cycles") cycles = std::atoi(argv[i + 1]);
    else if (a == "--writers") writers = std::atoi(argv[i + 1]);
    else if (a == "--seed") seed = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (a == "--sync") sync = argv[i + 1];
    else if (a == "--segment-max-messages") segment_max = argv[i + 1];
  }
  if (server.empty()) {
    std::fprintf(stderr, "usage: crash_torture --server BIN [--cycles N] [--writers W] [--seed S]\n");
    return 2;
  }
  std::printf("crash torture: seed %u, %d cycles, %d writers of each kind, --sync %s, "
              "--segment-max-messages %s\n", seed, cycles, writers, sync.c_str(), segment_max.c_str());
  std::mt19937 rng(seed);
  dstest::TempDir dir;
  std::vector<std::string> server_args = {"--sync", sync, "--segment-max-messages", segment_max};

  std::mutex mu;  // guards everything below
  std::map<int, std::vector<int64_t>> plain_acked;            // writer -> numbers
  std::map<int, std::vector<std::string>> plain_offsets;      // writer -> offsets acked
  std::map<int, int64_t> plain_next;
  std::map<int, std::set<int64_t>> prod_acked;                // producer -> seqs
  std::map<int, int64_t> prod_next;
  std::map<int, Pending> prod_pending;
  std::vector<std::string> closes_acked;
  std::string reader_bytes, reader_offset = "-1";
  long kills = 0, requests_failed = 0;

  {
    dstest::ServerProcess s(server, dir.path(), server_args);
    auto c = Client(s.port());
    if (c->Put("/v1/stream/torture-plain", "", "text/plain")->status != 201 ||
        c->Put("/v1/stream/torture-prod", "", "text/plain")->status != 201) {
      std::fprintf(stderr, "setup failed\n");
      return 1;
    }
  }

  for (int cycle = 0; cycle < cycles; ++cycle) {
    dstest::ServerProcess s(server, dir.path(), server_args);
    int port = s.port();
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {  // plain writer
        auto c = Client(port);
        while (!stop) {
          int64_t n;
          {
            std::lock_guard<std::mutex> lock(mu);
            n = plain_next[w]++;
          }
          auto r = c->Post("/v1/stream/torture-plain", Line('p', w, n), "text/plain");
          std::lock_guard<std::mutex> lock(mu);
          if (r && r->status == 204) {
            plain_acked[w].push_back(n);
            plain_offsets[w].push_back(r->get_header_value("Stream-Next-Offset"));
          } else {
            ++requests_failed;
            if (!r) return;
          }
        }
      });
      threads.emplace_back([&, w] {  // idempotent producer
        auto c = Client(port);
        while (!stop) {
          Pending p;
          {
            std::lock_guard<std::mutex> lock(mu);
            Pending& pend = prod_pending[w];
            if (!pend.has) {
              pend.has = true;
              pend.seq = prod_next[w]++;
              pend.body = Line('q', w, pend.seq);
            }
            p = pend;
          }
          httplib::Headers h = {{"Producer-Id", "w" + std::to_string(w)},
                                {"Producer-Epoch", "0"},
                                {"Producer-Seq", std::to_string(p.seq)}};
          auto r = c->Post("/v1/stream/torture-prod", h, p.body, "text/plain");
          std::lock_guard<std::mutex> lock(mu);
          if (r && (r->status == 200 || r->status == 204)) {
            prod_acked[w].insert(p.seq);
            prod_pending[w].has = false;
          } else if (!r) {
            return;  // keep it pending: retried after the restart
          } else {
            std::fprintf(stderr, "producer w%d seq %lld: unexpected %d %s\n", w,
                         static_cast<long long>(p.seq), r->status, r->body.c_str());
            ++requests_failed;
            prod_pending[w].has = false;
          }
        }
      });
    }
    threads.emplace_back([&, cycle] {  // closer
      auto c = Client(port);
      std::string path = "/v1/stream/torture-close-" + std::to_string(cycle);
      auto r = c->Put(path.c_str(), "first|", "text/plain");
      if (!r || (r->status != 201 && r->status != 200)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      httplib::Headers h = {{"Stream-Closed", "true"}};
      r = c->Post(path.c_str(), h, "last|", "text/plain");
      if (r && r->status == 204) {
        std::lock_guard<std::mutex> lock(mu);
        closes_acked.push_back(path);
      }
    });
    threads.emplace_back([&] {  // reader, resuming from its last offset
      auto c = Client(port);
      while (!stop) {
        std::string offset;
        {
          std::lock_guard<std::mutex> lock(mu);
          offset = reader_offset;
        }
        auto r = c->Get(("/v1/stream/torture-plain?offset=" + offset).c_str());
        if (!r) return;
        if (r->status != 200) continue;
        std::lock_guard<std::mutex> lock(mu);
        reader_bytes += r->body;
        reader_offset = r->get_header_value("Stream-Next-Offset");
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 500));
    s.Kill(SIGKILL);
    ++kills;
    stop = true;
    for (auto& t : threads) t.join();
  }

  // Let the producers' last unanswered batches through, then check.
  dstest::ServerProcess s(server, dir.path(), server_args);
  {
    auto c = Client(s.port());
    for (auto& [w, p] : prod_pending) {
      if (!p.has) continue;
      httplib::Headers h = {{"Producer-Id", "w" + std::to_string(w)},
                            {"Producer-Epoch", "0"},
                            {"Producer-Seq", std::to_string(p.seq)}};
      auto r = c->Post("/v1/stream/torture-prod", h, p.body, "text/plain");
      if (r && (r->status == 200 || r->status == 204)) prod_acked[w].insert(p.seq);
    }
  }
  long lost = 0, duplicated = 0, torn = 0, disordered = 0, closes_lost = 0, offsets_bad = 0;
  long acked_total = 0, stored_total = 0;
  auto check_stream = [&](const std::string& path, char kind,
                          std::map<int, std::set<int64_t>> acked) {
    std::string all;
    if (!ReadAll(s.port(), path, &all)) {
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
  };
  std::map<int, std::set<int64_t>> plain_set;
  for (auto& [w, ns] : plain_acked) plain_set[w] = std::set<int64_t>(ns.begin(), ns.end());
  check_stream("/v1/stream/torture-plain", 'p', plain_set);
  check_stream("/v1/stream/torture-prod", 'q', prod_acked);
  std::set<std::string> all_offsets;
  for (auto& [w, offs] : plain_offsets) {
    for (size_t i = 0; i < offs.size(); ++i) {
      if (i > 0 && offs[i] <= offs[i - 1]) ++offsets_bad;
      if (!all_offsets.insert(offs[i]).second) ++offsets_bad;
    }
  }
  for (const std::string& path : closes_acked) {
    std::string body, closed;
    if (!ReadAll(s.port(), path, &body, &closed) || closed != "true" || body != "first|last|") {
      ++closes_lost;
    }
  }
  std::string full;
  ReadAll(s.port(), "/v1/stream/torture-plain", &full);
  bool reader_ok = full.compare(0, reader_bytes.size(), reader_bytes) == 0;

  std::printf(
      "crash torture: %ld kill -9 cycles, %ld acknowledged appends (%ld lines stored), "
      "%zu acknowledged closes; %ld lost, %ld duplicated, %ld torn, %ld out of order, "
      "%ld offset violations, %ld closes lost, reader %s (%zu bytes); %ld requests unanswered or refused\n",
      kills, acked_total, stored_total, closes_acked.size(), lost, duplicated, torn, disordered,
      offsets_bad, closes_lost, reader_ok ? "consistent" : "INCONSISTENT", reader_bytes.size(),
      requests_failed);
  bool ok = lost == 0 && duplicated == 0 && torn == 0 && disordered == 0 && offsets_bad == 0 &&
            closes_lost == 0 && reader_ok && acked_total > 0;
  std::printf("%s\n", ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return ok ? 0 : 1;
}
