// tests/reliability/estuary_torture.cc
//
// Exactly-once fan-out under kill -9 (docs/estuaries.md): E session
// streams each subscribed to S sources; P idempotent producers per source
// publish numbered lines, retrying a line with the same (id, epoch, seq)
// whenever they get no answer (their client times out after 1 s, so
// retries also happen while the server runs); the server is killed with
// SIGKILL at a random moment 300-1500 ms into each cycle and restarted on
// the same data directory.
//
//   estuary_torture --server BIN [--cycles N] [--estuaries E] [--sources S]
//                   [--producers P] [--seed X]
//
// Then, for every session stream and every source, the session stream's
// lines from that source must be exactly the source's lines, in the same
// order: every message once, none skipped, none repeated, in publish
// order. Every acknowledged line must be in its source once. Prints the
// figures and "N passed, M failed"; exit status 0 only if all held.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
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

std::string SourcePath(int s) { return "/v1/stream/torture-src-" + std::to_string(s); }
std::string EstuaryId(int e) { return "torture-est-" + std::to_string(e); }

std::string Line(int s, int p, int64_t n) {
  return "s" + std::to_string(s) + ":p" + std::to_string(p) + ":" + std::to_string(n) + "|\n";
}

std::unique_ptr<httplib::Client> Client(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_connection_timeout(1, 0);
  c->set_read_timeout(1, 0);
  c->set_keep_alive(true);
  return c;
}

std::vector<std::string> Lines(const std::string& all) {
  std::vector<std::string> out;
  std::istringstream in(all);
  std::string line;
  while (std::getline(in, line)) out.push_back(line + "\n");
  return out;
}

struct Producer {
  int source = 0, id = 0;
  int64_t next = 0;       // the next seq to publish
  bool pending = false;   // `next` was sent and not acknowledged
  std::set<int64_t> acked;
};

}  // namespace

int main(int argc, char** argv) {
  std::string server;
  int cycles = 6, estuaries = 100, sources = 5, producers = 4;
  unsigned seed = std::random_device{}();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--server") server = argv[i + 1];
    else if (a == "--cycles") cycles = std::atoi(argv[i + 1]);
    else if (a == "--estuaries") estuaries = std::atoi(argv[i + 1]);
    else if (a == "--sources") sources = std::atoi(argv[i + 1]);
    else if (a == "--producers") producers = std::atoi(argv[i + 1]);
    else if (a == "--seed") seed = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  if (server.empty()) {
    std::fprintf(stderr, "usage: estuary_torture --server BIN [--cycles N] [--estuaries E] "
                         "[--sources S] [--producers P] [--seed X]\n");
    return 2;
  }
  std::printf("estuary torture: seed %u, %d cycles, %d session streams x %d sources, "
              "%d producers per source\n", seed, cycles, estuaries, sources, producers);
  std::mt19937 rng(seed);
  dstest::TempDir dir;
  const std::vector<std::string> args = {"--segment-max-messages", "1000"};

  {
    dstest::ServerProcess s(server, dir.path(), args);
    auto c = Client(s.port());
    c->set_read_timeout(10, 0);
    for (int i = 0; i < sources; ++i) {
      auto r = c->Put(SourcePath(i).c_str(), "", "text/plain");
      if (!r || r->status != 201) {
        std::fprintf(stderr, "setup: PUT %s failed\n", SourcePath(i).c_str());
        return 1;
      }
    }
    for (int e = 0; e < estuaries; ++e) {
      for (int i = 0; i < sources; ++i) {
        std::string target = "/v1/estuary/subscribe/_default/torture-src-" + std::to_string(i);
        auto r = c->Post(target.c_str(), "{\"estuaryId\":\"" + EstuaryId(e) + "\"}",
                         "application/json");
        if (!r || r->status != 200) {
          std::fprintf(stderr, "setup: subscribe %d to %d failed\n", e, i);
          return 1;
        }
      }
    }
  }

  std::vector<Producer> all;
  for (int i = 0; i < sources; ++i) {
    for (int p = 0; p < producers; ++p) all.push_back({i, p});
  }
  std::mutex mu;
  long retries = 0, unexpected = 0, kills = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    dstest::ServerProcess s(server, dir.path(), args);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (Producer& p : all) {
      threads.emplace_back([&, port = s.port(), pp = &p] {
        auto c = Client(port);
        httplib::Headers h = {{"Producer-Id", "p" + std::to_string(pp->id)},
                              {"Producer-Epoch", "0"}};
        while (!stop) {
          if (pp->pending) {
            std::lock_guard<std::mutex> lock(mu);
            ++retries;
          }
          pp->pending = true;
          h.erase("Producer-Seq");
          h.emplace("Producer-Seq", std::to_string(pp->next));
          auto r = c->Post(SourcePath(pp->source).c_str(), h, Line(pp->source, pp->id, pp->next),
                           "text/plain");
          if (!r) {  // no answer: the same seq again
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            continue;
          }
          if (r->status == 200 || r->status == 204) {
            pp->acked.insert(pp->next);
            ++pp->next;
            pp->pending = false;
          } else {
            std::lock_guard<std::mutex> lock(mu);
            ++unexpected;
            std::fprintf(stderr, "s%d p%d seq %lld: unexpected %d %s\n", pp->source, pp->id,
                         static_cast<long long>(pp->next), r->status, r->body.c_str());
            ++pp->next;
            pp->pending = false;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1200));
    s.Kill(SIGKILL);
    ++kills;
    stop = true;
    for (auto& t : threads) t.join();
  }

  dstest::ServerProcess s(server, dir.path(), args);
  auto c = Client(s.port());
  c->set_read_timeout(30, 0);
  // The sources: every acknowledged line once; their order is the truth.
  long failures = 0, lost = 0, duplicated = 0, mismatched = 0, acked_total = 0, copies = 0;
  std::map<int, std::vector<std::string>> source_lines;
  for (int i = 0; i < sources; ++i) {
    std::string body;
    if (!dstest::ReadStream(*c, SourcePath(i), &body)) {
      std::fprintf(stderr, "cannot read %s\n", SourcePath(i).c_str());
      return 1;
    }
    source_lines[i] = Lines(body);
    std::map<std::string, int> count;
    for (const std::string& l : source_lines[i]) ++count[l];
    for (auto& [l, n] : count) duplicated += n > 1;
    for (const Producer& p : all) {
      if (p.source != i) continue;
      for (int64_t n : p.acked) {
        ++acked_total;
        lost += count.count(Line(i, p.id, n)) ? 0 : 1;
      }
    }
  }
  for (int e = 0; e < estuaries; ++e) {
    std::string body;
    if (!dstest::ReadStream(*c, "/v1/stream/" + EstuaryId(e), &body)) {
      std::fprintf(stderr, "cannot read session stream %d\n", e);
      return 1;
    }
    std::map<int, std::vector<std::string>> by_source;
    for (const std::string& l : Lines(body)) {
      ++copies;
      by_source[std::atoi(l.c_str() + 1)].push_back(l);
    }
    for (int i = 0; i < sources; ++i) {
      if (by_source[i] != source_lines[i]) {
        if (++mismatched <= 5) {
          std::fprintf(stderr, "session stream %d: its %zu lines of source %d are not the "
                               "source's %zu\n", e, by_source[i].size(), i,
                       source_lines[i].size());
        }
      }
    }
  }
  failures += lost > 0;
  failures += duplicated > 0;
  failures += mismatched > 0;
  failures += unexpected > 0;
  std::printf("estuary torture: %ld kill -9 cycles; %ld acknowledged publishes (%ld retries of "
              "unanswered ones), %ld copies in %d session streams; lost %ld, duplicated %ld, "
              "session streams not equal to their sources %ld, unexpected answers %ld\n",
              kills, acked_total, retries, copies, estuaries, lost, duplicated, mismatched,
              unexpected);
  std::printf("%d passed, %ld failed\n", failures ? 0 : 1, failures ? 1L : 0L);
  return failures ? 1 : 0;
}
